//! The OpenFaaS provider REST API over any [`crate::Provider`].
use std::sync::Arc;

use crate::{Provider, ServerConfig};

/// Builds the router.
pub fn router(_provider: Arc<dyn Provider>, _config: &ServerConfig) -> axum::Router {
    axum::Router::new()
}
