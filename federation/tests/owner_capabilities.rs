//! Scale to zero and `max_replicas` are the owning backend's, not the default backend's: the
//! OpenFaaS scale route, deploys, the scaler's wake-up clamp and the idler, through the
//! federation as `faas-federation` runs it (Runtime, router, default server configuration).

mod common;

use std::time::{Duration, Instant};

use faas_provider::{FunctionDeployment, FunctionRef, Provider, ProviderError};
use federation::Runtime;
use federation::config::{BackendConfig, CapabilityOverrides, FederationConfig};
use federation::scaling::{LABEL_MAX, LABEL_MIN, LABEL_ZERO, LABEL_ZERO_DURATION};

use common::{NS, client, labelled, serve_runtime};

/// `small` (the default: no scale to zero, at most 20 replicas) and `big` (scale to zero, up
/// to 1000), both in-process memory backends; a fast idler.
async fn federation() -> (String, Runtime) {
    let mut small = BackendConfig::memory("small");
    small.capabilities = CapabilityOverrides {
        scale_to_zero: Some(false),
        max_replicas: Some(20),
        ..CapabilityOverrides::default()
    };
    let mut big = BackendConfig::memory("big");
    big.capabilities = CapabilityOverrides {
        scale_to_zero: Some(true),
        max_replicas: Some(1000),
        ..CapabilityOverrides::default()
    };
    let mut config = FederationConfig {
        backends: vec![small, big],
        default_backend: "small".into(),
        ..FederationConfig::default()
    };
    config.settings.scaling.interval = Duration::from_millis(50);
    config.settings.scaling.idle_interval = Duration::from_millis(50);
    config.settings.scaling.autoscale = false;
    serve_runtime(&config).await
}

async fn deploy(url: &str, spec: &FunctionDeployment) -> (u16, String) {
    let response = client()
        .post(format!("{url}/system/functions"))
        .json(spec)
        .send()
        .await
        .unwrap();
    (response.status().as_u16(), response.text().await.unwrap())
}

async fn scale(url: &str, name: &str, replicas: u64) -> (u16, String) {
    let response = client()
        .post(format!("{url}/system/scale-function/{name}"))
        .json(&serde_json::json!({ "serviceName": name, "replicas": replicas }))
        .send()
        .await
        .unwrap();
    (response.status().as_u16(), response.text().await.unwrap())
}

async fn replicas(runtime: &Runtime, name: &str) -> u64 {
    runtime
        .federation
        .get(&FunctionRef::new(name, NS))
        .await
        .unwrap()
        .replicas
}

#[tokio::test]
async fn the_scale_route_and_deploys_use_the_owning_backends_limits() {
    let (url, runtime) = federation().await;
    assert_eq!(deploy(&url, &labelled("on-big", "big", &[])).await.0, 202);
    assert_eq!(
        deploy(&url, &labelled("on-small", "small", &[])).await.0,
        202
    );

    // big scales to zero and past the default backend's 20.
    assert_eq!(scale(&url, "on-big", 500).await.0, 202);
    assert_eq!(replicas(&runtime, "on-big").await, 500);
    assert_eq!(scale(&url, "on-big", 0).await.0, 202);
    assert_eq!(replicas(&runtime, "on-big").await, 0);
    let (status, body) = scale(&url, "on-big", 1001).await;
    assert_eq!((status, body.contains("1000")), (400, true), "{body}");

    // small refuses both.
    assert_eq!(scale(&url, "on-small", 0).await.0, 400);
    assert_eq!(scale(&url, "on-small", 21).await.0, 400);
    assert_eq!(replicas(&runtime, "on-small").await, 1);
    // Whatever path asks (the scaler, the Lambda API), the federation itself refuses.
    let small = FunctionRef::new("on-small", NS);
    for replicas in [0, 21] {
        match runtime.federation.scale(&small, replicas).await {
            Err(ProviderError::InvalidRequest(message)) => {
                assert!(message.contains("backend small"), "{message}")
            }
            other => panic!("scale to {replicas} on small: {other:?}"),
        }
    }

    // Deploys: a minimum above the target backend's max_replicas is refused, naming it.
    let many = [(LABEL_MIN, "30"), (LABEL_MAX, "50")];
    let (status, body) = deploy(&url, &labelled("many", "small", &many)).await;
    assert_eq!(status, 400, "{body}");
    assert!(
        body.contains("backend small") && body.contains("max_replicas 20"),
        "{body}"
    );
    assert_eq!(deploy(&url, &labelled("many", "big", &many)).await.0, 202);

    // The scaler's wake-up clamp: 30 replicas on big, not the default backend's 20.
    assert_eq!(scale(&url, "many", 0).await.0, 202);
    let response = client()
        .post(format!("{url}/function/many"))
        .body("wake")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(replicas(&runtime, "many").await, 30);
}

#[tokio::test]
async fn the_idler_takes_a_function_to_zero_where_its_backend_can() {
    let (url, runtime) = federation().await;
    let idle = [(LABEL_ZERO, "true"), (LABEL_ZERO_DURATION, "100ms")];
    assert_eq!(deploy(&url, &labelled("naps", "big", &idle)).await.0, 202);
    assert_eq!(
        deploy(&url, &labelled("stays", "small", &idle)).await.0,
        202
    );
    let limit = Instant::now() + Duration::from_secs(15);
    while replicas(&runtime, "naps").await != 0 {
        assert!(Instant::now() < limit, "naps never reached zero on big");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // Several idler rounds later, the function on small (no scale to zero) still runs.
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(replicas(&runtime, "stays").await, 1);
}
