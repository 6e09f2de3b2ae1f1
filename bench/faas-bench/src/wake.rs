//! The first answer after a scale from zero, **through the federation** (issue 14): the
//! `faas-federation` router and its scaler in front of an in-process provider-docker backend on
//! the real engine (test-support's: `DOCKER_HOST`, or a private `dockerd`), loopback only.
//!
//! Per round, each timed from the client's `POST /function/<name>` to the end of its 200 (the
//! scaler sees 0 replicas, scales to 1, polls readiness, forwards: no fixed sleep anywhere):
//!
//! - **warm**: a function with one paused standby (`com.openfaas.scale.warm=1`): the wake is an
//!   unpause and a `/_/health` check;
//! - **cold**: the same function without a pool: a container create + start + `/_/health`;
//! - **baseline**: an invocation of a function already at 1 replica, through the same server.
//!
//! Between rounds each function is scaled back to 0 (untimed; it refills the pool). The same
//! run measures the engine's own floor on its own paused container: the bare `unpause` call,
//! and `unpause` to the first 200 of the watchdog's `/_/health`; on a fresh container, create +
//! start to that 200 (the floor of a call without a standby); plus one list of a function's
//! containers (what a status or a scale asks the engine first), so a warm wake can be judged
//! against what the engine alone costs here (test-support's `engine_floor` container). Goals:
//! warm p50 ≤ 20 ms, cold p50 ≤ 150 ms.
//!
//! With [`Timings`] installed as a tracing layer, each call at zero is also broken down into
//! the steps provider-docker and the scaler time themselves (`faas_timing` debug events: every
//! engine call and wait of the wake, the scaler's status read, scale and readiness wait), and
//! what is left of the call beside them (the federation's HTTP server and the forward).

use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use bench::quantile_ms;
use bollard::Docker;
use bollard::query_parameters::ListContainersOptionsBuilder;
use faas_provider::{FunctionDeployment, FunctionRef, Provider, ServerConfig};
use federation::{FederationConfig, Runtime};
use prometheus_client::registry::Registry;
use test_support::engine_floor::{self, until_healthy};

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
    /// Create + start to the first 200 of `/_/health`, engine only.
    pub create_start_health: Vec<Duration>,
    /// The engine's list of one function's containers (what a status or a scale asks first).
    pub list: Vec<Duration>,
    /// Per call at zero with a standby: its timed steps ([`Timings`]; empty without).
    pub warm_steps: Vec<Steps>,
    /// Per call at zero without a standby: its timed steps.
    pub cold_steps: Vec<Steps>,
}

/// The steps one call timed, by name: how many, and their total time.
pub type Steps = BTreeMap<String, (u32, Duration)>;

/// The target of the timing events of provider-docker and the scaler.
const TIMING_TARGET: &str = "faas_timing";

/// A tracing layer that keeps the `faas_timing` events (`op`, `us`) and nothing else; install
/// it before [`run`] (`tracing_subscriber::registry().with(timings.clone())`).
#[derive(Debug, Clone, Default)]
pub struct Timings(Arc<Mutex<Vec<(String, Duration)>>>);

impl Timings {
    /// The events recorded since the last take, grouped.
    pub fn take(&self) -> Steps {
        let events = std::mem::take(&mut *self.0.lock().unwrap_or_else(PoisonError::into_inner));
        let mut steps = Steps::new();
        for (op, took) in events {
            let step = steps.entry(op).or_default();
            step.0 += 1;
            step.1 += took;
        }
        steps
    }
}

#[derive(Default)]
struct TimingFields {
    op: Option<String>,
    us: Option<u64>,
}

impl tracing::field::Visit for TimingFields {
    fn record_str(&mut self, field: &tracing::field::Field, value: &str) {
        if field.name() == "op" {
            self.op = Some(value.to_string());
        }
    }

    fn record_u64(&mut self, field: &tracing::field::Field, value: u64) {
        if field.name() == "us" {
            self.us = Some(value);
        }
    }

    fn record_debug(&mut self, _: &tracing::field::Field, _: &dyn std::fmt::Debug) {}
}

impl<S: tracing::Subscriber> tracing_subscriber::Layer<S> for Timings {
    fn register_callsite(
        &self,
        metadata: &'static tracing::Metadata<'static>,
    ) -> tracing::subscriber::Interest {
        if metadata.target() == TIMING_TARGET {
            tracing::subscriber::Interest::always()
        } else {
            tracing::subscriber::Interest::never()
        }
    }

    fn enabled(
        &self,
        metadata: &tracing::Metadata<'_>,
        _: tracing_subscriber::layer::Context<'_, S>,
    ) -> bool {
        metadata.target() == TIMING_TARGET
    }

    fn on_event(&self, event: &tracing::Event<'_>, _: tracing_subscriber::layer::Context<'_, S>) {
        let mut fields = TimingFields::default();
        event.record(&mut fields);
        if let (Some(op), Some(us)) = (fields.op, fields.us) {
            self.0
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .push((op, Duration::from_micros(us)));
        }
    }
}

impl WakeReport {
    /// The table printed by `faas-bench-wake`.
    pub fn render(&self) -> String {
        let mut out = String::from(
            "| through the federation (POST /function/…) | p50 ms | p90 ms | rounds | × baseline p50 | goal |\n|---|---|---|---|---|---|\n",
        );
        let base = quantile_ms(&self.baseline, 0.5);
        let rows: [(&str, &[Duration], &str); 7] = [
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
                "engine only: create + start → /_/health 200",
                &self.create_start_health,
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
        let p50 = |times: &[Duration]| quantile_ms(times, 0.5);
        out.push_str(&format!(
            "RATIO cold/warm p50 {:.1}x; warm p50 − bare unpause p50 = {:.1} ms, cold p50 − engine create + start → 200 p50 = {:.1} ms (what the wake adds to the engine's floor)\n",
            p50(&self.cold) / p50(&self.warm),
            p50(&self.warm) - p50(&self.unpause),
            p50(&self.cold) - p50(&self.create_start_health),
        ));
        if self
            .warm_steps
            .iter()
            .chain(&self.cold_steps)
            .any(|s| !s.is_empty())
        {
            out.push_str(&self.render_steps());
        }
        out
    }

    /// The steps of the calls at zero: per step, calls per call at zero and the p50 of its
    /// time per call; engine steps run inside the scaler's.
    fn render_steps(&self) -> String {
        let mut out = String::from(
            "\n| steps of a call at zero | warm: per call | warm p50 ms | cold: per call | cold p50 ms |\n|---|---|---|---|---|\n",
        );
        let names: std::collections::BTreeSet<&String> = self
            .warm_steps
            .iter()
            .chain(&self.cold_steps)
            .flat_map(|steps| steps.keys())
            .collect();
        let column = |all: &[Steps], name: &str| {
            let calls: u32 = all.iter().filter_map(|s| s.get(name)).map(|s| s.0).sum();
            let times: Vec<Duration> = all
                .iter()
                .map(|s| s.get(name).map_or(Duration::ZERO, |s| s.1))
                .collect();
            (
                calls as f64 / all.len().max(1) as f64,
                quantile_ms(&times, 0.5),
            )
        };
        // The scaler's steps are first: the engine's run inside them.
        let (scaler, engine): (Vec<&String>, Vec<&String>) =
            names.into_iter().partition(|n| n.starts_with("scaler:"));
        for name in scaler.into_iter().chain(engine) {
            let (warm_calls, warm) = column(&self.warm_steps, name);
            let (cold_calls, cold) = column(&self.cold_steps, name);
            out.push_str(&format!(
                "| {name} | {warm_calls:.1} | {warm:.1} | {cold_calls:.1} | {cold:.1} |\n"
            ));
        }
        let rest = |times: &[Duration], all: &[Steps]| {
            let left: Vec<Duration> = times
                .iter()
                .zip(all)
                .map(|(total, steps)| {
                    let scaler: Duration = steps
                        .iter()
                        .filter(|(name, _)| name.starts_with("scaler:"))
                        .map(|(_, s)| s.1)
                        .sum();
                    total.saturating_sub(scaler)
                })
                .collect();
            quantile_ms(&left, 0.5)
        };
        out.push_str(&format!(
            "| the rest of the call (HTTP to the federation, forward, answer) | - | {:.1} | - | {:.1} |\n",
            rest(&self.warm, &self.warm_steps),
            rest(&self.cold, &self.cold_steps),
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

/// The containers of function `name` in `scope`, listed as provider-docker lists them.
async fn list_function(docker: &Docker, scope: &str, name: &str) -> anyhow::Result<usize> {
    let filters = HashMap::from([(
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
    let filters = HashMap::from([(
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
            engine_floor::remove(docker, &id).await;
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

/// Runs the whole bench on the test-support engine; `timings`, when installed as a tracing
/// layer, gives the steps of each call at zero.
pub async fn run(settings: &WakeSettings, timings: &Timings) -> anyhow::Result<WakeReport> {
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
        let labels = HashMap::from([(provider_docker::labels::SCOPE.to_string(), scope.clone())]);
        let floor =
            engine_floor::paused(&docker, &format!("{scope}-floor"), labels.clone()).await?;
        for round in 0..settings.rounds {
            // Alternate which goes first, so drift does not favour one side.
            let order = if round % 2 == 0 {
                ["warm", "cold"]
            } else {
                ["cold", "warm"]
            };
            for name in order {
                timings.take();
                let elapsed = call(&client, &url, name).await?;
                let steps = timings.take();
                match name {
                    "warm" => (report.warm.push(elapsed), report.warm_steps.push(steps)),
                    _ => (report.cold.push(elapsed), report.cold_steps.push(steps)),
                };
                provider.scale(&function(name), 0).await?;
            }
            report.baseline.push(call(&client, &url, "hot").await?);
            let began = Instant::now();
            docker.unpause_container(&floor.id).await?;
            report.unpause.push(began.elapsed());
            until_healthy(floor.addr).await?;
            report.unpause_health.push(began.elapsed());
            docker.pause_container(&floor.id).await?;
            let began = Instant::now();
            let fresh =
                engine_floor::create(&docker, &format!("{scope}-fresh{round}"), labels.clone())
                    .await?;
            docker.start_container(&fresh.id, None).await?;
            until_healthy(fresh.addr).await?;
            report.create_start_health.push(began.elapsed());
            engine_floor::remove(&docker, &fresh.id).await;
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
