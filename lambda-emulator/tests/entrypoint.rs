//! The entrypoint of imported zips (`lambda_emulator::entrypoint`) over a real emulator: the
//! health route, a Lambda `Invoke` (marked by the header: the event and the response as they
//! are), an HTTP call (an API Gateway v2 event and the response description mapped back), and
//! function errors (500 with the error for an Invoke, 502 for an HTTP call). The function is
//! `faas-lambda-echo`, the project's smallest custom runtime.

mod common;

use std::os::unix::fs::PermissionsExt;
use std::sync::Arc;
use std::time::Duration;

use common::{emulator, script_task};
use lambda_emulator::Emulator;
use lambda_emulator::entrypoint::{INVOKE_HEADER, router};

/// Serves the entrypoint over `emulator` on 127.0.0.1; returns its base URL.
async fn serve(emulator: Emulator, max_inflight: usize) -> String {
    let app = router(Arc::new(emulator), max_inflight);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    url
}

fn echo_task() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let bootstrap = dir.path().join("bootstrap");
    std::fs::copy(env!("CARGO_BIN_EXE_faas-lambda-echo"), &bootstrap).unwrap();
    std::fs::set_permissions(&bootstrap, std::fs::Permissions::from_mode(0o755)).unwrap();
    dir
}

#[tokio::test]
async fn invokes_pass_events_unchanged_and_http_calls_become_api_gateway_events() {
    let dir = echo_task();
    let url = serve(
        emulator("echo", dir.path(), |c| {
            c.max_concurrency = Some(2);
            c.handler = "echo.handler".into();
        })
        .await,
        2,
    )
    .await;
    let client = reqwest::Client::new();

    let health = client.get(format!("{url}/_/health")).send().await.unwrap();
    assert_eq!(health.status(), 200);

    // The bytes of an Invoke reach the function as they are (JSON or not), and its answer
    // comes back as it is.
    for payload in [r#"{"a": [1, 2]}"#, "not JSON at all"] {
        let answer = client
            .post(format!("{url}/"))
            .header(INVOKE_HEADER, "1")
            .body(payload)
            .send()
            .await
            .unwrap();
        assert_eq!(answer.status(), 200);
        assert_eq!(answer.text().await.unwrap(), payload);
    }

    let answer = client
        .put(format!("{url}/a/b?k=v&k=w"))
        .header("content-type", "text/plain")
        .body("over HTTP")
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 200);
    let header = |name: &str| answer.headers()[name].to_str().unwrap().to_string();
    assert_eq!(header("x-echo-method"), "PUT");
    assert_eq!(header("x-echo-path"), "/a/b");
    assert_eq!(header("x-echo-query"), "k=v&k=w");
    assert_eq!(header("x-echo-handler"), "echo.handler", "_HANDLER");
    assert_eq!(header("content-type"), "text/plain");
    assert_eq!(answer.text().await.unwrap(), "over HTTP");

    // Several calls at once share the two execution environments (none is refused).
    let calls = (0..6).map(|i| {
        let client = client.clone();
        let url = url.clone();
        async move {
            let answer = client
                .post(format!("{url}/"))
                .header(INVOKE_HEADER, "1")
                .body(format!("[{i}]"))
                .send()
                .await
                .unwrap();
            (answer.status().as_u16(), answer.text().await.unwrap())
        }
    });
    let answers = futures::future::join_all(calls).await;
    for (i, answer) in answers.into_iter().enumerate() {
        assert_eq!(answer, (200, format!("[{i}]")));
    }
}

#[tokio::test]
async fn function_errors_are_500_for_invokes_and_502_for_http_calls() {
    let dir = script_task(
        "while true; do /bin/busybox wget -q -O /dev/null \"$API/invocation/next\"; /bin/busybox sleep 1000; done",
    );
    let emulator = emulator("sleepy", dir.path(), |c| c.timeout = Duration::from_secs(1)).await;
    let url = serve(emulator, 1).await;
    let client = reqwest::Client::new();
    let answer = client
        .post(format!("{url}/"))
        .header(INVOKE_HEADER, "1")
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 500);
    assert_eq!(
        answer.headers()["x-amz-function-error"].to_str().unwrap(),
        "Unhandled"
    );
    let error: serde_json::Value = answer.json().await.unwrap();
    assert_eq!(error["errorType"], "Sandbox.Timeout");

    let answer = client.get(format!("{url}/page")).send().await.unwrap();
    assert_eq!(answer.status(), 502);
}
