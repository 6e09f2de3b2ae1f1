//! `faas-conformance`: runs every conformance case against an OpenFaaS provider's REST API,
//! through `HttpProvider` and raw HTTP, like the OpenFaaS certifier but feature-gated.

use std::io::Write;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, bail};
use clap::Parser;
use conformance_tests::{EchoFormat, EchoFunction, HttpTarget, Target, Timeouts, run_all};
use faas_provider::client::HttpProvider;

/// Checks an OpenFaaS provider against the provider API contract. Prints one line per case
/// (`pass`/`fail`/`skip`, name, reason) and a closing `N passed, N failed[, N skipped]`; exits
/// non-zero when any case failed.
#[derive(Debug, Parser)]
#[command(version, about)]
struct Args {
    /// The provider's base URL, e.g. http://127.0.0.1:8081.
    #[arg(long, env = "OPENFAAS_URL")]
    url: String,
    /// Basic-auth user for /system/* (with --password).
    #[arg(long, env = "OPENFAAS_USER", requires = "password")]
    user: Option<String>,
    /// Basic-auth password for /system/*.
    #[arg(
        long,
        env = "OPENFAAS_PASSWORD",
        hide_env_values = true,
        requires = "user"
    )]
    password: Option<String>,
    /// Print the report as JSON instead of lines.
    #[arg(long)]
    json: bool,
    /// Run only cases whose name contains this text (or whose area is exactly it).
    #[arg(long)]
    filter: Option<String>,
    /// Image deployed by the invoke cases (memory provider: any name).
    #[arg(long, default_value = "docker.io/openfaas/conformance-echo:latest")]
    echo_image: String,
    /// envProcess of the echo function (e.g. for a classic-watchdog image).
    #[arg(long, default_value = "")]
    echo_process: String,
    /// How the echo function answers: memory-json (the memory provider) or watchdog-env
    /// (the echo-request watchdog image).
    #[arg(long, default_value = "memory-json")]
    echo_format: EchoFormat,
    /// Namespace used when none is given.
    #[arg(long, default_value = faas_provider::DEFAULT_NAMESPACE)]
    default_namespace: String,
    /// The provider scales functions to 0 replicas (cannot be probed without side effects).
    #[arg(long)]
    scale_to_zero: bool,
    /// Highest replica count the provider accepts.
    #[arg(long)]
    max_replicas: Option<u64>,
    /// Treat secrets as unsupported (skip their cases), whatever the probe says.
    #[arg(long)]
    no_secrets: bool,
    /// Treat logs as unsupported, whatever the probe says.
    #[arg(long)]
    no_logs: bool,
    /// Treat namespace mutation as unsupported, whatever the probe says.
    #[arg(long)]
    no_namespace_mutation: bool,
    /// Do not probe the optional features: assume secrets, logs and namespace mutation unless a
    /// --no-* flag says otherwise.
    #[arg(long)]
    no_probe: bool,
    /// Skip the raw-HTTP cases (status codes, JSON shapes, auth) and check only the behaviour
    /// visible through the client.
    #[arg(long)]
    no_raw_http: bool,
    /// Bound, in seconds, on waiting for a function to become ready.
    #[arg(long, default_value_t = 90)]
    ready_timeout: u64,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let target = build_target(&args).await?;
    let report = run_all(&target, args.filter.as_deref()).await;
    if report.cases.is_empty() {
        bail!(
            "no case matches the filter {:?}",
            args.filter.unwrap_or_default()
        );
    }
    let mut out = std::io::stdout().lock();
    if args.json {
        serde_json::to_writer_pretty(&mut out, &report).context("writing the JSON report")?;
        writeln!(out)?;
    } else {
        for case in &report.cases {
            writeln!(out, "{case}")?;
        }
        writeln!(out, "{}", report.summary())?;
    }
    out.flush()?;
    drop(out);
    if !report.success() {
        std::process::exit(1);
    }
    Ok(())
}

async fn build_target(args: &Args) -> anyhow::Result<Target> {
    let mut provider = HttpProvider::new(&args.url).context("invalid --url")?;
    let mut http = HttpTarget::new(args.url.trim_end_matches('/'));
    if let (Some(user), Some(password)) = (&args.user, &args.password) {
        provider = provider.with_basic_auth(user, password);
        http = http.with_credentials(user, password);
    }
    let mut declared = faas_provider::Capabilities::default();
    declared.default_namespace = args.default_namespace.clone();
    declared.scale_to_zero = args.scale_to_zero;
    declared.max_replicas = args.max_replicas;
    let provider = provider.with_capabilities(declared);
    let mut caps = if args.no_probe {
        let mut caps = faas_provider::Capabilities::full();
        caps.default_namespace = args.default_namespace.clone();
        caps.scale_to_zero = args.scale_to_zero;
        caps.max_replicas = args.max_replicas;
        caps
    } else {
        provider
            .probe_capabilities()
            .await
            .with_context(|| format!("probing the provider at {}", args.url))?
    };
    caps.secrets &= !args.no_secrets;
    caps.logs &= !args.no_logs;
    caps.namespace_mutation &= !args.no_namespace_mutation;
    let provider = provider.with_capabilities(caps.clone());
    let echo = EchoFunction {
        image: args.echo_image.clone(),
        env_process: args.echo_process.clone(),
        format: args.echo_format,
    };
    let timeouts = Timeouts {
        ready: Duration::from_secs(args.ready_timeout),
        ..Timeouts::default()
    };
    let mut target = Target::new(Arc::new(provider), caps, echo).with_timeouts(timeouts);
    if !args.no_raw_http {
        target = target.with_http(http);
    }
    Ok(target)
}
