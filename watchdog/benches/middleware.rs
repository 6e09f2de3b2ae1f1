//! `cargo bench -p watchdog --bench middleware`: what `SLSMIDDLEWARES` adds to a call.
//!
//! Three watchdogs in this process (the library's [`watchdog::serve`] on 127.0.0.1, serializing
//! mode, `fprocess=cat`), with 0, 1 and 3 no-op middlewares (`#!/bin/sh` + `exec cat`: each hook
//! is a process start, `before` and `after`, so one middleware is two process starts per call).
//! One keep-alive client calls them in turn, round after round (the order rotates, so drift does
//! not favour one), with a small JSON body. Reported: p50 and p90 per configuration, the ratio
//! to 0 middlewares measured in the same run, and the added time per middleware
//! ((p50(k) − p50(0)) / k). Goal (issue 17): report the added time per hook, p50; no threshold.
//!
//! Rounds: `MIDDLEWARE_BENCH_ROUNDS` (default 200). Nothing is asserted;
//! `tests/middleware_bench_smoke.rs` runs it with two rounds so it cannot rot.

use std::os::unix::fs::PermissionsExt;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use bench::quantile_ms;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use watchdog::{Mode, Watchdog, WatchdogConfig};

/// The middleware counts measured.
pub const COUNTS: [usize; 3] = [0, 1, 3];

/// What to run.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Calls per configuration.
    pub rounds: usize,
}

/// Call times per configuration, in [`COUNTS`] order.
#[derive(Debug, Default)]
pub struct Report {
    /// `times[i]`: calls through a watchdog with `COUNTS[i]` middlewares.
    pub times: [Vec<Duration>; 3],
}

impl Report {
    /// p50 of the configuration with `count` middlewares, in ms.
    pub fn p50(&self, count: usize) -> f64 {
        let i = COUNTS.iter().position(|c| *c == count).unwrap_or(0);
        quantile_ms(&self.times[i], 0.5)
    }

    /// The table printed by the bench.
    pub fn render(&self) -> String {
        let base = self.p50(0);
        let mut out =
            String::from("invocation through the watchdog (serializing, fprocess=cat):\n");
        for (i, count) in COUNTS.iter().enumerate() {
            let times = &self.times[i];
            out.push_str(&format!(
                "  {count} middleware(s)   p50 {:>8.2} ms  p90 {:>8.2} ms  ({} calls)  RATIO vs 0: {:.2}x\n",
                quantile_ms(times, 0.5),
                quantile_ms(times, 0.9),
                times.len(),
                quantile_ms(times, 0.5) / base,
            ));
        }
        for count in [1, 3] {
            out.push_str(&format!(
                "  added per middleware (before + after), {count} listed: {:.2} ms p50\n",
                (self.p50(count) - base) / count as f64
            ));
        }
        out.push_str("  (goal, issue 17: report the added time per hook, p50; no threshold)\n");
        out
    }
}

/// A watchdog with `count` no-op middlewares from `dir`, served on a fresh loopback port.
async fn serve(
    dir: &std::path::Path,
    count: usize,
) -> anyhow::Result<(String, oneshot::Sender<()>)> {
    let mut config = WatchdogConfig::new(Mode::Serializing, vec!["cat".into()]);
    config.suppress_lock = true;
    config.middleware_dir = dir.to_path_buf();
    config.middlewares = (0..count).map(|i| format!("noop{i}")).collect();
    let watchdog = Watchdog::new(config)?;
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let url = format!("http://{}/", listener.local_addr()?);
    let (stop, stopped) = oneshot::channel::<()>();
    tokio::spawn(async move {
        let shutdown = async {
            let _ = stopped.await;
        };
        if let Err(e) = watchdog::serve(listener, watchdog, shutdown).await {
            eprintln!("watchdog stopped: {e}");
        }
    });
    Ok((url, stop))
}

/// One call; its time.
async fn call(client: &reqwest::Client, url: &str) -> anyhow::Result<Duration> {
    let started = Instant::now();
    let response = client
        .post(url)
        .header("content-type", "application/json")
        .body(r#"{"hello":"world"}"#)
        .send()
        .await?;
    let status = response.status();
    let body = response.bytes().await?;
    let elapsed = started.elapsed();
    if status != 200 || body.as_ref() != br#"{"hello":"world"}"# {
        bail!("{url}: {status} {}", String::from_utf8_lossy(&body));
    }
    Ok(elapsed)
}

/// Run the whole bench.
pub async fn run(settings: &Settings) -> anyhow::Result<Report> {
    let dir = tempfile::tempdir()?;
    for i in 0..3 {
        let path = dir.path().join(format!("noop{i}"));
        std::fs::write(&path, "#!/bin/sh\nexec cat\n")?;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755))?;
    }
    let mut targets = Vec::new();
    for count in COUNTS {
        targets.push(serve(dir.path(), count).await?);
    }
    let client = reqwest::Client::builder().no_proxy().build()?;
    // Warm up each (connection, page cache of sh and cat), unmeasured; retried while the
    // listener's task starts the watchdog.
    for (url, _) in &targets {
        let deadline = Instant::now() + Duration::from_secs(30);
        while call(&client, url).await.is_err() {
            if Instant::now() > deadline {
                bail!("{url} never answered");
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
    let mut report = Report::default();
    for round in 0..settings.rounds {
        for k in 0..COUNTS.len() {
            let i = (round + k) % COUNTS.len();
            let elapsed = call(&client, &targets[i].0)
                .await
                .with_context(|| format!("{} middleware(s), round {round}", COUNTS[i]))?;
            report.times[i].push(elapsed);
        }
    }
    for (_, stop) in targets {
        let _ = stop.send(());
    }
    Ok(report)
}

fn main() -> anyhow::Result<()> {
    let rounds = std::env::var("MIDDLEWARE_BENCH_ROUNDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(200usize)
        .clamp(1, 100_000);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    let report = runtime.block_on(run(&Settings { rounds }))?;
    println!("watchdog middleware benchmark (loopback, {rounds} rounds)");
    print!("{}", report.render());
    Ok(())
}
