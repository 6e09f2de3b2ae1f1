//! `provider-lambda`: serves [`provider_lambda::LambdaProvider`] over the OpenFaaS provider API.
//!
//! Configuration: the OpenFaaS variables (`port`, `bind`, `read_timeout`, `write_timeout`,
//! `basic_auth`, `secret_mount_path`), the provider's own (`lambda_execution_role`,
//! `bootstrap_path`, `function_namespace`, ... see `LambdaConfig`), and AWS's usual sources
//! (`AWS_REGION`, `AWS_ENDPOINT_URL`, credentials, profiles). `--local` runs functions on this
//! machine in the Runtime API emulator (the control plane stays at the AWS endpoint, e.g. moto).

use std::net::IpAddr;
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::{Context, bail};
use clap::Parser;
use faas_provider::ServerConfig;
use faas_provider::server::{serve, shutdown_signal};
use provider_lambda::local::LocalOptions;
use provider_lambda::provider::{ImagePackager, load_aws_config};
use provider_lambda::{LambdaConfig, LambdaProvider};
use tracing_subscriber::EnvFilter;

/// The OpenFaaS provider for AWS Lambda.
#[derive(Debug, Parser)]
#[command(version, about)]
struct Args {
    /// TCP port of the provider API.
    #[arg(long, env = "port", default_value_t = 8080)]
    port: u16,
    /// Address of the provider API (use 0.0.0.0 to serve other hosts).
    #[arg(long, env = "bind", default_value = "127.0.0.1")]
    bind: IpAddr,
    /// Execution role ARN of every function.
    #[arg(long, env = "lambda_execution_role")]
    role: Option<String>,
    /// The static bootstrap shim (for both architectures; see also bootstrap_x86_64/_arm64).
    #[arg(long, env = "bootstrap_path")]
    bootstrap: Option<PathBuf>,
    /// Run functions locally in the Runtime API emulator instead of Lambda's Invoke.
    #[arg(long, env = "local")]
    local: bool,
    /// Local mode: where extracted function code is cached.
    #[arg(long, env = "local_cache_dir")]
    local_cache_dir: Option<PathBuf>,
    /// Local mode: run functions in a Docker container of this (busybox-only) image instead of
    /// as child processes (Docker from DOCKER_HOST or the local socket).
    #[arg(long, env = "local_sandbox_image")]
    local_sandbox_image: Option<String>,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")),
        )
        .init();

    let mut server = ServerConfig::from_env().context("reading the provider configuration")?;
    server.port = args.port;
    server.bind = args.bind;
    let mut config = LambdaConfig::from_lookup(|name| match name {
        "lambda_execution_role" => args.role.clone(),
        "bootstrap_path" => args.bootstrap.as_ref().map(|p| p.display().to_string()),
        other => std::env::var(other).ok(),
    })
    .context("reading the Lambda configuration")?;
    if config.bootstrap_x86_64.is_none() && config.bootstrap_arm64.is_none() {
        bail!(
            "no bootstrap shim configured: set bootstrap_path (or bootstrap_x86_64 / bootstrap_arm64)"
        );
    }
    let sdk = load_aws_config(&config).await;
    if sdk.region().is_none() {
        bail!("no AWS region: set AWS_REGION (or aws_region)");
    }
    config.region = sdk.region().map(|r| r.to_string());
    let packager = Arc::new(ImagePackager::from_config(&config));
    let provider = if args.local {
        let cache = args
            .local_cache_dir
            .unwrap_or_else(|| std::env::temp_dir().join("faas-lambda-local"));
        let mut options = LocalOptions::new(cache);
        if let Some(region) = &config.region {
            options.region = region.clone();
        }
        if let Some(image) = args.local_sandbox_image {
            let docker = bollard::Docker::connect_with_local_defaults()
                .context("connecting to Docker for the sandbox")?
                .negotiate_version()
                .await
                .context("negotiating the Docker API version")?;
            options.sandbox = lambda_emulator::Sandbox::Docker(
                lambda_emulator::DockerSandbox::new(docker, image),
            );
        }
        LambdaProvider::local(config, &sdk, packager, options)
    } else {
        LambdaProvider::aws(config, &sdk, packager)
    };

    let addr = server.socket_addr();
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .with_context(|| format!("binding {addr}"))?;
    tracing::info!(address = %listener.local_addr()?, local = args.local, config = ?provider.config(), "faas-lambda provider listening");
    serve(listener, Arc::new(provider), &server, shutdown_signal())
        .await
        .context("serving the provider API")
}
