//! The `faas-federation` binary with no configuration: one in-process memory backend, no
//! daemon, on 127.0.0.1.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

/// Kills the child when the test ends, however it ends.
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port on 127.0.0.1")
}

#[tokio::test]
async fn faas_federation_alone_serves_an_in_process_memory_backend() {
    let port = free_port();
    let mut command = Command::new(env!("CARGO_BIN_EXE_faas-federation"));
    for variable in [
        "federation_config",
        "default_backend",
        "providers",
        "default_provider",
        "basic_auth",
        "bind",
        "read_timeout",
        "write_timeout",
    ] {
        command.env_remove(variable);
    }
    let mut child = Running(
        command
            .env("port", port.to_string())
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("faas-federation starts"),
    );
    let base = format!("http://127.0.0.1:{port}");
    let http = reqwest::Client::builder().no_proxy().build().unwrap();

    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Ok(response) = http.get(format!("{base}/healthz")).send().await {
            assert_eq!(response.status(), 200);
            break;
        }
        if let Some(status) = child.0.try_wait().unwrap() {
            panic!("faas-federation exited early: {status}");
        }
        assert!(
            Instant::now() < deadline,
            "faas-federation did not answer /healthz in 30 s"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    let info: Value = http
        .get(format!("{base}/system/info"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(info["provider"], "faas-federation");
    assert_eq!(info["orchestration"], "federation (local: memory)");
    assert!(!info["version"]["release"].as_str().unwrap().is_empty());

    let deployed = http
        .post(format!("{base}/system/functions"))
        .body(r#"{"service":"echo","image":"example/echo:1"}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(deployed.status(), 202);
    let invoked = http
        .post(format!("{base}/function/echo/a?b=1"))
        .body("hi")
        .send()
        .await
        .unwrap();
    assert_eq!(invoked.status(), 200);
    let echo: Value = invoked.json().await.unwrap();
    assert_eq!(
        (echo["path"].as_str(), echo["body"].as_str()),
        (Some("/a"), Some("hi"))
    );
    let list: Vec<Value> = http
        .get(format!("{base}/system/functions"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(list.len(), 1);
    let metrics = http
        .get(format!("{base}/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        metrics.contains(r#"federation_backend_requests_total{backend="local",operation="invoke",outcome="ok"} 1"#),
        "{metrics}"
    );
}
