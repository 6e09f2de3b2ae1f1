//! Small request bodies: scale and delete.

use serde::{Deserialize, Serialize};

use super::gojson::{GoJson, null_default};

/// Body of `POST /system/scale-function/{name}`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ScaleServiceRequest {
    /// The function's name (the path variable wins when both are given).
    #[serde(default, deserialize_with = "null_default")]
    pub service_name: String,
    /// Desired replicas; always emitted, even when 0.
    #[serde(default, deserialize_with = "null_default")]
    pub replicas: u64,
    /// Namespace; empty means the query's, else the provider's default.
    #[serde(
        default,
        deserialize_with = "null_default",
        skip_serializing_if = "String::is_empty"
    )]
    pub namespace: String,
}

impl GoJson for ScaleServiceRequest {
    const KEYS: &'static [&'static str] = &["serviceName", "replicas", "namespace"];
}

/// Body of `DELETE /system/functions`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DeleteFunctionRequest {
    /// The function to delete.
    #[serde(default, deserialize_with = "null_default")]
    pub function_name: String,
    /// Namespace; empty means the query's, else the provider's default.
    #[serde(
        default,
        deserialize_with = "null_default",
        skip_serializing_if = "String::is_empty"
    )]
    pub namespace: String,
}

impl GoJson for DeleteFunctionRequest {
    const KEYS: &'static [&'static str] = &["functionName", "namespace"];
}
