//! One logical dump of one database, consistent and checksummed as it streams.
//!
//! The steps: [`select_pg_dump`] picks a `pg_dump` able to dump the server, [`Snapshot::take`]
//! opens a REPEATABLE READ transaction, exports its snapshot and counts every table's rows in
//! it, and [`Snapshot::dump`] runs `pg_dump --snapshot` against that same snapshot while the
//! transaction stays open, so the archive and the counts describe the same instant.
//! [`dump_database`] does all three.

mod error;
mod select;
mod snapshot;
mod stream;
mod target;

pub use error::DumpError;
pub use select::{discover_pg_dumps, pg_dump_major, select_pg_dump, PgDump};
pub use snapshot::Snapshot;
pub use stream::{hash_stream, run_pg_dump, DumpReport, StreamSummary};
pub use target::Target;

// Shared with verification (restoring is dumping's mirror image), not public API.
pub(crate) use select::{discover_pg_tools, newest_at_least};
pub(crate) use snapshot::{count_rows, TABLES};
pub(crate) use stream::{last_line, libpq_command, read_tail, StreamHasher, CHUNK};

use std::path::Path;

use tokio::io::{AsyncRead, AsyncWrite};

/// Copies an archive from `reader` to `sink`, returning its checksums and size; fails when
/// it is not a custom-format archive.
pub async fn checksum<R: AsyncRead + Unpin, W: AsyncWrite + Unpin>(
    reader: &mut R,
    sink: &mut W,
) -> Result<StreamSummary, DumpError> {
    stream::copy_hashed(reader, sink).await?
}

/// Dumps `target` into `sink` with the newest installed `pg_dump` that can dump its server
/// (`configured` first, then `PATH`, then `/usr/lib/postgresql/*/bin`).
pub async fn dump_database<W: AsyncWrite + Unpin>(
    target: &Target,
    configured: Option<&Path>,
    sink: &mut W,
) -> Result<DumpReport, DumpError> {
    let (snapshot, installed) = tokio::join!(Snapshot::take(target), discover_pg_dumps(configured));
    let snapshot = snapshot?;
    let pg_dump = select_pg_dump(&installed, snapshot.server_version_num())?;
    snapshot.dump(&pg_dump, target, sink).await
}
