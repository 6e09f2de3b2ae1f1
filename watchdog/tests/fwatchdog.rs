//! The real `fwatchdog` binary over real HTTP on 127.0.0.1: every mode and watchdog feature.

mod support;

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::time::Duration;

use futures::StreamExt;
use nix::sys::signal::Signal;
use support::{Fwatchdog, alive, busybox, client, free_port, script, wait_until};

const FORK_MODES: [&str; 2] = ["serializing", "streaming"];

fn env_lines(body: &str) -> BTreeMap<String, String> {
    body.lines()
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

#[tokio::test]
async fn serializing_echoes_the_body_and_logs_like_the_classic_watchdog() {
    let wd = Fwatchdog::start(&[("mode", "serializing"), ("fprocess", "cat")]);
    wd.wait_healthy().await;
    let response = client()
        .post(wd.url("/"))
        .header("Content-Type", "text/plain")
        .body("hello")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "text/plain");
    assert_eq!(response.headers()["content-length"], "5");
    let duration: f64 = response.headers()["x-duration-seconds"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(duration >= 0.0);
    assert_eq!(response.text().await.unwrap(), "hello");
    wd.wait_log("Wrote 5 Bytes").await;
    assert!(wd.log().contains("Forking fprocess."), "{}", wd.log());
}

#[tokio::test]
async fn classic_alias_and_content_type_override() {
    let wd = Fwatchdog::start(&[
        ("mode", "classic"),
        ("fprocess", "cat"),
        ("content_type", "application/json"),
    ]);
    wd.wait_healthy().await;
    let response = client()
        .post(wd.url("/"))
        .header("Content-Type", "text/plain")
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "application/json");
    assert_eq!(response.text().await.unwrap(), "{}");
    assert!(wd.log().contains("Watchdog mode: serializing"));
}

#[tokio::test]
async fn every_http_variable_in_both_fork_modes() {
    for mode in FORK_MODES {
        let wd = Fwatchdog::start(&[("mode", mode), ("fprocess", "env")]);
        wd.wait_healthy().await;
        let host = wd.addr.to_string();

        let response = client()
            .post(wd.url("/some/pa%20th?q=1&x=a%20b"))
            .header("Content-Type", "text/plain")
            .header("X-Custom-Header", "abc")
            .header("x-lower-case", "low")
            .body("12345")
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200, "{mode}");
        let env = env_lines(&response.text().await.unwrap());
        let expect = [
            ("Http_Method", "POST"),
            ("Http_ContentLength", "5"),
            ("Http_Content_Length", "5"),
            ("Http_Query", "q=1&x=a%20b"),
            ("Http_Path", "/some/pa th"),
            ("Http_Host", host.as_str()),
            ("Http_Content_Type", "text/plain"),
            ("Http_X_Custom_Header", "abc"),
            ("Http_X_Lower_Case", "low"),
            ("mode", mode),
        ];
        for (key, value) in expect {
            assert_eq!(
                env.get(key).map(String::as_str),
                Some(value),
                "{mode} {key}: {env:?}"
            );
        }
        assert!(
            !env.contains_key("Http_Transfer_Encoding"),
            "{mode}: {env:?}"
        );

        // A chunked body: Go's r.ContentLength is -1 and Transfer-Encoding gets its own variable.
        let chunks = futures::stream::iter(["ab", "cd"].map(Ok::<_, std::io::Error>));
        let response = client()
            .put(wd.url("/chunked"))
            .body(reqwest::Body::wrap_stream(chunks))
            .send()
            .await
            .unwrap();
        let env = env_lines(&response.text().await.unwrap());
        assert_eq!(env["Http_Method"], "PUT", "{mode}");
        assert_eq!(env["Http_Transfer_Encoding"], "chunked", "{mode}");
        assert_eq!(env["Http_ContentLength"], "-1", "{mode}");
        assert_eq!(env["Http_Content_Length"], "-1", "{mode}");

        // GET without a body or query.
        let response = client().get(wd.url("/")).send().await.unwrap();
        let env = env_lines(&response.text().await.unwrap());
        assert_eq!(env["Http_Method"], "GET");
        assert_eq!(env["Http_ContentLength"], "0");
        assert_eq!(env["Http_Path"], "/");
        assert!(!env.contains_key("Http_Query"), "{mode}: {env:?}");
    }
}

#[tokio::test]
async fn cgi_headers_false_injects_nothing() {
    let wd = Fwatchdog::start(&[
        ("mode", "serializing"),
        ("fprocess", "env"),
        ("cgi_headers", "false"),
    ]);
    wd.wait_healthy().await;
    let body = client()
        .post(wd.url("/x?y=1"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(!body.contains("Http_"), "{body}");
    assert!(body.contains("cgi_headers=false"), "{body}");
}

#[tokio::test]
async fn non_zero_exit_is_a_500_with_the_error_text() {
    let dir = tempfile::tempdir().unwrap();
    let fail = script(
        dir.path(),
        "fail.sh",
        "#!/bin/sh\ncat >/dev/null\necho 'partial output'\necho 'bad thing happened' >&2\nexit 3\n",
    );
    let wd = Fwatchdog::start_in(dir, &[("mode", "serializing"), ("fprocess", &fail)]);
    wd.wait_healthy().await;
    let response = client().post(wd.url("/")).body("in").send().await.unwrap();
    assert_eq!(response.status(), 500);
    let body = response.text().await.unwrap();
    assert!(body.starts_with("exit status 3\n"), "{body}");
    assert!(body.contains("bad thing happened"), "{body}");
    assert!(body.contains("partial output"), "{body}");

    // combine_output=false: stderr is logged, not mixed into a successful body; still in a 500.
    let dir = tempfile::tempdir().unwrap();
    let warn = script(
        dir.path(),
        "warn.sh",
        "#!/bin/sh\necho 'to stdout'\necho 'a warning' >&2\n[ \"$Http_Query\" = fail ] && exit 4\nexit 0\n",
    );
    let wd = Fwatchdog::start_in(
        dir,
        &[
            ("mode", "serializing"),
            ("fprocess", &warn),
            ("combine_output", "false"),
        ],
    );
    wd.wait_healthy().await;
    let response = client().post(wd.url("/")).send().await.unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.text().await.unwrap(), "to stdout\n");
    wd.wait_log("stderr: a warning").await;
    let response = client().post(wd.url("/?fail")).send().await.unwrap();
    assert_eq!(response.status(), 500);
    let body = response.text().await.unwrap();
    assert!(body.starts_with("exit status 4\n"), "{body}");
    assert!(body.contains("a warning"), "{body}");

    // combine_output=true (default): both streams in the body.
    let dir = tempfile::tempdir().unwrap();
    let warn = script(
        dir.path(),
        "warn.sh",
        "#!/bin/sh\necho 'to stdout'\necho 'a warning' >&2\n",
    );
    let wd = Fwatchdog::start_in(dir, &[("mode", "serializing"), ("fprocess", &warn)]);
    wd.wait_healthy().await;
    let body = client()
        .post(wd.url("/"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(body, "to stdout\na warning\n");
}

#[tokio::test]
async fn streaming_failure_before_output_is_a_500_and_after_output_aborts() {
    let dir = tempfile::tempdir().unwrap();
    let fail = script(
        dir.path(),
        "fail.sh",
        "#!/bin/sh\nif [ -n \"$Http_Query\" ]; then echo partial; exit 2; fi\necho 'no good' >&2\nexit 5\n",
    );
    let wd = Fwatchdog::start_in(dir, &[("mode", "streaming"), ("fprocess", &fail)]);
    wd.wait_healthy().await;
    let response = client().post(wd.url("/")).send().await.unwrap();
    assert_eq!(response.status(), 500);
    let body = response.text().await.unwrap();
    assert!(body.starts_with("exit status 5\n"), "{body}");
    assert!(body.contains("no good"), "{body}");

    // Output started, so the status is already 200: the failure must still be visible as an
    // incomplete response (hyper may drop the connection before or after flushing the head).
    match client().post(wd.url("/?after")).send().await {
        Ok(response) => {
            assert_eq!(response.status(), 200);
            assert!(
                response.bytes().await.is_err(),
                "a failure after streaming started must not look like a complete body"
            );
        }
        Err(e) => assert!(e.is_request() || e.is_body(), "{e:?}"),
    }
    wd.wait_log("Streaming response aborted: exit status 2")
        .await;
}

#[tokio::test]
async fn unknown_program_is_a_500() {
    let wd = Fwatchdog::start(&[("mode", "serializing"), ("fprocess", "/nonexistent/fn")]);
    wd.wait_healthy().await;
    let response = client().post(wd.url("/")).send().await.unwrap();
    assert_eq!(response.status(), 500);
    assert!(response.text().await.unwrap().contains("/nonexistent/fn"));
}

#[tokio::test]
async fn streaming_sends_output_before_the_process_exits() {
    let dir = tempfile::tempdir().unwrap();
    // Prints `first`, then waits (at most 30 s) for the test to create `go`, then `second`.
    let slow = script(
        dir.path(),
        "slow.sh",
        "#!/bin/sh\necho first\ni=0\nwhile [ ! -f \"$DIR/go\" ] && [ $i -lt 300 ]; do sleep 0.1; i=$((i+1)); done\n\
         [ -f \"$DIR/go\" ] && echo second || echo gave-up\n",
    );
    let wd = Fwatchdog::start_in(dir, &[("mode", "streaming"), ("fprocess", &slow)]);
    wd.wait_healthy().await;
    let response = client().post(wd.url("/")).send().await.unwrap();
    assert_eq!(response.status(), 200);
    let mut stream = response.bytes_stream();
    let first = stream.next().await.unwrap().unwrap();
    assert_eq!(
        &first[..],
        b"first\n",
        "the first line arrives while the process still runs"
    );
    std::fs::write(wd.path("go"), "").unwrap();
    let mut rest = Vec::new();
    while let Some(chunk) = stream.next().await {
        rest.extend_from_slice(&chunk.unwrap());
    }
    assert_eq!(rest, b"second\n");
}

#[tokio::test]
async fn streaming_pipes_a_large_body_through() {
    let wd = Fwatchdog::start(&[("mode", "streaming"), ("fprocess", "sha512sum")]);
    wd.wait_healthy().await;
    let data = vec![b'x'; 3 * 1024 * 1024];
    let body = client()
        .post(wd.url("/"))
        .body(data.clone())
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let expected = std::process::Command::new("sha512sum")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .and_then(|mut c| {
            c.stdin.take().unwrap().write_all(&data)?;
            c.wait_with_output()
        })
        .unwrap();
    assert_eq!(body.as_bytes(), &expected.stdout[..]);
}

#[tokio::test]
async fn exec_timeout_kills_the_process_group_and_answers_504() {
    for mode in FORK_MODES {
        let dir = tempfile::tempdir().unwrap();
        // The script leaves a grandchild behind to prove the whole group is killed.
        let hang = script(
            dir.path(),
            "hang.sh",
            "#!/bin/sh\necho $$ > \"$DIR/pid\"\nsleep 60 &\necho $! > \"$DIR/grandchild\"\nwait\n",
        );
        let wd = Fwatchdog::start_in(
            dir,
            &[("mode", mode), ("fprocess", &hang), ("exec_timeout", "1s")],
        );
        wd.wait_healthy().await;
        let response = client().post(wd.url("/")).send().await.unwrap();
        assert_eq!(response.status(), 504, "{mode}");
        assert!(response.text().await.unwrap().contains("Killed process."));
        for file in ["pid", "grandchild"] {
            let pid: i32 = std::fs::read_to_string(wd.path(file))
                .unwrap()
                .trim()
                .parse()
                .unwrap();
            wait_until(&format!("{mode}: {file} {pid} to be killed"), || {
                !alive(pid)
            })
            .await;
        }
    }
}

#[tokio::test]
async fn read_timeout_on_a_stalled_body_is_a_408() {
    let wd = Fwatchdog::start(&[
        ("mode", "serializing"),
        ("fprocess", "cat"),
        ("read_timeout", "1"),
    ]);
    wd.wait_healthy().await;
    let mut stream = std::net::TcpStream::connect(wd.addr).unwrap();
    stream
        .write_all(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nabc")
        .unwrap();
    stream.set_read_timeout(Some(support::PATIENCE)).unwrap();
    let mut buf = [0u8; 256];
    let n = stream.read(&mut buf).unwrap();
    let head = String::from_utf8_lossy(&buf[..n]);
    assert!(head.starts_with("HTTP/1.1 408"), "{head}");
}

#[tokio::test]
async fn odd_methods_are_405_in_fork_modes() {
    let wd = Fwatchdog::start(&[("mode", "serializing"), ("fprocess", "cat")]);
    wd.wait_healthy().await;
    let response = client()
        .request(reqwest::Method::OPTIONS, wd.url("/"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 405);
    for method in ["GET", "POST", "PUT", "PATCH", "DELETE"] {
        let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
        let response = client()
            .request(method.clone(), wd.url("/"))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200, "{method}");
    }
}

#[tokio::test]
async fn max_inflight_answers_429_above_the_limit() {
    let dir = tempfile::tempdir().unwrap();
    let gate = script(
        dir.path(),
        "gate.sh",
        "#!/bin/sh\nif [ \"$Http_Query\" = wait ]; then\n  touch \"$DIR/started\"\n  i=0\n\
         while [ ! -f \"$DIR/release\" ] && [ $i -lt 300 ]; do sleep 0.1; i=$((i+1)); done\nfi\necho done\n",
    );
    let wd = Fwatchdog::start_in(
        dir,
        &[
            ("mode", "serializing"),
            ("fprocess", &gate),
            ("max_inflight", "1"),
        ],
    );
    wd.wait_healthy().await;
    let first = tokio::spawn(client().post(wd.url("/?wait")).send());
    let started = wd.path("started");
    wait_until("the first request to run", || started.exists()).await;

    let refused = client().post(wd.url("/")).send().await.unwrap();
    assert_eq!(refused.status(), 429);
    assert!(
        refused
            .text()
            .await
            .unwrap()
            .contains("Concurrent request limit exceeded. Max concurrent requests: 1")
    );
    let ready = client().get(wd.url("/_/ready")).send().await.unwrap();
    assert_eq!(ready.status(), 429);
    let health = client().get(wd.url("/_/health")).send().await.unwrap();
    assert_eq!(health.status(), 200, "health ignores max_inflight");

    std::fs::write(wd.path("release"), "").unwrap();
    let first = first.await.unwrap().unwrap();
    assert_eq!(first.status(), 200);
    assert_eq!(first.text().await.unwrap(), "done\n");
    let again = client().post(wd.url("/")).send().await.unwrap();
    assert_eq!(again.status(), 200);
    let ready = client().get(wd.url("/_/ready")).send().await.unwrap();
    assert_eq!(ready.status(), 200);
}

#[tokio::test]
async fn health_follows_the_lock_file() {
    let wd = Fwatchdog::start(&[("mode", "serializing"), ("fprocess", "cat")]);
    wd.wait_healthy().await;
    assert!(wd.lock_path().exists());
    let health = client().get(wd.url("/_/health")).send().await.unwrap();
    assert_eq!(health.text().await.unwrap(), "OK\n");
    std::fs::remove_file(wd.lock_path()).unwrap();
    let health = client().get(wd.url("/_/health")).send().await.unwrap();
    assert_eq!(health.status(), 503);
    std::fs::write(wd.lock_path(), "").unwrap();
    let health = client().get(wd.url("/_/health")).send().await.unwrap();
    assert_eq!(health.status(), 200);

    // suppress_lock: nothing is written, so health stays 503 until the function writes it.
    let wd = Fwatchdog::start(&[
        ("mode", "serializing"),
        ("fprocess", "cat"),
        ("suppress_lock", "true"),
    ]);
    let response = client().post(wd.url("/")).body("x").send().await.unwrap();
    assert_eq!(response.status(), 200, "invocations work without the lock");
    let health = client().get(wd.url("/_/health")).send().await.unwrap();
    assert_eq!(health.status(), 503);
    assert!(!wd.lock_path().exists());
    std::fs::write(wd.lock_path(), "").unwrap();
    wd.wait_healthy().await;
}

#[tokio::test]
async fn sigterm_marks_unhealthy_removes_the_lock_and_drains_in_flight_requests() {
    let dir = tempfile::tempdir().unwrap();
    let gate = script(
        dir.path(),
        "gate.sh",
        "#!/bin/sh\ntouch \"$DIR/started\"\ni=0\n\
         while [ ! -f \"$DIR/release\" ] && [ $i -lt 300 ]; do sleep 0.1; i=$((i+1)); done\necho drained\n",
    );
    let mut wd = Fwatchdog::start_in(
        dir,
        &[
            ("mode", "serializing"),
            ("fprocess", &gate),
            ("healthcheck_interval", "3s"),
            ("write_timeout", "60s"),
            ("exec_timeout", "60s"),
        ],
    );
    wd.wait_healthy().await;
    let in_flight = tokio::spawn(client().post(wd.url("/")).send());
    let started = wd.path("started");
    wait_until("the request to start", || started.exists()).await;

    wd.signal(Signal::SIGTERM);
    // During healthcheck_interval the watchdog still answers, with health 503.
    let mut saw_503 = false;
    for _ in 0..500 {
        match client().get(wd.url("/_/health")).send().await {
            Ok(r) if r.status() == 503 => {
                saw_503 = true;
                break;
            }
            Ok(_) => tokio::time::sleep(Duration::from_millis(10)).await,
            Err(e) => panic!("listener closed before health reported 503: {e}"),
        }
    }
    assert!(saw_503, "health never went 503 after SIGTERM");
    assert!(!wd.lock_path().exists(), "the lock file is removed");
    // After the interval the listener closes, while the in-flight request keeps running.
    let addr = wd.addr;
    wait_until("the listener to close", || {
        std::net::TcpStream::connect(addr).is_err()
    })
    .await;
    std::fs::write(wd.path("release"), "").unwrap();
    let response = in_flight.await.unwrap().unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.text().await.unwrap(), "drained\n");
    let status = wd.wait_exit();
    assert!(status.success(), "{status:?}\n{}", wd.log());
    assert!(wd.log().contains("SIGTERM received"));
}

#[tokio::test]
async fn bad_configuration_exits_with_a_message() {
    for (vars, message) in [
        (vec![("mode", "serializing")], "fprocess"),
        (
            vec![("mode", "static"), ("fprocess", "cat")],
            "unsupported mode",
        ),
        (vec![("mode", "http"), ("fprocess", "cat")], "upstream_url"),
        (
            vec![("fprocess", "cat"), ("exec_timeout", "soon")],
            "exec_timeout",
        ),
    ] {
        let output = std::process::Command::new(env!("CARGO_BIN_EXE_fwatchdog"))
            .env_remove("fprocess")
            .env_remove("mode")
            .envs(vars.iter().copied())
            .env("port", "0")
            .env("bind_address", "127.0.0.1")
            .output()
            .unwrap();
        assert!(!output.status.success(), "{vars:?}");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.contains(message), "{vars:?}: {stderr}");
    }
}

// ---- http mode ------------------------------------------------------------------------------

/// A CGI-capable upstream: `busybox httpd` serving `dir/www`, started by a script that first
/// waits for `dir/start` when `wait_for_start` (to observe health before the upstream is up) and
/// stops httpd when `dir/kill` appears (exiting with 3 when `dir/die` appears instead).
fn http_upstream(dir: &std::path::Path, port: u16, wait_for_start: bool) -> String {
    let www = dir.join("www/cgi-bin");
    std::fs::create_dir_all(&www).unwrap();
    script(
        &www,
        "echo",
        "#!/bin/sh\nprintf 'Status: 201 Created\\r\\nContent-Type: text/plain\\r\\nX-From-Upstream: yes\\r\\n\\r\\n'\n\
         echo \"method=$REQUEST_METHOD\"\necho \"uri=$REQUEST_URI\"\necho \"query=$QUERY_STRING\"\n\
         echo \"custom=$HTTP_X_CUSTOM_HEADER\"\necho \"host=$HTTP_HOST\"\necho \"length=$CONTENT_LENGTH\"\n\
         printf 'body='\ncat\n",
    );
    script(
        &www,
        "redirect",
        "#!/bin/sh\nprintf 'Status: 302 Found\\r\\nLocation: /elsewhere\\r\\n\\r\\n'\n",
    );
    script(&www, "slow", "#!/bin/sh\nsleep 20\necho late\n");
    let wait = if wait_for_start {
        "i=0\nwhile [ ! -f \"$DIR/start\" ] && [ $i -lt 300 ]; do sleep 0.1; i=$((i+1)); done\n"
    } else {
        ""
    };
    script(
        dir,
        "upstream.sh",
        &format!(
            "#!/bin/sh\n{wait}{bb} httpd -f -p 127.0.0.1:{port} -h \"$DIR/www\" &\nhttpd=$!\ni=0\n\
             while [ ! -f \"$DIR/kill\" ] && [ ! -f \"$DIR/die\" ] && [ $i -lt 600 ]; do sleep 0.1; i=$((i+1)); done\n\
             kill $httpd\n[ -f \"$DIR/die\" ] && exit 3\nsleep 60\n",
            bb = busybox()
        ),
    )
}

fn http_mode(
    dir: tempfile::TempDir,
    wait_for_start: bool,
    extra: &[(&str, &str)],
) -> (Fwatchdog, u16) {
    let port = free_port();
    let upstream = http_upstream(dir.path(), port, wait_for_start);
    let url = format!("http://127.0.0.1:{port}");
    let mut vars = vec![
        ("mode", "http"),
        ("fprocess", upstream.as_str()),
        ("upstream_url", url.as_str()),
    ];
    vars.extend_from_slice(extra);
    (Fwatchdog::start_in(dir, &vars), port)
}

#[tokio::test]
async fn http_mode_proxies_method_path_query_headers_and_body() {
    let (wd, _) = http_mode(tempfile::tempdir().unwrap(), false, &[]);
    wd.wait_healthy().await;
    let response = client()
        .post(wd.url("/cgi-bin/echo/extra?a=1&b=%20x"))
        .header("X-Custom-Header", "custom value")
        .body("payload")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201);
    assert_eq!(response.headers()["x-from-upstream"], "yes");
    assert!(response.headers().contains_key("x-duration-seconds"));
    let body = response.text().await.unwrap();
    let host = format!("host={}", wd.addr);
    for line in [
        "method=POST",
        "uri=/cgi-bin/echo/extra?a=1&b=%20x",
        "query=a=1&b=%20x",
        "custom=custom value",
        host.as_str(),
        "length=7",
        "body=payload",
    ] {
        assert!(
            body.lines().any(|l| l == line),
            "missing {line:?} in:\n{body}"
        );
    }
    // Redirects are passed through, not followed.
    let response = client()
        .get(wd.url("/cgi-bin/redirect"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 302);
    assert_eq!(response.headers()["location"], "/elsewhere");
    // Upstream errors are the upstream's.
    let response = client().get(wd.url("/missing")).send().await.unwrap();
    assert_eq!(response.status(), 404);
    assert!(!response.headers().contains_key("x-openfaas-internal"));
    wd.wait_log("Wrote ").await;
}

#[tokio::test]
async fn http_mode_health_waits_for_the_upstream() {
    let (wd, _) = http_mode(tempfile::tempdir().unwrap(), true, &[]);
    let health = client().get(wd.url("/_/health")).send().await.unwrap();
    assert_eq!(
        health.status(),
        503,
        "not healthy before the upstream listens"
    );
    assert!(!wd.lock_path().exists());
    std::fs::write(wd.path("start"), "").unwrap();
    wd.wait_healthy().await;
    assert!(wd.lock_path().exists());
    let response = client()
        .post(wd.url("/cgi-bin/echo"))
        .body("x")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201);
}

#[tokio::test]
async fn http_mode_upstream_down_is_a_502_marked_internal() {
    let (wd, port) = http_mode(tempfile::tempdir().unwrap(), false, &[]);
    wd.wait_healthy().await;
    std::fs::write(wd.path("kill"), "").unwrap();
    wait_until("the upstream to stop listening", || {
        std::net::TcpStream::connect(("127.0.0.1", port)).is_err()
    })
    .await;
    let response = client().post(wd.url("/cgi-bin/echo")).send().await.unwrap();
    assert_eq!(response.status(), 502);
    assert_eq!(response.headers()["x-openfaas-internal"], "of-watchdog");
}

#[tokio::test]
async fn http_mode_exec_timeout_is_a_504_marked_internal() {
    let (wd, _) = http_mode(
        tempfile::tempdir().unwrap(),
        false,
        &[("exec_timeout", "1s")],
    );
    wd.wait_healthy().await;
    let response = client().get(wd.url("/cgi-bin/slow")).send().await.unwrap();
    assert_eq!(response.status(), 504);
    assert_eq!(response.headers()["x-openfaas-internal"], "of-watchdog");
}

#[tokio::test]
async fn http_mode_x_timeout_shortens_the_deadline() {
    let (wd, _) = http_mode(
        tempfile::tempdir().unwrap(),
        false,
        &[("exec_timeout", "60s")],
    );
    wd.wait_healthy().await;
    let response = client()
        .get(wd.url("/cgi-bin/slow"))
        .header("X-Timeout", "1s")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 504);
}

#[tokio::test]
async fn http_mode_watchdog_exits_when_the_process_dies() {
    let (mut wd, _) = http_mode(tempfile::tempdir().unwrap(), false, &[]);
    wd.wait_healthy().await;
    std::fs::write(wd.path("die"), "").unwrap();
    let status = wd.wait_exit();
    assert!(!status.success(), "{status:?}");
    assert!(wd.log().contains("exit status 3"), "{}", wd.log());
}

#[tokio::test]
async fn http_mode_sigterm_stops_the_process() {
    let dir = tempfile::tempdir().unwrap();
    let (mut wd, port) = http_mode(dir, false, &[]);
    wd.wait_healthy().await;
    wd.signal(Signal::SIGTERM);
    let status = wd.wait_exit();
    assert!(status.success(), "{status:?}\n{}", wd.log());
    assert!(
        std::net::TcpStream::connect(("127.0.0.1", port)).is_err(),
        "the upstream is gone with the watchdog"
    );
}
