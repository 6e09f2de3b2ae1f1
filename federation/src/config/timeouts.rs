//! The federation-wide bounds on backend calls that are not reads: `deploy_timeout` (writes
//! that do work) and `upstream_timeout` (the invocation deadline). Each backend may override
//! them (`deploy_timeout`, `invoke_timeout` in its `[[backends]]` entry).

use std::time::Duration;

/// Default invocation deadline (`upstream_timeout`, the OpenFaaS gateway's name and default).
pub const DEFAULT_INVOKE_TIMEOUT: Duration = Duration::from_secs(60);
/// Default bound on a write that does work on a backend (`deploy_timeout`: deploy, update,
/// delete, scale), above provider-docker's `pull_timeout` and provider-lambda's
/// `ready_timeout` (300 s each).
pub const DEFAULT_DEPLOY_TIMEOUT: Duration = Duration::from_secs(600);

/// The federation-wide bounds every backend falls back to (settings `deploy_timeout` and
/// `upstream_timeout`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timeouts {
    /// How long a caller waits for a write that does work on a backend (deploy, update,
    /// delete, scale) before a 504; the backend's work goes on (`deploy_timeout`, 10 min).
    pub deploy: Duration,
    /// The invocation deadline, from the request's arrival (a wake-up from zero included) to
    /// the function's response head (`upstream_timeout`, 60 s).
    pub upstream: Duration,
}

impl Default for Timeouts {
    fn default() -> Self {
        Self {
            deploy: DEFAULT_DEPLOY_TIMEOUT,
            upstream: DEFAULT_INVOKE_TIMEOUT,
        }
    }
}
