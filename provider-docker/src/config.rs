//! [`DockerConfig`]: where the engine is, how replicas are networked, where the provider keeps
//! its own files. Built from a settings table ([`DockerConfig::from_settings`], the keys of
//! [`SETTINGS`]): the binary fills it from its environment ([`env_settings`]), the federation
//! from a `kind = "docker"` backend of its configuration file.

use std::collections::BTreeMap;
use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use faas_provider::config::parse_duration;

/// The settings [`DockerConfig::from_settings`] accepts: the environment variables the
/// `provider-docker` binary reads, lower-case (`docker_host` is `DOCKER_HOST`).
pub const SETTINGS: &[&str] = &[
    "docker_host",
    "state_dir",
    "docker_network",
    "port_range",
    "function_bind",
    "scope",
    "image_pull_policy",
    "docker_config",
    "startup_timeout",
    "health_interval",
    "stop_timeout",
    "max_replicas",
    "pull_timeout",
    "warm_default",
    "warm_max",
];

/// The settings table of the process environment: every key of [`SETTINGS`] that is set,
/// read from the variable of the same name (`docker_host` from `DOCKER_HOST`).
pub fn env_settings() -> BTreeMap<String, String> {
    SETTINGS
        .iter()
        .filter_map(|&key| {
            let variable = if key == "docker_host" {
                "DOCKER_HOST"
            } else {
                key
            };
            std::env::var(variable)
                .ok()
                .map(|value| (key.to_string(), value))
        })
        .collect()
}

/// Default first port of the replica port range (host networking).
pub const DEFAULT_PORT_RANGE: (u16, u16) = (20000, 29999);
/// Default directory of secrets and namespaces.
pub const DEFAULT_STATE_DIR: &str = "/var/lib/faas-docker";
/// Default provider-wide cap of standby replicas (`warm_max`).
pub const DEFAULT_WARM_MAX: u64 = 16;
/// The port the watchdog listens on inside a container on a user network.
pub const WATCHDOG_PORT: u16 = 8080;

/// A configuration value that cannot be used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// A setting that is not one of [`SETTINGS`].
    #[error("unknown field {key:?} (known: {})", known.join(", "))]
    Unknown {
        /// The key.
        key: String,
        /// The valid keys.
        known: &'static [&'static str],
    },
    /// A variable's value does not parse.
    #[error("{name}: invalid value {value:?}: {reason}")]
    Invalid {
        /// Variable name.
        name: &'static str,
        /// Its value.
        value: String,
        /// What is wrong.
        reason: String,
    },
    /// The engine cannot be reached or refused the connection.
    #[error("cannot connect to the Docker Engine at {host}: {reason}")]
    Engine {
        /// `DOCKER_HOST` or the default socket.
        host: String,
        /// Why.
        reason: String,
    },
    /// The state directory cannot be created or written.
    #[error("state directory {path}: {source}")]
    StateDir {
        /// The directory.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
}

/// When the provider pulls a function's image.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PullPolicy {
    /// Pull on every deploy and update (faas-netes' default).
    Always,
    /// Pull only when the engine does not have the image.
    IfNotPresent,
    /// Never pull: the image must already be in the engine.
    Never,
}

impl std::str::FromStr for PullPolicy {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        match text.to_ascii_lowercase().as_str() {
            "always" => Ok(Self::Always),
            "ifnotpresent" | "if-not-present" => Ok(Self::IfNotPresent),
            "never" => Ok(Self::Never),
            _ => Err("expected Always, IfNotPresent or Never".into()),
        }
    }
}

/// How replicas are reached.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Networking {
    /// Host networking: every replica's watchdog listens on `bind:<port>`, the port taken from
    /// `ports` (env `port` and `bind_address` of the watchdog). The default; what tests use.
    Host {
        /// The address watchdogs bind to and the provider connects to (127.0.0.1 by default).
        bind: Ipv4Addr,
        /// Inclusive range of ports handed out to replicas.
        ports: (u16, u16),
    },
    /// A user-chosen Docker network: replicas join it and are reached at their IP on that
    /// network, port 8080 (the provider must be able to route to it, e.g. run on that network
    /// or on the engine's host with a bridge network).
    Network(String),
}

/// Everything [`crate::DockerProvider`] needs besides the engine connection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DockerConfig {
    /// The engine (`DOCKER_HOST`); `None` = the local default socket.
    pub docker_host: Option<String>,
    /// Directory of the provider's own files: `secrets/<namespace>/<name>` (files 0644 in 0700
    /// directories) and `namespaces/<name>.json` (`state_dir`). Must be on the engine's host:
    /// secrets are bind-mounted from it.
    pub state_dir: PathBuf,
    /// Replica networking (`docker_network` = a network name; else host networking with
    /// `port_range` and `function_bind`).
    pub networking: Networking,
    /// A label value separating this provider's functions from others' on a shared engine
    /// (`scope`, default `default`).
    pub scope: String,
    /// When images are pulled (`image_pull_policy`, default `Always`).
    pub pull_policy: PullPolicy,
    /// A Docker `config.json` with registry credentials (`docker_config`); when unset,
    /// `$DOCKER_CONFIG/config.json`, else `~/.docker/config.json`, when present.
    pub docker_config: Option<PathBuf>,
    /// How long a new replica may take to pass `/_/health` (`startup_timeout`, default 60 s).
    pub startup_timeout: Duration,
    /// How often the provider re-checks replica health in the background (`health_interval`,
    /// default 2 s).
    pub health_interval: Duration,
    /// Seconds between SIGTERM and SIGKILL when a replica is removed (`stop_timeout`, default 10 s).
    pub stop_timeout: Duration,
    /// Highest replica count a function may have (`max_replicas`, default 20).
    pub max_replicas: u64,
    /// Longest wait for an image pull (`pull_timeout`, default 300 s).
    pub pull_timeout: Duration,
    /// Standby replicas kept for a function at zero replicas when it has no
    /// `com.openfaas.scale.warm` label (`warm_default`, default 0: no warm pool).
    pub warm_default: u64,
    /// Standby replicas kept in all, over every function of the scope (`warm_max`, default
    /// [`DEFAULT_WARM_MAX`]): each is a paused container holding its memory.
    pub warm_max: u64,
}

impl Default for DockerConfig {
    fn default() -> Self {
        Self {
            docker_host: None,
            state_dir: PathBuf::from(DEFAULT_STATE_DIR),
            networking: Networking::Host {
                bind: Ipv4Addr::LOCALHOST,
                ports: DEFAULT_PORT_RANGE,
            },
            scope: "default".to_string(),
            pull_policy: PullPolicy::Always,
            docker_config: None,
            startup_timeout: Duration::from_secs(60),
            health_interval: Duration::from_secs(2),
            stop_timeout: Duration::from_secs(10),
            max_replicas: 20,
            pull_timeout: Duration::from_secs(300),
            warm_default: 0,
            warm_max: DEFAULT_WARM_MAX,
        }
    }
}

impl DockerConfig {
    /// A configuration for the engine at `docker_host` keeping its files in `state_dir`,
    /// everything else default.
    pub fn new(docker_host: Option<String>, state_dir: impl Into<PathBuf>) -> Self {
        Self {
            docker_host,
            state_dir: state_dir.into(),
            ..Self::default()
        }
    }

    /// Builds a configuration from a settings table: the keys of [`SETTINGS`] (the binary's
    /// environment variable names, `DOCKER_HOST` written `docker_host`), values as the
    /// variables would hold them (empty = unset), the same defaults. Relative `state_dir` and
    /// `docker_config` are resolved against `base_dir`. A key not in [`SETTINGS`] is an error
    /// naming the valid ones.
    pub fn from_settings(
        settings: &BTreeMap<String, String>,
        base_dir: &Path,
    ) -> Result<Self, ConfigError> {
        if let Some(key) = settings.keys().find(|k| !SETTINGS.contains(&k.as_str())) {
            return Err(ConfigError::Unknown {
                key: key.clone(),
                known: SETTINGS,
            });
        }
        let get = |name: &str| {
            settings
                .get(name)
                .map(|v| v.trim().to_string())
                .filter(|v| !v.is_empty())
        };
        let mut config = Self {
            docker_host: get("docker_host"),
            ..Self::default()
        };
        if let Some(dir) = get("state_dir") {
            config.state_dir = base_dir.join(dir);
        }
        if let Some(network) = get("docker_network") {
            if network == "host" {
                // Explicit host networking: keep the default.
            } else {
                config.networking = Networking::Network(network);
            }
        }
        if let Networking::Host { bind, ports } = &mut config.networking {
            if let Some(value) = get("port_range") {
                *ports = parse_port_range(&value).map_err(|reason| ConfigError::Invalid {
                    name: "port_range",
                    value: value.clone(),
                    reason,
                })?;
            }
            if let Some(value) = get("function_bind") {
                *bind = value.parse().map_err(|e| ConfigError::Invalid {
                    name: "function_bind",
                    value: value.clone(),
                    reason: format!("{e}"),
                })?;
            }
        }
        if let Some(scope) = get("scope") {
            if !is_label_value(&scope) {
                return Err(ConfigError::Invalid {
                    name: "scope",
                    value: scope,
                    reason: "use letters, digits, '-', '_' and '.'".into(),
                });
            }
            config.scope = scope;
        }
        if let Some(value) = get("image_pull_policy") {
            config.pull_policy = value.parse().map_err(|reason| ConfigError::Invalid {
                name: "image_pull_policy",
                value,
                reason,
            })?;
        }
        config.docker_config = get("docker_config").map(|path| base_dir.join(path));
        for (name, slot) in [
            ("startup_timeout", &mut config.startup_timeout),
            ("health_interval", &mut config.health_interval),
            ("stop_timeout", &mut config.stop_timeout),
            ("pull_timeout", &mut config.pull_timeout),
        ] {
            if let Some(value) = get(name) {
                *slot = parse_duration(&value).map_err(|reason| ConfigError::Invalid {
                    name,
                    value: value.clone(),
                    reason,
                })?;
            }
        }
        for (name, slot) in [
            ("max_replicas", &mut config.max_replicas),
            ("warm_default", &mut config.warm_default),
            ("warm_max", &mut config.warm_max),
        ] {
            if let Some(value) = get(name) {
                *slot = value.parse().map_err(|e| ConfigError::Invalid {
                    name,
                    value: value.clone(),
                    reason: format!("{e}"),
                })?;
            }
        }
        Ok(config)
    }

    /// [`DockerConfig::from_settings`] over the process environment ([`env_settings`]);
    /// relative paths stay relative to the working directory.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_settings(&env_settings(), Path::new(""))
    }

    /// The Docker config file to read registry credentials from, if any.
    pub(crate) fn credentials_file(&self) -> Option<PathBuf> {
        self.docker_config
            .clone()
            .or_else(registry_auth::default_path)
    }
}

/// `20000-29999` → `(20000, 29999)`.
pub fn parse_port_range(text: &str) -> Result<(u16, u16), String> {
    let (low, high) = text
        .split_once('-')
        .ok_or_else(|| "expected FIRST-LAST, e.g. 20000-29999".to_string())?;
    let low: u16 = low.trim().parse().map_err(|e| format!("{e}"))?;
    let high: u16 = high.trim().parse().map_err(|e| format!("{e}"))?;
    if low == 0 || low > high {
        return Err("expected 0 < FIRST <= LAST".into());
    }
    Ok((low, high))
}

fn is_label_value(text: &str) -> bool {
    !text.is_empty()
        && text.len() <= 63
        && text
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table(vars: &[(&str, &str)]) -> BTreeMap<String, String> {
        vars.iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    fn config(vars: &[(&str, &str)]) -> Result<DockerConfig, ConfigError> {
        DockerConfig::from_settings(&table(vars), Path::new("/etc/faas"))
    }

    #[test]
    fn defaults() {
        let c = config(&[]).unwrap();
        assert_eq!(c, DockerConfig::default());
        assert_eq!(
            c.networking,
            Networking::Host {
                bind: Ipv4Addr::LOCALHOST,
                ports: (20000, 29999)
            }
        );
    }

    #[test]
    fn every_variable() {
        let c = config(&[
            ("docker_host", "unix:///tmp/d.sock"),
            ("state_dir", "/tmp/state"),
            ("port_range", "31000-31009"),
            ("scope", "ci-1"),
            ("image_pull_policy", "IfNotPresent"),
            ("docker_config", "/tmp/config.json"),
            ("startup_timeout", "90s"),
            ("health_interval", "500ms"),
            ("stop_timeout", "3"),
            ("max_replicas", "5"),
            ("pull_timeout", "2m"),
            ("warm_default", "1"),
            ("warm_max", "4"),
        ])
        .unwrap();
        assert_eq!(c.docker_host.as_deref(), Some("unix:///tmp/d.sock"));
        assert_eq!(c.state_dir, PathBuf::from("/tmp/state"));
        assert_eq!(
            c.networking,
            Networking::Host {
                bind: Ipv4Addr::LOCALHOST,
                ports: (31000, 31009)
            }
        );
        assert_eq!(c.scope, "ci-1");
        assert_eq!(c.pull_policy, PullPolicy::IfNotPresent);
        assert_eq!(c.startup_timeout, Duration::from_secs(90));
        assert_eq!(c.health_interval, Duration::from_millis(500));
        assert_eq!(c.stop_timeout, Duration::from_secs(3));
        assert_eq!(c.max_replicas, 5);
        assert_eq!(c.pull_timeout, Duration::from_secs(120));
        assert_eq!((c.warm_default, c.warm_max), (1, 4));

        let c = config(&[("docker_network", "faas-net")]).unwrap();
        assert_eq!(c.networking, Networking::Network("faas-net".into()));
    }

    #[test]
    fn bad_values_name_the_variable() {
        for (name, value) in [
            ("port_range", "30000"),
            ("port_range", "3-2"),
            ("port_range", "0-10"),
            ("function_bind", "localhost"),
            ("scope", "a b"),
            ("image_pull_policy", "sometimes"),
            ("startup_timeout", "ten"),
            ("max_replicas", "-1"),
            ("warm_default", "some"),
            ("warm_max", "-2"),
        ] {
            let err = config(&[(name, value)]).unwrap_err().to_string();
            assert!(err.starts_with(name), "{err}");
        }
    }

    #[test]
    fn unknown_keys_are_refused_naming_the_valid_ones() {
        for key in ["colour", "DOCKER_HOST", "port"] {
            let err = config(&[(key, "x")]).unwrap_err();
            assert!(matches!(err, ConfigError::Unknown { .. }), "{err:?}");
            let text = err.to_string();
            assert!(text.contains(&format!("unknown field {key:?}")), "{text}");
            for valid in SETTINGS {
                assert!(text.contains(valid), "{text} lacks {valid}");
            }
        }
    }

    #[test]
    fn relative_paths_are_resolved_against_the_base_dir() {
        let c = config(&[
            ("state_dir", "state"),
            ("docker_config", "docker/config.json"),
        ])
        .unwrap();
        assert_eq!(c.state_dir, PathBuf::from("/etc/faas/state"));
        assert_eq!(
            c.docker_config,
            Some(PathBuf::from("/etc/faas/docker/config.json"))
        );
        let c = config(&[("state_dir", "/var/state"), ("docker_config", "/c.json")]).unwrap();
        assert_eq!(c.state_dir, PathBuf::from("/var/state"));
        assert_eq!(c.docker_config, Some(PathBuf::from("/c.json")));
        // An empty base (the binary's: the working directory) leaves them as they are.
        let c =
            DockerConfig::from_settings(&table(&[("state_dir", "state")]), Path::new("")).unwrap();
        assert_eq!(c.state_dir, PathBuf::from("state"));
    }

    #[test]
    fn empty_values_are_unset_and_defaults_apply() {
        let c = config(&[
            ("docker_host", " "),
            ("state_dir", ""),
            ("docker_network", "host"),
            ("max_replicas", ""),
        ])
        .unwrap();
        assert_eq!(c, DockerConfig::default());
        assert_eq!(c.state_dir, PathBuf::from(DEFAULT_STATE_DIR));
        assert_eq!(c.scope, "default");
        assert_eq!(c.pull_policy, PullPolicy::Always);
        assert_eq!(c.startup_timeout, Duration::from_secs(60));
        assert_eq!(c.max_replicas, 20);
        assert_eq!((c.warm_default, c.warm_max), (0, DEFAULT_WARM_MAX));
    }
}
