//! `faas-bench`: loopback invoke benchmarks, printed as a table and ratios measured in one run.
//! Build with `--release`. Example: `faas-bench federation-vs-direct --duration 5s`.

use anyhow::Context;
use clap::Parser;
use faas_bench::{Scenario, Settings};

/// The servers and load generator allocate per request; glibc malloc cost ~10% of CPU in
/// profiles, mimalloc less (the federation binary uses the same allocator).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Loopback invoke benchmarks (no timing assertions; numbers and ratios are printed).
#[derive(Debug, Parser)]
#[command(version, about)]
struct Args {
    /// Scenarios to run (default: all).
    #[arg(value_enum)]
    scenarios: Vec<Scenario>,
    /// Length of each measured phase (Go duration or seconds).
    #[arg(long, default_value = "5s", value_parser = duration)]
    duration: std::time::Duration,
    /// Slices each phase is split into, alternating between the two targets.
    #[arg(long, default_value_t = 5)]
    rounds: u32,
    /// Warm-up per target.
    #[arg(long, default_value = "500ms", value_parser = duration)]
    warmup: std::time::Duration,
    /// Upper bound on requests per phase.
    #[arg(long, default_value_t = 2_000_000)]
    max_requests: usize,
    /// Connections of the saturation phase.
    #[arg(long, default_value_t = 16)]
    concurrency: usize,
    /// Requests per second of the fixed-rate phase.
    #[arg(long, default_value_t = 1_000)]
    rate: u64,
    /// Connections of the fixed-rate phase.
    #[arg(long, default_value_t = 4)]
    rate_connections: usize,
    /// Request body size in bytes.
    #[arg(long, default_value_t = 64)]
    body_bytes: usize,
    /// Run only this target (e.g. `federation->local`), for profiling; no ratios are printed.
    #[arg(long)]
    only: Option<String>,
    /// Worker threads of the servers' runtime (default: available cores).
    #[arg(long)]
    server_threads: Option<usize>,
    /// Worker threads of the load generator's runtime.
    #[arg(long, default_value_t = 1)]
    client_threads: usize,
}

fn duration(text: &str) -> Result<std::time::Duration, String> {
    faas_provider::config::parse_duration(text)
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let faas_bench::Runtimes {
        servers,
        client,
        cores,
        server_threads,
    } = faas_bench::Runtimes::new(args.server_threads, args.client_threads)?;
    let settings = Settings {
        duration: args.duration,
        rounds: args.rounds,
        warmup: args.warmup,
        max_requests: args.max_requests,
        concurrency: args.concurrency,
        rate: args.rate,
        rate_connections: args.rate_connections,
        body_bytes: args.body_bytes,
        only: args.only,
        servers: servers.handle().clone(),
    };
    let scenarios = if args.scenarios.is_empty() {
        Scenario::ALL.to_vec()
    } else {
        args.scenarios
    };
    println!(
        "faas-bench: {cores} cores, server threads {server_threads}, client threads {}, phases {:?} in {} rounds, saturation {} conns, fixed rate {}/s over {} conns, body {} B{}",
        args.client_threads,
        settings.duration,
        settings.rounds,
        settings.concurrency,
        settings.rate,
        settings.rate_connections,
        settings.body_bytes,
        if cfg!(debug_assertions) {
            " (DEBUG BUILD: use --release for numbers)"
        } else {
            ""
        },
    );
    for scenario in scenarios {
        let report = client
            .block_on(faas_bench::run(scenario, &settings))
            .with_context(|| format!("scenario {}", scenario.name()))?;
        println!("\n{}", report.render());
    }
    Ok(())
}
