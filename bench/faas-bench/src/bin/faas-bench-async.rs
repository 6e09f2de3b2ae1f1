//! `faas-bench-async`: asynchronous invocation through the federation, measured in one run
//! against the same number of synchronous invocations of the same memory-backed function:
//!
//! - `sync`: `POST /function/echo`, calls/s;
//! - `async (embedded)` and `async (jetstream)`: `POST /async-function/echo`, the p50/p99 time
//!   to the 202 under load (connections sending at once) and the end-to-end rate, from the
//!   first accept to the last call run (read from the function's invocation count); then the
//!   accept latency alone: `--latency-calls` accepts sent one at a time on one connection (the
//!   worker still running them), as a client sees it when the server is not saturated. Under
//!   saturation a closed loop's p50 is about connections ÷ rate, a throughput figure. The
//!   share of calls already run when the last one was accepted tells whether the worker or
//!   the accepting bounds the rate.
//!
//! Every mode runs at each of `--concurrency` (default 16 and 128 connections): a synchronous
//! call on these 2 cores is CPU-bound at 16 already, while an accept waits for JetStream to
//! store its call, so 16 closed-loop clients measure that wait rather than the rate the queue
//! sustains. The summary compares each mode's peak with the synchronous peak: throughput is
//! the rate at saturation.
//!
//! JetStream runs on a `nats-server -js` started for the run on 127.0.0.1 (Debian's
//! `nats-server`, as the tests use). A last row, `plain async-nats`, is the ceiling on that
//! server: the same stream and consumer settings as the queue, one publisher per connection
//! each awaiting its PubAck and one consumer acking each message, no HTTP and no worker.
//! Goals: accept p50 ≤ 1 ms with JetStream; end-to-end throughput at least half of the
//! synchronous one. Nothing is asserted; numbers are printed.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use anyhow::Context;
use clap::Parser;
use faas_provider::{FunctionDeployment, FunctionRef, Provider, ServerConfig};
use federation::config::NatsConfig;
use federation::queue::JetStreamSettings;
use federation::triggers::TriggerConfig;
use federation::{FederationConfig, Runtime};
use futures::StreamExt;
use prometheus_client::registry::Registry;

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Async vs sync invocation through the federation.
#[derive(Debug, Parser)]
#[command(version, about)]
struct Args {
    /// Calls per mode.
    #[arg(long, default_value_t = 3000)]
    calls: usize,
    /// Connections sending at once; every mode runs at each.
    #[arg(long, value_delimiter = ',', default_value = "16,128")]
    concurrency: Vec<usize>,
    /// Accepts sent one at a time for the unsaturated accept latency.
    #[arg(long, default_value_t = 1000)]
    latency_calls: usize,
    /// Request body size in bytes.
    #[arg(long, default_value_t = 64)]
    body_bytes: usize,
    /// Modes to run (for profiling one; the ratios need `sync`).
    #[arg(
        long,
        value_delimiter = ',',
        default_value = "sync,embedded,jetstream,plain"
    )]
    modes: Vec<Mode>,
    /// The federation's `nats_publish_batch` for the JetStream mode (1: a message per call).
    #[arg(long)]
    nats_publish_batch: Option<usize>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
enum Mode {
    Sync,
    Embedded,
    Jetstream,
    Plain,
}

struct Outcome {
    mode: &'static str,
    concurrency: usize,
    rate: f64,
    accept_p50: Option<Duration>,
    accept_p99: Option<Duration>,
    /// p50 and p99 of one-at-a-time accepts.
    alone: Option<(Duration, Duration)>,
    /// JetStream: calls per stored message under load (group commit).
    per_message: Option<f64>,
    /// Async: the share of the calls already run when the last one was accepted (near 1: the
    /// worker keeps up and accepting is what bounds the rate).
    ran_by_last_accept: Option<f64>,
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[index.min(sorted.len() - 1)]
}

/// Sends `calls` POSTs to `url` over `concurrency` workers; returns each call's latency.
async fn send_all(
    client: &reqwest::Client,
    url: &str,
    calls: usize,
    concurrency: usize,
    body: &'static [u8],
    expect: u16,
) -> anyhow::Result<Vec<Duration>> {
    let next = Arc::new(AtomicUsize::new(0));
    let workers = (0..concurrency).map(|_| {
        let client = client.clone();
        let url = url.to_string();
        let next = next.clone();
        tokio::spawn(async move {
            let mut latencies = Vec::new();
            while next.fetch_add(1, Ordering::Relaxed) < calls {
                let began = Instant::now();
                let response = client.post(&url).body(body).send().await?;
                let status = response.status().as_u16();
                response.bytes().await?;
                latencies.push(began.elapsed());
                anyhow::ensure!(status == expect, "{url} answered {status}, not {expect}");
            }
            Ok::<_, anyhow::Error>(latencies)
        })
    });
    let mut all = Vec::with_capacity(calls);
    for worker in futures::future::join_all(workers).await {
        all.extend(worker??);
    }
    Ok(all)
}

/// A federation (one in-process memory backend) with `echo` deployed, served on 127.0.0.1.
async fn start(config: FederationConfig) -> anyhow::Result<(Runtime, String)> {
    let mut registry = Registry::default();
    let runtime = Runtime::start(&config, &mut registry).await?;
    let provider = runtime.provider();
    let mut spec = FunctionDeployment::new("echo", "example/echo:1");
    spec.namespace = "openfaas-fn".into();
    provider.deploy(spec).await?;
    let function = FunctionRef::new("echo", "openfaas-fn");
    while !provider.ready(&function).await? {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let url = format!("http://{}", listener.local_addr()?);
    let app = runtime.router(&ServerConfig::default(), registry);
    tokio::spawn(async move { axum_serve(listener, app).await });
    Ok((runtime, url))
}

async fn axum_serve(listener: tokio::net::TcpListener, app: axum::Router) {
    let _ = faas_provider::server::serve_router(
        listener,
        app,
        &ServerConfig::default(),
        std::future::pending(),
    )
    .await;
}

async fn invocations(provider: &Arc<dyn Provider>) -> anyhow::Result<u64> {
    let status = provider
        .get(&FunctionRef::new("echo", "openfaas-fn"))
        .await?;
    Ok(status.invocation_count as u64)
}

async fn measure_sync(
    args: &Args,
    concurrency: usize,
    body: &'static [u8],
) -> anyhow::Result<Outcome> {
    let (_runtime, url) = start(FederationConfig::default()).await?;
    let client = client();
    send_all(
        &client,
        &format!("{url}/function/echo"),
        200,
        concurrency,
        body,
        200,
    )
    .await?;
    let began = Instant::now();
    send_all(
        &client,
        &format!("{url}/function/echo"),
        args.calls,
        concurrency,
        body,
        200,
    )
    .await?;
    Ok(Outcome {
        mode: "sync",
        concurrency,
        rate: args.calls as f64 / began.elapsed().as_secs_f64(),
        accept_p50: None,
        accept_p99: None,
        alone: None,
        per_message: None,
        ran_by_last_accept: None,
    })
}

/// Messages ever stored in the queue's `stream` (its last sequence number).
async fn stored_messages((nats_url, stream): (&str, &str)) -> anyhow::Result<u64> {
    let context = async_nats::jetstream::new(async_nats::connect(nats_url).await?);
    let mut stream = context.get_stream(stream).await?;
    Ok(stream.info().await?.state.last_sequence)
}

/// `jetstream`: the server and stream of a JetStream queue, to count its messages.
async fn measure_async(
    mode: &'static str,
    config: FederationConfig,
    jetstream: Option<(&str, String)>,
    args: &Args,
    concurrency: usize,
    body: &'static [u8],
) -> anyhow::Result<Outcome> {
    let (runtime, url) = start(config).await?;
    let provider = runtime.provider();
    let client = client();
    // Warm-up: connections, the queue, the worker.
    let warm = 200;
    send_all(
        &client,
        &format!("{url}/async-function/echo"),
        warm,
        concurrency,
        body,
        202,
    )
    .await?;
    while invocations(&provider).await? < warm as u64 {
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    let target = (warm + args.calls) as u64;
    let jetstream = jetstream
        .as_ref()
        .map(|(url, stream)| (*url, stream.as_str()));
    let messages_before = match jetstream {
        Some(stream) => Some(stored_messages(stream).await?),
        None => None,
    };
    let began = Instant::now();
    let mut accepts = send_all(
        &client,
        &format!("{url}/async-function/echo"),
        args.calls,
        concurrency,
        body,
        202,
    )
    .await?;
    let ran_by_last_accept =
        (invocations(&provider).await? - warm as u64) as f64 / args.calls as f64;
    let deadline = Instant::now() + Duration::from_secs(300);
    while invocations(&provider).await? < target {
        anyhow::ensure!(
            Instant::now() < deadline,
            "{mode}: calls did not all run in 300 s"
        );
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    let elapsed = began.elapsed();
    let per_message = match (jetstream, messages_before) {
        (Some(stream), Some(before)) => {
            let messages = stored_messages(stream).await?.saturating_sub(before);
            Some(args.calls as f64 / messages.max(1) as f64)
        }
        _ => None,
    };
    accepts.sort();
    let mut alone = send_all(
        &client,
        &format!("{url}/async-function/echo"),
        args.latency_calls,
        1,
        body,
        202,
    )
    .await?;
    alone.sort();
    let target = target + args.latency_calls as u64;
    while invocations(&provider).await? < target {
        anyhow::ensure!(
            Instant::now() < deadline,
            "{mode}: calls did not all run in 300 s"
        );
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    Ok(Outcome {
        mode,
        concurrency,
        rate: args.calls as f64 / elapsed.as_secs_f64(),
        accept_p50: Some(percentile(&accepts, 0.50)),
        accept_p99: Some(percentile(&accepts, 0.99)),
        alone: Some((percentile(&alone, 0.50), percentile(&alone, 0.99))),
        per_message,
        ran_by_last_accept: Some(ran_by_last_accept),
    })
}

/// A stored call's size for `body`: the ceiling publishes payloads as large as the queue's.
fn stored_call(body: &[u8]) -> bytes::Bytes {
    let call = federation::queue::AsyncCall {
        id: uuid::Uuid::new_v4().to_string(),
        name: "echo".into(),
        namespace: "openfaas-fn".into(),
        method: "POST".into(),
        path: "/".into(),
        query: None,
        headers: ["accept", "host", "content-length", "x-call-id"]
            .into_iter()
            .map(|name| federation::queue::Header {
                name: name.into(),
                value: b"0123456789abcdef".to_vec(),
            })
            .collect(),
        body: body.to_vec(),
        callback_url: None,
        accepted_ms: 0,
    };
    call.to_json().into()
}

/// `calls` messages through a plain async-nats publish → pull → ack loop; calls/s.
async fn plain_round(
    publisher: &async_nats::jetstream::Context,
    messages: Arc<tokio::sync::Mutex<async_nats::jetstream::consumer::pull::Stream>>,
    calls: usize,
    concurrency: usize,
    payload: &bytes::Bytes,
) -> anyhow::Result<f64> {
    let began = Instant::now();
    let acking = tokio::spawn(async move {
        let mut messages = messages.lock().await;
        for _ in 0..calls {
            let message = messages
                .next()
                .await
                .context("the pull stream ended")?
                .map_err(|error| anyhow::anyhow!(error))?;
            message
                .ack()
                .await
                .map_err(|error| anyhow::anyhow!(error))?;
        }
        Ok::<_, anyhow::Error>(())
    });
    let next = Arc::new(AtomicUsize::new(0));
    let publishers = (0..concurrency).map(|_| {
        let publisher = publisher.clone();
        let payload = payload.clone();
        let next = next.clone();
        async move {
            while next.fetch_add(1, Ordering::Relaxed) < calls {
                publisher
                    .publish("faas-bench.plain", payload.clone())
                    .await?
                    .await?;
            }
            Ok::<_, anyhow::Error>(())
        }
    });
    for published in futures::future::join_all(publishers).await {
        published?;
    }
    acking.await??;
    Ok(calls as f64 / began.elapsed().as_secs_f64())
}

/// The ceiling row: see the module docs.
async fn measure_plain(
    nats_url: &str,
    args: &Args,
    concurrency: usize,
    body: &[u8],
) -> anyhow::Result<Outcome> {
    use async_nats::jetstream::{self, consumer, stream};
    let publisher = jetstream::new(async_nats::connect(nats_url).await?);
    let context = jetstream::new(async_nats::connect(nats_url).await?);
    let stream = context
        .get_or_create_stream(stream::Config {
            name: "faas-bench-plain".into(),
            subjects: vec!["faas-bench.plain".into()],
            storage: stream::StorageType::File,
            retention: stream::RetentionPolicy::WorkQueue,
            ..Default::default()
        })
        .await?;
    let consumer: consumer::PullConsumer = stream
        .get_or_create_consumer(
            "faas-bench-plain",
            consumer::pull::Config {
                durable_name: Some("faas-bench-plain".into()),
                ack_policy: consumer::AckPolicy::Explicit,
                ..Default::default()
            },
        )
        .await?;
    let payload = stored_call(body);
    // One pull stream for both rounds: a dropped one leaves its pull request on the server,
    // which delivers to it until the request expires.
    let messages = Arc::new(tokio::sync::Mutex::new(consumer.messages().await?));
    plain_round(&publisher, messages.clone(), 200, concurrency, &payload).await?;
    let rate = plain_round(&publisher, messages, args.calls, concurrency, &payload).await?;
    Ok(Outcome {
        mode: "plain async-nats",
        concurrency,
        rate,
        accept_p50: None,
        accept_p99: None,
        alone: None,
        per_message: None,
        ran_by_last_accept: None,
    })
}

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .no_proxy()
        .pool_max_idle_per_host(64)
        .build()
        .expect("a client")
}

async fn measure(
    mode: Mode,
    args: &Args,
    concurrency: usize,
    body: &'static [u8],
    nats_url: &str,
) -> anyhow::Result<Outcome> {
    match mode {
        Mode::Sync => measure_sync(args, concurrency, body).await,
        Mode::Embedded => {
            let config = FederationConfig::default();
            measure_async("async (embedded)", config, None, args, concurrency, body).await
        }
        Mode::Jetstream => {
            let mut config = FederationConfig::default();
            // A stream of its own per run: the messages a finished run's federation pulled
            // and never acked would come back only after their ack wait.
            let mut jetstream = JetStreamSettings::new(nats_url);
            jetstream.stream = format!("faas-bench-async-{concurrency}");
            jetstream.subject = format!("faas-bench-async.{concurrency}");
            let stream = jetstream.stream.clone();
            if let Some(batch) = args.nats_publish_batch {
                jetstream.publish_batch = batch;
            }
            config.settings.nats = Some(NatsConfig {
                jetstream,
                triggers: TriggerConfig::default(),
            });
            let stream = Some((nats_url, stream));
            measure_async("async (jetstream)", config, stream, args, concurrency, body).await
        }
        Mode::Plain => measure_plain(nats_url, args, concurrency, body).await,
    }
}

fn print(args: &Args, outcomes: &[Outcome]) {
    println!(
        "faas-bench-async: {} calls per mode and concurrency, body {} B{}",
        args.calls,
        args.body_bytes,
        if cfg!(debug_assertions) {
            " (DEBUG BUILD: use --release for numbers)"
        } else {
            ""
        }
    );
    println!(
        "| mode | conns | calls/s (accept → run) | × sync, same conns | accept p50 / p99 under load | accept p50 / p99, one at a time | calls per message | run by the last accept |"
    );
    println!("|---|---|---|---|---|---|---|---|");
    let micros =
        |d: Option<Duration>| d.map_or("-".to_string(), |d| format!("{} µs", d.as_micros()));
    for outcome in outcomes {
        let sync = outcomes
            .iter()
            .find(|other| other.mode == "sync" && other.concurrency == outcome.concurrency)
            .map(|sync| sync.rate);
        println!(
            "| {} | {} | {:.0} | {} | {} / {} | {} / {} | {} | {} |",
            outcome.mode,
            outcome.concurrency,
            outcome.rate,
            sync.map_or("-".to_string(), |sync| format!(
                "{:.2}",
                outcome.rate / sync
            )),
            micros(outcome.accept_p50),
            micros(outcome.accept_p99),
            micros(outcome.alone.map(|(p50, _)| p50)),
            micros(outcome.alone.map(|(_, p99)| p99)),
            outcome
                .per_message
                .map_or("-".to_string(), |calls| format!("{calls:.1}")),
            outcome
                .ran_by_last_accept
                .map_or("-".to_string(), |ran| format!("{:.0} %", ran * 100.0)),
        );
    }
    // Throughput is the rate at saturation: each mode's best over the concurrencies run.
    let peak = |mode: &str| {
        outcomes
            .iter()
            .filter(|outcome| outcome.mode == mode)
            .max_by(|a, b| a.rate.total_cmp(&b.rate))
    };
    let Some(sync) = peak("sync") else { return };
    println!();
    println!(
        "peak sync: {:.0} calls/s at {} conns",
        sync.rate, sync.concurrency
    );
    for (mode, goal) in [
        ("async (embedded)", "goal ≥ 0.5×"),
        (
            "async (jetstream)",
            "goal ≥ 0.5×; accept p50 one at a time ≤ 1 ms",
        ),
        ("plain async-nats", "the ceiling: no HTTP, no worker"),
    ] {
        if let Some(best) = peak(mode) {
            println!(
                "peak {mode}: {:.0} calls/s at {} conns = {:.2}× peak sync ({goal})",
                best.rate,
                best.concurrency,
                best.rate / sync.rate
            );
        }
    }
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let body: &'static [u8] = Box::leak(vec![b'x'; args.body_bytes].into_boxed_slice());
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("the runtime")?;
    let nats = test_support::nats::NatsServer::start();
    let outcomes = runtime.block_on(async {
        let mut outcomes = Vec::new();
        for &concurrency in &args.concurrency {
            for mode in &args.modes {
                outcomes.push(measure(*mode, &args, concurrency, body, &nats.url()).await?);
            }
        }
        Ok::<_, anyhow::Error>(outcomes)
    })?;
    print(&args, &outcomes);
    Ok(())
}
