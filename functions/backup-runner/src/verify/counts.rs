//! What a database holds, table by table, in forms two databases can be compared by.

use std::collections::BTreeMap;

use sqlx::{Connection, PgConnection};

use super::VerifyError;
use crate::dump::{count_rows, Target, TABLES};

/// Exact rows per table, keyed as the manifest keys them (`schema.table`, quoted as
/// `%I.%I`), counted the way the dump counted them.
pub async fn row_counts(target: &Target) -> Result<BTreeMap<String, i64>, VerifyError> {
    let mut conn = PgConnection::connect_with(&target.connect_options()).await?;
    let counts = count_rows(&mut conn).await?;
    conn.close().await?;
    Ok(counts)
}

/// An md5 per table (same keys as [`row_counts`]) over its rows' text forms, independent
/// of physical order: the md5 of the sorted md5s of the rows. Two databases on servers of
/// the same major with the same rows give the same map.
///
/// The per-row digests are aggregated on the server (32 bytes a row), so this is meant for
/// tests and restore checks, not tables of hundreds of millions of rows.
pub async fn table_checksums(target: &Target) -> Result<BTreeMap<String, String>, VerifyError> {
    let mut conn = PgConnection::connect_with(&target.connect_options()).await?;
    let tables: Vec<String> = sqlx::query_scalar(TABLES).fetch_all(&mut conn).await?;
    let mut checksums = BTreeMap::new();
    for table in tables {
        // `table` was quoted by the server's format('%I.%I'). ROW(r.*) rather than a bare
        // alias, which a column of the same name would shadow.
        let sql = format!(
            "SELECT md5(coalesce(string_agg(digest, '' ORDER BY digest), '')) \
             FROM (SELECT md5(ROW(gk_row.*)::text) AS digest FROM {table} AS gk_row) AS rows"
        );
        let checksum: String = sqlx::query_scalar(&sql).fetch_one(&mut conn).await?;
        checksums.insert(table, checksum);
    }
    conn.close().await?;
    Ok(checksums)
}
