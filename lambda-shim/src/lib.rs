//! The Lambda side of an OpenFaaS function packaged as a `provided.al2023` zip.
//!
//! - [`spec`]: the `faas-launch.json` the packager writes next to `bootstrap`.
//! - [`event`]: API Gateway v2 / Function URL events and responses, and their conversions to
//!   and from `http` types (shared with the provider's invoke path).

pub mod event;
pub mod spec;
