//! What the federation is made of: backends and the default one.
//!
//! Three sources, in this order of precedence: flags, environment variables, the TOML file
//! (the binary reads the first two into a [`ConfigSources`], which [`ConfigSources::load`]
//! applies over the file). With no file (and no faas-federation `providers` variable) the
//! federation has one in-process memory backend, `local`, so `faas-federation` alone runs
//! with no daemon.
//!
//! ```toml
//! # federation.toml
//! default_backend = "local"          # functions without the annotation go here
//! health_interval = "5s"             # optional: how often backends are health-checked
//!
//! [[backends]]
//! name = "local"
//! kind = "memory"                     # in-process, nothing to configure
//!
//! [[backends]]
//! name = "k8s"
//! kind = "http"                       # a remote OpenFaaS provider (ours, faasd, faas-netes...)
//! url = "http://127.0.0.1:8081"
//! user = "admin"                      # basic auth sent on /system/* calls
//! password_file = "k8s-password"      # or password = "..."; relative to this file's directory
//! timeout = "10s"                     # bound on each read (integer seconds or Go duration)
//! deploy_timeout = "10m"              # optional: this backend's `deploy_timeout`
//! invoke_timeout = "60s"              # optional: this backend's `upstream_timeout`
//! [backends.capabilities]             # optional: what probing cannot observe, or overrides
//! scale_to_zero = true
//!
//! [[backends]]                        # cargo feature `docker`
//! name = "engine"
//! kind = "docker"                     # in-process provider-docker: its env names and defaults
//! docker_host = "unix:///var/run/docker.sock"
//! state_dir = "/var/lib/faas-docker"
//! scope = "federation"
//! image_pull_policy = "IfNotPresent"
//!
//! [[backends]]                        # cargo feature `lambda`
//! name = "aws"
//! kind = "lambda"                     # in-process provider-lambda: its env names and defaults
//! lambda_execution_role = "arn:aws:iam::123456789012:role/openfaas-fn"
//! bootstrap_path = "/usr/local/lib/faas-lambda/bootstrap"
//! aws_region = "eu-west-1"
//! ```
//!
//! In-process `docker` and `lambda` backends take the settings of the `provider-docker` and
//! `provider-lambda` binaries under the same names (`provider_docker::SETTINGS`,
//! `provider_lambda::SETTINGS`): the federation hands each such table to its crate, which
//! parses and validates it; relative paths in them are relative to the file's directory.
//! Without the cargo feature, such a backend is refused with an error naming the missing
//! feature.
//!
//! The server's own settings (`port`, `bind`, `read_timeout`, `write_timeout`, `basic_auth`,
//! `secret_mount_path`) come from [`faas_provider::ServerConfig::from_env`], as for every
//! provider of this workspace; `--port` and `--bind` override them.
//!
//! Modules, each using only those listed before it: `error` ([`ConfigError`]), `timeouts`
//! ([`Timeouts`]), `settings`, `model` (the types
//! above), `validate`, `kinds` (backend kinds and the hand-off of provider tables), `file`
//! (the TOML schema), `load` ([`ConfigSources`] and faas-federation's provider URLs).

mod error;
mod file;
mod kinds;
mod load;
mod model;
mod settings;
mod summary;
mod timeouts;
mod validate;

#[cfg(test)]
mod tests;

pub use error::ConfigError;
pub use kinds::KNOWN_KINDS;
pub use load::ConfigSources;
pub use model::{
    BackendConfig, BackendSpec, CapabilityOverrides, Credentials, DEFAULT_BACKEND_NAME,
    DEFAULT_BACKEND_TIMEOUT, DEFAULT_HEALTH_INTERVAL, FederationConfig,
};
pub use settings::{NatsConfig, SETTINGS, Settings};
pub use timeouts::{DEFAULT_DEPLOY_TIMEOUT, DEFAULT_INVOKE_TIMEOUT, Timeouts};
