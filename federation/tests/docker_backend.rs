//! provider-docker as an in-process backend of the federation (`kind = "docker"`, cargo
//! feature `docker` of the federation crate): a TOML configuration with a docker and a memory
//! backend, one function routed to each by the `com.openfaas.federation.gateway` annotation,
//! the docker one invoked for real on the engine (test-support's engine: `DOCKER_HOST`, or a
//! private `dockerd`).
//!
//! Runs with the federation's `docker` feature (a `[[test]]` with `required-features`).

use std::path::{Path, PathBuf};
use std::time::Duration;

use faas_provider::{FunctionDeployment, Provider};
use federation::{BackendSpec, FederatedProvider, FederationConfig, GATEWAY_ANNOTATION};
use provider_docker::{Networking, PullPolicy};

const NS: &str = faas_provider::DEFAULT_NAMESPACE;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_docker_backend_serves_its_functions_next_to_a_memory_one() {
    // The engine, a scope and a state directory of this test; the helper's view of that scope
    // shows what the federation did in the engine and removes leftovers on drop.
    let p = common::provider().await;
    let text = format!(
        r#"
        default_backend = "local"
        [[backends]]
        name = "local"
        kind = "memory"
        [[backends]]
        name = "engine"
        kind = "docker"
        timeout = "120s"                    # a deploy may pull the image and wait for readiness
        docker_host = "{host}"
        state_dir = "{state}"
        scope = "{scope}"
        image_pull_policy = "IfNotPresent"
        stop_timeout = 5
        health_interval = "500ms"
        "#,
        host = p.engine.docker_host,
        state = p.state.path().display(),
        scope = p.scope,
    );
    let config = FederationConfig::from_toml(&text, Path::new("/nonexistent")).unwrap();
    let BackendSpec::Docker(docker) = &config.backends[1].spec else {
        panic!("not a docker backend: {:?}", config.backends[1]);
    };
    assert_eq!(docker.scope, p.scope);
    assert_eq!(docker.pull_policy, PullPolicy::IfNotPresent);
    assert_eq!(docker.stop_timeout, Duration::from_secs(5));

    let federation = FederatedProvider::from_config(&config).await.unwrap();
    let report = federation.start().await;
    assert!(report.unreachable.is_empty(), "{report:?}");

    let mut on_docker = common::spec("fed-echo", "cat").await;
    on_docker.annotations = Some([(GATEWAY_ANNOTATION.to_string(), "engine".to_string())].into());
    federation.deploy(on_docker).await.unwrap();
    let mut in_memory = FunctionDeployment::new("fed-mem", "example/mem:1");
    in_memory.namespace = NS.into();
    federation.deploy(in_memory).await.unwrap();

    let mut names: Vec<String> = federation
        .list(NS)
        .await
        .unwrap()
        .into_iter()
        .map(|f| f.name)
        .collect();
    names.sort();
    assert_eq!(names, ["fed-echo", "fed-mem"]);
    assert_eq!(
        federation.route_of(&common::function("fed-echo")),
        Some("engine")
    );
    assert_eq!(
        federation.route_of(&common::function("fed-mem")),
        Some("local")
    );
    // The docker function is a real container of this scope; the memory one is not.
    assert_eq!(p.replicas("fed-echo").await.len(), 1);
    assert!(p.replicas("fed-mem").await.is_empty());

    assert_eq!(
        common::invoke(&federation, "fed-echo", "through the federation").await,
        (200, "through the federation".to_string())
    );

    federation
        .delete(&common::function("fed-echo"))
        .await
        .unwrap();
    assert!(
        federation
            .get(&common::function("fed-echo"))
            .await
            .unwrap_err()
            .is_not_found()
    );
    assert!(p.containers().await.is_empty(), "containers left behind");
    assert!(federation.get(&common::function("fed-mem")).await.is_ok());
}

/// The scaler over a docker backend on the real engine: 100 concurrent calls of a function at
/// zero share one wake-up (which takes the paused standby of the warm pool) and all answer; the
/// idler scales a `com.openfaas.scale.zero` function to zero and its next call wakes it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_scaler_wakes_and_idles_docker_functions() {
    use std::sync::Arc;

    use federation::scaling::{LABEL_ZERO, LABEL_ZERO_DURATION, Scaler, ScalingConfig};
    use prometheus_client::registry::Registry;

    let p = common::provider().await;
    let text = format!(
        r#"
        [[backends]]
        name = "engine"
        kind = "docker"
        timeout = "120s"
        docker_host = "{host}"
        state_dir = "{state}"
        scope = "{scope}"
        image_pull_policy = "IfNotPresent"
        stop_timeout = 2
        health_interval = "500ms"
        "#,
        host = p.engine.docker_host,
        state = p.state.path().display(),
        scope = p.scope,
    );
    let config = FederationConfig::from_toml(&text, Path::new("/nonexistent")).unwrap();
    let federation = Arc::new(FederatedProvider::from_config(&config).await.unwrap());
    federation.start().await;
    let owner = federation.clone();
    let scaler = Arc::new(
        Scaler::new(
            federation.clone(),
            ScalingConfig {
                idle_interval: Duration::from_millis(200),
                interval: Duration::from_millis(200),
                ..ScalingConfig::default()
            },
        )
        .with_capabilities(Arc::new(move |f: &faas_provider::FunctionRef| {
            owner.capabilities_of(f)
        })),
    );
    let mut registry = Registry::default();
    scaler.register_metrics(&mut registry);
    let _loop = scaler.spawn();

    // A function with a warm standby, at zero.
    let mut warm = common::spec("warm-echo", "cat").await;
    warm.labels = Some(
        [(
            provider_docker::labels::SCALE_WARM.to_string(),
            "1".to_string(),
        )]
        .into(),
    );
    scaler.deploy(warm).await.unwrap();
    scaler
        .scale(&common::function("warm-echo"), 0)
        .await
        .unwrap();
    let standby_paused = || async {
        p.containers().await.iter().any(|c| {
            let labels = c.labels.clone().unwrap_or_default();
            labels
                .get(provider_docker::labels::STANDBY)
                .map(String::as_str)
                == Some("true")
                && c.state
                    .as_ref()
                    .map(|s| format!("{s:?}").to_lowercase())
                    .as_deref()
                    == Some("paused")
        })
    };
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    while !standby_paused().await {
        assert!(std::time::Instant::now() < deadline, "no paused standby");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(
        scaler
            .get(&common::function("warm-echo"))
            .await
            .unwrap()
            .available_replicas,
        0
    );

    let calls = (0..100).map(|i| {
        let scaler = scaler.clone();
        tokio::spawn(
            async move { common::invoke(&*scaler, "warm-echo", &format!("cold {i}")).await },
        )
    });
    let answers = futures::future::join_all(calls).await;
    for (i, answer) in answers.into_iter().enumerate() {
        assert_eq!(answer.unwrap(), (200, format!("cold {i}")));
    }
    let mut text = String::new();
    prometheus_client::encoding::text::encode(&mut text, &registry).unwrap();
    assert!(
        text.contains(r#"federation_autoscaler_scale_total{function_name="warm-echo.openfaas-fn",reason="wake"} 1"#),
        "one wake-up for 100 cold calls:\n{text}"
    );

    // The idler: zero after a short idle time, then woken by the next call.
    let mut idle = common::spec("idle-echo", "cat").await;
    idle.labels = Some(
        [
            (LABEL_ZERO.to_string(), "true".to_string()),
            (LABEL_ZERO_DURATION.to_string(), "1s".to_string()),
        ]
        .into(),
    );
    scaler.deploy(idle).await.unwrap();
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    while scaler
        .get(&common::function("idle-echo"))
        .await
        .unwrap()
        .replicas
        > 0
    {
        assert!(std::time::Instant::now() < deadline, "not idled to zero");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(
        common::invoke(&*scaler, "idle-echo", "awake again").await,
        (200, "awake again".to_string())
    );
    for name in ["warm-echo", "idle-echo"] {
        scaler.delete(&common::function(name)).await.unwrap();
    }
    assert!(p.containers().await.is_empty(), "containers left behind");
}

/// A federation over one docker backend of `p`'s scope reached at `host` (plus the `extra`
/// docker settings), with a scaler of `config` in front, its loop running, and its metrics in
/// the registry.
async fn scaled_federation(
    p: &common::TestScope,
    host: &str,
    extra: &str,
    config: federation::scaling::ScalingConfig,
) -> (
    std::sync::Arc<FederatedProvider>,
    std::sync::Arc<federation::scaling::Scaler>,
    prometheus_client::registry::Registry,
    tokio::task::JoinHandle<()>,
) {
    use std::sync::Arc;

    let text = format!(
        r#"
        [[backends]]
        name = "engine"
        kind = "docker"
        timeout = "120s"
        docker_host = "{host}"
        state_dir = "{state}"
        scope = "{scope}"
        image_pull_policy = "IfNotPresent"
        stop_timeout = 1
        {extra}
        "#,
        state = p.state.path().display(),
        scope = p.scope,
    );
    let config_file = FederationConfig::from_toml(&text, Path::new("/nonexistent")).unwrap();
    let federation = Arc::new(FederatedProvider::from_config(&config_file).await.unwrap());
    federation.start().await;
    let owner = federation.clone();
    let scaler = Arc::new(
        federation::scaling::Scaler::new(federation.clone(), config).with_capabilities(Arc::new(
            move |f: &faas_provider::FunctionRef| owner.capabilities_of(f),
        )),
    );
    let mut registry = prometheus_client::registry::Registry::default();
    scaler.register_metrics(&mut registry);
    let scaling_loop = scaler.spawn();
    (federation, scaler, registry, scaling_loop)
}

const HEALTH_500MS: &str = r#"health_interval = "500ms""#;
const STARTUP_4S: &str = r#"health_interval = "500ms"
    startup_timeout = "4s""#;

/// Through the scaler on the real engine: a function whose replicas never pass `/_/health`
/// answers 504 after the (short) `scale_from_zero_timeout`, naming itself and the wait, though
/// provider-docker's own scale would wait its longer `startup_timeout`; a function at zero
/// keeps its warm standby paused, out of its replica counts and out of routing (the
/// federation itself, without the scaler's wake, answers "not ready"), and deleting the
/// function removes it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn docker_timeouts_of_scale_from_zero_and_standbys_never_routed() {
    use federation::scaling::ScalingConfig;
    use provider_docker::labels::{SCALE_WARM, STANDBY};

    let p = common::provider().await;
    let config = ScalingConfig {
        scale_from_zero_timeout: Duration::from_secs(1),
        autoscale: false,
        idle_interval: Duration::from_secs(3600),
        ..ScalingConfig::default()
    };
    let (federation, scaler, _registry, _loop) =
        scaled_federation(&p, &p.engine.docker_host, STARTUP_4S, config).await;

    // http mode whose upstream is a listener of this test: replicas started while it is open
    // pass /_/health, replicas started after it is closed never do.
    let upstream = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let mut sleepy = common::spec("sleepy", "sleep 100000").await;
    sleepy.env_vars.insert("mode".into(), "http".into());
    sleepy.env_vars.insert(
        "upstream_url".into(),
        format!("http://{}", upstream.local_addr().unwrap()),
    );
    scaler.deploy(sleepy).await.unwrap();
    scaler.scale(&common::function("sleepy"), 0).await.unwrap();
    drop(upstream);

    let mut standby = common::spec("standby", "cat").await;
    standby.labels = Some([(SCALE_WARM.to_string(), "1".to_string())].into());
    scaler.deploy(standby).await.unwrap();
    scaler.scale(&common::function("standby"), 0).await.unwrap();
    let pool: Vec<_> = p
        .containers()
        .await
        .into_iter()
        .filter(|c| {
            let labels = c.labels.clone().unwrap_or_default();
            labels
                .get(provider_docker::labels::FUNCTION)
                .map(String::as_str)
                == Some("standby")
                && labels.get(STANDBY).map(String::as_str) == Some("true")
        })
        .collect();
    assert_eq!(pool.len(), 1, "{pool:?}");
    let inspect = p
        .engine
        .docker
        .inspect_container(pool[0].id.as_deref().unwrap(), None)
        .await
        .unwrap();
    assert_eq!(inspect.state.unwrap().paused, Some(true));
    let status = scaler.get(&common::function("standby")).await.unwrap();
    assert_eq!((status.replicas, status.available_replicas), (0, 0));
    let listed = scaler.list(NS).await.unwrap();
    let listed = listed.iter().find(|f| f.name == "standby").unwrap();
    assert_eq!((listed.replicas, listed.available_replicas), (0, 0));
    let request = http::Request::post("/")
        .body(faas_provider::Body::from("not for a standby"))
        .unwrap();
    let unrouted = federation
        .invoke(&common::function("standby"), request)
        .await
        .unwrap_err();
    assert!(
        matches!(unrouted, faas_provider::ProviderError::NotReady { .. }),
        "{unrouted:?}"
    );
    scaler.delete(&common::function("standby")).await.unwrap();
    assert!(
        p.containers().await.iter().all(|c| {
            let labels = c.labels.clone().unwrap_or_default();
            labels
                .get(provider_docker::labels::FUNCTION)
                .map(String::as_str)
                != Some("standby")
        }),
        "the standby outlived its function"
    );

    let request = http::Request::post("/")
        .body(faas_provider::Body::from("wake up"))
        .unwrap();
    let error = scaler
        .invoke(&common::function("sleepy"), request)
        .await
        .unwrap_err();
    assert_eq!(faas_provider::server::status_of(&error), 504, "{error:?}");
    let message = error.to_string();
    assert!(
        message.contains("sleepy") && message.contains("scale_from_zero_timeout"),
        "{message}"
    );
    // The abandoned replica is removed by provider-docker when its startup_timeout ends (the
    // delete waits for that scale to finish).
    scaler.delete(&common::function("sleepy")).await.unwrap();
    assert!(p.containers().await.is_empty(), "containers left behind");
}

/// The autoscaler on the real engine, with short windows: under sustained load a function
/// reaches its max and returns to its min once the load stops; a `min == max` function under
/// the same load, scaled by hand above it, is never touched.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_autoscaler_moves_docker_functions_between_min_and_max_and_leaves_fixed_ones() {
    use federation::scaling::{LABEL_MAX, LABEL_MIN, LABEL_TARGET, ScalingConfig, Windows};

    let p = common::provider().await;
    let config = ScalingConfig {
        interval: Duration::from_millis(200),
        windows: Windows {
            stable: Duration::from_secs(1),
            panic: Duration::from_millis(400),
            scale_down: Duration::from_secs(1),
        },
        idle_interval: Duration::from_secs(3600),
        ..ScalingConfig::default()
    };
    let (_federation, scaler, registry, _loop) =
        scaled_federation(&p, &p.engine.docker_host, HEALTH_500MS, config).await;
    for (name, min, max) in [("busy", "1", "2"), ("pinned", "1", "1")] {
        let mut spec = common::spec(name, "cat").await;
        spec.labels = Some(
            [
                (LABEL_MIN.to_string(), min.to_string()),
                (LABEL_MAX.to_string(), max.to_string()),
                (LABEL_TARGET.to_string(), "5".to_string()),
            ]
            .into(),
        );
        scaler.deploy(spec).await.unwrap();
    }
    scaler.scale(&common::function("pinned"), 2).await.unwrap();
    let pinned: Vec<_> = p
        .replicas("pinned")
        .await
        .into_iter()
        .map(|c| c.id.unwrap())
        .collect();
    assert_eq!(pinned.len(), 2);

    // ~50 requests/s each against 4.5 per replica.
    let load = |name: &'static str| {
        let scaler = scaler.clone();
        tokio::spawn(async move {
            loop {
                let request = http::Request::post("/")
                    .body(faas_provider::Body::from("load"))
                    .unwrap();
                let _ = scaler.invoke(&common::function(name), request).await;
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        })
    };
    let (busy_load, pinned_load) = (load("busy"), load("pinned"));
    let replicas = |name: &'static str| {
        let scaler = scaler.clone();
        async move {
            scaler
                .get(&common::function(name))
                .await
                .unwrap()
                .available_replicas
        }
    };
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    while replicas("busy").await < 2 {
        assert!(std::time::Instant::now() < deadline, "busy never reached 2");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    busy_load.abort();
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    while p.replicas("busy").await.len() > 1 {
        assert!(std::time::Instant::now() < deadline, "busy never back to 1");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(replicas("busy").await, 1);
    pinned_load.abort();

    let mut pinned_now: Vec<_> = p
        .replicas("pinned")
        .await
        .into_iter()
        .map(|c| c.id.unwrap())
        .collect();
    pinned_now.sort();
    let mut pinned = pinned;
    pinned.sort();
    assert_eq!(pinned_now, pinned, "the min == max function was scaled");
    let mut text = String::new();
    prometheus_client::encoding::text::encode(&mut text, &registry).unwrap();
    assert!(
        text.contains(
            r#"federation_autoscaler_scale_total{function_name="busy.openfaas-fn",reason="up"}"#
        ) && text.contains(
            r#"federation_autoscaler_scale_total{function_name="busy.openfaas-fn",reason="down"}"#
        ) && !text.contains(r#"function_name="pinned.openfaas-fn",reason="#),
        "{text}"
    );
    for name in ["busy", "pinned"] {
        scaler.delete(&common::function(name)).await.unwrap();
    }
    assert!(p.containers().await.is_empty(), "containers left behind");
}

/// The engine calls of a wake, recorded by a proxy in front of the engine. The first call of a
/// function at zero with a paused standby costs one list of its containers (the scaler's one
/// status read, handed to the wake-up, whose list the backend's scale starts from) and one
/// unpause, and nothing more: no rename (a woken standby is a replica by its state), no inspect,
/// and no list for readiness (the backend answers it from its routes, which the standby joined
/// after passing `/_/health`). Without a standby: that list, one of the host ports in use, a
/// create and a start (inspects only while the replica is slow to pass `/_/health`), and no
/// image lookup (it was pulled at deploy).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wake_costs_the_engine_one_list_and_an_unpause_or_a_create_and_start() {
    use federation::scaling::ScalingConfig;

    let p = common::provider().await;
    let recorder = common::EngineRecorder::start(&p.engine.docker_host).await;
    let config = ScalingConfig {
        autoscale: false,
        idle_interval: Duration::from_secs(3600),
        ..ScalingConfig::default()
    };
    // No background health checks: only the wake's own calls reach the engine.
    let (_federation, scaler, _registry, _loop) = scaled_federation(
        &p,
        &recorder.docker_host,
        r#"health_interval = "1h""#,
        config,
    )
    .await;
    for (name, warm) in [("recorded", "1"), ("coldrec", "0")] {
        let mut spec = common::spec(name, "cat").await;
        spec.labels = Some(
            [(
                provider_docker::labels::SCALE_WARM.to_string(),
                warm.to_string(),
            )]
            .into(),
        );
        scaler.deploy(spec).await.unwrap();
        scaler.scale(&common::function(name), 0).await.unwrap();
    }
    assert!(
        !recorder.take().is_empty(),
        "the recorder sees the engine calls"
    );
    // Container ids and image names are the test's noise.
    let calls = |recorded: Vec<String>| {
        let mut calls: Vec<String> = recorded
            .into_iter()
            .map(|call| {
                let parts: Vec<&str> = call.split('/').collect();
                match parts.as_slice() {
                    [head, "containers", id, action] if *id != "json" => {
                        format!("{head}/containers/{{id}}/{action}")
                    }
                    [head, "images", ..] => format!("{head}/images/{{name}}"),
                    _ => call.clone(),
                }
            })
            .collect();
        calls.sort();
        calls
    };

    assert_eq!(
        common::invoke(&*scaler, "recorded", "woken").await,
        (200, "woken".to_string())
    );
    assert_eq!(
        calls(recorder.take()),
        ["GET /containers/json", "POST /containers/{id}/unpause"]
    );

    assert_eq!(
        common::invoke(&*scaler, "coldrec", "started").await,
        (200, "started".to_string())
    );
    let cold: Vec<String> = calls(recorder.take())
        .into_iter()
        .filter(|call| call != "GET /containers/{id}/json")
        .collect();
    assert_eq!(
        cold,
        [
            "GET /containers/json",
            "GET /containers/json",
            "POST /containers/create",
            "POST /containers/{id}/start",
        ]
    );
    for name in ["recorded", "coldrec"] {
        scaler.delete(&common::function(name)).await.unwrap();
    }
    assert!(p.containers().await.is_empty(), "containers left behind");
}

/// The docker kind takes provider-docker's settings by their environment names, with its
/// defaults; relative paths are relative to the file; bad values name the backend and field.
#[test]
fn docker_settings_are_provider_dockers() {
    let parse = |text: &str| FederationConfig::from_toml(text, Path::new("/etc/faas"));
    let config = parse(
        r#"
        [[backends]]
        name = "d"
        kind = "docker"
        "#,
    )
    .unwrap();
    assert_eq!(
        config.backends[0].spec,
        BackendSpec::Docker(provider_docker::DockerConfig::default())
    );

    let config = parse(
        r#"
        [[backends]]
        name = "d"
        kind = "docker"
        docker_host = "unix:///tmp/d.sock"
        state_dir = "state"
        docker_config = "/root/.docker/config.json"
        port_range = "31000-31009"
        function_bind = "127.0.0.2"
        max_replicas = 4
        pull_timeout = "2m"
        "#,
    )
    .unwrap();
    let BackendSpec::Docker(docker) = &config.backends[0].spec else {
        panic!("{config:?}");
    };
    assert_eq!(docker.docker_host.as_deref(), Some("unix:///tmp/d.sock"));
    assert_eq!(docker.state_dir, PathBuf::from("/etc/faas/state"));
    assert_eq!(
        docker.docker_config,
        Some(PathBuf::from("/root/.docker/config.json"))
    );
    assert_eq!(
        docker.networking,
        Networking::Host {
            bind: "127.0.0.2".parse().unwrap(),
            ports: (31000, 31009)
        }
    );
    assert_eq!(docker.max_replicas, 4);
    assert_eq!(docker.pull_timeout, Duration::from_secs(120));

    for (line, needle) in [
        ("port_range = \"30000\"", "port_range"),
        ("image_pull_policy = \"sometimes\"", "image_pull_policy"),
        ("scope = \"a b\"", "scope"),
        ("colour = \"red\"", "unknown field \"colour\""),
        ("url = \"http://127.0.0.1:1\"", "takes no url"),
        ("state_dir = { a = 1 }", "state_dir"),
    ] {
        let text = format!("[[backends]]\nname = \"d\"\nkind = \"docker\"\n{line}\n");
        let error = parse(&text).expect_err(line).to_string();
        assert!(
            error.contains("backends[0] (d)") && error.contains(needle),
            "{line}: {error}"
        );
    }
}

/// The engine, and a scope and state directory of one test: what the federation's docker
/// backend is pointed at, and a view of that scope in the engine.
mod common {
    use std::sync::Arc;

    use bollard::Docker;
    use bollard::models::{ContainerInspectResponse, ContainerSummary};
    use faas_provider::{Body, FunctionDeployment, FunctionRef, Provider};
    use http_body_util::BodyExt;
    use provider_docker::labels;

    /// The engine with the test images loaded (once per daemon). Hold it as long as the engine
    /// is needed: the last handle stops a private daemon.
    pub(super) struct Engine {
        _handle: Arc<test_support::DockerEngine>,
        pub(super) docker_host: String,
        pub(super) docker: Docker,
    }

    async fn engine() -> Engine {
        static LOADED: tokio::sync::Mutex<Option<String>> = tokio::sync::Mutex::const_new(None);
        let handle = tokio::task::spawn_blocking(test_support::docker_engine)
            .await
            .expect("starting the Docker Engine");
        let docker_host = handle.host().to_string();
        let docker = handle.client().await;
        let mut loaded = LOADED.lock().await;
        if loaded.as_deref() != Some(docker_host.as_str()) {
            let images = tokio::task::spawn_blocking(test_support::images::build_all)
                .await
                .expect("building the test images");
            test_support::push::docker_load(&docker, images, None)
                .await
                .unwrap_or_else(|e| panic!("loading the test images into {docker_host}: {e}"));
            *loaded = Some(docker_host.clone());
        }
        Engine {
            _handle: handle,
            docker_host,
            docker,
        }
    }

    /// A scope and state directory of their own; the scope's containers are removed on drop.
    pub(super) struct TestScope {
        pub(super) engine: Engine,
        pub(super) scope: String,
        pub(super) state: tempfile::TempDir,
    }

    /// A fresh scope and state directory on the engine.
    pub(super) async fn provider() -> TestScope {
        let engine = engine().await;
        let state = tempfile::tempdir().expect("state directory");
        let unique = state
            .path()
            .file_name()
            .map(|n| n.to_string_lossy().to_ascii_lowercase())
            .unwrap_or_default()
            .replace(|c: char| !c.is_ascii_alphanumeric(), "");
        let scope = format!("t{}{unique}", std::process::id());
        TestScope {
            engine,
            scope,
            state,
        }
    }

    impl TestScope {
        /// Every container of this scope (holders and replicas).
        pub(super) async fn containers(&self) -> Vec<ContainerSummary> {
            scope_containers(&self.engine.docker, &self.scope).await
        }

        /// The replica containers of `name` (default namespace), inspected.
        pub(super) async fn replicas(&self, name: &str) -> Vec<ContainerInspectResponse> {
            let mut out = Vec::new();
            for c in self.containers().await {
                let labels = c.labels.clone().unwrap_or_default();
                if labels.get(labels::FUNCTION).map(String::as_str) == Some(name)
                    && labels.get(labels::ROLE).map(String::as_str) == Some("replica")
                {
                    let id = c.id.clone().unwrap();
                    out.push(
                        self.engine
                            .docker
                            .inspect_container(&id, None)
                            .await
                            .unwrap(),
                    );
                }
            }
            out
        }
    }

    async fn scope_containers(docker: &Docker, scope: &str) -> Vec<ContainerSummary> {
        test_support::labelled_containers(docker, labels::SCOPE, scope).await
    }

    impl Drop for TestScope {
        fn drop(&mut self) {
            test_support::remove_labelled_blocking(&self.engine.docker, labels::SCOPE, &self.scope);
        }
    }

    /// A pass-through proxy in front of the engine's API that records each request line's
    /// method and path (query left out), so a test can see which engine calls an operation
    /// made. Serves a unix socket in its own directory; `docker_host` points at it.
    pub(super) struct EngineRecorder {
        pub(super) docker_host: String,
        calls: Arc<std::sync::Mutex<Vec<String>>>,
        _dir: tempfile::TempDir,
        task: tokio::task::JoinHandle<()>,
    }

    impl EngineRecorder {
        pub(super) async fn start(engine: &str) -> Self {
            use tokio::io::{AsyncReadExt, AsyncWriteExt};

            let upstream = engine
                .strip_prefix("unix://")
                .unwrap_or_else(|| {
                    panic!("the recorder proxies a unix socket engine, not {engine}")
                })
                .to_string();
            let dir = tempfile::tempdir().expect("proxy directory");
            let path = dir.path().join("engine.sock");
            let listener = tokio::net::UnixListener::bind(&path).expect("bind the proxy socket");
            let calls = Arc::new(std::sync::Mutex::new(Vec::new()));
            let recorded = calls.clone();
            let task = tokio::spawn(async move {
                while let Ok((client, _)) = listener.accept().await {
                    let Ok(engine) = tokio::net::UnixStream::connect(&upstream).await else {
                        continue;
                    };
                    let (mut from_client, mut to_engine) = (client, engine);
                    let recorded = recorded.clone();
                    tokio::spawn(async move {
                        let (mut client_read, mut client_write) = from_client.split();
                        let (mut engine_read, mut engine_write) = to_engine.split();
                        let requests = async {
                            let mut pending = Vec::new();
                            let mut chunk = [0u8; 16 * 1024];
                            loop {
                                let n = client_read.read(&mut chunk).await?;
                                if n == 0 {
                                    return engine_write.shutdown().await;
                                }
                                pending.extend_from_slice(&chunk[..n]);
                                while let Some(end) = pending.windows(2).position(|w| w == b"\r\n")
                                {
                                    let line =
                                        String::from_utf8_lossy(&pending[..end]).into_owned();
                                    pending.drain(..end + 2);
                                    let mut words = line.split(' ');
                                    if let (Some(method), Some(target), Some("HTTP/1.1")) =
                                        (words.next(), words.next(), words.next())
                                        && ["GET", "POST", "PUT", "DELETE", "HEAD"]
                                            .contains(&method)
                                    {
                                        let path = target.split('?').next().unwrap_or(target);
                                        recorded.lock().unwrap().push(format!("{method} {path}"));
                                    }
                                }
                                engine_write.write_all(&chunk[..n]).await?;
                            }
                        };
                        let answers = tokio::io::copy(&mut engine_read, &mut client_write);
                        let _ = tokio::join!(requests, answers);
                    });
                }
            });
            Self {
                docker_host: format!("unix://{}", path.display()),
                calls,
                _dir: dir,
                task,
            }
        }

        /// The calls recorded since the last `take`, as `METHOD /path` (API version prefix
        /// removed).
        pub(super) fn take(&self) -> Vec<String> {
            std::mem::take(&mut *self.calls.lock().unwrap())
                .into_iter()
                .map(|call| match call.split_once(" /v1.") {
                    Some((method, rest)) => match rest.split_once('/') {
                        Some((_, path)) => format!("{method} /{path}"),
                        None => call,
                    },
                    None => call,
                })
                .collect()
        }
    }

    impl Drop for EngineRecorder {
        fn drop(&mut self) {
            self.task.abort();
        }
    }

    /// A deployment of the test image named `name` running `fprocess`.
    pub(super) async fn spec(name: &str, fprocess: &str) -> FunctionDeployment {
        let mut spec = FunctionDeployment::new(name, test_support::images::ECHO.local_reference());
        spec.namespace = faas_provider::DEFAULT_NAMESPACE.into();
        spec.env_process = fprocess.into();
        // Serializing mode: stderr is part of the body and a failing process answers 500.
        spec.env_vars.insert("mode".into(), "serializing".into());
        spec
    }

    pub(super) fn function(name: &str) -> FunctionRef {
        FunctionRef::new(name, faas_provider::DEFAULT_NAMESPACE)
    }

    /// Invokes `name` with `body` (POST /), returning status and body text.
    pub(super) async fn invoke(provider: &dyn Provider, name: &str, body: &str) -> (u16, String) {
        let request = http::Request::post("/")
            .body(Body::from(body.to_string()))
            .unwrap();
        let response = provider
            .invoke(&function(name), request)
            .await
            .unwrap_or_else(|e| panic!("invoke {name}: {e}"));
        let status = response.status().as_u16();
        let bytes = response
            .into_body()
            .collect()
            .await
            .expect("response body")
            .to_bytes();
        (status, String::from_utf8_lossy(&bytes).into_owned())
    }
}
