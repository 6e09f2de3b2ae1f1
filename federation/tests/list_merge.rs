//! The merged list: every backend's functions once, in backend order; a name held by two
//! backends (a move in flight) once, as the copy its route points to; functions created behind
//! the federation's back are routed by the list that finds them.

use std::sync::Arc;

use faas_provider::{FunctionDeployment, FunctionRef, FunctionStatus, Provider};
use federation::{Backend, FederatedProvider, GATEWAY_ANNOTATION};
use provider_memory::MemoryProvider;

const NS: &str = "openfaas-fn";

fn spec(name: &str, image: &str, gateway: Option<&str>) -> FunctionDeployment {
    let mut spec = FunctionDeployment::new(name, image);
    spec.namespace = NS.into();
    if let Some(gateway) = gateway {
        spec.annotations = Some([(GATEWAY_ANNOTATION.to_string(), gateway.to_string())].into());
    }
    spec
}

#[tokio::test]
async fn a_merged_list_holds_each_function_once_and_learns_routes() {
    let a = Arc::new(MemoryProvider::new());
    let b = Arc::new(MemoryProvider::new());
    // Behind the federation's back: "moving" is on both, annotated for b.
    a.deploy(spec("one", "img:a", None)).await.unwrap();
    a.deploy(spec("moving", "img:a", Some("b"))).await.unwrap();
    a.deploy(spec("two", "img:a", None)).await.unwrap();
    b.deploy(spec("moving", "img:b", Some("b"))).await.unwrap();
    b.deploy(spec("three", "img:b", Some("b"))).await.unwrap();
    let federation = FederatedProvider::new(
        vec![
            Backend::in_process("a", a.clone()),
            Backend::in_process("b", b.clone()),
        ],
        "a",
    )
    .unwrap();
    federation.start().await;

    let listed = federation.list(NS).await.unwrap();
    let seen: Vec<(&str, &str)> = listed
        .iter()
        .map(|s| (s.name.as_str(), s.image.as_str()))
        .collect();
    // a's functions in a's order (BTreeMap: by name), the duplicate where a listed it but as
    // b's copy (its annotation routes it there), then b's own.
    let expected = [
        ("moving", "img:b"),
        ("one", "img:a"),
        ("two", "img:a"),
        ("three", "img:b"),
    ];
    assert_eq!(seen, expected);
    // The same list as JSON (what `GET /system/functions` sends), joined from the backends'.
    let json: Vec<FunctionStatus> =
        serde_json::from_slice(&federation.list_json(NS).await.unwrap()).unwrap();
    assert_eq!(json, listed);
    assert_eq!(
        federation.route_of(&FunctionRef::new("moving", NS)),
        Some("b")
    );

    // Created behind the federation's back after it started: the next list routes them.
    a.deploy(spec("late-a", "img:a", None)).await.unwrap();
    b.deploy(spec("late-b", "img:b", None)).await.unwrap();
    assert_eq!(federation.route_of(&FunctionRef::new("late-b", NS)), None);
    let listed = federation.list(NS).await.unwrap();
    assert_eq!(listed.len(), 6);
    assert_eq!(
        federation.route_of(&FunctionRef::new("late-a", NS)),
        Some("a")
    );
    assert_eq!(
        federation.route_of(&FunctionRef::new("late-b", NS)),
        Some("b")
    );
    // Known routes are kept (the list does not move anything).
    assert_eq!(
        federation.route_of(&FunctionRef::new("moving", NS)),
        Some("b")
    );
    assert_eq!(federation.routes().len(), 6);
}

/// A remote provider whose `GET /system/functions` answers `body` as it is.
async fn remote_listing(body: &'static str) -> String {
    let app = axum::Router::new().route(
        "/system/functions",
        axum::routing::get(move || async move {
            ([(http::header::CONTENT_TYPE, "application/json")], body)
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    url
}

#[tokio::test]
async fn remote_lists_pass_through_as_their_backends_encoded_them() {
    // A newer provider's field the wire type does not know, and Go's spelling of a time: both
    // reach the caller as the remote sent them (as the OpenFaaS gateway proxies the list).
    let item = r#"{"name":"far","image":"img:r","namespace":"openfaas-fn","replicas":1,"createdAt":"2024-05-06T07:08:09.123456789Z","futureField":{"x":[1,2]}}"#;
    let body: &'static str = Box::leak(format!("[{item}]").into_boxed_str());
    let remote = remote_listing(body).await;
    let broken = remote_listing(r#"{"not":"a list"}"#).await;
    let local = Arc::new(MemoryProvider::new());
    local.deploy(spec("near", "img:l", None)).await.unwrap();
    let backend = |name: &str, url: &str| {
        Backend::remote(
            name,
            faas_provider::client::HttpProvider::new(url).unwrap(),
            Default::default(),
        )
    };
    let federation = FederatedProvider::new(
        vec![
            Backend::in_process("local", local.clone()),
            backend("remote", &remote),
            backend("broken", &broken),
        ],
        "local",
    )
    .unwrap();

    let json = String::from_utf8(federation.list_json(NS).await.unwrap()).unwrap();
    let near = String::from_utf8(local.list_json(NS).await.unwrap()).unwrap();
    let near = near.trim_start_matches('[').trim_end_matches(']');
    // The broken backend is left out; the others' items are joined byte for byte.
    assert_eq!(json, format!("[{near},{item}]"));
    assert_eq!(
        federation.route_of(&FunctionRef::new("far", NS)),
        Some("remote")
    );
}
