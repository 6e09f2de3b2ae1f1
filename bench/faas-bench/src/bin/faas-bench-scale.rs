//! `faas-bench-scale`: the federation and provider-memory with many functions (issue 18, item
//! 4), measured in one run, each server in its own child process on 127.0.0.1:
//!
//! - **RSS per idle function**: the resident memory a server gains while `--functions`
//!   functions are deployed into it (after a warm-up deploy of `--warm` functions, so
//!   connections and allocator pools are already there), divided by their number; for
//!   provider-memory, the federation over its in-process memory backend, and the federation
//!   and its backends over remote memory backends. Goal ≤ 4 KiB.
//! - **List p50**: `GET /system/functions` of all the functions through the federation over
//!   `--backends` remote memory backends (functions spread evenly by annotation). Goal
//!   ≤ 30 ms; baselines: one backend listing its own share, and provider-memory listing them
//!   all.
//! - **Deploys/s**: the `--functions` deploys over `--concurrency` connections, through the
//!   federation (remote backends, and in-process), against provider-memory directly. Goal
//!   ≥ 2,000/s.
//!
//! Nothing is asserted on the numbers (the answers are checked: every deploy 2xx, every list
//! complete); they are printed as a table with the goals and ratios beside them.

use std::time::Duration;

use anyhow::Context;
use clap::Parser;
use faas_bench::scale::{self, Child, Serve};

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Per-function memory, list latency and deploy rate at scale.
#[derive(Debug, Parser)]
#[command(version, about)]
struct Args {
    /// Functions deployed into each target (after the warm-up ones).
    #[arg(long, default_value_t = 10_000)]
    functions: usize,
    /// Functions deployed first, before the memory is read.
    #[arg(long, default_value_t = 300)]
    warm: usize,
    /// Remote memory backends behind the federation.
    #[arg(long, default_value_t = 3)]
    backends: usize,
    /// Timed list rounds per target (after two warm-up rounds).
    #[arg(long, default_value_t = 21)]
    rounds: usize,
    /// Connections deploying at once.
    #[arg(long, default_value_t = 16)]
    concurrency: usize,
    /// Internal: serve `memory` or `federation` in this process (a child of the benchmark).
    #[arg(long, hide = true)]
    serve: Option<String>,
    /// Internal: a remote backend of the served federation.
    #[arg(long, hide = true)]
    remote: Vec<String>,
}

const RSS_GOAL: f64 = 4096.0;
const LIST_GOAL: Duration = Duration::from_millis(30);
const DEPLOY_GOAL: f64 = 2000.0;

/// What one target measured.
struct Measured {
    /// RSS gained per deployed function, bytes.
    per_function: f64,
    /// Deploys per second.
    deploy_rate: f64,
    /// Median list time of every function.
    list_p50: Duration,
}

/// Deploys `warm` functions, reads the RSS of `watched`, deploys `functions` more through
/// `url`, reads the RSS again (each reading after a pause), and lists them all.
async fn measure(
    args: &Args,
    client: &reqwest::Client,
    url: &str,
    backends: usize,
    watched: &[&Child],
) -> anyhow::Result<(Measured, Vec<f64>)> {
    let settle = Duration::from_millis(500);
    scale::deploy_all(client, url, "warm", args.warm, args.concurrency, backends).await?;
    tokio::time::sleep(settle).await;
    let before: Vec<u64> = watched.iter().map(|c| c.rss()).collect::<Result<_, _>>()?;
    let took = scale::deploy_all(
        client,
        url,
        "fn",
        args.functions,
        args.concurrency,
        backends,
    )
    .await?;
    tokio::time::sleep(settle).await;
    let after: Vec<u64> = watched.iter().map(|c| c.rss()).collect::<Result<_, _>>()?;
    let per_function: Vec<f64> = before
        .iter()
        .zip(&after)
        .map(|(b, a)| a.saturating_sub(*b) as f64 / args.functions as f64)
        .collect();
    let list_p50 = scale::list_p50(client, url, args.warm + args.functions, args.rounds).await?;
    Ok((
        Measured {
            per_function: per_function[0],
            deploy_rate: args.functions as f64 / took.as_secs_f64(),
            list_p50,
        },
        per_function,
    ))
}

/// How many of `count` functions spread round-robin over `backends` land on backend 0.
fn share_of_first(count: usize, backends: usize) -> usize {
    count.div_ceil(backends)
}

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1e3)
}

fn bytes(b: f64) -> String {
    if b >= 10.0 * 1024.0 {
        format!("{:.1} KiB", b / 1024.0)
    } else {
        format!("{b:.0} B")
    }
}

async fn run(args: &Args) -> anyhow::Result<()> {
    anyhow::ensure!(args.backends > 0, "--backends must be at least 1");
    let client = scale::client();
    let total = args.warm + args.functions;

    // provider-memory alone: the baseline of every figure.
    let memory = Child::start(&Serve::Memory).await?;
    let (direct, _) = measure(args, &client, &memory.url, 0, &[&memory]).await?;
    drop(memory);

    // The federation over its in-process memory backend (`faas-federation` unconfigured).
    let local = Child::start(&Serve::FederationInProcess).await?;
    let (in_process, _) = measure(args, &client, &local.url, 0, &[&local]).await?;
    drop(local);

    // The federation over remote memory backends, functions spread evenly by annotation.
    let mut backends = Vec::new();
    for _ in 0..args.backends {
        backends.push(Child::start(&Serve::Memory).await?);
    }
    let urls = backends.iter().map(|b| b.url.clone()).collect();
    let federation = Child::start(&Serve::FederationRemote(urls)).await?;
    let mut watched = vec![&federation];
    watched.extend(backends.iter());
    let (remote, per_child) =
        measure(args, &client, &federation.url, args.backends, &watched).await?;
    let share =
        share_of_first(args.warm, args.backends) + share_of_first(args.functions, args.backends);
    let backend_p50 = scale::list_p50(&client, &backends[0].url, share, args.rounds).await?;
    let backend_per_function = per_child[1] * args.backends as f64;

    println!(
        "faas-bench-scale: {} functions (after {} warm-up ones), {} remote backends, {} list \
         rounds, {} deploy connections{}",
        args.functions,
        args.warm,
        args.backends,
        args.rounds,
        args.concurrency,
        if cfg!(debug_assertions) {
            " (DEBUG BUILD: use --release for numbers)"
        } else {
            ""
        }
    );
    println!("| figure | measured | goal | ÷ goal | baseline (same run) | ÷ baseline |");
    println!("|---|---|---|---|---|---|");
    let rss_row = |what: &str, value: f64| {
        println!(
            "| RSS per idle function, {what} | {} | ≤ 4 KiB | {:.2} | provider-memory {} | {:.2} |",
            bytes(value),
            value / RSS_GOAL,
            bytes(direct.per_function),
            value / direct.per_function.max(1.0)
        );
    };
    println!(
        "| RSS per idle function, provider-memory | {} | ≤ 4 KiB | {:.2} | - | - |",
        bytes(direct.per_function),
        direct.per_function / RSS_GOAL
    );
    rss_row("federation (in-process memory)", in_process.per_function);
    rss_row("federation over remote backends", remote.per_function);
    rss_row(
        "each remote backend (per function it holds)",
        backend_per_function,
    );
    println!(
        "| list {total} over {} remote backends, p50 | {} | ≤ {} | {:.2} | one backend's {share}: {} | {:.2} |",
        args.backends,
        ms(remote.list_p50),
        ms(LIST_GOAL),
        remote.list_p50.as_secs_f64() / LIST_GOAL.as_secs_f64(),
        ms(backend_p50),
        remote.list_p50.as_secs_f64() / backend_p50.as_secs_f64(),
    );
    let list_row = |what: &str, value: Duration| {
        println!(
            "| list {total}, {what}, p50 | {} | - | - | provider-memory's {total}: {} | {:.2} |",
            ms(value),
            ms(direct.list_p50),
            value.as_secs_f64() / direct.list_p50.as_secs_f64(),
        );
    };
    list_row("federation over remote backends", remote.list_p50);
    list_row("federation (in-process memory)", in_process.list_p50);
    let deploy_row = |what: &str, rate: f64| {
        println!(
            "| deploys/s, {what} | {rate:.0} | ≥ 2,000 | {:.2} | provider-memory {:.0}/s | {:.2} |",
            rate / DEPLOY_GOAL,
            direct.deploy_rate,
            rate / direct.deploy_rate
        );
    };
    deploy_row("federation over remote backends", remote.deploy_rate);
    deploy_row("federation (in-process memory)", in_process.deploy_rate);
    Ok(())
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("the runtime")?;
    match args.serve.as_deref() {
        None => runtime.block_on(run(&args)),
        Some("memory") => runtime.block_on(scale::run_child(Serve::Memory)),
        Some("federation") if args.remote.is_empty() => {
            runtime.block_on(scale::run_child(Serve::FederationInProcess))
        }
        Some("federation") => runtime.block_on(scale::run_child(Serve::FederationRemote(
            args.remote.clone(),
        ))),
        Some(other) => anyhow::bail!("--serve {other}: memory or federation"),
    }
}
