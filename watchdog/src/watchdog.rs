//! The executor: one function invocation per [`Watchdog::handle`] call, no listener needed.

use std::io;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use http::request::Parts;
use http::{Method, Request, Response, StatusCode};
use middleware::{MiddlewareError, Pipeline};
use tokio::sync::Semaphore;
use tokio::time::Instant as TokioInstant;

use crate::Body;
use crate::body::{Tracked, text};
use crate::config::{ConfigError, Mode, WatchdogConfig};
use crate::fork;
use crate::hooks;
use crate::log::log;
use crate::upstream::{State, Upstream};

/// Why the watchdog could not start or keep running.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum WatchdogError {
    /// The configuration is unusable.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// http mode: the function process could not be started.
    #[error("cannot start {program:?}: {source}")]
    Spawn {
        /// The program from `fprocess`.
        program: String,
        /// The OS error.
        #[source]
        source: io::Error,
    },
    /// http mode: the function process exited (the watchdog cannot serve without it).
    #[error("the function's process exited: {0}")]
    UpstreamExited(String),
    /// [`Watchdog::start`] was called twice.
    #[error("the watchdog was already started")]
    AlreadyStarted,
    /// A listed middleware is missing or not executable (found by [`Watchdog::start`]).
    #[error(transparent)]
    Middleware(#[from] MiddlewareError),
    /// The lock file could not be written.
    #[error("cannot write the lock file {path}: {source}")]
    Lock {
        /// The lock file path.
        path: PathBuf,
        /// The OS error.
        #[source]
        source: io::Error,
    },
}

/// The OpenFaaS function executor for one configuration. Cheap to clone (an `Arc` inside).
///
/// Lifecycle: [`Watchdog::new`] (validates, starts nothing) → [`Watchdog::start`] (http mode:
/// spawns `fprocess` and waits until `upstream_url` accepts connections; then writes the lock
/// file unless `suppress_lock`) → any number of concurrent [`Watchdog::handle`] calls →
/// [`Watchdog::begin_shutdown`] (health 503, lock removed) → [`Watchdog::stop`] (http mode:
/// SIGTERM to the process group, SIGKILL after 5 s).
#[derive(Clone)]
pub struct Watchdog {
    inner: Arc<Inner>,
}

struct Inner {
    config: WatchdogConfig,
    inflight: Option<Arc<Semaphore>>,
    accepting: AtomicBool,
    upstream: Option<Arc<Upstream>>,
    pipeline: Option<Pipeline>,
}

impl std::fmt::Debug for Watchdog {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Watchdog")
            .field("config", &self.inner.config)
            .finish_non_exhaustive()
    }
}

impl Watchdog {
    /// Validate `config`; nothing is started yet.
    pub fn new(config: WatchdogConfig) -> Result<Self, WatchdogError> {
        if config.fprocess.is_empty() || config.fprocess[0].is_empty() {
            return Err(ConfigError::MissingFprocess.into());
        }
        let upstream = match (config.mode, &config.upstream_url) {
            (Mode::Http, Some(url)) => Some(Arc::new(Upstream::new(url.clone()))),
            (Mode::Http, None) => return Err(ConfigError::MissingUpstream.into()),
            _ => None,
        };
        let inflight = config.max_inflight.map(|n| Arc::new(Semaphore::new(n)));
        let pipeline = hooks::pipeline(&config)?;
        Ok(Watchdog {
            inner: Arc::new(Inner {
                config,
                inflight,
                accepting: AtomicBool::new(true),
                upstream,
                pipeline,
            }),
        })
    }

    /// The configuration in use.
    pub fn config(&self) -> &WatchdogConfig {
        &self.inner.config
    }

    /// Make the watchdog ready: check that every middleware exists and is executable (the
    /// error names the first that is not: the watchdog then never becomes healthy); in http
    /// mode start `fprocess` and wait until it accepts connections (fails if it exits first);
    /// then write the lock file (unless `suppress_lock`).
    pub async fn start(&self) -> Result<(), WatchdogError> {
        let config = &self.inner.config;
        if !config.suppress_lock {
            // A lock left by an earlier run must not make a starting watchdog look healthy.
            let _ = std::fs::remove_file(&config.lock_path);
        }
        if let Some(pipeline) = &self.inner.pipeline {
            pipeline.check()?;
            log!(
                "Middlewares: {} (from {})",
                pipeline.describe(),
                config.middleware_dir.display()
            );
        }
        if let Some(upstream) = &self.inner.upstream {
            upstream.start(config).await?;
        }
        if !config.suppress_lock {
            tokio::fs::write(&config.lock_path, b"")
                .await
                .map_err(|source| WatchdogError::Lock {
                    path: config.lock_path.clone(),
                    source,
                })?;
            log!("Writing lock-file to: {}", config.lock_path.display());
        }
        Ok(())
    }

    /// `/_/health`: not shutting down, the lock file exists and (http mode) the process is up.
    pub fn is_healthy(&self) -> bool {
        let upstream_ok = self
            .inner
            .upstream
            .as_ref()
            .is_none_or(|u| u.state() == State::Ready);
        self.inner.accepting.load(Ordering::SeqCst)
            && upstream_ok
            && self.inner.config.lock_path.exists()
    }

    /// Whether an invocation would be refused with 429 right now.
    pub fn at_capacity(&self) -> bool {
        self.inner
            .inflight
            .as_ref()
            .is_some_and(|s| s.available_permits() == 0)
    }

    /// Run the function for one request and answer it. Never panics on bad input; the response
    /// body is streamed where the mode streams.
    ///
    /// | situation | status |
    /// |---|---|
    /// | success | the function's (http) or 200 (fork modes) |
    /// | more than `max_inflight` concurrent calls | 429 |
    /// | fork modes, method not GET/POST/PUT/PATCH/DELETE | 405 |
    /// | fork modes, request body not read within `read_timeout` | 408 |
    /// | fork modes, process exits non-zero before answering | 500, body `exit status N\n` + stderr (and stdout) |
    /// | process cannot be started | 500 |
    /// | `exec_timeout` (or `write_timeout`) reached | 504; fork modes kill the whole process group |
    /// | http mode, upstream refuses or resets | 502 with `X-OpenFaaS-Internal: of-watchdog` |
    /// | http mode, upstream not ready within the deadline | 503 with `X-OpenFaaS-Internal` |
    ///
    /// With middlewares (`SLSMIDDLEWARES`), in every mode, the call goes through them (see the
    /// crate docs) and adds:
    ///
    /// | situation | status |
    /// |---|---|
    /// | request body over `middleware_max_body_bytes` | 413 |
    /// | a hook exits non-zero, prints invalid JSON, or outlives the call's deadline | 502 with `X-OpenFaaS-Internal`, the hook's name and the first 4 KB of its stderr |
    /// | the hooks' output is JSON but not an API Gateway v2 event / response | 502 naming the hook |
    /// | the function's response over `middleware_max_body_bytes` | 502 |
    pub async fn handle(&self, request: Request<Body>) -> Response<Body> {
        let start = Instant::now();
        let permit = match &self.inner.inflight {
            Some(semaphore) => match Arc::clone(semaphore).try_acquire_owned() {
                Ok(permit) => Some(permit),
                Err(_) => {
                    let max = self.inner.config.max_inflight.unwrap_or_default();
                    return text(
                        StatusCode::TOO_MANY_REQUESTS,
                        format!(
                            "Concurrent request limit exceeded. Max concurrent requests: {max}"
                        ),
                    );
                }
            },
            None => None,
        };
        let config = &self.inner.config;
        let (parts, body) = request.into_parts();
        let Some(pipeline) = &self.inner.pipeline else {
            let (response, deadline) = self.invoke(parts, body).await;
            return Tracked::wrap(response, start, deadline, permit);
        };
        // The hooks share the call's deadline: they count against exec_timeout.
        let deadline = config
            .invocation_deadline()
            .map(|limit| TokioInstant::now() + limit);
        let request = match hooks::before(config, pipeline, parts, body, deadline).await {
            Ok(request) => request,
            Err(response) => return Tracked::wrap(response, start, None, permit),
        };
        let (parts, body) = request.into_parts();
        let (response, _) = self.invoke(parts, body).await;
        let response = hooks::after(config, pipeline, response, deadline).await;
        Tracked::wrap(response, start, None, permit)
    }

    /// Run the function (whichever mode) for one request; the response and, in http mode, the
    /// deadline its body must end by.
    async fn invoke(&self, parts: Parts, body: Body) -> (Response<Body>, Option<TokioInstant>) {
        let config = &self.inner.config;
        if let Some(upstream) = &self.inner.upstream {
            return upstream.proxy(config, parts, body).await;
        }
        let allowed = [
            Method::GET,
            Method::POST,
            Method::PUT,
            Method::PATCH,
            Method::DELETE,
        ];
        if !allowed.contains(&parts.method) {
            let mut response = text(
                StatusCode::METHOD_NOT_ALLOWED,
                format!("method {} is not allowed", parts.method),
            );
            response.headers_mut().insert(
                http::header::ALLOW,
                http::HeaderValue::from_static("GET, POST, PUT, PATCH, DELETE"),
            );
            return (response, None);
        }
        let response = match config.mode {
            Mode::Serializing => fork::serializing(config, parts, body).await,
            Mode::Streaming | Mode::Http => fork::streaming(config, parts, body).await,
        };
        (response, None)
    }

    /// Stop reporting healthy and remove the lock file (the first step after SIGTERM).
    pub fn begin_shutdown(&self) {
        self.inner.accepting.store(false, Ordering::SeqCst);
        match std::fs::remove_file(&self.inner.config.lock_path) {
            Ok(()) => log!(
                "Removed lock-file: {}",
                self.inner.config.lock_path.display()
            ),
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => log!(
                "Cannot remove lock-file {}: {e}",
                self.inner.config.lock_path.display()
            ),
        }
    }

    /// http mode: stop the function process and wait until it is gone. No-op in fork modes
    /// (their processes live and die with their requests).
    pub async fn stop(&self) {
        if let Some(upstream) = &self.inner.upstream {
            if !matches!(upstream.state(), State::NotStarted | State::Exited(_)) {
                upstream.request_stop();
                upstream.exited().await;
            }
        }
    }

    /// Resolves when the http-mode process exits (with how it exited); never in fork modes.
    pub async fn process_exited(&self) -> String {
        match &self.inner.upstream {
            Some(upstream) => upstream.exited().await,
            None => std::future::pending().await,
        }
    }
}
