//! Serving the federation: the faas-provider router plus one middleware that reports, in the
//! [`MISSING_BACKENDS_HEADER`] response header, backends a merged answer had to leave out
//! (see [`missing_backends`]).

use std::sync::Arc;

use axum::Router;
use faas_provider::{Provider, ServerConfig};
use prometheus_client::registry::Registry;

pub use crate::missing::{MISSING_BACKENDS_HEADER, missing_backends};

/// Every OpenFaaS provider route over `provider` (a [`crate::FederatedProvider`], or the
/// [`crate::scaling::Scaler`] in front of one), through
/// [`faas_provider::server::router_with_registry`] so `/metrics` exports `registry` (where the
/// federation's metrics should already be registered), with [`missing_backends`] around it.
/// [`crate::Runtime::router`] adds the async routes.
pub fn router(provider: Arc<dyn Provider>, config: &ServerConfig, registry: Registry) -> Router {
    faas_provider::server::router_with_registry(provider, config, registry)
        .layer(axum::middleware::from_fn(missing_backends))
}
