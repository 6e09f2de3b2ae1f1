//! The executor used as a library (no listener): the process environment, working directory
//! and `argv[0]` settings, per-request variables, and cancellation.

use std::time::{Duration, Instant};

use http_body_util::BodyExt;
use watchdog::{Body, Mode, ProcessEnv, Watchdog, WatchdogConfig};

/// Upper bound for anything the tests wait for (never asserted as a timing).
const PATIENCE: Duration = Duration::from_secs(30);

fn config(mode: Mode, fprocess: &[&str]) -> WatchdogConfig {
    let mut config = WatchdogConfig::new(mode, fprocess.iter().map(|s| s.to_string()).collect());
    config.suppress_lock = true;
    config
}

async fn call(watchdog: &Watchdog, request: http::Request<Body>) -> (u16, String) {
    let response = watchdog.handle(request).await;
    let status = response.status().as_u16();
    let body = response.into_body().collect().await.unwrap().to_bytes();
    (status, String::from_utf8_lossy(&body).into_owned())
}

#[tokio::test]
async fn process_env_replaces_the_environment_and_request_env_adds_to_it() {
    let dir = tempfile::tempdir().unwrap();
    for mode in [Mode::Serializing, Mode::Streaming] {
        let mut config = config(
            mode,
            &[
                "/bin/sh",
                "-c",
                "echo \"$FOO|$HOME|$TRACE|$Http_Method\"; pwd",
            ],
        );
        config.process_env = Some(vec![("FOO".into(), "bar".into())]);
        config.working_dir = Some(dir.path().to_path_buf());
        let watchdog = Watchdog::new(config).unwrap();
        let mut request = http::Request::post("/").body(Body::empty()).unwrap();
        request
            .extensions_mut()
            .insert(ProcessEnv(vec![("TRACE".into(), "Root=1".into())]));
        let (status, body) = call(&watchdog, request).await;
        assert_eq!(status, 200, "{mode}: {body}");
        let real_dir = dir.path().canonicalize().unwrap();
        assert_eq!(
            body,
            format!("bar||Root=1|POST\n{}\n", real_dir.display()),
            "{mode}: the watchdog's own HOME must not leak through"
        );
    }
}

#[tokio::test]
async fn argv0_is_what_the_process_sees() {
    let mut config = config(Mode::Serializing, &["/bin/cat", "/proc/self/cmdline"]);
    config.argv0 = Some("applet".into());
    let watchdog = Watchdog::new(config).unwrap();
    let (status, body) = call(
        &watchdog,
        http::Request::post("/").body(Body::empty()).unwrap(),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(body, "applet\0/proc/self/cmdline\0");
}

fn alive(pid: i32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => {
            // The state follows the parenthesised command name.
            let state = stat.rsplit(')').next().unwrap_or("").trim_start();
            !state.starts_with('Z') && !state.starts_with('X')
        }
        Err(_) => false,
    }
}

#[tokio::test]
async fn a_cancelled_invocation_kills_its_process() {
    let dir = tempfile::tempdir().unwrap();
    let pid_file = dir.path().join("pid");
    for mode in [Mode::Serializing, Mode::Streaming] {
        let _ = std::fs::remove_file(&pid_file);
        let script = format!("echo $$ > {}; exec sleep 300", pid_file.display());
        let mut config = config(mode, &["/bin/sh", "-c", &script]);
        config.exec_timeout = Duration::ZERO;
        config.write_timeout = Duration::ZERO;
        let watchdog = Watchdog::new(config).unwrap();
        let task = {
            let watchdog = watchdog.clone();
            tokio::spawn(async move {
                let request = http::Request::post("/").body(Body::empty()).unwrap();
                watchdog.handle(request).await
            })
        };
        let start = Instant::now();
        let pid: i32 = loop {
            if let Some(pid) = std::fs::read_to_string(&pid_file)
                .ok()
                .and_then(|s| s.trim().parse().ok())
            {
                break pid;
            }
            assert!(
                start.elapsed() < PATIENCE,
                "{mode}: the process never started"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        };
        assert!(alive(pid), "{mode}: process {pid} should be running");
        task.abort();
        let _ = task.await;
        let start = Instant::now();
        while alive(pid) {
            assert!(
                start.elapsed() < PATIENCE,
                "{mode}: process {pid} survived the cancelled invocation"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}
