//! The emulator with the process sandbox, end to end: task dirs built from the test images
//! (static `bootstrap` + rootfs + `faas-launch.json`), invoked through the Invoke front end.

mod common;

use std::time::Duration;

use common::*;
use lambda_emulator::{EmulatorError, MAX_PAYLOAD_BYTES};
use test_support::images::{self, TestImage};
use test_support::sandbox::task_dir;

async fn http_and_raw(
    image: TestImage,
) -> (http::Response<bytes::Bytes>, Answer, tempfile::TempDir) {
    let dir = task_dir(&image);
    let emu = emulator("fn", dir.path(), |_| {}).await;
    let event = http_event(
        "POST",
        "/some/path?x=1",
        &[("content-type", "text/plain"), ("x-custom", "yes")],
        b"hello event",
    );
    let http = invoke(&emu, event).await.http();
    let raw = invoke(&emu, r#"{"raw":"payload"}"#).await;
    emu.stop().await;
    (http, raw, dir)
}

#[tokio::test]
async fn echo_answers_an_http_event_and_a_raw_payload() {
    let (http, raw, _dir) = http_and_raw(images::ECHO).await;
    assert_eq!(http.status(), 200);
    assert_eq!(http.headers()["content-type"], "text/plain");
    assert_eq!(http.body().as_ref(), b"hello event");
    assert_eq!(raw.status, 200);
    assert_eq!(raw.header("x-amz-function-error"), None);
    assert_eq!(raw.header("x-amz-executed-version"), Some("$LATEST"));
    assert_eq!(raw.text(), r#"{"raw":"payload"}"#);
}

#[tokio::test]
async fn env_sees_the_request_the_trace_id_and_the_relocated_path() {
    let (http, raw, dir) = http_and_raw(images::ENV).await;
    let body = String::from_utf8_lossy(http.body()).into_owned();
    let rootfs = std::fs::canonicalize(dir.path().join("rootfs")).unwrap();
    for line in [
        "Http_Method=POST".to_string(),
        "Http_Path=/some/path".to_string(),
        "Http_Query=x=1".to_string(),
        "Http_X_Custom=yes".to_string(),
        "AWS_LAMBDA_FUNCTION_NAME=fn".to_string(),
        "AWS_LAMBDA_FUNCTION_VERSION=$LATEST".to_string(),
        "fprocess=env".to_string(),
        format!(
            "PATH={}/usr/local/bin:{}/usr/bin:{}/bin",
            rootfs.display(),
            rootfs.display(),
            rootfs.display()
        ),
    ] {
        assert!(
            body.lines().any(|l| l == line),
            "{line} missing in:\n{body}"
        );
    }
    assert!(body.contains("_X_AMZN_TRACE_ID=Root=1-"), "{body}");
    assert!(!body.contains("AWS_LAMBDA_RUNTIME_API"), "{body}");
    let raw = raw.text();
    assert!(raw.contains("Http_Method=POST"), "{raw}");
    assert!(raw.contains("Http_Content_Type=application/json"), "{raw}");
}

#[tokio::test]
async fn a_dynamically_linked_program_runs_through_the_image_loader() {
    let (http, raw, _dir) = http_and_raw(images::DYNAMIC).await;
    assert_eq!(http.status(), 200);
    assert_eq!(http.body().as_ref(), b"dynamic: hello event");
    assert_eq!(raw.text(), r#"dynamic: {"raw":"payload"}"#);
}

#[tokio::test]
async fn a_failing_function_is_an_unhandled_function_error() {
    let dir = task_dir(&images::FAIL);
    let emu = emulator("fail", dir.path(), |_| {}).await;
    let answer = invoke(&emu, "{}").await;
    assert_eq!(answer.status, 200, "function errors keep 200");
    assert_eq!(answer.header("x-amz-function-error"), Some("Unhandled"));
    let error = answer.json();
    assert_eq!(error["errorType"], "Runtime.ExitError");
    let message = error["errorMessage"].as_str().unwrap();
    assert!(message.contains(images::FAIL_MESSAGE), "{message}");
    // Through the HTTP event path the watchdog's 500 is the function's HTTP answer.
    let http = invoke(&emu, http_event("GET", "/", &[], b"")).await.http();
    assert_eq!(http.status(), 500);
    emu.stop().await;
}

#[tokio::test]
async fn lambdas_wire_format_for_platform_errors() {
    let dir = task_dir(&images::ECHO);
    let emu = emulator("echo", dir.path(), |_| {}).await;
    let check = |a: &Answer, status: u16, code: &str| {
        assert_eq!(a.status, status, "{}", a.text());
        assert_eq!(a.header("x-amzn-errortype"), Some(code), "{}", a.text());
        assert!(!a.json()["message"].as_str().unwrap().is_empty());
    };
    check(
        &invoke_http(&emu, "other", &[], "{}").await,
        404,
        "ResourceNotFoundException",
    );
    check(
        &invoke_http(&emu, "echo:7", &[], "{}").await,
        404,
        "ResourceNotFoundException",
    );
    check(
        &invoke_http(&emu, "echo", &[], "not json").await,
        400,
        "InvalidRequestContentException",
    );
    check(
        &invoke_http(
            &emu,
            "echo",
            &[("x-amz-invocation-type", "Sometimes")],
            "{}",
        )
        .await,
        400,
        "InvalidParameterValueException",
    );
    let mut big = vec![b' '; MAX_PAYLOAD_BYTES + 1];
    big[0] = b'1';
    check(
        &invoke_http(&emu, "echo", &[], big).await,
        413,
        "RequestTooLargeException",
    );
    check(
        &invoke_http(
            &emu,
            "echo",
            &[("x-amz-invocation-type", "Event")],
            vec![b' '; 1024 * 1024 + 1],
        )
        .await,
        413,
        "RequestTooLargeException",
    );
    assert!(matches!(
        emu.invoke(vec![b'x'; MAX_PAYLOAD_BYTES + 1].into()).await,
        Err(EmulatorError::PayloadTooLarge { .. })
    ));
    // At the limit it goes through (cat answers the same bytes, exactly at the result limit).
    let mut max = vec![b' '; MAX_PAYLOAD_BYTES];
    max[0] = b'1';
    let answer = invoke(&emu, max.clone()).await;
    assert_eq!(
        answer.status,
        200,
        "{}",
        &answer.text()[..200.min(answer.text().len())]
    );
    assert_eq!(answer.body.len(), MAX_PAYLOAD_BYTES);

    let arn = "arn:aws:lambda:us-east-1:000000000000:function:echo";
    assert_eq!(invoke_http(&emu, arn, &[], "1").await.text(), "1");
    assert_eq!(
        invoke_http(&emu, "echo:$LATEST", &[], "2").await.text(),
        "2"
    );
    let dry = invoke_http(&emu, "echo", &[("x-amz-invocation-type", "DryRun")], "{}").await;
    assert_eq!(dry.status, 204);
    let event = invoke_http(&emu, "echo", &[("x-amz-invocation-type", "Event")], "{}").await;
    assert_eq!(event.status, 202);

    emu.set_concurrency(Some(0));
    let throttled = invoke(&emu, "{}").await;
    check(&throttled, 429, "TooManyRequestsException");
    assert_eq!(
        throttled.json()["Reason"],
        "ReservedFunctionConcurrentInvocationLimitExceeded"
    );
    emu.set_concurrency(None);
    assert_eq!(invoke(&emu, "3").await.text(), "3");
    emu.stop().await;
}

#[tokio::test]
async fn a_busy_function_at_its_concurrency_limit_throttles() {
    // A runtime that takes an event and never answers: the first invoke stays in flight.
    let dir = script_task(
        "echo start >> \"$COUNT\"\n/bin/busybox wget -q -O /dev/null \"$API/invocation/next\"\nexec /bin/busybox sleep 1000",
    );
    let emu = emulator("busy", dir.path(), |c| {
        c.max_concurrency = Some(1);
        c.timeout = Duration::from_secs(30);
    })
    .await;
    let first = tokio::spawn({
        let url = format!("{}/2015-03-31/functions/busy/invocations", emu.invoke_url());
        async move { reqwest::Client::new().post(url).body("{}").send().await }
    });
    eventually("the first invoke is in flight", || emu.inflight() == 1).await;
    let second = invoke(&emu, "{}").await;
    assert_eq!(second.status, 429, "{}", second.text());
    assert_eq!(
        second.header("x-amzn-errortype"),
        Some("TooManyRequestsException")
    );
    emu.stop().await;
    let _ = first.await;
}

#[tokio::test]
async fn the_timeout_kills_the_sandbox_and_the_next_invoke_restarts_it() {
    // This runtime ignores deadlines: only the emulator can end the invocation.
    let dir = script_task(
        "echo start >> \"$COUNT\"\nwhile true; do /bin/busybox wget -q -O /dev/null \"$API/invocation/next\"; /bin/busybox sleep 1000; done",
    );
    let emu = emulator("sleepy", dir.path(), |c| c.timeout = Duration::from_secs(1)).await;
    for round in 1..=2 {
        let answer = invoke(&emu, "{}").await;
        assert_eq!(answer.status, 200);
        assert_eq!(answer.header("x-amz-function-error"), Some("Unhandled"));
        let error = answer.json();
        assert_eq!(error["errorType"], "Sandbox.Timeout");
        assert_eq!(error["errorMessage"], "Task timed out after 1.00 seconds");
        assert_eq!(
            starts(dir.path()),
            round,
            "one runtime start per invoke after a timeout"
        );
    }
    emu.stop().await;
}

#[tokio::test]
async fn the_shim_enforces_the_deadline_on_the_function_process() {
    let dir = task_dir(&images::SLOW);
    let emu = emulator("slow", dir.path(), |c| c.timeout = Duration::from_secs(2)).await;
    let answer = invoke(&emu, "{}").await;
    assert_eq!(
        answer.header("x-amz-function-error"),
        Some("Unhandled"),
        "{}",
        answer.text()
    );
    let error = answer.json();
    assert_eq!(error["errorType"], "Sandbox.Timeout", "{error}");
    assert!(
        error["errorMessage"]
            .as_str()
            .unwrap()
            .starts_with("Task timed out after"),
        "{error}"
    );
    // The function's `sleep` (busybox from the rootfs) is gone, whoever timed out first.
    let rootfs = dir.path().join("rootfs");
    eventually("the function's processes are killed", || {
        processes_under(&rootfs).is_empty()
    })
    .await;
    // And the function still answers (X-Sleep-Seconds: 0 through the event path).
    let http = invoke(
        &emu,
        http_event("POST", "/", &[("x-sleep-seconds", "0")], b"awake"),
    )
    .await
    .http();
    assert_eq!(http.body().as_ref(), b"awake");
    emu.stop().await;
}

#[tokio::test]
async fn init_failures_are_502_with_the_runtimes_error() {
    // The real shim: a program that is not in the image → /init/error.
    let dir = task_dir(&images::ECHO);
    let spec_path = dir.path().join("faas-launch.json");
    let mut spec: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&spec_path).unwrap()).unwrap();
    spec["env"] = serde_json::json!(["PATH=/bin", "fprocess=no-such-program"]);
    std::fs::write(&spec_path, spec.to_string()).unwrap();
    let emu = emulator("broken", dir.path(), |_| {}).await;
    for _ in 0..2 {
        let answer = invoke(&emu, "{}").await;
        assert_eq!(answer.status, 502, "{}", answer.text());
        assert_eq!(
            answer.header("x-amzn-errortype"),
            Some("InvalidRuntimeException")
        );
        let body = answer.json();
        assert_eq!(body["errorType"], "Runtime.InvalidEntrypoint", "{body}");
        assert!(
            body["message"]
                .as_str()
                .unwrap()
                .contains("no-such-program"),
            "{body}"
        );
    }
    emu.stop().await;

    // A runtime that exits before asking for an event.
    let dir = script_task("echo start >> \"$COUNT\"\nexit 3");
    let emu = emulator("exits", dir.path(), |_| {}).await;
    let answer = invoke(&emu, "{}").await;
    assert_eq!(answer.status, 502);
    assert_eq!(answer.json()["errorType"], "Runtime.ExitError");
    assert!(answer.text().contains("exit status 3"), "{}", answer.text());
    emu.stop().await;

    // A runtime that never asks: the init timeout.
    let dir = script_task("exec /bin/busybox sleep 1000");
    let emu = emulator("stuck", dir.path(), |c| {
        c.init_timeout = Duration::from_secs(1)
    })
    .await;
    let answer = invoke(&emu, "{}").await;
    assert_eq!(answer.status, 502);
    assert_eq!(answer.json()["errorType"], "Sandbox.Timeout");
    emu.stop().await;
}

#[tokio::test]
async fn invalid_configurations_are_refused() {
    let dir = task_dir(&images::ECHO);
    let start = |adjust: fn(&mut lambda_emulator::EmulatorConfig)| {
        let mut cfg = lambda_emulator::EmulatorConfig::new("ok", dir.path());
        adjust(&mut cfg);
        lambda_emulator::Emulator::start(cfg)
    };
    for adjust in [
        (|c: &mut lambda_emulator::EmulatorConfig| c.function_name = "bad name".into())
            as fn(&mut lambda_emulator::EmulatorConfig),
        |c| c.timeout = Duration::ZERO,
        |c| c.memory_mb = 64,
        |c| c.env.push(("AWS_LAMBDA_RUNTIME_API".into(), "x".into())),
        |c| c.task_dir = c.task_dir.join("rootfs"),
    ] {
        assert!(matches!(
            start(adjust).await,
            Err(EmulatorError::InvalidConfig(_))
        ));
    }
}

/// Pids of the task's own `bootstrap` (the runtime), not of the function it runs.
fn runtimes(dir: &std::path::Path) -> Vec<i32> {
    let function = processes_under(&dir.join("rootfs"));
    let mut pids: Vec<i32> = processes_under(dir)
        .into_iter()
        .filter(|pid| !function.contains(pid))
        .collect();
    pids.sort();
    pids
}

#[tokio::test]
async fn a_warm_pool_initialises_runtimes_before_the_first_invoke_which_takes_one() {
    let dir = task_dir(&images::ECHO);
    let emu = emulator("warm", dir.path(), |_| {}).await;
    assert!(runtimes(dir.path()).is_empty(), "environments start lazily");
    assert_eq!(emu.keep_warm(1).await.unwrap(), 1);
    assert_eq!(emu.warm(), 1);
    let standby = runtimes(dir.path());
    assert_eq!(
        standby.len(),
        1,
        "one runtime initialised ahead of any invoke"
    );
    assert_eq!(emu.keep_warm(1).await.unwrap(), 1);
    assert_eq!(runtimes(dir.path()), standby, "kept, not restarted");

    let answer = invoke(&emu, r#"{"first":"call"}"#).await;
    assert_eq!(answer.text(), r#"{"first":"call"}"#);
    assert_eq!(
        runtimes(dir.path()),
        standby,
        "the invoke took the initialised runtime: no new init"
    );

    // Two ahead, then none: the pool grows and is reset.
    assert_eq!(emu.keep_warm(2).await.unwrap(), 2);
    assert_eq!(runtimes(dir.path()).len(), 2);
    assert_eq!(emu.keep_warm(0).await.unwrap(), 0);
    eventually("the standby runtimes are gone", || {
        runtimes(dir.path()).is_empty()
    })
    .await;
    emu.stop().await;
}

#[tokio::test]
async fn a_warm_pool_whose_init_fails_is_the_init_error_and_leaves_nothing() {
    let dir = script_task("echo start >> \"$COUNT\"\nexit 3");
    let emu = emulator("broken", dir.path(), |_| {}).await;
    match emu.keep_warm(1).await {
        Err(EmulatorError::InitFailed { error_type, .. }) => {
            assert_eq!(error_type, "Runtime.ExitError")
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(starts(dir.path()), 1);
    assert_eq!(emu.warm(), 0);
    emu.stop().await;
}
