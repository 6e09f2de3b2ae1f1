//! Who the provider is, directly and behind a trait object.

use super::support::*;

#[tokio::test]
async fn info_and_capabilities() {
    let provider = MemoryProvider::new();
    let info = provider.info().await.unwrap();
    assert_eq!(info.name, "faas-memory");
    assert_eq!(info.orchestration, "memory");
    let version = info.version.unwrap();
    assert_eq!(version.release, env!("CARGO_PKG_VERSION"));
    assert!(!version.sha.is_empty());
    // The commit built (build.rs), not `unknown`.
    if let Some(sha) = build_sha::expected(env!("CARGO_MANIFEST_DIR")) {
        assert_eq!(version.sha, sha);
    }
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
