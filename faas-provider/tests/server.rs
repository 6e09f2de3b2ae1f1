//! The server's routes, status mapping, auth and invoke proxy, tested with `oneshot` against a
//! recording stub provider (no socket).

use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use axum::Router;
use base64::Engine;
use faas_provider::server::router;
use faas_provider::{
    Body, Capabilities, FunctionDeployment, FunctionRef, FunctionStatus, InvokeStart, LogMessage,
    LogRequest, LogStream, Provider, ProviderError, ProviderInfo, Result, Secret, ServerConfig,
};
use http::{Request, StatusCode};
use http_body_util::BodyExt;
use tower::ServiceExt;

/// Records every call as a line; `known` is the one function that exists.
#[derive(Default)]
struct Stub {
    calls: Mutex<Vec<String>>,
}

impl Stub {
    fn record(&self, line: String) {
        self.calls.lock().unwrap().push(line);
    }
    fn calls(&self) -> Vec<String> {
        self.calls.lock().unwrap().clone()
    }
    fn known(function: &FunctionRef) -> Result<()> {
        if function.name == "known" {
            Ok(())
        } else {
            Err(ProviderError::function_not_found(function))
        }
    }
}

#[async_trait]
impl Provider for Stub {
    fn capabilities(&self) -> Capabilities {
        let mut caps = Capabilities::default();
        caps.max_replicas = Some(5);
        caps.logs = true;
        caps
    }
    async fn info(&self) -> Result<ProviderInfo> {
        Ok(ProviderInfo::new("stub", "test", "1.0.0"))
    }
    async fn list(&self, namespace: &str) -> Result<Vec<FunctionStatus>> {
        self.record(format!("list {namespace}"));
        Ok(vec![])
    }
    async fn get(&self, function: &FunctionRef) -> Result<FunctionStatus> {
        self.record(format!("get {function}"));
        Self::known(function)?;
        let spec = FunctionDeployment::new("known", "img");
        Ok(FunctionStatus::from_deployment(&spec, chrono::Utc::now()))
    }
    async fn deploy(&self, spec: FunctionDeployment) -> Result<()> {
        self.record(format!(
            "deploy {}.{} {}",
            spec.service, spec.namespace, spec.image
        ));
        if spec.service == "slow" {
            tokio::time::sleep(std::time::Duration::from_millis(300)).await;
            self.record("deployed slow".into());
        }
        if spec.service == "known" {
            return Err(ProviderError::function_exists(&FunctionRef::new(
                spec.service,
                spec.namespace,
            )));
        }
        Ok(())
    }
    async fn update(&self, spec: FunctionDeployment) -> Result<()> {
        self.record(format!("update {}.{}", spec.service, spec.namespace));
        Self::known(&FunctionRef::new(spec.service, spec.namespace))
    }
    async fn delete(&self, function: &FunctionRef) -> Result<()> {
        self.record(format!("delete {function}"));
        Self::known(function)
    }
    async fn scale(&self, function: &FunctionRef, replicas: u64) -> Result<()> {
        self.record(format!("scale {function} {replicas}"));
        Self::known(function)
    }
    async fn invoke(
        &self,
        function: &FunctionRef,
        request: http::Request<Body>,
    ) -> Result<http::Response<Body>> {
        if function.name == "sleepy" {
            // The server says when the call arrived, so a provider can keep its deadline.
            if request.extensions().get::<InvokeStart>().is_none() {
                return Err(ProviderError::invalid("no InvokeStart"));
            }
            tokio::time::sleep(std::time::Duration::from_secs(30)).await;
        }
        Self::known(function)?;
        let (parts, body) = request.into_parts();
        let body = body.collect().await.unwrap().to_bytes();
        let forwarded = parts
            .headers
            .get("x-forwarded-host")
            .map(|v| v.to_str().unwrap().to_string());
        let call_id = parts.headers.get("x-call-id").cloned();
        let text = format!(
            "{} {} {} fwd={forwarded:?}",
            parts.method,
            parts.uri,
            String::from_utf8_lossy(&body)
        );
        let mut response = http::Response::builder();
        if let Some(call_id) = call_id {
            response = response.header("x-seen-call-id", call_id);
        }
        Ok(response
            .status(201)
            .header("x-fn", "1")
            // A function cannot forge the proxy's reason for not invoking.
            .header("x-faas-invoke-error", "not-found")
            .body(Body::from(text))
            .unwrap())
    }
    async fn logs(&self, request: LogRequest) -> Result<LogStream> {
        Self::known(&request.function)?;
        let line = |text: &str| LogMessage {
            name: request.function.name.clone(),
            namespace: request.function.namespace.clone(),
            instance: "i-1".into(),
            timestamp: chrono::Utc::now(),
            text: text.into(),
        };
        Ok(Box::pin(futures::stream::iter(vec![
            line("one"),
            line("two"),
        ])))
    }
    async fn create_secret(&self, secret: Secret) -> Result<()> {
        self.record(format!(
            "create_secret {}.{} {}",
            secret.name,
            secret.namespace,
            String::from_utf8_lossy(secret.bytes())
        ));
        Ok(())
    }
}

fn app(config: &ServerConfig) -> (Router, Arc<Stub>) {
    let stub = Arc::new(Stub::default());
    (router(stub.clone(), config), stub)
}

async fn send(
    app: &Router,
    method: &str,
    uri: &str,
    body: &str,
) -> (StatusCode, http::HeaderMap, String) {
    let request = Request::builder()
        .method(method)
        .uri(uri)
        .header("host", "gw:8080")
        .body(Body::from(body.to_string()))
        .unwrap();
    let response = app.clone().oneshot(request).await.unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    (
        status,
        headers,
        String::from_utf8_lossy(&bytes).into_owned(),
    )
}

#[tokio::test]
async fn function_routes_map_errors_to_the_recommended_codes() {
    let (app, stub) = app(&ServerConfig::default());
    let deploy = r#"{"service":"fresh","image":"img:1"}"#;
    assert_eq!(
        send(&app, "POST", "/system/functions", deploy).await.0,
        StatusCode::ACCEPTED
    );
    let dup = r#"{"service":"known","image":"img:1"}"#;
    assert_eq!(
        send(&app, "POST", "/system/functions", dup).await.0,
        StatusCode::CONFLICT
    );
    assert_eq!(
        send(&app, "PUT", "/system/functions", deploy).await.0,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        send(&app, "PUT", "/system/functions", dup).await.0,
        StatusCode::ACCEPTED
    );
    assert_eq!(
        send(&app, "GET", "/system/function/missing", "").await.0,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        send(&app, "GET", "/system/function/known", "").await.0,
        StatusCode::OK
    );
    assert_eq!(
        send(
            &app,
            "DELETE",
            "/system/functions",
            r#"{"functionName":"missing"}"#
        )
        .await
        .0,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        send(&app, "DELETE", "/system/functions", r#"{}"#).await.0,
        StatusCode::BAD_REQUEST
    );
    assert_eq!(
        send(
            &app,
            "DELETE",
            "/system/functions",
            r#"{"functionName":"known"}"#
        )
        .await
        .0,
        StatusCode::ACCEPTED
    );
    let (status, _, body) = send(&app, "GET", "/system/functions", "").await;
    assert_eq!((status, body.as_str()), (StatusCode::OK, "[]"));
    assert!(
        stub.calls()
            .contains(&"deploy fresh.openfaas-fn img:1".to_string())
    );
}

#[tokio::test]
async fn bad_input_is_a_4xx_with_a_message() {
    let (app, stub) = app(&ServerConfig::default());
    for (method, uri) in [
        ("POST", "/system/functions"),
        ("PUT", "/system/functions"),
        ("DELETE", "/system/functions"),
        ("POST", "/system/scale-function/known"),
        ("POST", "/system/secrets"),
        ("PUT", "/system/secrets"),
        ("DELETE", "/system/secrets"),
        ("POST", "/system/namespace/dev"),
        ("PUT", "/system/namespace/dev"),
    ] {
        for body in ["{not json", "", "[1,2]", r#"{"replicas":-1,"service":5}"#] {
            let (status, _, text) = send(&app, method, uri, body).await;
            assert_eq!(
                status,
                StatusCode::BAD_REQUEST,
                "{method} {uri} {body:?}: {text}"
            );
            assert!(!text.trim().is_empty(), "{method} {uri}: empty message");
        }
    }
    for body in [
        r#"{"service":"","image":"x"}"#,
        r#"{"service":"Bad_Name","image":"x"}"#,
        r#"{"service":"ok","image":""}"#,
        r#"{"service":"ok","image":"x","namespace":"NOT valid"}"#,
        r#"{"service":"ok","image":"x","secrets":["../etc"]}"#,
    ] {
        let (status, _, text) = send(&app, "POST", "/system/functions", body).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}: {text}");
    }
    assert_eq!(
        send(&app, "GET", "/system/function/UPPER", "").await.0,
        StatusCode::BAD_REQUEST
    );
    assert_eq!(
        send(&app, "GET", "/system/functions?namespace=a_b", "")
            .await
            .0,
        StatusCode::BAD_REQUEST
    );
    assert!(
        stub.calls().iter().all(|c| !c.starts_with("deploy")),
        "no invalid deploy reached the provider"
    );
}

#[tokio::test]
async fn go_style_input_is_accepted() {
    let (app, stub) = app(&ServerConfig::default());
    let body = r#"{"Service":"gofn","IMAGE":"img","labels":null,"envVars":null,"unknown":{"x":1},"Limits":{"Memory":"5Mi"}}"#;
    let (status, _, text) = send(&app, "POST", "/system/functions", body).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{text}");
    assert!(
        stub.calls()
            .contains(&"deploy gofn.openfaas-fn img".to_string())
    );
}

#[tokio::test]
async fn scale_takes_name_from_path_and_namespace_from_body_then_query() {
    let (app, stub) = app(&ServerConfig::default());
    let (status, _, _) = send(
        &app,
        "POST",
        "/system/scale-function/known?namespace=dev",
        r#"{"serviceName":"other","replicas":2}"#,
    )
    .await;
    assert_eq!(status, StatusCode::ACCEPTED);
    send(
        &app,
        "POST",
        "/system/scale-function/known?namespace=dev",
        r#"{"replicas":3,"namespace":"prod"}"#,
    )
    .await;
    assert_eq!(
        stub.calls(),
        vec!["scale known.dev 2", "scale known.prod 3"]
    );
    // The stub declares no scale to zero and at most 5 replicas.
    assert_eq!(
        send(
            &app,
            "POST",
            "/system/scale-function/known",
            r#"{"replicas":0}"#
        )
        .await
        .0,
        StatusCode::BAD_REQUEST
    );
    assert_eq!(
        send(
            &app,
            "POST",
            "/system/scale-function/known",
            r#"{"replicas":6}"#
        )
        .await
        .0,
        StatusCode::BAD_REQUEST
    );
    assert_eq!(
        send(
            &app,
            "POST",
            "/system/scale-function/missing",
            r#"{"replicas":1}"#
        )
        .await
        .0,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn invoke_proxies_path_query_method_and_headers() {
    let (app, _) = app(&ServerConfig::default());
    let (status, headers, body) = send(&app, "POST", "/function/known/a/b?x=1&x=2", "hi").await;
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(headers["x-fn"], "1");
    assert!(!headers.contains_key("x-faas-invoke-error"), "{headers:?}");
    assert_eq!(body, r#"POST /a/b?x=1&x=2 hi fwd=Some("gw:8080")"#);
    let (_, _, body) = send(&app, "GET", "/function/known.openfaas-fn", "").await;
    assert!(body.starts_with("GET / "), "{body}");
    let (_, _, body) = send(&app, "PUT", "/function/known/", "").await;
    assert!(body.starts_with("PUT / "), "{body}");
    for method in ["PATCH", "DELETE", "OPTIONS", "HEAD"] {
        assert_eq!(
            send(&app, method, "/function/known", "").await.0,
            StatusCode::CREATED,
            "{method}"
        );
    }
    let (status, headers, _) = send(&app, "PROPFIND", "/function/known", "").await;
    assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(headers["x-openfaas-internal"], "proxy");
}

#[tokio::test]
async fn invoke_of_unknown_functions_is_503_and_bad_names_4xx() {
    let (app, _) = app(&ServerConfig::default());
    let (status, headers, body) = send(&app, "GET", "/function/missing", "").await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(headers["x-openfaas-internal"], "proxy");
    assert_eq!(headers["x-faas-invoke-error"], "not-found");
    assert_eq!(body, "No endpoints available for: missing.\n");
    assert_eq!(
        send(&app, "GET", "/function/.openfaas-fn", "").await.0,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        send(&app, "GET", "/function/", "").await.0,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        send(&app, "GET", "/function/Bad_Name", "").await.0,
        StatusCode::BAD_REQUEST
    );
    assert_eq!(
        send(&app, "GET", "/function/ok.Bad_Ns", "").await.0,
        StatusCode::BAD_REQUEST
    );
}

#[tokio::test]
async fn unknown_paths_and_methods() {
    let (app, _) = app(&ServerConfig::default());
    let (status, _, body) = send(&app, "GET", "/nope", "").await;
    assert_eq!(
        (status, body.as_str()),
        (StatusCode::NOT_FOUND, "404 page not found\n")
    );
    assert_eq!(
        send(&app, "PATCH", "/system/functions", "").await.0,
        StatusCode::METHOD_NOT_ALLOWED
    );
    // Optional features the stub does not implement answer 501.
    assert_eq!(
        send(&app, "GET", "/system/secrets", "").await.0,
        StatusCode::NOT_IMPLEMENTED
    );
    assert_eq!(
        send(&app, "GET", "/system/namespace/dev", "").await.0,
        StatusCode::NOT_IMPLEMENTED
    );
    let (status, _, body) = send(&app, "GET", "/system/namespaces", "").await;
    assert_eq!(
        (status, body.as_str()),
        (StatusCode::OK, r#"["openfaas-fn"]"#)
    );
}

#[tokio::test]
async fn logs_stream_ndjson_and_reject_bad_queries() {
    let (app, _) = app(&ServerConfig::default());
    let (status, headers, body) = send(&app, "GET", "/system/logs?name=known&tail=5", "").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(headers["content-type"], "application/x-ndjson");
    let lines: Vec<serde_json::Value> = body
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 2);
    assert_eq!(lines[0]["text"], "one");
    assert_eq!(lines[0]["namespace"], "openfaas-fn");
    assert_eq!(
        send(&app, "GET", "/system/logs?name=known&tail=x", "")
            .await
            .0,
        StatusCode::UNPROCESSABLE_ENTITY
    );
    assert_eq!(
        send(&app, "GET", "/system/logs?name=known&since=yesterday", "")
            .await
            .0,
        StatusCode::UNPROCESSABLE_ENTITY
    );
    assert_eq!(
        send(&app, "GET", "/system/logs", "").await.0,
        StatusCode::BAD_REQUEST
    );
    assert_eq!(
        send(&app, "GET", "/system/logs?name=missing", "").await.0,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn basic_auth_guards_system_routes_only() {
    let dir = std::env::temp_dir().join(format!("faas-auth-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("basic-auth-user"), "admin\n").unwrap();
    std::fs::write(dir.join("basic-auth-password"), " pw \n").unwrap();
    let config = ServerConfig {
        basic_auth: true,
        secret_mount_path: dir.clone(),
        ..ServerConfig::default()
    };
    let (app, _) = app(&config);
    let (status, headers, body) = send(&app, "GET", "/system/functions", "").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(headers["www-authenticate"], "Basic realm=\"Restricted\"");
    assert_eq!(body, "invalid credentials\n");
    assert_eq!(
        send(&app, "GET", "/system/info", "").await.0,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        send(&app, "GET", "/function/known", "").await.0,
        StatusCode::CREATED
    );
    assert_eq!(send(&app, "GET", "/healthz", "").await.0, StatusCode::OK);
    assert_eq!(
        send(&app, "GET", "/system/namespaces", "").await.0,
        StatusCode::OK
    );
    assert_eq!(send(&app, "GET", "/metrics", "").await.0, StatusCode::OK);
    let good = base64::engine::general_purpose::STANDARD.encode("admin:pw");
    let request = Request::get("/system/functions")
        .header("authorization", format!("Basic {good}"))
        .body(Body::empty())
        .unwrap();
    assert_eq!(
        app.clone().oneshot(request).await.unwrap().status(),
        StatusCode::OK
    );

    // Unreadable credential files: fail closed, and serve() refuses to start.
    let broken = ServerConfig {
        basic_auth: true,
        secret_mount_path: dir.join("absent"),
        ..ServerConfig::default()
    };
    let (app, _) = self::app(&broken);
    assert_eq!(
        send(&app, "GET", "/system/functions", "").await.0,
        StatusCode::UNAUTHORIZED
    );
    assert!(faas_provider::server::check_config(&broken).is_err());
    std::fs::remove_dir_all(dir).unwrap();
}

#[tokio::test]
async fn body_limit_is_413_and_secrets_reach_the_provider() {
    let config = ServerConfig {
        max_body_bytes: 64,
        ..ServerConfig::default()
    };
    let (app, stub) = app(&config);
    let big = format!(r#"{{"service":"x","image":"{}"}}"#, "a".repeat(100));
    assert_eq!(
        send(&app, "POST", "/system/functions", &big).await.0,
        StatusCode::PAYLOAD_TOO_LARGE
    );
    let raw = base64::engine::general_purpose::STANDARD.encode("bytes!");
    let (status, _, _) = send(
        &app,
        "POST",
        "/system/secrets?namespace=dev",
        &format!(r#"{{"name":"k","rawValue":"{raw}"}}"#),
    )
    .await;
    assert_eq!(status, StatusCode::ACCEPTED);
    assert_eq!(stub.calls(), vec!["create_secret k.dev bytes!"]);
    let (status, _, _) = send(
        &app,
        "POST",
        "/system/secrets",
        r#"{"name":"k","rawValue":"not base64!"}"#,
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn metrics_count_requests_by_code_method_and_path() {
    let (app, _) = app(&ServerConfig::default());
    send(&app, "GET", "/function/known/deep/path", "").await;
    send(&app, "GET", "/system/function/missing", "").await;
    let (status, _, text) = send(&app, "GET", "/metrics", "").await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        text.contains(
            r#"provider_http_requests_total{code="201",method="GET",path="/function/known"} 1"#
        ),
        "{text}"
    );
    assert!(
        text.contains(r#"code="404",method="GET",path="/system/function/{name}""#),
        "{text}"
    );
    assert!(
        text.contains("provider_http_request_duration_seconds_bucket"),
        "{text}"
    );
}

#[tokio::test]
async fn every_invocation_has_a_call_id_kept_or_created_and_returned() {
    let (app, _) = app(&ServerConfig::default());
    let call = |path: &str, call_id: Option<&str>| {
        let mut request = Request::builder().method("POST").uri(path);
        if let Some(id) = call_id {
            request = request.header("x-call-id", id);
        }
        app.clone().oneshot(request.body(Body::from("x")).unwrap())
    };
    let kept = call("/function/known", Some("call-42")).await.unwrap();
    assert_eq!(kept.status(), 201);
    assert_eq!(kept.headers()["x-call-id"], "call-42");
    assert_eq!(kept.headers()["x-seen-call-id"], "call-42");

    let created = call("/function/known/a", None).await.unwrap();
    let id = created.headers()["x-call-id"].to_str().unwrap().to_string();
    assert_eq!(id.len(), 36, "{id}");
    assert_eq!(created.headers()["x-seen-call-id"], id.as_str());

    let long = "x".repeat(200);
    let replaced = call("/function/known", Some(&long)).await.unwrap();
    assert_ne!(replaced.headers()["x-call-id"], long.as_str());
    assert_eq!(replaced.headers()["x-call-id"].len(), 36);

    let refused = call("/function/missing", Some("call-43")).await.unwrap();
    assert_eq!(refused.status(), 503);
    assert_eq!(refused.headers()["x-call-id"], "call-43");

    let system = send(&app, "GET", "/system/functions", "").await;
    assert!(!system.1.contains_key("x-call-id"));
}

#[tokio::test]
async fn a_write_completes_when_its_caller_goes_away() {
    let (app, stub) = app(&ServerConfig::default());
    let body = r#"{"service":"slow","image":"img"}"#;
    // The caller gives up before the provider is done: the request future is dropped.
    let gave_up = tokio::time::timeout(
        std::time::Duration::from_millis(50),
        send(&app, "POST", "/system/functions", body),
    )
    .await;
    assert!(
        gave_up.is_err(),
        "the deploy takes longer than the caller waits"
    );
    let limit = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while !stub.calls().contains(&"deployed slow".to_string()) {
        assert!(
            std::time::Instant::now() < limit,
            "the deploy was dropped halfway: {:?}",
            stub.calls()
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn invocations_are_bounded_by_invoke_timeout_when_set() {
    let config = ServerConfig {
        invoke_timeout: Some(std::time::Duration::from_millis(200)),
        ..ServerConfig::default()
    };
    assert_eq!(
        ServerConfig::default().invoke_bound(),
        std::time::Duration::from_secs(10),
        "else max(read_timeout, write_timeout), as the Go SDK"
    );
    let (app, _) = app(&config);
    let (status, headers, body) = send(&app, "POST", "/function/sleepy", "x").await;
    assert_eq!(status, StatusCode::GATEWAY_TIMEOUT, "{body}");
    assert_eq!(headers["x-openfaas-internal"], "proxy");
    assert!(body.contains("200ms"), "{body}");
}
