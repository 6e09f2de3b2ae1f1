//! `/system/namespace/{name}` bodies.

use serde::{Deserialize, Serialize};

use super::function::StringMap;
use super::gojson::{GoJson, null_default};

/// Label an OpenFaaS namespace must carry (`"openfaas": "1"`).
pub const LABEL_OPENFAAS_NAMESPACE: &str = "openfaas";

/// A namespace that may hold functions.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FunctionNamespace {
    /// Namespace name (DNS-1123 label).
    #[serde(default, deserialize_with = "null_default")]
    pub name: String,
    /// Labels; must include `openfaas: "1"` on create and update.
    #[serde(
        default,
        deserialize_with = "null_default",
        skip_serializing_if = "StringMap::is_empty"
    )]
    pub labels: StringMap,
    /// Annotations.
    #[serde(
        default,
        deserialize_with = "null_default",
        skip_serializing_if = "StringMap::is_empty"
    )]
    pub annotations: StringMap,
}

impl FunctionNamespace {
    /// A namespace with the `openfaas: "1"` label.
    pub fn new(name: impl Into<String>) -> Self {
        let mut labels = StringMap::new();
        labels.insert(LABEL_OPENFAAS_NAMESPACE.to_string(), "1".to_string());
        Self {
            name: name.into(),
            labels,
            annotations: StringMap::new(),
        }
    }
}

impl GoJson for FunctionNamespace {
    const KEYS: &'static [&'static str] = &["name", "labels", "annotations"];
}
