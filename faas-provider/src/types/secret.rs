//! Secrets: the body of `/system/secrets`.

use serde::{Deserialize, Serialize};

use super::gojson::{GoJson, go_bytes, null_default};

/// A secret. Lists carry only `name` and `namespace`; values are never returned.
#[derive(Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Secret {
    /// The secret's name; functions read it at `/var/openfaas/secrets/<name>`.
    #[serde(default, deserialize_with = "null_default")]
    pub name: String,
    /// Namespace; empty means the provider's default.
    #[serde(
        default,
        deserialize_with = "null_default",
        skip_serializing_if = "String::is_empty"
    )]
    pub namespace: String,
    /// The value as text.
    #[serde(
        default,
        deserialize_with = "null_default",
        skip_serializing_if = "String::is_empty"
    )]
    pub value: String,
    /// The value as bytes (standard base64 on the wire); wins over `value` when non-empty.
    #[serde(default, with = "go_bytes", skip_serializing_if = "Vec::is_empty")]
    pub raw_value: Vec<u8>,
}

impl Secret {
    /// A secret with a text value.
    pub fn new(
        name: impl Into<String>,
        namespace: impl Into<String>,
        value: impl Into<String>,
    ) -> Self {
        Self {
            name: name.into(),
            namespace: namespace.into(),
            value: value.into(),
            raw_value: Vec::new(),
        }
    }

    /// The bytes a function reads: `rawValue` when non-empty, else `value`.
    pub fn bytes(&self) -> &[u8] {
        if self.raw_value.is_empty() {
            self.value.as_bytes()
        } else {
            &self.raw_value
        }
    }

    /// The same secret without its value (what list returns).
    pub fn without_value(&self) -> Self {
        Self {
            name: self.name.clone(),
            namespace: self.namespace.clone(),
            ..Self::default()
        }
    }
}

impl std::fmt::Debug for Secret {
    // Never print secret values, not even in debug logs.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Secret")
            .field("name", &self.name)
            .field("namespace", &self.namespace)
            .field("value", &"<redacted>")
            .finish()
    }
}

impl GoJson for Secret {
    const KEYS: &'static [&'static str] = &["name", "namespace", "value", "rawValue"];
}
