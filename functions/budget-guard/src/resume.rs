//! Putting suspended resources back exactly as they were: when a budget's new period starts,
//! or early when a person asks. A resource someone changed while it was suspended is left as
//! found and reported. The event goes out before the journal is updated, so a crash between
//! repeats the (idempotent) restores and the event instead of losing it.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use events::downscale::{DownscaleResumed, ScaleAction, ScaledTarget};
use events::OutgoingEvent;
use serde_json::Value;
use shared::{crash_point, Ctx};

use crate::backends::{BackendError, Restored};
use crate::config::BudgetKey;
use crate::error::{transient, GuardError, GuardStep};
use crate::journal::{BudgetPeriod, Journal, ResourceRecord};
use crate::scope::Scope;

/// Why the resources are put back.
#[derive(Debug, Clone, Copy)]
pub enum Reason {
    /// The budget's period moved on.
    NewPeriod,
    /// `groundskeeper budget resume`.
    Requested,
}

impl Reason {
    fn as_str(self) -> &'static str {
        match self {
            Self::NewPeriod => "new-period",
            Self::Requested => "requested",
        }
    }
}

/// Restores `records` (applied resources of `budget`), one `downscale.resumed` per period;
/// returns how many resources were handled.
pub async fn resume(
    ctx: &Ctx,
    journal: &Journal,
    scope: &Scope,
    budget: &BudgetKey,
    records: Vec<ResourceRecord>,
    reason: Reason,
) -> Result<usize, GuardError> {
    let mut by_period: BTreeMap<DateTime<Utc>, Vec<ResourceRecord>> = BTreeMap::new();
    for record in records {
        by_period
            .entry(record.period_start)
            .or_default()
            .push(record);
    }
    let mut handled = 0;
    for (start, records) in by_period {
        let period = BudgetPeriod {
            budget: budget.clone(),
            start,
        };
        // Each resource with what happened to it, and why it was left as found.
        let mut done: Vec<(&ResourceRecord, ScaledTarget, Option<String>)> = Vec::new();
        crash_point::at(&budget.budget_id, GuardStep::Restore, "before")?;
        for record in &records {
            let Some(backend) = scope.backend(&record.resource.kind) else {
                tracing::error!(
                    resource = %record.resource.name, kind = %record.resource.kind,
                    "suspended, but its backend is not configured any more: left suspended"
                );
                continue;
            };
            let name = &record.resource.name;
            let applied = record.applied.clone().unwrap_or_default();
            let (after, conflict) = match backend.restore(name, &record.previous, &applied).await {
                Ok(Restored::Done) => (record.previous.clone(), None),
                Ok(Restored::Conflict { found }) => {
                    let why = format!("changed while suspended, to {found}");
                    (found, Some(why))
                }
                Err(BackendError::NotFound { .. }) => {
                    (Value::Null, Some("deleted while suspended".to_owned()))
                }
                Err(e) if e.is_retryable() => {
                    return Err(transient(&budget.to_string(), GuardStep::Restore, &e))
                }
                Err(e) => (applied.clone(), Some(e.to_string())),
            };
            let action = match conflict {
                None => ScaleAction::Resumed,
                Some(_) => ScaleAction::LeftAsFound,
            };
            let target = ScaledTarget {
                kind: backend.kind(),
                name: name.clone(),
                action,
                before: applied,
                after,
            };
            done.push((record, target, conflict));
        }
        crash_point::at(&budget.budget_id, GuardStep::Restore, "after")?;
        if done.is_empty() {
            continue;
        }
        let resumed = DownscaleResumed {
            billing_account: budget.billing_account.clone(),
            budget_id: budget.budget_id.clone(),
            cost_interval_start: start,
            reason: reason.as_str().to_owned(),
            targets: done.iter().map(|(_, t, _)| t.clone()).collect(),
        };
        let id = crate::publish::event_id(&period, "resumed");
        ctx.emit(OutgoingEvent::new(ctx.source(), id, &resumed))
            .await?;
        for (record, _, conflict) in &done {
            let marked = match conflict {
                None => journal.mark_restored(&period, &record.resource).await?,
                Some(why) => {
                    tracing::warn!(resource = %record.resource.name, reason = %why, "not resumed: left as found");
                    journal
                        .mark_conflict(&period, &record.resource, why)
                        .await?
                }
            };
            handled += usize::from(marked);
        }
    }
    Ok(handled)
}
