//! Namespaces: the default one, CRUD, labels, and isolation between namespaces.

use super::support::*;

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
