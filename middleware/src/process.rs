//! Running one hook: the executable in its own process group, the input written to stdin while
//! stdout and stderr are read (so a large event cannot deadlock on full pipes), bounded by the
//! call's deadline.

use std::io;
use std::os::unix::process::ExitStatusExt;
use std::process::{ExitStatus, Stdio};

use bytes::Bytes;
use nix::sys::signal::{Signal, killpg};
use nix::unistd::Pid;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt};
use tokio::process::Command;
use tokio::time::Instant;

use crate::error::{Failure, HookError};
use crate::names::{Hook, STDERR_LIMIT};

/// Go's `ExitError.Error()` wording, as the watchdog uses: `exit status 1`, `signal: SIGKILL`.
fn exit_text(status: ExitStatus) -> String {
    match (status.code(), status.signal()) {
        (Some(code), _) => format!("exit status {code}"),
        (None, Some(signal)) => match Signal::try_from(signal) {
            Ok(s) => format!("signal: {}", s.as_str()),
            Err(_) => format!("signal: {signal}"),
        },
        _ => status.to_string(),
    }
}

/// Read `reader` to the end, keeping only its first `limit` bytes in `kept`.
async fn read_capped<R: AsyncRead + Unpin>(
    reader: Option<R>,
    kept: &mut Vec<u8>,
    limit: usize,
) -> io::Result<()> {
    let Some(mut reader) = reader else {
        return Ok(());
    };
    let mut chunk = [0u8; 8192];
    loop {
        let n = reader.read(&mut chunk).await?;
        if n == 0 {
            return Ok(());
        }
        let room = limit.saturating_sub(kept.len());
        kept.extend_from_slice(&chunk[..n.min(room)]);
    }
}

/// Run `command` (already carrying the hook argument) with `input` on stdin; its stdout when it
/// exits 0 with valid JSON, else the [`HookError`].
pub(crate) async fn run(
    mut command: Command,
    name: &str,
    hook: Hook,
    input: Bytes,
    deadline: Option<Instant>,
) -> Result<Bytes, HookError> {
    let error = |failure: Failure, stderr: &[u8]| HookError {
        middleware: name.to_string(),
        hook,
        failure,
        stderr: String::from_utf8_lossy(stderr).into_owned(),
    };
    command
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .process_group(0);
    let mut child = command
        .spawn()
        .map_err(|e| error(Failure::Spawn(e.to_string()), b""))?;
    let group = child
        .id()
        .and_then(|id| i32::try_from(id).ok())
        .map(Pid::from_raw);
    let stdin = child.stdin.take();
    let stdout = child.stdout.take();
    let stderr = child.stderr.take();
    let mut out = Vec::new();
    let mut err = Vec::new();
    let exchange = async {
        let feed = async move {
            if let Some(mut stdin) = stdin {
                // A hook that does not read its input closes the pipe: not an error.
                let _ = stdin.write_all(&input).await;
                let _ = stdin.shutdown().await;
            }
        };
        let read_out = async {
            match stdout {
                Some(mut stdout) => stdout.read_to_end(&mut out).await.map(drop),
                None => Ok(()),
            }
        };
        let (_, read_out, read_err) =
            tokio::join!(feed, read_out, read_capped(stderr, &mut err, STDERR_LIMIT));
        read_out?;
        read_err?;
        child.wait().await
    };
    let outcome = match deadline {
        Some(deadline) => tokio::time::timeout_at(deadline, exchange).await.ok(),
        None => Some(exchange.await),
    };
    let status = match outcome {
        None => {
            if let Some(group) = group {
                let _ = killpg(group, Signal::SIGKILL);
            }
            let _ = child.start_kill();
            let _ = child.wait().await;
            return Err(error(Failure::Timeout, &err));
        }
        Some(Err(e)) => return Err(error(Failure::Io(e.to_string()), &err)),
        Some(Ok(status)) => status,
    };
    if !status.success() {
        return Err(error(Failure::Exit(exit_text(status)), &err));
    }
    if let Err(e) = serde_json::from_slice::<serde::de::IgnoredAny>(&out) {
        return Err(error(Failure::InvalidJson(e.to_string()), &err));
    }
    Ok(Bytes::from(out))
}
