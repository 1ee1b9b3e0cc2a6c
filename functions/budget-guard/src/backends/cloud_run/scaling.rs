//! A Cloud Run service's service-level scaling as budget-guard records it, and what a
//! [`Change`] makes of it.

use std::collections::BTreeMap;

use google_cloud_run_v2::model::service_scaling::ScalingMode;
use google_cloud_run_v2::model::{Service, ServiceScaling};
use serde::{Deserialize, Serialize};

use crate::backends::Change;

/// The service-level maximum of a stopped service. Cloud Run has no "zero" maximum:
/// `max_instance_count` is a plain proto3 `int32`, so 0 is omitted on the wire and means
/// "no limit" — the opposite of a stop. 1 is the smallest maximum the API keeps.
pub const STOP_MAX_INSTANCES: i32 = 1;

/// Every field of `ServiceScaling`, so a restore puts back exactly what was there
/// (0 means "not set" for the two counts, as on the wire).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Scaling {
    /// Total minimum instances (0: none).
    pub min_instance_count: i32,
    /// Total maximum instances (0: no service-level limit).
    pub max_instance_count: i32,
    /// Automatic or manual scaling (journaled by name, `AUTOMATIC`).
    #[serde(serialize_with = "mode_by_name")]
    pub scaling_mode: ScalingMode,
    /// The instance count in manual mode, when set.
    pub manual_instance_count: Option<i32>,
}

/// What budget-guard records of a service: its scaling and its labels.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CloudRunSettings {
    /// The service-level scaling (absent on the service = all defaults).
    pub scaling: Scaling,
    /// The service's labels.
    pub labels: BTreeMap<String, String>,
}

impl CloudRunSettings {
    /// The settings of `service` as the API returned it.
    pub fn of(service: &Service) -> Self {
        let scaling = service.scaling.clone().unwrap_or_default();
        Self {
            scaling: Scaling {
                min_instance_count: scaling.min_instance_count,
                max_instance_count: scaling.max_instance_count,
                scaling_mode: scaling.scaling_mode,
                manual_instance_count: scaling.manual_instance_count,
            },
            labels: service.labels.clone().into_iter().collect(),
        }
    }
}

impl Scaling {
    /// The scaling after `change`: no minimum, a maximum of at most the cap (never raising
    /// a lower one; 1 for a stop), and in manual mode at most the cap instances (0 for a
    /// stop: manual mode's count is optional on the wire, so 0 is sent and kept).
    pub fn after(&self, change: &Change) -> Self {
        let (max, manual) = match change {
            Change::Cap { max_instances } => {
                let cap = i32::try_from(max_instances.get()).unwrap_or(i32::MAX);
                (cap, cap)
            }
            Change::Stop => (STOP_MAX_INSTANCES, 0),
        };
        let max_instance_count = match self.max_instance_count {
            current if current > 0 => current.min(max),
            _ => max,
        };
        Self {
            min_instance_count: 0,
            max_instance_count,
            scaling_mode: self.scaling_mode.clone(),
            manual_instance_count: self.manual_instance_count.map(|n| n.min(manual)),
        }
    }

    /// The API message.
    pub fn to_api(&self) -> ServiceScaling {
        let mut scaling = ServiceScaling::new()
            .set_min_instance_count(self.min_instance_count)
            .set_max_instance_count(self.max_instance_count)
            .set_scaling_mode(self.scaling_mode.clone());
        if let Some(n) = self.manual_instance_count {
            scaling = scaling.set_manual_instance_count(n);
        }
        scaling
    }
}

/// The mode's name where it has one (readable in the journal and in events), else its
/// number; the enum's own deserializer reads either.
fn mode_by_name<S: serde::Serializer>(mode: &ScalingMode, s: S) -> Result<S::Ok, S::Error> {
    match mode.name() {
        Some(name) => s.serialize_str(name),
        None => mode.serialize(s),
    }
}
