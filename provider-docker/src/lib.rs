//! # provider-docker
//!
//! An OpenFaaS provider on a Docker Engine: every function replica is a container running the
//! function's image (whose watchdog serves the function), and **all function state lives in
//! the engine**, as container labels ([`labels`]), so a restarted provider (or a second one
//! over the same engine and scope) finds every function again.
//!
//! - **deploy** pulls the image (credentials from the Docker `config.json`), creates the
//!   function's *spec holder* (a created, never started container carrying the spec) and starts
//!   `com.openfaas.scale.min` replicas (default 1), waiting until each passes the watchdog's
//!   `/_/health`. A replica that exits first, an image that cannot be pulled, a full port range:
//!   each is a clear error and nothing is left behind.
//! - every field is honoured: `envVars`, `envProcess` (`fprocess`), `secrets` (bind-mounted
//!   read-only at `/var/openfaas/secrets/<name>`), `limits`/`requests` (Kubernetes quantities →
//!   memory, memory reservation, CPUs, CPU shares; a memory limit under the engine's 6 MiB
//!   minimum is raised to it and logged, the status keeps the value asked), `readOnlyRootFilesystem` (with a writable
//!   tmpfs `/tmp`), `labels` (also set on the containers), `annotations`, `constraints` (those a
//!   single engine can answer; others are a 400).
//! - **availableReplicas** counts replicas whose `/_/health` answers 200; **invoke** balances
//!   over those, round robin, streaming both ways through a keep-alive pool.
//! - **scale** 0..N adds or removes replicas; at 0 the spec holder keeps the function, with a
//!   warm pool of `com.openfaas.scale.warm` paused standby replicas (default `warm_default`,
//!   0; at most `warm_max` in all) that a scale up from zero wakes first (see `warm.rs`).
//! - **update** is a rolling replace: start a new replica, wait until healthy, route to it, then
//!   drain (no new requests, in-flight ones finish) and remove an old one; a new replica that
//!   fails rolls everything back.
//! - **logs** come from the engine (`instance` = container id); a follow stream takes in the
//!   replicas started after it opened (engine events) and ends when the function is deleted;
//!   **secrets** are files the provider owns (`<state_dir>/secrets/<namespace>/<name>`, files
//!   0644 in 0700 directories); **namespaces** are files too
//!   (`<state_dir>/namespaces/<name>.json`).
//!
//! Networking: host networking with one `127.0.0.1` port per replica (the watchdog's `port`
//! and `bind_address`), or a user-chosen Docker network ([`Networking::Network`]), where
//! replicas are reached at their address on that network, port 8080.
//!
//! ```no_run
//! # async fn run() -> anyhow::Result<()> {
//! use std::sync::Arc;
//! use provider_docker::{DockerConfig, DockerProvider};
//!
//! let provider = DockerProvider::connect(DockerConfig::from_env()?).await?;
//! let config = faas_provider::ServerConfig::from_env()?;
//! let listener = tokio::net::TcpListener::bind(config.socket_addr()).await?;
//! faas_provider::server::serve(listener, Arc::new(provider), &config, faas_provider::server::shutdown_signal()).await?;
//! # Ok(())
//! # }
//! ```
#![warn(missing_docs)]

mod auth;
pub mod config;
mod engine;
pub mod error;
mod invoke;
pub mod labels;
mod lifecycle;
mod logs;
mod provider;
pub mod quantity;
mod readiness;
mod recent;
mod routes;
mod shared;
pub mod spec;
mod store;
mod warm;

pub use config::{ConfigError, DockerConfig, Networking, PullPolicy, SETTINGS};
pub use error::PROVIDER_NAME;
pub use provider::DockerProvider;
