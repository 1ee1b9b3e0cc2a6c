//! budget-guard: graduated, authenticated, exactly reversible downscaling on Cloud Billing
//! budget alerts. Work in progress (issue 13).

pub mod backends;
