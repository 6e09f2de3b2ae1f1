//! Function logs through the `Provider` trait (the OpenFaaS `/system/logs` route): history,
//! tail and follow.

use faas_provider::{FunctionRef, LogMessage, LogRequest};
use futures::StreamExt;
use http::Method;

use crate::harness::{Call, Cleanup, deploy_echo, eventually, invoke_echo, unique_name};
use crate::outcome::{Context, Failure, Outcome};
use crate::target::Target;
use crate::{ensure, ensure_eq};

fn require_logs(t: &Target) -> Outcome {
    if t.caps.logs {
        Ok(())
    } else {
        Err(Failure::skipped("logs are not supported"))
    }
}

/// Reads a non-follow log stream to its end (bounded by `timeouts.request`).
async fn history(t: &Target, request: LogRequest) -> Result<Vec<LogMessage>, Failure> {
    let stream = t.provider.logs(request).await.context("logs")?;
    tokio::time::timeout(t.timeouts.request, stream.collect::<Vec<_>>())
        .await
        .map_err(|_| Failure::failed("a non-follow log stream did not end"))
}

fn check_lines(function: &FunctionRef, lines: &[LogMessage]) -> Outcome {
    for line in lines {
        ensure_eq!(line.name, function.name, "name of a log line of {function}");
        ensure!(
            line.namespace.is_empty() || line.namespace == function.namespace,
            "log line of {function} says namespace {:?}",
            line.namespace
        );
    }
    Ok(())
}

/// Waits until `function`'s history holds at least `count` lines; returns them.
async fn wait_lines(
    t: &Target,
    function: &FunctionRef,
    count: usize,
) -> Result<Vec<LogMessage>, Failure> {
    eventually(
        t.timeouts.eventually,
        &format!("{function}: at least {count} log lines"),
        || async {
            let stream = t
                .provider
                .logs(LogRequest::new(function.clone()))
                .await
                .map_err(|e| format!("logs failed: {e}"))?;
            let lines = tokio::time::timeout(t.timeouts.request, stream.collect::<Vec<_>>())
                .await
                .map_err(|_| "the stream did not end".to_string())?;
            if lines.len() >= count {
                Ok(Some(lines))
            } else {
                Err(format!("{} lines", lines.len()))
            }
        },
    )
    .await
}

/// Waits until two reads of the history in a row are equal (lines written after an invocation
/// returned, such as a watchdog's `Wrote N Bytes`, have arrived).
async fn settled_history(t: &Target, function: &FunctionRef) -> Result<Vec<LogMessage>, Failure> {
    let previous = std::sync::Mutex::new(None::<Vec<LogMessage>>);
    eventually(
        t.timeouts.eventually,
        &format!("{function}: log history settles"),
        || async {
            let lines = history(t, LogRequest::new(function.clone()))
                .await
                .map_err(|e| e.to_string())?;
            let mut previous = previous.lock().unwrap_or_else(|e| e.into_inner());
            if previous.as_ref() == Some(&lines) {
                return Ok(Some(lines));
            }
            let count = lines.len();
            *previous = Some(lines);
            Err(format!("{count} lines, still changing"))
        },
    )
    .await
}

/// Invoking a function adds lines to its history; each line names the function.
pub async fn logs_history_after_invoke(t: &Target) -> Outcome {
    require_logs(t)?;
    let cleanup = Cleanup::new(t);
    let function = deploy_echo(t, &cleanup).await?;
    let before = history(t, LogRequest::new(function.clone())).await?.len();
    invoke_echo(t, &function, Call::new(Method::POST).body("log me")).await?;
    let lines = wait_lines(t, &function, before + 1).await?;
    check_lines(&function, &lines)?;
    for line in &lines {
        ensure!(
            line.timestamp.timestamp() > 0,
            "log line without a timestamp: {line:?}"
        );
    }
    Ok(())
}

/// `tail=n` returns exactly the last n lines of the history.
pub async fn logs_tail_limits_lines(t: &Target) -> Outcome {
    require_logs(t)?;
    let cleanup = Cleanup::new(t);
    let function = deploy_echo(t, &cleanup).await?;
    for i in 0..3 {
        invoke_echo(
            t,
            &function,
            Call::new(Method::POST).body(format!("call {i}")),
        )
        .await?;
    }
    wait_lines(t, &function, 3).await?;
    settled_history(t, &function).await?;
    for tail in [1usize, 2] {
        let mut request = LogRequest::new(function.clone());
        request.tail = Some(tail);
        let lines = history(t, request).await?;
        ensure_eq!(lines.len(), tail, "lines returned for tail={tail}");
        check_lines(&function, &lines)?;
        let all = history(t, LogRequest::new(function.clone())).await?;
        for line in &lines {
            ensure!(
                all.contains(line),
                "tail={tail} returned a line missing from the history: {line:?}"
            );
        }
        let newest = all.iter().rev().take(tail + 1).collect::<Vec<_>>();
        ensure!(
            lines.iter().all(|l| newest.contains(&l)),
            "tail={tail} did not return the newest lines: got {lines:?}"
        );
    }
    Ok(())
}

/// A follow stream stays open and delivers a line written after it was opened.
pub async fn logs_follow_receives_new_line(t: &Target) -> Outcome {
    require_logs(t)?;
    let cleanup = Cleanup::new(t);
    let function = deploy_echo(t, &cleanup).await?;
    let since = chrono::Utc::now();
    let mut request = LogRequest::new(function.clone());
    request.since = Some(since);
    let known = history(t, request.clone()).await?.len();
    request.follow = true;
    let mut stream = t
        .provider
        .logs(request)
        .await
        .context("open a follow stream")?;
    invoke_echo(t, &function, Call::new(Method::POST).body(unique_name())).await?;
    let mut received = Vec::new();
    while received.len() <= known {
        match tokio::time::timeout(t.timeouts.eventually, stream.next()).await {
            Err(_) => crate::fail!(
                "follow stream: no new line within {:?} of an invocation ({} lines received, {known} known before)",
                t.timeouts.eventually,
                received.len()
            ),
            Ok(None) => crate::fail!(
                "the follow stream ended after {} lines ({known} known before); it must stay open",
                received.len()
            ),
            Ok(Some(line)) => received.push(line),
        }
    }
    check_lines(&function, &received)
}
