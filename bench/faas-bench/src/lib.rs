//! # faas-bench
//!
//! Loopback benchmarks of the invoke path, reported as **ratios measured in the same run** (so
//! they survive a noisy or slow machine better than absolute numbers):
//!
//! - [`Scenario::MemoryVsEcho`] (issue 3): `POST /function/echo` through the memory provider
//!   behind the real faas-provider server, against a bare hyper server doing the same work
//!   (read the request, answer the same JSON echo).
//! - [`Scenario::FederationVsDirect`] (issue 8): the same invocation through `faas-federation`
//!   (router + `FederatedProvider` + `HttpProvider`) to a remote memory provider, against the
//!   memory provider directly. Goals: ≥ 50 % of the direct throughput at saturation, ≤ 150 µs
//!   added p50 latency at a moderate fixed rate. A third target, the federation over an
//!   in-process memory backend, shows the federation layer's own cost apart from the remote hop.
//!
//! Each target gets a saturation phase (closed loop over `concurrency` connections) and a
//! fixed-rate phase (`rate` requests/s over `rate_connections` connections); phases are bounded
//! by `duration` and `max_requests`. Servers run on their own runtime, the load on another.
//! Nothing here asserts on timings: the numbers are printed.

//!
//! The load generator and the servers without the federation are the `bench` crate's (shared
//! with the providers' own benchmarks); the federation's targets are [`federation_targets`].

#![warn(missing_docs)]

pub mod federation_targets;
pub mod scale;
pub mod wake;

use std::fmt::Write as _;
use std::time::Duration;

use bench::{load, servers};
use tokio::runtime::Handle;

pub use bench::{Measurement, Mode};

/// Which comparison to run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Scenario {
    /// Memory provider (real server) vs a bare hyper echo server.
    MemoryVsEcho,
    /// Federation → remote memory provider vs the memory provider directly.
    FederationVsDirect,
}

impl Scenario {
    /// Every scenario.
    pub const ALL: [Scenario; 2] = [Scenario::MemoryVsEcho, Scenario::FederationVsDirect];

    /// Its command-line name.
    pub fn name(self) -> &'static str {
        match self {
            Self::MemoryVsEcho => "memory-vs-echo",
            Self::FederationVsDirect => "federation-vs-direct",
        }
    }

    /// Its targets: the baseline first, then what is compared with it.
    pub fn targets(self) -> &'static [&'static str] {
        match self {
            Self::MemoryVsEcho => &["bare-echo", "memory-provider"],
            // `federation->local` (an in-process backend) separates the federation layer's
            // own cost from the remote hop's.
            Self::FederationVsDirect => {
                &["memory-direct", "federation->memory", "federation->local"]
            }
        }
    }

    /// The goals (throughput ratio, added p50) a target is read against (informational).
    fn goals(self, target: &str) -> (Option<&'static str>, Option<&'static str>) {
        match (self, target) {
            (Self::FederationVsDirect, "federation->memory") => (Some("≥ 0.50"), Some("≤ 150 µs")),
            _ => (None, None),
        }
    }

    async fn start(self, target: &str, servers: &Handle) -> anyhow::Result<servers::Server> {
        match target {
            "bare-echo" => servers::bare_echo(servers).await,
            "memory-provider" | "memory-direct" => servers::memory(servers).await,
            "federation->memory" => federation_targets::federation_over_memory(servers).await,
            "federation->local" => federation_targets::federation_in_process(servers).await,
            other => anyhow::bail!("unknown target {other}"),
        }
    }
}

/// How hard and how long to load.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Length of each measured phase (all rounds together).
    pub duration: Duration,
    /// Slices each phase is split into, alternating between the targets.
    pub rounds: u32,
    /// Warm-up per target before measuring (connections, caches, allocator).
    pub warmup: Duration,
    /// Upper bound on requests per phase.
    pub max_requests: usize,
    /// Connections of the saturation phase.
    pub concurrency: usize,
    /// Requests per second of the fixed-rate phase.
    pub rate: u64,
    /// Connections of the fixed-rate phase.
    pub rate_connections: usize,
    /// Request body size.
    pub body_bytes: usize,
    /// Run only this target of the scenario (for profiling one target; no ratios then).
    pub only: Option<String>,
    /// Where the servers run (the load runs on the caller's runtime).
    pub servers: Handle,
}

impl Settings {
    /// Defaults (5 s phases in 5 rounds, 16 connections, 1000 req/s over 4 connections,
    /// 64-byte bodies) with servers on `servers`.
    pub fn new(servers: Handle) -> Self {
        Self {
            duration: Duration::from_secs(5),
            rounds: 5,
            warmup: Duration::from_millis(500),
            max_requests: 2_000_000,
            concurrency: 16,
            rate: 1_000,
            rate_connections: 4,
            body_bytes: 64,
            only: None,
            servers,
        }
    }
}

/// One phase on one target.
#[derive(Debug, Clone)]
pub struct PhaseResult {
    /// The target's name.
    pub target: &'static str,
    /// `saturation` or `rate <n>/s`.
    pub phase: String,
    /// What was measured.
    pub measurement: Measurement,
}

/// A ratio or difference computed from the phases of one run.
#[derive(Debug, Clone, PartialEq)]
pub struct Ratio {
    /// What it compares.
    pub name: String,
    /// Its value.
    pub value: f64,
    /// Its unit (`x` for ratios, `µs` for differences).
    pub unit: &'static str,
    /// The goal it is read against, if any (informational; never asserted).
    pub goal: Option<&'static str>,
}

/// A scenario's results.
#[derive(Debug, Clone)]
pub struct Report {
    /// Which scenario.
    pub scenario: Scenario,
    /// Every phase, by phase then target.
    pub phases: Vec<PhaseResult>,
    /// The comparisons with the baseline.
    pub ratios: Vec<Ratio>,
}

/// Runs `scenario`: starts its targets, loads each (saturation, then fixed rate; every phase in
/// rounds alternating between targets), and compares them with the baseline.
pub async fn run(scenario: Scenario, settings: &Settings) -> anyhow::Result<Report> {
    let mut targets = Vec::new();
    for name in scenario.targets() {
        if settings.only.as_deref().is_some_and(|only| only != *name) {
            continue;
        }
        targets.push((*name, scenario.start(name, &settings.servers).await?));
    }
    anyhow::ensure!(
        !targets.is_empty(),
        "no target of {} is named {:?} (targets: {})",
        scenario.name(),
        settings.only,
        scenario.targets().join(", ")
    );
    let saturation = Mode::Saturation {
        connections: settings.concurrency,
    };
    let fixed = Mode::FixedRate {
        rate: settings.rate,
        connections: settings.rate_connections,
    };
    for (_, server) in &targets {
        // Warm-up, discarded.
        load::run(
            server.addr,
            saturation,
            settings.warmup,
            settings.max_requests,
            settings.body_bytes,
        )
        .await?;
    }
    let rounds = settings.rounds.max(1);
    let slice = settings.duration / rounds;
    let per_slice = settings.max_requests.div_ceil(rounds as usize);
    let mut phases: Vec<PhaseResult> = Vec::new();
    for (mode, phase) in [
        (saturation, "saturation".to_string()),
        (fixed, format!("rate {}/s", settings.rate)),
    ] {
        let first = phases.len();
        for (name, _) in &targets {
            phases.push(PhaseResult {
                target: name,
                phase: phase.clone(),
                measurement: Measurement::default(),
            });
        }
        for _ in 0..rounds {
            for (i, (_, server)) in targets.iter().enumerate() {
                let measured =
                    load::run(server.addr, mode, slice, per_slice, settings.body_bytes).await?;
                phases[first + i].measurement.merge(measured);
            }
        }
    }
    let ratios = compare(scenario, &phases);
    Ok(Report {
        scenario,
        phases,
        ratios,
    })
}

fn compare(scenario: Scenario, phases: &[PhaseResult]) -> Vec<Ratio> {
    let find = |target: &str, saturation: bool| {
        phases
            .iter()
            .find(|p| p.target == target && (p.phase == "saturation") == saturation)
            .map(|p| &p.measurement)
    };
    let targets = scenario.targets();
    let baseline = targets[0];
    let (Some(base_sat), Some(base_rate)) = (find(baseline, true), find(baseline, false)) else {
        return Vec::new();
    };
    let mut ratios = Vec::new();
    for subject in &targets[1..] {
        let (Some(sat), Some(rate)) = (find(subject, true), find(subject, false)) else {
            continue;
        };
        let (throughput_goal, p50_goal) = scenario.goals(subject);
        ratios.extend([
            Ratio {
                name: format!("throughput {subject} / {baseline} (saturation)"),
                value: sat.rate() / base_sat.rate(),
                unit: "x",
                goal: throughput_goal,
            },
            Ratio {
                name: format!("p50 added by {subject} (fixed rate)"),
                value: rate.quantile_us(0.5) - base_rate.quantile_us(0.5),
                unit: "µs",
                goal: p50_goal,
            },
            Ratio {
                name: format!("p99 added by {subject} (fixed rate)"),
                value: rate.quantile_us(0.99) - base_rate.quantile_us(0.99),
                unit: "µs",
                goal: None,
            },
            Ratio {
                name: format!("p50 {subject} / {baseline} (fixed rate)"),
                value: rate.quantile_us(0.5) / base_rate.quantile_us(0.5),
                unit: "x",
                goal: None,
            },
            Ratio {
                name: format!("p50 {subject} / {baseline} (saturation)"),
                value: sat.quantile_us(0.5) / base_sat.quantile_us(0.5),
                unit: "x",
                goal: None,
            },
        ]);
    }
    ratios
}

impl Report {
    /// The table and the RATIOS lines.
    pub fn render(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(out, "scenario {}", self.scenario.name());
        let _ = writeln!(
            out,
            "{:<20} {:<12} {:>9} {:>6} {:>10} {:>9} {:>9} {:>9} {:>9}",
            "target",
            "phase",
            "requests",
            "errors",
            "req/s",
            "p50 µs",
            "p90 µs",
            "p99 µs",
            "max µs"
        );
        for p in &self.phases {
            let m = &p.measurement;
            let _ = writeln!(
                out,
                "{:<20} {:<12} {:>9} {:>6} {:>10.0} {:>9.1} {:>9.1} {:>9.1} {:>9.1}",
                p.target,
                p.phase,
                m.requests,
                m.errors,
                m.rate(),
                m.quantile_us(0.5),
                m.quantile_us(0.9),
                m.quantile_us(0.99),
                m.quantile_us(1.0),
            );
        }
        for r in &self.ratios {
            let goal = r
                .goal
                .as_ref()
                .map(|g| format!("   (goal {g})"))
                .unwrap_or_default();
            let value = if r.unit == "x" {
                format!("{:.2}x", r.value)
            } else {
                format!("{:+.1} µs", r.value)
            };
            let _ = writeln!(out, "RATIO {:<62} {value}{goal}", r.name);
        }
        out
    }
}

/// The two runtimes of a bench binary, kept apart so that each side's threads are its own:
/// the servers' and the load generator's.
#[derive(Debug)]
pub struct Runtimes {
    /// Runs the servers under test.
    pub servers: tokio::runtime::Runtime,
    /// Runs the load generator.
    pub client: tokio::runtime::Runtime,
    /// Available cores.
    pub cores: usize,
    /// Worker threads of `servers`.
    pub server_threads: usize,
}

impl Runtimes {
    /// `server_threads` (default: the available cores) and `client_threads` worker threads.
    pub fn new(server_threads: Option<usize>, client_threads: usize) -> anyhow::Result<Self> {
        use anyhow::Context as _;
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        let server_threads = server_threads.unwrap_or(cores).max(1);
        let servers = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(server_threads)
            .thread_name("bench-server")
            .enable_all()
            .build()
            .context("the servers' runtime")?;
        let client = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(client_threads.max(1))
            .thread_name("bench-client")
            .enable_all()
            .build()
            .context("the load generator's runtime")?;
        Ok(Self {
            servers,
            client,
            cores,
            server_threads,
        })
    }
}
