//! Secret Manager's resources and errors into the store's types.

use crate::backends::secrets::{SecretError, SecretInfo, VersionInfo, VersionState};
use chrono::{DateTime, Utc};
use google_cloud_gax::error::rpc::Code;
use google_cloud_secretmanager_v1::model::{secret_version, Secret, SecretVersion};
use google_cloud_secretmanager_v1::Error;

/// Sorts a client error into the store's error kinds. Secret Manager's messages name
/// resources, never payloads, so they are safe to keep.
pub(super) fn classify(secret: &str, version: Option<String>, e: Error) -> SecretError {
    let secret = secret.to_owned();
    match e.status().map(|s| (s.code, s.message.clone())) {
        Some((Code::NotFound, _)) => SecretError::NotFound { secret, version },
        Some((Code::Aborted, _)) => SecretError::Conflict { secret },
        Some((Code::FailedPrecondition, message)) => SecretError::InvalidState {
            secret,
            version,
            reason: message,
        },
        Some((Code::InvalidArgument, message)) => SecretError::InvalidArgument {
            secret,
            reason: message,
        },
        _ => SecretError::Backend {
            secret,
            reason: e.to_string(),
        },
    }
}

/// `projects/p/secrets/NAME` → `NAME`.
pub(super) fn short_name(resource: &str) -> &str {
    resource.rsplit('/').next().unwrap_or(resource)
}

/// `projects/p/secrets/s/versions/7` → `7`.
pub(super) fn version_number(secret: &str, resource: &str) -> Result<u64, SecretError> {
    resource
        .rsplit_once("/versions/")
        .and_then(|(_, n)| n.parse().ok())
        .ok_or_else(|| {
            SecretError::backend(secret, format!("unexpected version name {resource:?}"))
        })
}

pub(super) fn state(state: &secret_version::State) -> Option<VersionState> {
    match state {
        secret_version::State::Enabled => Some(VersionState::Enabled),
        secret_version::State::Disabled => Some(VersionState::Disabled),
        secret_version::State::Destroyed => Some(VersionState::Destroyed),
        _ => None,
    }
}

pub(super) fn to_info(
    name: &str,
    secret: Secret,
    listed: Vec<SecretVersion>,
) -> Result<SecretInfo, SecretError> {
    let mut versions = Vec::with_capacity(listed.len());
    for v in listed {
        let version_state = state(&v.state).ok_or_else(|| {
            SecretError::backend(name, format!("version {} has state {}", v.name, v.state))
        })?;
        let created_at = v
            .create_time
            .and_then(|t| DateTime::<Utc>::from_timestamp(t.seconds(), t.nanos().try_into().ok()?))
            .unwrap_or_default();
        versions.push(VersionInfo {
            version: version_number(name, &v.name)?,
            state: version_state,
            created_at,
        });
    }
    // Secret Manager lists newest first; the store promises oldest first.
    versions.sort_by_key(|v| v.version);
    let mut aliases = std::collections::BTreeMap::new();
    for (alias, version) in secret.version_aliases {
        let version = u64::try_from(version).map_err(|_| {
            SecretError::backend(name, format!("alias {alias:?} points at version {version}"))
        })?;
        aliases.insert(alias, version);
    }
    Ok(SecretInfo {
        name: name.to_owned(),
        labels: secret.labels.into_iter().collect(),
        aliases,
        etag: secret.etag,
        versions,
    })
}
