//! Applying one level of the ladder to every resource in scope: each resource's settings are
//! journaled before it is changed, an escalation changes only the delta, and a redelivery
//! after a crash finds each resource already changed and writes nothing twice.

use events::downscale::{ScaleAction, ScaledTarget, SkippedTarget};
use events::labels::{MANAGED_BY, MANAGED_BY_VALUE};
use events::Tier;
use serde_json::Value;
use shared::crash_point::{self, Injected};

use crate::backends::{BackendError, Change};
use crate::decide::Level;
use crate::error::{transient, GuardError, GuardStep};
use crate::journal::{BudgetPeriod, Journal, Resource, ResourceState};
use crate::protect::{may_touch, Skip};
use crate::scope::{kind_name, Target};

/// What one level did.
#[derive(Debug, Default)]
pub struct Applied {
    /// Resources changed by this level.
    pub targets: Vec<ScaledTarget>,
    /// Resources in scope that were left alone, with the reason.
    pub skipped: Vec<SkippedTarget>,
}

/// One level, for one budget period.
pub struct LevelRun<'a> {
    /// The journal.
    pub journal: &'a Journal,
    /// The period.
    pub period: &'a BudgetPeriod,
    /// The budget's tier.
    pub scope: Tier,
    /// The level.
    pub level: Level,
    /// What the level asks of each resource.
    pub change: Change,
}

/// Why one resource stopped the level: its backend, or a test's crash point.
enum Stopped {
    Backend(BackendError),
    Crash(Injected),
}

impl From<BackendError> for Stopped {
    fn from(e: BackendError) -> Self {
        Self::Backend(e)
    }
}

impl From<Injected> for Stopped {
    fn from(crash: Injected) -> Self {
        Self::Crash(crash)
    }
}

/// How one resource ended.
enum Outcome {
    Changed(ScaledTarget),
    Skipped(String),
    Untouched,
}

impl LevelRun<'_> {
    /// Applies the level to every target; a transient failure stops the delivery for a
    /// retry (the journal keeps what was done).
    pub async fn run(&self, targets: &[Target]) -> Result<Applied, GuardError> {
        let mut applied = Applied::default();
        for target in targets {
            match self.one(target).await {
                Ok(Outcome::Changed(t)) => applied.targets.push(t),
                Ok(Outcome::Untouched) => {}
                Ok(Outcome::Skipped(reason)) => applied.skipped.push(SkippedTarget {
                    kind: target.backend.kind(),
                    name: target.name.clone(),
                    reason,
                }),
                Err(Stopped::Crash(crash)) => return Err(crash.into()),
                Err(Stopped::Backend(e)) if e.is_retryable() => {
                    return Err(transient(
                        &self.period.budget.to_string(),
                        GuardStep::Apply,
                        &e,
                    ))
                }
                // For good (refused, failed operation): reported, the others go on.
                Err(Stopped::Backend(e)) => applied.skipped.push(SkippedTarget {
                    kind: target.backend.kind(),
                    name: target.name.clone(),
                    reason: e.to_string(),
                }),
            }
        }
        Ok(applied)
    }

    async fn one(&self, target: &Target) -> Result<Outcome, Stopped> {
        let backend = &target.backend;
        let current = match touchable(target, self.scope).await? {
            Ok(current) => current,
            Err(outcome) => return Ok(outcome),
        };
        let resource = Resource {
            kind: kind_name(backend.kind()).to_owned(),
            name: target.name.clone(),
        };
        let record = (self
            .journal
            .record_previous(self.period, &resource, &current)
            .await)
            .map_err(|e| control(&target.name, &e))?;
        // Changed by this very level in an earlier attempt of it (the delivery crashed or
        // was retried before the level completed): reported now, not written again.
        let done_before =
            record.state == ResourceState::Applied && record.level == Some(self.level);
        let original = record.previous.clone();
        let expected = match (record.state, record.applied) {
            (ResourceState::Applied, Some(applied)) => applied,
            (ResourceState::Recorded, _) => record.previous,
            // Resumed (or left as found) in this period: not suspended again until the next.
            _ => return Ok(Outcome::Untouched),
        };
        let budget = self.period.budget.budget_id.as_str();
        crash_point::at(budget, GuardStep::Apply, "before")?;
        let after = match backend.apply(&target.name, &expected, &self.change).await {
            Ok(after) => after,
            Err(BackendError::Skipped { reason, .. }) => return Ok(Outcome::Skipped(reason)),
            Err(BackendError::Changed { found, .. }) => {
                return Ok(Outcome::Skipped(format!(
                    "changed by someone else since it was recorded (now {found}); left as found"
                )))
            }
            Err(e) => return Err(e.into()),
        };
        crash_point::at(budget, GuardStep::Apply, "after")?;
        if after == expected && !done_before {
            // Nothing for this level to change (a Cloud SQL instance at cap, a database
            // suspended at cap and again at stop).
            return Ok(Outcome::Untouched);
        }
        // Unchanged now but changed by this level before: reported with the original.
        let before = if after == expected {
            original
        } else {
            (self
                .journal
                .mark_applied(self.period, &resource, &after, self.level)
                .await)
                .map_err(|e| control(&target.name, &e))?;
            expected
        };
        Ok(Outcome::Changed(ScaledTarget {
            kind: backend.kind(),
            name: target.name.clone(),
            action: action(self.level, backend.kind()),
            before,
            after,
        }))
    }
}

/// A target's current settings when it exists and a budget scoped to `scope` may touch it;
/// otherwise what becomes of it (gone: untouched; protected: reported or out of scope).
async fn touchable(target: &Target, scope: Tier) -> Result<Result<Value, Outcome>, BackendError> {
    let current = match target.backend.read(&target.name).await {
        Ok(current) => current,
        Err(BackendError::NotFound { .. }) => return Ok(Err(Outcome::Untouched)),
        Err(e) => return Err(e),
    };
    let labels = match &target.labels {
        Some(labels) => labels.clone(),
        None => target.backend.labels(&current)?,
    };
    Ok(match may_touch(&labels, scope) {
        Ok(()) => Ok(current),
        Err(skip) => Err(reported(skip, &labels)),
    })
}

/// A skipped resource worth telling people about: ours, but protected. Resources that are
/// not ours or of another tier are simply not in this budget's scope.
fn reported(skip: Skip, labels: &events::labels::Labels) -> Outcome {
    let ours = labels.get(MANAGED_BY).map(String::as_str) == Some(MANAGED_BY_VALUE);
    match skip {
        Skip::Prod | Skip::Excluded if ours => Outcome::Skipped(skip.to_string()),
        _ => Outcome::Untouched,
    }
}

fn action(level: Level, kind: events::downscale::TargetKind) -> ScaleAction {
    use events::downscale::TargetKind::{CloudSqlInstance, Database};
    match (level, kind) {
        (_, Database) | (Level::Stop, CloudSqlInstance) => ScaleAction::Suspended,
        _ => ScaleAction::ScaledDown,
    }
}

/// The control database failed: retried like an API outage.
fn control(name: &str, e: &sqlx::Error) -> BackendError {
    BackendError::Api {
        resource: name.to_owned(),
        call: "control database",
        retryable: true,
        message: e.to_string(),
    }
}

/// The settings of a target as they would be after `change`, for the dry run's plan.
pub async fn planned(
    target: &Target,
    scope: Tier,
    change: &Change,
) -> Result<Option<(Value, Value)>, BackendError> {
    let Ok(current) = touchable(target, scope).await? else {
        return Ok(None);
    };
    let after = target.backend.planned(&current, change)?;
    Ok((after != current).then_some((current, after)))
}
