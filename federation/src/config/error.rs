//! The error of a configuration that cannot be used.

use std::path::PathBuf;

/// A configuration that cannot be used. Startup fails with it.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// The file cannot be read.
    #[error("cannot read {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// The file is not valid TOML for this schema.
    #[error("{path}: {message}")]
    Parse {
        /// The file.
        path: PathBuf,
        /// What the parser said (line and column included).
        message: String,
    },
    /// A value is wrong: which one and why.
    #[error("{0}")]
    Invalid(String),
}

/// [`ConfigError::Invalid`] with `message`.
pub(crate) fn invalid(message: impl Into<String>) -> ConfigError {
    ConfigError::Invalid(message.into())
}
