//! What became of each request, in `control.environment_requests`: accepted (its environment's
//! row tells the rest) or refused with the reason. A refusal writes no environment row, so
//! without this record `groundskeeper env wait` could only run into its timeout.

use events::environment::EnvironmentFailed;
use events::names::EnvName;
use events::OutgoingEvent;
use shared::Ctx;

use crate::error::ProvisionError;

/// Decisions older than this are pruned (by each refusal): `env wait` needs minutes.
const KEEP: &str = "7 days";

/// Records that request `request_id` for `name` was accepted, in the claim's transaction.
pub async fn accepted(
    tx: &mut sqlx::PgConnection,
    request_id: &str,
    name: &EnvName,
) -> Result<(), sqlx::Error> {
    record(tx, request_id, name, None).await
}

/// Records that request `request_id` for `name` was refused and publishes
/// `environment.failed` at step `request`. Runs before the request is dead-lettered; if it
/// fails, the delivery is retried, so a refusal is never dead-lettered unrecorded.
pub async fn refuse(
    ctx: &Ctx,
    request_id: &str,
    name: &EnvName,
    reason: &str,
) -> Result<(), ProvisionError> {
    match ctx.plan() {
        // A dry run has no control database; the plan shows what would be recorded.
        Some(plan) => plan.record(serde_json::json!({
            "backend": "control", "action": "refuse", "request_id": request_id,
            "environment": name, "reason": reason,
        })),
        None => {
            let mut conn = ctx.control_db()?.acquire().await?;
            record(&mut conn, request_id, name, Some(reason)).await?;
            sqlx::query(&format!(
                "DELETE FROM control.environment_requests WHERE decided_at < now() - interval '{KEEP}'"
            ))
            .execute(&mut *conn)
            .await?;
        }
    }
    tracing::info!(environment = %name, request_id, reason, "request refused");
    let failed = EnvironmentFailed {
        name: name.clone(),
        step: "request".into(),
        reason: reason.to_owned(),
    };
    ctx.emit(OutgoingEvent::new(
        ctx.source(),
        format!("{request_id}/refused"),
        &failed,
    ))
    .await?;
    Ok(())
}

async fn record(
    conn: &mut sqlx::PgConnection,
    request_id: &str,
    name: &EnvName,
    refusal: Option<&str>,
) -> Result<(), sqlx::Error> {
    let decision = if refusal.is_some() {
        "refused"
    } else {
        "accepted"
    };
    sqlx::query(
        "INSERT INTO control.environment_requests (request_id, name, decision, reason) \
         VALUES ($1, $2, $3, $4) \
         ON CONFLICT (request_id) DO UPDATE SET name = $2, decision = $3, reason = $4, decided_at = now()",
    )
    .bind(request_id)
    .bind(name.as_str())
    .bind(decision)
    .bind(refusal)
    .execute(conn)
    .await
    .map(drop)
}
