//! The Lambda Runtime API client loop: `GET /next` → run the function through the watchdog
//! executor → exactly one `POST /response` or `/error` per request id → `GET /next` again.
//!
//! - `AWS_LAMBDA_RUNTIME_API` is `host:port` (Lambda, RIE) or `http://host:port/prefix`
//!   (cargo-lambda); `localhost` means 127.0.0.1 (no resolver is needed in the static binary).
//! - `GET /next` has no client timeout (a sandbox may be frozen for a long time).
//! - At init, before the function starts: the provider's reserved variables `OPENFAAS_SECRETS`
//!   (secrets written to files) and `OPENFAAS_ENV` are applied and removed ([`crate::reserved`]).
//! - Init failure (no launch spec, program missing, malformed reserved variable, http-mode
//!   server not starting) → `POST /runtime/init/error` and exit. A 500 from any endpoint, or
//!   the Runtime API going away, → exit. In http mode the function's server exiting → exit
//!   (Lambda resets the sandbox).
//! - Per invocation: `Lambda-Runtime-Trace-Id` → `_X_AMZN_TRACE_ID` in the function process's
//!   environment (fork modes); `Lambda-Runtime-Deadline-Ms` bounds the call: past it the
//!   invocation is dropped (which kills its process) and reported as `Sandbox.Timeout`. A value
//!   too small to be an epoch time is a duration from the event's arrival ([`deadline_of`];
//!   cargo-lambda sends `600000`).
//! - An API Gateway v2 / Function URL event becomes an HTTP request; the function's HTTP answer
//!   (any status) becomes the v2 response JSON. Any other payload is POSTed raw to `/` with the
//!   event's Content-Type; a 2xx answer's body is the raw result (its Content-Type propagated),
//!   anything else is an `/error`: `Runtime.ExitError` (fork modes, 500: the process failed),
//!   `Function.ExecTimeout` (504: the image's `exec_timeout`), `Function.HttpError` (other).
//! - Results over 6 MiB + 100 B are reported as `Function.ResponseSizeTooLarge`.
//! - Middlewares (`SLSMIDDLEWARES`, see the `middleware` crate; found in the image's rootfs,
//!   [`launch::middlewares`]): the event as received (API Gateway v2 event or raw payload) goes
//!   through the `before` hooks in list order, the result (for HTTP events the API Gateway v2
//!   response object) through the `after` hooks in reverse order, then is posted as
//!   `application/json`. A failing hook → `Middleware.Failed` with its name and the first 4 KB
//!   of its stderr (after a failed `before` the function does not run); the hooks share the
//!   invocation's deadline, less [`HOOK_DEADLINE_MARGIN`]. A missing or non-executable
//!   middleware → an init error naming it.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use http::header::CONTENT_TYPE;
use http::{HeaderValue, Method, Request, StatusCode};
use http_body_util::{BodyExt, Full, Limited};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use middleware::{HookError, Pipeline};
use watchdog::{Body, Mode, ProcessEnv, Watchdog, WatchdogConfig, WatchdogError};

use crate::event::{HttpEvent, event_response_from, request_from_event};
use crate::launch::{self, LaunchError};
use crate::reserved;

/// The Runtime API version prefix.
pub const API_VERSION: &str = "2018-06-01";

/// Largest result accepted by Lambda for a buffered invoke (the RIE's exact limit).
pub const MAX_RESPONSE_BYTES: usize = 6 * 1024 * 1024 + 100;

pub use crate::report::{ErrorReport, RUNTIME_API_ENV, RuntimeError};

const REQUEST_ID: &str = "lambda-runtime-aws-request-id";
const DEADLINE: &str = "lambda-runtime-deadline-ms";
const TRACE_ID: &str = "lambda-runtime-trace-id";
const FUNCTION_ARN: &str = "lambda-runtime-invoked-function-arn";
const ERROR_TYPE: &str = "lambda-runtime-function-error-type";

/// One event from `GET /next`.
#[derive(Debug, Clone)]
pub struct Invocation {
    /// `Lambda-Runtime-Aws-Request-Id`.
    pub request_id: String,
    /// `Lambda-Runtime-Deadline-Ms` (Unix epoch ms).
    pub deadline_ms: Option<u64>,
    /// `Lambda-Runtime-Trace-Id`.
    pub trace_id: Option<String>,
    /// `Lambda-Runtime-Invoked-Function-Arn`.
    pub function_arn: Option<String>,
    /// The event's Content-Type.
    pub content_type: Option<String>,
    /// The event payload.
    pub payload: Bytes,
    /// When the event was received (for the timeout message).
    pub received_at: SystemTime,
}

/// A client of one Runtime API endpoint.
#[derive(Clone)]
pub struct RuntimeApi {
    client: Client<HttpConnector, Full<Bytes>>,
    base: String,
}

impl std::fmt::Debug for RuntimeApi {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RuntimeApi")
            .field("base", &self.base)
            .finish()
    }
}

impl RuntimeApi {
    /// Parse `host:port` or `http://host:port[/prefix]`.
    pub fn new(value: &str) -> Result<Self, RuntimeError> {
        let bad = |reason| RuntimeError::InvalidEndpoint {
            value: value.to_string(),
            reason,
        };
        let trimmed = value.trim();
        if trimmed.starts_with("https://") {
            return Err(bad("https is not supported"));
        }
        let rest = trimmed.strip_prefix("http://").unwrap_or(trimmed);
        let (authority, prefix) = match rest.find('/') {
            Some(i) => (&rest[..i], rest[i..].trim_end_matches('/')),
            None => (rest, ""),
        };
        if authority.is_empty() {
            return Err(bad("no host:port"));
        }
        if prefix.contains(['?', '#']) {
            return Err(bad("must not contain a query or fragment"));
        }
        let (host, port) = authority
            .rsplit_once(':')
            .ok_or_else(|| bad("an explicit port is required"))?;
        if host.is_empty() {
            return Err(bad("no host"));
        }
        port.parse::<u16>().map_err(|_| bad("invalid port"))?;
        let host = if host.eq_ignore_ascii_case("localhost") {
            "127.0.0.1"
        } else {
            host
        };
        let base = format!("http://{host}:{port}{prefix}/{API_VERSION}/runtime");
        base.parse::<http::Uri>()
            .map_err(|_| bad("not a valid URL"))?;
        let mut connector = HttpConnector::new();
        connector.set_nodelay(true);
        let client = Client::builder(TokioExecutor::new()).build(connector);
        Ok(RuntimeApi { client, base })
    }

    /// The base URL of the runtime calls (`http://host:port[/prefix]/2018-06-01/runtime`).
    pub fn base_url(&self) -> &str {
        &self.base
    }

    async fn call(
        &self,
        what: &'static str,
        method: Method,
        path: &str,
        headers: &[(&str, &str)],
        body: Bytes,
    ) -> Result<http::Response<Bytes>, RuntimeError> {
        let http_err = |message: String| RuntimeError::Http { what, message };
        let mut builder = Request::builder()
            .method(method)
            .uri(format!("{}{path}", self.base));
        for (name, value) in headers {
            builder = builder.header(*name, *value);
        }
        let request = builder
            .body(Full::new(body))
            .map_err(|e| http_err(e.to_string()))?;
        let response = self
            .client
            .request(request)
            .await
            .map_err(|e| http_err(faas_provider::error::chain(&e)))?;
        let (parts, body) = response.into_parts();
        let body = body
            .collect()
            .await
            .map_err(|e| http_err(e.to_string()))?
            .to_bytes();
        Ok(http::Response::from_parts(parts, body))
    }

    /// Long-poll the next event (no timeout).
    pub async fn next(&self) -> Result<Invocation, RuntimeError> {
        let response = self
            .call(
                "GET /next",
                Method::GET,
                "/invocation/next",
                &[],
                Bytes::new(),
            )
            .await?;
        let received_at = SystemTime::now();
        if response.status() != StatusCode::OK {
            return Err(status_error("GET /next", &response));
        }
        let header = |name: &str| {
            response
                .headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_string)
        };
        let request_id = header(REQUEST_ID)
            .filter(|id| !id.is_empty())
            .ok_or(RuntimeError::NoRequestId)?;
        Ok(Invocation {
            request_id,
            deadline_ms: header(DEADLINE).and_then(|v| v.trim().parse().ok()),
            trace_id: header(TRACE_ID),
            function_arn: header(FUNCTION_ARN),
            content_type: header(CONTENT_TYPE.as_str()),
            payload: response.into_body(),
            received_at,
        })
    }

    /// `POST /invocation/{id}/response`.
    pub async fn respond(
        &self,
        request_id: &str,
        body: Bytes,
        content_type: Option<&str>,
    ) -> Result<(), RuntimeError> {
        let path = format!("/invocation/{}/response", encode_id(request_id));
        let headers: Vec<(&str, &str)> = content_type
            .map(|ct| vec![(CONTENT_TYPE.as_str(), ct)])
            .unwrap_or_default();
        let response = self
            .call("POST /response", Method::POST, &path, &headers, body)
            .await?;
        accepted("POST /response", &response)
    }

    /// `POST /invocation/{id}/error`.
    pub async fn fail(&self, request_id: &str, report: &ErrorReport) -> Result<(), RuntimeError> {
        let path = format!("/invocation/{}/error", encode_id(request_id));
        self.post_error("POST /error", &path, report).await
    }

    /// `POST /init/error`.
    pub async fn init_error(&self, report: &ErrorReport) -> Result<(), RuntimeError> {
        self.post_error("POST /init/error", "/init/error", report)
            .await
    }

    async fn post_error(
        &self,
        what: &'static str,
        path: &str,
        report: &ErrorReport,
    ) -> Result<(), RuntimeError> {
        let body = serde_json::to_vec(report).expect("an ErrorReport serializes");
        let response = self
            .call(
                what,
                Method::POST,
                path,
                &[
                    (CONTENT_TYPE.as_str(), "application/json"),
                    (ERROR_TYPE, report.error_type.as_str()),
                ],
                Bytes::from(body),
            )
            .await?;
        accepted(what, &response)
    }
}

fn status_error(what: &'static str, response: &http::Response<Bytes>) -> RuntimeError {
    let body = String::from_utf8_lossy(&response.body()[..response.body().len().min(1024)]);
    RuntimeError::Status {
        what,
        status: response.status(),
        body: body.into_owned(),
    }
}

fn accepted(what: &'static str, response: &http::Response<Bytes>) -> Result<(), RuntimeError> {
    if response.status().is_success() {
        Ok(())
    } else {
        Err(status_error(what, response))
    }
}

/// Percent-encode a request id for a path segment (ids are UUIDs; anything else is escaped:
/// everything but RFC 3986's unreserved characters).
fn encode_id(id: &str) -> String {
    faas_provider::encoding::percent_encode(id)
}

/// What one invocation produced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// `POST /response` with this body.
    Response {
        /// The result payload.
        body: Bytes,
        /// Its Content-Type.
        content_type: Option<String>,
    },
    /// `POST /error` with this report.
    Error(ErrorReport),
}

/// The `errorType` of a failed middleware hook.
pub const MIDDLEWARE_FAILED: &str = "Middleware.Failed";

/// Hooks are stopped this long before the invocation's deadline, so their failure is reported
/// before Lambda's own timeout freezes the sandbox.
pub const HOOK_DEADLINE_MARGIN: Duration = Duration::from_millis(250);

/// The function: the watchdog executor configured for the relocated image, and the
/// middlewares run around it.
#[derive(Debug, Clone)]
pub struct Function {
    watchdog: Watchdog,
    middlewares: Option<Arc<Pipeline>>,
}

fn middleware_failed(error: &HookError) -> Outcome {
    Outcome::Error(ErrorReport::new(MIDDLEWARE_FAILED, error.to_string()))
}

fn too_large() -> Outcome {
    Outcome::Error(ErrorReport::new(
        "Function.ResponseSizeTooLarge",
        format!(
            "Response payload size exceeded maximum allowed payload size ({MAX_RESPONSE_BYTES} bytes)."
        ),
    ))
}

impl Function {
    /// Validate the configuration (nothing is started). The middlewares of `config` are taken
    /// out of the watchdog's hands: they run here, around the Lambda event, as the executables
    /// `middleware_dir/NAME` (see [`Function::with_middlewares`] for relocated ones).
    pub fn new(mut config: WatchdogConfig) -> Result<Self, WatchdogError> {
        let names = std::mem::take(&mut config.middlewares);
        let middlewares = if names.is_empty() {
            None
        } else {
            let pipeline = Pipeline::in_dir(&config.middleware_dir, &names)?
                .with_env(config.process_env.clone())
                .with_working_dir(config.working_dir.clone());
            Some(Arc::new(pipeline))
        };
        Ok(Function {
            watchdog: Watchdog::new(config)?,
            middlewares,
        })
    }

    /// Run these middlewares around each invocation instead (`None`: none).
    pub fn with_middlewares(mut self, pipeline: Option<Pipeline>) -> Self {
        self.middlewares = pipeline.filter(|p| !p.is_empty()).map(Arc::new);
        self
    }

    /// Check the middlewares (each exists and is executable); http mode: start the function's
    /// server and wait until it accepts connections.
    pub async fn start(&self) -> Result<(), WatchdogError> {
        if let Some(pipeline) = &self.middlewares {
            pipeline.check()?;
        }
        self.watchdog.start().await
    }

    /// http mode: stop the server.
    pub async fn stop(&self) {
        self.watchdog.stop().await;
    }

    /// Resolves when the http-mode server exits (never in fork modes).
    pub async fn process_exited(&self) -> String {
        self.watchdog.process_exited().await
    }

    /// Run one invocation through the middlewares (if any) and the function, bounded by its
    /// deadline.
    pub async fn invoke(&self, invocation: &Invocation) -> Outcome {
        let deadline = invocation
            .deadline_ms
            .map(|ms| deadline_of(ms, invocation.received_at));
        let Some(pipeline) = &self.middlewares else {
            return self.invoke_bounded(invocation, deadline).await;
        };
        let hooks_deadline = deadline.map(|d| {
            let remaining = d.duration_since(SystemTime::now()).unwrap_or_default();
            tokio::time::Instant::now() + remaining.saturating_sub(HOOK_DEADLINE_MARGIN)
        });
        let payload = match pipeline
            .before(invocation.payload.clone(), hooks_deadline)
            .await
        {
            Ok(payload) => payload,
            Err(e) => return middleware_failed(&e),
        };
        let rewritten = Invocation {
            payload,
            ..invocation.clone()
        };
        match self.invoke_bounded(&rewritten, deadline).await {
            Outcome::Response { body, .. } => match pipeline.after(body, hooks_deadline).await {
                Ok(body) if body.len() > MAX_RESPONSE_BYTES => too_large(),
                Ok(body) => Outcome::Response {
                    body,
                    content_type: Some("application/json".to_string()),
                },
                Err(e) => middleware_failed(&e),
            },
            error => error,
        }
    }

    async fn invoke_bounded(
        &self,
        invocation: &Invocation,
        deadline: Option<SystemTime>,
    ) -> Outcome {
        let Some(deadline) = deadline else {
            return self.invoke_unbounded(invocation).await;
        };
        let remaining = deadline
            .duration_since(SystemTime::now())
            .unwrap_or_default();
        match tokio::time::timeout(remaining, self.invoke_unbounded(invocation)).await {
            Ok(outcome) => outcome,
            Err(_) => {
                // Dropping the invocation killed its process (fork modes).
                let allowed = deadline
                    .duration_since(invocation.received_at)
                    .unwrap_or_default();
                Outcome::Error(ErrorReport::new(
                    "Sandbox.Timeout",
                    format!("Task timed out after {:.2} seconds", allowed.as_secs_f64()),
                ))
            }
        }
    }

    async fn invoke_unbounded(&self, invocation: &Invocation) -> Outcome {
        let trace = invocation
            .trace_id
            .as_ref()
            .map(|t| ProcessEnv(vec![("_X_AMZN_TRACE_ID".to_string(), t.clone())]));
        if let Some(event) = HttpEvent::detect(&invocation.payload) {
            let request = match request_from_event(event) {
                Ok(r) => r,
                Err(e) => {
                    return Outcome::Error(ErrorReport::new(
                        "Runtime.InvalidEvent",
                        format!("the API Gateway v2 event cannot become an HTTP request: {e}"),
                    ));
                }
            };
            let mut request = request.map(Body::from);
            if let Some(trace) = trace {
                request.extensions_mut().insert(trace);
            }
            let response = self.watchdog.handle(request).await;
            let (parts, body) = response.into_parts();
            let body = match collect_limited(body).await {
                Ok(b) => b,
                Err(outcome) => return outcome,
            };
            let event_response = event_response_from(parts, &body);
            let json = serde_json::to_vec(&event_response).expect("a response serializes");
            if json.len() > MAX_RESPONSE_BYTES {
                return too_large();
            }
            return Outcome::Response {
                body: Bytes::from(json),
                content_type: Some("application/json".to_string()),
            };
        }
        let content_type = invocation
            .content_type
            .as_deref()
            .and_then(|ct| HeaderValue::from_str(ct).ok())
            .unwrap_or_else(|| HeaderValue::from_static("application/json"));
        let mut request = Request::post("/")
            .header(CONTENT_TYPE, content_type)
            .body(Body::from(invocation.payload.clone()))
            .expect("a static request is valid");
        if let Some(trace) = trace {
            request.extensions_mut().insert(trace);
        }
        let response = self.watchdog.handle(request).await;
        let (parts, body) = response.into_parts();
        let body = match collect_limited(body).await {
            Ok(b) => b,
            Err(outcome) => return outcome,
        };
        if parts.status.is_success() {
            return Outcome::Response {
                body,
                content_type: parts
                    .headers
                    .get(CONTENT_TYPE)
                    .and_then(|v| v.to_str().ok())
                    .map(str::to_string),
            };
        }
        let mode = self.watchdog.config().mode;
        let error_type = match parts.status {
            StatusCode::INTERNAL_SERVER_ERROR if mode != Mode::Http => "Runtime.ExitError",
            StatusCode::GATEWAY_TIMEOUT => "Function.ExecTimeout",
            _ => "Function.HttpError",
        };
        let text = String::from_utf8_lossy(&body[..body.len().min(4096)]);
        Outcome::Error(ErrorReport::new(
            error_type,
            format!(
                "the function answered {}: {}",
                parts.status,
                text.trim_end()
            ),
        ))
    }
}

/// Deadlines below this many epoch milliseconds (2001-09-09) cannot be absolute: cargo-lambda
/// sends the function timeout itself (`600000`), which is read as relative to the event's
/// arrival.
pub const RELATIVE_DEADLINE_CUTOFF_MS: u64 = 1_000_000_000_000;

/// The instant a `Lambda-Runtime-Deadline-Ms` value designates.
pub fn deadline_of(deadline_ms: u64, received_at: SystemTime) -> SystemTime {
    if deadline_ms < RELATIVE_DEADLINE_CUTOFF_MS {
        received_at + Duration::from_millis(deadline_ms)
    } else {
        UNIX_EPOCH + Duration::from_millis(deadline_ms)
    }
}

async fn collect_limited(body: Body) -> Result<Bytes, Outcome> {
    match Limited::new(body, MAX_RESPONSE_BYTES).collect().await {
        Ok(collected) => Ok(collected.to_bytes()),
        Err(e) if e.is::<http_body_util::LengthLimitError>() => Err(too_large()),
        Err(e) => Err(Outcome::Error(ErrorReport::new(
            "Runtime.ExitError",
            format!("the function's output broke off: {e}"),
        ))),
    }
}

/// Initialise from the packaged image: read the launch spec under `task_root`, apply the
/// provider's reserved variables (write the secrets, expand `OPENFAAS_ENV`: see
/// [`reserved`]), relocate, start (http mode). The error is what goes to
/// `/runtime/init/error`.
pub async fn init(
    task_root: &std::path::Path,
    lambda_env: &[(String, String)],
) -> Result<Function, ErrorReport> {
    let report = |e: LaunchError| ErrorReport::new(e.error_type(), e.to_string());
    let spec = launch::load_spec(task_root).map_err(report)?;
    let lambda_env = reserved::apply(&spec, lambda_env)
        .map_err(|e| ErrorReport::new(e.error_type(), e.to_string()))?;
    let mut config = launch::prepare(task_root, &spec, &lambda_env).map_err(report)?;
    let middlewares = launch::middlewares(task_root, &spec, &mut config).map_err(report)?;
    let function = Function::new(config)
        .map_err(|e| ErrorReport::new("Runtime.InitError", e.to_string()))?
        .with_middlewares(middlewares);
    function.start().await.map_err(|e| {
        let kind = match e {
            WatchdogError::Spawn { .. } => "Runtime.InvalidEntrypoint",
            WatchdogError::Middleware(_) => "Runtime.InitError",
            _ => "Runtime.ExitError",
        };
        ErrorReport::new(kind, e.to_string())
    })?;
    Ok(function)
}

/// Serve invocations until a fatal error. Never returns `Ok`.
pub async fn run(api: &RuntimeApi, function: &Function) -> Result<(), RuntimeError> {
    loop {
        let invocation = tokio::select! {
            next = api.next() => next?,
            how = function.process_exited() => return Err(RuntimeError::ProcessExited(how)),
        };
        let outcome = function.invoke(&invocation).await;
        let sent = match &outcome {
            Outcome::Response { body, content_type } => {
                api.respond(
                    &invocation.request_id,
                    body.clone(),
                    content_type.as_deref(),
                )
                .await
            }
            Outcome::Error(report) => {
                eprintln!(
                    "bootstrap: invocation {} failed: {}: {}",
                    invocation.request_id, report.error_type, report.error_message
                );
                api.fail(&invocation.request_id, report).await
            }
        };
        if let Err(e) = sent {
            if e.is_fatal() {
                return Err(e);
            }
            eprintln!("bootstrap: {e}");
        }
    }
}

/// The task root: `LAMBDA_TASK_ROOT`, else the directory of this executable.
pub fn task_root(lambda_env: &[(String, String)]) -> PathBuf {
    lambda_env
        .iter()
        .find(|(k, _)| k == "LAMBDA_TASK_ROOT")
        .map(|(_, v)| PathBuf::from(v))
        .filter(|p| !p.as_os_str().is_empty())
        .or_else(|| {
            std::env::current_exe()
                .ok()
                .and_then(|p| p.parent().map(|d| d.to_path_buf()))
        })
        .unwrap_or_else(|| PathBuf::from("/var/task"))
}

/// The bootstrap: read the environment, init (reporting failure to `/init/error`), serve.
pub async fn main_from_env() -> Result<(), RuntimeError> {
    let endpoint = std::env::var(RUNTIME_API_ENV).map_err(|_| RuntimeError::MissingEndpoint)?;
    let api = RuntimeApi::new(&endpoint)?;
    let lambda_env: Vec<(String, String)> = std::env::vars().collect();
    let root = task_root(&lambda_env);
    let function = match init(&root, &lambda_env).await {
        Ok(f) => f,
        Err(report) => {
            if let Err(e) = api.init_error(&report).await {
                eprintln!("bootstrap: reporting the init error failed: {e}");
            }
            return Err(RuntimeError::Init {
                error_type: report.error_type,
                message: report.error_message,
            });
        }
    };
    let result = run(&api, &function).await;
    function.stop().await;
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints() {
        assert_eq!(
            RuntimeApi::new("127.0.0.1:9001").unwrap().base_url(),
            "http://127.0.0.1:9001/2018-06-01/runtime"
        );
        assert_eq!(
            RuntimeApi::new("http://127.0.0.1:9001/.rt")
                .unwrap()
                .base_url(),
            "http://127.0.0.1:9001/.rt/2018-06-01/runtime"
        );
        assert_eq!(
            RuntimeApi::new("http://localhost:9001/")
                .unwrap()
                .base_url(),
            "http://127.0.0.1:9001/2018-06-01/runtime"
        );
        assert_eq!(
            RuntimeApi::new("[::1]:9001").unwrap().base_url(),
            "http://[::1]:9001/2018-06-01/runtime"
        );
        for bad in [
            "",
            "127.0.0.1",
            "https://127.0.0.1:1",
            "h:port",
            "http://:1/x?y",
        ] {
            assert!(RuntimeApi::new(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn deadlines_absolute_and_relative() {
        let now = SystemTime::now();
        let absolute = 1_900_000_000_000;
        assert_eq!(
            deadline_of(absolute, now),
            UNIX_EPOCH + Duration::from_millis(absolute)
        );
        assert_eq!(deadline_of(600_000, now), now + Duration::from_secs(600));
    }

    #[test]
    fn request_ids_are_path_safe() {
        assert_eq!(
            encode_id("8476a536-e9f4-11e8-9739-2dfe598c3fcd"),
            "8476a536-e9f4-11e8-9739-2dfe598c3fcd"
        );
        assert_eq!(encode_id("a/../b c"), "a%2F..%2Fb%20c");
    }
}
