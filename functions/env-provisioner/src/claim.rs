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
    if let Some(existing) = state::load(&mut *tx, &request.name, true).await? {
        if let Some(reason) = torn_down(&existing, request_id, published) {
            return Err(ProvisionError::Rejected(reason));
        }
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

/// Why a request may not provision a `deleted` name again: it is the request that was torn
/// down (its redelivery), or it was published no later than the teardown (it arrived late).
/// A request without a publish time is judged by its id alone.
fn torn_down(
    existing: &Record,
    request_id: &str,
    published: Option<DateTime<Utc>>,
) -> Option<String> {
    let (name, at) = (&existing.name, existing.deleted_at?);
    if existing.status != "deleted" {
        return None;
    }
    let again = "publish a new request to provision it again";
    if existing.request_id == request_id {
        return Some(format!(
            "request {request_id} was torn down: environment {name} was deleted at {at}; {again}"
        ));
    }
    let published = published.filter(|p| *p <= at)?;
    Some(format!(
        "request {request_id} was published at {published}, before environment {name} was torn down at {at}; {again}"
    ))
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
