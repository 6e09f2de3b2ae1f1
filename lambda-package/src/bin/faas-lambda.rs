//! `faas-lambda`: package an OCI image as an AWS Lambda zip (`provided.al2023`).
//!
//! ```text
//! faas-lambda package 127.0.0.1:5000/fn/echo:1 -o fn.zip --insecure-registry 127.0.0.1:5000 \
//!     --bootstrap target/static/x86_64-unknown-linux-gnu/release/bootstrap \
//!     --layer 127.0.0.1:5000/shared/middlewares:1
//! faas-lambda import fn.zip --image 127.0.0.1:5000/fn/echo:zip --insecure-registry 127.0.0.1:5000 \
//!     --entrypoint faas-lambda-entrypoint [--deploy http://127.0.0.1:8080 --name echo]
//! ```

#[path = "../cli/import.rs"]
mod import;

use std::path::PathBuf;

use anyhow::Context as _;
use clap::{Args, Parser, Subcommand};
use lambda_package::flatten::Limits;
use lambda_package::{
    Architecture, BootstrapSource, PackageOptions, RegistryCredentials, package_image,
};

#[derive(Parser)]
#[command(name = "faas-lambda", version, about = "OpenFaaS images on AWS Lambda")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Pull IMAGE, flatten it, and write a Lambda zip (bootstrap + faas-launch.json + rootfs/).
    Package(PackageArgs),
    /// Import a Lambda zip (provided.al2023 / provided.al2: a bootstrap at its top) as an OCI
    /// image (the zip under /var/task + the static entrypoint), push it, and optionally deploy
    /// it through an OpenFaaS API.
    Import(import::ImportArgs),
}

#[derive(Args)]
struct PackageArgs {
    /// Image reference, e.g. ghcr.io/org/fn:1.0 or 127.0.0.1:5000/fn/echo@sha256:...
    image: String,
    /// An image whose layers are applied on top of IMAGE's (its config is ignored), e.g. shared
    /// middlewares in /opt/middlewares; repeatable, applied in order.
    #[arg(long = "layer", value_name = "IMAGE")]
    layers: Vec<String>,
    /// Output zip.
    #[arg(short, long, value_name = "ZIP")]
    output: PathBuf,
    /// Architecture to package (x86_64/amd64 or arm64/aarch64); default: the image's, or amd64
    /// first in a multi-platform index.
    #[arg(long)]
    arch: Option<Architecture>,
    /// Registry user (basic auth).
    #[arg(long, requires = "password", conflicts_with = "token")]
    username: Option<String>,
    /// Registry password (prefer the environment variable).
    #[arg(long, env = "FAAS_LAMBDA_REGISTRY_PASSWORD", hide_env_values = true)]
    password: Option<String>,
    /// Registry bearer token.
    #[arg(long, env = "FAAS_LAMBDA_REGISTRY_TOKEN", hide_env_values = true)]
    token: Option<String>,
    /// Read credentials from a Docker config.json (default: ~/.docker/config.json).
    #[arg(long, value_name = "PATH", num_args = 0..=1, default_missing_value = "",
          conflicts_with_all = ["username", "token"])]
    docker_config: Option<PathBuf>,
    /// A registry (host:port) to speak plain HTTP to; repeatable.
    #[arg(long = "insecure-registry", value_name = "HOST:PORT")]
    insecure_registries: Vec<String>,
    /// The static bootstrap shim binary (must match the image's architecture).
    #[arg(long, env = "FAAS_LAMBDA_BOOTSTRAP", value_name = "PATH")]
    bootstrap: PathBuf,
    /// Largest zip allowed, in bytes (Lambda: 52428800 for a direct upload).
    #[arg(long)]
    max_zipped_bytes: Option<u64>,
    /// Largest unzipped package allowed, in bytes (Lambda: 262144000).
    #[arg(long)]
    max_unzipped_bytes: Option<u64>,
    /// Directory for the temporary spool file (default: the system temp dir).
    #[arg(long, value_name = "DIR")]
    work_dir: Option<PathBuf>,
    /// No progress bars.
    #[arg(long, short)]
    quiet: bool,
}

fn mib(bytes: u64) -> String {
    format!("{:.1} MiB", bytes as f64 / (1024.0 * 1024.0))
}

async fn package(args: PackageArgs) -> anyhow::Result<()> {
    let credentials = match (
        &args.username,
        &args.password,
        &args.token,
        &args.docker_config,
    ) {
        (Some(username), Some(password), _, _) => RegistryCredentials::Basic {
            username: username.clone(),
            password: password.clone(),
        },
        (None, _, Some(token), _) => RegistryCredentials::Bearer(token.clone()),
        (None, _, None, Some(path)) if path.as_os_str().is_empty() => {
            RegistryCredentials::DockerConfig(None)
        }
        (None, _, None, Some(path)) => RegistryCredentials::DockerConfig(Some(path.clone())),
        _ => RegistryCredentials::Anonymous,
    };
    let mut limits = Limits::default();
    if let Some(max) = args.max_zipped_bytes {
        limits.max_zipped_bytes = max;
    }
    if let Some(max) = args.max_unzipped_bytes {
        limits.max_unzipped_bytes = max;
    }
    let opts = PackageOptions {
        credentials,
        architecture: args.arch,
        insecure_registries: args.insecure_registries,
        bootstrap: BootstrapSource::File(args.bootstrap),
        limits,
        progress: !args.quiet,
        work_dir: args.work_dir,
        layer_images: args.layers,
        ..Default::default()
    };
    let summary = package_image(&args.image, &opts, &args.output)
        .await
        .with_context(|| format!("packaging {}", args.image))?;
    println!("packaged   {}", summary.spec.image);
    println!("digest     {}", summary.image_digest);
    if let Some(index) = &summary.index_digest {
        println!("index      {index}");
    }
    for (reference, digest) in &summary.layer_images {
        println!("layer      {reference} {digest}");
    }
    println!("arch       {}", summary.architecture);
    println!("layers     {}", summary.layers.len());
    println!(
        "files      {} ({} dirs, {} symlinks)",
        summary.files, summary.dirs, summary.symlinks
    );
    println!(
        "unzipped   {} ({} bytes)",
        mib(summary.unzipped_bytes),
        summary.unzipped_bytes
    );
    println!(
        "zipped     {} ({} bytes) -> {}",
        mib(summary.zipped_bytes),
        summary.zipped_bytes,
        args.output.display()
    );
    if let Some(kib) = peak_rss_kib() {
        println!("peak RSS   {} ({kib} KiB)", mib(kib * 1024));
    }
    if summary.removed_symlink_loops > 0 {
        println!(
            "warning    {} looping symlink(s) removed",
            summary.removed_symlink_loops
        );
    }
    Ok(())
}

/// This process's peak resident set size (`VmHWM` in `/proc/self/status`), in KiB.
fn peak_rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    match cli.command {
        Command::Package(args) => runtime.block_on(package(args)),
        Command::Import(args) => runtime.block_on(import::run(args)),
    }
}
