//! Tombstones, in `control.environment_tombstones`: when each name was last torn down and
//! which request was torn down. Apart from the environments so a teardown that overtakes its
//! request writes no environment row, and so the rule holds whatever becomes of that row.

use chrono::{DateTime, Utc};
use events::names::EnvName;
use sqlx::PgConnection;

/// The last teardown of a name.
#[derive(Debug, Clone)]
pub struct Tombstone {
    /// The teardown's publish time (capped at when it was recorded).
    pub deleted_at: DateTime<Utc>,
    /// The request whose environment was torn down last, if the teardown found one.
    pub request_id: Option<String>,
}

impl Tombstone {
    /// Why `request_id` (published at `published`) may not provision `name` again: it is the
    /// request that was torn down (its redelivery), or it was published no later than the
    /// teardown (it arrived late). A request without a publish time is judged by its id alone.
    pub fn refuses(
        &self,
        name: &EnvName,
        request_id: &str,
        published: Option<DateTime<Utc>>,
    ) -> Option<String> {
        let at = self.deleted_at;
        let again = "publish a new request to provision it again";
        if self.request_id.as_deref() == Some(request_id) {
            return Some(format!(
                "request {request_id} was torn down: environment {name} was deleted at {at}; {again}"
            ));
        }
        let published = published.filter(|p| *p <= at)?;
        Some(format!(
            "request {request_id} was published at {published}, before environment {name} was torn down at {at}; {again}"
        ))
    }
}

/// The name's tombstone, if it was ever torn down.
pub async fn load(
    conn: &mut PgConnection,
    name: &EnvName,
) -> Result<Option<Tombstone>, sqlx::Error> {
    let row: Option<(DateTime<Utc>, Option<String>)> = sqlx::query_as(
        "SELECT deleted_at, request_id FROM control.environment_tombstones WHERE name = $1",
    )
    .bind(name.as_str())
    .fetch_optional(conn)
    .await?;
    Ok(row.map(|(deleted_at, request_id)| Tombstone {
        deleted_at,
        request_id,
    }))
}

/// Records teardown `event_id` of `name`, published at `at`, which tore down `request_id`'s
/// environment (`None`: it found none). The time is the event's publish time, never later than
/// now (a publisher's clock cannot block a name for the future), now when the event has none;
/// the tombstone only moves forward, and keeps the last request torn down.
pub async fn record(
    conn: &mut PgConnection,
    name: &EnvName,
    at: Option<DateTime<Utc>>,
    request_id: Option<&str>,
    event_id: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO control.environment_tombstones AS t (name, deleted_at, request_id, event_id) \
         VALUES ($1, LEAST(coalesce($2, now()), now()), $3, $4) \
         ON CONFLICT (name) DO UPDATE SET \
           deleted_at = GREATEST(t.deleted_at, EXCLUDED.deleted_at), \
           request_id = coalesce(EXCLUDED.request_id, t.request_id), \
           event_id = CASE WHEN EXCLUDED.deleted_at >= t.deleted_at THEN EXCLUDED.event_id ELSE t.event_id END",
    )
    .bind(name.as_str())
    .bind(at)
    .bind(request_id)
    .bind(event_id)
    .execute(conn)
    .await
    .map(drop)
}
