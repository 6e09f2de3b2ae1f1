//! `/system/namespace/{name}` bodies and the namespace rules every backend shares.

use serde::{Deserialize, Serialize};

use super::function::StringMap;
use super::gojson::{GoJson, null_default};
use super::name::validate_namespace;
use crate::error::{ProviderError, ResourceKind, Result};

/// The conventional default namespace of OpenFaaS providers.
pub const DEFAULT_NAMESPACE: &str = "openfaas-fn";

/// Label an OpenFaaS namespace must carry (`"openfaas": "1"`).
pub const LABEL_OPENFAAS_NAMESPACE: &str = "openfaas";

/// `namespace`, or [`DEFAULT_NAMESPACE`] when it is empty (the server always fills the
/// namespace; direct callers of a provider may not).
pub fn namespace_or_default(namespace: &str) -> &str {
    if namespace.is_empty() {
        DEFAULT_NAMESPACE
    } else {
        namespace
    }
}

/// Checks a namespace body of a create or update: a valid name (DNS-1123 label) and the
/// `openfaas: "1"` label.
pub fn validate_namespace_body(namespace: &FunctionNamespace) -> Result<()> {
    validate_namespace(&namespace.name)?;
    if namespace
        .labels
        .get(LABEL_OPENFAAS_NAMESPACE)
        .map(String::as_str)
        != Some("1")
    {
        return Err(ProviderError::invalid(format!(
            "namespace {}: labels must include \"{LABEL_OPENFAAS_NAMESPACE}\": \"1\"",
            namespace.name
        )));
    }
    Ok(())
}

/// `NotFound` (404) for the namespace `name`.
pub fn namespace_not_found(name: &str) -> ProviderError {
    ProviderError::not_found(ResourceKind::Namespace, name)
}

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_namespaces_are_the_default() {
        assert_eq!(namespace_or_default(""), DEFAULT_NAMESPACE);
        assert_eq!(namespace_or_default("dev"), "dev");
    }

    #[test]
    fn namespace_bodies_need_a_valid_name_and_the_openfaas_label() {
        assert!(validate_namespace_body(&FunctionNamespace::new("dev")).is_ok());
        let unlabelled = FunctionNamespace {
            name: "dev".into(),
            ..FunctionNamespace::default()
        };
        let error = validate_namespace_body(&unlabelled).unwrap_err();
        assert_eq!(
            error.to_string(),
            "namespace dev: labels must include \"openfaas\": \"1\""
        );
        assert!(validate_namespace_body(&FunctionNamespace::new("Not_Valid")).is_err());
        assert!(namespace_not_found("x").is_not_found());
    }
}
