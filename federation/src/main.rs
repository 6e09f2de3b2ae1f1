//! `faas-federation`: one OpenFaaS provider API over several providers (see the `federation`
//! crate). With no configuration it serves one in-process memory backend on 127.0.0.1:8080.

use std::net::IpAddr;
use std::path::PathBuf;
use std::time::Duration;

use std::collections::BTreeMap;

use anyhow::Context;
use clap::{Arg, ArgMatches, CommandFactory, FromArgMatches, Parser};
use faas_provider::config::parse_duration;
use faas_provider::server::{serve_router, shutdown_signal};
use faas_provider::{AccessLog, ServerConfig};
use federation::config::SETTINGS;
use federation::{ConfigSources, Runtime};
use prometheus_client::registry::Registry;

/// Every proxied request allocates; glibc malloc was about 10% of the CPU in the invoke
/// profile, and mimalloc measured 0.05× more throughput in `faas-bench federation-vs-direct`.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Command line and environment of `faas-federation`.
#[derive(Debug, Clone, Parser)]
#[command(
    name = "faas-federation",
    version,
    about = "One OpenFaaS provider API over several providers"
)]
struct Args {
    /// TOML file describing the backends. Without it (and without `providers`) the federation
    /// has one in-process memory backend named `local`.
    #[arg(long, short, env = "federation_config")]
    config: Option<PathBuf>,
    /// Backend for functions without the routing annotation (overrides the file).
    #[arg(long, env = "default_backend")]
    default_backend: Option<String>,
    /// faas-federation compatibility: comma-separated provider URLs (instead of a file); each
    /// backend is named after its URL's host.
    #[arg(long, env = "providers", value_delimiter = ',')]
    providers: Vec<String>,
    /// faas-federation compatibility: the default provider's URL.
    #[arg(long, env = "default_provider")]
    default_provider: Option<String>,
    /// How often backends are health-checked (integer seconds or Go duration).
    #[arg(long, env = "health_interval", value_parser = parse_duration_arg)]
    health_interval: Option<Duration>,
    /// TCP port (overrides `port` from the environment; default 8080).
    #[arg(long)]
    port: Option<u16>,
    /// Address to bind (overrides `bind`; default 127.0.0.1, use 0.0.0.0 to serve other hosts).
    #[arg(long)]
    bind: Option<IpAddr>,
    /// Level of the access log line of each invocation: off, error, warn, info, debug
    /// (overrides `access_log`; default debug).
    #[arg(long)]
    access_log: Option<AccessLog>,
    /// Validate the configuration, print the backends it would build and exit (0 when valid).
    #[arg(long)]
    check_config: bool,
}

fn parse_duration_arg(text: &str) -> Result<Duration, String> {
    let duration = parse_duration(text)?;
    if duration.is_zero() {
        return Err("must be greater than zero".into());
    }
    Ok(duration)
}

impl Args {
    /// Where the federation's configuration comes from, as these arguments say (`settings`:
    /// the federation settings given as flags or environment variables).
    fn sources(&self, settings: BTreeMap<String, String>) -> ConfigSources {
        ConfigSources {
            file: self.config.clone(),
            providers: self.providers.clone(),
            default_provider: self.default_provider.clone(),
            default_backend: self.default_backend.clone(),
            health_interval: self.health_interval,
            settings,
        }
    }
}

/// The command line: [`Args`] plus one `--flag` (and environment variable) per federation
/// setting, e.g. `--scale-from-zero false` or `scale_from_zero=false`.
fn command() -> clap::Command {
    Args::command().args(SETTINGS.iter().map(|key| {
        Arg::new(*key)
            .long(key.replace('_', "-"))
            .env(*key)
            .value_name("VALUE")
            .help_heading("Federation settings (also TOML keys)")
    }))
}

/// Parses the command line (or `argv`) into [`Args`] and the settings it gives.
fn parse(argv: Option<Vec<&str>>) -> anyhow::Result<(Args, BTreeMap<String, String>)> {
    let matches: ArgMatches = match argv {
        Some(argv) => command().try_get_matches_from(argv)?,
        None => command().get_matches(),
    };
    let args = Args::from_arg_matches(&matches)?;
    let settings = SETTINGS
        .iter()
        .filter_map(|key| {
            matches
                .get_one::<String>(key)
                .map(|value| (key.to_string(), value.clone()))
        })
        .collect();
    Ok((args, settings))
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let (args, settings) = parse(None)?;
    faas_provider::server::init_logging().context("setting up logging")?;

    let mut server = ServerConfig::from_env().context("reading the server configuration")?;
    server.port = args.port.unwrap_or(server.port);
    server.bind = args.bind.unwrap_or(server.bind);
    server.access_log = args.access_log.unwrap_or(server.access_log);
    let config = args
        .sources(settings)
        .load()
        .context("reading the federation configuration")?;
    if args.check_config {
        faas_provider::server::check_config(&server)
            .context("checking the server configuration")?;
        print!("{}", config.summary());
        println!("listen {}", server.socket_addr());
        return Ok(());
    }

    let mut registry = Registry::default();
    let runtime = Runtime::start(&config, &mut registry)
        .await
        .context("starting the federation")?;

    let addr = server.socket_addr();
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .with_context(|| format!("binding {addr}"))?;
    tracing::info!(address = %listener.local_addr()?, "faas-federation listening");
    let app = runtime.router(&server, registry);
    serve_router(listener, app, &server, shutdown_signal())
        .await
        .context("serving the provider API")
}

#[cfg(test)]
mod tests {
    use federation::config::{BackendSpec, ConfigError, FederationConfig};

    use super::*;

    fn args_from<const N: usize>(argv: [&str; N]) -> Args {
        parse(Some(argv.to_vec())).unwrap().0
    }

    #[test]
    fn settings_come_from_flags_and_reach_the_configuration() {
        let (args, settings) = parse(Some(vec![
            "faas-federation",
            "--scale-from-zero",
            "false",
            "--autoscale-interval",
            "250ms",
        ]))
        .unwrap();
        let config = args.sources(settings).load().unwrap();
        assert!(!config.settings.scaling.scale_from_zero);
        assert_eq!(config.settings.scaling.interval, Duration::from_millis(250));
        let (args, settings) = parse(Some(vec![
            "faas-federation",
            "--scale-down-window",
            "never",
        ]))
        .unwrap();
        let error = args.sources(settings).load().unwrap_err().to_string();
        assert!(error.contains("scale_down_window"), "{error}");
    }

    #[test]
    fn no_file_means_one_memory_backend() {
        let args = args_from(["faas-federation"]);
        let config = args.sources(BTreeMap::new()).load().unwrap();
        assert_eq!(config, FederationConfig::default());
        assert_eq!(config.backends.len(), 1);
        assert_eq!(config.backends[0].spec, BackendSpec::Memory);
        assert_eq!(config.default_backend, "local");
    }

    #[test]
    fn flags_override_the_file_and_conflicts_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f.toml");
        std::fs::write(
            &path,
            "[[backends]]\nname = \"a\"\nkind = \"memory\"\n[[backends]]\nname = \"b\"\nkind = \"memory\"\n",
        )
        .unwrap();
        let p = path.to_str().unwrap();
        let args = args_from(["faas-federation", "--config", p, "--default-backend", "b"]);
        assert_eq!(
            args.sources(BTreeMap::new())
                .load()
                .unwrap()
                .default_backend,
            "b"
        );
        let args = args_from(["faas-federation", "--config", p, "--default-backend", "zz"]);
        assert!(args.sources(BTreeMap::new()).load().is_err());
        let args = args_from([
            "faas-federation",
            "--config",
            p,
            "--providers",
            "http://127.0.0.1:1",
        ]);
        assert!(args.sources(BTreeMap::new()).load().is_err());
        let missing = args_from(["faas-federation", "--config", "/nonexistent/f.toml"]);
        assert!(matches!(
            missing.sources(BTreeMap::new()).load(),
            Err(ConfigError::Read { .. })
        ));
    }
}
