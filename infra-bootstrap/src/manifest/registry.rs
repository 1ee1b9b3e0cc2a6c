//! Defaults from the service registry (`events::platform::SERVICES`). A `[[service]]` names a
//! registered service (anything else is refused, naming it) and may leave out what the
//! registry knows: its trigger topics and doctor's probe and, in google mode, what belongs to
//! the deployed service (`ServiceSpec::deploy` and `roles`): the roles of its runtime account
//! and the ack deadline that fits its Cloud Run timeout. The emulator has no IAM, and the
//! local stack runs every service with the default delivery timeout, below `[defaults]`' ack
//! deadline. What the manifest writes wins, so a project may narrow the roles or lengthen a
//! deadline.
//!
//! Filled in on the TOML table before serde sees it, so that a key left out and a key written
//! empty (`roles = []`: grant nothing) stay different.

use events::platform::{self, ServiceSpec};
use toml::{Table, Value};

use super::validate::{invalid, ManifestError};

/// Adds the registry's values for every key a `[[service]]` of `file` leaves out.
pub(super) fn fill_in(file: &mut Table) -> Result<(), ManifestError> {
    let google = file.get("mode").and_then(Value::as_str) == Some("google");
    let Some(Value::Array(services)) = file.get_mut("service") else {
        return Ok(()); // no services, or a shape serde reports with its own message
    };
    for service in services.iter_mut().filter_map(Value::as_table_mut) {
        let Some(name) = service.get("name").and_then(Value::as_str) else {
            continue; // serde reports the missing name
        };
        let spec = platform::service(name).ok_or_else(|| {
            invalid(
                format!("service[{name}].name"),
                format!(
                    "`{name}` is not a registered service (events::platform::SERVICES: {})",
                    platform::names().collect::<Vec<_>>().join(", ")
                ),
            )
        })?;
        for (key, value) in defaults(spec, google)? {
            service.entry(key).or_insert(value);
        }
    }
    Ok(())
}

/// The registry's value of each key it can default.
fn defaults(spec: &ServiceSpec, google: bool) -> Result<Vec<(&'static str, Value)>, ManifestError> {
    let mut keys = vec![("topics", strings(spec.topics)), ("probe", probe(spec)?)];
    if google {
        keys.push(("roles", strings(spec.roles)));
        if let Some(secs) = spec.deploy.ack_deadline_secs {
            keys.push(("ack_deadline_secs", Value::Integer(secs.into())));
        }
    }
    Ok(keys)
}

fn strings(items: &[&str]) -> Value {
    Value::Array(
        items
            .iter()
            .map(|s| Value::String((*s).to_owned()))
            .collect(),
    )
}

/// The registry's probe as a `[service.probe]` table.
fn probe(spec: &ServiceSpec) -> Result<Value, ManifestError> {
    let broken = |e: &dyn std::fmt::Display| {
        invalid(
            format!("service[{}].probe", spec.name),
            format!("the registry's probe body does not fit a manifest: {e}"),
        )
    };
    let data: serde_json::Value =
        serde_json::from_str(spec.probe.data_json).map_err(|e| broken(&e))?;
    let mut table = Table::new();
    table.insert("event_type".into(), spec.probe.event_type.into());
    table.insert(
        "data".into(),
        Value::try_from(data).map_err(|e| broken(&e))?,
    );
    let attributes: Table = spec
        .probe
        .attributes
        .iter()
        .map(|(k, v)| ((*k).to_owned(), Value::String((*v).to_owned())))
        .collect();
    table.insert("attributes".into(), Value::Table(attributes));
    Ok(Value::Table(table))
}
