//! Checks serde cannot express. Every error names the field, in the file's own terms
//! (`service[env-provisioner].oidc.audience`), so the operator knows what to fix.

use std::collections::BTreeSet;
use std::str::FromStr;

use super::{Manifest, Mode, Service};
use crate::money::Money;

/// Why a manifest was refused. Nothing is applied when this is returned.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ManifestError {
    /// The file could not be read.
    #[error("cannot read manifest {0}: {1}")]
    Read(String, String),
    /// TOML syntax or an unknown/missing key.
    #[error("manifest syntax: {0}")]
    Syntax(String),
    /// A field has a value we refuse.
    #[error("manifest field `{field}`: {reason}")]
    Invalid { field: String, reason: String },
}

pub(super) fn invalid(field: impl Into<String>, reason: impl Into<String>) -> ManifestError {
    ManifestError::Invalid {
        field: field.into(),
        reason: reason.into(),
    }
}

/// Pub/Sub resource ids: 3-255 chars, start with a letter, no `goog` prefix.
fn check_id(field: &str, id: &str) -> Result<(), ManifestError> {
    let ok_chars = id
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || "-_.~+%".contains(c));
    let starts = id.chars().next().is_some_and(|c| c.is_ascii_alphabetic());
    if !(3..=200).contains(&id.len()) || !ok_chars || !starts || id.starts_with("goog") {
        return Err(invalid(
            field,
            format!("`{id}` is not a valid Pub/Sub resource id"),
        ));
    }
    Ok(())
}

/// A service account as IAM members name it after `serviceAccount:` (which must not be
/// written here: `apply` adds it).
fn check_email(field: &str, email: &str) -> Result<(), ManifestError> {
    let ok = email
        .split_once('@')
        .is_some_and(|(user, domain)| !user.is_empty() && domain.contains('.'))
        && !email.contains(':')
        && !email.contains(char::is_whitespace);
    if !ok {
        return Err(invalid(
            field,
            format!(
                "`{email}` is not a service account email (NAME@PROJECT.iam.gserviceaccount.com)"
            ),
        ));
    }
    Ok(())
}

/// A predefined (`roles/NAME`) or custom (`projects/ID/roles/NAME`,
/// `organizations/ID/roles/NAME`) role.
fn is_role_name(role: &str) -> bool {
    let name_ok = |n: &str| {
        !n.is_empty()
            && n.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '_')
    };
    match role.split('/').collect::<Vec<_>>()[..] {
        ["roles", name] => name_ok(name),
        ["projects" | "organizations", id, "roles", name] => !id.is_empty() && name_ok(name),
        _ => false,
    }
}

/// Parses a five-field unix cron, as Cloud Scheduler accepts it.
pub fn parse_cron(expr: &str) -> Result<croner::Cron, String> {
    croner::parser::CronParser::builder()
        .seconds(croner::parser::Seconds::Disallowed)
        .build()
        .parse(expr)
        .map_err(|e| e.to_string())
}

impl Manifest {
    pub(super) fn validate(&self) -> Result<(), ManifestError> {
        if self.project.trim().is_empty() {
            return Err(invalid("project", "must not be empty"));
        }
        check_id("events_topic", &self.events_topic)?;
        let mut names = BTreeSet::new();
        for service in &self.services {
            if !names.insert(service.name.as_str()) {
                return Err(invalid(
                    format!("service[{}].name", service.name),
                    "appears twice",
                ));
            }
            self.validate_service(service)?;
        }
        self.validate_jobs()?;
        self.validate_budgets()?;
        if self.mode == Mode::Google && self.iam.is_none() {
            return Err(invalid(
                "iam",
                "required in google mode (pubsub_service_agent)",
            ));
        }
        if let Some(iam) = &self.iam {
            check_email("iam.pubsub_service_agent", &iam.pubsub_service_agent)?;
        }
        if self.mode == Mode::Google && self.region.as_deref().unwrap_or("").is_empty() {
            return Err(invalid(
                "region",
                "required in google mode (Cloud Run and Cloud Scheduler location)",
            ));
        }
        Ok(())
    }

    fn validate_service(&self, s: &Service) -> Result<(), ManifestError> {
        let at = |f: &str| format!("service[{}].{f}", s.name);
        check_id(&at("name"), &s.name)?;
        if s.topics.is_empty() {
            return Err(invalid(at("topics"), "needs at least one trigger topic"));
        }
        for topic in &s.topics {
            check_id(&at("topics"), topic)?;
        }
        let url = reqwest::Url::parse(&s.push_endpoint)
            .map_err(|e| invalid(at("push_endpoint"), format!("not a URL: {e}")))?;
        let r = s.settings.resolved(&self.defaults);
        if r.max_delivery_attempts < 5 || r.max_delivery_attempts > 100 {
            return Err(invalid(
                at("max_delivery_attempts"),
                "must be between 5 and 100",
            ));
        }
        if !(10..=600).contains(&r.ack_deadline_secs) {
            return Err(invalid(
                at("ack_deadline_secs"),
                "must be between 10 and 600",
            ));
        }
        if r.min_backoff_secs < 0
            || r.max_backoff_secs > 600
            || r.min_backoff_secs > r.max_backoff_secs
        {
            return Err(invalid(
                at("min_backoff_secs"),
                "need 0 <= min_backoff_secs <= max_backoff_secs <= 600",
            ));
        }
        if let Some(spec) = events::platform::service(&s.name) {
            super::retry_window::check(
                &at("max_delivery_attempts"),
                spec,
                self.mode,
                (
                    r.min_backoff_secs,
                    r.max_backoff_secs,
                    r.max_delivery_attempts,
                ),
            )?;
        }
        if !(600..=7 * 24 * 3600).contains(&r.message_retention_secs) {
            return Err(invalid(
                at("message_retention_secs"),
                "must be between 600 and 604800",
            ));
        }
        self.validate_roles(s)?;
        if self.mode == Mode::Google {
            if url.scheme() != "https" {
                return Err(invalid(at("push_endpoint"), "must be https in google mode"));
            }
            let oidc = s
                .oidc
                .as_ref()
                .ok_or_else(|| invalid(at("oidc"), "required for a google push subscription"))?;
            if oidc.service_account.as_deref().unwrap_or("").is_empty() {
                return Err(invalid(
                    at("oidc.service_account"),
                    "required for a google push subscription",
                ));
            }
            if oidc.audience.as_deref().unwrap_or("").is_empty() {
                return Err(invalid(
                    at("oidc.audience"),
                    "required for a google push subscription",
                ));
            }
        }
        Ok(())
    }

    /// `apply` grants `roles` to `runtime_account` on the project: both must be usable as is.
    fn validate_roles(&self, s: &Service) -> Result<(), ManifestError> {
        let at = |f: &str| format!("service[{}].{f}", s.name);
        if let Some(account) = &s.runtime_account {
            check_email(&at("runtime_account"), account)?;
        } else if !s.roles.is_empty() {
            return Err(invalid(
                at("runtime_account"),
                "required when `roles` are listed (the account that gets them)",
            ));
        }
        if let Some(account) = s.oidc.as_ref().and_then(|o| o.service_account.as_deref()) {
            check_email(&at("oidc.service_account"), account)?;
        }
        for role in &s.roles {
            if !is_role_name(role) {
                return Err(invalid(
                    at("roles"),
                    format!(
                        "`{role}` is not a role name (roles/NAME, projects/ID/roles/NAME or \
                         organizations/ID/roles/NAME)"
                    ),
                ));
            }
        }
        Ok(())
    }

    fn validate_jobs(&self) -> Result<(), ManifestError> {
        for job in &self.jobs {
            let at = |f: &str| format!("job[{}].{f}", job.name);
            check_id(&at("name"), &job.name)?;
            parse_cron(&job.schedule)
                .map_err(|e| invalid(at("schedule"), format!("`{}`: {e}", job.schedule)))?;
            chrono_tz::Tz::from_str(&job.time_zone).map_err(|_| {
                invalid(
                    at("time_zone"),
                    format!("`{}` is not an IANA time zone", job.time_zone),
                )
            })?;
            let service = self.service(&job.service).ok_or_else(|| {
                invalid(at("service"), format!("unknown service `{}`", job.service))
            })?;
            if !service.topics.contains(&job.topic) {
                return Err(invalid(
                    at("topic"),
                    format!(
                        "`{}` is not a topic of service `{}`",
                        job.topic, job.service
                    ),
                ));
            }
            if !job.event_type.starts_with("dev.groundskeeper.") {
                return Err(invalid(
                    at("event_type"),
                    "must be one of our types (dev.groundskeeper.*)",
                ));
            }
        }
        Ok(())
    }

    fn validate_budgets(&self) -> Result<(), ManifestError> {
        let Some(b) = &self.budgets else {
            return Ok(());
        };
        if !self.services.iter().any(|s| s.topics.contains(&b.topic)) {
            return Err(invalid(
                "budgets.topic",
                format!("`{}` is not a trigger topic of any [[service]]", b.topic),
            ));
        }
        if b.currency.len() != 3 || !b.currency.chars().all(|c| c.is_ascii_uppercase()) {
            return Err(invalid(
                "budgets.currency",
                "must be an ISO 4217 code like EUR",
            ));
        }
        if b.thresholds.is_empty() || b.thresholds.iter().any(|t| !(*t > 0.0 && *t <= 10.0)) {
            return Err(invalid(
                "budgets.thresholds",
                "fractions in (0, 10], e.g. [0.5, 0.8, 1.0]",
            ));
        }
        for (i, member) in b.publishers.iter().enumerate() {
            let field = format!("budgets.publishers[{i}]");
            // Only service accounts: a user, a group or a wildcard (allUsers, domain:) is
            // not an automated publisher, and would undo the restriction.
            let Some(email) = member.strip_prefix("serviceAccount:") else {
                return Err(invalid(
                    field,
                    format!("`{member}` is not serviceAccount:EMAIL"),
                ));
            };
            check_email(&field, email)?;
            if b.publishers[..i].contains(member) {
                return Err(invalid(field, format!("`{member}` is listed twice")));
            }
        }
        for tier in &b.tiers {
            Money::parse(&tier.amount)
                .map_err(|e| invalid(format!("budgets.tier[{}].amount", tier.name), e))?;
        }
        Ok(())
    }
}
