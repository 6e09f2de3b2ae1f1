//! The TOML file: its schema, the federation's own keys of each `[[backends]]` entry
//! (`name`, `kind`, `url`, credentials, timeouts, capabilities), and the hand-off of the other
//! keys to the backend's kind (see [`super::kinds`]).

use std::path::{Path, PathBuf};
use std::time::Duration;

use faas_provider::config::parse_duration;
use serde::Deserialize;

use super::error::{ConfigError, invalid};
use super::kinds::{self, KNOWN_KINDS, Table};
use super::model::{
    BackendConfig, BackendSpec, CapabilityOverrides, Credentials, DEFAULT_BACKEND_TIMEOUT,
    DEFAULT_HEALTH_INTERVAL, FederationConfig,
};
use super::settings::Settings;

/// A duration in the file: integer seconds or a Go duration string. Any TOML value is taken
/// here and judged by [`DurationValue::parse`], so a mistyped one is refused naming its key
/// and the accepted forms (serde's untagged enums only say that no variant matched).
#[derive(Debug, Deserialize)]
#[serde(transparent)]
struct DurationValue(toml::Value);

/// What a duration may look like, for error messages.
const DURATION_FORMS: &str = r#"expected e.g. "30s", "5m", "1h30m" or a number of seconds"#;

impl DurationValue {
    fn parse(&self, what: &str) -> Result<Duration, ConfigError> {
        let duration = match &self.0 {
            toml::Value::Integer(seconds) => u64::try_from(*seconds)
                .map(Duration::from_secs)
                .map_err(|_| {
                    invalid(format!(
                        "{what}: invalid duration {seconds} ({DURATION_FORMS})"
                    ))
                })?,
            toml::Value::String(text) => parse_duration(text).map_err(|_| {
                invalid(format!(
                    "{what}: invalid duration {text:?} ({DURATION_FORMS})"
                ))
            })?,
            other => {
                let shown = match other {
                    toml::Value::Float(number) => number.to_string(),
                    toml::Value::Boolean(flag) => flag.to_string(),
                    toml::Value::Array(_) => "[...]".to_string(),
                    toml::Value::Table(_) => "{...}".to_string(),
                    _ => "(a date)".to_string(),
                };
                return Err(invalid(format!(
                    "{what}: invalid duration {shown} ({DURATION_FORMS})"
                )));
            }
        };
        if duration.is_zero() {
            return Err(invalid(format!("{what} must be greater than zero")));
        }
        Ok(duration)
    }
}

/// The file's top level: the federation's keys, its backends, and the settings of
/// [`super::SETTINGS`] (checked by [`Settings::apply`]).
#[derive(Debug, Deserialize)]
struct FileConfig {
    default_backend: Option<String>,
    health_interval: Option<DurationValue>,
    #[serde(default)]
    backends: Vec<FileBackend>,
    #[serde(flatten)]
    settings: Table,
}

/// One `[[backends]]` entry. Keys that are not the federation's are collected in `settings`
/// and checked per kind (the in-process docker and lambda kinds take their provider's
/// settings there).
#[derive(Debug, Deserialize)]
struct FileBackend {
    name: String,
    kind: String,
    url: Option<String>,
    user: Option<String>,
    password: Option<String>,
    password_file: Option<PathBuf>,
    timeout: Option<DurationValue>,
    invoke_timeout: Option<DurationValue>,
    deploy_timeout: Option<DurationValue>,
    #[serde(default)]
    capabilities: CapabilityOverrides,
    #[serde(flatten)]
    settings: Table,
}

impl FileBackend {
    /// True when one of the remote-only keys is set.
    fn has_remote_keys(&self) -> bool {
        self.url.is_some()
            || self.user.is_some()
            || self.password.is_some()
            || self.password_file.is_some()
    }
}

impl FederationConfig {
    /// Reads and validates a TOML file; relative `password_file`s (and relative paths in the
    /// settings of docker and lambda backends) are resolved against the file's directory.
    pub fn from_file(path: &Path) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        let base = path.parent().unwrap_or(Path::new("."));
        Self::from_toml(&text, base).map_err(|e| match e {
            ConfigError::Parse { message, .. } => ConfigError::Parse {
                path: path.to_path_buf(),
                message,
            },
            ConfigError::Invalid(message) => ConfigError::Parse {
                path: path.to_path_buf(),
                message,
            },
            other => other,
        })
    }

    /// Parses and validates TOML text; relative paths are resolved against `base`.
    pub fn from_toml(text: &str, base: &Path) -> Result<Self, ConfigError> {
        let file: FileConfig = toml::from_str(text).map_err(|e| ConfigError::Parse {
            path: PathBuf::from("<toml>"),
            message: e.to_string(),
        })?;
        let mut backends = Vec::with_capacity(file.backends.len());
        for (index, raw) in file.backends.into_iter().enumerate() {
            backends.push(backend_from_file(index, raw, base)?);
        }
        let default_backend = match file.default_backend {
            Some(name) => name,
            None => backends
                .first()
                .map(|b| b.name.clone())
                .ok_or_else(|| invalid("at least one [[backends]] entry is required"))?,
        };
        let health_interval = match file.health_interval {
            Some(value) => value.parse("health_interval")?,
            None => DEFAULT_HEALTH_INTERVAL,
        };
        let mut settings = Settings::default();
        let table = kinds::settings_text(&file.settings).map_err(invalid)?;
        settings.apply(&table).map_err(invalid)?;
        let config = Self {
            backends,
            default_backend,
            health_interval,
            settings,
        };
        config.validate()
    }
}

fn backend_from_file(
    index: usize,
    raw: FileBackend,
    base: &Path,
) -> Result<BackendConfig, ConfigError> {
    let name = raw.name.trim().to_string();
    let what = |field: &str| format!("backends[{index}] ({name}): {field}");
    let kind = raw.kind.as_str();
    if kind != "http" && KNOWN_KINDS.contains(&kind) && raw.has_remote_keys() {
        return Err(invalid(what(&format!(
            "a {kind} backend takes no url, user, password or password_file"
        ))));
    }
    let spec = match kind {
        "memory" => {
            kinds::check_keys(kind, &raw.settings, &[]).map_err(|reason| invalid(what(&reason)))?;
            BackendSpec::Memory
        }
        "http" => {
            kinds::check_keys(kind, &raw.settings, &[]).map_err(|reason| invalid(what(&reason)))?;
            let url = raw
                .url
                .filter(|u| !u.trim().is_empty())
                .ok_or_else(|| invalid(what("url is required for kind \"http\"")))?;
            let credentials = credentials(&raw.user, raw.password, raw.password_file, base)
                .map_err(|reason| invalid(what(&reason)))?;
            BackendSpec::Http {
                url: url.trim().to_string(),
                credentials,
            }
        }
        #[cfg(feature = "docker")]
        "docker" => kinds::docker(&raw.settings, base).map_err(|reason| invalid(what(&reason)))?,
        #[cfg(feature = "lambda")]
        "lambda" => kinds::lambda(&raw.settings, base).map_err(|reason| invalid(what(&reason)))?,
        other if ["docker", "lambda"].contains(&other) => {
            return Err(invalid(what(&format!(
                "kind {other:?} needs the `{other}` feature of the federation crate, which this build does not have (known kinds: {})",
                KNOWN_KINDS.join(", ")
            ))));
        }
        other => {
            return Err(invalid(what(&format!(
                "unknown kind {other:?} (known kinds: {})",
                KNOWN_KINDS.join(", ")
            ))));
        }
    };
    let timeout = match raw.timeout {
        Some(v) => v.parse(&what("timeout"))?,
        None => DEFAULT_BACKEND_TIMEOUT,
    };
    let invoke_timeout = match raw.invoke_timeout {
        Some(v) => Some(v.parse(&what("invoke_timeout"))?),
        None => None,
    };
    let deploy_timeout = match raw.deploy_timeout {
        Some(v) => Some(v.parse(&what("deploy_timeout"))?),
        None => None,
    };
    Ok(BackendConfig {
        name,
        spec,
        timeout,
        invoke_timeout,
        deploy_timeout,
        capabilities: raw.capabilities,
    })
}

fn credentials(
    user: &Option<String>,
    password: Option<String>,
    password_file: Option<PathBuf>,
    base: &Path,
) -> Result<Option<Credentials>, String> {
    let password = match (password, password_file) {
        (Some(_), Some(_)) => return Err("set password or password_file, not both".into()),
        (Some(p), None) => Some(p),
        (None, Some(file)) => {
            let path = if file.is_absolute() {
                file
            } else {
                base.join(file)
            };
            let text = std::fs::read_to_string(&path)
                .map_err(|e| format!("password_file {}: {e}", path.display()))?;
            Some(text.trim().to_string())
        }
        (None, None) => None,
    };
    match (user, password) {
        (None, None) => Ok(None),
        (Some(user), Some(password)) if !user.trim().is_empty() => Ok(Some(Credentials {
            user: user.trim().to_string(),
            password,
        })),
        (Some(_), None) => Err("user needs a password or password_file".into()),
        (None, Some(_)) => Err("password needs a user".into()),
        (Some(_), Some(_)) => Err("user must not be empty".into()),
    }
}
