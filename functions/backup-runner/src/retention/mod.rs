//! Grandfather-father-son retention over the catalog: a pure [`plan`], then [`apply`], which
//! deletes each planned backup's manifest last.

mod apply;
mod plan;
mod policy;

pub use apply::{apply, Applied, Refused, RetentionError};
pub use plan::{plan, Delete, Keep, KeepReason, RetentionPlan};
pub use policy::{PerTier, RetentionPolicy};
