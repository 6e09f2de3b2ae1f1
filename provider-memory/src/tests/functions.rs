//! Deploy, get, list, update, delete, scale and readiness.

use super::support::*;

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
