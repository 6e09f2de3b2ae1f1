//! `cargo bench -p provider-docker --bench warm`: the first answer after a scale from zero, on
//! a real engine (the test-support one: `DOCKER_HOST`, or a private `dockerd`), loopback only.
//!
//! 1. **scale from zero**, per round: `scale(0 → 1)` then `invoke` until the first 200 (no
//!    fixed sleep: `scale` returns once the replica passed `/_/health` and is routed; a
//!    `NotReady` would be retried at once), for a function with one warm standby
//!    (`com.openfaas.scale.warm=1`: the wake is an unpause + `/_/health`) and one
//!    without (a container create + start + `/_/health`); then `scale(0)` again, untimed
//!    (it refills the pool). The baseline is an invocation of a function already at 1.
//!    Goals (issue 14): p50 ≤ 20 ms with a warm standby, ≤ 150 ms without.
//! 2. **standby kinds**, on the engine alone (test-support's `engine_floor` containers): from
//!    the container's state to the first 200 of its watchdog's `/_/health`, for a paused
//!    container (unpause), a created and stopped one (start) and none at all (create + start):
//!    what chose paused standbys (`src/warm.rs`).
//!
//! Rounds: `DOCKER_WARM_ROUNDS` (default 20). Nothing is asserted; `tests/warm_bench_smoke.rs`
//! runs it with one round so it cannot rot.

use std::collections::{BTreeMap, HashMap};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use bench::quantile_ms;
use bollard::Docker;
use faas_provider::{Body, FunctionDeployment, FunctionRef, Provider, ProviderError};
use http_body_util::BodyExt;
use provider_docker::{DockerConfig, DockerProvider, PullPolicy, labels};
use test_support::engine_floor::{self, Watchdog, until_healthy};

/// What to run.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Rounds of every measurement.
    pub rounds: usize,
}

/// Times of one run, in the order measured.
#[derive(Debug, Default)]
pub struct Report {
    /// `scale(0 → 1)` to the first 200, with a warm standby.
    pub warm: Vec<Duration>,
    /// The same without a standby.
    pub cold: Vec<Duration>,
    /// One invocation of a function already at 1.
    pub baseline: Vec<Duration>,
    /// Engine only, to the first `/_/health` 200: unpause of a paused container.
    pub paused: Vec<Duration>,
    /// Start of a created, stopped container.
    pub stopped: Vec<Duration>,
    /// Create + start.
    pub created: Vec<Duration>,
}

impl Report {
    /// The table printed by the bench.
    pub fn render(&self) -> String {
        let mut out = String::new();
        let row = |out: &mut String, name: &str, times: &[Duration]| {
            out.push_str(&format!(
                "  {name:<34} p50 {:>8.2} ms  p90 {:>8.2} ms  ({} rounds)\n",
                quantile_ms(times, 0.5),
                quantile_ms(times, 0.9),
                times.len()
            ));
        };
        out.push_str("scale(0 → 1) → first 200 of invoke:\n");
        row(&mut out, "with a warm standby (unpause)", &self.warm);
        row(&mut out, "without (create + start)", &self.cold);
        row(&mut out, "baseline: invoke at 1 replica", &self.baseline);
        let p50 = |t: &[Duration]| quantile_ms(t, 0.5);
        out.push_str(&format!(
            "  RATIO cold/warm p50 {:.1}x, warm/baseline p50 {:.1}x   (goals: warm p50 ≤ 20 ms, cold p50 ≤ 150 ms)\n",
            p50(&self.cold) / p50(&self.warm),
            p50(&self.warm) / p50(&self.baseline),
        ));
        out.push_str("standby kinds, engine only → first 200 of /_/health:\n");
        row(&mut out, "paused (unpause)", &self.paused);
        row(&mut out, "created and stopped (start)", &self.stopped);
        row(&mut out, "none (create + start)", &self.created);
        out.push_str(&format!(
            "  RATIO stopped/paused p50 {:.1}x\n",
            p50(&self.stopped) / p50(&self.paused)
        ));
        out
    }
}

fn function(name: &str) -> FunctionRef {
    FunctionRef::new(name, faas_provider::DEFAULT_NAMESPACE)
}

fn spec(name: &str, warm: u64) -> FunctionDeployment {
    let mut spec = FunctionDeployment::new(name, test_support::images::ECHO.local_reference());
    spec.namespace = faas_provider::DEFAULT_NAMESPACE.into();
    spec.labels = Some(BTreeMap::from([(
        labels::SCALE_WARM.to_string(),
        warm.to_string(),
    )]));
    spec
}

/// Invokes `name` until it answers 200 (a `NotReady` is retried at once, bounded).
async fn first_200(provider: &DockerProvider, name: &str) -> anyhow::Result<()> {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let request = http::Request::post("/").body(Body::from("ping"))?;
        match provider.invoke(&function(name), request).await {
            Ok(response) => {
                let status = response.status();
                response.into_body().collect().await?;
                if status == http::StatusCode::OK {
                    return Ok(());
                }
            }
            Err(ProviderError::NotReady { .. }) => {}
            Err(e) => return Err(e.into()),
        }
        if Instant::now() > deadline {
            bail!("{name}: no 200 within 30 s");
        }
        tokio::task::yield_now().await;
    }
}

/// `scale(0 → 1)` until the first 200.
async fn wake(provider: &DockerProvider, name: &str) -> anyhow::Result<Duration> {
    let started = Instant::now();
    provider.scale(&function(name), 1).await?;
    first_200(provider, name).await?;
    Ok(started.elapsed())
}

/// A watchdog container of `scope` created straight on the engine (test-support's floor).
async fn create_watchdog(docker: &Docker, scope: &str) -> anyhow::Result<Watchdog> {
    let name = format!(
        "{scope}-{}",
        &uuid::Uuid::new_v4().simple().to_string()[..8]
    );
    let labels = HashMap::from([(labels::SCOPE.to_string(), scope.to_string())]);
    engine_floor::create(docker, &name, labels).await
}

/// One round of the engine-only standby kinds.
async fn kinds(docker: &Docker, scope: &str, report: &mut Report) -> anyhow::Result<()> {
    // Paused: started and healthy beforehand.
    let w = create_watchdog(docker, scope).await?;
    docker.start_container(&w.id, None).await?;
    until_healthy(w.addr).await?;
    docker.pause_container(&w.id).await?;
    let started = Instant::now();
    docker.unpause_container(&w.id).await?;
    until_healthy(w.addr).await?;
    report.paused.push(started.elapsed());
    engine_floor::remove(docker, &w.id).await;

    // Created and stopped: created beforehand.
    let w = create_watchdog(docker, scope).await?;
    let started = Instant::now();
    docker.start_container(&w.id, None).await?;
    until_healthy(w.addr).await?;
    report.stopped.push(started.elapsed());
    engine_floor::remove(docker, &w.id).await;

    // Nothing beforehand.
    let started = Instant::now();
    let w = create_watchdog(docker, scope).await?;
    docker.start_container(&w.id, None).await?;
    until_healthy(w.addr).await?;
    report.created.push(started.elapsed());
    engine_floor::remove(docker, &w.id).await;
    Ok(())
}

/// Runs the whole bench on the test-support engine.
pub async fn run(settings: &Settings) -> anyhow::Result<Report> {
    let engine = tokio::task::spawn_blocking(test_support::docker_engine).await?;
    let images = tokio::task::spawn_blocking(test_support::images::build_all).await?;
    let docker = engine.client().await;
    test_support::push::docker_load(&docker, images, None)
        .await
        .context("loading the test images")?;
    let state = tempfile::tempdir()?;
    let scope = format!("warm{}", &uuid::Uuid::new_v4().simple().to_string()[..8]);
    let mut config = DockerConfig::new(Some(engine.host().to_string()), state.path());
    config.scope = scope.clone();
    config.pull_policy = PullPolicy::IfNotPresent;
    config.stop_timeout = Duration::from_secs(1);
    let provider = DockerProvider::connect(config)
        .await
        .context("connecting to the engine")?;

    let result = async {
        let mut report = Report::default();
        for (name, warm) in [("warm", 1), ("cold", 0), ("hot", 0)] {
            provider.deploy(spec(name, warm)).await?;
        }
        for name in ["warm", "cold"] {
            provider.scale(&function(name), 0).await?;
        }
        first_200(&provider, "hot").await?;
        for round in 0..settings.rounds {
            // Alternate which goes first, so drift does not favour one side.
            let order = if round % 2 == 0 {
                ["warm", "cold"]
            } else {
                ["cold", "warm"]
            };
            for name in order {
                let elapsed = wake(&provider, name).await?;
                if name == "warm" {
                    report.warm.push(elapsed);
                } else {
                    report.cold.push(elapsed);
                }
                provider.scale(&function(name), 0).await?;
            }
            let started = Instant::now();
            first_200(&provider, "hot").await?;
            report.baseline.push(started.elapsed());
            kinds(&docker, &scope, &mut report).await?;
        }
        anyhow::Ok(report)
    }
    .await;

    for name in ["warm", "cold", "hot"] {
        let _ = provider.delete(&function(name)).await;
    }
    // Whatever is left of this scope (the engine-only containers, on an error).
    let filters = HashMap::from([(
        "label".to_string(),
        vec![format!("{}={scope}", labels::SCOPE)],
    )]);
    let options = bollard::query_parameters::ListContainersOptionsBuilder::default()
        .all(true)
        .filters(&filters)
        .build();
    for c in docker
        .list_containers(Some(options))
        .await
        .unwrap_or_default()
    {
        if let Some(id) = c.id {
            engine_floor::remove(&docker, &id).await;
        }
    }
    result
}

fn main() -> anyhow::Result<()> {
    let rounds = std::env::var("DOCKER_WARM_ROUNDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20usize)
        .clamp(1, 1000);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    let report = runtime.block_on(run(&Settings { rounds }))?;
    println!("provider-docker warm pool benchmark (loopback, {rounds} rounds)");
    print!("{}", report.render());
    Ok(())
}
