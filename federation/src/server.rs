//! Serving the federation: the faas-provider router plus one middleware that reports, in the
//! [`MISSING_BACKENDS_HEADER`] response header, backends a merged answer had to leave out
//! (see [`missing_backends`]).

use std::sync::Arc;

use axum::Router;
use faas_provider::ServerConfig;
use prometheus_client::registry::Registry;

use crate::provider::FederatedProvider;

pub use crate::missing::{MISSING_BACKENDS_HEADER, missing_backends};

/// The full router: every OpenFaaS provider route over `federation` (through
/// [`faas_provider::server::router_with_registry`], so `/metrics` exports `registry`, where the
/// federation's metrics should already be registered), with [`missing_backends`] around it.
pub fn router(
    federation: Arc<FederatedProvider>,
    config: &ServerConfig,
    registry: Registry,
) -> Router {
    faas_provider::server::router_with_registry(federation, config, registry)
        .layer(axum::middleware::from_fn(missing_backends))
}
