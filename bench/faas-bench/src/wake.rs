//! The first answer after a scale from zero, **through the federation** (issue 14): the
//! `faas-federation` router and its scaler in front of an in-process provider-docker backend on
//! the real engine (test-support's: `DOCKER_HOST`, or a private `dockerd`), loopback only.
//!
//! Per round, each timed from the client's `POST /function/<name>` to the end of its 200 (the
//! scaler sees 0 replicas, scales to 1, polls readiness, forwards: no fixed sleep anywhere):
//!
//! - **warm**: a function with one paused standby (`com.openfaas.scale.warm=1`): the wake is an
//!   unpause, a rename and a `/_/health` check;
//! - **cold**: the same function without a pool: a container create + start + `/_/health`;
//! - **baseline**: an invocation of a function already at 1 replica, through the same server.
//!
//! Between rounds each function is scaled back to 0 (untimed; it refills the pool). The same
//! run measures the engine's own floor on its own paused container: the bare `unpause` call,
//! and `unpause` to the first 200 of the watchdog's `/_/health`, plus one list of a function's
//! containers (what a status or a scale asks the engine first), so a warm wake can be judged
//! against what the engine alone costs here. Goals: warm p50 ≤ 20 ms, cold p50 ≤ 150 ms.

use std::net::SocketAddr;
use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use bollard::Docker;
use bollard::models::{ContainerCreateBody, HostConfig};
use bollard::query_parameters::{
    CreateContainerOptionsBuilder, ListContainersOptionsBuilder, RemoveContainerOptionsBuilder,
};
use faas_provider::{FunctionDeployment, FunctionRef, Provider, ServerConfig};
use federation::{FederationConfig, Runtime};
use prometheus_client::registry::Registry;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// What to run.
#[derive(Debug, Clone)]
pub struct WakeSettings {
    /// Rounds of every measurement.
    pub rounds: usize,
}

/// Times of one run.
#[derive(Debug, Default)]
pub struct WakeReport {
    /// A call at zero with a paused standby, to its 200.
    pub warm: Vec<Duration>,
    /// A call at zero without a standby, to its 200.
    pub cold: Vec<Duration>,
    /// A call of a function at 1 replica.
    pub baseline: Vec<Duration>,
    /// The engine's `unpause` call alone.
    pub unpause: Vec<Duration>,
    /// `unpause` to the first 200 of `/_/health`, engine only.
    pub unpause_health: Vec<Duration>,
    /// The engine's list of one function's containers (what a status or a scale asks first).
    pub list: Vec<Duration>,
}

/// The `q` quantile (nearest rank) of `times`, in milliseconds.
pub fn quantile_ms(times: &[Duration], q: f64) -> f64 {
    if times.is_empty() {
        return f64::NAN;
    }
    let mut sorted = times.to_vec();
    sorted.sort();
    let rank = ((q * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    sorted[rank - 1].as_secs_f64() * 1000.0
}

impl WakeReport {
    /// The table printed by `faas-bench-wake`.
    pub fn render(&self) -> String {
        let mut out = String::from(
            "| through the federation (POST /function/…) | p50 ms | p90 ms | rounds | × baseline p50 | goal |\n|---|---|---|---|---|---|\n",
        );
        let base = quantile_ms(&self.baseline, 0.5);
        let rows: [(&str, &[Duration], &str); 6] = [
            ("at zero, warm standby (unpause)", &self.warm, "p50 ≤ 20 ms"),
            (
                "at zero, no standby (create + start)",
                &self.cold,
                "p50 ≤ 150 ms",
            ),
            ("baseline: at 1 replica", &self.baseline, "-"),
            ("engine only: bare `unpause`", &self.unpause, "-"),
            (
                "engine only: `unpause` → /_/health 200",
                &self.unpause_health,
                "-",
            ),
            (
                "engine only: list one function's containers",
                &self.list,
                "-",
            ),
        ];
        for (name, times, goal) in rows {
            let p50 = quantile_ms(times, 0.5);
            out.push_str(&format!(
                "| {name} | {p50:.1} | {:.1} | {} | {:.1} | {goal} |\n",
                quantile_ms(times, 0.9),
                times.len(),
                p50 / base,
            ));
        }
        out.push_str(&format!(
            "RATIO cold/warm p50 {:.1}x; warm p50 − bare unpause p50 = {:.1} ms (what the wake adds to the engine's floor)\n",
            quantile_ms(&self.cold, 0.5) / quantile_ms(&self.warm, 0.5),
            quantile_ms(&self.warm, 0.5) - quantile_ms(&self.unpause, 0.5),
        ));
        out
    }
}

/// A deployment of the test echo image with `warm` standbys.
fn spec(name: &str, warm: u64) -> FunctionDeployment {
    let mut spec = FunctionDeployment::new(name, test_support::images::ECHO.local_reference());
    spec.namespace = faas_provider::DEFAULT_NAMESPACE.into();
    spec.labels = Some(
        [(
            provider_docker::labels::SCALE_WARM.to_string(),
            warm.to_string(),
        )]
        .into(),
    );
    spec
}

fn function(name: &str) -> FunctionRef {
    FunctionRef::new(name, faas_provider::DEFAULT_NAMESPACE)
}

/// One `POST /function/<name>`, timed to the end of its body; anything but a 200 is an error.
async fn call(client: &reqwest::Client, url: &str, name: &str) -> anyhow::Result<Duration> {
    let began = Instant::now();
    let response = client
        .post(format!("{url}/function/{name}"))
        .body("ping")
        .send()
        .await?;
    let status = response.status();
    let body = response.bytes().await?;
    let elapsed = began.elapsed();
    if status != reqwest::StatusCode::OK {
        bail!(
            "{name} answered {status}: {}",
            String::from_utf8_lossy(&body)
        );
    }
    Ok(elapsed)
}

/// One `GET /_/health` on a fresh connection: true on a 200.
async fn health(addr: SocketAddr) -> bool {
    let attempt = async {
        let mut stream = tokio::net::TcpStream::connect(addr).await?;
        stream.set_nodelay(true)?;
        stream
            .write_all(b"GET /_/health HTTP/1.1\r\nHost: watchdog\r\nConnection: close\r\n\r\n")
            .await?;
        let mut head = [0u8; 12];
        stream.read_exact(&mut head).await?;
        std::io::Result::Ok(head.starts_with(b"HTTP/1.1 200"))
    };
    matches!(
        tokio::time::timeout(Duration::from_secs(2), attempt).await,
        Ok(Ok(true))
    )
}

/// Polls `/_/health` until a 200 (every millisecond, bounded).
async fn until_healthy(addr: SocketAddr) -> anyhow::Result<()> {
    let deadline = Instant::now() + Duration::from_secs(30);
    while !health(addr).await {
        if Instant::now() > deadline {
            bail!("{addr}: /_/health never answered 200");
        }
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    Ok(())
}

/// A started, healthy, paused container of the test image on a free loopback port (host
/// networking), in `scope`.
async fn paused_watchdog(docker: &Docker, scope: &str) -> anyhow::Result<(String, SocketAddr)> {
    let port = std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port();
    let body = ContainerCreateBody {
        image: Some(test_support::images::ECHO.local_reference()),
        env: Some(vec![
            format!("port={port}"),
            "bind_address=127.0.0.1".into(),
            "fprocess=cat".into(),
        ]),
        labels: Some(
            [(
                provider_docker::labels::SCOPE.to_string(),
                scope.to_string(),
            )]
            .into(),
        ),
        host_config: Some(HostConfig {
            network_mode: Some("host".into()),
            ..Default::default()
        }),
        ..Default::default()
    };
    let name = format!("{scope}-floor");
    let options = CreateContainerOptionsBuilder::default().name(&name).build();
    let id = docker.create_container(Some(options), body).await?.id;
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    docker.start_container(&id, None).await?;
    until_healthy(addr).await?;
    docker.pause_container(&id).await?;
    Ok((id, addr))
}

/// The containers of function `name` in `scope`, listed as provider-docker lists them.
async fn list_function(docker: &Docker, scope: &str, name: &str) -> anyhow::Result<usize> {
    let filters = std::collections::HashMap::from([(
        "label".to_string(),
        vec![
            format!("{}={scope}", provider_docker::labels::SCOPE),
            format!("{}={name}", provider_docker::labels::FUNCTION),
        ],
    )]);
    let options = ListContainersOptionsBuilder::default()
        .all(true)
        .filters(&filters)
        .build();
    Ok(docker.list_containers(Some(options)).await?.len())
}

/// Removes every container of `scope` (what is left after the functions' deletion).
async fn remove_scope(docker: &Docker, scope: &str) {
    let filters = std::collections::HashMap::from([(
        "label".to_string(),
        vec![format!("{}={scope}", provider_docker::labels::SCOPE)],
    )]);
    let options = ListContainersOptionsBuilder::default()
        .all(true)
        .filters(&filters)
        .build();
    for c in docker
        .list_containers(Some(options))
        .await
        .unwrap_or_default()
    {
        if let Some(id) = c.id {
            let options = RemoveContainerOptionsBuilder::default().force(true).build();
            let _ = docker.remove_container(&id, Some(options)).await;
        }
    }
}

/// The federation over one docker backend (`scope`, `state`), served on 127.0.0.1; the
/// autoscaler and idler are off so that only the calls move replicas.
async fn federation(host: &str, state: &Path, scope: &str) -> anyhow::Result<(Runtime, String)> {
    let text = format!(
        r#"
        autoscale = false
        idle_interval = "1h"
        [[backends]]
        name = "engine"
        kind = "docker"
        timeout = "120s"
        docker_host = "{host}"
        state_dir = "{state}"
        scope = "{scope}"
        image_pull_policy = "IfNotPresent"
        stop_timeout = 1
        "#,
        state = state.display(),
    );
    let config = FederationConfig::from_toml(&text, Path::new("/nonexistent"))?;
    let mut registry = Registry::default();
    let runtime = Runtime::start(&config, &mut registry).await?;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let url = format!("http://{}", listener.local_addr()?);
    let app = runtime.router(&ServerConfig::default(), registry);
    tokio::spawn(async move {
        let _ = faas_provider::server::serve_router(
            listener,
            app,
            &ServerConfig::default(),
            std::future::pending(),
        )
        .await;
    });
    Ok((runtime, url))
}

/// Runs the whole bench on the test-support engine.
pub async fn run(settings: &WakeSettings) -> anyhow::Result<WakeReport> {
    let engine = tokio::task::spawn_blocking(test_support::docker_engine).await?;
    let images = tokio::task::spawn_blocking(test_support::images::build_all).await?;
    let docker = engine.client().await;
    test_support::push::docker_load(&docker, images, None)
        .await
        .context("loading the test images")?;
    let state = tempfile::tempdir()?;
    let scope = format!("wake{}", &uuid::Uuid::new_v4().simple().to_string()[..8]);
    let (runtime, url) = federation(engine.host(), state.path(), &scope).await?;
    let provider = runtime.provider();
    let client = reqwest::Client::builder().no_proxy().build()?;

    let result = async {
        let mut report = WakeReport::default();
        for (name, warm) in [("warm", 1), ("cold", 0), ("hot", 0)] {
            provider.deploy(spec(name, warm)).await?;
        }
        for name in ["warm", "cold"] {
            provider.scale(&function(name), 0).await?;
        }
        call(&client, &url, "hot").await?;
        let (floor, floor_addr) = paused_watchdog(&docker, &scope).await?;
        for round in 0..settings.rounds {
            // Alternate which goes first, so drift does not favour one side.
            let order = if round % 2 == 0 {
                ["warm", "cold"]
            } else {
                ["cold", "warm"]
            };
            for name in order {
                let elapsed = call(&client, &url, name).await?;
                match name {
                    "warm" => report.warm.push(elapsed),
                    _ => report.cold.push(elapsed),
                }
                provider.scale(&function(name), 0).await?;
            }
            report.baseline.push(call(&client, &url, "hot").await?);
            let began = Instant::now();
            docker.unpause_container(&floor).await?;
            report.unpause.push(began.elapsed());
            until_healthy(floor_addr).await?;
            report.unpause_health.push(began.elapsed());
            docker.pause_container(&floor).await?;
            let began = Instant::now();
            list_function(&docker, &scope, "warm").await?;
            report.list.push(began.elapsed());
        }
        anyhow::Ok(report)
    }
    .await;

    for name in ["warm", "cold", "hot"] {
        let _ = provider.delete(&function(name)).await;
    }
    remove_scope(&docker, &scope).await;
    result
}
