//! Deciding what a request means given what exists: provision, resume, nothing, or refuse;
//! and enforcing the quotas, all in one short transaction.

use chrono::{DateTime, Utc};
use events::environment::EnvironmentRequested;
use events::HumanDuration;
use sha2::{Digest, Sha256};
use sqlx::PgPool;

use crate::config::Config;
use crate::error::ProvisionError;
use crate::labels::labels_for;
use crate::requests;
use crate::state::{self, Record};
use crate::tombstones;

/// What to do with a request.
#[derive(Debug)]
pub enum Claim {
    /// Provision (or resume provisioning) this environment.
    Provision(Box<Record>),
    /// It is already ready with this very spec: nothing to do.
    AlreadyReady,
}

/// A stable hash of the request (its canonical JSON: struct fields in order, maps sorted).
pub fn spec_hash(request: &EnvironmentRequested) -> String {
    let json = serde_json::to_vec(request).unwrap_or_default();
    Sha256::digest(json)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Claims the name for `request` (event `request_id`, published at `published`). Serialised
/// with every other claim by a transaction-level advisory lock, so two requests for different
/// names cannot both squeeze under the quota.
pub async fn claim(
    pool: &PgPool,
    config: &Config,
    request: &EnvironmentRequested,
    ttl: Option<HumanDuration>,
    request_id: &str,
    published: Option<DateTime<Utc>>,
) -> Result<Claim, ProvisionError> {
    let hash = spec_hash(request);
    let mut tx = pool.begin().await?;
    sqlx::query(
        "SELECT pg_advisory_xact_lock(hashtextextended('groundskeeper.environments.quota', 0))",
    )
    .execute(&mut *tx)
    .await?;
    let existing = state::load(&mut *tx, &request.name, true).await?;
    // A live row is a later request's environment: a stale request changes nothing there
    // (already ready, or refused below). Anything else would provision afresh: not for a
    // request that was torn down.
    let live = existing
        .as_ref()
        .is_some_and(|e| !matches!(e.status.as_str(), "deleted" | "failed"));
    if !live {
        let tombstone = tombstones::load(&mut tx, &request.name).await?;
        if let Some(reason) =
            tombstone.and_then(|t| t.refuses(&request.name, request_id, published))
        {
            return Err(ProvisionError::Rejected(reason));
        }
    }
    if let Some(existing) = existing {
        let same = existing.spec_hash == hash;
        let resumed = match existing.status.as_str() {
            "ready" if same => Some(Claim::AlreadyReady),
            "provisioning" if same => Some(Claim::Provision(Box::new(existing.clone()))),
            _ => None,
        };
        if let Some(claim) = resumed {
            requests::accepted(&mut tx, request_id, &request.name).await?;
            tx.commit().await?;
            return Ok(claim);
        }
        match existing.status.as_str() {
            "deleting" => {
                return Err(ProvisionError::Rejected(format!(
                    "environment {} is being torn down; request it again after environment.deleted",
                    request.name
                )))
            }
            "ready" | "provisioning" => {
                return Err(ProvisionError::Rejected(format!(
                    "environment {} exists with a different spec (owner {}, tier {}); tear it down first or use another name",
                    request.name, existing.owner, existing.tier
                )))
            }
            _ => {} // failed or deleted: nothing is left, provision afresh
        }
    }
    check_quota(&mut tx, config, &request.owner).await?;
    let expires_at = ttl.map(|ttl| Utc::now() + ttl.to_chrono());
    let labels = labels_for(request, expires_at);
    let spec = serde_json::to_value(request).unwrap_or_default();
    sqlx::query(
        "INSERT INTO control.environments \
           (name, spec, spec_hash, owner, tier, labels, status, resources, outputs, failure, expires_at, request_id) \
         VALUES ($1, $2, $3, $4, $5, $6, 'provisioning', '{}', '{}', NULL, $7, $8) \
         ON CONFLICT (name) DO UPDATE SET spec = $2, spec_hash = $3, owner = $4, tier = $5, labels = $6, \
           status = 'provisioning', resources = '{}', outputs = '{}', failure = NULL, expires_at = $7, \
           request_id = $8, created_at = now(), updated_at = now(), deleted_at = NULL",
    )
    .bind(request.name.as_str())
    .bind(&spec)
    .bind(&hash)
    .bind(&request.owner)
    .bind(request.tier.as_str())
    .bind(serde_json::to_value(&labels).unwrap_or_default())
    .bind(expires_at)
    .bind(request_id)
    .execute(&mut *tx)
    .await?;
    let record = state::load(&mut *tx, &request.name, false).await?;
    requests::accepted(&mut tx, request_id, &request.name).await?;
    tx.commit().await?;
    record
        .map(|record| Claim::Provision(Box::new(record)))
        .ok_or_else(|| ProvisionError::Control(sqlx::Error::RowNotFound))
}

async fn check_quota(
    tx: &mut sqlx::PgConnection,
    config: &Config,
    owner: &str,
) -> Result<(), ProvisionError> {
    let (total, mine): (i64, i64) = sqlx::query_as(
        "SELECT count(*), count(*) FILTER (WHERE owner = $1) FROM control.environments \
         WHERE status IN ('provisioning', 'ready', 'deleting')",
    )
    .bind(owner)
    .fetch_one(&mut *tx)
    .await?;
    if total >= i64::from(config.max_environments) {
        return Err(ProvisionError::Rejected(format!(
            "quota exceeded: {total} live environments, the maximum is {} (MAX_ENVIRONMENTS)",
            config.max_environments
        )));
    }
    if mine >= i64::from(config.max_per_owner) {
        return Err(ProvisionError::Rejected(format!(
            "quota exceeded: owner {owner} has {mine} live environments, the maximum per owner is {} (MAX_ENVIRONMENTS_PER_OWNER)",
            config.max_per_owner
        )));
    }
    Ok(())
}
