//! How the provider binaries log: to stderr, filtered by `RUST_LOG` (default `info`), as text
//! (colours only when stderr is a terminal and `NO_COLOR` is unset) or, with
//! `LOG_FORMAT=json`, one JSON object per line (`timestamp`, `level`, `target`, `fields`).

use std::io::IsTerminal;

use tracing_subscriber::EnvFilter;

use crate::ConfigError;

/// The log line format (`LOG_FORMAT`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    /// Human-readable lines (`text`, the default).
    Text,
    /// One JSON object per line (`json`).
    Json,
}

impl LogFormat {
    /// `LOG_FORMAT` as `lookup` gives it: unset or empty is text.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let value = lookup("LOG_FORMAT").unwrap_or_default();
        match value.trim().to_ascii_lowercase().as_str() {
            "" | "text" => Ok(Self::Text),
            "json" => Ok(Self::Json),
            _ => Err(ConfigError::Invalid {
                name: "LOG_FORMAT".into(),
                value,
                reason: "expected text or json".into(),
            }),
        }
    }
}

/// Installs the process's log subscriber as the module docs say (`LOG_FORMAT`, `RUST_LOG`,
/// `NO_COLOR` from the environment). Call once, first thing in `main`.
pub fn init_logging() -> Result<(), ConfigError> {
    let format = LogFormat::from_lookup(|name| std::env::var(name).ok())?;
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match format {
        LogFormat::Json => builder.json().init(),
        LogFormat::Text => {
            let colours = std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none();
            builder.with_ansi(colours).init();
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log_format_is_text_unless_json_and_refuses_others() {
        let read = |value: Option<&str>| LogFormat::from_lookup(|_| value.map(str::to_string));
        assert_eq!(read(None).unwrap(), LogFormat::Text);
        assert_eq!(read(Some("JSON")).unwrap(), LogFormat::Json);
        assert_eq!(read(Some("text")).unwrap(), LogFormat::Text);
        let error = read(Some("yaml")).unwrap_err().to_string();
        assert!(
            error.contains("LOG_FORMAT") && error.contains("text or json"),
            "{error}"
        );
    }
}
