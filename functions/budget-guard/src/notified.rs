//! One budget notification: decide, put back what an earlier period suspended, then apply the
//! level it reaches once for its period, whichever delivery or replica gets there first.

use std::num::NonZeroU32;

use events::budget::BudgetNotification;
use events::downscale::{BudgetThreshold, DownscaleApplied};
use events::OutgoingEvent;
use shared::{Ctx, Outcome};

use crate::backends::Change;
use crate::decide::{check_period, decide, Decision, Level};
use crate::error::GuardError;
use crate::guard::Guard;
use crate::journal::{BudgetPeriod, Claim, Journal, Observed};
use crate::level::LevelRun;
use crate::publish::event_id;
use crate::resume::{resume, Reason};
use crate::{dry_run, scope_error};

/// Handles one notification delivered as `delivery` (the event id: a redelivery of the same
/// message resumes its own half-done level at once).
pub async fn notified(
    ctx: &Ctx,
    guard: &Guard,
    n: &BudgetNotification,
    delivery: &str,
) -> Result<Outcome, GuardError> {
    if n.is_unattributed() {
        return Ok(Outcome::Ignored(
            "no billingAccountId or budgetId attribute (a test message published by hand): \
             it names no budget, nothing done"
                .into(),
        ));
    }
    let decision = decide(n, &guard.config)
        .and_then(|d| check_period(&d, chrono::Utc::now(), guard.config.period_ahead).map(|()| d))
        .map_err(|r| GuardError::Rejected(r.to_string()))?;
    if let Some(forecast) = decision.forecast_threshold {
        tracing::info!(
            budget = %decision.budget, forecast, spend_ratio = decision.spend_ratio,
            "forecast threshold crossed: reported only, a forecast never scales anything"
        );
    }
    if guard.is_dry_run(ctx) {
        return dry_run::plan(ctx, guard, &decision).await;
    }
    let period = BudgetPeriod {
        budget: decision.budget.clone(),
        start: decision.period_start,
    };
    let journal = Journal::new(ctx.control_db()?.clone());
    if let Observed::Stale { latest } = journal.observe(&period, decision.spend_ratio).await? {
        return Ok(stale(&period, latest));
    }
    let scope = guard.scope().await?;
    let earlier = journal.to_restore(&period.budget, period.start).await?;
    if !earlier.is_empty() {
        resume(
            ctx,
            &journal,
            scope,
            &period.budget,
            earlier,
            Reason::NewPeriod,
        )
        .await?;
    }
    let Some(level) = decision.level else {
        return Ok(Outcome::Done);
    };
    let lease = guard.config.lease;
    let ratio = decision.spend_ratio;
    let previous = match journal
        .claim_level(&period, level, delivery, lease, ratio)
        .await?
    {
        Claim::Won { previous } => previous,
        Claim::Reached(reached) => {
            return Ok(Outcome::Ignored(format!(
                "{}: level {} already reached in the period of {}",
                period.budget,
                reached.as_str(),
                period.start
            )))
        }
        Claim::Busy { level, by } => {
            return Err(GuardError::Busy(format!(
                "{} (level {} by delivery {by})",
                period.budget,
                level.as_str()
            )))
        }
        Claim::Stale { latest } => return Ok(stale(&period, latest)),
        Claim::Resumed { at } => {
            return Ok(Outcome::Ignored(format!(
                "{}: resumed by hand at {at}; nothing more is applied this period",
                period.budget
            )))
        }
    };
    if previous.is_none() {
        let threshold = threshold(n, &decision);
        let id = event_id(&period, Level::Notify.as_str());
        ctx.emit(OutgoingEvent::new(ctx.source(), id, &threshold))
            .await?;
    }
    if level >= Level::Cap {
        apply(ctx, guard, &journal, &period, &decision, level).await?;
    }
    journal.complete_level(&period, level, delivery).await?;
    Ok(Outcome::Done)
}

/// Applies `level` to every resource in scope and reports it.
async fn apply(
    ctx: &Ctx,
    guard: &Guard,
    journal: &Journal,
    period: &BudgetPeriod,
    decision: &Decision,
    level: Level,
) -> Result<(), GuardError> {
    let targets = guard.scope().await?.targets(ctx).await;
    let targets = targets.map_err(|e| scope_error(&period.budget, &e))?;
    let run = LevelRun {
        journal,
        period,
        scope: decision.scope,
        level,
        change: change(guard, level),
    };
    let applied = run.run(&targets).await?;
    tracing::info!(
        budget = %period.budget, level = level.as_str(), spend_ratio = decision.spend_ratio,
        changed = applied.targets.len(), skipped = applied.skipped.len(), "level applied"
    );
    if applied.targets.is_empty() && applied.skipped.is_empty() {
        return Ok(());
    }
    let event = DownscaleApplied {
        billing_account: period.budget.billing_account.clone(),
        budget_id: period.budget.budget_id.clone(),
        cost_interval_start: period.start,
        spend_ratio: decision.spend_ratio,
        level: level.as_str().to_owned(),
        targets: applied.targets,
        skipped: applied.skipped,
    };
    let id = event_id(period, level.as_str());
    ctx.emit(OutgoingEvent::new(ctx.source(), id, &event))
        .await?;
    Ok(())
}

/// What `level` asks of each resource.
pub(crate) fn change(guard: &Guard, level: Level) -> Change {
    match level {
        Level::Stop => Change::Stop,
        // Config refuses 0; 1 is the floor either way.
        _ => Change::Cap {
            max_instances: NonZeroU32::new(guard.config.cap_max_instances)
                .unwrap_or(NonZeroU32::MIN),
        },
    }
}

fn stale(period: &BudgetPeriod, latest: chrono::DateTime<chrono::Utc>) -> Outcome {
    Outcome::Ignored(format!(
        "{}: late notification of the period of {}; the budget is in the period of {latest}",
        period.budget, period.start
    ))
}

fn threshold(n: &BudgetNotification, d: &Decision) -> BudgetThreshold {
    BudgetThreshold {
        billing_account: d.budget.billing_account.clone(),
        budget_id: d.budget.budget_id.clone(),
        budget_display_name: n.data.budget_display_name.clone(),
        cost_interval_start: d.period_start,
        spend_ratio: d.spend_ratio,
        cost_amount: d.cost_amount,
        budget_amount: d.budget_amount,
        currency_code: d.currency.clone(),
    }
}
