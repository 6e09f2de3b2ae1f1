//! The service guards themselves: registry (anonymous and basic auth) and Docker Engine.

use std::path::PathBuf;

use oci_client::secrets::RegistryAuth;
use test_support::images;
use test_support::push::{self, oci_client};
use test_support::{Registry, docker_engine};

#[tokio::test]
async fn registries_are_independent_and_removed_on_drop() {
    let a = Registry::start();
    let b = Registry::start();
    assert_ne!(a.addr(), b.addr());
    let dir = a.dir().to_path_buf();
    let addr = a.addr();
    let status = reqwest::Client::builder()
        .no_proxy()
        .build()
        .unwrap()
        .get(format!("{}/v2/", a.url()))
        .send()
        .await
        .unwrap()
        .status();
    assert_eq!(status, 200);
    drop(a);
    assert!(!dir.exists(), "storage removed");
    assert!(
        std::net::TcpStream::connect(addr).is_err(),
        "the registry process is gone"
    );
    assert!(std::net::TcpStream::connect(b.addr()).is_ok());
}

#[tokio::test]
async fn basic_auth_registry_refuses_anonymous_pushes() {
    let registry = Registry::start_with_basic_auth("tester", "s3cret");
    assert_eq!(registry.credentials(), Some(("tester", "s3cret")));
    let built = images::ECHO.build();
    let anonymous = push::push_image(
        &oci_client(),
        &registry.host(),
        &RegistryAuth::Anonymous,
        images::ECHO,
        built,
    )
    .await;
    assert!(anonymous.is_err(), "anonymous push must fail");
    let wrong = push::push_image(
        &oci_client(),
        &registry.host(),
        &RegistryAuth::Basic("tester".into(), "wrong".into()),
        images::ECHO,
        built,
    )
    .await;
    assert!(wrong.is_err(), "a wrong password must fail");
    let pushed = push::push_image(
        &oci_client(),
        &registry.host(),
        &registry.auth(),
        images::ECHO,
        built,
    )
    .await
    .unwrap_or_else(|e| panic!("{e}\n{}", registry.log_tail(20)));
    let reference: oci_client::Reference = pushed.by_digest().parse().unwrap();
    let anonymous_pull = oci_client()
        .pull_manifest_and_config(&reference, &RegistryAuth::Anonymous)
        .await;
    assert!(anonymous_pull.is_err(), "anonymous pull must fail");
    let (_, digest, _) = oci_client()
        .pull_manifest_and_config(&reference, &registry.auth())
        .await
        .unwrap();
    assert_eq!(digest, built.oci_manifest.digest);
}

#[tokio::test]
async fn the_docker_engine_is_shared_and_cleaned_up() {
    let first = docker_engine();
    let second = docker_engine();
    assert_eq!(first.host(), second.host(), "one daemon per process");
    let docker = first.client().await;
    let version = docker.version().await.unwrap();
    assert!(version.api_version.is_some());
    if !first.is_private() {
        // DOCKER_HOST: the user's daemon is used as is and never stopped.
        return;
    }
    let socket = PathBuf::from(first.host().trim_start_matches("unix://"));
    let dir = socket.parent().unwrap().to_path_buf();
    assert!(socket.exists());
    drop(docker);
    drop(first);
    assert!(socket.exists(), "still running while a handle is alive");
    drop(second);
    assert!(!dir.exists(), "daemon stopped and its directory removed");
    let mountinfo = std::fs::read_to_string("/proc/self/mountinfo").unwrap();
    assert!(
        !mountinfo.contains(dir.to_str().unwrap()),
        "nothing left mounted"
    );
}

/// The `test-dockerd` binary `scripts/test` relies on: prints `DOCKER_HOST`, serves, and on
/// SIGTERM stops its daemon and removes its directory (whatever `DOCKER_HOST` the test run has).
#[test]
fn test_dockerd_serves_until_sigterm_and_cleans_up() {
    use std::io::{BufRead, BufReader};
    use std::process::{Command, Stdio};

    let mut child = Command::new(env!("CARGO_BIN_EXE_test-dockerd"))
        .env_remove("DOCKER_HOST")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("running test-dockerd");
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .expect("reading test-dockerd's stdout");
    let host = line
        .trim()
        .strip_prefix("DOCKER_HOST=unix://")
        .unwrap_or_else(|| panic!("unexpected first line {line:?}"))
        .to_string();
    let socket = PathBuf::from(&host);
    let dir = socket.parent().unwrap().to_path_buf();
    let ping = Command::new("docker")
        .args([
            "--host",
            &format!("unix://{host}"),
            "version",
            "--format",
            "{{.Server.APIVersion}}",
        ])
        .output();
    // The docker CLI is optional; the socket answering /_ping is what matters.
    if let Ok(output) = ping {
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
    assert!(socket.exists());
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(child.id() as i32),
        nix::sys::signal::Signal::SIGTERM,
    )
    .unwrap();
    let status = child.wait().unwrap();
    assert!(status.success(), "test-dockerd exited with {status}");
    assert!(!dir.exists(), "daemon directory removed");
}
