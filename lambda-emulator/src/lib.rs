//! Run a packaged Lambda function (an extracted `provided.al2023` zip) locally, the way Lambda
//! does: a Runtime API emulator per execution environment plus the Invoke front end
//! (`POST /2015-03-31/functions/{name}/invocations` in Lambda's wire format, so aws-sdk-lambda
//! pointed at [`Emulator::invoke_url`] works).
//!
//! - Environments start lazily on the first invoke that needs one (the function's `bootstrap`
//!   with Lambda's environment), and are reused; several run at once up to the concurrency
//!   limit ([`EmulatorConfig::max_concurrency`], like reserved concurrency: `Some(0)` throttles
//!   every invoke, over the limit → 429 `TooManyRequestsException`).
//! - Init must reach the first `GET /next` within [`EmulatorConfig::init_timeout`]; an
//!   `/init/error`, an exit or the timeout → [`EmulatorError::InitFailed`] (HTTP 502); the next
//!   invoke tries again.
//! - The function timeout is enforced: past the deadline the sandbox is killed and the invoke
//!   answers a function error `Task timed out after N.00 seconds` (errorType `Sandbox.Timeout`);
//!   the environment restarts on the next invoke. A runtime exiting mid-invoke →
//!   `Runtime.ExitError`.
//! - Payloads: 6 MiB + 100 B each way for synchronous invokes (413 `RequestTooLargeException`
//!   for the request; `Function.ResponseSizeTooLarge` function error for the result), 1 MiB for
//!   `Event` invokes.
//! - Sandboxes: [`Sandbox::Process`] (a child process) or [`Sandbox::Docker`] (busybox-only
//!   image, task dir read-only at `/var/task`, tmpfs `/tmp`, non-root user, host network).
//!
//! Not implemented: `X-Amz-Log-Type: Tail` (no `X-Amz-Log-Result`), qualifiers other than
//! `$LATEST`, response streaming, extensions.

mod frontend;
mod runtime_api;
mod sandbox;
mod zipdir;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use tokio::sync::{oneshot, watch};

pub use runtime_api::{MAX_PAYLOAD_BYTES, Reply};
pub use sandbox::{CONTAINER_TASK_ROOT, DockerSandbox, Sandbox};
pub use zipdir::{MAX_UNZIPPED_BYTES, extract_zip};

use runtime_api::{Dispatch, RuntimeApiServer, Signal};
use sandbox::Running;

/// Largest `Event` (asynchronous) invoke payload.
pub const MAX_ASYNC_PAYLOAD_BYTES: usize = 1024 * 1024;

/// `X-Amz-Executed-Version` (only `$LATEST` exists here).
pub const LATEST: &str = "$LATEST";

/// Variables Lambda reserves: a function's own environment cannot set them (the provider
/// checks deployments against this list too).
pub const RESERVED_VARIABLES: &[&str] = &[
    "_HANDLER",
    "_X_AMZN_TRACE_ID",
    "AWS_DEFAULT_REGION",
    "AWS_REGION",
    "AWS_EXECUTION_ENV",
    "AWS_LAMBDA_FUNCTION_NAME",
    "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
    "AWS_LAMBDA_FUNCTION_VERSION",
    "AWS_LAMBDA_INITIALIZATION_TYPE",
    "AWS_LAMBDA_LOG_GROUP_NAME",
    "AWS_LAMBDA_LOG_STREAM_NAME",
    "AWS_ACCESS_KEY",
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_LAMBDA_RUNTIME_API",
    "AWS_XRAY_CONTEXT_MISSING",
    "AWS_XRAY_DAEMON_ADDRESS",
    "LAMBDA_TASK_ROOT",
    "LAMBDA_RUNTIME_DIR",
];

/// What to run and how.
#[derive(Debug, Clone)]
pub struct EmulatorConfig {
    /// The function name (`[A-Za-z0-9_-]`, ≤ 64), as used in the invoke path.
    pub function_name: String,
    /// The extracted zip: holds `bootstrap`.
    pub task_dir: PathBuf,
    /// Function timeout (1 s – 900 s in Lambda; any non-zero value here).
    pub timeout: Duration,
    /// `AWS_LAMBDA_FUNCTION_MEMORY_SIZE` (and the container memory limit), 128–10240.
    pub memory_mb: u32,
    /// The function's own environment variables (reserved names are refused).
    pub env: Vec<(String, String)>,
    /// Where `bootstrap` runs.
    pub sandbox: Sandbox,
    /// At most this many concurrent invocations (`None`: unlimited; `Some(0)`: throttle all).
    pub max_concurrency: Option<u32>,
    /// Time allowed from start to the runtime's first `GET /next`.
    pub init_timeout: Duration,
    /// Where the invoke front end listens (default `127.0.0.1:0`).
    pub bind: SocketAddr,
    /// `AWS_REGION` and the region in ARNs.
    pub region: String,
    /// The account id in ARNs.
    pub account_id: String,
}

impl EmulatorConfig {
    /// Defaults: timeout 3 s, 128 MB, process sandbox, no concurrency limit, init 10 s,
    /// `127.0.0.1:0`, `us-east-1`, account `000000000000`.
    pub fn new(function_name: impl Into<String>, task_dir: impl Into<PathBuf>) -> Self {
        EmulatorConfig {
            function_name: function_name.into(),
            task_dir: task_dir.into(),
            timeout: Duration::from_secs(3),
            memory_mb: 128,
            env: Vec::new(),
            sandbox: Sandbox::Process,
            max_concurrency: None,
            init_timeout: Duration::from_secs(10),
            bind: SocketAddr::from(([127, 0, 0, 1], 0)),
            region: "us-east-1".to_string(),
            account_id: "000000000000".to_string(),
        }
    }

    /// The function ARN.
    pub fn function_arn(&self) -> String {
        format!(
            "arn:aws:lambda:{}:{}:function:{}",
            self.region, self.account_id, self.function_name
        )
    }

    fn validate(&self) -> Result<(), EmulatorError> {
        let bad = |m: String| Err(EmulatorError::InvalidConfig(m));
        let name = &self.function_name;
        if name.is_empty()
            || name.len() > 64
            || !name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        {
            return bad(format!(
                "function name {name:?} must be 1-64 characters of [A-Za-z0-9_-]"
            ));
        }
        if self.timeout.is_zero() {
            return bad("the timeout must be positive".into());
        }
        if !(128..=10_240).contains(&self.memory_mb) {
            return bad(format!(
                "memory {} MB is outside 128-10240 MB",
                self.memory_mb
            ));
        }
        for (key, _) in &self.env {
            if RESERVED_VARIABLES.contains(&key.as_str()) {
                return bad(format!("{key} is a reserved Lambda variable"));
            }
            if key.is_empty() || key.contains('=') || key.contains('\0') {
                return bad(format!("invalid variable name {key:?}"));
            }
        }
        let bootstrap = self.task_dir.join("bootstrap");
        if !bootstrap.is_file() {
            return bad(format!(
                "{} does not exist: the task dir must hold the function's bootstrap",
                bootstrap.display()
            ));
        }
        Ok(())
    }
}

/// The answer to one invoke.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvokeResult {
    /// The result, or the error object when `function_error` is set.
    pub payload: Bytes,
    /// `X-Amz-Function-Error` (`Unhandled`) when the function failed.
    pub function_error: Option<String>,
    /// The Content-Type the runtime gave its result.
    pub content_type: Option<String>,
    /// `X-Amz-Executed-Version`.
    pub executed_version: String,
}

impl InvokeResult {
    fn success(payload: Bytes, content_type: Option<String>) -> Self {
        InvokeResult {
            payload,
            function_error: None,
            content_type,
            executed_version: LATEST.to_string(),
        }
    }

    fn error(error_type: &str, message: &str) -> Self {
        let body = serde_json::json!({"errorType": error_type, "errorMessage": message});
        Self::error_body(Bytes::from(body.to_string()))
    }

    fn error_body(payload: Bytes) -> Self {
        InvokeResult {
            payload,
            function_error: Some("Unhandled".to_string()),
            content_type: Some("application/json".to_string()),
            executed_version: LATEST.to_string(),
        }
    }
}

/// Why an invoke (or the emulator) failed as a platform error.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum EmulatorError {
    /// The configuration is unusable.
    #[error("invalid emulator configuration: {0}")]
    InvalidConfig(String),
    /// The payload is over the limit.
    #[error(
        "Request must be smaller than {limit} bytes for the InvokeFunction operation ({size} bytes sent)"
    )]
    PayloadTooLarge {
        /// The payload size.
        size: usize,
        /// The limit.
        limit: usize,
    },
    /// The concurrency limit is reached.
    #[error("Rate Exceeded: {inflight} concurrent invocations, limit {limit}")]
    Throttled {
        /// The limit.
        limit: u32,
        /// In flight when refused.
        inflight: u32,
    },
    /// The runtime failed to initialise.
    #[error("the function failed to initialise: {error_type}: {message}")]
    InitFailed {
        /// e.g. `Runtime.InvalidEntrypoint`, `Runtime.ExitError`.
        error_type: String,
        /// What happened.
        message: String,
    },
    /// A process could not be started.
    #[error("cannot start {what}: {source}")]
    Spawn {
        /// What.
        what: String,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
    /// A file operation failed.
    #[error("{what}: {source}")]
    Io {
        /// What was being done.
        what: String,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
    /// The Docker Engine refused.
    #[error("{what}: {source}")]
    Docker {
        /// What was being done.
        what: String,
        /// The engine error.
        #[source]
        source: bollard::errors::Error,
    },
    /// The zip cannot be extracted.
    #[error("invalid function zip: {0}")]
    Zip(String),
    /// The emulator is stopping.
    #[error("the emulator is stopping")]
    Stopped,
}

/// One execution environment: a Runtime API server and a sandbox, started lazily.
struct Environment {
    incarnation: Option<Incarnation>,
}

struct Incarnation {
    api: RuntimeApiServer,
    running: Running,
}

enum InitOutcome {
    Ready,
    InitError {
        error_type: Option<String>,
        body: Bytes,
    },
    Exited(String),
    TimedOut,
}

impl Environment {
    async fn reset(&mut self) {
        if let Some(mut inc) = self.incarnation.take() {
            inc.api.close();
            inc.running.kill().await;
        }
    }

    async fn ensure_started(&mut self, shared: &Shared) -> Result<(), EmulatorError> {
        if let Some(inc) = &self.incarnation {
            if inc.running.has_exited() {
                self.reset().await;
            }
        }
        if self.incarnation.is_some() {
            return Ok(());
        }
        let cfg = &shared.cfg;
        let api = RuntimeApiServer::start(cfg.function_arn())
            .await
            .map_err(|source| EmulatorError::Io {
                what: "binding the Runtime API on 127.0.0.1".into(),
                source,
            })?;
        let env = shared.lambda_env(api.addr());
        let running = Running::start(
            &cfg.sandbox,
            &cfg.function_name,
            &cfg.task_dir,
            &env,
            cfg.memory_mb,
        )
        .await?;
        let mut signals = api.signals();
        let outcome = tokio::select! {
            signal = signals.wait_for(|s| *s != Signal::Starting) => match signal.map(|s| s.clone()) {
                Ok(Signal::InitError { error_type, body }) => InitOutcome::InitError { error_type, body },
                _ => InitOutcome::Ready,
            },
            how = running.exited() => InitOutcome::Exited(how),
            () = tokio::time::sleep(cfg.init_timeout) => InitOutcome::TimedOut,
        };
        // An /init/error posted just before the exit wins over the exit.
        let outcome = match (outcome, signals.borrow().clone()) {
            (InitOutcome::Exited(_), Signal::InitError { error_type, body }) => {
                InitOutcome::InitError { error_type, body }
            }
            (outcome, _) => outcome,
        };
        let failure = match outcome {
            InitOutcome::Ready => {
                self.incarnation = Some(Incarnation { api, running });
                return Ok(());
            }
            InitOutcome::InitError { error_type, body } => {
                let (parsed_type, message) = parse_error_body(&body);
                EmulatorError::InitFailed {
                    error_type: error_type
                        .or(parsed_type)
                        .unwrap_or_else(|| "Runtime.Unknown".into()),
                    message,
                }
            }
            InitOutcome::Exited(how) => EmulatorError::InitFailed {
                error_type: "Runtime.ExitError".into(),
                message: format!("Runtime exited with error: {how}"),
            },
            InitOutcome::TimedOut => EmulatorError::InitFailed {
                error_type: "Sandbox.Timeout".into(),
                message: format!(
                    "the runtime did not ask for an event within {:.2} seconds",
                    cfg.init_timeout.as_secs_f64()
                ),
            },
        };
        let mut inc = Incarnation { api, running };
        inc.api.close();
        inc.running.kill().await;
        Err(failure)
    }

    async fn invoke(
        &mut self,
        shared: &Shared,
        payload: Bytes,
        client_context: Option<String>,
    ) -> Result<InvokeResult, EmulatorError> {
        let mut stopping = shared.stopping.subscribe();
        let already = *stopping.borrow();
        if already {
            return Err(EmulatorError::Stopped);
        }
        let started = tokio::select! {
            r = self.ensure_started(shared) => r,
            () = stopped(&mut stopping) => Err(EmulatorError::Stopped),
        };
        if let Err(e) = started {
            self.reset().await;
            return Err(e);
        }
        let timeout = shared.cfg.timeout;
        let request_id = uuid::Uuid::new_v4().to_string();
        let deadline = SystemTime::now() + timeout;
        let deadline_ms = deadline
            .duration_since(UNIX_EPOCH)
            .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
            .unwrap_or_default();
        let (reply_tx, reply_rx) = oneshot::channel();
        let dispatch = Dispatch {
            request_id: request_id.clone(),
            payload,
            deadline_ms,
            trace_id: trace_id(),
            client_context,
            reply: reply_tx,
        };
        let inc = self.incarnation.as_ref().expect("started above");
        let timer = tokio::time::sleep(timeout);
        tokio::pin!(timer);
        let mut stopping_later = stopping.clone();
        // `None`: stopping. `Some(Ok(result))`: answered, keep the environment.
        // `Some(Err(result))`: timeout or crash, reset the environment.
        let step: Option<Result<InvokeResult, InvokeResult>> = tokio::select! {
            sent = inc.api.dispatch(dispatch) => match sent {
                Ok(()) => tokio::select! {
                    reply = reply_rx => Some(match reply {
                        Ok(Reply::Response { body, content_type }) => {
                            Ok(InvokeResult::success(body, content_type))
                        }
                        Ok(Reply::Error { error_type, body }) => Ok(function_error(error_type, body)),
                        Err(_) => Err(exit_error(&request_id, "the invocation was abandoned")),
                    }),
                    how = inc.running.exited() => Some(Err(exit_error(&request_id, &how))),
                    () = &mut timer => Some(Err(timed_out(timeout))),
                    () = stopped(&mut stopping_later) => None,
                },
                Err(_) => Some(Err(exit_error(&request_id, "the Runtime API was closed"))),
            },
            how = inc.running.exited() => Some(Err(exit_error(&request_id, &how))),
            () = &mut timer => Some(Err(timed_out(timeout))),
            () = stopped(&mut stopping) => None,
        };
        let outcome = match step {
            Some(Ok(result)) => return Ok(result),
            Some(Err(result)) => result,
            None => {
                self.reset().await;
                return Err(EmulatorError::Stopped);
            }
        };
        // Timeout or crash: Lambda resets the environment; the next invoke starts a new one.
        self.reset().await;
        Ok(outcome)
    }
}

/// Resolves once the emulator is stopping.
async fn stopped(stopping: &mut watch::Receiver<bool>) {
    let _ = stopping.wait_for(|s| *s).await;
}

fn exit_error(request_id: &str, how: &str) -> InvokeResult {
    InvokeResult::error(
        "Runtime.ExitError",
        &format!("RequestId: {request_id} Error: Runtime exited with error: {how}"),
    )
}

fn timed_out(timeout: Duration) -> InvokeResult {
    InvokeResult::error(
        "Sandbox.Timeout",
        &format!("Task timed out after {:.2} seconds", timeout.as_secs_f64()),
    )
}

/// A function error reply: the runtime's body when it is there, else a synthesized object.
fn function_error(error_type: Option<String>, body: Bytes) -> InvokeResult {
    if body.iter().all(u8::is_ascii_whitespace) {
        InvokeResult::error(error_type.as_deref().unwrap_or("Unhandled"), "")
    } else {
        InvokeResult::error_body(body)
    }
}

/// `(errorType, errorMessage)` of an error body (the raw text when it is not the JSON form).
fn parse_error_body(body: &[u8]) -> (Option<String>, String) {
    let value: Option<serde_json::Value> = serde_json::from_slice(body).ok();
    let field = |name: &str| {
        value
            .as_ref()
            .and_then(|v| v.get(name))
            .and_then(|v| v.as_str())
            .map(str::to_string)
    };
    match field("errorMessage") {
        Some(message) => (field("errorType"), message),
        None => (
            field("errorType"),
            String::from_utf8_lossy(body).into_owned(),
        ),
    }
}

/// An X-Ray style trace header.
fn trace_id() -> String {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or_default();
    let a = uuid::Uuid::new_v4().simple().to_string();
    let b = uuid::Uuid::new_v4().simple().to_string();
    format!(
        "Root=1-{now:08x}-{};Parent={};Sampled=0",
        &a[..24],
        &b[..16]
    )
}

struct Shared {
    cfg: EmulatorConfig,
    idle: Mutex<Vec<Environment>>,
    inflight: AtomicU32,
    limit: Mutex<Option<u32>>,
    stopping: watch::Sender<bool>,
    stopped: AtomicBool,
}

/// Gives the concurrency slot back.
struct Slot<'a>(&'a AtomicU32);

impl Drop for Slot<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

impl Shared {
    fn task_root(&self) -> String {
        match self.cfg.sandbox {
            Sandbox::Process => self.cfg.task_dir.display().to_string(),
            Sandbox::Docker(_) => CONTAINER_TASK_ROOT.to_string(),
        }
    }

    /// The environment a runtime process gets (Lambda's, §1 of the docs) plus the function's.
    fn lambda_env(&self, api: SocketAddr) -> Vec<(String, String)> {
        let cfg = &self.cfg;
        let task_root = self.task_root();
        let runtime_dir = "/var/runtime";
        let stream = format!(
            "{}/[{LATEST}]{}",
            civil_date(),
            uuid::Uuid::new_v4().simple()
        );
        let mut env: Vec<(String, String)> = [
            ("AWS_LAMBDA_RUNTIME_API", api.to_string()),
            ("_HANDLER", "bootstrap".to_string()),
            ("LAMBDA_TASK_ROOT", task_root.clone()),
            ("LAMBDA_RUNTIME_DIR", runtime_dir.to_string()),
            ("AWS_LAMBDA_FUNCTION_NAME", cfg.function_name.clone()),
            ("AWS_LAMBDA_FUNCTION_VERSION", LATEST.to_string()),
            ("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", cfg.memory_mb.to_string()),
            (
                "AWS_LAMBDA_LOG_GROUP_NAME",
                format!("/aws/lambda/{}", cfg.function_name),
            ),
            ("AWS_LAMBDA_LOG_STREAM_NAME", stream),
            ("AWS_LAMBDA_INITIALIZATION_TYPE", "on-demand".to_string()),
            ("AWS_REGION", cfg.region.clone()),
            ("AWS_DEFAULT_REGION", cfg.region.clone()),
            ("TZ", ":UTC".to_string()),
            ("LANG", "en_US.UTF-8".to_string()),
            (
                "PATH",
                "/usr/local/bin:/usr/bin/:/bin:/opt/bin".to_string(),
            ),
            (
                "LD_LIBRARY_PATH",
                format!(
                    "/lib64:/usr/lib64:{runtime_dir}:{runtime_dir}/lib:{task_root}:{task_root}/lib:/opt/lib"
                ),
            ),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect();
        for (key, value) in &cfg.env {
            match env.iter_mut().find(|(k, _)| k == key) {
                Some(pair) => pair.1 = value.clone(),
                None => env.push((key.clone(), value.clone())),
            }
        }
        env
    }

    fn acquire(&self) -> Result<Slot<'_>, EmulatorError> {
        let limit = *self.limit.lock().unwrap_or_else(|e| e.into_inner());
        let mut current = self.inflight.load(Ordering::SeqCst);
        loop {
            if let Some(limit) = limit {
                if current >= limit {
                    return Err(EmulatorError::Throttled {
                        limit,
                        inflight: current,
                    });
                }
            }
            match self.inflight.compare_exchange(
                current,
                current + 1,
                Ordering::SeqCst,
                Ordering::SeqCst,
            ) {
                Ok(_) => return Ok(Slot(&self.inflight)),
                Err(actual) => current = actual,
            }
        }
    }

    async fn invoke(
        &self,
        payload: Bytes,
        client_context: Option<String>,
    ) -> Result<InvokeResult, EmulatorError> {
        if self.stopped.load(Ordering::SeqCst) {
            return Err(EmulatorError::Stopped);
        }
        if payload.len() > MAX_PAYLOAD_BYTES {
            return Err(EmulatorError::PayloadTooLarge {
                size: payload.len(),
                limit: MAX_PAYLOAD_BYTES,
            });
        }
        let _slot = self.acquire()?;
        let mut environment = self
            .idle
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .pop()
            .unwrap_or(Environment { incarnation: None });
        let result = environment.invoke(self, payload, client_context).await;
        if self.stopped.load(Ordering::SeqCst) {
            environment.reset().await;
        } else {
            self.idle
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .push(environment);
        }
        result
    }
}

/// `YYYY/MM/DD` (UTC) for log stream names.
fn civil_date() -> String {
    chrono::Utc::now().format("%Y/%m/%d").to_string()
}

/// A running emulator for one function.
pub struct Emulator {
    shared: Arc<Shared>,
    addr: SocketAddr,
    server: Option<(oneshot::Sender<()>, tokio::task::JoinHandle<()>)>,
}

impl std::fmt::Debug for Emulator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Emulator")
            .field("function", &self.shared.cfg.function_name)
            .field("addr", &self.addr)
            .finish_non_exhaustive()
    }
}

impl Emulator {
    /// Validate the configuration and serve the invoke front end (no sandbox starts yet).
    pub async fn start(cfg: EmulatorConfig) -> Result<Emulator, EmulatorError> {
        cfg.validate()?;
        let listener = tokio::net::TcpListener::bind(cfg.bind)
            .await
            .map_err(|source| EmulatorError::Io {
                what: format!("binding {}", cfg.bind),
                source,
            })?;
        let addr = listener.local_addr().map_err(|source| EmulatorError::Io {
            what: "reading the bound address".into(),
            source,
        })?;
        let limit = cfg.max_concurrency;
        let shared = Arc::new(Shared {
            cfg,
            idle: Mutex::new(Vec::new()),
            inflight: AtomicU32::new(0),
            limit: Mutex::new(limit),
            stopping: watch::Sender::new(false),
            stopped: AtomicBool::new(false),
        });
        let app = frontend::router(Arc::clone(&shared));
        let (stop_tx, stop_rx) = oneshot::channel::<()>();
        let server = tokio::spawn(async move {
            let _ = axum::serve(listener, app)
                .with_graceful_shutdown(async move {
                    let _ = stop_rx.await;
                })
                .await;
        });
        Ok(Emulator {
            shared,
            addr,
            server: Some((stop_tx, server)),
        })
    }

    /// The base URL of the invoke front end (`http://127.0.0.1:PORT`), usable as an aws-sdk
    /// `endpoint_url`.
    pub fn invoke_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The front end's address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The configuration in use.
    pub fn config(&self) -> &EmulatorConfig {
        &self.shared.cfg
    }

    /// Invoke synchronously, in process (same rules as the HTTP front end, minus its JSON check).
    pub async fn invoke(&self, payload: Bytes) -> Result<InvokeResult, EmulatorError> {
        self.shared.invoke(payload, None).await
    }

    /// Change the concurrency limit (`None` removes it; `Some(0)` throttles everything).
    pub fn set_concurrency(&self, limit: Option<u32>) {
        *self.shared.limit.lock().unwrap_or_else(|e| e.into_inner()) = limit;
    }

    /// Invocations in flight right now.
    pub fn inflight(&self) -> u32 {
        self.shared.inflight.load(Ordering::SeqCst)
    }

    /// Stop: refuse new invokes, kill every sandbox, stop the front end.
    pub async fn stop(mut self) {
        self.shutdown().await;
    }

    async fn shutdown(&mut self) {
        self.shared.stopped.store(true, Ordering::SeqCst);
        self.shared.stopping.send_replace(true);
        let idle: Vec<Environment> =
            std::mem::take(&mut *self.shared.idle.lock().unwrap_or_else(|e| e.into_inner()));
        for mut environment in idle {
            environment.reset().await;
        }
        // Busy environments see `stopping` and reset themselves.
        while self.shared.inflight.load(Ordering::SeqCst) > 0 {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        if let Some((stop, server)) = self.server.take() {
            let _ = stop.send(());
            let _ = server.await;
        }
    }
}

impl Drop for Emulator {
    fn drop(&mut self) {
        // Without `stop`, sandboxes still go: processes are killed on drop of their handles
        // (kill_on_drop) once their environments are dropped; containers are removed here.
        self.shared.stopped.store(true, Ordering::SeqCst);
        self.shared.stopping.send_replace(true);
        let idle: Vec<Environment> =
            std::mem::take(&mut *self.shared.idle.lock().unwrap_or_else(|e| e.into_inner()));
        if idle.is_empty() {
            return;
        }
        if let Ok(handle) = tokio::runtime::Handle::try_current() {
            handle.spawn(async move {
                for mut environment in idle {
                    environment.reset().await;
                }
            });
        }
        if let Some((stop, _)) = self.server.take() {
            let _ = stop.send(());
        }
    }
}

/// Extract `zip` into a fresh directory under `parent` (or the system temp dir) and return it:
/// a convenience for `--zip` and for tests. The directory is readable by everyone (0755) so a
/// non-root sandbox user can read it.
pub fn extract_zip_to_temp(
    zip: &Path,
    parent: Option<&Path>,
) -> Result<tempfile::TempDir, EmulatorError> {
    let builder = {
        let mut b = tempfile::Builder::new();
        b.prefix("faas-lambda-task-");
        b
    };
    let dir = match parent {
        Some(p) => builder.tempdir_in(p),
        None => builder.tempdir(),
    }
    .map_err(|source| EmulatorError::Io {
        what: "creating the task directory".into(),
        source,
    })?;
    extract_zip(zip, dir.path())?;
    Ok(dir)
}
