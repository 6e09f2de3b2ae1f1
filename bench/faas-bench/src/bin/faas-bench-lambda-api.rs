//! `faas-bench-lambda-api`: `Invoke` through the federation's Lambda API
//! (`POST /2015-03-31/functions/echo/invocations`) against `POST /function/echo` of the same
//! memory-backed function of the same federation, measured in one run. Goal (issue 16): `Invoke`
//! at ≥ 0.9× the throughput of `/function`, with signature checking off and on.
//!
//! One federation (`faas-federation`'s runtime: the scaler over an in-process memory backend
//! holding `echo`) is served twice on 127.0.0.1: its own router (the OpenFaaS routes and the
//! Lambda API without credentials) and the Lambda API with one access key configured (every
//! request's SigV4 signature checked). Targets, loaded at saturation in rounds alternating
//! between them:
//!
//! - `/function`: the baseline;
//! - `invoke`: `Invoke`, unsigned, signatures not checked;
//! - `invoke signed, unchecked`: `Invoke` signed by the client, to the server that does not
//!   check: the client's own signing cost on the load generator, apart from the server's;
//! - `invoke signed`: `Invoke` signed by the client, every signature checked by the server;
//! - `invoke presigned`: `Invoke` signed by the client before each round starts (as clients on
//!   other machines would: their signing costs the server nothing), every request's signature
//!   checked by the server. This is the server's throughput with checking on, the figure the
//!   goal is about; `invoke signed` adds the client's signing on the same 2 cores.
//!
//! In `invoke signed` the client signs each request as the AWS SDKs do (aws-sigv4, header form,
//! the body's SHA-256, the time of the request). In `invoke presigned` one signature per round
//! (taken within a second of the round's start, well inside the 15 minutes a signature is
//! valid) is sent with every request of the round; the server has no replay cache, so it checks
//! each in full. The signing cost per request is also measured alone, on one thread, and printed
//! with the share of the load generator it takes at the measured rate. Nothing is asserted;
//! numbers are printed.

use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use anyhow::Context;
use aws_credential_types::Credentials;
use aws_sigv4::http_request::{SignableBody, SignableRequest, SigningSettings, sign};
use aws_sigv4::sign::v4;
use aws_smithy_runtime_api::client::identity::Identity;
use bench::load::{self, MakeRequest, Measurement, Mode};
use bench::servers::{self, FUNCTION, NAMESPACE, Server, serve_app};
use bytes::Bytes;
use clap::Parser;
use faas_provider::{FunctionDeployment, FunctionRef};
use federation::lambda_api::{self, LambdaApiConfig};
use federation::{FederationConfig, Runtime};
use http::HeaderValue;
use http::header::{CONTENT_LENGTH, CONTENT_TYPE, HOST};
use http_body_util::Full;
use prometheus_client::registry::Registry;
use tokio::runtime::Handle;

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

const ACCESS_KEY: &str = "AKIDFAASBENCH";
const SECRET_KEY: &str = "faas-bench/secret+KEY";
const REGION: &str = "us-east-1";
const INVOKE_PATH: &str = "/2015-03-31/functions/echo/invocations";
const GOAL: &str = "≥ 0.90";

/// Lambda `Invoke` vs `/function/{name}` through the federation.
#[derive(Debug, Parser)]
#[command(version, about)]
struct Args {
    /// Measured time per target (all rounds together; Go duration or seconds).
    #[arg(long, default_value = "6s", value_parser = duration)]
    duration: Duration,
    /// Slices each target's time is split into, alternating between the targets.
    #[arg(long, default_value_t = 6)]
    rounds: u32,
    /// Warm-up per target.
    #[arg(long, default_value = "500ms", value_parser = duration)]
    warmup: Duration,
    /// Connections sending at once.
    #[arg(long, default_value_t = 16)]
    concurrency: usize,
    /// Request body (payload) size in bytes.
    #[arg(long, default_value_t = 64)]
    body_bytes: usize,
    /// Run only this target (e.g. `invoke signed`), for profiling; no ratios are printed.
    #[arg(long)]
    only: Option<String>,
    /// Worker threads of the server's runtime (default: available cores).
    #[arg(long)]
    server_threads: Option<usize>,
    /// Worker threads of the load generator's runtime.
    #[arg(long, default_value_t = 1)]
    client_threads: usize,
    /// Requests signed (and built unsigned) to measure the client's signing cost alone.
    #[arg(long, default_value_t = 20_000)]
    signing_samples: u32,
}

fn duration(text: &str) -> Result<Duration, String> {
    faas_provider::config::parse_duration(text)
}

/// The two listeners of one federation.
struct Servers {
    open: Server,
    signed: Server,
    _runtime: Runtime,
}

async fn start(server: &Handle) -> anyhow::Result<Servers> {
    let config = FederationConfig::default();
    let (runtime, app) = server
        .spawn(async move {
            let mut registry = Registry::default();
            let runtime = Runtime::start(&config, &mut registry).await?;
            let provider = runtime.provider();
            let mut spec = FunctionDeployment::new(FUNCTION, "example/echo:bench");
            spec.namespace = NAMESPACE.into();
            provider.deploy(spec).await?;
            let function = FunctionRef::new(FUNCTION, NAMESPACE);
            while !provider.ready(&function).await? {
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
            let app = runtime.router(&servers::server_config(), registry);
            anyhow::Ok((runtime, app))
        })
        .await
        .context("the server runtime")??;
    let signed_app = lambda_api::routes(
        runtime.provider(),
        runtime.queue.clone(),
        LambdaApiConfig {
            credentials: vec![(ACCESS_KEY.to_string(), SECRET_KEY.to_string())],
            region: REGION.to_string(),
            ..LambdaApiConfig::default()
        },
    );
    Ok(Servers {
        open: serve_app(server, app, Vec::new()).await?,
        signed: serve_app(server, signed_app, Vec::new()).await?,
        _runtime: runtime,
    })
}

/// `Invoke` of `echo` (`RequestResponse`), unsigned.
fn invoke_request(host: &HeaderValue, body: &Bytes) -> http::Request<Full<Bytes>> {
    let mut request = http::Request::new(Full::new(body.clone()));
    *request.method_mut() = http::Method::POST;
    *request.uri_mut() = http::Uri::from_static(INVOKE_PATH);
    let headers = request.headers_mut();
    headers.insert(HOST, host.clone());
    headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    headers.insert(CONTENT_LENGTH, HeaderValue::from(body.len()));
    request
}

/// The same, signed now for service `lambda` as an AWS SDK signs it (`Authorization`,
/// `X-Amz-Date`; host, content type and length signed; the body's SHA-256).
fn signed_invoke_request(
    identity: &Identity,
    host: &HeaderValue,
    body: &Bytes,
) -> http::Request<Full<Bytes>> {
    let mut request = invoke_request(host, body);
    let uri = format!(
        "http://{}{INVOKE_PATH}",
        host.to_str().expect("an ASCII host")
    );
    let headers: Vec<(&str, &str)> = request
        .headers()
        .iter()
        .filter_map(|(name, value)| Some((name.as_str(), value.to_str().ok()?)))
        .collect();
    let params = v4::SigningParams::builder()
        .identity(identity)
        .region(REGION)
        .name("lambda")
        .time(SystemTime::now())
        .settings(SigningSettings::default())
        .build()
        .expect("complete signing parameters")
        .into();
    let signable =
        SignableRequest::new("POST", &uri, headers.into_iter(), SignableBody::Bytes(body))
            .expect("a signable request");
    let (instructions, _signature) = sign(signable, &params).expect("a signature").into_parts();
    instructions.apply_to_request_http1x(&mut request);
    request
}

/// Requests of a round carrying one signature taken before the round starts: the unsigned
/// request plus the signing headers of a request signed once (see the module docs).
fn presigned(identity: &Identity, host: &HeaderValue, body: &Bytes) -> MakeRequest {
    let signed = signed_invoke_request(identity, host, body);
    let extra: Vec<(http::HeaderName, HeaderValue)> = signed
        .headers()
        .iter()
        .filter(|(name, _)| !invoke_request(host, body).headers().contains_key(*name))
        .map(|(name, value)| (name.clone(), value.clone()))
        .collect();
    let (host, body) = (host.clone(), body.clone());
    Arc::new(move |_host, _body| {
        let mut request = invoke_request(&host, &body);
        let headers = request.headers_mut();
        for (name, value) in &extra {
            headers.insert(name.clone(), value.clone());
        }
        request
    })
}

fn identity() -> Identity {
    Credentials::new(ACCESS_KEY, SECRET_KEY, None, None, "faas-bench").into()
}

/// Microseconds a signed request costs the client more than an unsigned one, on one thread.
fn signing_cost(host: &HeaderValue, body: &Bytes, rounds: u32) -> f64 {
    let identity = identity();
    let rounds = rounds.max(1);
    let began = Instant::now();
    for _ in 0..rounds {
        std::hint::black_box(invoke_request(host, body));
    }
    let unsigned = began.elapsed();
    let began = Instant::now();
    for _ in 0..rounds {
        std::hint::black_box(signed_invoke_request(&identity, host, body));
    }
    let signed = began.elapsed();
    signed.saturating_sub(unsigned).as_secs_f64() * 1e6 / f64::from(rounds)
}

struct Target {
    name: &'static str,
    server: std::net::SocketAddr,
    make: MakeRequest,
    measured: Measurement,
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let faas_bench::Runtimes {
        servers: server,
        client,
        cores,
        server_threads,
    } = faas_bench::Runtimes::new(args.server_threads, args.client_threads)?;
    let servers = client.block_on(start(server.handle()))?;

    let identity = Arc::new(identity());
    let signer = |identity: Arc<Identity>| -> MakeRequest {
        Arc::new(move |host, body| signed_invoke_request(&identity, host, body))
    };
    let mut targets: Vec<Target> = [
        (
            "/function",
            servers.open.addr,
            Arc::new(load::function_request) as MakeRequest,
        ),
        ("invoke", servers.open.addr, Arc::new(invoke_request)),
        (
            "invoke signed, unchecked",
            servers.open.addr,
            signer(identity.clone()),
        ),
        (
            "invoke signed",
            servers.signed.addr,
            signer(identity.clone()),
        ),
        // A placeholder until each round signs its request (see `presigned`).
        (
            "invoke presigned",
            servers.signed.addr,
            signer(identity.clone()),
        ),
    ]
    .into_iter()
    .filter(|(name, _, _)| args.only.as_deref().is_none_or(|only| only == *name))
    .map(|(name, server, make)| Target {
        name,
        server,
        make,
        measured: Measurement::default(),
    })
    .collect();
    anyhow::ensure!(!targets.is_empty(), "no target is named {:?}", args.only);

    let mode = Mode::Saturation {
        connections: args.concurrency,
    };
    let rounds = args.rounds.max(1);
    let slice = args.duration / rounds;
    client.block_on(async {
        for target in &targets {
            load::run_requests(
                target.server,
                mode,
                args.warmup,
                usize::MAX,
                args.body_bytes,
                target.make.clone(),
            )
            .await?;
        }
        let body = Bytes::from(vec![b'x'; args.body_bytes]);
        for _ in 0..rounds {
            for target in &mut targets {
                if target.name == "invoke presigned" {
                    let host = HeaderValue::from_str(&target.server.to_string())?;
                    target.make = presigned(&identity, &host, &body);
                }
                let measured = load::run_requests(
                    target.server,
                    mode,
                    slice,
                    usize::MAX,
                    args.body_bytes,
                    target.make.clone(),
                )
                .await?;
                target.measured.merge(measured);
            }
        }
        anyhow::Ok(())
    })?;
    let host = HeaderValue::from_str(&servers.open.addr.to_string())?;
    let sign_us = signing_cost(
        &host,
        &Bytes::from(vec![b'x'; args.body_bytes]),
        args.signing_samples,
    );

    println!(
        "faas-bench-lambda-api: {cores} cores, server threads {server_threads}, client threads {}, {:?} per target in {rounds} rounds, {} connections, body {} B{}",
        args.client_threads,
        args.duration,
        args.concurrency,
        args.body_bytes,
        if cfg!(debug_assertions) {
            " (DEBUG BUILD: use --release for numbers)"
        } else {
            ""
        },
    );
    println!("| target | requests | errors | req/s | p50 µs | p99 µs | × /function | goal |");
    println!("|---|---|---|---|---|---|---|---|");
    let baseline = targets
        .iter()
        .find(|t| t.name == "/function")
        .map(|t| t.measured.rate());
    for target in &targets {
        let m = &target.measured;
        let (ratio, goal) = match (baseline, target.name) {
            (Some(base), "invoke" | "invoke signed" | "invoke presigned") => {
                (format!("{:.2}", m.rate() / base), GOAL)
            }
            (Some(base), "invoke signed, unchecked") => {
                (format!("{:.2}", m.rate() / base), "(client cost)")
            }
            (Some(_), _) => ("1.00".to_string(), "baseline"),
            (None, _) => ("-".to_string(), ""),
        };
        println!(
            "| {} | {} | {} | {:.0} | {:.1} | {:.1} | {ratio} | {goal} |",
            target.name,
            m.requests,
            m.errors,
            m.rate(),
            m.quantile_us(0.5),
            m.quantile_us(0.99),
        );
    }
    let rate_of = |name: &str| {
        targets
            .iter()
            .find(|t| t.name == name)
            .map(|t| t.measured.rate())
    };
    if let (Some(checked), Some(open)) = (rate_of("invoke presigned"), rate_of("invoke")) {
        println!(
            "RATIO invoke presigned / invoke (the server's checking alone, no client signing): {:.2}x",
            checked / open
        );
    }
    if let (Some(checked), Some(unchecked)) = (
        rate_of("invoke signed"),
        rate_of("invoke signed, unchecked"),
    ) {
        println!(
            "RATIO invoke signed / invoke signed, unchecked (the server's checking alone): {:.2}x",
            checked / unchecked
        );
    }
    let signed_rate = rate_of("invoke signed").unwrap_or_default();
    println!(
        "client signing cost: {sign_us:.1} µs per request on one thread ({:.0}% of one client thread at {signed_rate:.0} req/s)",
        sign_us * signed_rate / 1e4
    );
    Ok(())
}
