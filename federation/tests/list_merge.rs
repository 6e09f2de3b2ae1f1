//! The merged list: every backend's functions once, in backend order; a name held by two
//! backends (a move in flight) once, as the copy its route points to; functions created behind
//! the federation's back are routed by the list that finds them.

use std::sync::Arc;

use faas_provider::{FunctionDeployment, FunctionRef, Provider};
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
    assert_eq!(
        seen,
        [
            ("moving", "img:b"),
            ("one", "img:a"),
            ("two", "img:a"),
            ("three", "img:b")
        ]
    );
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
