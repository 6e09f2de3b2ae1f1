//! Invoke overhead of the provider path vs calling the emulator directly, in one run.
//!
//! Setup: local mode on moto with the `echo` test image (`fprocess=cat`) packaged for real.
//! Two targets, alternated round by round, same payload, sequential calls over loopback HTTP:
//!
//! - **provider**: `POST /function/echo` on the served provider (OpenFaaS server → LambdaProvider
//!   → API GW v2 event → local emulator → response mapped back);
//! - **direct**: a second emulator over the same extracted code, called with Lambda's Invoke wire
//!   format (`POST /2015-03-31/functions/{name}/invocations`) and the same event.
//!
//! Prints p50/p99 per target, the ratio of medians and the added p50/p99.
//! `cargo bench -p provider-lambda --bench invoke -- --calls 500 --rounds 3`;
//! `tests/local_mode_bench_smoke.rs` runs it tiny so it cannot rot.

#[path = "../tests/provider_common.rs"]
mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use faas_provider::{FunctionDeployment, Provider};
use lambda_emulator::{Emulator, EmulatorConfig};

/// How much to measure.
#[derive(Debug, Clone, Copy)]
pub struct Settings {
    /// Calls per target per round.
    pub calls: usize,
    /// Rounds (targets alternate each round).
    pub rounds: usize,
}

/// Latencies of both targets.
#[derive(Debug, Default)]
pub struct Report {
    /// Provider path latencies.
    pub provider: Vec<Duration>,
    /// Direct emulator latencies.
    pub direct: Vec<Duration>,
}

fn percentile(samples: &[Duration], p: f64) -> Duration {
    let mut sorted = samples.to_vec();
    sorted.sort();
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[index.min(sorted.len() - 1)]
}

impl Report {
    /// p50 of the provider over p50 direct.
    pub fn ratio(&self) -> f64 {
        percentile(&self.provider, 0.5).as_secs_f64() / percentile(&self.direct, 0.5).as_secs_f64()
    }

    /// The table.
    pub fn render(&self) -> String {
        let us = |d: Duration| d.as_secs_f64() * 1e6;
        let mut out = format!(
            "{:<10} {:>8} {:>12} {:>12}\n",
            "target", "calls", "p50 µs", "p99 µs"
        );
        for (name, samples) in [("provider", &self.provider), ("direct", &self.direct)] {
            out.push_str(&format!(
                "{:<10} {:>8} {:>12.0} {:>12.0}\n",
                name,
                samples.len(),
                us(percentile(samples, 0.5)),
                us(percentile(samples, 0.99))
            ));
        }
        let added = |p| us(percentile(&self.provider, p)) - us(percentile(&self.direct, p));
        out.push_str(&format!(
            "RATIO provider/direct p50: {:.2}x; added by the provider: p50 {:.0} µs, p99 {:.0} µs\n",
            self.ratio(),
            added(0.5),
            added(0.99)
        ));
        out
    }
}

/// Runs the benchmark.
pub async fn run(settings: &Settings) -> anyhow::Result<Report> {
    let setup = common::local_setup().await;
    let image = setup.image(&test_support::images::ECHO);
    setup
        .provider
        .deploy(FunctionDeployment::new("echo", image))
        .await
        .context("deploying echo")?;
    let provider: Arc<dyn Provider> = Arc::new(setup.provider.clone());
    let (url, _stop) = common::serve(provider).await;

    // The same code, run by an emulator of its own.
    let code_root = setup.cache.path().join("echo");
    let task_dir = std::fs::read_dir(&code_root)?
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .find(|p| p.join("bootstrap").is_file())
        .context("the extracted code of echo")?;
    let mut config = EmulatorConfig::new("echo-direct", &task_dir);
    config.timeout = Duration::from_secs(30);
    let emulator = Emulator::start(config).await?;
    let direct_url = format!(
        "{}/2015-03-31/functions/echo-direct/invocations",
        emulator.invoke_url()
    );

    let body = "hello from the invoke bench";
    let request = http::Request::builder()
        .method("POST")
        .uri("/")
        .header("content-type", "text/plain")
        .header("host", "127.0.0.1")
        .body(())?;
    let (parts, ()) = request.into_parts();
    let event = serde_json::to_vec(&lambda_shim::event::event_from_request(
        &parts,
        body.as_bytes(),
        "bench",
    ))?;

    let client = reqwest::Client::new();
    let provider_call = || async {
        let started = Instant::now();
        let response = client
            .post(format!("{url}/function/echo"))
            .header("content-type", "text/plain")
            .body(body)
            .send()
            .await?;
        anyhow::ensure!(
            response.status() == 200,
            "provider answered {}",
            response.status()
        );
        let text = response.text().await?;
        anyhow::ensure!(text == body, "provider answered {text:?}");
        Ok::<_, anyhow::Error>(started.elapsed())
    };
    let direct_call = || async {
        let started = Instant::now();
        let response = client.post(&direct_url).body(event.clone()).send().await?;
        anyhow::ensure!(
            response.status() == 200,
            "emulator answered {}",
            response.status()
        );
        let payload = response.bytes().await?;
        let mapped = lambda_shim::event::response_from_payload(&payload)?;
        anyhow::ensure!(mapped.body() == body, "emulator answered {payload:?}");
        Ok::<_, anyhow::Error>(started.elapsed())
    };
    // Warm both (first invokes start the environments).
    provider_call().await?;
    direct_call().await?;

    let mut report = Report::default();
    for round in 0..settings.rounds {
        let provider_first = round % 2 == 0;
        for pass in 0..2 {
            if (pass == 0) == provider_first {
                for _ in 0..settings.calls {
                    report.provider.push(provider_call().await?);
                }
            } else {
                for _ in 0..settings.calls {
                    report.direct.push(direct_call().await?);
                }
            }
        }
    }
    emulator.stop().await;
    Ok(report)
}

#[allow(dead_code)]
fn main() -> anyhow::Result<()> {
    let mut settings = Settings {
        calls: 300,
        rounds: 3,
    };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--calls" => settings.calls = args.next().context("--calls N")?.parse()?,
            "--rounds" => settings.rounds = args.next().context("--rounds N")?.parse()?,
            // cargo bench passes --bench; ignore it and other harness flags.
            _ => {}
        }
    }
    let runtime = tokio::runtime::Runtime::new()?;
    let report = runtime.block_on(run(&settings))?;
    print!("{}", report.render());
    Ok(())
}
