//! The `faas-federation` binary with no configuration: one in-process memory backend, no
//! daemon, on 127.0.0.1.

use serde_json::Value;

#[path = "common/binary_support.rs"]
mod binary_support;

#[tokio::test]
async fn faas_federation_alone_serves_an_in_process_memory_backend() {
    let port = binary_support::free_port();
    let _child = binary_support::start(port, &[]).await;
    let base = format!("http://127.0.0.1:{port}");
    let http = reqwest::Client::builder().no_proxy().build().unwrap();

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
