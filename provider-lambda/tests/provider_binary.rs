//! The `provider-lambda` binary: configured from the environment (OpenFaaS + AWS variables), it
//! serves the provider API against moto; without a role or shim it refuses to start, saying why.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use test_support::moto::Moto;

const BIN: &str = env!("CARGO_BIN_EXE_provider-lambda");

fn base(moto: &Moto) -> Command {
    let mut command = Command::new(BIN);
    command
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default());
    for (k, v) in moto.aws_env() {
        command.env(k, v);
    }
    command.env("HOME", std::env::temp_dir());
    command
}

#[test]
fn refuses_to_start_without_role_or_shim() {
    let moto = Moto::start();
    let out = base(&moto).output().unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("lambda_execution_role"), "{stderr}");

    let out = base(&moto)
        .env("lambda_execution_role", moto.role_arn())
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("bootstrap"), "{stderr}");
}

#[tokio::test]
async fn serves_the_provider_api() {
    let moto = tokio::task::spawn_blocking(Moto::start).await.unwrap();
    let port = test_support::net::free_port();
    let shim = tempfile::NamedTempFile::new().unwrap();
    let mut child = base(&moto)
        .env("lambda_execution_role", moto.role_arn())
        .env("bootstrap_path", shim.path())
        .env("port", port.to_string())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let client = reqwest::Client::new();
    let url = format!("http://127.0.0.1:{port}");
    let deadline = Instant::now() + Duration::from_secs(30);
    let info = loop {
        match client.get(format!("{url}/system/info")).send().await {
            Ok(response) => break response,
            Err(e) if Instant::now() < deadline => {
                let _ = e;
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            Err(e) => {
                let _ = child.kill();
                panic!("the binary did not serve: {e}");
            }
        }
    };
    assert_eq!(info.status(), 200);
    let body: serde_json::Value = info.json().await.unwrap();
    assert_eq!(body["provider"], "faas-lambda");
    assert_eq!(body["orchestration"], "lambda");
    // The commit built, not `unknown`.
    if let Some(sha) = build_sha::expected(env!("CARGO_MANIFEST_DIR")) {
        assert_eq!(body["version"]["sha"], sha.as_str(), "{body}");
    }
    let list = client
        .get(format!("{url}/system/functions"))
        .send()
        .await
        .unwrap();
    assert_eq!(list.status(), 200);
    assert_eq!(list.text().await.unwrap(), "[]");
    let health = client.get(format!("{url}/healthz")).send().await.unwrap();
    assert_eq!(health.status(), 200);
    let _ = child.kill();
    let _ = child.wait();
}
