//! The static `bootstrap` against an independent Runtime API emulator: cargo-lambda's
//! (`AWS_LAMBDA_RUNTIME_API=http://127.0.0.1:PORT/.rt`, function `_`, a relative deadline).

use std::path::Path;
use std::process::{Child, Command, Stdio};

use lambda_shim::event::{event_from_request, response_from_payload};
use test_support::images::{self, TestImage};
use test_support::sandbox::{CargoLambda, task_dir};

/// Run the task dir's bootstrap against `peer`; killed on drop.
struct Bootstrap(Child);

impl Bootstrap {
    fn start(dir: &Path, peer: &CargoLambda) -> Bootstrap {
        let child = Command::new(dir.join("bootstrap"))
            .env_clear()
            .env("AWS_LAMBDA_RUNTIME_API", peer.runtime_api())
            .env("LAMBDA_TASK_ROOT", dir)
            .env("AWS_LAMBDA_FUNCTION_NAME", "_")
            .env("AWS_LAMBDA_FUNCTION_VERSION", "1")
            .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "4096")
            .current_dir(dir)
            .stdin(Stdio::null())
            .spawn()
            .expect("start bootstrap");
        Bootstrap(child)
    }
}

impl Drop for Bootstrap {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

async fn post(url: &str, body: Vec<u8>) -> (u16, Vec<u8>) {
    let response = reqwest::Client::new()
        .post(url)
        .body(body)
        .send()
        .await
        .expect("invoke cargo-lambda");
    let status = response.status().as_u16();
    (status, response.bytes().await.expect("body").to_vec())
}

async fn serve(image: TestImage) -> (http::Response<bytes::Bytes>, (u16, Vec<u8>)) {
    let peer = tokio::task::spawn_blocking(CargoLambda::start)
        .await
        .expect("start cargo-lambda");
    let dir = task_dir(&image);
    let _bootstrap = Bootstrap::start(dir.path(), &peer);
    let (parts, ()) = http::Request::post("/peer?x=1")
        .header("content-type", "text/plain")
        .body(())
        .unwrap()
        .into_parts();
    let event = event_from_request(&parts, b"hello peer", "peer-request");
    let (status, body) = post(&peer.invoke_url(), serde_json::to_vec(&event).unwrap()).await;
    assert_eq!(
        status,
        200,
        "{}\n--- cargo-lambda ---\n{}",
        String::from_utf8_lossy(&body),
        peer.log_tail(20)
    );
    let http = response_from_payload(&body).expect("an API Gateway v2 response");
    let raw = post(&peer.invoke_url(), br#"{"raw":true}"#.to_vec()).await;
    (http, raw)
}

#[tokio::test]
async fn the_static_shim_serves_a_static_image_through_cargo_lambda() {
    let (http, (status, raw)) = serve(images::ECHO).await;
    assert_eq!(http.status(), 200);
    assert_eq!(http.body().as_ref(), b"hello peer");
    assert_eq!(status, 200);
    assert_eq!(raw, br#"{"raw":true}"#);
}

#[tokio::test]
async fn the_static_shim_serves_a_dynamic_image_through_cargo_lambda() {
    let (http, (status, raw)) = serve(images::DYNAMIC).await;
    assert_eq!(http.body().as_ref(), b"dynamic: hello peer");
    assert_eq!(status, 200);
    assert_eq!(raw, br#"dynamic: {"raw":true}"#);
}

#[tokio::test]
async fn function_errors_reach_cargo_lambda_as_errors() {
    let (http, (status, raw)) = serve(images::FAIL).await;
    assert_eq!(
        http.status(),
        500,
        "the watchdog's answer is the HTTP response"
    );
    assert_ne!(status, 200, "{}", String::from_utf8_lossy(&raw));
    let error: serde_json::Value = serde_json::from_slice(&raw).expect("error JSON");
    assert_eq!(error["errorType"], "Runtime.ExitError", "{error}");
    assert!(
        error["errorMessage"]
            .as_str()
            .unwrap()
            .contains(images::FAIL_MESSAGE),
        "{error}"
    );
}
