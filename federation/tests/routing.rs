//! Routing through a served federation over two memory backends: `local` (in-process) and
//! `remote` (served on 127.0.0.1, reached through HttpProvider). Placement is checked on the
//! backends themselves, status codes on the federation's wire.

mod common;

use std::sync::Arc;

use common::{NS, RemoteMemory, client, spec};
use faas_provider::{FunctionRef, Provider, Secret, ServerConfig};
use federation::{FederatedProvider, MISSING_BACKENDS_HEADER};
use http::StatusCode;
use provider_memory::MemoryProvider;
use serde_json::Value;

struct Setup {
    local: Arc<MemoryProvider>,
    remote: RemoteMemory,
    federation: Arc<FederatedProvider>,
    served: common::Served,
    http: reqwest::Client,
}

impl Setup {
    async fn new() -> Self {
        let local = Arc::new(MemoryProvider::new());
        let remote = RemoteMemory::start().await;
        let federation = common::federation(local.clone(), &remote.url(), "local").await;
        let served = common::serve(federation.clone()).await;
        Self {
            local,
            remote,
            federation,
            served,
            http: client(),
        }
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.served.url)
    }

    async fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> (StatusCode, http::HeaderMap, String) {
        let mut request = self.http.request(method, self.url(path));
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.expect("the federation answers");
        let status = response.status();
        let headers = response.headers().clone();
        (status, headers, response.text().await.expect("a body"))
    }

    async fn deploy(&self, name: &str, backend: Option<&str>) -> StatusCode {
        let body = serde_json::to_value(spec(name, backend)).unwrap();
        self.send(reqwest::Method::POST, "/system/functions", Some(body))
            .await
            .0
    }

    async fn update(&self, name: &str, backend: Option<&str>, image: &str) -> (StatusCode, String) {
        let mut spec = spec(name, backend);
        spec.image = image.to_string();
        let body = serde_json::to_value(spec).unwrap();
        let (status, _, text) = self
            .send(reqwest::Method::PUT, "/system/functions", Some(body))
            .await;
        (status, text)
    }

    /// Invokes through the federation; returns the status and, on 200, the echoed namespace.
    async fn invoke(&self, name: &str) -> (StatusCode, String) {
        let (status, _, text) = self
            .send(reqwest::Method::POST, &format!("/function/{name}"), None)
            .await;
        (status, text)
    }

    async fn on_local(&self, name: &str) -> bool {
        self.local.get(&FunctionRef::new(name, NS)).await.is_ok()
    }

    async fn on_remote(&self, name: &str) -> bool {
        self.remote
            .provider
            .get(&FunctionRef::new(name, NS))
            .await
            .is_ok()
    }

    fn route(&self, name: &str) -> Option<String> {
        self.federation
            .route_of(&FunctionRef::new(name, NS))
            .map(str::to_string)
    }
}

#[tokio::test]
async fn the_annotation_routes_to_the_named_backend() {
    let s = Setup::new().await;
    assert_eq!(
        s.deploy("to-remote", Some("remote")).await,
        StatusCode::ACCEPTED
    );
    assert!(s.on_remote("to-remote").await);
    assert!(!s.on_local("to-remote").await);
    assert_eq!(s.route("to-remote").as_deref(), Some("remote"));
    let (status, body) = s.invoke("to-remote").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(body.contains("\"function\":\"to-remote\""), "{body}");
    // Case-insensitive like faas-federation.
    assert_eq!(
        s.deploy("upper", Some("REMOTE")).await,
        StatusCode::ACCEPTED
    );
    assert!(s.on_remote("upper").await);
}

#[tokio::test]
async fn no_annotation_means_the_default_backend() {
    let s = Setup::new().await;
    assert_eq!(s.deploy("plain", None).await, StatusCode::ACCEPTED);
    assert!(s.on_local("plain").await);
    assert!(!s.on_remote("plain").await);
    assert_eq!(s.route("plain").as_deref(), Some("local"));
    assert_eq!(s.invoke("plain").await.0, StatusCode::OK);
    let (status, _, body) = s
        .send(reqwest::Method::GET, "/system/function/plain", None)
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

#[tokio::test]
async fn an_unknown_backend_is_a_400_listing_the_valid_ones() {
    let s = Setup::new().await;
    let body = serde_json::to_value(spec("typo", Some("remtoe"))).unwrap();
    let (status, _, text) = s
        .send(reqwest::Method::POST, "/system/functions", Some(body))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{text}");
    assert!(text.contains("remtoe"), "{text}");
    assert!(text.contains("local, remote"), "{text}");
    assert!(!s.on_local("typo").await && !s.on_remote("typo").await);
    // Same on update (of an existing function): nothing moves.
    assert_eq!(s.deploy("stay", None).await, StatusCode::ACCEPTED);
    let (status, text) = s.update("stay", Some("nowhere"), "example/echo:2").await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{text}");
    assert!(s.on_local("stay").await);
}

#[tokio::test]
async fn a_name_is_unique_across_backends() {
    let s = Setup::new().await;
    assert_eq!(s.deploy("dup", None).await, StatusCode::ACCEPTED);
    assert_eq!(s.deploy("dup", Some("remote")).await, StatusCode::CONFLICT);
    assert!(!s.on_remote("dup").await);
}

#[tokio::test]
async fn changing_the_annotation_moves_the_function() {
    let s = Setup::new().await;
    assert_eq!(s.deploy("mover", None).await, StatusCode::ACCEPTED);
    let (status, text) = s.update("mover", Some("remote"), "example/echo:2").await;
    assert_eq!(status, StatusCode::ACCEPTED, "{text}");
    assert!(s.on_remote("mover").await, "deployed on the new backend");
    assert!(!s.on_local("mover").await, "removed from the old one");
    assert_eq!(s.route("mover").as_deref(), Some("remote"));
    let moved = s
        .remote
        .provider
        .get(&FunctionRef::new("mover", NS))
        .await
        .unwrap();
    assert_eq!(moved.image, "example/echo:2");
    assert_eq!(s.invoke("mover").await.0, StatusCode::OK);

    // Back to the default by removing the annotation.
    let (status, text) = s.update("mover", None, "example/echo:3").await;
    assert_eq!(status, StatusCode::ACCEPTED, "{text}");
    assert!(s.on_local("mover").await && !s.on_remote("mover").await);
    // An update that keeps the backend stays in place.
    let (status, _) = s.update("mover", Some("local"), "example/echo:4").await;
    assert_eq!(status, StatusCode::ACCEPTED);
    let status = s.local.get(&FunctionRef::new("mover", NS)).await.unwrap();
    assert_eq!(status.image, "example/echo:4");
}

#[tokio::test]
async fn a_failed_move_leaves_the_function_where_it_was() {
    let mut s = Setup::new().await;
    // A secret only `local` has: deploying there with it works, on `remote` it cannot.
    s.local
        .create_secret(Secret::new("only-local", NS, "v"))
        .await
        .unwrap();
    let mut with_secret = spec("anchored", None);
    with_secret.secrets = vec!["only-local".into()];
    s.federation.deploy(with_secret.clone()).await.unwrap();

    let mut moving = with_secret.clone();
    moving.annotations = spec("anchored", Some("remote")).annotations;
    moving.image = "example/echo:2".into();
    let body = serde_json::to_value(&moving).unwrap();
    let (status, _, text) = s
        .send(
            reqwest::Method::PUT,
            "/system/functions",
            Some(body.clone()),
        )
        .await;
    assert_eq!(
        status,
        StatusCode::BAD_REQUEST,
        "the new backend refused: {text}"
    );
    assert!(s.on_local("anchored").await && !s.on_remote("anchored").await);
    assert_eq!(s.route("anchored").as_deref(), Some("local"));
    let kept = s
        .local
        .get(&FunctionRef::new("anchored", NS))
        .await
        .unwrap();
    assert_eq!(kept.image, "example/echo:1", "the old spec is untouched");

    // The new backend down: 503 naming it, and the function still serves where it was.
    s.remote.kill().await;
    let (status, _, text) = s
        .send(reqwest::Method::PUT, "/system/functions", Some(body))
        .await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{text}");
    assert!(text.contains("remote"), "{text}");
    assert!(s.on_local("anchored").await);
    assert_eq!(s.invoke("anchored").await.0, StatusCode::OK);
}

#[tokio::test]
async fn a_new_federation_over_the_same_backends_finds_everything() {
    let s = Setup::new().await;
    assert_eq!(s.deploy("at-home", None).await, StatusCode::ACCEPTED);
    assert_eq!(
        s.deploy("abroad", Some("remote")).await,
        StatusCode::ACCEPTED
    );
    // A function in another namespace, on the remote backend.
    let (status, _, text) = s
        .send(
            reqwest::Method::POST,
            "/system/namespace/dev",
            Some(serde_json::json!({"name": "dev", "labels": {"openfaas": "1"}})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{text}");
    let mut dev = spec("in-dev", Some("remote"));
    dev.namespace = "dev".into();
    s.federation.deploy(dev).await.unwrap();
    let before = s.federation.routes();
    assert_eq!(before.len(), 3);
    let url = s.remote.url();
    drop(s.served);
    drop(s.federation);

    // Restarted, started: the table is rebuilt from the backends' lists.
    let restarted = common::federation(s.local.clone(), &url, "local").await;
    assert_eq!(restarted.routes(), before);

    // Restarted without `start`: the first lookup misses and rebuilds.
    let cold = FederatedProvider::new(
        vec![
            federation::Backend::in_process("local", s.local.clone()),
            common::remote_backend("remote", &url),
        ],
        "local",
    )
    .unwrap();
    assert!(cold.routes().is_empty());
    let abroad = FunctionRef::new("abroad", NS);
    let request = http::Request::post("/")
        .body(faas_provider::Body::from("x"))
        .unwrap();
    let response = cold
        .invoke(&abroad, request)
        .await
        .expect("found after a rebuild");
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(cold.routes(), before, "the miss rebuilt the whole table");
    assert_eq!(
        cold.get(&FunctionRef::new("in-dev", "dev"))
            .await
            .unwrap()
            .name,
        "in-dev"
    );
    let mut names: Vec<String> = cold
        .list(NS)
        .await
        .unwrap()
        .into_iter()
        .map(|f| f.name)
        .collect();
    names.sort();
    assert_eq!(names, ["abroad", "at-home"]);
}

#[tokio::test]
async fn a_dead_backend_does_not_hide_the_others() {
    let mut s = Setup::new().await;
    assert_eq!(s.deploy("alive", None).await, StatusCode::ACCEPTED);
    assert_eq!(s.deploy("gone", Some("remote")).await, StatusCode::ACCEPTED);
    let (status, headers, _) = s
        .send(reqwest::Method::GET, "/system/functions", None)
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(headers.get(MISSING_BACKENDS_HEADER).is_none());

    s.remote.kill().await;
    let (status, headers, text) = s
        .send(reqwest::Method::GET, "/system/functions", None)
        .await;
    assert_eq!(status, StatusCode::OK, "{text}");
    let list: Vec<Value> = serde_json::from_str(&text).unwrap();
    let names: Vec<&str> = list.iter().filter_map(|f| f["name"].as_str()).collect();
    assert_eq!(names, ["alive"]);
    assert_eq!(headers[MISSING_BACKENDS_HEADER], "remote");

    // Its functions: 503 naming it, on every per-function route.
    for (method, path, body) in [
        (
            reqwest::Method::GET,
            "/system/function/gone".to_string(),
            None,
        ),
        (reqwest::Method::POST, "/function/gone".to_string(), None),
        (
            reqwest::Method::POST,
            "/system/scale-function/gone".to_string(),
            Some(serde_json::json!({"serviceName": "gone", "replicas": 2})),
        ),
        (
            reqwest::Method::GET,
            "/system/logs?name=gone".to_string(),
            None,
        ),
        (
            reqwest::Method::DELETE,
            "/system/functions".to_string(),
            Some(serde_json::json!({"functionName": "gone"})),
        ),
    ] {
        let (status, _, text) = s.send(method.clone(), &path, body).await;
        assert_eq!(
            status,
            StatusCode::SERVICE_UNAVAILABLE,
            "{method} {path}: {text}"
        );
        assert!(text.contains("remote"), "{method} {path}: {text}");
    }
    // The others keep working; health and info stay up.
    assert_eq!(s.invoke("alive").await.0, StatusCode::OK);
    assert_eq!(
        s.send(reqwest::Method::GET, "/healthz", None).await.0,
        StatusCode::OK
    );
    let (status, _, text) = s.send(reqwest::Method::GET, "/system/info", None).await;
    assert_eq!(status, StatusCode::OK);
    let info: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(info["provider"], "faas-federation");
    assert_eq!(
        info["orchestration"],
        "federation (local: memory, remote: unavailable)"
    );
    // Namespaces: the union of what answered, the dead one named.
    let (status, headers, text) = s
        .send(reqwest::Method::GET, "/system/namespaces", None)
        .await;
    assert_eq!(status, StatusCode::OK, "{text}");
    assert!(text.contains(NS));
    assert_eq!(headers[MISSING_BACKENDS_HEADER], "remote");
    // Secrets list: same.
    let (status, headers, _) = s.send(reqwest::Method::GET, "/system/secrets", None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(headers[MISSING_BACKENDS_HEADER], "remote");

    s.remote.restart().await;
    let (status, headers, text) = s
        .send(reqwest::Method::GET, "/system/functions", None)
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(headers.get(MISSING_BACKENDS_HEADER).is_none());
    assert_eq!(serde_json::from_str::<Vec<Value>>(&text).unwrap().len(), 2);
    assert_eq!(s.invoke("gone").await.0, StatusCode::OK);
}

#[tokio::test]
async fn a_backend_never_seen_is_named_when_a_function_cannot_be_found() {
    // The federation starts while `remote` is down: for an unknown function it cannot tell
    // whether `remote` holds it, so 503 naming it rather than a false 404.
    let local = Arc::new(MemoryProvider::new());
    let mut remote = RemoteMemory::start().await;
    remote
        .provider
        .deploy(spec("elsewhere", Some("remote")))
        .await
        .unwrap();
    remote.kill().await;
    let federation = common::federation(local.clone(), &remote.url(), "local").await;
    let elsewhere = FunctionRef::new("elsewhere", NS);
    match federation.get(&elsewhere).await {
        Err(faas_provider::ProviderError::Unavailable { backend, .. }) => {
            assert_eq!(backend, "remote")
        }
        other => panic!("expected Unavailable naming remote, got {other:?}"),
    }
    remote.restart().await;
    assert_eq!(federation.get(&elsewhere).await.unwrap().name, "elsewhere");
    // Once listed, a backend's absence is known even while it is down again.
    federation.rebuild().await;
    remote.kill().await;
    assert!(
        federation
            .get(&FunctionRef::new("nope", NS))
            .await
            .unwrap_err()
            .is_not_found()
    );
}

#[tokio::test]
async fn secrets_and_namespaces_fan_out() {
    let s = Setup::new().await;
    let (status, _, text) = s
        .send(
            reqwest::Method::POST,
            "/system/secrets",
            Some(serde_json::json!({"name": "api-key", "value": "one"})),
        )
        .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{text}");
    assert_eq!(
        s.local.secret_value("api-key", NS).as_deref(),
        Some(&b"one"[..])
    );
    assert_eq!(
        s.remote.provider.secret_value("api-key", NS).as_deref(),
        Some(&b"one"[..])
    );
    // Created everywhere: a second create is a 409.
    let (status, _, _) = s
        .send(
            reqwest::Method::POST,
            "/system/secrets",
            Some(serde_json::json!({"name": "api-key", "value": "two"})),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT);
    // A secret only one backend has is listed once; an update repairs the other backend.
    s.remote
        .provider
        .create_secret(Secret::new("remote-only", NS, "r"))
        .await
        .unwrap();
    let (_, _, text) = s.send(reqwest::Method::GET, "/system/secrets", None).await;
    let names: Vec<String> = serde_json::from_str::<Vec<Value>>(&text)
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(names, ["api-key", "remote-only"]);
    let (status, _, _) = s
        .send(
            reqwest::Method::PUT,
            "/system/secrets",
            Some(serde_json::json!({"name": "remote-only", "value": "new"})),
        )
        .await;
    assert_eq!(status, StatusCode::ACCEPTED);
    assert_eq!(
        s.local.secret_value("remote-only", NS).as_deref(),
        Some(&b"new"[..])
    );
    assert_eq!(
        s.remote.provider.secret_value("remote-only", NS).as_deref(),
        Some(&b"new"[..])
    );
    // A function using it can now move between backends.
    let mut uses = spec("uses-secret", None);
    uses.secrets = vec!["remote-only".into()];
    s.federation.deploy(uses.clone()).await.unwrap();
    uses.annotations = spec("uses-secret", Some("remote")).annotations;
    s.federation.update(uses).await.unwrap();
    assert!(s.on_remote("uses-secret").await);
    // Delete everywhere; then 404.
    for expected in [StatusCode::ACCEPTED, StatusCode::NOT_FOUND] {
        let (status, _, _) = s
            .send(
                reqwest::Method::DELETE,
                "/system/secrets",
                Some(serde_json::json!({"name": "api-key"})),
            )
            .await;
        assert_eq!(status, expected);
    }
    assert!(s.local.secret_value("api-key", NS).is_none());
    assert!(s.remote.provider.secret_value("api-key", NS).is_none());

    // Namespaces: created on both, listed once, deleted from both.
    let body = serde_json::json!({"name": "team", "labels": {"openfaas": "1"}});
    let (status, _, _) = s
        .send(reqwest::Method::POST, "/system/namespace/team", Some(body))
        .await;
    assert_eq!(status, StatusCode::CREATED);
    assert!(s.local.get_namespace("team").await.is_ok());
    assert!(s.remote.provider.get_namespace("team").await.is_ok());
    let (_, _, text) = s
        .send(reqwest::Method::GET, "/system/namespaces", None)
        .await;
    let namespaces: Vec<String> = serde_json::from_str(&text).unwrap();
    assert_eq!(
        namespaces.iter().filter(|n| *n == "team").count(),
        1,
        "{namespaces:?}"
    );
    let (status, _, _) = s
        .send(reqwest::Method::DELETE, "/system/namespace/team", None)
        .await;
    assert_eq!(status, StatusCode::ACCEPTED);
    assert!(
        s.local
            .get_namespace("team")
            .await
            .unwrap_err()
            .is_not_found()
    );
    assert!(
        s.remote
            .provider
            .get_namespace("team")
            .await
            .unwrap_err()
            .is_not_found()
    );
}

#[tokio::test]
async fn metrics_are_per_backend() {
    let s = Setup::new().await;
    assert_eq!(
        s.deploy("counted", Some("remote")).await,
        StatusCode::ACCEPTED
    );
    assert_eq!(s.invoke("counted").await.0, StatusCode::OK);
    let (status, _, text) = s.send(reqwest::Method::GET, "/metrics", None).await;
    assert_eq!(status, StatusCode::OK);
    for needle in [
        r#"federation_backend_requests_total{backend="remote",operation="invoke",outcome="ok"} 1"#,
        r#"federation_backend_requests_total{backend="remote",operation="deploy",outcome="ok"} 1"#,
        r#"federation_backend_up{backend="remote"} 1"#,
        r#"federation_backend_up{backend="local"} 1"#,
        "federation_backend_request_duration_seconds_count{backend=\"remote\",operation=\"invoke\"} 1",
        "federation_routing_rebuilds_total",
        "provider_http_requests_total",
    ] {
        assert!(text.contains(needle), "missing {needle}:\n{text}");
    }
}

#[tokio::test]
async fn remote_backends_use_their_own_credentials() {
    let (_dir, path) = common::auth_dir("fed-user", "fed pass");
    let remote = RemoteMemory::start_with(ServerConfig {
        basic_auth: true,
        secret_mount_path: path,
        ..ServerConfig::default()
    })
    .await;
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("remote-password"), "fed pass\n").unwrap();
    let config_text = format!(
        r#"
        default_backend = "local"
        [[backends]]
        name = "local"
        kind = "memory"
        [[backends]]
        name = "remote"
        kind = "http"
        url = "{}"
        user = "fed-user"
        password_file = "remote-password"
        timeout = "5s"
        "#,
        remote.url()
    );
    let path = dir.path().join("federation.toml");
    std::fs::write(&path, config_text).unwrap();
    let config = federation::FederationConfig::from_file(&path).unwrap();
    let federation = FederatedProvider::from_config(&config).await.unwrap();
    let report = federation.start().await;
    assert!(report.unreachable.is_empty(), "{report:?}");
    assert!(
        federation.backends()[1].capabilities().secrets,
        "probed with credentials"
    );
    federation
        .deploy(spec("authed", Some("remote")))
        .await
        .unwrap();
    assert!(
        remote
            .provider
            .get(&FunctionRef::new("authed", NS))
            .await
            .is_ok()
    );

    // Wrong credentials: the remote refuses them, which is not the caller's fault (502).
    let wrong = config_text_with_password(&remote.url(), "nope");
    let bad = federation::FederationConfig::from_toml(&wrong, dir.path()).unwrap();
    let bad = FederatedProvider::from_config(&bad).await.unwrap();
    let error = bad
        .deploy(spec("refused", Some("remote")))
        .await
        .unwrap_err();
    assert!(
        matches!(error, faas_provider::ProviderError::Unauthorized(_)),
        "{error:?}"
    );
}

fn config_text_with_password(url: &str, password: &str) -> String {
    format!(
        r#"
        [[backends]]
        name = "local"
        kind = "memory"
        [[backends]]
        name = "remote"
        kind = "http"
        url = "{url}"
        user = "fed-user"
        password = "{password}"
        "#
    )
}

#[tokio::test]
async fn a_hanging_backend_is_left_out_after_its_timeout() {
    // Accepts connections and never answers.
    let silent = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let silent_url = format!("http://{}", silent.local_addr().unwrap());
    let _holder = tokio::spawn(async move {
        let mut open = Vec::new();
        while let Ok((stream, _)) = silent.accept().await {
            open.push(stream);
        }
    });
    let local = Arc::new(MemoryProvider::new());
    let hanging = faas_provider::client::HttpProvider::new(&silent_url)
        .unwrap()
        .with_timeout(std::time::Duration::from_millis(300));
    let federation = FederatedProvider::new(
        vec![
            federation::Backend::in_process("local", local.clone()),
            federation::Backend::remote("slow", hanging, Default::default())
                .with_timeout(std::time::Duration::from_millis(300)),
        ],
        "local",
    )
    .unwrap();
    let report = federation.start().await;
    assert_eq!(report.unreachable.len(), 1, "{report:?}");
    assert_eq!(report.unreachable[0].0, "slow");
    let federation = Arc::new(federation);
    federation.deploy(spec("quick", None)).await.unwrap();
    let served = common::serve(federation).await;
    let response = client()
        .get(format!("{}/system/functions", served.url))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()[MISSING_BACKENDS_HEADER], "slow");
    let list: Vec<Value> = response.json().await.unwrap();
    assert_eq!(list.len(), 1);
    assert_eq!(list[0]["name"], "quick");
}

#[tokio::test]
async fn the_health_check_learns_a_late_backend() {
    let local = Arc::new(MemoryProvider::new());
    let mut remote = RemoteMemory::start().await;
    remote
        .provider
        .deploy(spec("late", Some("remote")))
        .await
        .unwrap();
    remote.kill().await;
    let federation = common::federation(local, &remote.url(), "local").await;
    let backend = &federation.backends()[1];
    assert!(!backend.capabilities_known());
    assert!(
        !backend.capabilities().secrets,
        "not probed: nothing assumed"
    );
    assert!(federation.routes().is_empty());

    remote.restart().await;
    federation.check_backends().await;
    assert!(backend.capabilities_known());
    assert!(backend.capabilities().secrets && backend.capabilities().logs);
    assert_eq!(
        federation.route_of(&FunctionRef::new("late", NS)),
        Some("remote"),
        "a backend reachable for the first time is listed"
    );
}
