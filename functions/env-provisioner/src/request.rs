//! `environment.requested` as the provisioner decodes it. A payload that fails its type's
//! checks (tier `prod`, a bad owner or label) but still names a valid environment is handed
//! to the handler as [`Request::Invalid`] instead of being refused by the runtime, so the
//! refusal is recorded under that name and `groundskeeper env wait NAME` can report it.
//! Without a readable name there is nothing to record it under: the runtime refuses it.

use events::environment::EnvironmentRequested;
use events::names::EnvName;
use events::{DecodeError, Payload, RawEvent};

/// A decoded request.
#[derive(Debug)]
pub enum Request {
    /// A request that passed every check of its type.
    Valid(EnvironmentRequested),
    /// A request its type refuses, for a readable environment name.
    Invalid {
        /// The environment it asked for.
        name: EnvName,
        /// The type's refusal, as the runtime would have given it.
        reason: String,
    },
}

impl Payload for Request {
    fn accepts() -> &'static [&'static str] {
        <EnvironmentRequested as Payload>::accepts()
    }

    fn decode(raw: &RawEvent) -> Result<Self, DecodeError> {
        match <EnvironmentRequested as Payload>::decode(raw) {
            Ok(request) => Ok(Self::Valid(request)),
            Err(error @ DecodeError::InvalidPayload { .. }) => match named(&raw.data) {
                Some(name) => Ok(Self::Invalid {
                    name,
                    reason: error.to_string(),
                }),
                None => Err(error),
            },
            Err(error) => Err(error),
        }
    }
}

/// The payload's `name`, if the payload is a JSON object whose `name` is a valid
/// environment name.
fn named(data: &[u8]) -> Option<EnvName> {
    let payload: serde_json::Value = serde_json::from_slice(data).ok()?;
    payload.as_object()?.get("name")?.as_str()?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode(json: &str) -> Result<Request, DecodeError> {
        let raw = events::delivery::bare(
            events::types::ENVIRONMENT_REQUESTED,
            json.as_bytes().to_vec(),
        );
        Request::decode(&raw)
    }

    #[test]
    fn a_refused_payload_with_a_readable_name_reaches_the_handler_with_the_reason() {
        let Ok(Request::Invalid { name, reason }) =
            decode(r#"{"name": "shop", "owner": "a", "tier": "prod"}"#)
        else {
            panic!("invalid, but named")
        };
        assert_eq!(name.as_str(), "shop");
        assert!(
            reason.contains("tier: `prod` cannot be requested"),
            "{reason}"
        );
        assert!(matches!(
            decode(r#"{"name": "shop", "owner": "a", "tier": "dev"}"#),
            Ok(Request::Valid(_))
        ));
    }

    #[test]
    fn without_a_valid_name_the_payload_is_refused_as_before() {
        for bad in [
            r#"{"name": "Pr_1", "owner": "a", "tier": "prod"}"#,
            r#"{"owner": "a", "tier": "dev"}"#,
            r#"["shop"]"#,
        ] {
            assert!(
                matches!(decode(bad), Err(DecodeError::InvalidPayload { .. })),
                "{bad}"
            );
        }
    }
}
