//! Run a packaged Lambda function locally and invoke it like Lambda:
//!
//! ```text
//! faas-lambda-emulator --zip fn.zip            # or --dir EXTRACTED_DIR
//!     [--docker [--docker-image busybox:latest] [--user 993:993]]
//!     [--name fn] [--port 9000] [--timeout 3] [--memory 128] [--env K=V]... [--concurrency N]
//! curl -d '{"k":1}' http://127.0.0.1:9000/2015-03-31/functions/fn/invocations
//! ```

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context as _, bail};
use clap::Parser;
use lambda_emulator::{DockerSandbox, Emulator, EmulatorConfig, Sandbox, extract_zip_to_temp};

#[derive(Debug, Parser)]
#[command(
    version,
    about = "Run a packaged Lambda zip locally behind Lambda's Invoke API"
)]
struct Args {
    /// The function zip (extracted to a temporary directory).
    #[arg(long, conflicts_with = "dir", required_unless_present = "dir")]
    zip: Option<PathBuf>,
    /// An already extracted function directory (holding `bootstrap`).
    #[arg(long)]
    dir: Option<PathBuf>,
    /// Run `bootstrap` in a Docker container (task dir read-only at /var/task, tmpfs /tmp,
    /// non-root user, host network) instead of a child process. Uses DOCKER_HOST.
    #[arg(long)]
    docker: bool,
    /// The sandbox image (its entrypoint is replaced; it only needs to exist in the engine).
    #[arg(long, default_value = "busybox:latest", requires = "docker")]
    docker_image: String,
    /// The sandbox user (uid:gid).
    #[arg(long, default_value = "993:993", requires = "docker")]
    user: String,
    /// The function name used in the invoke path.
    #[arg(long, default_value = "function")]
    name: String,
    /// Port of the invoke front end on 127.0.0.1 (0 = any free port).
    #[arg(long, default_value_t = 9000)]
    port: u16,
    /// Function timeout in seconds.
    #[arg(long, default_value_t = 3.0)]
    timeout: f64,
    /// Memory size in MB.
    #[arg(long, default_value_t = 128)]
    memory: u32,
    /// A function environment variable, K=V (repeatable).
    #[arg(long = "env", value_name = "K=V")]
    env: Vec<String>,
    /// Concurrency limit (0 throttles every invoke).
    #[arg(long)]
    concurrency: Option<u32>,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let (task_dir, _extracted) = match (&args.zip, &args.dir) {
        (Some(zip), _) => {
            let dir = extract_zip_to_temp(zip, None)
                .with_context(|| format!("extracting {}", zip.display()))?;
            (dir.path().to_path_buf(), Some(dir))
        }
        (None, Some(dir)) => (dir.clone(), None),
        (None, None) => bail!("give --zip or --dir"),
    };
    if !(args.timeout > 0.0 && args.timeout <= 900.0) {
        bail!("--timeout must be in (0, 900] seconds");
    }
    let mut cfg = EmulatorConfig::new(args.name.clone(), task_dir);
    cfg.timeout = Duration::from_secs_f64(args.timeout);
    cfg.memory_mb = args.memory;
    cfg.max_concurrency = args.concurrency;
    cfg.bind = SocketAddr::from(([127, 0, 0, 1], args.port));
    for kv in &args.env {
        let (k, v) = kv
            .split_once('=')
            .with_context(|| format!("--env {kv:?} must be K=V"))?;
        cfg.env.push((k.to_string(), v.to_string()));
    }
    if args.docker {
        let docker = bollard::Docker::connect_with_defaults()
            .context("connecting to the Docker Engine")?
            .negotiate_version()
            .await
            .context("negotiating the Docker API version")?;
        let mut sandbox = DockerSandbox::new(docker, args.docker_image.clone());
        sandbox.user = args.user.clone();
        cfg.sandbox = Sandbox::Docker(sandbox);
    }
    let emulator = Emulator::start(cfg).await?;
    println!(
        "faas-lambda-emulator: POST {}/2015-03-31/functions/{}/invocations",
        emulator.invoke_url(),
        args.name
    );
    tokio::signal::ctrl_c()
        .await
        .context("waiting for Ctrl-C")?;
    emulator.stop().await;
    Ok(())
}
