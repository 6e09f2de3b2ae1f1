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
    // The binary runs the scaler: its OpenFaaS-named metrics are there.
    assert!(
        metrics.contains(
            r#"gateway_function_invocation_total{function_name="echo.openfaas-fn",code="200"} 1"#
        ),
        "{metrics}"
    );

    // Scale from zero is on: a call at zero replicas wakes the function.
    let scaled = http
        .post(format!("{base}/system/scale-function/echo"))
        .body(r#"{"serviceName":"echo","replicas":0}"#)
        .send()
        .await
        .unwrap();
    assert!(scaled.status().is_success());
    let woken = http
        .post(format!("{base}/function/echo"))
        .body("wake")
        .send()
        .await
        .unwrap();
    assert_eq!(woken.status(), 200);

    // The async route and the Lambda API are served by the binary too.
    let accepted = http
        .post(format!("{base}/async-function/echo"))
        .body("later")
        .send()
        .await
        .unwrap();
    assert_eq!(accepted.status(), 202);
    assert!(accepted.headers().contains_key("x-call-id"));
    let missing = http
        .post(format!("{base}/async-function/nobody"))
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), 404);
    let lambda: Value = http
        .get(format!("{base}/2015-03-31/functions/"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(lambda["Functions"][0]["FunctionName"], "echo", "{lambda}");
}
