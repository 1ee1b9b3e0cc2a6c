//! The dry run (`DRY_RUN=true`, or `groundskeeper replay --dry-run`): the exact plan of a
//! level or a resume, logged and recorded in the replay's plan; nothing changed, nothing
//! journaled, no event emitted.

use serde_json::json;
use shared::{Ctx, Outcome};

use crate::config::BudgetKey;
use crate::decide::{Decision, Level};
use crate::error::GuardError;
use crate::guard::Guard;
use crate::journal::Journal;
use crate::level::planned;
use crate::notified::change;
use crate::scope_error;

/// What `decision` would do.
pub async fn plan(ctx: &Ctx, guard: &Guard, decision: &Decision) -> Result<Outcome, GuardError> {
    let level = match decision.level {
        Some(level) if level >= Level::Cap => level,
        Some(Level::Notify) => {
            record(
                ctx,
                json!({"backend": "budget-guard", "action": "notify",
                "budget": decision.budget.to_string(), "spend_ratio": decision.spend_ratio}),
            );
            return Ok(Outcome::Ignored("dry run: notify only".into()));
        }
        _ => return Ok(Outcome::Ignored("dry run: below every level".into())),
    };
    let change = change(guard, level);
    let targets = guard.scope().await?.targets(ctx).await;
    let targets = targets.map_err(|e| scope_error(&decision.budget, &e))?;
    let mut changes = 0;
    for target in &targets {
        let planned = planned(target, decision.scope, &change).await;
        let Some((before, after)) = planned.map_err(|e| scope_error(&decision.budget, &e))? else {
            continue;
        };
        changes += 1;
        tracing::info!(dry_run = true, level = level.as_str(), resource = %target.name,
            before = %before, after = %after, "would change");
        record(
            ctx,
            json!({"backend": "budget-guard", "action": level.as_str(),
            "kind": crate::scope::kind_name(target.backend.kind()), "resource": target.name,
            "before": before, "after": after}),
        );
    }
    Ok(Outcome::Ignored(format!(
        "dry run: level {} would change {changes} resource(s); nothing changed",
        level.as_str()
    )))
}

/// What a resume of `budget` would put back.
pub async fn plan_resume(
    ctx: &Ctx,
    journal: &Journal,
    budget: &BudgetKey,
) -> Result<Outcome, GuardError> {
    let records = journal.to_restore(budget, chrono::Utc::now()).await?;
    for r in &records {
        record(
            ctx,
            json!({"backend": "budget-guard", "action": "resume",
            "kind": r.resource.kind, "resource": r.resource.name,
            "before": r.applied, "after": r.previous}),
        );
    }
    Ok(Outcome::Ignored(format!(
        "dry run: would resume {} resource(s)",
        records.len()
    )))
}

fn record(ctx: &Ctx, action: serde_json::Value) {
    if let Some(plan) = ctx.plan() {
        plan.record(action);
    }
}
