//! The OpenFaaS function watchdog, re-implemented: the process that runs inside a function
//! image, listens on `port` and turns HTTP requests into function invocations.
//!
//! Modes (env `mode`): `streaming` (default; fork `fprocess` per request, stdout streamed),
//! `serializing` (alias `classic`; fork per request, buffered, like the classic watchdog) and
//! `http` (start `fprocess` once and reverse-proxy to `upstream_url`). Configuration names and
//! defaults are documented on [`WatchdogConfig`]; status codes on [`Watchdog::handle`].
//!
//! # Reusing the executor without the listener
//!
//! [`Watchdog`] is independent of any socket, so a Lambda bootstrap (or a test) can translate its
//! own events into `http::Request`s and call [`Watchdog::handle`] directly:
//!
//! ```
//! use watchdog::{Body, Mode, Watchdog, WatchdogConfig};
//! use http_body_util::BodyExt;
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let mut config = WatchdogConfig::new(Mode::Serializing, vec!["cat".into()]);
//! config.suppress_lock = true; // no /tmp/.lock: nothing polls /_/health here
//! let watchdog = Watchdog::new(config)?;
//! watchdog.start().await?; // http mode: spawns fprocess and waits for upstream_url
//! let request = http::Request::post("/").body(Body::from("hi"))?;
//! let response = watchdog.handle(request).await;
//! assert_eq!(response.status(), 200);
//! assert_eq!(response.into_body().collect().await?.to_bytes(), "hi");
//! watchdog.stop().await; // http mode: stops the process
//! # Ok(())
//! # }
//! ```
//!
//! The `fwatchdog` binary is [`WatchdogConfig::from_env`] + [`serve`] with SIGTERM/SIGINT as the
//! shutdown signal. Build it fully static for `FROM scratch` images with
//! `RUSTFLAGS='-C target-feature=+crt-static' cargo build --release -p watchdog --bin fwatchdog
//! --target x86_64-unknown-linux-gnu`.
//!
//! As PID 1 in a container the watchdog reaps its own children but not orphaned grandchildren
//! (like upstream): run containers with an init (`docker run --init`, bollard
//! `HostConfig { init: Some(true) }`) when functions leave background processes behind.
//!
//! Not implemented: modes `static`, `inproc` and `afterburn`, `marshal_request`, JWT auth,
//! Prometheus metrics on :8081, `ready_path` proxying, WebSocket upgrades in http mode.

mod body;
pub mod cgi;
pub mod config;
mod fork;
mod hooks;
mod log;
mod server;
mod upstream;
mod watchdog;

pub use body::{DURATION_HEADER, INTERNAL_HEADER};
pub use config::{ConfigError, Mode, ProcessEnv, UpstreamUrl, WatchdogConfig};
pub use server::{route, serve};
pub use watchdog::{Watchdog, WatchdogError};

/// The request and response body type (the same as `faas_provider::Body`).
pub type Body = axum_core::body::Body;
