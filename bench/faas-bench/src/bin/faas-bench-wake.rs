//! `faas-bench-wake`: the first answer after a scale from zero through the federation, with a
//! warm standby vs without vs a function already up, beside the engine's bare `unpause`, and
//! the steps of each call at zero ([`faas_bench::wake`] describes each measurement). Nothing is
//! asserted; numbers are printed.
//!
//! `cargo run --release -p faas-bench --bin faas-bench-wake -- --rounds 20`

use anyhow::Context;
use clap::Parser;
use faas_bench::wake::{Timings, WakeSettings, run};
use tracing_subscriber::layer::SubscriberExt;

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Scale from zero through the federation on the real engine.
#[derive(Debug, Parser)]
#[command(version, about)]
struct Args {
    /// Rounds of every measurement.
    #[arg(long, default_value_t = 20)]
    rounds: usize,
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("the runtime")?;
    let rounds = args.rounds.clamp(1, 1000);
    let timings = Timings::default();
    tracing::subscriber::set_global_default(tracing_subscriber::registry().with(timings.clone()))
        .context("the timing layer")?;
    let report = runtime.block_on(run(&WakeSettings { rounds }, &timings))?;
    println!(
        "faas-bench-wake: provider-docker through the federation, {rounds} rounds{}",
        if cfg!(debug_assertions) {
            " (DEBUG BUILD: use --release for numbers)"
        } else {
            ""
        }
    );
    print!("{}", report.render());
    Ok(())
}
