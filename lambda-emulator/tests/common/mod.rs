//! Shared helpers for the emulator's end-to-end tests.

#![allow(dead_code, unreachable_pub)]

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::time::{Duration, Instant};

use bytes::Bytes;
use lambda_emulator::{Emulator, EmulatorConfig};

/// Upper bound for anything the tests wait for (never asserted as a timing).
pub const PATIENCE: Duration = Duration::from_secs(60);

/// An API Gateway v2 event for `method path` with `body`, built by the shared conversion.
pub fn http_event(method: &str, path: &str, headers: &[(&str, &str)], body: &[u8]) -> Bytes {
    let mut builder = http::Request::builder().method(method).uri(path);
    for (k, v) in headers {
        builder = builder.header(*k, *v);
    }
    let (parts, ()) = builder.body(()).unwrap().into_parts();
    let event = apigw_event::event_from_request(&parts, body, "test-request");
    Bytes::from(serde_json::to_vec(&event).unwrap())
}

/// What the front end answered.
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
    pub body: Bytes,
}

impl Answer {
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.text()))
    }

    /// The function's HTTP response, from an API Gateway v2 response payload.
    pub fn http(&self) -> http::Response<Bytes> {
        assert_eq!(self.status, 200, "{}", self.text());
        assert_eq!(self.header("x-amz-function-error"), None, "{}", self.text());
        apigw_event::response_from_payload(&self.body)
            .unwrap_or_else(|e| panic!("{e}: {}", self.text()))
    }
}

/// POST an invoke to the emulator's front end.
pub async fn invoke_http(
    emulator: &Emulator,
    function: &str,
    headers: &[(&str, &str)],
    payload: impl Into<reqwest::Body>,
) -> Answer {
    let url = format!(
        "{}/2015-03-31/functions/{function}/invocations",
        emulator.invoke_url()
    );
    let mut request = reqwest::Client::new().post(url).body(payload);
    for (k, v) in headers {
        request = request.header(*k, *v);
    }
    let response = request.send().await.expect("invoke request");
    Answer {
        status: response.status().as_u16(),
        headers: response.headers().clone(),
        body: response.bytes().await.expect("invoke body"),
    }
}

/// Invoke `emulator`'s function.
pub async fn invoke(emulator: &Emulator, payload: impl Into<reqwest::Body>) -> Answer {
    let name = emulator.config().function_name.clone();
    invoke_http(emulator, &name, &[], payload).await
}

/// A task dir whose `bootstrap` is a shell script (host `/bin/sh`, busybox `wget`): for
/// runtimes that misbehave on purpose. `$COUNT` (a file in the dir) gets a line per start.
pub fn script_task(script: &str) -> tempfile::TempDir {
    let dir = tempfile::Builder::new()
        .prefix("faas-lambda-script-")
        .tempdir()
        .unwrap();
    let body = format!(
        "#!/bin/sh\nCOUNT=\"$LAMBDA_TASK_ROOT/count\"\nAPI=\"http://$AWS_LAMBDA_RUNTIME_API/2018-06-01/runtime\"\n{script}\n"
    );
    let bootstrap = dir.path().join("bootstrap");
    std::fs::write(&bootstrap, body).unwrap();
    std::fs::set_permissions(&bootstrap, std::fs::Permissions::from_mode(0o755)).unwrap();
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o777)).unwrap();
    dir
}

/// Lines in the script task's counter file.
pub fn starts(dir: &Path) -> usize {
    std::fs::read_to_string(dir.join("count"))
        .map(|s| s.lines().count())
        .unwrap_or(0)
}

/// Start an emulator for a task dir with `adjust` applied to the defaults.
pub async fn emulator(
    name: &str,
    dir: &Path,
    adjust: impl FnOnce(&mut EmulatorConfig),
) -> Emulator {
    let mut cfg = EmulatorConfig::new(name, dir);
    cfg.timeout = Duration::from_secs(20);
    adjust(&mut cfg);
    Emulator::start(cfg).await.expect("emulator starts")
}

/// Poll `check` until it holds (bounded by [`PATIENCE`]).
pub async fn eventually(what: &str, mut check: impl FnMut() -> bool) {
    let start = Instant::now();
    while !check() {
        assert!(start.elapsed() < PATIENCE, "never happened: {what}");
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

/// Processes whose executable lies under `dir` (the function's programs run from the rootfs).
pub fn processes_under(dir: &Path) -> Vec<i32> {
    let dir = std::fs::canonicalize(dir).unwrap();
    let mut pids = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<i32>() else {
            continue;
        };
        if let Ok(exe) = std::fs::read_link(entry.path().join("exe")) {
            if exe.starts_with(&dir) {
                pids.push(pid);
            }
        }
    }
    pids
}
