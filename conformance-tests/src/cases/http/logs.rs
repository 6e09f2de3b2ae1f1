//! `/system/logs` on the wire: NDJSON lines and unparsable parameters.

use reqwest::Method;
use serde_json::{Value, json};

use crate::harness::{Cleanup, deploy, deploy_echo, echo_spec, eventually, unique_name};
use crate::outcome::{Context, Outcome};
use crate::raw::Raw;
use crate::target::Target;
use crate::{ensure, ensure_eq, skip};

use super::wire::get;

/// Logs are NDJSON (`application/x-ndjson`), one object per line with the log-message keys;
/// `tail=1` gives one line.
pub async fn http_logs_are_ndjson(t: &Target) -> Outcome {
    let raw = Raw::of(t)?;
    if !t.caps.logs {
        skip!("logs are not supported");
    }
    let cleanup = Cleanup::new(t);
    let function = deploy_echo(t, &cleanup).await?;
    raw.send(
        raw.anonymous(Method::POST, &format!("/function/{}", function.name))
            .body("log"),
    )
    .await?
    .expect(&[200])?;
    let path = format!(
        "/system/logs?name={}&namespace={}&follow=false",
        function.name, function.namespace
    );
    let reply = eventually(t.timeouts.eventually, "a log line over HTTP", || async {
        let reply = get(&raw, &path).await.map_err(|e| e.to_string())?;
        if reply.status == 200 && !reply.text().trim().is_empty() {
            Ok(Some(reply))
        } else {
            Err(format!("{} {:?}", reply.status, reply.text()))
        }
    })
    .await?;
    reply.expect_content_type("application/x-ndjson")?;
    for line in reply.text().lines().filter(|l| !l.trim().is_empty()) {
        let value: Value = serde_json::from_str(line).context(format!("log line {line:?}"))?;
        for key in ["name", "namespace", "instance", "timestamp", "text"] {
            ensure!(value.get(key).is_some(), "log line lacks {key}: {line}");
        }
        ensure_eq!(value["name"], json!(function.name), "name of a log line");
    }
    let tail = get(&raw, &format!("{path}&tail=1")).await?;
    let count = tail
        .expect(&[200])?
        .text()
        .lines()
        .filter(|l| !l.trim().is_empty())
        .count();
    ensure_eq!(count, 1, "lines for tail=1");
    Ok(())
}

/// Unparsable `tail` or `since` answer 422 with a message.
pub async fn http_logs_bad_tail_or_since_answer_422(t: &Target) -> Outcome {
    let raw = Raw::of(t)?;
    if !t.caps.logs {
        skip!("logs are not supported");
    }
    let cleanup = Cleanup::new(t);
    let function = deploy(t, &cleanup, echo_spec(t, &unique_name())).await?;
    let base = format!(
        "/system/logs?name={}&namespace={}",
        function.name, function.namespace
    );
    for bad in [
        "tail=abc",
        "tail=1.5",
        "since=yesterday",
        "since=2024-13-45T00:00:00Z",
    ] {
        get(&raw, &format!("{base}&{bad}"))
            .await?
            .expect_client_error_with_message(&[422])?;
    }
    Ok(())
}
