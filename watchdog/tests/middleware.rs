//! `SLSMIDDLEWARES` through the real `fwatchdog` binary in every mode: the request reaches the
//! `before` hooks as an API Gateway v2 event and the response the `after` hooks as an API
//! Gateway v2 response; order, rewrites, each failure kind, the start check, refused names and
//! the body limit. Hooks and functions are `#!/bin/sh` scripts (sed, no jq) in a temp dir.

mod support;

use std::path::Path;

use support::{Fwatchdog, busybox, client, free_port, script};
use test_support::middlewares::{GATE, GATE_FAILURES};

const MODES: [&str; 3] = ["serializing", "streaming", "http"];

/// Where the function, its upstream and the hooks of one watchdog live.
struct Setup {
    dir: tempfile::TempDir,
    vars: Vec<(String, String)>,
}

impl Setup {
    /// A function for `mode` that appends `fn` to `trace` and answers
    /// `path=P trace=X-Trace fail=X-Fail body=BODY` (a CGI script behind busybox httpd in http
    /// mode), and the middleware directory `mw/`.
    fn new(mode: &str) -> Setup {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().to_path_buf();
        let trace = root.join("trace");
        std::fs::create_dir(root.join("mw")).unwrap();
        let mut vars = vec![
            ("mode".to_string(), mode.to_string()),
            (
                "SLSMIDDLEWARES_DIR".to_string(),
                root.join("mw").display().to_string(),
            ),
            ("exec_timeout".to_string(), "3s".to_string()),
        ];
        if mode == "http" {
            let cgi = root.join("www/cgi-bin");
            std::fs::create_dir_all(&cgi).unwrap();
            script(
                &cgi,
                "out",
                &format!(
                    "#!/bin/sh\necho fn >> {trace}\nprintf 'Status: 200 OK\\r\\nContent-Type: text/plain\\r\\n\\r\\n'\n\
                     printf 'path=%s trace=%s fail=%s body=' \"$REQUEST_URI\" \"$HTTP_X_TRACE\" \"$HTTP_X_FAIL\"\ncat\n",
                    trace = trace.display()
                ),
            );
            let port = free_port();
            let upstream = script(
                &root,
                "upstream.sh",
                &format!(
                    "#!/bin/sh\necho started > {root}/upstream-started\nexec {bb} httpd -f -p 127.0.0.1:{port} -h {root}/www\n",
                    root = root.display(),
                    bb = busybox()
                ),
            );
            vars.push(("fprocess".into(), upstream));
            vars.push(("upstream_url".into(), format!("http://127.0.0.1:{port}")));
        } else {
            let function = script(
                &root,
                "function.sh",
                &format!(
                    "#!/bin/sh\necho fn >> {trace}\nprintf 'path=%s trace=%s fail=%s body=' \"$Http_Path\" \"$Http_X_Trace\" \"$Http_X_Fail\"\ncat\n",
                    trace = trace.display()
                ),
            );
            vars.push(("fprocess".into(), function));
        }
        Setup { dir, vars }
    }

    fn hook(&self, name: &str, body: &str) {
        script(
            &self.dir.path().join("mw"),
            name,
            &format!("#!/bin/sh\n{body}\n"),
        );
    }

    /// A hook that logs `NAME-HOOK` to `trace` and, before, appends `,NAME` to `X-Trace`.
    fn tracer(&self, name: &str, extra_before: &str, extra_after: &str) {
        let trace = self.trace_path();
        self.hook(
            name,
            &format!(
                "echo \"{name}-$1\" >> {trace}\nif [ \"$1\" = before ]; then\n  exec sed -e 's/\"x-trace\":\"\\([^\"]*\\)\"/\"x-trace\":\"\\1,{name}\"/' {extra_before}\nelse\n  exec sed -e 's/^//' {extra_after}\nfi",
                trace = trace.display()
            ),
        );
    }

    fn trace_path(&self) -> std::path::PathBuf {
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

    fn start(self, middlewares: &str, extra: &[(&str, &str)]) -> (Fwatchdog, Setup) {
        let mut vars: Vec<(&str, &str)> = self
            .vars
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        vars.push(("SLSMIDDLEWARES", middlewares));
        vars.extend_from_slice(extra);
        let dir = tempfile::tempdir().unwrap();
        (Fwatchdog::start_in(dir, &vars), self)
    }
}

/// The request path each mode's function is reached by before the rewrite to `/out`.
fn path_in(mode: &str) -> &'static str {
    if mode == "http" { "/cgi-bin/in" } else { "/in" }
}

fn path_out(mode: &str) -> &'static str {
    if mode == "http" {
        "/cgi-bin/out"
    } else {
        "/out"
    }
}

#[tokio::test]
async fn before_in_order_after_reversed_and_both_rewrite_in_every_mode() {
    for mode in MODES {
        let setup = Setup::new(mode);
        // `a` (listed first) rewrites the request's path and body, and the response's status,
        // a header and the body; `b` and `c` only trace.
        setup.tracer(
            "a",
            r#"-e 's/\/in",/\/out",/g' -e 's/"body":"hello"/"body":"hello, rewritten"/'"#,
            r#"-e 's/"statusCode":200/"statusCode":201/' -e 's/"headers":{/"headers":{"x-after":"a",/' -e 's/body=hello, rewritten/body=HELLO, REWRITTEN/'"#,
        );
        setup.tracer("b", "", "");
        setup.tracer("c", "", "");
        let (wd, setup) = setup.start("a,b,c", &[]);
        wd.wait_healthy().await;
        assert!(wd.log().contains("Middlewares: a,b,c"), "{}", wd.log());
        let response = client()
            .post(wd.url(path_in(mode)))
            .header("Content-Type", "text/plain")
            .header("X-Trace", "start")
            .body("hello")
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 201, "{mode}");
        assert_eq!(response.headers()["x-after"], "a", "{mode}");
        let body = response.text().await.unwrap();
        assert_eq!(
            body,
            format!(
                "path={} trace=start,a,b,c fail= body=HELLO, REWRITTEN",
                path_out(mode)
            ),
            "{mode}"
        );
        assert_eq!(
            setup.trace(),
            [
                "a-before", "b-before", "c-before", "fn", "c-after", "b-after", "a-after"
            ],
            "{mode}"
        );
    }
}

// `gate` (test-support's `GATE`) fails the way the `X-Fail` header asks; the function echoes
// `X-Fail` so the `after` hook sees it too.
#[tokio::test]
async fn each_failure_is_a_502_naming_the_hook_and_a_failed_before_skips_the_function() {
    for mode in MODES {
        let setup = Setup::new(mode);
        setup.hook("gate", GATE);
        let (wd, setup) = setup.start("gate", &[]);
        wd.wait_healthy().await;
        // The failures every runner reports alike, and one of a runner of HTTP events.
        let shape = (
            "shape-before",
            false,
            r#"middleware "gate" (before) printed an event that is not an API Gateway v2 HTTP event"#,
        );
        let cases = GATE_FAILURES.into_iter().chain([shape]);
        for (fail, function_runs, message) in cases {
            setup.clear_trace();
            let response = client()
                .post(wd.url(path_out(mode)))
                .header("X-Fail", fail)
                .body("x")
                .send()
                .await
                .unwrap();
            assert_eq!(response.status(), 502, "{mode} {fail}");
            assert_eq!(
                response.headers()["x-openfaas-internal"],
                "of-watchdog",
                "{mode} {fail}"
            );
            let body = response.text().await.unwrap();
            assert!(body.starts_with(message), "{mode} {fail}: {body}");
            let ran = setup.trace().contains(&"fn".to_string());
            assert_eq!(ran, function_runs, "{mode} {fail}: function ran?");
        }
        if mode == "serializing" {
            assert!(
                wd.log().contains("gate refused the before call"),
                "{}",
                wd.log()
            );
        }
        // The same hook lets a plain call through.
        let response = client()
            .post(wd.url(path_out(mode)))
            .body("ok")
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200, "{mode}");
    }
}

#[tokio::test]
async fn bodies_past_the_limit_are_refused_and_only_with_middlewares() {
    for mode in MODES {
        let setup = Setup::new(mode);
        setup.hook("pass", "exec cat");
        let (wd, setup) = setup.start("pass", &[("middleware_max_body_bytes", "64")]);
        wd.wait_healthy().await;
        let ok = client()
            .post(wd.url(path_out(mode)))
            .body("small")
            .send()
            .await
            .unwrap();
        assert_eq!(ok.status(), 200, "{mode}");
        setup.clear_trace();
        let big = "y".repeat(65);
        let response = client()
            .post(wd.url(path_out(mode)))
            .body(big.clone())
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 413, "{mode}");
        let text = response.text().await.unwrap();
        assert!(
            text.contains("middleware_max_body_bytes (64 bytes)"),
            "{text}"
        );
        // Chunked, so no Content-Length announces it.
        let chunks = futures::stream::iter([big.clone()].map(Ok::<_, std::io::Error>));
        let response = client()
            .post(wd.url(path_out(mode)))
            .body(reqwest::Body::wrap_stream(chunks))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 413, "{mode}");
        assert!(setup.trace().is_empty(), "{mode}: the function ran");
        // A response past the limit (the function echoes 60 bytes after its 30-byte prefix).
        let response = client()
            .post(wd.url(path_out(mode)))
            .body("z".repeat(60))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 502, "{mode}");
        let text = response.text().await.unwrap();
        assert!(text.contains("the function's response exceeds"), "{text}");

        // Without middlewares nothing is buffered, so the limit does not apply.
        drop(wd); // (http mode: frees the upstream's port)
        let (wd, _setup) = setup.start("", &[("middleware_max_body_bytes", "64")]);
        wd.wait_healthy().await;
        let response = client()
            .post(wd.url(path_out(mode)))
            .body(big.clone())
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200, "{mode}");
        assert!(response.text().await.unwrap().ends_with(&big), "{mode}");
    }
}

#[tokio::test]
async fn a_missing_or_unusable_middleware_keeps_the_watchdog_from_becoming_healthy() {
    for mode in MODES {
        for (present, listed, named, problem) in [
            (&["ok"][..], "ok,gone", "gone", "is missing"),
            (
                &["ok", "plain"][..],
                "ok,plain",
                "plain",
                "is not executable",
            ),
        ] {
            let setup = Setup::new(mode);
            for name in present {
                setup.hook(name, "exec cat");
            }
            let plain = setup.dir.path().join("mw/plain");
            if plain.exists() {
                use std::os::unix::fs::PermissionsExt;
                std::fs::set_permissions(&plain, std::fs::Permissions::from_mode(0o644)).unwrap();
            }
            let (mut wd, setup) = setup.start(listed, &[]);
            let status = wd.wait_exit();
            assert!(!status.success(), "{mode} {listed}");
            let log = wd.log();
            let expected = format!("middleware \"{named}\" {problem}");
            assert!(
                log.contains(&expected),
                "{mode}: {expected:?} not in:\n{log}"
            );
            assert!(!wd.lock_path().exists(), "{mode}: a lock file was written");
            assert!(
                !Path::new(&setup.dir.path().join("upstream-started")).exists(),
                "{mode}: the function's process was started"
            );
        }
    }
}

#[test]
fn refused_names_are_a_configuration_error() {
    for mode in MODES {
        let setup = Setup::new(mode);
        for bad in ["../escape", "sub/dir", "a,,b"] {
            let output = std::process::Command::new(env!("CARGO_BIN_EXE_fwatchdog"))
                .envs(setup.vars.iter().map(|(k, v)| (k, v)))
                .env("SLSMIDDLEWARES", bad)
                .env("port", "0")
                .env("bind_address", "127.0.0.1")
                .env("TMPDIR", setup.dir.path())
                .output()
                .unwrap();
            assert!(!output.status.success(), "{mode} {bad:?}");
            let stderr = String::from_utf8_lossy(&output.stderr);
            assert!(
                stderr.contains("invalid middleware name") && stderr.contains("SLSMIDDLEWARES"),
                "{mode} {bad:?}:\n{stderr}"
            );
            assert!(!setup.dir.path().join("upstream-started").exists());
        }
    }
}
