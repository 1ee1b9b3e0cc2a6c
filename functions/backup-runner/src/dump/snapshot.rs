//! The instant a dump describes: an exported snapshot, held open, with exact row counts.

use std::collections::BTreeMap;

use sqlx::{Connection, PgConnection, Row};
use tokio::io::AsyncWrite;

use super::{run_pg_dump, DumpError, DumpReport, PgDump, Target};

/// Every ordinary table of the user schemas, named as `format('%I.%I')` quotes it so the
/// name is unambiguous and safe to splice into SQL.
pub(crate) const TABLES: &str = "SELECT format('%I.%I', n.nspname, c.relname) AS name \
     FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
     WHERE c.relkind = 'r' AND n.nspname <> 'information_schema' \
       AND n.nspname NOT LIKE 'pg\\_%' \
     ORDER BY 1";

/// An open REPEATABLE READ transaction whose snapshot is exported for `pg_dump`.
///
/// The exported snapshot is usable only while the exporting transaction is open, so the
/// connection is held here until [`Snapshot::dump`] has finished.
pub struct Snapshot {
    conn: PgConnection,
    id: String,
    server_version_num: u32,
    row_counts: BTreeMap<String, i64>,
}

/// Exact row counts of every table in [`TABLES`], keyed as the manifest keys them. In the
/// caller's transaction, so inside a snapshot they are the snapshot's.
pub(crate) async fn count_rows(
    conn: &mut PgConnection,
) -> Result<BTreeMap<String, i64>, sqlx::Error> {
    let tables: Vec<String> = sqlx::query(TABLES)
        .fetch_all(&mut *conn)
        .await?
        .iter()
        .map(|row| row.get("name"))
        .collect();
    let mut row_counts = BTreeMap::new();
    for table in tables {
        // `table` was quoted by the server's format('%I.%I'), never assembled from raw
        // names here.
        let count: i64 = sqlx::query_scalar(&format!("SELECT count(*) FROM {table}"))
            .fetch_one(&mut *conn)
            .await?;
        row_counts.insert(table, count);
    }
    Ok(row_counts)
}

impl Snapshot {
    /// Opens the transaction, exports its snapshot and counts each table's rows in it.
    pub async fn take(target: &Target) -> Result<Self, DumpError> {
        let mut snapshot = Self::open(target).await?;
        snapshot.row_counts = count_rows(&mut snapshot.conn).await?;
        Ok(snapshot)
    }

    /// Opens the transaction and exports its snapshot; the rows are counted later, by
    /// [`Snapshot::dump_counting`], while pg_dump runs.
    pub async fn open(target: &Target) -> Result<Self, DumpError> {
        let mut conn = PgConnection::connect_with(&target.connect_options()).await?;
        // A raw BEGIN (not sqlx's transaction guard) because the transaction must outlive
        // this function; dropping the connection ends it either way.
        sqlx::query("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
            .execute(&mut conn)
            .await?;
        // The first query fixes the transaction's snapshot: export it before anything else.
        let id: String = sqlx::query_scalar("SELECT pg_export_snapshot()")
            .fetch_one(&mut conn)
            .await?;
        let version: String = sqlx::query_scalar("SHOW server_version_num")
            .fetch_one(&mut conn)
            .await?;
        // JIT compiling a count's plan costs more than it saves on a scan that runs once.
        sqlx::query("SET LOCAL jit = off")
            .execute(&mut conn)
            .await?;
        let server_version_num = version.trim().parse().map_err(|_| {
            sqlx::Error::Protocol(format!("server_version_num is not a number: {version}"))
        })?;
        Ok(Self {
            conn,
            id,
            server_version_num,
            row_counts: BTreeMap::new(),
        })
    }

    /// The exported snapshot's identifier (`pg_dump --snapshot`).
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The server's `server_version_num` (150010 for 15.10).
    pub fn server_version_num(&self) -> u32 {
        self.server_version_num
    }

    /// Exact row counts per table (`schema.table`, quoted as `%I.%I`) in the snapshot.
    pub fn row_counts(&self) -> &BTreeMap<String, i64> {
        &self.row_counts
    }

    /// Runs `pg_dump` on this snapshot into `sink` and, at the same time, counts every
    /// table's rows on the exporting connection (idle while pg_dump works, and in the very
    /// snapshot pg_dump reads), then ends the transaction. The counts cost no time of their
    /// own: they run beside the dump, on the server's other cores.
    pub async fn dump_counting<W: AsyncWrite + Unpin>(
        mut self,
        pg_dump: &PgDump,
        target: &Target,
        sink: &mut W,
    ) -> Result<DumpReport, DumpError> {
        let Self { conn, id, .. } = &mut self;
        let (dumped, counted) =
            tokio::join!(run_pg_dump(pg_dump, target, id, sink), count_rows(conn));
        let summary = match dumped {
            Ok(summary) => summary,
            Err(failure) => return Err(explain(conn, failure).await),
        };
        self.row_counts = counted?;
        self.finish(pg_dump, summary).await
    }

    /// Runs `pg_dump` on this snapshot into `sink`, then ends the transaction.
    pub async fn dump<W: AsyncWrite + Unpin>(
        mut self,
        pg_dump: &PgDump,
        target: &Target,
        sink: &mut W,
    ) -> Result<DumpReport, DumpError> {
        let summary = match run_pg_dump(pg_dump, target, &self.id, sink).await {
            Ok(summary) => summary,
            Err(failure) => return Err(explain(&mut self.conn, failure).await),
        };
        self.finish(pg_dump, summary).await
    }

    async fn finish(
        mut self,
        pg_dump: &PgDump,
        summary: super::StreamSummary,
    ) -> Result<DumpReport, DumpError> {
        // Read only: nothing to commit; closing releases the snapshot.
        sqlx::query("ROLLBACK").execute(&mut self.conn).await?;
        self.conn.close().await?;
        Ok(DumpReport {
            sha256_hex: summary.sha256_hex,
            crc32c: summary.crc32c,
            size: summary.size,
            pg_dump_version: pg_dump.version.clone(),
            server_version: self.server_version_num,
            row_counts: self.row_counts,
        })
    }
}

/// pg_dump's failure as it is, or as [`DumpError::ServerGone`] when this snapshot's own
/// session is gone too. Asked of the server rather than read from pg_dump's words: a restart
/// or shutdown ends every session, a refusal aimed at pg_dump (a permission, a lock) does not.
async fn explain(conn: &mut PgConnection, failure: DumpError) -> DumpError {
    if !matches!(failure, DumpError::PgDumpFailed { .. }) {
        return failure;
    }
    let ping = sqlx::query("SELECT 1").execute(&mut *conn);
    let alive = matches!(
        tokio::time::timeout(std::time::Duration::from_secs(5), ping).await,
        Ok(Ok(_))
    );
    if alive {
        failure
    } else {
        DumpError::ServerGone(Box::new(failure))
    }
}
