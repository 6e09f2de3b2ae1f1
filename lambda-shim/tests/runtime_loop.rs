//! The Runtime API loop against a scripted fake Runtime API: exactly one reply per request id,
//! the trace id in the function's environment, the deadline killing the function, and exiting
//! on a 500.

use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use lambda_shim::runtime::{Function, RuntimeApi, RuntimeError, run};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;
use watchdog::{Mode, WatchdogConfig};

#[derive(Debug, Clone)]
struct Seen {
    method: String,
    path: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Seen {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

type Handler = Box<dyn Fn(&Seen, usize) -> (u16, Vec<(String, String)>, Vec<u8>) + Send + Sync>;

/// A fake Runtime API: records every request and answers with `handler(request, index)`.
async fn fake_api(handler: Handler) -> (String, Arc<Mutex<Vec<Seen>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let handler = Arc::new(handler);
    let log = Arc::clone(&seen);
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                return;
            };
            let log = Arc::clone(&log);
            let handler = Arc::clone(&handler);
            tokio::spawn(async move {
                let (read, mut write) = stream.into_split();
                let mut reader = BufReader::new(read);
                loop {
                    let mut line = String::new();
                    if reader.read_line(&mut line).await.unwrap_or(0) == 0 {
                        return;
                    }
                    let mut parts = line.split_whitespace();
                    let method = parts.next().unwrap_or_default().to_string();
                    let path = parts.next().unwrap_or_default().to_string();
                    let mut headers = Vec::new();
                    loop {
                        let mut h = String::new();
                        reader.read_line(&mut h).await.unwrap();
                        let h = h.trim_end();
                        if h.is_empty() {
                            break;
                        }
                        if let Some((k, v)) = h.split_once(':') {
                            headers.push((k.trim().to_string(), v.trim().to_string()));
                        }
                    }
                    let length: usize = headers
                        .iter()
                        .find(|(k, _)| k.eq_ignore_ascii_case("content-length"))
                        .and_then(|(_, v)| v.parse().ok())
                        .unwrap_or(0);
                    let mut body = vec![0; length];
                    reader.read_exact(&mut body).await.unwrap();
                    let request = Seen {
                        method,
                        path,
                        headers,
                        body,
                    };
                    let index = {
                        let mut log = log.lock().unwrap();
                        log.push(request.clone());
                        log.len() - 1
                    };
                    let (status, headers, body) = handler(&request, index);
                    let mut head =
                        format!("HTTP/1.1 {status} X\r\ncontent-length: {}\r\n", body.len());
                    for (k, v) in headers {
                        head.push_str(&format!("{k}: {v}\r\n"));
                    }
                    head.push_str("\r\n");
                    if write.write_all(head.as_bytes()).await.is_err()
                        || write.write_all(&body).await.is_err()
                    {
                        return;
                    }
                }
            });
        }
    });
    (format!("127.0.0.1:{}", addr.port()), seen)
}

fn event(
    id: &str,
    deadline_ms: u64,
    trace: &str,
    payload: &[u8],
) -> (u16, Vec<(String, String)>, Vec<u8>) {
    (
        200,
        vec![
            ("Lambda-Runtime-Aws-Request-Id".into(), id.into()),
            ("Lambda-Runtime-Deadline-Ms".into(), deadline_ms.to_string()),
            ("Lambda-Runtime-Trace-Id".into(), trace.into()),
            ("Content-Type".into(), "application/json".into()),
        ],
        payload.to_vec(),
    )
}

fn later(ms: u64) -> u64 {
    u64::try_from(
        (SystemTime::now() + Duration::from_millis(ms))
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_millis(),
    )
    .unwrap()
}

fn function(script: &str) -> Function {
    let mut config = WatchdogConfig::new(
        Mode::Serializing,
        vec!["/bin/sh".into(), "-c".into(), script.into()],
    );
    config.suppress_lock = true;
    config.exec_timeout = Duration::ZERO;
    config.write_timeout = Duration::ZERO;
    Function::new(config).unwrap()
}

fn is_500(result: Result<(), RuntimeError>) -> bool {
    matches!(
        result,
        Err(RuntimeError::Status { status, .. }) if status == 500
    )
}

#[tokio::test]
async fn one_reply_per_event_with_the_trace_id_then_exit_on_500() {
    let deadline = later(60_000);
    let (addr, seen) = fake_api(Box::new(move |req, _| {
        match (req.method.as_str(), req.path.as_str()) {
            ("GET", "/2018-06-01/runtime/invocation/next") => {
                // First event, then the environment goes away.
                static CALLS: std::sync::atomic::AtomicUsize =
                    std::sync::atomic::AtomicUsize::new(0);
                if CALLS.fetch_add(1, std::sync::atomic::Ordering::SeqCst) == 0 {
                    event("r-1", deadline, "Root=1-abc", b"\"hi\"")
                } else {
                    (
                        500,
                        vec![],
                        br#"{"errorType":"x","errorMessage":"gone"}"#.to_vec(),
                    )
                }
            }
            _ => (202, vec![], br#"{"status":"OK"}"#.to_vec()),
        }
    }))
    .await;
    let api = RuntimeApi::new(&addr).unwrap();
    let f = function("cat; echo; echo \"$_X_AMZN_TRACE_ID\"");
    assert!(is_500(run(&api, &f).await), "a 500 ends the loop");
    let seen = seen.lock().unwrap().clone();
    let paths: Vec<(&str, &str)> = seen
        .iter()
        .map(|s| (s.method.as_str(), s.path.as_str()))
        .collect();
    assert_eq!(
        paths,
        [
            ("GET", "/2018-06-01/runtime/invocation/next"),
            ("POST", "/2018-06-01/runtime/invocation/r-1/response"),
            ("GET", "/2018-06-01/runtime/invocation/next"),
        ]
    );
    assert_eq!(seen[1].body, b"\"hi\"\nRoot=1-abc\n");
    assert_eq!(seen[1].header("content-type"), Some("application/json"));
}

#[tokio::test]
async fn the_deadline_kills_the_function_and_reports_sandbox_timeout() {
    let dir = tempfile::tempdir().unwrap();
    let pid_file = dir.path().join("pid");
    let deadline = later(1_000);
    let (addr, seen) = fake_api(Box::new(move |req, index| {
        match (req.method.as_str(), index) {
            ("GET", 0) => event("slow-1", deadline, "Root=1-t", b"{}"),
            ("GET", _) => (500, vec![], b"{}".to_vec()),
            _ => (202, vec![], b"{}".to_vec()),
        }
    }))
    .await;
    let api = RuntimeApi::new(&format!("http://{addr}/")).unwrap();
    let f = function(&format!("echo $$ > {}; exec sleep 300", pid_file.display()));
    assert!(is_500(run(&api, &f).await));
    let seen = seen.lock().unwrap().clone();
    assert_eq!(seen.len(), 3, "{seen:?}");
    let error = &seen[1];
    assert_eq!(error.path, "/2018-06-01/runtime/invocation/slow-1/error");
    assert_eq!(
        error.header("lambda-runtime-function-error-type"),
        Some("Sandbox.Timeout")
    );
    let body: serde_json::Value = serde_json::from_slice(&error.body).unwrap();
    assert_eq!(body["errorType"], "Sandbox.Timeout");
    assert!(
        body["errorMessage"]
            .as_str()
            .unwrap()
            .starts_with("Task timed out after"),
        "{body}"
    );
    let pid = std::fs::read_to_string(&pid_file).unwrap();
    let stat = std::fs::read_to_string(format!("/proc/{}/stat", pid.trim())).unwrap_or_default();
    let state = stat.rsplit(')').next().unwrap_or("").trim_start();
    assert!(
        stat.is_empty() || state.starts_with('Z'),
        "the function process {pid} survived its deadline: {stat}"
    );
}

#[tokio::test]
async fn a_500_on_the_reply_ends_the_loop_without_another_next() {
    let (addr, seen) = fake_api(Box::new(|req, _| match req.method.as_str() {
        "GET" => event("r-9", later(60_000), "Root=1-x", b"{}"),
        _ => (500, vec![], b"{}".to_vec()),
    }))
    .await;
    let api = RuntimeApi::new(&addr).unwrap();
    assert!(is_500(run(&api, &function("cat")).await));
    let seen = seen.lock().unwrap().clone();
    assert_eq!(seen.len(), 2, "{seen:?}");
    assert_eq!(seen[1].path, "/2018-06-01/runtime/invocation/r-9/response");
}

#[tokio::test]
async fn a_non_2xx_answer_to_a_raw_payload_is_an_error_report_and_4xx_replies_are_not_fatal() {
    let (addr, seen) = fake_api(Box::new(|req, index| match (req.method.as_str(), index) {
        ("GET", 0) => event("e-1", later(60_000), "Root=1-y", b"{}"),
        ("GET", _) => (500, vec![], b"{}".to_vec()),
        // The Runtime API refuses the error report (403): logged, the loop goes on.
        _ => (403, vec![], b"{}".to_vec()),
    }))
    .await;
    let api = RuntimeApi::new(&addr).unwrap();
    assert!(is_500(
        run(&api, &function("echo broken >&2; exit 2")).await
    ));
    let seen = seen.lock().unwrap().clone();
    assert_eq!(seen.len(), 3, "{seen:?}");
    assert_eq!(seen[1].path, "/2018-06-01/runtime/invocation/e-1/error");
    assert_eq!(
        seen[1].header("lambda-runtime-function-error-type"),
        Some("Runtime.ExitError")
    );
    let body: serde_json::Value = serde_json::from_slice(&seen[1].body).unwrap();
    let message = body["errorMessage"].as_str().unwrap();
    assert!(
        message.contains("exit status 2") && message.contains("broken"),
        "{message}"
    );
}
