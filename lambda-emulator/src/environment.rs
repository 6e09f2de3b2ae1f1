//! One execution environment: a Runtime API server and a sandbox, started lazily (init must reach
//! the first `GET /next` in time), used for one invoke at a time, reset after a timeout or a
//! crash.

use std::time::{SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use tokio::sync::{oneshot, watch};

use crate::config::EmulatorConfig;
use crate::error::EmulatorError;
use crate::invoke_result::{InvokeResult, exit_error, function_error, parse_error_body, timed_out};
use crate::runtime_api::{Dispatch, Reply, RuntimeApiServer, Signal};
use crate::sandbox::Running;

/// One execution environment: a Runtime API server and a sandbox, started lazily.
pub(crate) struct Environment {
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
    /// An environment that starts on its first invoke.
    pub(crate) fn new() -> Self {
        Environment { incarnation: None }
    }

    /// True when its runtime is initialised and still running (waiting on `GET /next`).
    pub(crate) fn is_initialised(&self) -> bool {
        self.incarnation
            .as_ref()
            .is_some_and(|inc| !inc.running.has_exited())
    }

    /// Starts the runtime and waits for its init (the first `GET /next`) ahead of any invoke;
    /// on a failure nothing is left running.
    pub(crate) async fn initialise(
        &mut self,
        cfg: &EmulatorConfig,
        mut stopping: watch::Receiver<bool>,
    ) -> Result<(), EmulatorError> {
        let started = tokio::select! {
            r = self.ensure_started(cfg) => r,
            () = stopped(&mut stopping) => Err(EmulatorError::Stopped),
        };
        if started.is_err() {
            self.reset().await;
        }
        started
    }

    pub(crate) async fn reset(&mut self) {
        if let Some(mut inc) = self.incarnation.take() {
            inc.api.close();
            inc.running.kill().await;
        }
    }

    async fn ensure_started(&mut self, cfg: &EmulatorConfig) -> Result<(), EmulatorError> {
        if let Some(inc) = &self.incarnation {
            if inc.running.has_exited() {
                self.reset().await;
            }
        }
        if self.incarnation.is_some() {
            return Ok(());
        }
        let api = RuntimeApiServer::start(cfg.function_arn())
            .await
            .map_err(|source| EmulatorError::Io {
                what: "binding the Runtime API on 127.0.0.1".into(),
                source,
            })?;
        let env = cfg.lambda_env(api.addr());
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

    pub(crate) async fn invoke(
        &mut self,
        cfg: &EmulatorConfig,
        mut stopping: watch::Receiver<bool>,
        payload: Bytes,
        client_context: Option<String>,
    ) -> Result<InvokeResult, EmulatorError> {
        let already = *stopping.borrow();
        if already {
            return Err(EmulatorError::Stopped);
        }
        let started = tokio::select! {
            r = self.ensure_started(cfg) => r,
            () = stopped(&mut stopping) => Err(EmulatorError::Stopped),
        };
        if let Err(e) = started {
            self.reset().await;
            return Err(e);
        }
        let timeout = cfg.timeout;
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
