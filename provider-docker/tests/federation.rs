//! provider-docker as an in-process backend of the federation (`kind = "docker"`, cargo
//! feature `docker` of the federation crate): a TOML configuration with a docker and a memory
//! backend, one function routed to each by the `com.openfaas.federation.gateway` annotation,
//! the docker one invoked for real on the engine.

mod common;

use std::path::{Path, PathBuf};
use std::time::Duration;

use faas_provider::{FunctionDeployment, Provider};
use federation::{BackendSpec, FederatedProvider, FederationConfig, GATEWAY_ANNOTATION};
use provider_docker::{Networking, PullPolicy};

const NS: &str = faas_provider::DEFAULT_NAMESPACE;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_docker_backend_serves_its_functions_next_to_a_memory_one() {
    // The engine, a scope and a state directory of this test; the helper's own provider over
    // the same scope shows what the federation did in the engine and removes leftovers on drop.
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
