//! Every rule of the memory provider, through the `Provider` trait.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use chrono::Utc;
use faas_provider::error::ResourceKind;
use faas_provider::{
    Body, DEFAULT_NAMESPACE, DynProvider, FunctionDeployment, FunctionNamespace, FunctionRef,
    FunctionResources, LogMessage, LogRequest, Provider, ProviderError, Secret,
};
use futures::StreamExt;
use http_body_util::BodyExt;

use crate::{EchoResponse, INSTANCE_HEADER, MemoryProvider};

const NS: &str = DEFAULT_NAMESPACE;

fn spec(name: &str) -> FunctionDeployment {
    let mut spec = FunctionDeployment::new(name, "example/echo:1");
    spec.namespace = NS.to_string();
    spec
}

fn spec_in(name: &str, namespace: &str) -> FunctionDeployment {
    let mut spec = spec(name);
    spec.namespace = namespace.to_string();
    spec
}

fn with_label(mut spec: FunctionDeployment, key: &str, value: &str) -> FunctionDeployment {
    spec.labels
        .get_or_insert_with(Default::default)
        .insert(key.to_string(), value.to_string());
    spec
}

fn func(name: &str) -> FunctionRef {
    FunctionRef::new(name, NS)
}

fn request(method: &str, uri: &str, body: impl Into<Body>) -> http::Request<Body> {
    http::Request::builder()
        .method(method)
        .uri(uri)
        .body(body.into())
        .unwrap()
}

async fn provider_with(names: &[&str]) -> MemoryProvider {
    let provider = MemoryProvider::new();
    for name in names {
        provider.deploy(spec(name)).await.unwrap();
    }
    provider
}

/// Invokes and returns (status, instance header, content type, raw body).
async fn call(
    provider: &MemoryProvider,
    name: &str,
    req: http::Request<Body>,
) -> (http::StatusCode, String, String, Bytes) {
    let response = provider.invoke(&func(name), req).await.unwrap();
    let (parts, body) = response.into_parts();
    let header = |h: &str| {
        parts
            .headers
            .get(h)
            .map(|v| v.to_str().unwrap().to_string())
            .unwrap_or_default()
    };
    let instance = header(INSTANCE_HEADER);
    let content_type = header("content-type");
    let status = parts.status;
    let body = body.collect().await.unwrap().to_bytes();
    (status, instance, content_type, body)
}

async fn echo(provider: &MemoryProvider, name: &str, req: http::Request<Body>) -> EchoResponse {
    let (_, _, _, body) = call(provider, name, req).await;
    serde_json::from_slice(&body).unwrap()
}

fn assert_invalid(result: faas_provider::Result<impl std::fmt::Debug>, expected: &str) {
    match result {
        Err(ProviderError::InvalidRequest(message)) => assert!(
            message.contains(expected),
            "message {message:?} should contain {expected:?}"
        ),
        other => panic!("expected InvalidRequest({expected:?}), got {other:?}"),
    }
}

fn assert_not_found(result: faas_provider::Result<impl std::fmt::Debug>, kind: ResourceKind) {
    match result {
        Err(ProviderError::NotFound { kind: k, .. }) if k == kind => {}
        other => panic!("expected NotFound({kind}), got {other:?}"),
    }
}

fn assert_exists(result: faas_provider::Result<impl std::fmt::Debug>, kind: ResourceKind) {
    match result {
        Err(ProviderError::AlreadyExists { kind: k, .. }) if k == kind => {}
        other => panic!("expected AlreadyExists({kind}), got {other:?}"),
    }
}

async fn all_logs(provider: &MemoryProvider, request: LogRequest) -> Vec<LogMessage> {
    provider.logs(request).await.unwrap().collect().await
}

fn texts(lines: &[LogMessage]) -> Vec<&str> {
    lines.iter().map(|m| m.text.as_str()).collect()
}

// ---------------------------------------------------------------- identity

#[tokio::test]
async fn info_and_capabilities() {
    let provider = MemoryProvider::new();
    let info = provider.info().await.unwrap();
    assert_eq!(info.name, "faas-memory");
    assert_eq!(info.orchestration, "memory");
    let version = info.version.unwrap();
    assert_eq!(version.release, env!("CARGO_PKG_VERSION"));
    assert!(!version.sha.is_empty());
    assert_eq!(provider.capabilities(), faas_provider::Capabilities::full());
    assert_eq!(provider.capabilities().default_namespace, "openfaas-fn");
    provider.health().await.unwrap();
}

#[tokio::test]
async fn works_behind_a_trait_object() {
    let provider: Arc<DynProvider> = Arc::new(MemoryProvider::new());
    provider.deploy(spec("obj")).await.unwrap();
    assert!(provider.ready(&func("obj")).await.unwrap());
    assert_eq!(provider.list(NS).await.unwrap().len(), 1);
}

// ---------------------------------------------------------------- namespaces

#[tokio::test]
async fn default_namespace_always_exists() {
    let provider = MemoryProvider::new();
    assert_eq!(provider.list_namespaces().await.unwrap(), vec![NS]);
    let ns = provider.get_namespace(NS).await.unwrap();
    assert_eq!(ns.name, NS);
    assert_eq!(ns.labels.get("openfaas").map(String::as_str), Some("1"));
    assert_invalid(provider.delete_namespace(NS).await, "cannot be deleted");
    assert_eq!(provider.list_namespaces().await.unwrap(), vec![NS]);
}

#[tokio::test]
async fn namespace_crud_and_sorted_list() {
    let provider = MemoryProvider::new();
    for name in ["zeta", "alpha", "mid"] {
        provider
            .create_namespace(FunctionNamespace::new(name))
            .await
            .unwrap();
    }
    assert_eq!(
        provider.list_namespaces().await.unwrap(),
        vec!["alpha", "mid", "openfaas-fn", "zeta"]
    );
    assert_exists(
        provider
            .create_namespace(FunctionNamespace::new("mid"))
            .await,
        ResourceKind::Namespace,
    );

    let mut updated = FunctionNamespace::new("mid");
    updated.labels.insert("team".into(), "a".into());
    updated.annotations.insert("note".into(), "x".into());
    provider.update_namespace(updated.clone()).await.unwrap();
    assert_eq!(provider.get_namespace("mid").await.unwrap(), updated);

    provider.delete_namespace("mid").await.unwrap();
    assert_not_found(provider.get_namespace("mid").await, ResourceKind::Namespace);
    assert_eq!(
        provider.list_namespaces().await.unwrap(),
        vec!["alpha", "openfaas-fn", "zeta"]
    );
}

#[tokio::test]
async fn missing_namespaces_are_not_found() {
    let provider = MemoryProvider::new();
    assert_not_found(
        provider.get_namespace("nope").await,
        ResourceKind::Namespace,
    );
    assert_not_found(
        provider
            .update_namespace(FunctionNamespace::new("nope"))
            .await,
        ResourceKind::Namespace,
    );
    assert_not_found(
        provider.delete_namespace("nope").await,
        ResourceKind::Namespace,
    );
}

#[tokio::test]
async fn namespaces_need_the_openfaas_label_and_a_valid_name() {
    let provider = MemoryProvider::new();
    let mut unlabelled = FunctionNamespace::new("dev");
    unlabelled.labels.clear();
    assert_invalid(
        provider.create_namespace(unlabelled.clone()).await,
        "openfaas",
    );
    let mut wrong = FunctionNamespace::new("dev");
    wrong.labels.insert("openfaas".into(), "true".into());
    assert_invalid(provider.create_namespace(wrong.clone()).await, "openfaas");
    assert_invalid(
        provider
            .create_namespace(FunctionNamespace::new("Bad_Name"))
            .await,
        "not valid",
    );
    assert_invalid(
        provider.create_namespace(FunctionNamespace::new("")).await,
        "not valid",
    );

    provider
        .create_namespace(FunctionNamespace::new("dev"))
        .await
        .unwrap();
    assert_invalid(provider.update_namespace(unlabelled).await, "openfaas");
    assert_invalid(provider.update_namespace(wrong).await, "openfaas");
    assert_eq!(
        provider.get_namespace("dev").await.unwrap(),
        FunctionNamespace::new("dev")
    );
}

#[tokio::test]
async fn a_namespace_holding_functions_cannot_be_deleted() {
    let provider = MemoryProvider::new();
    provider
        .create_namespace(FunctionNamespace::new("dev"))
        .await
        .unwrap();
    provider
        .create_secret(Secret::new("token", "dev", "t"))
        .await
        .unwrap();
    provider.deploy(spec_in("api", "dev")).await.unwrap();
    assert_invalid(
        provider.delete_namespace("dev").await,
        "still holds 1 function(s) (api)",
    );
    assert!(provider.get_namespace("dev").await.is_ok());

    provider
        .delete(&FunctionRef::new("api", "dev"))
        .await
        .unwrap();
    provider.delete_namespace("dev").await.unwrap();
    // Its secrets went with it: a new namespace of the same name starts empty.
    provider
        .create_namespace(FunctionNamespace::new("dev"))
        .await
        .unwrap();
    assert!(provider.list_secrets("dev").await.unwrap().is_empty());
}

#[tokio::test]
async fn functions_in_another_namespace_are_separate() {
    let provider = MemoryProvider::new();
    provider
        .create_namespace(FunctionNamespace::new("dev"))
        .await
        .unwrap();
    provider.deploy(spec("api")).await.unwrap();
    provider.deploy(spec_in("api", "dev")).await.unwrap();
    provider.deploy(spec_in("web", "dev")).await.unwrap();
    let names = |list: Vec<faas_provider::FunctionStatus>| {
        list.into_iter()
            .map(|s| (s.name, s.namespace))
            .collect::<Vec<_>>()
    };
    assert_eq!(
        names(provider.list("dev").await.unwrap()),
        vec![("api".into(), "dev".into()), ("web".into(), "dev".into())]
    );
    assert_eq!(
        names(provider.list(NS).await.unwrap()),
        vec![("api".to_string(), NS.to_string())]
    );
    let echoed = echo(&provider, "api", request("GET", "/", Body::empty())).await;
    assert_eq!(echoed.namespace, NS);
    let in_dev = provider
        .invoke(
            &FunctionRef::new("web", "dev"),
            request("GET", "/", Body::empty()),
        )
        .await
        .unwrap();
    let body = in_dev.into_body().collect().await.unwrap().to_bytes();
    let echoed: EchoResponse = serde_json::from_slice(&body).unwrap();
    assert_eq!(
        (echoed.function.as_str(), echoed.namespace.as_str()),
        ("web", "dev")
    );
    assert_not_found(provider.get(&func("web")).await, ResourceKind::Function);
}

#[tokio::test]
async fn everything_in_an_unknown_namespace_is_invalid() {
    let provider = provider_with(&["api"]).await;
    let f = FunctionRef::new("api", "nope");
    let expected = "namespace nope not valid";
    assert_invalid(provider.deploy(spec_in("api", "nope")).await, expected);
    assert_invalid(provider.update(spec_in("api", "nope")).await, expected);
    assert_invalid(provider.list("nope").await, expected);
    assert_invalid(provider.get(&f).await, expected);
    assert_invalid(provider.delete(&f).await, expected);
    assert_invalid(provider.scale(&f, 2).await, expected);
    assert_invalid(provider.list_secrets("nope").await, expected);
    assert_invalid(
        provider.create_secret(Secret::new("s", "nope", "v")).await,
        expected,
    );
    assert_invalid(
        provider.update_secret(Secret::new("s", "nope", "v")).await,
        expected,
    );
    assert_invalid(provider.delete_secret("s", "nope").await, expected);
    assert_invalid(
        provider.logs(LogRequest::new(f.clone())).await.map(|_| ()),
        expected,
    );
    // Invoking is resolving: an unknown namespace is an unknown function.
    assert_not_found(
        provider
            .invoke(&f, request("GET", "/", Body::empty()))
            .await,
        ResourceKind::Function,
    );
}

// ---------------------------------------------------------------- deploy, get, list

#[tokio::test]
async fn deploy_echoes_every_field_in_status() {
    let provider = MemoryProvider::new();
    let mut full = spec("full");
    full.env_process = "cat".into();
    full.env_vars.insert("A".into(), "1".into());
    full.constraints = vec!["node.platform.os == linux".into()];
    full.labels = Some([("team".to_string(), "x".to_string())].into());
    full.annotations = Some([("topic".to_string(), "{\n \"a\": 1\n}".to_string())].into());
    full.limits = Some(FunctionResources {
        memory: "5Mi".into(),
        cpu: "100m".into(),
    });
    full.requests = Some(FunctionResources {
        memory: "1Mi".into(),
        cpu: String::new(),
    });
    full.read_only_root_filesystem = true;
    provider
        .create_secret(Secret::new("key", NS, "v"))
        .await
        .unwrap();
    full.secrets = vec!["key".into()];

    let before = Utc::now();
    provider.deploy(full.clone()).await.unwrap();
    let after = Utc::now();

    let status = provider.get(&func("full")).await.unwrap();
    assert_eq!(status.name, "full");
    assert_eq!(status.image, "example/echo:1");
    assert_eq!(status.namespace, NS);
    assert_eq!(status.env_process, "cat");
    assert_eq!(status.env_vars, full.env_vars);
    assert_eq!(status.constraints, full.constraints);
    assert_eq!(status.secrets, vec!["key"]);
    assert_eq!(status.label("team"), Some("x"));
    assert_eq!(status.label("faas_function"), Some("full"));
    assert_eq!(status.annotations, full.annotations);
    assert_eq!(status.limits, full.limits);
    assert_eq!(status.requests, full.requests);
    assert!(status.read_only_root_filesystem);
    assert_eq!(status.invocation_count, 0.0);
    assert_eq!((status.replicas, status.available_replicas), (1, 1));
    assert!(before <= status.created_at && status.created_at <= after);
    assert_eq!(provider.list(NS).await.unwrap(), vec![status]);
}

#[tokio::test]
async fn status_always_carries_labels_and_annotations() {
    let provider = provider_with(&["bare"]).await;
    let status = provider.get(&func("bare")).await.unwrap();
    assert_eq!(
        status.labels,
        Some([("faas_function".to_string(), "bare".to_string())].into())
    );
    assert_eq!(status.annotations, Some(Default::default()));
    let json = serde_json::to_value(&status).unwrap();
    assert_eq!(json["labels"], serde_json::json!({"faas_function": "bare"}));
    assert_eq!(json["annotations"], serde_json::json!({}));
    assert_eq!(json["replicas"], 1);
    assert_eq!(json["availableReplicas"], 1);
}

#[tokio::test]
async fn deploy_rejects_duplicates_and_bad_specs() {
    let provider = provider_with(&["api"]).await;
    assert_exists(provider.deploy(spec("api")).await, ResourceKind::Function);
    assert_invalid(
        provider.deploy(FunctionDeployment::new("", "img")).await,
        "service: is required",
    );
    for bad in ["Api", "a_b", "-a", "a.b", "with space"] {
        assert_invalid(provider.deploy(spec(bad)).await, "service");
    }
    assert_invalid(
        provider
            .deploy(FunctionDeployment::new("noimage", ""))
            .await,
        "image: is required",
    );
    assert_invalid(
        provider
            .deploy(FunctionDeployment::new("noimage", "  "))
            .await,
        "image: is required",
    );
    assert_eq!(provider.list(NS).await.unwrap().len(), 1);
}

#[tokio::test]
async fn deploy_needs_its_secrets() {
    let provider = MemoryProvider::new();
    let mut with_secret = spec("api");
    with_secret.secrets = vec!["db".into()];
    assert_invalid(
        provider.deploy(with_secret.clone()).await,
        "unable to find secret: db",
    );
    assert_not_found(provider.get(&func("api")).await, ResourceKind::Function);
    provider
        .create_namespace(FunctionNamespace::new("other"))
        .await
        .unwrap();
    provider
        .create_secret(Secret::new("db", "other", "v"))
        .await
        .unwrap();
    assert_invalid(
        provider.deploy(with_secret.clone()).await,
        "unable to find secret: db",
    );
    provider
        .create_secret(Secret::new("db", NS, "v"))
        .await
        .unwrap();
    provider.deploy(with_secret).await.unwrap();
}

#[tokio::test]
async fn deploy_starts_at_the_minimum_scale() {
    let provider = MemoryProvider::new();
    provider
        .deploy(with_label(spec("min3"), "com.openfaas.scale.min", "3"))
        .await
        .unwrap();
    provider
        .deploy(with_label(spec("zero"), "com.openfaas.scale.min", "0"))
        .await
        .unwrap();
    provider
        .deploy(with_label(spec("junk"), "com.openfaas.scale.min", "many"))
        .await
        .unwrap();
    let replicas = |s: faas_provider::FunctionStatus| (s.replicas, s.available_replicas);
    assert_eq!(replicas(provider.get(&func("min3")).await.unwrap()), (3, 3));
    assert_eq!(replicas(provider.get(&func("zero")).await.unwrap()), (1, 1));
    assert_eq!(replicas(provider.get(&func("junk")).await.unwrap()), (1, 1));
}

#[tokio::test]
async fn empty_namespace_means_the_default() {
    let provider = MemoryProvider::new();
    provider
        .deploy(FunctionDeployment::new("api", "img"))
        .await
        .unwrap();
    let status = provider.get(&FunctionRef::new("api", "")).await.unwrap();
    assert_eq!(status.namespace, NS);
    assert_eq!(provider.list("").await.unwrap().len(), 1);
    provider.delete(&FunctionRef::new("api", "")).await.unwrap();
    assert!(provider.list(NS).await.unwrap().is_empty());
}

#[tokio::test]
async fn get_and_list_of_nothing() {
    let provider = MemoryProvider::new();
    assert_not_found(provider.get(&func("ghost")).await, ResourceKind::Function);
    assert_eq!(provider.list(NS).await.unwrap(), vec![]);
    assert_eq!(
        serde_json::to_string(&provider.list(NS).await.unwrap()).unwrap(),
        "[]"
    );
    assert!(!provider.ready(&func("api")).await.is_ok_and(|r| r));
}

#[tokio::test]
async fn list_is_sorted_by_name() {
    let provider = provider_with(&["c", "a", "b"]).await;
    let names: Vec<String> = provider
        .list(NS)
        .await
        .unwrap()
        .into_iter()
        .map(|s| s.name)
        .collect();
    assert_eq!(names, vec!["a", "b", "c"]);
}

// ---------------------------------------------------------------- update

#[tokio::test]
async fn update_of_a_missing_function_is_not_found() {
    let provider = MemoryProvider::new();
    assert_not_found(provider.update(spec("ghost")).await, ResourceKind::Function);
    assert_not_found(provider.get(&func("ghost")).await, ResourceKind::Function);
}

#[tokio::test]
async fn update_replaces_the_spec_and_keeps_count_and_creation() {
    let provider = MemoryProvider::new();
    provider
        .deploy(with_label(spec("api"), "old", "1"))
        .await
        .unwrap();
    for _ in 0..2 {
        call(&provider, "api", request("GET", "/", Body::empty())).await;
    }
    let before = provider.get(&func("api")).await.unwrap();

    let mut next = with_label(spec("api"), "new", "2");
    next.image = "example/echo:2".into();
    next.env_vars.insert("B".into(), "2".into());
    provider.update(next).await.unwrap();

    let after = provider.get(&func("api")).await.unwrap();
    assert_eq!(after.image, "example/echo:2");
    assert_eq!(after.label("new"), Some("2"));
    assert_eq!(after.label("old"), None, "labels are replaced, not merged");
    assert_eq!(after.label("faas_function"), Some("api"));
    assert_eq!(after.env_vars.get("B").map(String::as_str), Some("2"));
    assert_eq!(after.invocation_count, 2.0);
    assert_eq!(after.created_at, before.created_at);
}

#[tokio::test]
async fn update_keeps_replicas_but_raises_them_to_the_minimum() {
    let provider = provider_with(&["api"]).await;
    let replicas = async |p: &MemoryProvider| p.get(&func("api")).await.unwrap().replicas;

    provider.scale(&func("api"), 4).await.unwrap();
    provider.update(spec("api")).await.unwrap();
    assert_eq!(replicas(&provider).await, 4, "kept");

    provider
        .update(with_label(spec("api"), "com.openfaas.scale.min", "2"))
        .await
        .unwrap();
    assert_eq!(replicas(&provider).await, 4, "already above min");

    provider
        .update(with_label(spec("api"), "com.openfaas.scale.min", "6"))
        .await
        .unwrap();
    assert_eq!(replicas(&provider).await, 6, "raised to min");

    provider.scale(&func("api"), 0).await.unwrap();
    provider.update(spec("api")).await.unwrap();
    assert_eq!(
        replicas(&provider).await,
        1,
        "raised to the default min of 1"
    );
}

#[tokio::test]
async fn update_validates_like_deploy() {
    let provider = provider_with(&["api"]).await;
    let mut bad = spec("api");
    bad.image.clear();
    assert_invalid(provider.update(bad).await, "image: is required");
    let mut secretive = spec("api");
    secretive.secrets = vec!["nope".into()];
    assert_invalid(
        provider.update(secretive).await,
        "unable to find secret: nope",
    );
    assert_invalid(provider.update(spec("API")).await, "service");
    assert_eq!(
        provider.get(&func("api")).await.unwrap().image,
        "example/echo:1"
    );
}

// ---------------------------------------------------------------- delete and scale

#[tokio::test]
async fn delete_removes_and_a_redeploy_starts_fresh() {
    let provider = provider_with(&["api", "keep"]).await;
    call(&provider, "api", request("GET", "/", Body::empty())).await;
    provider.delete(&func("api")).await.unwrap();
    assert_not_found(provider.get(&func("api")).await, ResourceKind::Function);
    assert_not_found(provider.delete(&func("api")).await, ResourceKind::Function);
    assert_eq!(provider.list(NS).await.unwrap().len(), 1);

    provider.deploy(spec("api")).await.unwrap();
    let status = provider.get(&func("api")).await.unwrap();
    assert_eq!(status.invocation_count, 0.0);
    let history = all_logs(&provider, LogRequest::new(func("api"))).await;
    assert_eq!(
        texts(&history),
        vec!["Deployed example/echo:1 with 1 replicas"]
    );
}

#[tokio::test]
async fn scale_sets_replicas_including_zero() {
    let provider = provider_with(&["api"]).await;
    assert_not_found(
        provider.scale(&func("ghost"), 1).await,
        ResourceKind::Function,
    );

    provider.scale(&func("api"), 5).await.unwrap();
    let status = provider.get(&func("api")).await.unwrap();
    assert_eq!((status.replicas, status.available_replicas), (5, 5));

    provider.scale(&func("api"), 0).await.unwrap();
    let status = provider.get(&func("api")).await.unwrap();
    assert_eq!((status.replicas, status.available_replicas), (0, 0));
    assert!(!provider.ready(&func("api")).await.unwrap());
    match provider
        .invoke(&func("api"), request("GET", "/", Body::empty()))
        .await
    {
        Err(ProviderError::NotReady { name }) => assert_eq!(name, "api.openfaas-fn"),
        other => panic!("expected NotReady, got {other:?}"),
    }

    provider.scale(&func("api"), 1).await.unwrap();
    let (status, ..) = call(&provider, "api", request("GET", "/", Body::empty())).await;
    assert_eq!(status, http::StatusCode::OK);

    // No upper bound, and no allocation per replica.
    provider.scale(&func("api"), u64::MAX).await.unwrap();
    assert_eq!(provider.get(&func("api")).await.unwrap().replicas, u64::MAX);
}

// ---------------------------------------------------------------- readiness

#[tokio::test(start_paused = true)]
async fn readiness_delay_holds_new_replicas_back() {
    let delay = Duration::from_secs(30);
    let provider = MemoryProvider::with_readiness_delay(delay);
    provider.deploy(spec("slow")).await.unwrap();

    let status = provider.get(&func("slow")).await.unwrap();
    assert_eq!((status.replicas, status.available_replicas), (1, 0));
    assert!(!provider.ready(&func("slow")).await.unwrap());
    assert!(matches!(
        provider
            .invoke(&func("slow"), request("GET", "/", Body::empty()))
            .await,
        Err(ProviderError::NotReady { .. })
    ));

    tokio::time::advance(delay).await;
    let status = provider.get(&func("slow")).await.unwrap();
    assert_eq!((status.replicas, status.available_replicas), (1, 1));

    // Scaling up: the old replica serves, the new ones wait.
    provider.scale(&func("slow"), 3).await.unwrap();
    let status = provider.get(&func("slow")).await.unwrap();
    assert_eq!((status.replicas, status.available_replicas), (3, 1));
    for _ in 0..3 {
        let (_, instance, ..) = call(&provider, "slow", request("GET", "/", Body::empty())).await;
        assert_eq!(instance, "slow-0");
    }
    tokio::time::advance(delay).await;
    assert_eq!(
        provider
            .get(&func("slow"))
            .await
            .unwrap()
            .available_replicas,
        3
    );
}

#[tokio::test(start_paused = true)]
async fn readiness_can_be_polled() {
    let provider = MemoryProvider::with_readiness_delay(Duration::from_secs(2));
    provider.deploy(spec("poll")).await.unwrap();
    let mut polls = 0;
    while !provider.ready(&func("poll")).await.unwrap() {
        polls += 1;
        assert!(polls < 1000, "never became ready");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(polls > 0, "was ready before the delay");
    let (status, ..) = call(&provider, "poll", request("POST", "/", "x")).await;
    assert_eq!(status, http::StatusCode::OK);
}

// ---------------------------------------------------------------- invoke

#[tokio::test]
async fn invoke_echoes_the_request_in_the_exact_shape() {
    let provider = provider_with(&["echo"]).await;
    let req = http::Request::builder()
        .method("POST")
        .uri("/a/b?x=1&y=%20")
        .header("Content-Type", "text/plain")
        .header("X-Multi", "one")
        .header("x-multi", "two")
        .body(Body::from("hello"))
        .unwrap();
    let (status, instance, content_type, body) = call(&provider, "echo", req).await;
    assert_eq!(status, http::StatusCode::OK);
    assert_eq!(content_type, "application/json");
    assert_eq!(instance, "echo-0");
    assert_eq!(
        std::str::from_utf8(&body).unwrap(),
        concat!(
            r#"{"function":"echo","namespace":"openfaas-fn","method":"POST","path":"/a/b","#,
            r#""query":"x=1&y=%20","headers":{"content-type":"text/plain","x-multi":"one, two"},"#,
            r#""body":"hello"}"#
        )
    );
}

#[tokio::test]
async fn invoke_without_query_or_body() {
    let provider = provider_with(&["echo"]).await;
    let (_, _, _, body) = call(&provider, "echo", request("GET", "/", Body::empty())).await;
    let value: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(
        value,
        serde_json::json!({
            "function": "echo", "namespace": "openfaas-fn", "method": "GET", "path": "/",
            "query": "", "headers": {}, "body": ""
        })
    );
}

#[tokio::test]
async fn invoke_encodes_binary_bodies_in_base64() {
    let provider = provider_with(&["echo"]).await;
    let bytes = vec![0xff, 0x00, 0xfe, b'a'];
    let (_, _, _, body) = call(&provider, "echo", request("PUT", "/bin", bytes.clone())).await;
    let value: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(value["bodyBase64"], "/wD+YQ==");
    assert!(value.get("body").is_none(), "{value}");
    let echoed: EchoResponse = serde_json::from_value(value).unwrap();
    assert_eq!(echoed.body_bytes(), Some(bytes));
    assert_eq!(echoed.method, "PUT");
}

#[tokio::test]
async fn invoke_reads_streamed_bodies_to_the_end() {
    let provider = provider_with(&["echo"]).await;
    let chunks = futures::stream::iter(
        ["part one, ", "part two, ", "end"]
            .into_iter()
            .map(|c| Ok::<_, std::io::Error>(Bytes::from(c))),
    );
    let echoed = echo(
        &provider,
        "echo",
        request("POST", "/", Body::from_stream(chunks)),
    )
    .await;
    assert_eq!(echoed.body.as_deref(), Some("part one, part two, end"));
}

#[tokio::test]
async fn invoke_reports_body_read_failures_as_client_errors() {
    let provider = provider_with(&["echo"]).await;
    let broken = futures::stream::iter(vec![
        Ok(Bytes::from("start")),
        Err(std::io::Error::new(
            std::io::ErrorKind::ConnectionReset,
            "gone",
        )),
    ]);
    assert_invalid(
        provider
            .invoke(
                &func("echo"),
                request("POST", "/", Body::from_stream(broken)),
            )
            .await,
        "failed to read the request body",
    );
    let limited = Body::new(http_body_util::Limited::new(
        Body::from(vec![b'x'; 100]),
        10,
    ));
    assert!(matches!(
        provider
            .invoke(&func("echo"), request("POST", "/", limited))
            .await,
        Err(ProviderError::PayloadTooLarge(_))
    ));
    // Failed reads are not counted as invocations.
    assert_eq!(
        provider.get(&func("echo")).await.unwrap().invocation_count,
        0.0
    );
}

#[tokio::test]
async fn invoke_of_an_unknown_function_is_not_found() {
    let provider = provider_with(&["echo"]).await;
    assert_not_found(
        provider
            .invoke(&func("ghost"), request("GET", "/", Body::empty()))
            .await,
        ResourceKind::Function,
    );
}

#[tokio::test]
async fn invoke_counts_and_round_robins_over_replicas() {
    let provider = provider_with(&["rr"]).await;
    provider.scale(&func("rr"), 3).await.unwrap();
    let mut seen = Vec::new();
    for _ in 0..7 {
        let (_, instance, ..) = call(&provider, "rr", request("GET", "/", Body::empty())).await;
        seen.push(instance);
    }
    assert_eq!(
        seen,
        vec!["rr-0", "rr-1", "rr-2", "rr-0", "rr-1", "rr-2", "rr-0"]
    );
    assert_eq!(
        provider.get(&func("rr")).await.unwrap().invocation_count,
        7.0
    );
    let json = serde_json::to_value(provider.get(&func("rr")).await.unwrap()).unwrap();
    assert_eq!(json["invocationCount"], 7.0);

    provider.scale(&func("rr"), 1).await.unwrap();
    for _ in 0..2 {
        let (_, instance, ..) = call(&provider, "rr", request("GET", "/", Body::empty())).await;
        assert_eq!(instance, "rr-0");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_invocations_are_all_counted() {
    let provider = Arc::new(provider_with(&["busy"]).await);
    provider.scale(&func("busy"), 4).await.unwrap();
    let tasks: Vec<_> = (0..200)
        .map(|i| {
            let provider = provider.clone();
            tokio::spawn(async move {
                let echoed = echo(&provider, "busy", request("POST", "/", format!("{i}"))).await;
                assert_eq!(echoed.body, Some(i.to_string()));
            })
        })
        .collect();
    for task in tasks {
        task.await.unwrap();
    }
    assert_eq!(
        provider.get(&func("busy")).await.unwrap().invocation_count,
        200.0
    );
    let lines = all_logs(&provider, LogRequest::new(func("busy"))).await;
    assert_eq!(
        lines.iter().filter(|m| m.text == "POST / -> 200").count(),
        200
    );
    for n in 0..4 {
        let instance = format!("busy-{n}");
        assert_eq!(
            lines.iter().filter(|m| m.instance == instance).count(),
            50,
            "{instance}"
        );
    }
}

// ---------------------------------------------------------------- secrets

#[tokio::test]
async fn secret_crud() {
    let provider = MemoryProvider::new();
    provider
        .create_secret(Secret::new("zed", NS, "z"))
        .await
        .unwrap();
    provider
        .create_secret(Secret::new("api-key", "", "first"))
        .await
        .unwrap();
    assert_exists(
        provider
            .create_secret(Secret::new("api-key", NS, "x"))
            .await,
        ResourceKind::Secret,
    );
    assert_eq!(
        provider.secret_value("api-key", NS),
        Some(b"first".to_vec())
    );

    let listed = provider.list_secrets(NS).await.unwrap();
    assert_eq!(
        listed,
        vec![
            Secret::new("api-key", NS, "").without_value(),
            Secret::new("zed", NS, "").without_value()
        ]
    );
    assert_eq!(
        serde_json::to_string(&listed).unwrap(),
        r#"[{"name":"api-key","namespace":"openfaas-fn"},{"name":"zed","namespace":"openfaas-fn"}]"#
    );

    provider
        .update_secret(Secret::new("api-key", NS, "second"))
        .await
        .unwrap();
    assert_eq!(
        provider.secret_value("api-key", NS),
        Some(b"second".to_vec())
    );
    assert_not_found(
        provider.update_secret(Secret::new("ghost", NS, "v")).await,
        ResourceKind::Secret,
    );

    provider.delete_secret("api-key", NS).await.unwrap();
    assert_not_found(
        provider.delete_secret("api-key", NS).await,
        ResourceKind::Secret,
    );
    assert_eq!(provider.secret_value("api-key", NS), None);
    assert_eq!(provider.list_secrets(NS).await.unwrap().len(), 1);
}

#[tokio::test]
async fn secrets_store_raw_values_and_validate_names() {
    let provider = MemoryProvider::new();
    let mut raw = Secret::new("bin", NS, "ignored");
    raw.raw_value = vec![0, 159, 146, 150];
    provider.create_secret(raw).await.unwrap();
    assert_eq!(
        provider.secret_value("bin", NS),
        Some(vec![0, 159, 146, 150])
    );
    for bad in ["", "../etc", "a/b", ".hidden"] {
        assert_invalid(
            provider.create_secret(Secret::new(bad, NS, "v")).await,
            "invalid secret name",
        );
    }
    assert!(provider.list_secrets(NS).await.unwrap().len() == 1);
}

#[tokio::test]
async fn secrets_are_per_namespace() {
    let provider = MemoryProvider::new();
    provider
        .create_namespace(FunctionNamespace::new("dev"))
        .await
        .unwrap();
    provider
        .create_secret(Secret::new("s", "dev", "dev-value"))
        .await
        .unwrap();
    provider
        .create_secret(Secret::new("s", NS, "default-value"))
        .await
        .unwrap();
    assert_eq!(
        provider.secret_value("s", "dev"),
        Some(b"dev-value".to_vec())
    );
    provider.delete_secret("s", "dev").await.unwrap();
    assert_eq!(
        provider.secret_value("s", NS),
        Some(b"default-value".to_vec())
    );
}

#[tokio::test]
async fn deleting_a_secret_in_use_is_allowed() {
    let provider = MemoryProvider::new();
    provider
        .create_secret(Secret::new("db", NS, "v"))
        .await
        .unwrap();
    let mut uses = spec("api");
    uses.secrets = vec!["db".into()];
    provider.deploy(uses).await.unwrap();
    provider.delete_secret("db", NS).await.unwrap();
    let status = provider.get(&func("api")).await.unwrap();
    assert_eq!(status.secrets, vec!["db"]);
    let (code, ..) = call(&provider, "api", request("GET", "/", Body::empty())).await;
    assert_eq!(code, http::StatusCode::OK);
}

// ---------------------------------------------------------------- logs

#[tokio::test]
async fn logs_record_the_lifecycle_and_each_invocation() {
    let provider = provider_with(&["api"]).await;
    provider.scale(&func("api"), 2).await.unwrap();
    let (_, first, ..) = call(&provider, "api", request("POST", "/a/b?q=1", "x")).await;
    let (_, second, ..) = call(&provider, "api", request("GET", "/", Body::empty())).await;
    let mut next = spec("api");
    next.image = "example/echo:2".into();
    provider.update(next).await.unwrap();

    let lines = all_logs(&provider, LogRequest::new(func("api"))).await;
    assert_eq!(
        texts(&lines),
        vec![
            "Deployed example/echo:1 with 1 replicas",
            "Scaled from 1 to 2",
            "POST /a/b -> 200",
            "GET / -> 200",
            "Updated to example/echo:2 with 2 replicas",
        ]
    );
    let instances: Vec<&str> = lines.iter().map(|m| m.instance.as_str()).collect();
    assert_eq!(instances, vec!["api", "api", &first, &second, "api"]);
    assert_eq!((first.as_str(), second.as_str()), ("api-0", "api-1"));
    for line in &lines {
        assert_eq!((line.name.as_str(), line.namespace.as_str()), ("api", NS));
    }
    assert!(lines.windows(2).all(|w| w[0].timestamp <= w[1].timestamp));
}

#[tokio::test]
async fn logs_filter_by_instance_since_and_tail() {
    let provider = provider_with(&["api"]).await;
    provider.scale(&func("api"), 2).await.unwrap();
    for path in ["/1", "/2", "/3", "/4"] {
        call(&provider, "api", request("GET", path, Body::empty())).await;
    }

    let mut by_instance = LogRequest::new(func("api"));
    by_instance.instance = Some("api-1".into());
    let lines = all_logs(&provider, by_instance.clone()).await;
    assert_eq!(texts(&lines), vec!["GET /2 -> 200", "GET /4 -> 200"]);

    by_instance.tail = Some(1);
    let lines = all_logs(&provider, by_instance).await;
    assert_eq!(texts(&lines), vec!["GET /4 -> 200"]);

    let mut tail = LogRequest::new(func("api"));
    tail.tail = Some(3);
    assert_eq!(
        texts(&all_logs(&provider, tail.clone()).await),
        vec!["GET /2 -> 200", "GET /3 -> 200", "GET /4 -> 200"]
    );
    tail.tail = Some(100);
    assert_eq!(all_logs(&provider, tail.clone()).await.len(), 6);
    tail.tail = Some(0);
    assert_eq!(all_logs(&provider, tail).await.len(), 6, "tail 0 = all");

    let everything = all_logs(&provider, LogRequest::new(func("api"))).await;
    let mut since = LogRequest::new(func("api"));
    since.since = Some(everything[3].timestamp);
    let lines = all_logs(&provider, since.clone()).await;
    assert!(texts(&lines).ends_with(&["GET /2 -> 200", "GET /3 -> 200", "GET /4 -> 200"]));
    assert!(lines.iter().all(|m| m.timestamp >= everything[3].timestamp));
    since.since = Some(Utc::now() + chrono::Duration::hours(1));
    assert!(all_logs(&provider, since).await.is_empty());
}

#[tokio::test]
async fn logs_of_an_unknown_function_are_not_found() {
    let provider = MemoryProvider::new();
    assert_not_found(
        provider
            .logs(LogRequest::new(func("ghost")))
            .await
            .map(|_| ()),
        ResourceKind::Function,
    );
}

#[tokio::test]
async fn follow_streams_history_then_live_lines_until_delete() {
    let provider = provider_with(&["api"]).await;
    let mut follow = LogRequest::new(func("api"));
    follow.follow = true;
    let mut stream = provider.logs(follow).await.unwrap();
    assert_eq!(
        stream.next().await.unwrap().text,
        "Deployed example/echo:1 with 1 replicas"
    );

    call(&provider, "api", request("DELETE", "/item", Body::empty())).await;
    let live = stream.next().await.unwrap();
    assert_eq!(
        (live.text.as_str(), live.instance.as_str()),
        ("DELETE /item -> 200", "api-0")
    );
    provider.scale(&func("api"), 2).await.unwrap();
    assert_eq!(stream.next().await.unwrap().text, "Scaled from 1 to 2");

    provider.delete(&func("api")).await.unwrap();
    assert_eq!(stream.next().await.unwrap().text, "Deleted");
    assert!(stream.next().await.is_none(), "delete ends the stream");

    // A redeploy under the same name does not revive an ended stream, and starts its own log.
    provider.deploy(spec("api")).await.unwrap();
    assert!(stream.next().await.is_none());
}

#[tokio::test]
async fn follow_applies_filters_to_live_lines() {
    let provider = provider_with(&["api"]).await;
    provider.scale(&func("api"), 2).await.unwrap();
    let mut follow = LogRequest::new(func("api"));
    follow.follow = true;
    follow.instance = Some("api-1".into());
    follow.tail = Some(1);
    let mut stream = provider.logs(follow).await.unwrap();
    for path in ["/a", "/b", "/c", "/d"] {
        call(&provider, "api", request("GET", path, Body::empty())).await;
    }
    provider.delete(&func("api")).await.unwrap();
    let lines: Vec<LogMessage> = stream.by_ref().collect().await;
    assert_eq!(texts(&lines), vec!["GET /b -> 200", "GET /d -> 200"]);
}

#[tokio::test]
async fn dropping_a_follow_stream_is_harmless() {
    let provider = provider_with(&["api"]).await;
    let mut follow = LogRequest::new(func("api"));
    follow.follow = true;
    let stream = provider.logs(follow).await.unwrap();
    drop(stream);
    let (code, ..) = call(&provider, "api", request("GET", "/", Body::empty())).await;
    assert_eq!(code, http::StatusCode::OK);
    assert_eq!(
        all_logs(&provider, LogRequest::new(func("api")))
            .await
            .len(),
        2
    );
}

#[tokio::test]
async fn log_history_is_bounded() {
    let provider = MemoryProvider::new().log_history_limit(5);
    provider.deploy(spec("api")).await.unwrap();
    for i in 0..20 {
        call(
            &provider,
            "api",
            request("GET", &format!("/{i}"), Body::empty()),
        )
        .await;
    }
    let lines = all_logs(&provider, LogRequest::new(func("api"))).await;
    assert_eq!(
        texts(&lines),
        vec![
            "GET /15 -> 200",
            "GET /16 -> 200",
            "GET /17 -> 200",
            "GET /18 -> 200",
            "GET /19 -> 200"
        ]
    );
    let state = provider.read();
    assert_eq!(state.function(&func("api")).unwrap().logs.len(), 5);
}

#[tokio::test]
async fn without_history_follow_still_sees_live_lines() {
    let provider = MemoryProvider::new().log_history_limit(0);
    provider.deploy(spec("api")).await.unwrap();
    assert!(
        all_logs(&provider, LogRequest::new(func("api")))
            .await
            .is_empty()
    );
    let mut follow = LogRequest::new(func("api"));
    follow.follow = true;
    let mut stream = provider.logs(follow).await.unwrap();
    call(&provider, "api", request("GET", "/", Body::empty())).await;
    assert_eq!(stream.next().await.unwrap().text, "GET / -> 200");
}

#[test]
fn default_log_history_is_ten_thousand() {
    assert_eq!(crate::DEFAULT_LOG_HISTORY, 10_000);
    assert_eq!(MemoryProvider::default().log_history, 10_000);
}
