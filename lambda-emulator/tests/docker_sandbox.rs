//! The emulator with the Docker sandbox: a busybox-only image, the task dir
//! read-only at /var/task, tmpfs /tmp, user 993:993, host network. Passing here proves the
//! function does not lean on the image being at `/`.

mod common;

use std::path::Path;
use std::time::Duration;

use common::*;
use lambda_emulator::{DockerSandbox, Emulator, Sandbox};
use test_support::images::{self, TestImage};
use test_support::oci::Image;
use test_support::sandbox::{load_sandbox_image, task_dir, write_task_dir};

async fn docker_emulator(
    engine: &test_support::DockerEngine,
    name: &str,
    dir: &Path,
    timeout: Duration,
) -> Emulator {
    let docker = engine.client().await;
    let image = load_sandbox_image(&docker).await;
    let sandbox = DockerSandbox::new(docker, image);
    emulator(name, dir, |c| {
        c.sandbox = Sandbox::Docker(sandbox);
        c.timeout = timeout;
    })
    .await
}

async fn http_and_raw(image: TestImage) -> (http::Response<bytes::Bytes>, Answer) {
    let engine = test_support::docker_engine();
    let dir = task_dir(&image);
    let emu = docker_emulator(&engine, "fn", dir.path(), Duration::from_secs(30)).await;
    let event = http_event(
        "PUT",
        "/docker?q=1",
        &[("content-type", "text/plain")],
        b"hello container",
    );
    let http = invoke(&emu, event).await.http();
    let raw = invoke(&emu, r#"["raw"]"#).await;
    emu.stop().await;
    (http, raw)
}

#[tokio::test]
async fn echo_answers_in_the_docker_sandbox() {
    let (http, raw) = http_and_raw(images::ECHO).await;
    assert_eq!(http.status(), 200);
    assert_eq!(http.body().as_ref(), b"hello container");
    assert_eq!(raw.status, 200, "{}", raw.text());
    assert_eq!(raw.text(), r#"["raw"]"#);
}

#[tokio::test]
async fn env_runs_from_var_task_rootfs_in_the_docker_sandbox() {
    let (http, raw) = http_and_raw(images::ENV).await;
    let body = String::from_utf8_lossy(http.body()).into_owned();
    for line in [
        "PATH=/var/task/rootfs/usr/local/bin:/var/task/rootfs/usr/bin:/var/task/rootfs/bin",
        "LAMBDA_TASK_ROOT=/var/task",
        "Http_Method=PUT",
        "Http_Query=q=1",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE=128",
    ] {
        assert!(
            body.lines().any(|l| l == line),
            "{line} missing in:\n{body}"
        );
    }
    assert!(raw.text().contains("Http_Method=POST"), "{}", raw.text());
}

#[tokio::test]
async fn a_dynamically_linked_program_answers_in_the_docker_sandbox() {
    let (http, raw) = http_and_raw(images::DYNAMIC).await;
    assert_eq!(http.status(), 200);
    assert_eq!(http.body().as_ref(), b"dynamic: hello container");
    assert_eq!(raw.text(), r#"dynamic: ["raw"]"#);
}

/// A task dir for the ECHO image's files with another `fprocess`.
fn task_running(fprocess: &str) -> tempfile::TempDir {
    let echo = images::ECHO.build();
    let mut config = echo.config.clone();
    config.env = vec![
        "PATH=/usr/local/bin:/usr/bin:/bin".into(),
        format!("fprocess={fprocess}"),
        "mode=serializing".into(),
    ];
    let image = Image::new(config, echo.layers.clone());
    let dir = tempfile::Builder::new()
        .prefix("faas-lambda-task-")
        .tempdir()
        .unwrap();
    write_task_dir(&image, "test/custom", dir.path());
    dir
}

#[tokio::test]
async fn the_function_runs_as_a_non_root_user_on_a_read_only_task_dir() {
    let engine = test_support::docker_engine();
    let id = task_running("id");
    let emu = docker_emulator(&engine, "whoami", id.path(), Duration::from_secs(30)).await;
    let answer = invoke(&emu, "{}").await;
    assert_eq!(answer.status, 200, "{}", answer.text());
    assert!(
        answer.text().starts_with("uid=993 gid=993"),
        "{}",
        answer.text()
    );
    emu.stop().await;

    let touch = task_running("touch /var/task/probe");
    let emu = docker_emulator(&engine, "writer", touch.path(), Duration::from_secs(30)).await;
    let answer = invoke(&emu, "{}").await;
    assert_eq!(answer.header("x-amz-function-error"), Some("Unhandled"));
    let error = answer.json();
    assert_eq!(error["errorType"], "Runtime.ExitError", "{error}");
    assert!(
        error["errorMessage"]
            .as_str()
            .unwrap()
            .contains("Read-only file system"),
        "{error}"
    );
    assert!(!touch.path().join("probe").exists());
    emu.stop().await;

    // /tmp is writable.
    let tmp = task_running("touch /tmp/probe");
    let emu = docker_emulator(&engine, "tmp", tmp.path(), Duration::from_secs(30)).await;
    let answer = invoke(&emu, "{}").await;
    assert_eq!(answer.status, 200, "{}", answer.text());
    assert_eq!(
        answer.header("x-amz-function-error"),
        None,
        "{}",
        answer.text()
    );
    emu.stop().await;
}

#[tokio::test]
async fn the_timeout_removes_the_container_and_the_next_invoke_starts_another() {
    let engine = test_support::docker_engine();
    // A runtime that takes its event and never answers (busybox sh and wget of the sandbox
    // image): only the emulator can end the invocation.
    let dir = script_task(
        "while true; do /bin/busybox wget -q -O /dev/null \"$API/invocation/next\"; /bin/busybox sleep 1000; done",
    );
    let docker = engine.client().await;
    let emu = docker_emulator(&engine, "stuck", dir.path(), Duration::from_secs(2)).await;
    let mut seen = Vec::new();
    for _ in 0..2 {
        let answer = invoke(&emu, "{}").await;
        assert_eq!(answer.header("x-amz-function-error"), Some("Unhandled"));
        assert_eq!(
            answer.json()["errorMessage"],
            "Task timed out after 2.00 seconds"
        );
        let containers = docker
            .list_containers(Some(
                bollard::query_parameters::ListContainersOptionsBuilder::default()
                    .all(true)
                    .build(),
            ))
            .await
            .unwrap();
        let ours: Vec<_> = containers
            .iter()
            .filter(|c| {
                c.labels
                    .as_ref()
                    .and_then(|l| l.get("faas-lambda-emulator"))
                    .is_some_and(|f| f == "stuck")
            })
            .collect();
        assert!(
            ours.is_empty(),
            "the timed-out sandbox is removed: {ours:?}"
        );
        seen.push(answer.text());
    }
    assert_eq!(seen.len(), 2);
    emu.stop().await;
}
