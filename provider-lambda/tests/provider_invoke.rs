//! Invoke errors through the real AWS SDK: the control plane is moto, the `Invoke` endpoint a
//! loopback server answering as Lambda does (restJson1 errors, `X-Amz-Function-Error`), so
//! throttling, function errors, payload limits and unknown functions map as the API says.

#[path = "provider_common.rs"]
mod common;

use std::sync::Arc;

use axum::Router;
use axum::extract::Path;
use axum::http::{HeaderMap, StatusCode};
use axum::response::IntoResponse;
use axum::routing::post;
use faas_provider::server::router;
use faas_provider::{Body, FunctionDeployment, FunctionRef, Provider, ServerConfig};
use http_body_util::BodyExt;
use provider_lambda::provider::{AwsInvoker, invoke_client};
use test_support::moto::Moto;
use tower::ServiceExt;

const NS: &str = "openfaas-fn";

/// Lambda's `Invoke`, by function name: `throttled` → 429 TooManyRequestsException,
/// `failing` → 200 + `X-Amz-Function-Error: Unhandled`, `ok` → an API GW v2 response,
/// anything else → 404 ResourceNotFoundException.
async fn fake_invoke(Path(name): Path<String>, _headers: HeaderMap) -> axum::response::Response {
    let error = |status: StatusCode, code: &str, body: &str| {
        (
            status,
            [
                ("x-amzn-errortype", code.to_string()),
                ("content-type", "application/json".to_string()),
            ],
            body.to_string(),
        )
            .into_response()
    };
    match name.as_str() {
        "throttled" | "zero" => error(
            StatusCode::TOO_MANY_REQUESTS,
            "TooManyRequestsException",
            r#"{"message":"Rate Exceeded.","Reason":"ReservedFunctionConcurrentInvocationLimitExceeded","Type":"User"}"#,
        ),
        "failing" => (
            StatusCode::OK,
            [("x-amz-function-error", "Unhandled"), ("content-type", "application/json")],
            r#"{"errorType":"Runtime.ExitError","errorMessage":"RequestId: 1 Error: Runtime exited with error: exit status 1"}"#,
        )
            .into_response(),
        "ok" => (
            StatusCode::OK,
            [("content-type", "application/json")],
            r#"{"statusCode":418,"headers":{"x-from":"fn"},"body":"teapot"}"#,
        )
            .into_response(),
        _ => error(
            StatusCode::NOT_FOUND,
            "ResourceNotFoundException",
            r#"{"message":"Function not found","Type":"User"}"#,
        ),
    }
}

async fn fake_lambda() -> (String, tokio::task::JoinHandle<()>) {
    let app = Router::new().route(
        "/2015-03-31/functions/{name}/invocations",
        post(fake_invoke),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let task = tokio::spawn(async move {
        axum::serve(listener, app).await.unwrap();
    });
    (url, task)
}

async fn call(app: &Router, path: &str) -> (StatusCode, HeaderMap, String) {
    let response = app
        .clone()
        .oneshot(
            http::Request::builder()
                .method("POST")
                .uri(path)
                .body(Body::from("payload"))
                .unwrap(),
        )
        .await
        .unwrap();
    let (parts, body) = response.into_parts();
    let body = body.collect().await.unwrap().to_bytes();
    (
        parts.status,
        parts.headers,
        String::from_utf8_lossy(&body).into_owned(),
    )
}

#[tokio::test]
async fn invoke_errors_map_to_the_api_statuses() {
    let moto = Moto::start();
    let (url, _server) = fake_lambda().await;
    let sdk = common::sdk_config(&url).await;
    let config = common::config(&moto);
    let invoker = Arc::new(AwsInvoker::new(invoke_client(&sdk, &config)));
    let provider = common::provider_invoking(&moto, invoker).await;
    for name in ["throttled", "zero", "failing", "ok"] {
        provider
            .deploy(FunctionDeployment::new(name, "img"))
            .await
            .unwrap();
    }
    provider
        .scale(&FunctionRef::new("throttled", NS), 2)
        .await
        .unwrap();
    provider
        .scale(&FunctionRef::new("zero", NS), 0)
        .await
        .unwrap();
    let app = router(Arc::new(provider.clone()), &ServerConfig::default());

    // Busy (reserved 2, all in use): 429.
    let (status, _, body) = call(&app, "/function/throttled").await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{body}");
    // Scaled to zero: the gateway's "no endpoints" 503, its cue to scale from zero.
    let (status, _, body) = call(&app, "/function/zero").await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    assert!(body.contains("No endpoints available for: zero"), "{body}");
    // The function failed: 500 with its message.
    let (status, headers, body) = call(&app, "/function/failing").await;
    assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(headers["x-amz-function-error"], "Unhandled");
    assert!(
        body.contains("Runtime exited with error: exit status 1"),
        "{body}"
    );
    // An HTTP response from the function comes back as it is.
    let (status, headers, body) = call(&app, "/function/ok/path").await;
    assert_eq!(status.as_u16(), 418);
    assert_eq!(headers["x-from"], "fn");
    assert_eq!(body, "teapot");
    // Unknown to Lambda: 503 as the API says for unknown functions.
    let (status, _, body) = call(&app, "/function/ghost").await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    // Over 6 MB: 413 before anything is sent.
    let response = app
        .clone()
        .oneshot(
            http::Request::builder()
                .method("POST")
                .uri("/function/ok")
                .body(Body::from(vec![b'a'; 6 * 1024 * 1024 + 1]))
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE);
}
