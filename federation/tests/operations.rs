//! Operating the `faas-federation` binary: `--check-config`, JSON logs without colours, call
//! ids and the access log, the build's sha in `/system/info`, and too-large bodies answered
//! 413 to clients that write their whole body before reading.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::Stdio;

use serde_json::Value;

#[path = "common/binary_support.rs"]
mod binary_support;

/// Runs `faas-federation` with `args` to completion (clean environment as the launcher's).
fn run(args: &[&str]) -> std::process::Output {
    binary_support::command()
        .args(args)
        .output()
        .expect("faas-federation runs")
}

#[test]
fn check_config_prints_the_backends_or_the_errors() {
    let dir = tempfile::tempdir().unwrap();
    let good = dir.path().join("good.toml");
    std::fs::write(
        &good,
        "default_backend = \"remote\"\n\
         [[backends]]\nname = \"local\"\nkind = \"memory\"\n\
         [[backends]]\nname = \"remote\"\nkind = \"http\"\nurl = \"http://127.0.0.1:9\"\ntimeout = \"3s\"\n",
    )
    .unwrap();
    let output = run(&["--check-config", "--config", good.to_str().unwrap()]);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        stdout.contains("backend local: kind memory, in-process, timeout 10s, invoke_timeout 1m, deploy_timeout 10m\n"),
        "{stdout}"
    );
    assert!(
        stdout.contains("backend remote (default): kind http, http://127.0.0.1:9, timeout 3s, invoke_timeout 1m, deploy_timeout 10m\n"),
        "{stdout}"
    );

    let bad = dir.path().join("bad.toml");
    std::fs::write(
        &bad,
        "[[backends]]\nname = \"foo\"\nkind = \"memory\"\ntimeout = \"10x\"\n",
    )
    .unwrap();
    let output = run(&["--check-config", "--config", bad.to_str().unwrap()]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success());
    assert!(
        stderr.contains(r#"backends[0] (foo): timeout: invalid duration "10x" (expected e.g. "30s", "5m", "1h30m" or a number of seconds)"#),
        "{stderr}"
    );
    assert!(output.stdout.is_empty());
}

#[tokio::test]
async fn json_logs_carry_the_call_id_of_every_invocation_without_colours() {
    let port = binary_support::free_port();
    let mut child = binary_support::start_with_stderr(
        port,
        &[
            ("LOG_FORMAT", "json".to_string()),
            ("RUST_LOG", "info".to_string()),
            ("access_log", "info".to_string()),
        ],
        Stdio::piped(),
    )
    .await;
    let base = format!("http://127.0.0.1:{port}");
    let http = reqwest::Client::builder().no_proxy().build().unwrap();
    let deployed = http
        .post(format!("{base}/system/functions"))
        .body(r#"{"service":"echo","image":"example/echo:1"}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(deployed.status(), 202);
    let kept = http
        .post(format!("{base}/function/echo"))
        .header("X-Call-Id", "ops-call-1")
        .body("hi")
        .send()
        .await
        .unwrap();
    assert_eq!(kept.status(), 200);
    assert_eq!(kept.headers()["x-call-id"], "ops-call-1");
    let created = http
        .get(format!("{base}/function/echo"))
        .send()
        .await
        .unwrap();
    let created_id = created.headers()["x-call-id"].to_str().unwrap().to_string();
    assert_eq!(created_id.len(), 36, "{created_id}");

    child.kill();
    let mut log = String::new();
    child
        .0
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut log)
        .unwrap();
    assert!(!log.contains('\u{1b}'), "escape codes in {log}");
    let lines: Vec<Value> = log
        .lines()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}")))
        .collect();
    let access = |id: &str| {
        lines
            .iter()
            .find(|line| line["fields"]["call_id"] == id)
            .unwrap_or_else(|| panic!("no access line for {id} in {log}"))
    };
    let first = access("ops-call-1");
    assert_eq!(first["level"], "INFO");
    assert_eq!(first["fields"]["status"], 200);
    assert_eq!(first["fields"]["method"], "POST");
    assert_eq!(first["fields"]["path"], "/function/echo");
    assert_eq!(access(&created_id)["fields"]["method"], "GET");
}

#[tokio::test]
async fn text_logs_have_no_colours_when_stderr_is_not_a_terminal() {
    let port = binary_support::free_port();
    let mut child = binary_support::start_with_stderr(
        port,
        &[("RUST_LOG", "info".to_string())],
        Stdio::piped(),
    )
    .await;
    child.kill();
    let mut log = String::new();
    child
        .0
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut log)
        .unwrap();
    assert!(log.contains("faas-federation listening"), "{log}");
    assert!(!log.contains('\u{1b}'), "escape codes in {log:?}");
}

#[tokio::test]
async fn system_info_reports_the_commit_built() {
    let built = env!("FAAS_BUILD_SHA");
    // Built in a git checkout (or with FAAS_BUILD_SHA set): that commit, not `unknown`.
    if let Some(sha) = build_sha::expected(env!("CARGO_MANIFEST_DIR")) {
        assert_eq!(built, sha);
    }
    let port = binary_support::free_port();
    let _child = binary_support::start(port, &[]).await;
    let http = reqwest::Client::builder().no_proxy().build().unwrap();
    let info: Value = http
        .get(format!("http://127.0.0.1:{port}/system/info"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(info["version"]["sha"], built, "{info}");
}

/// Writes a request with a 20 MB body completely, then reads the status line.
fn write_all_then_read(port: u16, path: &str) -> std::io::Result<String> {
    const BIG: usize = 20 * 1024 * 1024;
    let mut stream = TcpStream::connect(("127.0.0.1", port))?;
    let head = format!("POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: {BIG}\r\n\r\n");
    stream.write_all(head.as_bytes())?;
    let chunk = vec![b' '; 64 * 1024];
    for _ in 0..BIG / chunk.len() {
        stream.write_all(&chunk)?;
    }
    let mut answer = vec![0u8; 1024];
    let n = stream.read(&mut answer)?;
    let text = String::from_utf8_lossy(&answer[..n]);
    Ok(text.lines().next().unwrap_or_default().to_string())
}

#[tokio::test]
async fn too_large_bodies_are_answered_413_to_clients_that_write_first() {
    let port = binary_support::free_port();
    let _child = binary_support::start(port, &[("max_body_bytes", "4096".to_string())]).await;
    for path in ["/system/functions", "/async-function/echo"] {
        let line = tokio::task::spawn_blocking(move || write_all_then_read(port, path))
            .await
            .unwrap()
            .unwrap_or_else(|e| panic!("{path}: {e}"));
        assert!(line.starts_with("HTTP/1.1 413"), "{path}: {line}");
    }
}
