//! What the suite runs against: a provider, its capabilities, the function to deploy for
//! invoke cases, and optionally the raw HTTP endpoint of the same provider.

use std::any::Any;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use faas_provider::{Capabilities, Provider};
use tokio::task::JoinHandle;

/// How the echo function's response body is decoded into an [`crate::Echo`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EchoFormat {
    /// The memory provider's answer: `200` with a JSON object
    /// `{"function","namespace","method","path","query","headers":{lowercase: value},"body"}`
    /// (`"bodyBase64"` instead of `"body"` when the body is not UTF-8).
    MemoryJson,
    /// A real function image whose output is the request's `Http_*` variables as sorted
    /// `KEY=VALUE` lines (`Http_Method`, `Http_Path`, `Http_Query`, `Http_<Header_Name>`...),
    /// one empty line, then the request body verbatim (the watchdog's `echo-request` test image).
    WatchdogEnv,
}

impl std::str::FromStr for EchoFormat {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        match text {
            "memory-json" => Ok(Self::MemoryJson),
            "watchdog-env" => Ok(Self::WatchdogEnv),
            other => Err(format!(
                "unknown echo format {other:?}: use memory-json or watchdog-env"
            )),
        }
    }
}

/// The function deployed by every case that invokes: an image answering with an echo of the
/// request, and how to read that echo.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EchoFunction {
    /// The image, sent verbatim as `image`.
    pub image: String,
    /// The `envProcess` to deploy with (empty for none).
    pub env_process: String,
    /// How its responses are decoded.
    pub format: EchoFormat,
}

impl EchoFunction {
    /// The memory provider's echo (any image name works there; this one says what it is).
    pub fn memory() -> Self {
        Self {
            image: "docker.io/openfaas/conformance-echo:latest".to_string(),
            env_process: String::new(),
            format: EchoFormat::MemoryJson,
        }
    }

    /// A watchdog image printing its `Http_*` environment then the body (`echo-request`).
    pub fn watchdog(image: impl Into<String>, env_process: impl Into<String>) -> Self {
        Self {
            image: image.into(),
            env_process: env_process.into(),
            format: EchoFormat::WatchdogEnv,
        }
    }
}

/// The function the runtime-effect cases deploy (the "runs code" capability): an image whose
/// process runs the request body as a POSIX shell script, in the environment the watchdog gives
/// it (`Http_Method`, `Http_Path`, `Http_Query`, the deployment's `envVars`...) and with its
/// output as the answer. Any image with a classic-style watchdog (`fprocess` read from the
/// environment, serializing mode: body on stdin, stdout as the answer) and `/bin/sh` works with
/// `envProcess` `sh`: this workspace's test images, or `ghcr.io/openfaas/alpine`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShellFunction {
    /// The image, sent verbatim as `image`.
    pub image: String,
    /// The `envProcess` that runs the body as a script (`sh`).
    pub env_process: String,
}

impl ShellFunction {
    /// `image` with `envProcess` `sh`.
    pub fn sh(image: impl Into<String>) -> Self {
        Self {
            image: image.into(),
            env_process: "sh".to_string(),
        }
    }
}

/// The provider's REST endpoint, for cases that check the wire itself (status codes, JSON
/// shapes, auth) with raw requests.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpTarget {
    /// Base URL without a trailing slash, e.g. `http://127.0.0.1:8080`.
    pub base_url: String,
    /// Basic-auth credentials `(user, password)` when the server requires them on `/system/*`.
    pub credentials: Option<(String, String)>,
}

impl HttpTarget {
    /// An endpoint without credentials.
    pub fn new(base_url: impl Into<String>) -> Self {
        Self {
            base_url: base_url.into().trim_end_matches('/').to_string(),
            credentials: None,
        }
    }

    /// The same endpoint with basic-auth credentials.
    pub fn with_credentials(
        mut self,
        user: impl Into<String>,
        password: impl Into<String>,
    ) -> Self {
        self.credentials = Some((user.into(), password.into()));
        self
    }
}

/// Bounds on waiting. Cases poll; they never sleep a fixed time, and these are only upper bounds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timeouts {
    /// Until a deployed or scaled function is ready (`availableReplicas > 0`) or reaches a
    /// replica count.
    pub ready: Duration,
    /// Until logs show a line, a count is updated, and similar eventually-true facts.
    pub eventually: Duration,
    /// One HTTP request (raw cases and invocations).
    pub request: Duration,
    /// A whole case, cleanup excluded.
    pub case: Duration,
}

impl Default for Timeouts {
    fn default() -> Self {
        Self {
            ready: Duration::from_secs(90),
            eventually: Duration::from_secs(30),
            request: Duration::from_secs(60),
            case: Duration::from_secs(300),
        }
    }
}

/// Everything a case needs.
#[derive(Clone)]
pub struct Target {
    /// The provider under test (in-process, or an `HttpProvider` for black-box runs).
    pub provider: Arc<dyn Provider>,
    /// What it supports: decides which cases must pass and which are skipped.
    pub caps: Capabilities,
    /// The function invoke cases deploy.
    pub echo: EchoFunction,
    /// The same provider's REST endpoint, enabling the raw-HTTP cases.
    pub http: Option<HttpTarget>,
    /// Upper bounds on polling.
    pub timeouts: Timeouts,
    /// The function the runtime-effect cases deploy; `Some` declares the "runs code"
    /// capability ([`crate::Gate::RunsCode`]).
    pub shell: Option<ShellFunction>,
    /// The provider wakes a function at zero replicas when it is invoked (the OpenFaaS
    /// gateway's `scale_from_zero`): the scale-to-zero cases then expect the invocation at 0
    /// replicas to answer, instead of 503.
    pub wakes_from_zero: bool,
    /// A case that skips although every gate it has holds is a failure (see [`crate::Gate`]).
    /// [`suite!`](crate::suite!) always runs strict.
    pub strict: bool,
    pub(crate) cleanup: Arc<CleanupTasks>,
    keep_alive: Arc<Mutex<Vec<Box<dyn Any + Send>>>>,
}

impl std::fmt::Debug for Target {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Target")
            .field("caps", &self.caps)
            .field("echo", &self.echo)
            .field("http", &self.http.as_ref().map(|h| &h.base_url))
            .field("timeouts", &self.timeouts)
            .field("shell", &self.shell)
            .field("wakes_from_zero", &self.wakes_from_zero)
            .field("strict", &self.strict)
            .finish_non_exhaustive()
    }
}

impl Target {
    /// A target over `provider` with capabilities `caps`, deploying `echo` for invoke cases.
    pub fn new(provider: Arc<dyn Provider>, caps: Capabilities, echo: EchoFunction) -> Self {
        Self {
            provider,
            caps,
            echo,
            http: None,
            timeouts: Timeouts::default(),
            shell: None,
            wakes_from_zero: false,
            strict: false,
            cleanup: Arc::default(),
            keep_alive: Arc::default(),
        }
    }

    /// A target over `provider`, with the capabilities it declares.
    pub fn from_provider(provider: Arc<dyn Provider>, echo: EchoFunction) -> Self {
        let caps = provider.capabilities();
        Self::new(provider, caps, echo)
    }

    /// Enables the raw-HTTP cases against `http` (the same provider's REST endpoint).
    pub fn with_http(mut self, http: HttpTarget) -> Self {
        self.http = Some(http);
        self
    }

    /// Replaces the polling bounds.
    pub fn with_timeouts(mut self, timeouts: Timeouts) -> Self {
        self.timeouts = timeouts;
        self
    }

    /// Declares that the provider runs code, with `shell` as the function the runtime-effect
    /// cases deploy.
    pub fn with_shell(mut self, shell: ShellFunction) -> Self {
        self.shell = Some(shell);
        self
    }

    /// Declares (or not) that invoking a function at zero replicas wakes it.
    pub fn with_wakes_from_zero(mut self, wakes: bool) -> Self {
        self.wakes_from_zero = wakes;
        self
    }

    /// Turns strict mode on or off.
    pub fn with_strict(mut self, strict: bool) -> Self {
        self.strict = strict;
        self
    }

    /// Keeps `value` alive as long as any clone of this target (a temporary directory, a server's
    /// shutdown sender...).
    pub fn keep_alive(self, value: impl Any + Send) -> Self {
        self.keep_alive
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(Box::new(value));
        self
    }

    /// Waits for every cleanup started by cases' guards (bounded by `timeouts.request` each).
    pub async fn settle(&self) {
        loop {
            let tasks = self.cleanup.take();
            if tasks.is_empty() {
                return;
            }
            for task in tasks {
                let _ = tokio::time::timeout(self.timeouts.request, task).await;
            }
        }
    }
}

/// Cleanup tasks spawned by dropped guards, awaited by the runner after each case.
#[derive(Default)]
pub(crate) struct CleanupTasks(Mutex<Vec<JoinHandle<()>>>);

impl CleanupTasks {
    pub(crate) fn push(&self, task: JoinHandle<()>) {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).push(task);
    }

    fn take(&self) -> Vec<JoinHandle<()>> {
        std::mem::take(&mut *self.0.lock().unwrap_or_else(|e| e.into_inner()))
    }
}
