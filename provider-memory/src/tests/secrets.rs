//! Secrets: CRUD, raw values, names and namespaces.

use super::support::*;

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
