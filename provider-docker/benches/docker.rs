//! `cargo bench -p provider-docker --bench docker`: provider-docker on a real engine (the
//! test-support one: `DOCKER_HOST`, or a private `dockerd`), loopback only, bounded.
//!
//! 1. deploy → ready: `deploy` of the local `faas-test/echo` image until `availableReplicas` is
//!    1, several times;
//! 2. invoke: `POST /function/echo` through the provider (the real faas-provider server over
//!    `DockerProvider`) against the same request straight to the replica's watchdog, measured in
//!    the same run, alternating, at saturation and at a fixed moderate rate; prints req/s, p50,
//!    p99 and the ratios (goal: provider ≥ 90 % of direct throughput).
//!
//! Bounds (env): `DOCKER_BENCH_SECONDS` per phase (default 3), `DOCKER_BENCH_CONNECTIONS`
//! (default 8), `DOCKER_BENCH_RATE` req/s of the fixed-rate phase (default 200),
//! `DOCKER_BENCH_DEPLOYS` (default 5), `DOCKER_BENCH_ROUNDS` (default 2). Nothing is asserted.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use bench::load::{self, Measurement, Mode};
use faas_provider::{FunctionDeployment, FunctionRef, Provider, ServerConfig};
use provider_docker::{DockerConfig, DockerProvider, PullPolicy, labels};

const MAX_REQUESTS: usize = 1_000_000;
const BODY_BYTES: usize = 64;

fn env_number<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn spec(name: &str) -> FunctionDeployment {
    let mut spec = FunctionDeployment::new(name, test_support::images::ECHO.local_reference());
    spec.namespace = faas_provider::DEFAULT_NAMESPACE.into();
    spec
}

fn function(name: &str) -> FunctionRef {
    FunctionRef::new(name, faas_provider::DEFAULT_NAMESPACE)
}

/// The watchdog address of the function's only replica (its host port label).
async fn watchdog_addr(provider: &DockerProvider, name: &str) -> anyhow::Result<SocketAddr> {
    let filters = std::collections::HashMap::from([(
        "label".to_string(),
        vec![
            format!("{}={}", labels::SCOPE, provider.config().scope),
            format!("{}={name}", labels::FUNCTION),
            format!("{}=replica", labels::ROLE),
        ],
    )]);
    let options = bollard::query_parameters::ListContainersOptionsBuilder::default()
        .filters(&filters)
        .build();
    let containers = provider.docker().list_containers(Some(options)).await?;
    let port: u16 = containers
        .first()
        .and_then(|c| c.labels.as_ref()?.get(labels::PORT)?.parse().ok())
        .context("the replica's port label")?;
    Ok(SocketAddr::from(([127, 0, 0, 1], port)))
}

fn row(target: &str, phase: &str, m: &Measurement) {
    println!(
        "{target:<10} {phase:<22} {:>9.0} req/s  p50 {:>8.0} µs  p99 {:>8.0} µs  ({} requests, {} errors)",
        m.rate(),
        m.quantile_us(0.5),
        m.quantile_us(0.99),
        m.requests,
        m.errors
    );
}

/// The provider as shipped: mimalloc (see federation/src/main.rs for the measurement).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> anyhow::Result<()> {
    let seconds: f64 = env_number("DOCKER_BENCH_SECONDS", 3.0);
    let phase = Duration::from_secs_f64(seconds.clamp(0.2, 60.0));
    let connections: usize = env_number("DOCKER_BENCH_CONNECTIONS", 8).clamp(1, 256);
    let rate: u64 = env_number("DOCKER_BENCH_RATE", 200).clamp(1, 100_000);
    let deploys: usize = env_number("DOCKER_BENCH_DEPLOYS", 5).clamp(1, 50);
    let rounds: usize = env_number("DOCKER_BENCH_ROUNDS", 2).clamp(1, 10);

    let servers = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name("bench-server")
        .enable_all()
        .build()?;
    let client = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .thread_name("bench-client")
        .enable_all()
        .build()?;

    let engine = test_support::docker_engine();
    let images = test_support::images::build_all();
    let state = tempfile::tempdir()?;
    let provider = servers.block_on(async {
        let docker = engine.client().await;
        test_support::push::docker_load(&docker, images, None)
            .await
            .context("loading the test images")?;
        let mut config = DockerConfig::new(Some(engine.host().to_string()), state.path());
        config.scope = format!("bench{}", &uuid::Uuid::new_v4().simple().to_string()[..8]);
        config.pull_policy = PullPolicy::IfNotPresent;
        DockerProvider::connect(config)
            .await
            .context("connecting to the engine")
    })?;

    println!("provider-docker benchmark on {} (loopback)", engine.host());
    println!();
    println!("deploy → ready (local image {}):", spec("x").image);
    let mut times = Vec::new();
    for i in 0..deploys {
        let name = format!("ready-{i}");
        let elapsed = servers.block_on(async {
            let started = Instant::now();
            provider.deploy(spec(&name)).await?;
            loop {
                if provider.get(&function(&name)).await?.available_replicas >= 1 {
                    break;
                }
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
            let elapsed = started.elapsed();
            provider.delete(&function(&name)).await?;
            anyhow::Ok(elapsed)
        })?;
        times.push(elapsed);
    }
    times.sort();
    let ms = |d: &Duration| d.as_secs_f64() * 1000.0;
    println!(
        "  {} deploys: min {:.0} ms, median {:.0} ms, max {:.0} ms",
        times.len(),
        ms(&times[0]),
        ms(&times[times.len() / 2]),
        ms(&times[times.len() - 1])
    );

    // The function the load generator calls (`/function/echo`).
    let name = bench::servers::FUNCTION;
    let (provider_addr, direct_addr, stop) = servers.block_on(async {
        provider.deploy(spec(name)).await?;
        let direct = watchdog_addr(&provider, name).await?;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let served: Arc<dyn Provider> = Arc::new(provider.clone());
        tokio::spawn(async move {
            let shutdown = async {
                let _ = stopped.await;
            };
            if let Err(e) =
                faas_provider::server::serve(listener, served, &ServerConfig::default(), shutdown)
                    .await
            {
                eprintln!("provider server: {e}");
            }
        });
        anyhow::Ok((addr, direct, stop))
    })?;

    println!();
    println!(
        "invoke POST /function/{name} ({BODY_BYTES}-byte body, fprocess=cat): provider {provider_addr} vs watchdog {direct_addr}"
    );
    let run = |addr: SocketAddr, mode: Mode, duration: Duration| {
        client.block_on(load::run(addr, mode, duration, MAX_REQUESTS, BODY_BYTES))
    };
    // Warm both paths (connections, pools, page cache).
    run(
        direct_addr,
        Mode::Saturation { connections },
        Duration::from_millis(300),
    )?;
    run(
        provider_addr,
        Mode::Saturation { connections },
        Duration::from_millis(300),
    )?;

    let mut direct_sat = Measurement::default();
    let mut provider_sat = Measurement::default();
    let mut direct_rate = Measurement::default();
    let mut provider_rate = Measurement::default();
    for round in 0..rounds {
        // Alternate which goes first, so drift does not favour one side.
        let order = if round % 2 == 0 {
            [(true, direct_addr), (false, provider_addr)]
        } else {
            [(false, provider_addr), (true, direct_addr)]
        };
        for (direct, addr) in order {
            let m = run(addr, Mode::Saturation { connections }, phase)?;
            row(
                if direct { "direct" } else { "provider" },
                &format!("saturation c={connections}"),
                &m,
            );
            if direct {
                direct_sat.merge(m)
            } else {
                provider_sat.merge(m)
            }
        }
        for (direct, addr) in order {
            let m = run(
                addr,
                Mode::FixedRate {
                    rate,
                    connections: 4,
                },
                phase,
            )?;
            row(
                if direct { "direct" } else { "provider" },
                &format!("fixed {rate} req/s"),
                &m,
            );
            if direct {
                direct_rate.merge(m)
            } else {
                provider_rate.merge(m)
            }
        }
    }
    let errors =
        direct_sat.errors + provider_sat.errors + direct_rate.errors + provider_rate.errors;

    println!();
    println!("ratios (provider / direct, same run):");
    println!(
        "  throughput at saturation: {:.1} %   (goal ≥ 90 %)",
        100.0 * provider_sat.rate() / direct_sat.rate()
    );
    println!(
        "  p99 at saturation: {:.2}x ({:.0} µs vs {:.0} µs)",
        provider_sat.quantile_us(0.99) / direct_sat.quantile_us(0.99),
        provider_sat.quantile_us(0.99),
        direct_sat.quantile_us(0.99)
    );
    println!(
        "  added latency at {rate} req/s: p50 +{:.0} µs, p99 +{:.0} µs",
        provider_rate.quantile_us(0.5) - direct_rate.quantile_us(0.5),
        provider_rate.quantile_us(0.99) - direct_rate.quantile_us(0.99)
    );
    println!("  errors: {errors}");

    servers.block_on(async {
        let _ = stop.send(());
        provider.delete(&function(name)).await
    })?;
    drop(provider);
    drop(engine);
    if errors > 0 {
        bail!("{errors} requests failed");
    }
    Ok(())
}
