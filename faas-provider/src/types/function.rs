//! Function deployment and status: the bodies of `/system/functions` and `/system/function/{name}`.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::gojson::{
    GoJson, go_float, go_time, is_false, is_zero_f64, is_zero_u64, null_default, zero_time,
};

/// Label holding the minimum replica count (honoured at deploy and by scale-from-zero).
pub const LABEL_SCALE_MIN: &str = "com.openfaas.scale.min";
/// Label holding the maximum replica count.
pub const LABEL_SCALE_MAX: &str = "com.openfaas.scale.max";
/// Label every provider adds to a deployed function, naming it.
pub const LABEL_FAAS_FUNCTION: &str = "faas_function";

/// A map with Go's JSON behaviour: keys come out sorted, like Go's `encoding/json`.
pub type StringMap = BTreeMap<String, String>;

/// Resource limits or requests (Kubernetes quantity strings such as `128Mi`, `100m`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FunctionResources {
    /// Memory, e.g. `128Mi`.
    #[serde(
        default,
        deserialize_with = "null_default",
        skip_serializing_if = "String::is_empty"
    )]
    pub memory: String,
    /// CPU, e.g. `100m` or `0.5`.
    #[serde(
        default,
        deserialize_with = "null_default",
        skip_serializing_if = "String::is_empty"
    )]
    pub cpu: String,
}

impl FunctionResources {
    const KEYS: &'static [&'static str] = &["memory", "cpu"];

    /// True when neither memory nor cpu is set.
    pub fn is_empty(&self) -> bool {
        self.memory.is_empty() && self.cpu.is_empty()
    }
}

/// Request body of `POST`/`PUT /system/functions`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FunctionDeployment {
    /// The function's name (DNS-1123 label).
    #[serde(default, deserialize_with = "null_default")]
    pub service: String,
    /// A fully-qualified container image; echoed back verbatim in status.
    #[serde(default, deserialize_with = "null_default")]
    pub image: String,
    /// Namespace; empty means the provider's default.
    #[serde(
        default,
        deserialize_with = "null_default",
        skip_serializing_if = "String::is_empty"
    )]
    pub namespace: String,
    /// Becomes the `fprocess` environment variable for the watchdog.
    #[serde(
        default,
        deserialize_with = "null_default",
        skip_serializing_if = "String::is_empty"
    )]
    pub env_process: String,
    /// Environment variables for the function.
    #[serde(
        default,
        deserialize_with = "null_default",
        skip_serializing_if = "BTreeMap::is_empty"
    )]
    pub env_vars: StringMap,
    /// Provider-specific placement constraints.
    #[serde(
        default,
        deserialize_with = "null_default",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub constraints: Vec<String>,
    /// Names of secrets mounted under `/var/openfaas/secrets/`.
    #[serde(
        default,
        deserialize_with = "null_default",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub secrets: Vec<String>,
    /// Labels (scaling labels live here); `None` is omitted, `Some({})` is sent as `{}`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub labels: Option<StringMap>,
    /// Annotations; `None` is omitted, `Some({})` is sent as `{}`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub annotations: Option<StringMap>,
    /// Resource limits.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limits: Option<FunctionResources>,
    /// Resource requests.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub requests: Option<FunctionResources>,
    /// Mount the root filesystem read-only.
    #[serde(
        default,
        deserialize_with = "null_default",
        skip_serializing_if = "is_false"
    )]
    pub read_only_root_filesystem: bool,
}

impl FunctionDeployment {
    /// A deployment of `image` named `service`, everything else empty.
    pub fn new(service: impl Into<String>, image: impl Into<String>) -> Self {
        Self {
            service: service.into(),
            image: image.into(),
            ..Self::default()
        }
    }

    /// The label's value, if set.
    pub fn label(&self, key: &str) -> Option<&str> {
        self.labels.as_ref()?.get(key).map(String::as_str)
    }

    /// The annotation's value, if set.
    pub fn annotation(&self, key: &str) -> Option<&str> {
        self.annotations.as_ref()?.get(key).map(String::as_str)
    }

    /// The replica count to start with: label `com.openfaas.scale.min` when it is a positive
    /// integer, else 1 (faas-netes and faasd behaviour).
    pub fn min_replicas(&self) -> u64 {
        self.label(LABEL_SCALE_MIN)
            .and_then(|v| v.trim().parse::<u64>().ok())
            .filter(|n| *n > 0)
            .unwrap_or(1)
    }
}

impl GoJson for FunctionDeployment {
    const KEYS: &'static [&'static str] = &[
        "service",
        "image",
        "namespace",
        "envProcess",
        "envVars",
        "constraints",
        "secrets",
        "labels",
        "annotations",
        "limits",
        "requests",
        "readOnlyRootFilesystem",
    ];

    const NESTED: &'static [(&'static str, &'static [&'static str])] = &[
        ("limits", FunctionResources::KEYS),
        ("requests", FunctionResources::KEYS),
    ];
}

/// Resource usage reported in a function's status.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FunctionUsage {
    /// CPU usage (cores).
    #[serde(
        default,
        deserialize_with = "null_default",
        serialize_with = "go_float",
        skip_serializing_if = "is_zero_f64"
    )]
    pub cpu: f64,
    /// Memory in use, bytes.
    #[serde(
        default,
        deserialize_with = "null_default",
        serialize_with = "go_float",
        skip_serializing_if = "is_zero_f64"
    )]
    pub total_memory_bytes: f64,
}

/// A function's status: list items of `GET /system/functions` and body of `GET /system/function/{name}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FunctionStatus {
    /// The function's name.
    #[serde(default, deserialize_with = "null_default")]
    pub name: String,
    /// The image exactly as deployed.
    #[serde(default, deserialize_with = "null_default")]
    pub image: String,
    /// Namespace.
    #[serde(
        default,
        deserialize_with = "null_default",
        skip_serializing_if = "String::is_empty"
    )]
    pub namespace: String,
    /// The `fprocess` as deployed.
    #[serde(
        default,
        deserialize_with = "null_default",
        skip_serializing_if = "String::is_empty"
    )]
    pub env_process: String,
    /// Environment variables as deployed.
    #[serde(
        default,
        deserialize_with = "null_default",
        skip_serializing_if = "BTreeMap::is_empty"
    )]
    pub env_vars: StringMap,
    /// Constraints as deployed.
    #[serde(
        default,
        deserialize_with = "null_default",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub constraints: Vec<String>,
    /// Secret names as deployed.
    #[serde(
        default,
        deserialize_with = "null_default",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub secrets: Vec<String>,
    /// Labels; providers should always set `Some` (the certifier dereferences it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub labels: Option<StringMap>,
    /// Annotations; providers should always set `Some`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub annotations: Option<StringMap>,
    /// Limits as deployed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limits: Option<FunctionResources>,
    /// Requests as deployed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub requests: Option<FunctionResources>,
    /// Read-only root filesystem as deployed.
    #[serde(
        default,
        deserialize_with = "null_default",
        skip_serializing_if = "is_false"
    )]
    pub read_only_root_filesystem: bool,
    /// Number of invocations served.
    #[serde(
        default,
        deserialize_with = "null_default",
        serialize_with = "go_float",
        skip_serializing_if = "is_zero_f64"
    )]
    pub invocation_count: f64,
    /// Desired replicas.
    #[serde(
        default,
        deserialize_with = "null_default",
        skip_serializing_if = "is_zero_u64"
    )]
    pub replicas: u64,
    /// Replicas ready to serve (judged by the watchdog's health, not by the process running).
    #[serde(
        default,
        deserialize_with = "null_default",
        skip_serializing_if = "is_zero_u64"
    )]
    pub available_replicas: u64,
    /// Creation time; never omitted (zero time when unknown).
    #[serde(default = "zero_time", with = "go_time")]
    pub created_at: DateTime<Utc>,
    /// Resource usage, when the provider measures it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub usage: Option<FunctionUsage>,
}

impl Default for FunctionStatus {
    fn default() -> Self {
        Self {
            name: String::new(),
            image: String::new(),
            namespace: String::new(),
            env_process: String::new(),
            env_vars: StringMap::new(),
            constraints: Vec::new(),
            secrets: Vec::new(),
            labels: None,
            annotations: None,
            limits: None,
            requests: None,
            read_only_root_filesystem: false,
            invocation_count: 0.0,
            replicas: 0,
            available_replicas: 0,
            created_at: zero_time(),
            usage: None,
        }
    }
}

impl FunctionStatus {
    /// The status a provider reports for a deployment: every spec field echoed, the
    /// `faas_function` label added, and labels/annotations always present.
    pub fn from_deployment(spec: &FunctionDeployment, created_at: DateTime<Utc>) -> Self {
        let mut labels = spec.labels.clone().unwrap_or_default();
        labels.insert(LABEL_FAAS_FUNCTION.to_string(), spec.service.clone());
        Self {
            name: spec.service.clone(),
            image: spec.image.clone(),
            namespace: spec.namespace.clone(),
            env_process: spec.env_process.clone(),
            env_vars: spec.env_vars.clone(),
            constraints: spec.constraints.clone(),
            secrets: spec.secrets.clone(),
            labels: Some(labels),
            annotations: Some(spec.annotations.clone().unwrap_or_default()),
            limits: spec.limits.clone().filter(|r| !r.is_empty()),
            requests: spec.requests.clone().filter(|r| !r.is_empty()),
            read_only_root_filesystem: spec.read_only_root_filesystem,
            created_at,
            ..Self::default()
        }
    }

    /// The label's value, if set.
    pub fn label(&self, key: &str) -> Option<&str> {
        self.labels.as_ref()?.get(key).map(String::as_str)
    }

    /// The annotation's value, if set.
    pub fn annotation(&self, key: &str) -> Option<&str> {
        self.annotations.as_ref()?.get(key).map(String::as_str)
    }
}

impl GoJson for FunctionStatus {
    const KEYS: &'static [&'static str] = &[
        "name",
        "image",
        "namespace",
        "envProcess",
        "envVars",
        "constraints",
        "secrets",
        "labels",
        "annotations",
        "limits",
        "requests",
        "readOnlyRootFilesystem",
        "invocationCount",
        "replicas",
        "availableReplicas",
        "createdAt",
        "usage",
    ];

    const NESTED: &'static [(&'static str, &'static [&'static str])] = &[
        ("limits", FunctionResources::KEYS),
        ("requests", FunctionResources::KEYS),
        ("usage", &["cpu", "totalMemoryBytes"]),
    ];
}
