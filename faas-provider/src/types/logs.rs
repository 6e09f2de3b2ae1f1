//! `GET /system/logs`: one JSON object per line.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::gojson::{GoJson, go_time, null_default, zero_time};

/// One log line of a function.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogMessage {
    /// Function name.
    #[serde(default, deserialize_with = "null_default")]
    pub name: String,
    /// Namespace.
    #[serde(default, deserialize_with = "null_default")]
    pub namespace: String,
    /// Replica that wrote the line (container id, process id...).
    #[serde(default, deserialize_with = "null_default")]
    pub instance: String,
    /// When the line was written (UTC).
    #[serde(default = "zero_time", with = "go_time")]
    pub timestamp: DateTime<Utc>,
    /// The line, without its trailing newline.
    #[serde(default, deserialize_with = "null_default")]
    pub text: String,
}

impl GoJson for LogMessage {
    const KEYS: &'static [&'static str] = &["name", "namespace", "instance", "timestamp", "text"];
}
