//! Fork modes: one `fprocess` per request (serializing = classic, streaming = of-watchdog default).

use std::io;
use std::os::unix::process::ExitStatusExt;
use std::process::{ExitStatus, Stdio};
use std::time::{Duration, Instant};

use bytes::{Bytes, BytesMut};
use futures::StreamExt;
use http::header::CONTENT_TYPE;
use http::request::Parts;
use http::{HeaderValue, Response, StatusCode};
use http_body_util::BodyExt;
use nix::sys::signal::{Signal, killpg};
use nix::unistd::Pid;
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::process::{Child, ChildStdin, Command};
use tokio::task::JoinHandle;
use tokio::time::Instant as TokioInstant;

use crate::Body;
use crate::body::{DURATION_HEADER, duration_value, text};
use crate::cgi::http_env;
use crate::config::{ProcessEnv, WatchdogConfig};
use crate::log::log;

/// Keep at most this much of a process's stderr for the error response.
const STDERR_TAIL: usize = 64 * 1024;

/// A spawned function process in its own process group; killed (group included) when dropped
/// before it was reaped.
pub(crate) struct Proc {
    pub(crate) child: Child,
    pgid: Option<Pid>,
    reaped: bool,
}

impl Proc {
    pub(crate) fn spawn(mut command: Command) -> io::Result<Proc> {
        command.kill_on_drop(true).process_group(0);
        let child = command.spawn()?;
        // `command` (and the pipe ends it holds) is dropped here, so readers see EOF when the
        // child closes its side.
        let pgid = child
            .id()
            .and_then(|id| i32::try_from(id).ok())
            .map(Pid::from_raw);
        Ok(Proc {
            child,
            pgid,
            reaped: false,
        })
    }

    pub(crate) fn signal_group(&self, signal: Signal) {
        if let Some(pgid) = self.pgid {
            let _ = killpg(pgid, signal);
        }
    }

    pub(crate) fn kill(&mut self) {
        if !self.reaped {
            self.signal_group(Signal::SIGKILL);
            let _ = self.child.start_kill();
        }
    }

    pub(crate) async fn wait(&mut self) -> io::Result<ExitStatus> {
        let status = self.child.wait().await?;
        self.reaped = true;
        Ok(status)
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Go's `ExitError.Error()`: `exit status 1`, `signal: SIGKILL`.
pub(crate) fn exit_text(status: ExitStatus) -> String {
    match (status.code(), status.signal()) {
        (Some(code), _) => format!("exit status {code}"),
        (None, Some(signal)) => match Signal::try_from(signal) {
            Ok(s) => format!("signal: {}", s.as_str()),
            Err(_) => format!("signal: {signal}"),
        },
        _ => status.to_string(),
    }
}

/// Run `fut` until `deadline` (if any); `None` when the deadline passed first.
pub(crate) async fn until<F: std::future::Future>(
    deadline: Option<TokioInstant>,
    fut: F,
) -> Option<F::Output> {
    match deadline {
        Some(d) => tokio::time::timeout_at(d, fut).await.ok(),
        None => Some(fut.await),
    }
}

/// The function's command as configured (program, arguments, environment, working directory,
/// `argv[0]`), without the per-request variables.
pub(crate) fn base_command(config: &WatchdogConfig) -> Command {
    let mut command = Command::new(&config.fprocess[0]);
    command.args(&config.fprocess[1..]);
    if let Some(env) = &config.process_env {
        command.env_clear();
        command.envs(env.iter().map(|(k, v)| (k, v)));
    }
    if let Some(dir) = &config.working_dir {
        command.current_dir(dir);
    }
    if let Some(argv0) = &config.argv0 {
        command.arg0(argv0);
    }
    command
}

fn command(config: &WatchdogConfig, parts: &Parts) -> Command {
    let mut command = base_command(config);
    if config.cgi_headers {
        command.envs(http_env(parts));
    }
    if let Some(ProcessEnv(extra)) = parts.extensions.get::<ProcessEnv>() {
        command.envs(extra.iter().map(|(k, v)| (k, v)));
    }
    command
}

fn content_type(config: &WatchdogConfig, parts: &Parts) -> Option<HeaderValue> {
    match &config.content_type {
        Some(ct) => HeaderValue::from_str(ct).ok(),
        None => parts.headers.get(CONTENT_TYPE).cloned(),
    }
}

fn spawn_failed(config: &WatchdogConfig, error: io::Error) -> Response<Body> {
    log!("Failed to start process {:?}: {error}", config.fprocess[0]);
    text(
        StatusCode::INTERNAL_SERVER_ERROR,
        format!("failed to start {:?}: {error}", config.fprocess[0]),
    )
}

fn timed_out(limit: Duration) -> Response<Body> {
    log!("Killed process: exec_timeout {limit:?} exceeded");
    text(
        StatusCode::GATEWAY_TIMEOUT,
        format!("Killed process. The function did not finish within {limit:?}"),
    )
}

fn failed(status: ExitStatus, output: &[u8]) -> Response<Body> {
    let reason = exit_text(status);
    log!("Function failed: {reason}");
    let mut body = Vec::with_capacity(reason.len() + 1 + output.len());
    body.extend_from_slice(reason.as_bytes());
    body.push(b'\n');
    body.extend_from_slice(output);
    let mut response = Response::new(Body::from(body));
    *response.status_mut() = StatusCode::INTERNAL_SERVER_ERROR;
    response.headers_mut().insert(
        CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    response
}

fn log_lines(prefix: &str, bytes: &[u8]) {
    for line in bytes.split(|b| *b == b'\n').filter(|l| !l.is_empty()) {
        log!("{prefix}: {}", String::from_utf8_lossy(line));
    }
}

async fn read_all<R: AsyncRead + Unpin>(reader: Option<R>) -> io::Result<Vec<u8>> {
    let mut out = Vec::new();
    if let Some(mut reader) = reader {
        reader.read_to_end(&mut out).await?;
    }
    Ok(out)
}

/// Serializing (classic) mode: buffer the body, run the process, buffer its output.
pub(crate) async fn serializing(
    config: &WatchdogConfig,
    parts: Parts,
    body: Body,
) -> Response<Body> {
    let input = match tokio::time::timeout(config.read_timeout, body.collect()).await {
        Ok(Ok(collected)) => collected.to_bytes(),
        Ok(Err(e)) => {
            return text(
                StatusCode::BAD_REQUEST,
                format!("failed to read request body: {e}"),
            );
        }
        Err(_) => {
            return text(
                StatusCode::REQUEST_TIMEOUT,
                format!(
                    "request body not received within read_timeout {:?}",
                    config.read_timeout
                ),
            );
        }
    };
    let start = Instant::now();
    let deadline = config.invocation_deadline();
    log!("Forking fprocess.");
    let mut command = command(config, &parts);
    command.stdin(Stdio::piped());
    let mut combined = None;
    if config.combine_output {
        // One pipe for both streams keeps their interleaving (Go's CombinedOutput).
        let pipe = tokio::net::unix::pipe::pipe().and_then(|(sender, receiver)| {
            let writer = sender.into_blocking_fd()?;
            let writer2 = writer.try_clone()?;
            Ok((writer, writer2, receiver))
        });
        match pipe {
            Ok((writer, writer2, receiver)) => {
                command.stdout(writer).stderr(writer2);
                combined = Some(receiver);
            }
            Err(e) => return spawn_failed(config, e),
        }
    } else {
        command.stdout(Stdio::piped()).stderr(Stdio::piped());
    }
    let mut proc = match Proc::spawn(command) {
        Ok(p) => p,
        Err(e) => return spawn_failed(config, e),
    };
    let stdin = proc.child.stdin.take();
    let stdout = proc.child.stdout.take();
    let stderr = proc.child.stderr.take();
    let run = async {
        let feed = async move {
            if let Some(mut stdin) = stdin {
                // A process that does not read its input closes the pipe: not an error.
                let _ = stdin.write_all(&input).await;
                let _ = stdin.shutdown().await;
            }
        };
        let (_, out, err, merged) =
            tokio::join!(feed, read_all(stdout), read_all(stderr), read_all(combined));
        let status = proc.wait().await?;
        io::Result::Ok((status, out?, err?, merged?))
    };
    let outcome = until(deadline.map(|d| TokioInstant::now() + d), run).await;
    let (status, out, err, merged) = match outcome {
        None => {
            proc.kill();
            return timed_out(deadline.unwrap_or_default());
        }
        Some(Err(e)) => {
            proc.kill();
            log!("Error running process: {e}");
            return text(
                StatusCode::INTERNAL_SERVER_ERROR,
                format!("error running function: {e}"),
            );
        }
        Some(Ok(r)) => r,
    };
    log_lines("stderr", &err);
    if !status.success() {
        let output = if config.combine_output {
            merged
        } else {
            [err, out].concat()
        };
        return failed(status, &output);
    }
    let output = if config.combine_output { merged } else { out };
    let mut response = Response::new(Body::from(output));
    if let Some(ct) = content_type(config, &parts) {
        response.headers_mut().insert(CONTENT_TYPE, ct);
    }
    response
        .headers_mut()
        .insert(DURATION_HEADER, duration_value(start));
    response
}

/// Copy the request body into the process's stdin, bounded by `read_timeout`.
async fn feed_stdin(body: Body, mut stdin: ChildStdin, read_timeout: Duration) {
    let copy = async {
        let mut stream = body.into_data_stream();
        while let Some(chunk) = stream.next().await {
            let chunk = chunk.map_err(io::Error::other)?;
            stdin.write_all(&chunk).await?;
        }
        stdin.shutdown().await
    };
    match tokio::time::timeout(read_timeout, copy).await {
        Ok(Ok(())) => {}
        Ok(Err(e)) if e.kind() == io::ErrorKind::BrokenPipe => {}
        Ok(Err(e)) => log!("Error writing request body to the process: {e}"),
        Err(_) => log!("Request body not received within read_timeout {read_timeout:?}"),
    }
}

/// Log stderr line by line; return its tail for an error response.
fn collect_stderr<R: AsyncRead + Unpin + Send + 'static>(stderr: R) -> JoinHandle<Vec<u8>> {
    tokio::spawn(async move {
        let mut reader = BufReader::new(stderr);
        let mut tail = Vec::new();
        let mut line = Vec::new();
        loop {
            line.clear();
            match reader.read_until(b'\n', &mut line).await {
                Ok(0) | Err(_) => break,
                Ok(_) => {
                    log_lines("stderr", &line);
                    tail.extend_from_slice(&line);
                    if tail.len() > STDERR_TAIL {
                        tail.drain(..tail.len() - STDERR_TAIL);
                    }
                }
            }
        }
        tail
    })
}

struct Stream {
    proc: Proc,
    stdout: tokio::process::ChildStdout,
    deadline: Option<TokioInstant>,
    pending: Option<Bytes>,
    done: bool,
}

impl Stream {
    async fn next_chunk(&mut self) -> Option<io::Result<Bytes>> {
        if self.done {
            return None;
        }
        if let Some(first) = self.pending.take() {
            return Some(Ok(first));
        }
        let mut buf = BytesMut::with_capacity(16 * 1024);
        let read = until(self.deadline, self.stdout.read_buf(&mut buf)).await;
        let timeout = || {
            io::Error::new(
                io::ErrorKind::TimedOut,
                "exec_timeout reached: process killed",
            )
        };
        let error = match read {
            None => timeout(),
            Some(Err(e)) => e,
            Some(Ok(n)) if n > 0 => return Some(Ok(buf.freeze())),
            Some(Ok(_)) => match until(self.deadline, self.proc.wait()).await {
                None => timeout(),
                Some(Err(e)) => e,
                Some(Ok(status)) if status.success() => {
                    self.done = true;
                    return None;
                }
                Some(Ok(status)) => io::Error::other(exit_text(status)),
            },
        };
        self.done = true;
        self.proc.kill();
        log!("Streaming response aborted: {error}");
        Some(Err(error))
    }
}

/// Streaming mode: the body is piped into stdin as it arrives and stdout is sent as produced.
///
/// The status is decided by the first event: output → 200 and streaming starts; the process
/// exits before writing anything → 200 (empty) or 500 with `exit status N` and its stderr;
/// the deadline passes first → 504. A failure after output started aborts the response (the
/// client sees a truncated chunked body, never a clean end).
pub(crate) async fn streaming(config: &WatchdogConfig, parts: Parts, body: Body) -> Response<Body> {
    let start = Instant::now();
    let limit = config.invocation_deadline();
    let deadline = limit.map(|d| TokioInstant::now() + d);
    log!("Forking fprocess.");
    let mut command = command(config, &parts);
    command
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut proc = match Proc::spawn(command) {
        Ok(p) => p,
        Err(e) => return spawn_failed(config, e),
    };
    if let Some(stdin) = proc.child.stdin.take() {
        tokio::spawn(feed_stdin(body, stdin, config.read_timeout));
    }
    let stderr = proc.child.stderr.take().map(collect_stderr);
    let Some(mut stdout) = proc.child.stdout.take() else {
        return text(StatusCode::INTERNAL_SERVER_ERROR, "process has no stdout");
    };
    let mut first = BytesMut::with_capacity(16 * 1024);
    let first_read = until(deadline, stdout.read_buf(&mut first)).await;
    let mut response = match first_read {
        None => {
            proc.kill();
            return timed_out(limit.unwrap_or_default());
        }
        Some(Err(e)) => {
            proc.kill();
            return text(
                StatusCode::INTERNAL_SERVER_ERROR,
                format!("error reading function output: {e}"),
            );
        }
        Some(Ok(0)) => match until(deadline, proc.wait()).await {
            None => {
                proc.kill();
                return timed_out(limit.unwrap_or_default());
            }
            Some(Err(e)) => {
                return text(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    format!("error waiting for the function: {e}"),
                );
            }
            Some(Ok(status)) if !status.success() => {
                let tail = match stderr {
                    Some(task) => task.await.unwrap_or_default(),
                    None => Vec::new(),
                };
                return failed(status, &tail);
            }
            Some(Ok(_)) => Response::new(Body::empty()),
        },
        Some(Ok(_)) => {
            let state = Stream {
                proc,
                stdout,
                deadline,
                pending: Some(first.freeze()),
                done: false,
            };
            let stream = futures::stream::unfold(state, |mut state| async move {
                state.next_chunk().await.map(|item| (item, state))
            });
            Response::new(Body::from_stream(stream))
        }
    };
    if let Some(ct) = content_type(config, &parts) {
        response.headers_mut().insert(CONTENT_TYPE, ct);
    }
    response
        .headers_mut()
        .insert(DURATION_HEADER, duration_value(start));
    response
}
