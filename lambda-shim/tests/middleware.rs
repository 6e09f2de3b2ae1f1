//! `SLSMIDDLEWARES` in the bootstrap, against the Lambda emulator (process sandbox): the task
//! dir is this build's `bootstrap`, a busybox rootfs, and `#!/bin/sh` middlewares in the image's
//! `/opt/middlewares` (run like the function: through the image's own `/bin/sh`). Order,
//! rewrites of HTTP events and raw payloads, each failure kind as `Middleware.Failed`, and the
//! init errors of missing middlewares and refused names.

use std::os::unix::fs::{PermissionsExt, symlink};
use std::path::{Path, PathBuf};
use std::time::Duration;

use bytes::Bytes;
use lambda_emulator::{Emulator, EmulatorConfig, EmulatorError, InvokeResult};
use lambda_shim::event::{event_from_request, response_from_payload};
use test_support::middlewares::{GATE, GATE_FAILURES};

/// A task dir: the bootstrap, `faas-launch.json` (`fprocess=fn`, serializing) and a rootfs
/// with busybox, the function `/bin/fn` and the middleware directory.
struct Task {
    dir: tempfile::TempDir,
}

fn write_script(path: &Path, body: &str, mode: u32) {
    std::fs::write(path, format!("#!/bin/sh\n{body}\n")).unwrap();
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

impl Task {
    fn new() -> Task {
        let dir = tempfile::Builder::new()
            .prefix("faas-shim-mw-")
            .tempdir()
            .unwrap();
        let root = dir.path().join("rootfs");
        let bin = root.join("bin");
        std::fs::create_dir_all(&bin).unwrap();
        std::fs::create_dir_all(root.join("opt/middlewares")).unwrap();
        std::fs::copy(support_busybox(), bin.join("busybox")).unwrap();
        for applet in ["sh", "sed", "cat", "sleep"] {
            symlink("busybox", bin.join(applet)).unwrap();
        }
        let bootstrap = dir.path().join("bootstrap");
        std::fs::copy(env!("CARGO_BIN_EXE_bootstrap"), &bootstrap).unwrap();
        // JSON payloads (raw invokes) are echoed; HTTP requests get a description.
        let trace = dir.path().join("trace");
        write_script(
            &bin.join("fn"),
            &format!(
                "echo fn >> {trace}\nif [ \"$Http_Path\" = / ]; then exec cat; fi\n\
                 printf 'path=%s trace=%s fail=%s body=' \"$Http_Path\" \"$Http_X_Trace\" \"$Http_X_Fail\"\ncat",
                trace = trace.display()
            ),
            0o755,
        );
        let spec = serde_json::json!({
            "rootfs": "rootfs",
            "architecture": "x86_64",
            "env": ["PATH=/bin", "fprocess=fn", "mode=serializing"],
            "entrypoint": [],
            "cmd": [],
            "working_dir": "/",
            "image": "test/middleware:1",
            "image_digest": "sha256:0",
        });
        std::fs::write(
            dir.path().join("faas-launch.json"),
            serde_json::to_vec(&spec).unwrap(),
        )
        .unwrap();
        Task { dir }
    }

    fn hook(&self, name: &str, body: &str) {
        let path = self.dir.path().join("rootfs/opt/middlewares").join(name);
        write_script(&path, body, 0o755);
    }

    /// Logs `NAME-HOOK` to the trace and appends `,NAME` to any `"x-trace":"..."` value.
    fn tracer(&self, name: &str, extra_before: &str, extra_after: &str) {
        self.hook(
            name,
            &format!(
                "echo \"{name}-$1\" >> {trace}\nif [ \"$1\" = before ]; then\n  exec sed -e {sed} {extra_before}\nelse\n  exec sed -e {sed} {extra_after}\nfi",
                sed = format!(r#"'s/"x-trace":"\([^"]*\)"/"x-trace":"\1,{name}"/'"#),
                trace = self.trace_path().display()
            ),
        );
    }

    fn trace_path(&self) -> PathBuf {
        self.dir.path().join("trace")
    }

    fn trace(&self) -> Vec<String> {
        std::fs::read_to_string(self.trace_path())
            .unwrap_or_default()
            .lines()
            .map(str::to_string)
            .collect()
    }

    fn clear_trace(&self) {
        let _ = std::fs::remove_file(self.trace_path());
    }

    async fn emulator(&self, middlewares: &str, timeout: Duration) -> Emulator {
        let mut cfg = EmulatorConfig::new("mw", self.dir.path());
        cfg.timeout = timeout;
        cfg.env = vec![("SLSMIDDLEWARES".into(), middlewares.into())];
        Emulator::start(cfg).await.expect("the emulator starts")
    }
}

fn support_busybox() -> &'static str {
    let path = "/bin/busybox";
    assert!(
        Path::new(path).exists(),
        "{path} is missing: install busybox-static (scripts/test does)"
    );
    path
}

fn http_event(path: &str, headers: &[(&str, &str)], body: &[u8]) -> Bytes {
    let mut builder = http::Request::post(path);
    for (k, v) in headers {
        builder = builder.header(*k, *v);
    }
    let (parts, ()) = builder.body(()).unwrap().into_parts();
    Bytes::from(serde_json::to_vec(&event_from_request(&parts, body, "mw-request")).unwrap())
}

fn error_of(result: &InvokeResult) -> (String, String) {
    assert_eq!(
        result.function_error.as_deref(),
        Some("Unhandled"),
        "{result:?}"
    );
    let value: serde_json::Value = serde_json::from_slice(&result.payload).unwrap();
    (
        value["errorType"].as_str().unwrap().to_string(),
        value["errorMessage"].as_str().unwrap().to_string(),
    )
}

#[tokio::test]
async fn before_in_order_after_reversed_rewriting_http_events_and_raw_payloads() {
    let task = Task::new();
    task.tracer(
        "a",
        r#"-e 's/\/in",/\/out",/g' -e 's/"body":"hello"/"body":"hello, rewritten"/'"#,
        r#"-e 's/"statusCode":200/"statusCode":201/' -e 's/"headers":{/"headers":{"x-after":"a",/' -e 's/body=hello, rewritten/body=HELLO, REWRITTEN/'"#,
    );
    task.tracer("b", "", "");
    task.tracer("c", "", "");
    let emu = task.emulator("a,b,c", Duration::from_secs(20)).await;

    let event = http_event(
        "/in",
        &[("content-type", "text/plain"), ("x-trace", "start")],
        b"hello",
    );
    let result = emu.invoke(event).await.unwrap();
    assert_eq!(result.function_error, None, "{result:?}");
    assert_eq!(result.content_type.as_deref(), Some("application/json"));
    let response = response_from_payload(&result.payload).unwrap();
    assert_eq!(response.status(), 201);
    assert_eq!(response.headers()["x-after"], "a");
    assert_eq!(
        response.body().as_ref(),
        b"path=/out trace=start,a,b,c fail= body=HELLO, REWRITTEN"
    );
    assert_eq!(
        task.trace(),
        [
            "a-before", "b-before", "c-before", "fn", "c-after", "b-after", "a-after"
        ]
    );

    // A raw payload goes through as received, the function's result likewise.
    task.clear_trace();
    let result = emu
        .invoke(Bytes::from_static(br#"{"x-trace":"raw"}"#))
        .await
        .unwrap();
    assert_eq!(result.function_error, None, "{result:?}");
    let value: serde_json::Value = serde_json::from_slice(&result.payload).unwrap();
    assert_eq!(value["x-trace"], "raw,a,b,c,c,b,a");
    assert_eq!(task.trace().len(), 7);
    emu.stop().await;
}

#[tokio::test]
async fn each_failure_is_a_middleware_failed_error_and_a_failed_before_skips_the_function() {
    let task = Task::new();
    task.hook("gate", GATE);
    let emu = task.emulator("gate", Duration::from_secs(3)).await;
    for (fail, function_runs, message) in GATE_FAILURES {
        task.clear_trace();
        let event = http_event("/x", &[("x-fail", fail)], b"x");
        let result = emu.invoke(event).await.unwrap();
        let (error_type, error_message) = error_of(&result);
        assert_eq!(error_type, "Middleware.Failed", "{fail}: {error_message}");
        assert!(
            error_message.starts_with(message),
            "{fail}: {error_message}"
        );
        assert_eq!(
            task.trace().contains(&"fn".to_string()),
            function_runs,
            "{fail}: did the function run?"
        );
    }
    // The same hook lets a plain call (and a raw payload) through.
    let result = emu.invoke(http_event("/x", &[], b"fine")).await.unwrap();
    assert_eq!(result.function_error, None, "{result:?}");
    let result = emu.invoke(Bytes::from_static(b"[1]")).await.unwrap();
    assert_eq!(result.payload.as_ref(), b"[1]");
    emu.stop().await;
}

#[tokio::test]
async fn a_missing_unusable_or_refused_middleware_is_an_init_error_naming_it() {
    let task = Task::new();
    task.hook("ok", "exec cat");
    task.hook("plain", "exec cat");
    let plain = task.dir.path().join("rootfs/opt/middlewares/plain");
    std::fs::set_permissions(&plain, std::fs::Permissions::from_mode(0o644)).unwrap();
    for (list, expected) in [
        ("ok,gone", r#"middleware "gone" is missing"#),
        ("plain,ok", r#"middleware "plain" is not executable"#),
        ("ok,../escape", "invalid middleware name"),
        ("sub/dir", "invalid middleware name"),
    ] {
        let emu = task.emulator(list, Duration::from_secs(20)).await;
        match emu.invoke(Bytes::from_static(b"{}")).await {
            Err(EmulatorError::InitFailed {
                error_type,
                message,
            }) => {
                assert_eq!(error_type, "Runtime.InitError", "{list}: {message}");
                assert!(message.contains(expected), "{list}: {message}");
            }
            other => panic!("{list}: expected an init error, got {other:?}"),
        }
        emu.stop().await;
        assert!(task.trace().is_empty(), "{list}: the function ran");
    }
}
