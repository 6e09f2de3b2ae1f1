//! LambdaProvider against a real moto server: the control plane round-trips every OpenFaaS
//! field through Lambda alone, replicas map to reserved concurrency, and Lambda's limits are
//! clear 4xx errors. (Invocations through moto only echo the payload: the event is checked
//! here; real function responses are local mode's tests.)

#[path = "provider_common.rs"]
mod common;

use std::collections::BTreeMap;
use std::sync::Arc;

use base64::Engine as _;
use common::{FakePackager, config, provider, provider_with};
use faas_provider::types::LABEL_SCALE_MIN;
use faas_provider::{
    Body, FunctionDeployment, FunctionRef, FunctionResources, Provider, ProviderError, Secret,
};
use http_body_util::BodyExt;
use provider_lambda::provider::MAX_ZIP_BYTES;
use provider_lambda::provider::settings::{
    ANNOTATION_ARCHITECTURE, ANNOTATION_MEMORY, ANNOTATION_TIMEOUT, SECRETS_ENV,
};
use test_support::moto::Moto;

const NS: &str = "openfaas-fn";

fn map(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn full_spec(name: &str, secret: &str) -> FunctionDeployment {
    let mut spec = FunctionDeployment::new(name, "127.0.0.1:5000/faas-test/echo-request:1");
    spec.namespace = NS.into();
    spec.env_process = "cat".into();
    spec.env_vars = map(&[
        ("CONF_MODE", "full"),
        ("conf_lower", "two words"),
        ("CONF_EQ", "a=b"),
    ]);
    spec.constraints = vec!["node.platform.os == linux".into()];
    spec.secrets = vec![secret.into()];
    spec.labels = Some(map(&[
        ("com.openfaas.conformance", "true"),
        ("team", "lambda"),
    ]));
    spec.annotations = Some(map(&[
        ("topic", "conformance"),
        (
            "multi",
            "{\n  \"nested\": [1, 2, 3],\n  \"quote\": \"a \\\"b\\\"\"\n}\n",
        ),
        (ANNOTATION_TIMEOUT, "45s"),
        (ANNOTATION_ARCHITECTURE, "arm64"),
    ]));
    spec.limits = Some(FunctionResources {
        memory: "512Mi".into(),
        cpu: "500m".into(),
    });
    spec.requests = Some(FunctionResources {
        memory: "64Mi".into(),
        cpu: "100m".into(),
    });
    spec.read_only_root_filesystem = true;
    spec
}

fn check_status(status: &faas_provider::FunctionStatus, spec: &FunctionDeployment) {
    assert_eq!(status.name, spec.service);
    assert_eq!(status.image, spec.image);
    assert_eq!(status.namespace, NS);
    assert_eq!(status.env_process, spec.env_process);
    assert_eq!(status.env_vars, spec.env_vars);
    assert_eq!(status.constraints, spec.constraints);
    assert_eq!(status.secrets, spec.secrets);
    assert_eq!(status.limits, spec.limits);
    assert_eq!(status.requests, spec.requests);
    assert_eq!(
        status.read_only_root_filesystem,
        spec.read_only_root_filesystem
    );
    assert_eq!(status.annotations, spec.annotations);
    let labels = status.labels.as_ref().expect("labels");
    for (k, v) in spec.labels.iter().flatten() {
        assert_eq!(labels.get(k), Some(v), "label {k}");
    }
    assert_eq!(labels.get("faas_function"), Some(&spec.service));
    assert!(
        status.created_at.timestamp() > 1_600_000_000,
        "{}",
        status.created_at
    );
}

#[tokio::test]
async fn every_field_round_trips_through_lambda_alone() {
    let moto = Moto::start();
    let p = provider(&moto).await;
    p.create_secret(Secret::new("api-key", NS, "s3cr3t"))
        .await
        .unwrap();
    let spec = full_spec("roundtrip", "api-key");
    p.deploy(spec.clone()).await.unwrap();
    let function = FunctionRef::new("roundtrip", NS);

    let status = p.get(&function).await.unwrap();
    check_status(&status, &spec);
    assert_eq!((status.replicas, status.available_replicas), (1, 1));

    // Lambda itself holds the settings.
    let lambda = p.lambda();
    let conf = lambda
        .get_function_configuration()
        .function_name("roundtrip")
        .send()
        .await
        .unwrap();
    assert_eq!(conf.runtime().map(|r| r.as_str()), Some("provided.al2023"));
    assert_eq!(conf.handler(), Some("bootstrap"));
    assert_eq!(conf.memory_size(), Some(512));
    assert_eq!(conf.timeout(), Some(45));
    assert_eq!(conf.role(), Some(moto.role_arn().as_str()));
    assert_eq!(
        conf.architectures()
            .iter()
            .map(|a| a.as_str())
            .collect::<Vec<_>>(),
        ["arm64"]
    );
    let env = conf
        .environment()
        .and_then(|e| e.variables())
        .cloned()
        .unwrap_or_default();
    assert_eq!(env.get("fprocess").map(String::as_str), Some("cat"));
    assert_eq!(env.get("CONF_EQ").map(String::as_str), Some("a=b"));
    let secrets: BTreeMap<String, String> =
        serde_json::from_str(env.get(SECRETS_ENV).expect("secrets variable")).unwrap();
    assert_eq!(
        base64::engine::general_purpose::STANDARD
            .decode(&secrets["api-key"])
            .unwrap(),
        b"s3cr3t"
    );

    // A second provider with no shared state rebuilds the same status from Lambda.
    let fresh = provider(&moto).await;
    let again = fresh.get(&function).await.unwrap();
    assert_eq!(again, status);
    let listed = fresh.list(NS).await.unwrap();
    assert_eq!(listed, vec![status.clone()]);

    // Update replaces every field; stale tag pieces go.
    let mut changed = FunctionDeployment::new("roundtrip", "127.0.0.1:5000/faas-test/env:2");
    changed.namespace = NS.into();
    changed.env_vars = map(&[("ONLY", "this")]);
    changed.annotations = Some(map(&[(ANNOTATION_MEMORY, "1024")]));
    p.update(changed.clone()).await.unwrap();
    let updated = fresh.get(&function).await.unwrap();
    assert_eq!(updated.image, changed.image);
    assert_eq!(updated.env_vars, changed.env_vars);
    assert_eq!(updated.env_process, "");
    assert!(updated.secrets.is_empty() && updated.constraints.is_empty());
    assert_eq!(updated.annotations, changed.annotations);
    assert_eq!(updated.limits, None);
    assert!(!updated.read_only_root_filesystem);
    assert_eq!(
        updated.created_at, status.created_at,
        "createdAt survives updates"
    );
    let conf = lambda
        .get_function_configuration()
        .function_name("roundtrip")
        .send()
        .await
        .unwrap();
    assert_eq!(conf.memory_size(), Some(1024));
    let env = conf
        .environment()
        .and_then(|e| e.variables())
        .cloned()
        .unwrap_or_default();
    assert!(
        !env.contains_key(SECRETS_ENV) && !env.contains_key("fprocess"),
        "{:?}",
        env.keys()
    );

    p.delete(&function).await.unwrap();
    assert!(matches!(
        p.get(&function).await,
        Err(ProviderError::NotFound { .. })
    ));
    assert!(fresh.list(NS).await.unwrap().is_empty());
}

#[tokio::test]
async fn foreign_functions_and_other_namespaces_are_not_ours() {
    let moto = Moto::start();
    let p = provider(&moto).await;
    // A Lambda function this provider did not create.
    p.lambda()
        .create_function()
        .function_name("foreign")
        .role(moto.role_arn())
        .runtime(aws_sdk_lambda::types::Runtime::Providedal2023)
        .handler("bootstrap")
        .code(
            aws_sdk_lambda::types::FunctionCode::builder()
                .zip_file(aws_sdk_lambda::primitives::Blob::new(
                    common::EMPTY_ZIP.to_vec(),
                ))
                .build(),
        )
        .send()
        .await
        .unwrap();
    assert!(p.list(NS).await.unwrap().is_empty());
    assert!(matches!(
        p.get(&FunctionRef::new("foreign", NS)).await,
        Err(ProviderError::NotFound { .. })
    ));
    assert!(matches!(
        p.delete(&FunctionRef::new("foreign", NS)).await,
        Err(ProviderError::NotFound { .. })
    ));
    let mut elsewhere = FunctionDeployment::new("f", "img");
    elsewhere.namespace = "other".into();
    assert!(matches!(
        p.deploy(elsewhere).await,
        Err(ProviderError::InvalidRequest(_))
    ));
    assert!(matches!(
        p.list("other").await,
        Err(ProviderError::InvalidRequest(_))
    ));
    assert_eq!(p.list_namespaces().await.unwrap(), vec![NS.to_string()]);
}

async fn reserved(p: &provider_lambda::LambdaProvider, name: &str) -> Option<i32> {
    p.lambda()
        .get_function_concurrency()
        .function_name(name)
        .send()
        .await
        .unwrap()
        .reserved_concurrent_executions()
}

#[tokio::test]
async fn replicas_map_to_reserved_concurrency() {
    let moto = Moto::start();
    let p = provider(&moto).await;
    let function = FunctionRef::new("scaled", NS);
    let mut spec = FunctionDeployment::new("scaled", "img:1");
    spec.namespace = NS.into();
    p.deploy(spec.clone()).await.unwrap();
    // No label: no reservation, reported as one replica.
    assert_eq!(reserved(&p, "scaled").await, None);
    let s = p.get(&function).await.unwrap();
    assert_eq!((s.replicas, s.available_replicas), (1, 1));

    p.scale(&function, 3).await.unwrap();
    assert_eq!(reserved(&p, "scaled").await, Some(3));
    let s = p.get(&function).await.unwrap();
    assert_eq!((s.replicas, s.available_replicas), (3, 3));

    p.scale(&function, 0).await.unwrap();
    assert_eq!(reserved(&p, "scaled").await, Some(0));
    let s = p.get(&function).await.unwrap();
    assert_eq!((s.replicas, s.available_replicas), (0, 0));
    assert!(!p.ready(&function).await.unwrap());

    p.scale(&function, 1).await.unwrap();
    assert!(p.ready(&function).await.unwrap());

    // The min label reserves at deploy and raises on update; dropping it unsets.
    let mut labelled = FunctionDeployment::new("labelled", "img:1");
    labelled.namespace = NS.into();
    labelled.labels = Some(map(&[(LABEL_SCALE_MIN, "2")]));
    p.deploy(labelled.clone()).await.unwrap();
    assert_eq!(reserved(&p, "labelled").await, Some(2));
    let l = FunctionRef::new("labelled", NS);
    p.scale(&l, 4).await.unwrap();
    p.update(labelled.clone()).await.unwrap();
    assert_eq!(
        reserved(&p, "labelled").await,
        Some(4),
        "update keeps a higher count"
    );
    labelled.labels = None;
    p.update(labelled).await.unwrap();
    assert_eq!(
        reserved(&p, "labelled").await,
        None,
        "removing the label unsets"
    );
    assert_eq!(p.get(&l).await.unwrap().replicas, 1);

    assert!(matches!(
        p.scale(&FunctionRef::new("missing", NS), 1).await,
        Err(ProviderError::NotFound { .. })
    ));
}

#[tokio::test]
async fn lambda_limits_are_clear_4xx_and_leave_nothing() {
    let moto = Moto::start();

    // A role that does not exist.
    let mut bad_role = config(&moto);
    bad_role.role_arn = "arn:aws:iam::123456789012:role/does-not-exist".into();
    let p = provider_with(&moto, bad_role, Arc::new(FakePackager::default())).await;
    match p.deploy(FunctionDeployment::new("norole", "img")).await {
        Err(ProviderError::InvalidRequest(m)) => assert!(m.to_lowercase().contains("role"), "{m}"),
        other => panic!("missing role: {other:?}"),
    }
    assert!(matches!(
        p.get(&FunctionRef::new("norole", NS)).await,
        Err(ProviderError::NotFound { .. })
    ));

    // A package over AWS's 50 MB (moto would take it).
    let big = provider_with(
        &moto,
        config(&moto),
        Arc::new(FakePackager {
            size: Some(MAX_ZIP_BYTES + 1),
        }),
    )
    .await;
    match big.deploy(FunctionDeployment::new("toobig", "img")).await {
        Err(ProviderError::InvalidRequest(m)) => {
            assert!(m.contains(&MAX_ZIP_BYTES.to_string()), "{m}")
        }
        other => panic!("oversized package: {other:?}"),
    }
    assert!(matches!(
        big.get(&FunctionRef::new("toobig", NS)).await,
        Err(ProviderError::NotFound { .. })
    ));

    let p = common::provider(&moto).await;
    // An environment over 4 KB.
    let mut env = FunctionDeployment::new("bigenv", "img");
    env.env_vars = map(&[("LARGE", &"x".repeat(5000))]);
    match p.deploy(env).await {
        Err(ProviderError::InvalidRequest(m)) => assert!(m.contains("4096"), "{m}"),
        other => panic!("big environment: {other:?}"),
    }
    // A missing secret.
    let mut secret = FunctionDeployment::new("nosecret", "img");
    secret.secrets = vec!["absent".into()];
    match p.deploy(secret).await {
        Err(ProviderError::InvalidRequest(m)) => assert!(m.contains("absent"), "{m}"),
        other => panic!("missing secret: {other:?}"),
    }
    // Out-of-range settings.
    let mut memory = FunctionDeployment::new("memory", "img");
    memory.annotations = Some(map(&[(ANNOTATION_MEMORY, "20000")]));
    assert!(matches!(
        p.deploy(memory).await,
        Err(ProviderError::InvalidRequest(_))
    ));
    assert!(p.list(NS).await.unwrap().is_empty(), "nothing was created");

    // Duplicates and missing functions.
    p.deploy(FunctionDeployment::new("dup", "img"))
        .await
        .unwrap();
    assert!(matches!(
        p.deploy(FunctionDeployment::new("dup", "img")).await,
        Err(ProviderError::AlreadyExists { .. })
    ));
    assert!(matches!(
        p.update(FunctionDeployment::new("absent", "img")).await,
        Err(ProviderError::NotFound { .. })
    ));
    assert!(matches!(
        p.delete(&FunctionRef::new("absent", NS)).await,
        Err(ProviderError::NotFound { .. })
    ));
}

#[tokio::test]
async fn secrets_live_in_secrets_manager() {
    let moto = Moto::start();
    let p = provider(&moto).await;
    p.create_secret(Secret::new("one", NS, "v1")).await.unwrap();
    let mut raw = Secret::new("two", NS, "");
    raw.raw_value = vec![0, 159, 146, 150];
    p.create_secret(raw).await.unwrap();
    assert!(matches!(
        p.create_secret(Secret::new("one", NS, "again")).await,
        Err(ProviderError::AlreadyExists { .. })
    ));
    let names: Vec<String> = p
        .list_secrets(NS)
        .await
        .unwrap()
        .into_iter()
        .map(|s| {
            assert!(s.value.is_empty() && s.raw_value.is_empty());
            s.name
        })
        .collect();
    assert_eq!(names, ["one", "two"]);
    // A fresh provider sees them too (no local state).
    assert_eq!(
        common::provider(&moto)
            .await
            .list_secrets(NS)
            .await
            .unwrap()
            .len(),
        2
    );

    p.update_secret(Secret::new("one", NS, "v2")).await.unwrap();
    assert!(matches!(
        p.update_secret(Secret::new("nope", NS, "x")).await,
        Err(ProviderError::NotFound { .. })
    ));
    let mut spec = FunctionDeployment::new("uses", "img");
    spec.secrets = vec!["one".into(), "two".into()];
    p.deploy(spec).await.unwrap();
    let env = p
        .lambda()
        .get_function_configuration()
        .function_name("uses")
        .send()
        .await
        .unwrap()
        .environment()
        .and_then(|e| e.variables())
        .cloned()
        .unwrap();
    let delivered: BTreeMap<String, String> = serde_json::from_str(&env[SECRETS_ENV]).unwrap();
    let decode = |s: &str| base64::engine::general_purpose::STANDARD.decode(s).unwrap();
    assert_eq!(decode(&delivered["one"]), b"v2");
    assert_eq!(decode(&delivered["two"]), [0, 159, 146, 150]);

    p.delete_secret("one", NS).await.unwrap();
    assert!(matches!(
        p.delete_secret("one", NS).await,
        Err(ProviderError::NotFound { .. })
    ));
    assert!(matches!(
        p.create_secret(Secret::new("../escape", NS, "x")).await,
        Err(ProviderError::InvalidRequest(_))
    ));
    assert_eq!(p.list_secrets(NS).await.unwrap().len(), 1);
}

#[tokio::test]
async fn invoke_sends_an_api_gateway_v2_event() {
    // moto's docker-less Lambda answers the payload it got: the event comes back as the body.
    let moto = Moto::start();
    let p = provider(&moto).await;
    p.deploy(FunctionDeployment::new("echo", "img"))
        .await
        .unwrap();
    let request = http::Request::builder()
        .method("POST")
        .uri("/a/b?x=1&x=2")
        .header("content-type", "text/plain")
        .header("cookie", "c1=v1; c2=v2")
        .header("x-custom", "yes")
        .body(Body::from("hello lambda"))
        .unwrap();
    let response = p
        .invoke(&FunctionRef::new("echo", NS), request)
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "application/json");
    let body = response.into_body().collect().await.unwrap().to_bytes();
    let event: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(event["version"], "2.0");
    assert_eq!(event["rawPath"], "/a/b");
    assert_eq!(event["rawQueryString"], "x=1&x=2");
    assert_eq!(event["queryStringParameters"]["x"], "1,2");
    assert_eq!(event["requestContext"]["http"]["method"], "POST");
    assert_eq!(event["headers"]["x-custom"], "yes");
    assert_eq!(event["cookies"], serde_json::json!(["c1=v1", "c2=v2"]));
    assert_eq!(event["body"], "hello lambda");
    assert_eq!(event["isBase64Encoded"], false);

    // Binary bodies travel base64-encoded.
    let request = http::Request::builder()
        .method("PUT")
        .uri("/")
        .header("content-type", "application/octet-stream")
        .body(Body::from(vec![0u8, 255, 1]))
        .unwrap();
    let response = p
        .invoke(&FunctionRef::new("echo", NS), request)
        .await
        .unwrap();
    let body = response.into_body().collect().await.unwrap().to_bytes();
    let event: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(event["isBase64Encoded"], true);
    assert_eq!(event["body"], "AP8B");

    // Another namespace is no function at all.
    let request = http::Request::builder()
        .uri("/")
        .body(Body::empty())
        .unwrap();
    assert!(matches!(
        p.invoke(&FunctionRef::new("echo", "other"), request).await,
        Err(ProviderError::NotFound { .. })
    ));
}
