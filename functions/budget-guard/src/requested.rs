//! `budget.resume.requested`: a person puts back now what a budget suspended
//! (`groundskeeper budget resume`); nothing more is applied for it until its next period.

use events::downscale::ResumeRequested;
use shared::{Ctx, Outcome};

use crate::config::BudgetKey;
use crate::error::GuardError;
use crate::guard::Guard;
use crate::journal::{EarlyResume, Journal};
use crate::resume::{resume, Reason};

/// Handles one request.
pub async fn resume_requested(
    ctx: &Ctx,
    guard: &Guard,
    request: &ResumeRequested,
) -> Result<Outcome, GuardError> {
    let budget = BudgetKey {
        billing_account: request.billing_account.clone(),
        budget_id: request.budget_id.clone(),
    };
    if guard
        .config
        .scope_of(&budget.billing_account, &budget.budget_id)
        .is_none()
    {
        return Err(GuardError::Rejected(format!(
            "not a configured budget: {budget}"
        )));
    }
    let journal = Journal::new(ctx.control_db()?.clone());
    if guard.is_dry_run(ctx) {
        return crate::dry_run::plan_resume(ctx, &journal, &budget).await;
    }
    let latest = match journal.resume_early(&budget).await? {
        EarlyResume::Busy { by } => {
            return Err(GuardError::Busy(format!(
                "{budget} (a level is being applied by delivery {by})"
            )))
        }
        EarlyResume::Marked { latest: None } => {
            return Ok(Outcome::Ignored(format!(
                "{budget}: no notification yet, nothing suspended"
            )))
        }
        EarlyResume::Marked {
            latest: Some(latest),
        } => latest,
    };
    let records = journal.suspended_up_to(&budget, latest).await?;
    if records.is_empty() {
        return Ok(Outcome::Ignored(format!(
            "{budget}: nothing suspended; nothing more is applied this period"
        )));
    }
    let scope = guard.scope().await?;
    let by = request.requested_by.as_deref().unwrap_or("unknown");
    let n = resume(ctx, &journal, scope, &budget, records, Reason::Requested).await?;
    tracing::info!(budget = %budget, requested_by = by, resumed = n, "resumed early on request");
    Ok(Outcome::Done)
}
