//! `provider-lambda`: serves [`provider_lambda::LambdaProvider`] over the OpenFaaS provider API.
//!
//! Configuration: the OpenFaaS variables (`port`, `bind`, `read_timeout`, `write_timeout`,
//! `basic_auth`, `secret_mount_path`), the provider's own (`lambda_execution_role`,
//! `bootstrap_path`, `function_namespace`, ... see `provider_lambda::SETTINGS`; flags override
//! their variables; static credentials come from AWS's variables), and AWS's usual sources
//! (`AWS_REGION`, `AWS_ENDPOINT_URL`, credentials, profiles). `--local` runs functions on this
//! machine in the Runtime API emulator (the control plane stays at the AWS endpoint, e.g. moto).

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Context;
use clap::Parser;
use faas_provider::ServerConfig;
use faas_provider::server::{serve, shutdown_signal};
use provider_lambda::launch::Launch;

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

/// Settings the binary does not read from variables of their own name: the flags', and the
/// static credentials (the AWS SDK reads `AWS_ACCESS_KEY_ID` and `AWS_SECRET_ACCESS_KEY`).
const NOT_FROM_ENV: &[&str] = &[
    "lambda_execution_role",
    "bootstrap_path",
    "local",
    "local_cache_dir",
    "local_sandbox_image",
    "aws_access_key_id",
    "aws_secret_access_key",
    "aws_secret_access_key_file",
];

impl Args {
    /// The settings table: the environment variables named by `provider_lambda::SETTINGS`,
    /// then the flags (which fall back to their variables); the local-mode settings only with
    /// `--local`.
    fn settings(&self) -> BTreeMap<String, String> {
        let mut settings: BTreeMap<String, String> = provider_lambda::SETTINGS
            .iter()
            .filter(|key| !NOT_FROM_ENV.contains(key))
            .filter_map(|&key| std::env::var(key).ok().map(|v| (key.to_string(), v)))
            .collect();
        let mut set = |key: &str, value: Option<String>| {
            if let Some(value) = value {
                settings.insert(key.to_string(), value);
            }
        };
        set("lambda_execution_role", self.role.clone());
        set(
            "bootstrap_path",
            self.bootstrap.as_ref().map(|p| p.display().to_string()),
        );
        if self.local {
            set("local", Some("true".to_string()));
            set(
                "local_cache_dir",
                self.local_cache_dir
                    .as_ref()
                    .map(|p| p.display().to_string()),
            );
            set("local_sandbox_image", self.local_sandbox_image.clone());
        }
        settings
    }
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    faas_provider::server::init_logging().context("setting up logging")?;

    let mut server = ServerConfig::from_env().context("reading the provider configuration")?;
    server.port = args.port;
    server.bind = args.bind;
    // Relative paths stay relative to the working directory.
    let launch = Launch::from_settings(&args.settings(), Path::new(""))
        .context("reading the Lambda configuration")?;
    let provider = launch.build().await?;

    let addr = server.socket_addr();
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .with_context(|| format!("binding {addr}"))?;
    tracing::info!(address = %listener.local_addr()?, local = args.local, config = ?provider.config(), "faas-lambda provider listening");
    serve(listener, Arc::new(provider), &server, shutdown_signal())
        .await
        .context("serving the provider API")
}
