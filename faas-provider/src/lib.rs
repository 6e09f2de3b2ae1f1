//! # faas-provider
//!
//! The OpenFaaS provider contract in Rust:
//!
//! - [`types`]: the wire types, exact to the byte of OpenFaaS's Go JSON;
//! - [`Provider`]: one object-safe async trait every backend implements;
//! - [`server::router`] / [`server::serve`]: the OpenFaaS provider REST API over any
//!   `Arc<dyn Provider>` (routes, basic auth, invoke proxy, logs, metrics);
//! - [`client::HttpProvider`]: a `Provider` that speaks that API to a remote server, so a
//!   remote provider (ours or a Go one such as faasd or faas-netes) plugs in anywhere.
//!
//! Errors are one semantic enum, [`ProviderError`]; status codes are decided only in the server.
#![warn(missing_docs)]

pub mod client;
pub mod config;
pub mod error;
mod provider;
pub mod server;
pub mod types;

pub use config::{ConfigError, ServerConfig};
pub use error::{BoxError, ProviderError, ResourceKind, Result};
pub use provider::{
    Body, Capabilities, DEFAULT_NAMESPACE, DynProvider, FunctionRef, LogRequest, LogStream,
    Provider,
};
pub use types::{
    FunctionDeployment, FunctionNamespace, FunctionResources, FunctionStatus, FunctionUsage,
    GoJson, LogMessage, ProviderInfo, ScaleServiceRequest, Secret, VersionInfo,
};
