//! Watchdog configuration, read from the OpenFaaS environment variable names.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::str::FromStr;
use std::time::Duration;

pub use faas_provider::config::{parse_bool, parse_duration};

/// Default for `read_timeout`, `write_timeout` and `exec_timeout` (of-watchdog documents 30 s each).
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);

/// Default listening port (`port`).
pub const DEFAULT_PORT: u16 = 8080;

/// Default for `middleware_max_body_bytes`: Lambda's synchronous payload limit, so a request
/// that works through middlewares on one backend works on the other.
pub const DEFAULT_MIDDLEWARE_MAX_BODY: usize = 6 * 1024 * 1024;

/// How the function process is run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Fork `fprocess` per request; stdout is streamed to the client as it is produced
    /// (of-watchdog's default).
    Streaming,
    /// Fork `fprocess` per request; the whole request body is written to stdin and the whole
    /// output is buffered before answering (the classic watchdog; `mode=classic` is an alias).
    Serializing,
    /// Start `fprocess` once and reverse-proxy every request to `upstream_url`.
    Http,
}

impl Mode {
    /// The name used in the `mode` variable.
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Streaming => "streaming",
            Mode::Serializing => "serializing",
            Mode::Http => "http",
        }
    }

    /// Fork modes run one process per request.
    pub fn forks_per_request(self) -> bool {
        !matches!(self, Mode::Http)
    }
}

impl fmt::Display for Mode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Mode {
    type Err = ConfigError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "streaming" => Ok(Mode::Streaming),
            "serializing" | "classic" => Ok(Mode::Serializing),
            "http" => Ok(Mode::Http),
            other => Err(ConfigError::UnsupportedMode(other.to_string())),
        }
    }
}

/// A configuration value that could not be used.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum ConfigError {
    /// `fprocess` (or `function_process`) is unset or blank.
    #[error("fprocess (or function_process) must name the function's command")]
    MissingFprocess,
    /// `mode` is not one this watchdog implements.
    #[error(
        "unsupported mode {0:?}: use streaming, serializing (alias classic) or http (static, inproc and afterburn are not implemented)"
    )]
    UnsupportedMode(String),
    /// http mode without `upstream_url`.
    #[error("mode=http needs upstream_url (or http_upstream_url), e.g. http://127.0.0.1:8082")]
    MissingUpstream,
    /// `upstream_url` is not an `http://IP-or-localhost:port[/path]` URL.
    #[error("invalid upstream_url {value:?}: {reason}")]
    InvalidUpstream {
        /// The value as given.
        value: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A duration variable does not parse.
    #[error(
        "invalid {name}={value:?}: {reason} (use whole seconds like 30 or a Go duration like 1m30s)"
    )]
    InvalidDuration {
        /// Variable name.
        name: &'static str,
        /// The value as given.
        value: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A numeric variable does not parse.
    #[error("invalid {name}={value:?}: expected a non-negative integer")]
    InvalidNumber {
        /// Variable name.
        name: &'static str,
        /// The value as given.
        value: String,
    },
    /// A boolean variable does not parse.
    #[error("invalid {name}={value:?}: expected true or false")]
    InvalidBool {
        /// Variable name.
        name: &'static str,
        /// The value as given.
        value: String,
    },
    /// `bind_address` is not an IP address.
    #[error("invalid bind_address {0:?}: expected an IP address such as 127.0.0.1 or 0.0.0.0")]
    InvalidBindAddress(String),
    /// `SLSMIDDLEWARES` lists a refused name.
    #[error(transparent)]
    Middleware(#[from] middleware::MiddlewareError),
}

/// Everything the watchdog needs to know, immutable after construction.
///
/// Environment variables (read by [`WatchdogConfig::from_lookup`]; empty values count as unset):
///
/// | variable | default | meaning |
/// |---|---|---|
/// | `mode` | `streaming` | `streaming`, `serializing` (alias `classic`) or `http` |
/// | `fprocess` / `function_process` | required | command, split on whitespace, no shell |
/// | `upstream_url` / `http_upstream_url` | required for http | where the http-mode process listens; host must be an IP literal or `localhost` |
/// | `port` | 8080 | listening port (`0` picks a free one; the binary logs `Listening on ADDR`) |
/// | `bind_address` / `listen_address` | `0.0.0.0` | listening IP |
/// | `read_timeout` | 30 s | request header + body read |
/// | `write_timeout` | 30 s | bounds the whole response (0 disables) and the drain after SIGTERM |
/// | `exec_timeout` | 30 s | process run time / upstream call (0 disables) → 504 |
/// | `healthcheck_interval` | 0 | after SIGTERM, keep serving with health 503 this long before draining |
/// | `max_inflight` | 0 (unlimited) | concurrent invocations, 429 above |
/// | `content_type` | request's | response `Content-Type` in fork modes |
/// | `combine_output` | true | serializing: stderr is part of the response body |
/// | `cgi_headers` | true | fork modes: inject `Http_*` variables |
/// | `suppress_lock` | false | do not write `$TMPDIR/.lock` (health stays 503 until someone writes it) |
/// | `http_buffer_req_body` / `buffer_http` | false | http mode: buffer the body and send Content-Length |
/// | `TMPDIR` | `/tmp` | directory of the `.lock` file (Go's `os.TempDir()`) |
/// | `SLSMIDDLEWARES` | none | middlewares run around every call, comma-separated (see the crate docs) |
/// | `SLSMIDDLEWARES_DIR` | `/opt/middlewares` | where the middleware executables are |
/// | `middleware_max_body_bytes` | 6 MiB | with middlewares: the largest request and response body (413 / 502 past it) |
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WatchdogConfig {
    /// Execution mode.
    pub mode: Mode,
    /// The function command: program and arguments.
    pub fprocess: Vec<String>,
    /// http mode: the base URL requests are proxied to.
    pub upstream_url: Option<UpstreamUrl>,
    /// Listening address.
    pub bind_address: IpAddr,
    /// Listening port.
    pub port: u16,
    /// Time allowed to read a request (headers and, in fork modes, the body).
    pub read_timeout: Duration,
    /// Upper bound of a whole invocation and of the drain after SIGTERM; zero disables the
    /// per-invocation bound.
    pub write_timeout: Duration,
    /// Kill the process (fork modes) or abandon the upstream call (http) after this long; zero disables.
    pub exec_timeout: Duration,
    /// After SIGTERM: how long to keep serving (with health 503) before draining.
    pub healthcheck_interval: Duration,
    /// Maximum concurrent invocations (`None` = unlimited).
    pub max_inflight: Option<usize>,
    /// Response Content-Type in fork modes (else the request's Content-Type is mirrored).
    pub content_type: Option<String>,
    /// Serializing mode: stdout and stderr both go to the response body.
    pub combine_output: bool,
    /// Fork modes: set the `Http_*` variables.
    pub cgi_headers: bool,
    /// Do not write the lock file.
    pub suppress_lock: bool,
    /// The lock file whose presence makes `/_/health` answer 200.
    pub lock_path: PathBuf,
    /// http mode: read the whole request body before proxying (sends Content-Length upstream).
    pub buffer_http_body: bool,
    /// The function process's environment: `None` inherits the watchdog's; `Some` replaces it
    /// with exactly these variables (embedders such as a Lambda bootstrap that run an image's
    /// program outside the image set its config Env here). Not read from the environment.
    pub process_env: Option<Vec<(String, String)>>,
    /// The function process's working directory (`None`: the watchdog's). Not read from the
    /// environment.
    pub working_dir: Option<PathBuf>,
    /// The `argv[0]` the function process sees (`None`: `fprocess[0]`). Useful when
    /// `fprocess[0]` is a loader or a resolved path but the program expects its own name (a
    /// busybox applet). Not read from the environment.
    pub argv0: Option<String>,
    /// The middlewares (`SLSMIDDLEWARES`), in `before` order; empty: none, and no buffering.
    pub middlewares: Vec<String>,
    /// Where the middleware executables are (`SLSMIDDLEWARES_DIR`).
    pub middleware_dir: PathBuf,
    /// With middlewares, the largest request body (413 past it) and function response (502).
    pub middleware_max_body_bytes: usize,
}

/// Extra variables for the process of one fork-mode invocation, passed as a request extension:
/// `request.extensions_mut().insert(ProcessEnv(vec![("_X_AMZN_TRACE_ID".into(), id)]))`.
/// They are set after the configured environment and the `Http_*` variables. http mode ignores
/// them (its process is started once).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProcessEnv(pub Vec<(String, String)>);

/// An http-mode upstream: `http://HOST:PORT[/base]` where HOST is an IP literal or `localhost`.
///
/// Only literal addresses are accepted so the static binary never needs the resolver (glibc's
/// `getaddrinfo` does not work in a `FROM scratch` image).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UpstreamUrl {
    /// The address to connect to.
    pub addr: SocketAddr,
    /// The `Host`-style authority as written (e.g. `localhost:8082`).
    pub authority: String,
    /// Path prefix without a trailing slash (often empty).
    pub base_path: String,
}

impl UpstreamUrl {
    /// Parse `http://127.0.0.1:8082`, `http://localhost:3000/api`...
    pub fn parse(value: &str) -> Result<Self, ConfigError> {
        let bad = |reason: &str| ConfigError::InvalidUpstream {
            value: value.to_string(),
            reason: reason.to_string(),
        };
        let rest = value
            .trim()
            .strip_prefix("http://")
            .ok_or_else(|| bad("only http:// upstreams are supported"))?;
        let (authority, path) = match rest.find('/') {
            Some(i) => (&rest[..i], &rest[i..]),
            None => (rest, ""),
        };
        if path.contains('?') || path.contains('#') {
            return Err(bad("must not contain a query or fragment"));
        }
        let (host, port) = if let Some(stripped) = authority.strip_prefix('[') {
            let (h, p) = stripped
                .split_once("]:")
                .ok_or_else(|| bad("IPv6 hosts need the form [::1]:PORT"))?;
            (h, p)
        } else {
            authority
                .rsplit_once(':')
                .ok_or_else(|| bad("an explicit port is required"))?
        };
        let port: u16 = port.parse().map_err(|_| bad("invalid port"))?;
        if port == 0 {
            return Err(bad("port must not be 0"));
        }
        let ip: IpAddr = if host.eq_ignore_ascii_case("localhost") {
            IpAddr::V4(Ipv4Addr::LOCALHOST)
        } else {
            host.parse()
                .map_err(|_| bad("host must be an IP address or localhost"))?
        };
        Ok(UpstreamUrl {
            addr: SocketAddr::new(ip, port),
            authority: authority.to_string(),
            base_path: path.trim_end_matches('/').to_string(),
        })
    }
}

impl WatchdogConfig {
    /// A configuration with every default, for library users that do not read the environment.
    pub fn new(mode: Mode, fprocess: Vec<String>) -> Self {
        WatchdogConfig {
            mode,
            fprocess,
            upstream_url: None,
            bind_address: IpAddr::V4(Ipv4Addr::UNSPECIFIED),
            port: DEFAULT_PORT,
            read_timeout: DEFAULT_TIMEOUT,
            write_timeout: DEFAULT_TIMEOUT,
            exec_timeout: DEFAULT_TIMEOUT,
            healthcheck_interval: Duration::ZERO,
            max_inflight: None,
            content_type: None,
            combine_output: true,
            cgi_headers: true,
            suppress_lock: false,
            lock_path: PathBuf::from("/tmp/.lock"),
            buffer_http_body: false,
            process_env: None,
            working_dir: None,
            argv0: None,
            middlewares: Vec::new(),
            middleware_dir: PathBuf::from(middleware::DEFAULT_DIR),
            middleware_max_body_bytes: DEFAULT_MIDDLEWARE_MAX_BODY,
        }
    }

    /// Read the configuration from the process environment.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Read the configuration through `lookup` (a seam for tests and for embedders such as a
    /// Lambda bootstrap that take the variables from an image config).
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let get = |name: &str| lookup(name).filter(|v| !v.trim().is_empty());
        let mode = match get("mode") {
            Some(m) => m.parse()?,
            None => Mode::Streaming,
        };
        let fprocess: Vec<String> = get("fprocess")
            .or_else(|| get("function_process"))
            .map(|v| v.split_whitespace().map(str::to_string).collect())
            .unwrap_or_default();
        if fprocess.is_empty() {
            return Err(ConfigError::MissingFprocess);
        }
        let mut config = WatchdogConfig::new(mode, fprocess);
        if mode == Mode::Http {
            let url = get("upstream_url")
                .or_else(|| get("http_upstream_url"))
                .ok_or(ConfigError::MissingUpstream)?;
            config.upstream_url = Some(UpstreamUrl::parse(&url)?);
        }
        if let Some(addr) = get("bind_address").or_else(|| get("listen_address")) {
            config.bind_address = addr
                .trim()
                .parse()
                .map_err(|_| ConfigError::InvalidBindAddress(addr.clone()))?;
        }
        if let Some(port) = get("port") {
            config.port = port
                .trim()
                .parse()
                .map_err(|_| ConfigError::InvalidNumber {
                    name: "port",
                    value: port.clone(),
                })?;
        }
        let duration = |name: &'static str, default: Duration| match get(name) {
            Some(v) => parse_duration(&v).map_err(|reason| ConfigError::InvalidDuration {
                name,
                value: v.clone(),
                reason,
            }),
            None => Ok(default),
        };
        config.read_timeout = duration("read_timeout", DEFAULT_TIMEOUT)?;
        config.write_timeout = duration("write_timeout", DEFAULT_TIMEOUT)?;
        config.exec_timeout = duration("exec_timeout", DEFAULT_TIMEOUT)?;
        config.healthcheck_interval = duration("healthcheck_interval", Duration::ZERO)?;
        if let Some(v) = get("max_inflight") {
            let n: usize = v.trim().parse().map_err(|_| ConfigError::InvalidNumber {
                name: "max_inflight",
                value: v.clone(),
            })?;
            config.max_inflight = (n > 0).then_some(n);
        }
        config.content_type = get("content_type");
        let boolean = |name: &'static str, default: bool| match get(name) {
            Some(v) => parse_bool(&v).ok_or(ConfigError::InvalidBool { name, value: v }),
            None => Ok(default),
        };
        config.combine_output = boolean("combine_output", true)?;
        config.cgi_headers = boolean("cgi_headers", true)?;
        config.suppress_lock = boolean("suppress_lock", false)?;
        config.buffer_http_body =
            boolean("http_buffer_req_body", false)? || boolean("buffer_http", false)?;
        let tmp = get("TMPDIR").unwrap_or_else(|| "/tmp".to_string());
        config.lock_path = PathBuf::from(tmp).join(".lock");
        if let Some(list) = get(middleware::LIST_ENV) {
            config.middlewares = middleware::parse_names(&list)?;
        }
        if let Some(dir) = get(middleware::DIR_ENV) {
            config.middleware_dir = PathBuf::from(dir.trim());
        }
        if let Some(v) = get("middleware_max_body_bytes") {
            config.middleware_max_body_bytes =
                v.trim().parse().map_err(|_| ConfigError::InvalidNumber {
                    name: "middleware_max_body_bytes",
                    value: v.clone(),
                })?;
        }
        Ok(config)
    }

    /// The bound of one invocation: the smaller of the non-zero `exec_timeout` and `write_timeout`.
    pub fn invocation_deadline(&self) -> Option<Duration> {
        [self.exec_timeout, self.write_timeout]
            .into_iter()
            .filter(|d| !d.is_zero())
            .min()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn config(vars: &[(&str, &str)]) -> Result<WatchdogConfig, ConfigError> {
        let map: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        WatchdogConfig::from_lookup(|k| map.get(k).cloned())
    }

    #[test]
    fn defaults() {
        let c = config(&[("fprocess", "cat")]).unwrap();
        assert_eq!(c.mode, Mode::Streaming);
        assert_eq!(c.fprocess, vec!["cat"]);
        assert_eq!(c.port, 8080);
        assert_eq!(c.bind_address, IpAddr::V4(Ipv4Addr::UNSPECIFIED));
        assert_eq!(c.exec_timeout, DEFAULT_TIMEOUT);
        assert_eq!(c.lock_path, PathBuf::from("/tmp/.lock"));
        assert!(c.combine_output && c.cgi_headers && !c.suppress_lock);
        assert_eq!(c.max_inflight, None);
        assert!(c.middlewares.is_empty());
        assert_eq!(c.middleware_dir, PathBuf::from("/opt/middlewares"));
        assert_eq!(c.middleware_max_body_bytes, 6 * 1024 * 1024);
    }

    #[test]
    fn middleware_variables() {
        let c = config(&[
            ("fprocess", "cat"),
            ("SLSMIDDLEWARES", "auth, header"),
            ("SLSMIDDLEWARES_DIR", "/srv/mw"),
            ("middleware_max_body_bytes", "1024"),
        ])
        .unwrap();
        assert_eq!(c.middlewares, ["auth", "header"]);
        assert_eq!(c.middleware_dir, PathBuf::from("/srv/mw"));
        assert_eq!(c.middleware_max_body_bytes, 1024);
        for bad in ["../x", "a/b", "a,,b"] {
            let err = config(&[("fprocess", "cat"), ("SLSMIDDLEWARES", bad)]).unwrap_err();
            assert!(matches!(err, ConfigError::Middleware(_)), "{bad}: {err}");
            assert!(err.to_string().contains("SLSMIDDLEWARES"), "{err}");
        }
        assert!(matches!(
            config(&[("fprocess", "cat"), ("middleware_max_body_bytes", "big")]),
            Err(ConfigError::InvalidNumber { .. })
        ));
    }

    #[test]
    fn every_variable() {
        let c = config(&[
            ("mode", "classic"),
            ("function_process", "  sha512sum  -b "),
            ("port", "9000"),
            ("listen_address", "127.0.0.1"),
            ("read_timeout", "5"),
            ("write_timeout", "1m30s"),
            ("exec_timeout", "0"),
            ("healthcheck_interval", "250ms"),
            ("max_inflight", "3"),
            ("content_type", "text/plain"),
            ("combine_output", "false"),
            ("cgi_headers", "0"),
            ("suppress_lock", "true"),
            ("TMPDIR", "/var/tmp"),
        ])
        .unwrap();
        assert_eq!(c.mode, Mode::Serializing);
        assert_eq!(c.fprocess, vec!["sha512sum", "-b"]);
        assert_eq!(c.port, 9000);
        assert_eq!(c.bind_address, IpAddr::V4(Ipv4Addr::LOCALHOST));
        assert_eq!(c.read_timeout, Duration::from_secs(5));
        assert_eq!(c.write_timeout, Duration::from_secs(90));
        assert_eq!(c.exec_timeout, Duration::ZERO);
        assert_eq!(c.invocation_deadline(), Some(Duration::from_secs(90)));
        assert_eq!(c.healthcheck_interval, Duration::from_millis(250));
        assert_eq!(c.max_inflight, Some(3));
        assert_eq!(c.content_type.as_deref(), Some("text/plain"));
        assert!(!c.combine_output && !c.cgi_headers && c.suppress_lock);
        assert_eq!(c.lock_path, PathBuf::from("/var/tmp/.lock"));
    }

    #[test]
    fn http_mode_needs_an_upstream() {
        assert_eq!(
            config(&[("mode", "http"), ("fprocess", "srv")]),
            Err(ConfigError::MissingUpstream)
        );
        let c = config(&[
            ("mode", "http"),
            ("fprocess", "srv"),
            ("http_upstream_url", "http://localhost:8082/api/"),
        ])
        .unwrap();
        let up = c.upstream_url.unwrap();
        assert_eq!(up.addr, "127.0.0.1:8082".parse().unwrap());
        assert_eq!(up.authority, "localhost:8082");
        assert_eq!(up.base_path, "/api");
        assert!(UpstreamUrl::parse("https://127.0.0.1:1").is_err());
        assert!(UpstreamUrl::parse("http://example.com:80").is_err());
        assert!(UpstreamUrl::parse("http://127.0.0.1").is_err());
        assert_eq!(
            UpstreamUrl::parse("http://[::1]:81").unwrap().addr,
            "[::1]:81".parse().unwrap()
        );
    }

    #[test]
    fn bad_values_are_errors() {
        assert_eq!(config(&[]), Err(ConfigError::MissingFprocess));
        assert!(matches!(
            config(&[("fprocess", "cat"), ("mode", "static")]),
            Err(ConfigError::UnsupportedMode(_))
        ));
        assert!(matches!(
            config(&[("fprocess", "cat"), ("exec_timeout", "5x")]),
            Err(ConfigError::InvalidDuration {
                name: "exec_timeout",
                ..
            })
        ));
        assert!(matches!(
            config(&[("fprocess", "cat"), ("max_inflight", "-1")]),
            Err(ConfigError::InvalidNumber { .. })
        ));
        assert!(matches!(
            config(&[("fprocess", "cat"), ("suppress_lock", "yes")]),
            Err(ConfigError::InvalidBool { .. })
        ));
        assert!(matches!(
            config(&[("fprocess", "cat"), ("bind_address", "localhost")]),
            Err(ConfigError::InvalidBindAddress(_))
        ));
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration("10").unwrap(), Duration::from_secs(10));
        assert_eq!(parse_duration("1.5s").unwrap(), Duration::from_millis(1500));
        assert_eq!(parse_duration("2h3m").unwrap(), Duration::from_secs(7380));
        assert_eq!(parse_duration("100us").unwrap(), Duration::from_micros(100));
        assert!(parse_duration("-1s").is_err());
        assert!(parse_duration("s").is_err());
        assert!(parse_duration("1d").is_err());
    }
}
