//! Server configuration with OpenFaaS's environment names and defaults.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::time::Duration;

/// Default port, as the Go SDK.
pub const DEFAULT_PORT: u16 = 8080;
/// Default read/write timeout, as the Go SDK.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);
/// Default directory of `basic-auth-user` / `basic-auth-password`.
pub const DEFAULT_SECRET_MOUNT_PATH: &str = "/run/secrets/";
/// Default limit of a request body on `/system/*` routes (invocations stream and are not buffered).
pub const DEFAULT_MAX_BODY_BYTES: usize = 4 * 1024 * 1024;

/// A configuration value that could not be used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// A variable's value does not parse.
    #[error("{name}: invalid value {value:?}: {reason}")]
    Invalid {
        /// Variable name.
        name: String,
        /// Its value.
        value: String,
        /// What is wrong.
        reason: String,
    },
    /// Basic auth is on but a credential file cannot be read.
    #[error("basic auth is enabled but {path} cannot be read: {source}")]
    Credentials {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
}

/// How the provider server listens and protects itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerConfig {
    /// Address to bind (`bind`, default 127.0.0.1; set `0.0.0.0` to serve other hosts).
    pub bind: IpAddr,
    /// TCP port (`port`, default 8080).
    pub port: u16,
    /// Bound on reading a request and on an invocation's total time (`read_timeout`).
    pub read_timeout: Duration,
    /// Bound on writing a response and on log streams (`write_timeout`).
    pub write_timeout: Duration,
    /// Require basic auth on `/system/*` (`basic_auth=true`).
    pub basic_auth: bool,
    /// Directory of `basic-auth-user` and `basic-auth-password` (`secret_mount_path`).
    pub secret_mount_path: PathBuf,
    /// Largest accepted body on `/system/*` routes (`max_body_bytes`).
    pub max_body_bytes: usize,
    /// The level of the one log line written per invocation (`access_log`, default `debug`).
    pub access_log: AccessLog,
    /// Bound on an invocation, request to response head, when set; else the larger of
    /// `read_timeout` and `write_timeout`, as the Go SDK's proxy. Not read from the
    /// environment: a program serving a provider that bounds invocations itself (the
    /// federation's `upstream_timeout`) sets it.
    pub invoke_timeout: Option<Duration>,
}

/// The level of the access log line written per invocation (`access_log`: `off`, `error`,
/// `warn`, `info`, `debug` or `trace`); the line is written when the log filter lets that
/// level through.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum AccessLog {
    /// No access log.
    Off,
    /// At `error`.
    Error,
    /// At `warn`.
    Warn,
    /// At `info`.
    Info,
    /// At `debug` (the default: seen with `RUST_LOG=debug`, or `access_log=info`).
    #[default]
    Debug,
    /// At `trace`.
    Trace,
}

impl std::str::FromStr for AccessLog {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        match text.trim().to_ascii_lowercase().as_str() {
            "off" | "false" | "none" => Ok(Self::Off),
            "error" => Ok(Self::Error),
            "warn" => Ok(Self::Warn),
            "info" => Ok(Self::Info),
            "debug" => Ok(Self::Debug),
            "trace" => Ok(Self::Trace),
            _ => Err("expected off, error, warn, info, debug or trace".into()),
        }
    }
}

impl Default for ServerConfig {
    fn default() -> Self {
        Self {
            bind: IpAddr::V4(Ipv4Addr::LOCALHOST),
            port: DEFAULT_PORT,
            read_timeout: DEFAULT_TIMEOUT,
            write_timeout: DEFAULT_TIMEOUT,
            basic_auth: false,
            secret_mount_path: PathBuf::from(DEFAULT_SECRET_MOUNT_PATH),
            max_body_bytes: DEFAULT_MAX_BODY_BYTES,
            access_log: AccessLog::default(),
            invoke_timeout: None,
        }
    }
}

impl ServerConfig {
    /// Reads the OpenFaaS variables (`port`, `read_timeout`, `write_timeout`, `basic_auth`,
    /// `secret_mount_path`) plus `bind`, `max_body_bytes` and `access_log` from the process
    /// environment.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Same as [`ServerConfig::from_env`] over any lookup function (tests inject a map).
    /// Unset or empty variables keep their defaults; timeouts ≤ 0 fall back to 10 s as in Go.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let get = |name: &str| {
            lookup(name)
                .map(|v| v.trim().to_string())
                .filter(|v| !v.is_empty())
        };
        let mut config = Self::default();
        if let Some(value) = get("bind") {
            config.bind = value.parse().map_err(|e| invalid("bind", &value, e))?;
        }
        if let Some(value) = get("port") {
            config.port = value.parse().map_err(|e| invalid("port", &value, e))?;
        }
        for (name, slot) in [
            ("read_timeout", &mut config.read_timeout),
            ("write_timeout", &mut config.write_timeout),
        ] {
            if let Some(value) = get(name) {
                let parsed = parse_duration(&value).map_err(|e| invalid(name, &value, e))?;
                *slot = if parsed.is_zero() {
                    DEFAULT_TIMEOUT
                } else {
                    parsed
                };
            }
        }
        if let Some(value) = get("basic_auth") {
            config.basic_auth = parse_bool(&value)
                .ok_or_else(|| invalid("basic_auth", &value, "expected true or false"))?;
        }
        if let Some(value) = get("secret_mount_path") {
            config.secret_mount_path = PathBuf::from(value);
        }
        if let Some(value) = get("max_body_bytes") {
            config.max_body_bytes = value
                .parse()
                .map_err(|e| invalid("max_body_bytes", &value, e))?;
        }
        if let Some(value) = get("access_log") {
            config.access_log = value
                .parse()
                .map_err(|e| invalid("access_log", &value, e))?;
        }
        Ok(config)
    }

    /// How long the server waits for an invocation's response head before answering 504:
    /// `invoke_timeout` when set, else `max(read_timeout, write_timeout)`.
    pub fn invoke_bound(&self) -> Duration {
        self.invoke_timeout
            .unwrap_or(self.read_timeout.max(self.write_timeout))
    }

    /// The socket address to bind.
    pub fn socket_addr(&self) -> SocketAddr {
        SocketAddr::new(self.bind, self.port)
    }
}

fn invalid(name: &str, value: &str, reason: impl ToString) -> ConfigError {
    ConfigError::Invalid {
        name: name.to_string(),
        value: value.to_string(),
        reason: reason.to_string(),
    }
}

/// Parses a boolean as Go's `strconv.ParseBool`: 1/t/T/TRUE/true/True and 0/f/F/FALSE/false/False,
/// ignoring surrounding whitespace (environment values often carry a stray space or newline).
pub fn parse_bool(text: &str) -> Option<bool> {
    match text.trim() {
        "1" | "t" | "T" | "TRUE" | "true" | "True" => Some(true),
        "0" | "f" | "F" | "FALSE" | "false" | "False" => Some(false),
        _ => None,
    }
}

/// Parses a timeout as OpenFaaS does: integer seconds (`"30"`) or a Go duration (`"1m30s"`,
/// `"500ms"`, `"1.5h"`; units ns, us, µs, ms, s, m, h). Negative values are rejected.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    if let Ok(seconds) = text.parse::<u64>() {
        return Ok(Duration::from_secs(seconds));
    }
    if text == "0" {
        return Ok(Duration::ZERO);
    }
    let mut rest = text.strip_prefix('+').unwrap_or(text);
    if rest.starts_with('-') {
        return Err("negative durations are not allowed".into());
    }
    if rest.is_empty() {
        return Err("empty duration".into());
    }
    let mut total = 0f64;
    while !rest.is_empty() {
        let number_len = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        if number_len == 0 {
            return Err(format!("expected a number at {rest:?}"));
        }
        let number: f64 = rest[..number_len]
            .parse()
            .map_err(|_| format!("bad number {:?}", &rest[..number_len]))?;
        rest = &rest[number_len..];
        let unit_len = rest
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(rest.len());
        let scale = match &rest[..unit_len] {
            "ns" => 1e-9,
            "us" | "µs" | "μs" => 1e-6,
            "ms" => 1e-3,
            "s" => 1.0,
            "m" => 60.0,
            "h" => 3600.0,
            "" => return Err("missing unit (use s, ms, m, h...)".into()),
            other => return Err(format!("unknown unit {other:?}")),
        };
        rest = &rest[unit_len..];
        total += number * scale;
    }
    Duration::try_from_secs_f64(total).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    #[test]
    fn durations_like_go() {
        assert_eq!(parse_duration("30").unwrap(), Duration::from_secs(30));
        assert_eq!(parse_duration("1m30s").unwrap(), Duration::from_secs(90));
        assert_eq!(parse_duration("500ms").unwrap(), Duration::from_millis(500));
        assert_eq!(parse_duration("1.5h").unwrap(), Duration::from_secs(5400));
        assert_eq!(parse_duration("0s").unwrap(), Duration::ZERO);
        for bad in ["", "-1s", "10x", "s", "1.2.3s"] {
            assert!(parse_duration(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn booleans_like_go_around_whitespace() {
        for (text, expected) in [
            ("1", true),
            ("t", true),
            ("T", true),
            ("TRUE", true),
            ("true", true),
            ("True", true),
            (" true\n", true),
            ("0", false),
            ("f", false),
            ("F", false),
            ("FALSE", false),
            ("false", false),
            ("False", false),
            ("\t0 ", false),
        ] {
            assert_eq!(parse_bool(text), Some(expected), "{text:?}");
        }
        for bad in ["", "yes", "tRUE", "on", "2"] {
            assert_eq!(parse_bool(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn config_from_lookup() {
        let env: HashMap<&str, &str> = [
            ("port", "9090"),
            ("read_timeout", "1m"),
            ("write_timeout", "0"),
            ("basic_auth", "true"),
        ]
        .into();
        let config = ServerConfig::from_lookup(|k| env.get(k).map(|v| v.to_string())).unwrap();
        assert_eq!(config.port, 9090);
        assert_eq!(config.read_timeout, Duration::from_secs(60));
        assert_eq!(config.write_timeout, DEFAULT_TIMEOUT);
        assert!(config.basic_auth);
        let bad: HashMap<&str, &str> = [("port", "http")].into();
        assert!(ServerConfig::from_lookup(|k| bad.get(k).map(|v| v.to_string())).is_err());
    }

    #[test]
    fn access_log_level_from_lookup() {
        let read = |value: &str| {
            ServerConfig::from_lookup(|k| (k == "access_log").then(|| value.to_string()))
        };
        assert_eq!(read("").unwrap().access_log, AccessLog::Debug);
        assert_eq!(read("INFO").unwrap().access_log, AccessLog::Info);
        assert_eq!(read("off").unwrap().access_log, AccessLog::Off);
        let error = read("loud").unwrap_err().to_string();
        assert!(
            error.contains("access_log") && error.contains("off, error"),
            "{error}"
        );
    }
}
