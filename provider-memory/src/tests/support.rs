//! What every test module shares: the imports, fixtures and assertions.

pub(super) use std::sync::Arc;
pub(super) use std::time::Duration;

pub(super) use bytes::Bytes;
pub(super) use chrono::Utc;
pub(super) use faas_provider::error::ResourceKind;
pub(super) use faas_provider::{
    Body, DEFAULT_NAMESPACE, DynProvider, FunctionDeployment, FunctionNamespace, FunctionRef,
    FunctionResources, LogMessage, LogRequest, Provider, ProviderError, Secret,
};
pub(super) use futures::StreamExt;
pub(super) use http_body_util::BodyExt;

pub(super) use crate::{EchoResponse, INSTANCE_HEADER, MemoryProvider};

pub(super) const NS: &str = DEFAULT_NAMESPACE;

pub(super) fn spec(name: &str) -> FunctionDeployment {
    let mut spec = FunctionDeployment::new(name, "example/echo:1");
    spec.namespace = NS.to_string();
    spec
}

pub(super) fn spec_in(name: &str, namespace: &str) -> FunctionDeployment {
    let mut spec = spec(name);
    spec.namespace = namespace.to_string();
    spec
}

pub(super) fn with_label(
    mut spec: FunctionDeployment,
    key: &str,
    value: &str,
) -> FunctionDeployment {
    spec.labels
        .get_or_insert_with(Default::default)
        .insert(key.to_string(), value.to_string());
    spec
}

pub(super) fn func(name: &str) -> FunctionRef {
    FunctionRef::new(name, NS)
}

pub(super) fn request(method: &str, uri: &str, body: impl Into<Body>) -> http::Request<Body> {
    http::Request::builder()
        .method(method)
        .uri(uri)
        .body(body.into())
        .unwrap()
}

pub(super) async fn provider_with(names: &[&str]) -> MemoryProvider {
    let provider = MemoryProvider::new();
    for name in names {
        provider.deploy(spec(name)).await.unwrap();
    }
    provider
}

/// Invokes and returns (status, instance header, content type, raw body).
pub(super) async fn call(
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

pub(super) async fn echo(
    provider: &MemoryProvider,
    name: &str,
    req: http::Request<Body>,
) -> EchoResponse {
    let (_, _, _, body) = call(provider, name, req).await;
    serde_json::from_slice(&body).unwrap()
}

pub(super) fn assert_invalid(result: faas_provider::Result<impl std::fmt::Debug>, expected: &str) {
    match result {
        Err(ProviderError::InvalidRequest(message)) => assert!(
            message.contains(expected),
            "message {message:?} should contain {expected:?}"
        ),
        other => panic!("expected InvalidRequest({expected:?}), got {other:?}"),
    }
}

pub(super) fn assert_not_found(
    result: faas_provider::Result<impl std::fmt::Debug>,
    kind: ResourceKind,
) {
    match result {
        Err(ProviderError::NotFound { kind: k, .. }) if k == kind => {}
        other => panic!("expected NotFound({kind}), got {other:?}"),
    }
}

pub(super) fn assert_exists(
    result: faas_provider::Result<impl std::fmt::Debug>,
    kind: ResourceKind,
) {
    match result {
        Err(ProviderError::AlreadyExists { kind: k, .. }) if k == kind => {}
        other => panic!("expected AlreadyExists({kind}), got {other:?}"),
    }
}

pub(super) async fn all_logs(provider: &MemoryProvider, request: LogRequest) -> Vec<LogMessage> {
    provider.logs(request).await.unwrap().collect().await
}

pub(super) fn texts(lines: &[LogMessage]) -> Vec<&str> {
    lines.iter().map(|m| m.text.as_str()).collect()
}
