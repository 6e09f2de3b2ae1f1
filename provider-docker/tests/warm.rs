//! The warm pool on a real engine: standby replicas of a function at zero are paused, not
//! counted, not routed to (an invocation at zero is a 503: waking is a scale call), woken first
//! by a scale up (the container that answers is the former standby, unpaused and not renamed),
//! replaced on update, removed on delete, refilled at the next scale to zero, and bounded by
//! `warm_max`.

mod common;

use std::collections::BTreeMap;

use bollard::models::{ContainerSummary, ContainerSummaryStateEnum};
use common::{TestProvider, function, invoke, provider_with, spec};
use faas_provider::{FunctionDeployment, LogRequest, Provider, ProviderError};
use futures::StreamExt;
use provider_docker::labels;

/// A deployment of the test image (`fprocess=env`: the body names the replica's port) with
/// `com.openfaas.scale.warm` set when `warm` is.
async fn warm_spec(name: &str, warm: Option<u64>) -> FunctionDeployment {
    let mut s = spec(name, "env").await;
    if let Some(warm) = warm {
        s.labels = Some(BTreeMap::from([(
            labels::SCALE_WARM.to_string(),
            warm.to_string(),
        )]));
    }
    s
}

fn label<'a>(c: &'a ContainerSummary, key: &str) -> Option<&'a str> {
    c.labels.as_ref()?.get(key).map(String::as_str)
}

fn container_name(c: &ContainerSummary) -> &str {
    c.names
        .as_ref()
        .and_then(|n| n.first())
        .map(|n| n.trim_start_matches('/'))
        .unwrap_or_default()
}

/// A standby: labelled as one, and paused or being prepared (`warming-` name).
fn is_standby(c: &ContainerSummary) -> bool {
    label(c, labels::STANDBY) == Some("true")
        && (c.state == Some(ContainerSummaryStateEnum::PAUSED)
            || container_name(c).contains(".warming-"))
}

/// The containers of `name` that are standbys now.
async fn standbys(p: &TestProvider, name: &str) -> Vec<ContainerSummary> {
    p.containers()
        .await
        .into_iter()
        .filter(|c| label(c, labels::FUNCTION) == Some(name))
        .filter(is_standby)
        .collect()
}

/// The containers of `name` that are replicas and not standbys.
async fn replicas(p: &TestProvider, name: &str) -> Vec<ContainerSummary> {
    p.containers()
        .await
        .into_iter()
        .filter(|c| label(c, labels::FUNCTION) == Some(name))
        .filter(|c| label(c, labels::ROLE) == Some("replica"))
        .filter(|c| !is_standby(c))
        .collect()
}

/// Asserts that every standby of `name` is paused (inspected) and prepared (not named
/// `warming-`), and returns their ids.
async fn paused_standbys(p: &TestProvider, name: &str) -> Vec<String> {
    let mut ids = Vec::new();
    for c in standbys(p, name).await {
        let id = c.id.clone().unwrap();
        assert!(
            !container_name(&c).contains(".warming-"),
            "{name}: standby {} is not prepared",
            container_name(&c)
        );
        let inspect = p.docker().inspect_container(&id, None).await.unwrap();
        let state = inspect.state.unwrap();
        assert_eq!(
            state.paused,
            Some(true),
            "{name}: standby {id} is not paused"
        );
        ids.push(id);
    }
    ids
}

fn port_in(body: &str) -> String {
    body.lines()
        .find_map(|l| l.strip_prefix("port="))
        .unwrap_or_else(|| panic!("no port in {body:?}"))
        .to_string()
}

async fn invoke_at_zero(p: &dyn Provider, name: &str) -> ProviderError {
    let request = http::Request::get("/")
        .body(faas_provider::Body::empty())
        .unwrap();
    match p.invoke(&function(name), request).await {
        Err(e) => e,
        Ok(response) => panic!("{name} at zero answered {}", response.status()),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn standbys_are_paused_uncounted_unrouted_and_woken_by_a_scale_up() {
    let p = provider_with(|_| {}).await;
    p.deploy(warm_spec("warm", Some(1)).await).await.unwrap();
    assert!(standbys(&p, "warm").await.is_empty(), "a pool while at 1");
    p.scale(&function("warm"), 0).await.unwrap();

    let pool = paused_standbys(&p, "warm").await;
    assert_eq!(pool.len(), 1);
    let standby = standbys(&p, "warm").await.remove(0);
    let standby_port = label(&standby, labels::PORT).unwrap().to_string();
    let standby_name = container_name(&standby).to_string();
    assert!(replicas(&p, "warm").await.is_empty());

    // Not counted, not routed to: by this instance, after a background refresh, by a
    // restarted one.
    p.refresh().await.unwrap();
    let status = p.get(&function("warm")).await.unwrap();
    assert_eq!((status.replicas, status.available_replicas), (0, 0));
    let listed = p.list("").await.unwrap();
    assert_eq!((listed[0].replicas, listed[0].available_replicas), (0, 0));
    assert!(matches!(
        invoke_at_zero(&*p, "warm").await,
        ProviderError::NotReady { .. }
    ));
    let again = p.restarted().await;
    let status = again.get(&function("warm")).await.unwrap();
    assert_eq!((status.replicas, status.available_replicas), (0, 0));
    assert!(matches!(
        invoke_at_zero(&again, "warm").await,
        ProviderError::NotReady { .. }
    ));
    drop(again);
    // Its logs are not the function's.
    let logs: Vec<_> = p
        .logs(LogRequest::new(function("warm")))
        .await
        .unwrap()
        .collect()
        .await;
    assert!(logs.iter().all(|m| !pool.contains(&m.instance)), "{logs:?}");

    // A wake from zero: the standby is the replica, and it answers.
    p.scale(&function("warm"), 1).await.unwrap();
    let status = p.get(&function("warm")).await.unwrap();
    assert_eq!((status.replicas, status.available_replicas), (1, 1));
    let woken = replicas(&p, "warm").await;
    assert_eq!(woken.len(), 1);
    assert_eq!(woken[0].id.as_deref(), Some(pool[0].as_str()));
    // Woken by an unpause alone: running under the name it had as a standby.
    assert_eq!(woken[0].state, Some(ContainerSummaryStateEnum::RUNNING));
    assert_eq!(container_name(&woken[0]), standby_name);
    let (code, body) = invoke(&*p, "warm", "").await;
    assert_eq!(code, 200, "{body}");
    assert_eq!(port_in(&body), standby_port);
    assert!(standbys(&p, "warm").await.is_empty());
    // ... and a restarted provider sees it as a replica.
    let again = p.restarted().await;
    let status = again.get(&function("warm")).await.unwrap();
    assert_eq!((status.replicas, status.available_replicas), (1, 1));
    drop(again);

    // Scaling to zero again refills the pool with a new standby.
    p.scale(&function("warm"), 0).await.unwrap();
    let refilled = paused_standbys(&p, "warm").await;
    assert_eq!(refilled.len(), 1);
    assert_ne!(refilled[0], pool[0]);
    assert!(replicas(&p, "warm").await.is_empty());
    // A scale to zero at zero keeps the pool as it is.
    p.scale(&function("warm"), 0).await.unwrap();
    assert_eq!(paused_standbys(&p, "warm").await, refilled);

    // Beyond the pool: the standby is woken, the rest started.
    p.scale(&function("warm"), 2).await.unwrap();
    let status = p.get(&function("warm")).await.unwrap();
    assert_eq!((status.replicas, status.available_replicas), (2, 2));
    let ids: Vec<String> = replicas(&p, "warm")
        .await
        .into_iter()
        .filter_map(|c| c.id)
        .collect();
    assert!(ids.contains(&refilled[0]), "{ids:?}");
    let indexes: std::collections::HashSet<String> = replicas(&p, "warm")
        .await
        .iter()
        .map(|c| label(c, labels::REPLICA).unwrap().to_string())
        .collect();
    assert_eq!(indexes.len(), 2, "replica indexes collide: {indexes:?}");

    // Delete removes standbys too.
    p.scale(&function("warm"), 0).await.unwrap();
    assert_eq!(paused_standbys(&p, "warm").await.len(), 1);
    p.delete(&function("warm")).await.unwrap();
    assert!(p.containers().await.is_empty(), "containers left behind");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_provider_default_sets_the_pool_and_an_update_replaces_it() {
    let p = provider_with(|c| c.warm_default = 2).await;
    p.deploy(warm_spec("fresh", None).await).await.unwrap();
    // A function without the label gets the provider's default; warm=0 opts out.
    p.deploy(warm_spec("cold", Some(0)).await).await.unwrap();
    p.scale(&function("fresh"), 0).await.unwrap();
    p.scale(&function("cold"), 0).await.unwrap();
    let old = paused_standbys(&p, "fresh").await;
    assert_eq!(old.len(), 2);
    assert!(standbys(&p, "cold").await.is_empty());

    // An update: the standbys of the old spec go (the update leaves one replica of the new
    // spec), and the next scale to zero fills the pool with the new spec.
    let mut updated = warm_spec("fresh", None).await;
    updated.env_vars.insert("VERSION".into(), "2".into());
    p.update(updated).await.unwrap();
    assert!(standbys(&p, "fresh").await.is_empty());
    let (code, body) = invoke(&*p, "fresh", "").await;
    assert_eq!(code, 200);
    assert!(body.contains("VERSION=2"), "{body}");
    p.scale(&function("fresh"), 0).await.unwrap();
    let new = paused_standbys(&p, "fresh").await;
    assert_eq!(new.len(), 2);
    for id in &new {
        assert!(!old.contains(id));
        let inspect = p.docker().inspect_container(id, None).await.unwrap();
        let env = inspect.config.unwrap().env.unwrap();
        assert!(env.contains(&"VERSION=2".to_string()), "{env:?}");
    }
    p.scale(&function("fresh"), 1).await.unwrap();
    let (code, body) = invoke(&*p, "fresh", "").await;
    assert_eq!(code, 200);
    assert!(body.contains("VERSION=2"), "{body}");
    // One woken, the other removed: no pool above zero.
    assert!(standbys(&p, "fresh").await.is_empty());
    assert_eq!(replicas(&p, "fresh").await.len(), 1);

    // A warm label that is not a count is refused.
    let mut bad = warm_spec("bad", None).await;
    bad.labels = Some(BTreeMap::from([(
        labels::SCALE_WARM.to_string(),
        "many".to_string(),
    )]));
    match p.deploy(bad).await {
        Err(ProviderError::InvalidRequest(m)) => assert!(m.contains(labels::SCALE_WARM), "{m}"),
        other => panic!("{other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_provider_wide_cap_is_honoured() {
    let p = provider_with(|c| c.warm_max = 3).await;
    for name in ["first", "second"] {
        p.deploy(warm_spec(name, Some(2)).await).await.unwrap();
    }
    p.scale(&function("first"), 0).await.unwrap();
    p.scale(&function("second"), 0).await.unwrap();
    // 2 + 2 wanted, 3 allowed: the second is cut to 1.
    assert_eq!(paused_standbys(&p, "first").await.len(), 2);
    assert_eq!(paused_standbys(&p, "second").await.len(), 1);
    // Room freed by a wake is used at the next fill.
    p.scale(&function("first"), 1).await.unwrap();
    assert!(standbys(&p, "first").await.is_empty());
    p.scale(&function("second"), 0).await.unwrap();
    assert_eq!(paused_standbys(&p, "second").await.len(), 2);
    let all: usize = p
        .containers()
        .await
        .iter()
        .filter(|c| is_standby(c))
        .count();
    assert_eq!(all, 2);
}
