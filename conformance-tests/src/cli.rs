//! The `faas-conformance` command line, as a library so tests (and other crates' tests) run
//! exactly what the binary runs: [`Args`] parsed by clap, [`run`] to list or run the cases.

use std::io::Write;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, bail};
use clap::Parser;
use faas_provider::client::HttpProvider;

use crate::junit::to_junit;
use crate::runner::{Report, run_all, select};
use crate::target::{EchoFormat, EchoFunction, HttpTarget, ShellFunction, Target, Timeouts};

/// Checks an OpenFaaS provider against the provider API contract. Prints one line per case
/// (`pass`/`fail`/`skip`, name, reason) and a closing `N passed, N failed[, N skipped]`; exits
/// non-zero when any case failed.
#[derive(Debug, Parser)]
#[command(name = "faas-conformance", version, about)]
pub struct Args {
    /// The provider's base URL, e.g. http://127.0.0.1:8081 (not needed with --list).
    #[arg(long, env = "OPENFAAS_URL", required_unless_present = "list")]
    pub url: Option<String>,
    /// Basic-auth user for /system/* (with --password).
    #[arg(long, env = "OPENFAAS_USER", requires = "password")]
    pub user: Option<String>,
    /// Basic-auth password for /system/*.
    #[arg(
        long,
        env = "OPENFAAS_PASSWORD",
        hide_env_values = true,
        requires = "user"
    )]
    pub password: Option<String>,
    /// Print the report as JSON instead of lines.
    #[arg(long)]
    pub json: bool,
    /// Also write the report as JUnit XML to this file (one testcase per case).
    #[arg(long, value_name = "FILE")]
    pub junit: Option<PathBuf>,
    /// Print the cases (area, name, the gates each needs) instead of running them.
    #[arg(long)]
    pub list: bool,
    /// A case that skips although the target declares every gate it has fails (skips for an
    /// undeclared capability stay skips).
    #[arg(long)]
    pub strict: bool,
    /// Run only cases whose name contains one of these patterns or whose area is exactly one
    /// (repeat the flag or separate with commas).
    #[arg(long, value_delimiter = ',')]
    pub filter: Vec<String>,
    /// Image deployed by the invoke cases (memory provider: any name); also the image of the
    /// runtime cases unless --shell-image is given.
    #[arg(long, default_value = "docker.io/openfaas/conformance-echo:latest")]
    pub echo_image: String,
    /// envProcess of the echo function (e.g. for a classic-watchdog image).
    #[arg(long, default_value = "")]
    pub echo_process: String,
    /// How the echo function answers: memory-json (the memory provider) or watchdog-env
    /// (the echo-request watchdog image).
    #[arg(long, default_value = "memory-json")]
    pub echo_format: EchoFormat,
    /// The provider runs the deployed image's code: enables the runtime cases (env vars, secret
    /// files, Http_* variables, read-only root seen from inside the function).
    #[arg(long)]
    pub runs_code: bool,
    /// Image of the runtime cases' function (default: --echo-image); it must have a watchdog
    /// honouring envProcess and a POSIX shell.
    #[arg(long)]
    pub shell_image: Option<String>,
    /// envProcess that runs the request body as a shell script.
    #[arg(long, default_value = "sh")]
    pub shell_process: String,
    /// Namespace used when none is given.
    #[arg(long, default_value = faas_provider::DEFAULT_NAMESPACE)]
    pub default_namespace: String,
    /// The provider scales functions to 0 replicas (cannot be probed without side effects).
    #[arg(long)]
    pub scale_to_zero: bool,
    /// The provider wakes a function at 0 replicas when it is invoked (the OpenFaaS gateway's
    /// scale_from_zero): the invocation at zero must answer 200 instead of 503.
    #[arg(long)]
    pub wakes_from_zero: bool,
    /// Highest replica count the provider accepts.
    #[arg(long)]
    pub max_replicas: Option<u64>,
    /// Treat secrets as unsupported (skip their cases), whatever the probe says.
    #[arg(long)]
    pub no_secrets: bool,
    /// Treat logs as unsupported, whatever the probe says.
    #[arg(long)]
    pub no_logs: bool,
    /// Treat namespace mutation as unsupported, whatever the probe says.
    #[arg(long)]
    pub no_namespace_mutation: bool,
    /// Do not probe the optional features: assume secrets, logs and namespace mutation unless a
    /// --no-* flag says otherwise.
    #[arg(long)]
    pub no_probe: bool,
    /// Skip the raw-HTTP cases (status codes, JSON shapes, auth) and check only the behaviour
    /// visible through the client.
    #[arg(long)]
    pub no_raw_http: bool,
    /// Bound, in seconds, on waiting for a function to become ready.
    #[arg(long, default_value_t = 90)]
    pub ready_timeout: u64,
}

/// Lists (`--list`, returning `None`) or runs the selected cases, writing the lines or JSON to
/// `out` and the JUnit file when asked. Errors are about the run itself (no case selected, the
/// provider cannot be probed, the file cannot be written), not about failed cases.
pub async fn run(args: &Args, out: &mut impl Write) -> anyhow::Result<Option<Report>> {
    if select(&args.filter).next().is_none() {
        bail!("no case matches the filter {:?}", args.filter);
    }
    if args.list {
        for case in select(&args.filter) {
            writeln!(
                out,
                "{:<10} {:<50} {}",
                case.area,
                case.name,
                case.gate_names()
            )?;
        }
        return Ok(None);
    }
    let target = build_target(args).await?;
    let report = run_all(&target, &args.filter).await;
    if args.json {
        serde_json::to_writer_pretty(&mut *out, &report).context("writing the JSON report")?;
        writeln!(out)?;
    } else {
        for case in &report.cases {
            writeln!(out, "{case}")?;
        }
        writeln!(out, "{}", report.summary())?;
    }
    out.flush()?;
    if let Some(path) = &args.junit {
        let url = args.url.as_deref().unwrap_or_default();
        std::fs::write(path, to_junit(&report, url))
            .with_context(|| format!("writing the JUnit report to {}", path.display()))?;
    }
    Ok(Some(report))
}

/// The target the arguments describe: an `HttpProvider` on `--url` with probed or declared
/// capabilities, the echo and shell functions, and the raw endpoint unless `--no-raw-http`.
pub async fn build_target(args: &Args) -> anyhow::Result<Target> {
    let Some(url) = args.url.as_deref() else {
        bail!("--url is required to run the cases");
    };
    let mut provider = HttpProvider::new(url).context("invalid --url")?;
    let mut http = HttpTarget::new(url.trim_end_matches('/'));
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
            .with_context(|| format!("probing the provider at {url}"))?
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
    let mut target = Target::new(Arc::new(provider), caps, echo)
        .with_timeouts(timeouts)
        .with_strict(args.strict)
        .with_wakes_from_zero(args.wakes_from_zero);
    if args.runs_code {
        target = target.with_shell(ShellFunction {
            image: args
                .shell_image
                .clone()
                .unwrap_or_else(|| args.echo_image.clone()),
            env_process: args.shell_process.clone(),
        });
    }
    if !args.no_raw_http {
        target = target.with_http(http);
    }
    Ok(target)
}
