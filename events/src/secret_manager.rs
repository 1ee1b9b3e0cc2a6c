//! Secret Manager event notifications, as Google publishes them to a secret's topics.
//!
//! Attributes: `eventType` (`SECRET_ROTATE`, `SECRET_VERSION_ADD`, …), `dataFormat` (`JSON`),
//! `secretId` (`projects/<number>/secrets/<id>`) and, for version events, `versionId`. The
//! data is the Secret resource (or SecretVersion for version events) in proto3 JSON, int64
//! values as strings. Read tolerantly; the decoder gives it
//! [`types::SECRET_MANAGER_NOTIFICATION`].

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Deserializer, Serialize};

use crate::{types, DecodeError, Payload, RawEvent};

/// The `eventType` attribute.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum SecretEventType {
    /// `SECRET_ROTATE`: the secret's rotation schedule fired. The one groundskeeper acts on.
    Rotate,
    /// `SECRET_VERSION_ADD`.
    VersionAdd,
    /// Any other type (`SECRET_CREATE`, `SECRET_UPDATE`, `SECRET_DELETE`,
    /// `SECRET_VERSION_ENABLE`, `SECRET_VERSION_DISABLE`, `SECRET_VERSION_DESTROY`,
    /// `TOPIC_CONFIGURED`, …), kept as sent.
    Other(String),
}

impl SecretEventType {
    fn parse(value: &str) -> Self {
        match value {
            "SECRET_ROTATE" => Self::Rotate,
            "SECRET_VERSION_ADD" => Self::VersionAdd,
            other => Self::Other(other.to_owned()),
        }
    }
}

/// A Secret Manager notification: attributes plus the resource data.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SecretManagerNotification {
    /// Attribute `eventType`.
    pub event_type: SecretEventType,
    /// Attribute `secretId`: `projects/<number>/secrets/<id>` (the project *number*).
    pub secret_id: String,
    /// Attribute `versionId` (version events): `projects/<number>/secrets/<id>/versions/<n>`.
    pub version_id: Option<String>,
    /// Attribute `dataFormat`, e.g. `JSON`.
    pub data_format: Option<String>,
    /// The resource in the data; empty when the message had no data.
    pub resource: SecretResource,
}

/// The fields of a Secret or SecretVersion resource groundskeeper reads.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct SecretResource {
    /// The resource name.
    pub name: Option<String>,
    /// When it was created.
    pub create_time: Option<DateTime<Utc>>,
    /// Labels.
    pub labels: BTreeMap<String, String>,
    /// Version aliases (`current` → version number); int64 values arrive as strings.
    #[serde(deserialize_with = "int64_map")]
    pub version_aliases: BTreeMap<String, i64>,
    /// The rotation schedule, when set.
    pub rotation: Option<Rotation>,
    /// A version's state (`ENABLED`, `DISABLED`, `DESTROYED`), for version events.
    pub state: Option<String>,
    /// The etag.
    pub etag: Option<String>,
}

/// A secret's rotation schedule.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Rotation {
    /// When the next `SECRET_ROTATE` fires.
    pub next_rotation_time: Option<DateTime<Utc>>,
    /// The period, as a proto3 JSON duration (e.g. `2592000s`).
    pub rotation_period: Option<String>,
}

fn int64_map<'de, D: Deserializer<'de>>(d: D) -> Result<BTreeMap<String, i64>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Int64 {
        Text(String),
        Number(i64),
    }
    let map = Option::<BTreeMap<String, Int64>>::deserialize(d)?.unwrap_or_default();
    map.into_iter()
        .map(|(key, value)| match value {
            Int64::Number(n) => Ok((key, n)),
            Int64::Text(text) => match text.parse() {
                Ok(n) => Ok((key, n)),
                Err(_) => Err(serde::de::Error::custom(format!(
                    "versionAliases.{key}: {text:?} is not an int64"
                ))),
            },
        })
        .collect()
}

impl SecretManagerNotification {
    /// Reads attributes and data from a decoded delivery.
    pub fn from_raw(raw: &RawEvent) -> Result<Self, DecodeError> {
        let invalid = |reason: String| DecodeError::InvalidPayload {
            ty: raw.ty.clone(),
            reason,
        };
        let required = |name: &str| {
            raw.attribute(name)
                .filter(|v| !v.is_empty())
                .ok_or_else(|| invalid(format!("attribute `{name}` is missing")))
        };
        let event_type = SecretEventType::parse(required("eventType")?);
        let secret_id = required("secretId")?.to_owned();
        let resource = if raw.data.iter().all(u8::is_ascii_whitespace) {
            SecretResource::default()
        } else {
            serde_json::from_slice(&raw.data).map_err(|e| invalid(format!("data: {e}")))?
        };
        Ok(Self {
            event_type,
            secret_id,
            version_id: raw.attribute("versionId").map(str::to_owned),
            data_format: raw.attribute("dataFormat").map(str::to_owned),
            resource,
        })
    }

    /// The secret's short id (`NAME` of `projects/NUMBER/secrets/NAME`), if well formed.
    pub fn secret_name(&self) -> Option<&str> {
        let mut parts = self.secret_id.split('/');
        match (
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
        ) {
            (Some("projects"), Some(_), Some("secrets"), Some(name), None) if !name.is_empty() => {
                Some(name)
            }
            _ => None,
        }
    }
}

impl Payload for SecretManagerNotification {
    fn accepts() -> &'static [&'static str] {
        &[types::SECRET_MANAGER_NOTIFICATION]
    }

    fn decode(raw: &RawEvent) -> Result<Self, DecodeError> {
        Self::from_raw(raw)
    }
}
