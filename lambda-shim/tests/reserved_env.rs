//! The provider's reserved variables through the real init path: a packaged test image's task
//! dir, `runtime::init` with `OPENFAAS_SECRETS` / `OPENFAAS_ENV`, then invocations of the
//! function reading its secret file and printing its environment; and the static `bootstrap`
//! reporting a malformed variable to `/runtime/init/error` without its value.

use std::time::SystemTime;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use bytes::Bytes;
use lambda_shim::reserved::{EXTRA_ENV, SECRETS_DIR_ENV, SECRETS_ENV};
use lambda_shim::runtime::{Invocation, Outcome, init};
use test_support::images::{ECHO, ENV};
use test_support::sandbox::task_dir;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;

const VALUE: &str = "the-secret-value";

fn raw(payload: &str) -> Invocation {
    Invocation {
        request_id: "r1".into(),
        deadline_ms: None,
        trace_id: None,
        function_arn: None,
        content_type: Some("text/plain".into()),
        payload: Bytes::from(payload.to_string()),
        received_at: SystemTime::now(),
    }
}

fn body(outcome: Outcome) -> String {
    match outcome {
        Outcome::Response { body, .. } => String::from_utf8_lossy(&body).into_owned(),
        Outcome::Error(report) => panic!("function error: {report:?}"),
    }
}

fn env(pairs: &[(&str, String)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.clone()))
        .collect()
}

#[tokio::test]
async fn secrets_are_files_and_extra_env_is_plain_environment() {
    let secrets_dir = tempfile::tempdir().unwrap();
    let dir = secrets_dir.path().join("secrets");
    let secrets = format!(r#"{{"api-key": "{}"}}"#, BASE64.encode(VALUE));

    // ECHO with `cat <dir>/api-key` as its process answers the secret.
    let task = tokio::task::spawn_blocking(|| task_dir(&ECHO))
        .await
        .unwrap();
    let function = init(
        task.path(),
        &env(&[
            ("fprocess", format!("cat {}/api-key", dir.display())),
            (SECRETS_ENV, secrets.clone()),
            (SECRETS_DIR_ENV, dir.display().to_string()),
        ]),
    )
    .await
    .expect("init");
    assert_eq!(body(function.invoke(&raw("")).await), VALUE);

    // ENV shows the environment: no reserved variables, the extra ones, secret_mount_path.
    let task = tokio::task::spawn_blocking(|| task_dir(&ENV))
        .await
        .unwrap();
    let function = init(
        task.path(),
        &env(&[
            (SECRETS_ENV, secrets),
            (SECRETS_DIR_ENV, dir.display().to_string()),
            (
                EXTRA_ENV,
                r#"{"my-var": "dash value", "A": "1"}"#.to_string(),
            ),
            ("PLAIN", "p".to_string()),
        ]),
    )
    .await
    .expect("init");
    let text = body(function.invoke(&raw("")).await);
    let lines: Vec<&str> = text.lines().collect();
    assert!(lines.contains(&"my-var=dash value"), "{text}");
    assert!(lines.contains(&"A=1"), "{text}");
    assert!(lines.contains(&"PLAIN=p"), "{text}");
    assert!(
        lines.contains(&format!("secret_mount_path={}", dir.display()).as_str()),
        "{text}"
    );
    for reserved in [SECRETS_ENV, EXTRA_ENV] {
        let prefix = format!("{reserved}=");
        assert!(!lines.iter().any(|l| l.starts_with(&prefix)), "{text}");
    }
    assert!(!text.contains(&BASE64.encode(VALUE)), "{text}");
}

#[tokio::test]
async fn malformed_variables_fail_init_without_values() {
    let task = tokio::task::spawn_blocking(|| task_dir(&ECHO))
        .await
        .unwrap();
    let secrets_dir = tempfile::tempdir().unwrap();
    for (name, value, expected) in [
        (
            SECRETS_ENV,
            format!(r#"{{"../x": "{}"}}"#, BASE64.encode(VALUE)),
            "invalid secret name \"../x\"",
        ),
        (
            SECRETS_ENV,
            format!(r#"{{"k": "{VALUE}"}}"#),
            "secret \"k\" is not standard base64",
        ),
        (EXTRA_ENV, format!(r#"{{"k": {VALUE}}}"#), "not valid JSON"),
    ] {
        let report = init(
            task.path(),
            &env(&[
                (name, value),
                (SECRETS_DIR_ENV, secrets_dir.path().display().to_string()),
            ]),
        )
        .await
        .expect_err("init must fail");
        assert_eq!(report.error_type, "Runtime.InitError");
        assert!(report.error_message.contains(expected), "{report:?}");
        assert!(!report.error_message.contains(VALUE), "{report:?}");
    }
    assert_eq!(
        std::fs::read_dir(secrets_dir.path()).unwrap().count(),
        0,
        "nothing written"
    );
}

/// One request as seen by the fake Runtime API.
struct Seen {
    path: String,
    body: String,
}

#[tokio::test]
async fn the_bootstrap_reports_a_malformed_variable_to_init_error() {
    let task = tokio::task::spawn_blocking(|| task_dir(&ECHO))
        .await
        .unwrap();
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let server = tokio::spawn(async move {
        let (stream, _) = listener.accept().await.unwrap();
        let (read, mut write) = stream.into_split();
        let mut reader = BufReader::new(read);
        let mut line = String::new();
        reader.read_line(&mut line).await.unwrap();
        let path = line
            .split_whitespace()
            .nth(1)
            .unwrap_or_default()
            .to_string();
        let mut length = 0;
        loop {
            let mut h = String::new();
            reader.read_line(&mut h).await.unwrap();
            let h = h.trim_end();
            if h.is_empty() {
                break;
            }
            if let Some((k, v)) = h.split_once(':')
                && k.eq_ignore_ascii_case("content-length")
            {
                length = v.trim().parse().unwrap();
            }
        }
        let mut body = vec![0; length];
        reader.read_exact(&mut body).await.unwrap();
        write
            .write_all(b"HTTP/1.1 202 Accepted\r\ncontent-length: 2\r\nconnection: close\r\n\r\n{}")
            .await
            .unwrap();
        Seen {
            path,
            body: String::from_utf8_lossy(&body).into_owned(),
        }
    });
    let secrets_dir = tempfile::tempdir().unwrap();
    let output = tokio::process::Command::new(task.path().join("bootstrap"))
        .env_clear()
        .env("AWS_LAMBDA_RUNTIME_API", addr.to_string())
        .env("LAMBDA_TASK_ROOT", task.path())
        .env(SECRETS_ENV, format!(r#"{{"k": "{VALUE}"}}"#))
        .env(SECRETS_DIR_ENV, secrets_dir.path())
        .output()
        .await
        .expect("run bootstrap");
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!stderr.contains(VALUE), "{stderr}");
    let seen = server.await.unwrap();
    assert_eq!(seen.path, "/2018-06-01/runtime/init/error");
    let report: serde_json::Value = serde_json::from_str(&seen.body).unwrap();
    assert_eq!(report["errorType"], "Runtime.InitError");
    let message = report["errorMessage"].as_str().unwrap();
    assert!(
        message.contains("secret \"k\" is not standard base64"),
        "{message}"
    );
    assert!(!seen.body.contains(VALUE), "{}", seen.body);
}
