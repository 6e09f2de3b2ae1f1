//! http mode: `fprocess` is started once and every request is reverse-proxied to `upstream_url`.

use std::process::Stdio;
use std::sync::Arc;
use std::time::{Duration, Instant};

use http::header;
use http::request::Parts;
use http::{Request, Response, StatusCode};
use http_body_util::BodyExt;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use nix::sys::signal::Signal;
use tokio::sync::{Notify, watch};
use tokio::time::Instant as TokioInstant;

use faas_provider::error::chain;
use faas_provider::headers::strip_hop_by_hop;

use crate::Body;
use crate::WatchdogError;
use crate::body::{DURATION_HEADER, duration_value, internal};
use crate::config::{UpstreamUrl, WatchdogConfig, parse_duration};
use crate::fork::{Proc, base_command, exit_text, until};
use crate::log::log;

/// How long the process gets between SIGTERM and SIGKILL when the watchdog stops.
const STOP_GRACE: Duration = Duration::from_secs(5);

/// Lifecycle of the upstream process.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum State {
    NotStarted,
    Starting,
    Ready,
    Exited(String),
}

pub(crate) struct Upstream {
    url: UpstreamUrl,
    client: Client<HttpConnector, Body>,
    state: watch::Sender<State>,
    stop: Notify,
}

impl Upstream {
    pub(crate) fn new(url: UpstreamUrl) -> Self {
        let mut connector = HttpConnector::new();
        connector.set_nodelay(true);
        let client = Client::builder(TokioExecutor::new())
            .pool_idle_timeout(Duration::from_secs(30))
            .build(connector);
        Upstream {
            url,
            client,
            state: watch::Sender::new(State::NotStarted),
            stop: Notify::new(),
        }
    }

    pub(crate) fn state(&self) -> State {
        self.state.borrow().clone()
    }

    /// Wait until the process has exited; returns how.
    pub(crate) async fn exited(&self) -> String {
        let mut rx = self.state.subscribe();
        match rx.wait_for(|s| matches!(s, State::Exited(_))).await {
            Ok(state) => match &*state {
                State::Exited(how) => how.clone(),
                _ => unreachable!("wait_for returned a non-matching state"),
            },
            Err(_) => "watchdog dropped".to_string(),
        }
    }

    /// Spawn the process and wait until `upstream_url` accepts TCP connections.
    pub(crate) async fn start(
        self: &Arc<Self>,
        config: &WatchdogConfig,
    ) -> Result<(), WatchdogError> {
        let fprocess = &config.fprocess;
        if *self.state.borrow() != State::NotStarted {
            return Err(WatchdogError::AlreadyStarted);
        }
        let mut command = base_command(config);
        command
            .stdin(Stdio::null())
            .stdout(Stdio::inherit())
            .stderr(Stdio::inherit());
        log!("Forking fprocess: {}", fprocess.join(" "));
        let mut proc = Proc::spawn(command).map_err(|source| WatchdogError::Spawn {
            program: fprocess[0].clone(),
            source,
        })?;
        self.state.send_replace(State::Starting);
        // The monitor owns the child: it records the exit, or stops the process on request.
        let this = Arc::clone(self);
        tokio::spawn(async move {
            let how = tokio::select! {
                status = proc.wait() => match status {
                    Ok(s) => exit_text(s),
                    Err(e) => format!("wait failed: {e}"),
                },
                () = this.stop.notified() => {
                    proc.signal_group(Signal::SIGTERM);
                    match tokio::time::timeout(STOP_GRACE, proc.wait()).await {
                        Ok(Ok(s)) => format!("stopped ({})", exit_text(s)),
                        _ => {
                            proc.kill();
                            "killed".to_string()
                        }
                    }
                }
            };
            log!("Function process exited: {how}");
            this.state.send_replace(State::Exited(how));
        });
        loop {
            if let State::Exited(how) = self.state() {
                return Err(WatchdogError::UpstreamExited(how));
            }
            if tokio::net::TcpStream::connect(self.url.addr).await.is_ok() {
                self.state.send_if_modified(|s| {
                    let starting = *s == State::Starting;
                    if starting {
                        *s = State::Ready;
                    }
                    starting
                });
                log!("Upstream {} is ready", self.url.addr);
                return Ok(());
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Ask the process to stop (SIGTERM to its group, SIGKILL after a grace period).
    pub(crate) fn request_stop(&self) {
        self.stop.notify_one();
    }

    /// Proxy one request: method, path, raw query, headers (Host included) and body.
    pub(crate) async fn proxy(
        &self,
        config: &WatchdogConfig,
        parts: Parts,
        body: Body,
    ) -> (Response<Body>, Option<TokioInstant>) {
        let start = Instant::now();
        let mut limit = config.invocation_deadline();
        // of-watchdog honours X-Timeout when it does not exceed exec_timeout.
        if let Some(asked) = parts
            .headers
            .get("x-timeout")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| parse_duration(v).ok())
            .filter(|d| !d.is_zero())
        {
            if limit.is_none_or(|max| asked <= max) {
                limit = Some(asked);
            }
        }
        let deadline = limit.map(|d| TokioInstant::now() + d);

        let mut rx = self.state.subscribe();
        let state = until(deadline, async {
            rx.wait_for(|s| matches!(s, State::Ready | State::Exited(_)))
                .await
                .map(|s| s.clone())
        })
        .await;
        match state {
            None => {
                return (
                    internal(
                        StatusCode::SERVICE_UNAVAILABLE,
                        "the function's upstream process is not ready",
                    ),
                    None,
                );
            }
            Some(Err(_)) => {
                return (
                    internal(StatusCode::BAD_GATEWAY, "the watchdog is shutting down"),
                    None,
                );
            }
            Some(Ok(state)) => {
                if let State::Exited(how) = &state {
                    let message = format!("the function's process has exited ({how})");
                    return (internal(StatusCode::BAD_GATEWAY, message), None);
                }
            }
        }

        let path_and_query = parts.uri.path_and_query().map_or("/", |p| p.as_str());
        let uri = format!(
            "http://{}{}{}",
            self.url.addr, self.url.base_path, path_and_query
        );
        let mut request = Request::builder().method(parts.method).uri(uri);
        let headers = request.headers_mut().expect("builder has no error yet");
        *headers = parts.headers;
        strip_hop_by_hop(headers);
        let body = if config.buffer_http_body {
            match tokio::time::timeout(config.read_timeout, body.collect()).await {
                Ok(Ok(collected)) => {
                    let bytes = collected.to_bytes();
                    headers.insert(header::CONTENT_LENGTH, bytes.len().into());
                    Body::from(bytes)
                }
                Ok(Err(e)) => {
                    let message = format!("failed to read request body: {e}");
                    return (internal(StatusCode::BAD_REQUEST, message), None);
                }
                Err(_) => {
                    let message = "request body not received within read_timeout";
                    return (internal(StatusCode::REQUEST_TIMEOUT, message), None);
                }
            }
        } else {
            body
        };
        let request = match request.body(body) {
            Ok(r) => r,
            Err(e) => {
                let message = format!("cannot build the upstream request: {e}");
                return (internal(StatusCode::BAD_REQUEST, message), None);
            }
        };
        match until(deadline, self.client.request(request)).await {
            None => {
                let limit = limit.unwrap_or_default();
                log!("Upstream timed out after {limit:?}");
                let message = format!("the function did not answer within {limit:?}");
                (internal(StatusCode::GATEWAY_TIMEOUT, message), None)
            }
            Some(Err(e)) => {
                let message = format!("upstream {} failed: {}", self.url.addr, chain(&e));
                log!("{message}");
                (internal(StatusCode::BAD_GATEWAY, message), None)
            }
            Some(Ok(response)) => {
                let (mut head, incoming) = response.into_parts();
                strip_hop_by_hop(&mut head.headers);
                head.headers.insert(DURATION_HEADER, duration_value(start));
                (Response::from_parts(head, Body::new(incoming)), deadline)
            }
        }
    }
}
