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
//!
//! ## Features
//!
//! - `server` (default): [`server`], the REST API over any provider (axum, prometheus-client);
//! - `client` (default): [`client`], the remote provider (reqwest, hyper and the invocation pool).
//!
//! With neither (`default-features = false`) the crate is the contract alone: the trait, the
//! wire types, the errors, the configuration parsers and the shared helpers ([`headers`],
//! [`encoding`], [`error::chain`], [`sync::KeyedLocks`]).
#![warn(missing_docs)]

#[cfg(feature = "client")]
pub mod client;
pub mod config;
pub mod encoding;
pub mod error;
pub mod headers;
mod provider;
#[cfg(feature = "server")]
pub mod server;
pub mod sync;
pub mod types;

pub use config::{AccessLog, ConfigError, ServerConfig};
pub use error::{BoxError, ProviderError, ResourceKind, Result};
pub use provider::{
    Body, Capabilities, DynProvider, FunctionRef, InvokeStart, LogRequest, LogStream, Provider,
};
pub use types::{
    DEFAULT_NAMESPACE, FunctionDeployment, FunctionNamespace, FunctionResources, FunctionStatus,
    FunctionUsage, GoJson, LogMessage, ProviderInfo, ScaleServiceRequest, Secret, VersionInfo,
};
