//! # federation
//!
//! [`FederatedProvider`]: one OpenFaaS provider API over several providers ("backends"), served
//! by the same [`faas_provider::server`] as every other provider of this workspace. Each
//! function lives on one backend, named by its [`GATEWAY_ANNOTATION`] annotation
//! (`com.openfaas.federation.gateway`, faas-federation's key); without it, on the default
//! backend. Backends are in-process (a [`provider_memory::MemoryProvider`]; provider-docker and
//! provider-lambda with the cargo features `docker` and `lambda`) or remote
//! ([`faas_provider::client::HttpProvider`], with per-backend credentials and timeouts).
//!
//! | route | through the federation |
//! |---|---|
//! | `GET /system/functions` | every backend's list merged; unreachable ones left out and named in `X-Federation-Missing-Backends` |
//! | `POST /system/functions` | the annotated (or default) backend; unknown annotation → 400 listing the backends; a name taken on any backend → 409 |
//! | `PUT /system/functions` | the owner; a changed annotation moves the function (deploy on the new backend, then delete from the old) |
//! | `DELETE`, status, scale, invoke, logs | the owner; an unreachable owner → 503 naming it |
//! | `/system/secrets` | every backend supporting secrets (list = union by name) |
//! | `/system/namespaces`, `/system/namespace/{name}` | union; mutations to every backend supporting them |
//! | `/system/info` | `faas-federation`, orchestration `federation (local: memory, k8s: kubernetes)` |
//! | `/healthz` | 200 while the federation runs, whatever the backends' state |
//!
//! The routing table (function → backend) is rebuilt from the backends' own lists at start and
//! on a lookup miss; backends are the source of truth, so a restarted federation loses nothing.
//!
//! ```
//! use std::sync::Arc;
//! use faas_provider::{FunctionDeployment, FunctionRef, Provider};
//! use federation::{Backend, FederatedProvider, GATEWAY_ANNOTATION};
//! use provider_memory::MemoryProvider;
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> faas_provider::Result<()> {
//! let federation = FederatedProvider::new(
//!     vec![
//!         Backend::in_process("local", Arc::new(MemoryProvider::new())),
//!         Backend::in_process("edge", Arc::new(MemoryProvider::new())),
//!     ],
//!     "local",
//! )
//! .unwrap();
//! federation.start().await;
//!
//! let mut spec = FunctionDeployment::new("resize", "example/resize:1");
//! spec.namespace = "openfaas-fn".into();
//! spec.annotations = Some([(GATEWAY_ANNOTATION.to_string(), "edge".to_string())].into());
//! federation.deploy(spec).await?;
//!
//! let resize = FunctionRef::new("resize", "openfaas-fn");
//! assert_eq!(federation.route_of(&resize), Some("edge"));
//! assert_eq!(federation.list("openfaas-fn").await?.len(), 1);
//! # Ok(())
//! # }
//! ```
#![warn(missing_docs)]

pub mod backends;
mod body;
mod cache;
pub mod config;
mod fanout;
pub mod lambda_api;
pub mod metrics;
mod missing;
mod provider;
pub mod queue;
pub mod routing;
mod runtime;
pub mod scaling;
pub mod server;
pub mod triggers;

pub use backends::{Backend, BackendKind, Bound};
pub use config::{BackendConfig, BackendSpec, ConfigError, ConfigSources, FederationConfig};
pub use provider::{
    DEFAULT_MIN_REBUILD_INTERVAL, FederatedProvider, ListReport, ORCHESTRATION, PROVIDER_NAME,
    RebuildReport,
};
pub use routing::{GATEWAY_ANNOTATION, pick_backend};
pub use runtime::{Runtime, StartError};
pub use server::{MISSING_BACKENDS_HEADER, router};
