//! The Lambda API's JSON shapes (PascalCase, as the SDKs send and expect them) and the
//! mapping between a Lambda function configuration and an OpenFaaS function:
//!
//! | Lambda | OpenFaaS |
//! |---|---|
//! | `Code.ImageUri` | `image` |
//! | `Environment.Variables` | `envVars` |
//! | `MemorySize` (MB) | `limits.memory` = `{n}Mi` (read back from annotation `com.openfaas.lambda.memory`, else `limits.memory`, else 128) |
//! | `Timeout` (s) | annotation `com.openfaas.lambda.timeout` = `{n}s` (what provider-lambda reads), and env `exec_timeout` / `write_timeout` = `{n}s` for the watchdog unless set explicitly (hidden from `Environment` when equal); default 3 |
//! | `Role` | annotation `com.openfaas.lambda.role` |
//! | `Description` | annotation `com.openfaas.lambda.description` |
//! | `Tags` | labels (without `faas_function`); the tag `com.openfaas.federation.gateway` is the annotation of that name (the backend) |
//! | reserved concurrency | replicas |

use std::collections::BTreeMap;

use faas_provider::types::LABEL_FAAS_FUNCTION;
use faas_provider::types::StringMap;
use faas_provider::{FunctionDeployment, FunctionResources, FunctionStatus};
use serde::Deserialize;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use super::error::LambdaError;
use super::names::LATEST;
use crate::GATEWAY_ANNOTATION;

/// Annotation holding `Role`.
pub const ANNOTATION_ROLE: &str = "com.openfaas.lambda.role";
/// Annotation holding `Description`.
pub const ANNOTATION_DESCRIPTION: &str = "com.openfaas.lambda.description";
/// Annotation holding `Timeout` (provider-lambda reads it too).
pub const ANNOTATION_TIMEOUT: &str = "com.openfaas.lambda.timeout";
/// Annotation holding `Runtime` (zip functions).
pub const ANNOTATION_RUNTIME: &str = "com.openfaas.lambda.runtime";
/// Annotation holding `Handler` (zip functions).
pub const ANNOTATION_HANDLER: &str = "com.openfaas.lambda.handler";
/// Annotation holding `PackageType` when it is `Zip` (absent: `Image`).
pub const ANNOTATION_PACKAGE_TYPE: &str = "com.openfaas.lambda.package-type";
/// Annotation holding memory in MB (provider-lambda's; read, and kept in step when present).
pub const ANNOTATION_MEMORY: &str = "com.openfaas.lambda.memory";
/// The variable carrying `Handler` to a zip function's entrypoint, which hands it to the
/// bootstrap as Lambda does (managed by the API: hidden from `Environment`, refused in it).
pub const HANDLER_ENV: &str = "_HANDLER";
/// The watchdog's timeout variables set from `Timeout`.
pub const TIMEOUT_ENV: [&str; 2] = ["exec_timeout", "write_timeout"];
/// Lambda's default timeout, seconds.
pub const DEFAULT_TIMEOUT: u64 = 3;
/// Lambda's default memory, MB.
pub const DEFAULT_MEMORY: u64 = 128;

/// `Environment`.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Environment {
    /// `Variables`.
    #[serde(default)]
    pub variables: Option<BTreeMap<String, String>>,
}

/// `Code` of `CreateFunction` (and the body of `UpdateFunctionCode`).
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Code {
    /// `ZipFile` (base64): refused.
    pub zip_file: Option<String>,
    /// `S3Bucket`: refused.
    pub s3_bucket: Option<String>,
    /// `S3Key`: refused.
    pub s3_key: Option<String>,
    /// `ImageUri`.
    pub image_uri: Option<String>,
}

impl Code {
    /// The image, or why the code cannot be used.
    pub fn image(&self, package_type: Option<&str>) -> Result<String, LambdaError> {
        if self.zip_file.is_some() || self.s3_bucket.is_some() || self.s3_key.is_some() {
            return Err(LambdaError::invalid(
                "Zip packages (ZipFile, S3Bucket/S3Key) are not supported by this federation \
                 yet: use PackageType Image with Code.ImageUri (an OpenFaaS function image)",
            ));
        }
        if package_type.is_some_and(|p| p != "Image") {
            return Err(LambdaError::invalid(
                "only PackageType Image (with Code.ImageUri) is supported by this federation",
            ));
        }
        match self.image_uri.as_deref().map(str::trim) {
            Some(image) if !image.is_empty() => Ok(image.to_string()),
            _ => Err(LambdaError::invalid(
                "Code.ImageUri is required (PackageType Image): zip packages are not supported \
                 by this federation yet",
            )),
        }
    }
}

/// Body of `CreateFunction`.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct CreateFunction {
    /// `FunctionName`.
    pub function_name: Option<String>,
    /// `Role`.
    pub role: Option<String>,
    /// `Code`.
    pub code: Option<Code>,
    /// `PackageType`.
    pub package_type: Option<String>,
    /// `Runtime` (zips: `provided.al2023` or `provided.al2`).
    pub runtime: Option<String>,
    /// `Handler` (kept; a custom runtime's bootstrap reads it as `_HANDLER`).
    pub handler: Option<String>,
    /// `Description`.
    pub description: Option<String>,
    /// `Timeout`.
    pub timeout: Option<i64>,
    /// `MemorySize`.
    pub memory_size: Option<i64>,
    /// `Environment`.
    pub environment: Option<Environment>,
    /// `Tags`.
    pub tags: Option<BTreeMap<String, String>>,
}

/// Body of `UpdateFunctionCode`.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct UpdateCode {
    /// The code fields.
    #[serde(flatten)]
    pub code: Code,
    /// `DryRun`: check only.
    pub dry_run: Option<bool>,
}

/// Body of `UpdateFunctionConfiguration`.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct UpdateConfiguration {
    /// `Role`.
    pub role: Option<String>,
    /// `Description`.
    pub description: Option<String>,
    /// `Timeout`.
    pub timeout: Option<i64>,
    /// `MemorySize`.
    pub memory_size: Option<i64>,
    /// `Environment` (replaces every variable).
    pub environment: Option<Environment>,
    /// `Handler`.
    pub handler: Option<String>,
}

/// Body of `PutFunctionConcurrency`.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Concurrency {
    /// `ReservedConcurrentExecutions`.
    pub reserved_concurrent_executions: Option<i64>,
}

/// Body of `TagResource`.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct TagResource {
    /// `Tags`.
    pub tags: Option<BTreeMap<String, String>>,
}

/// Parses a JSON body: not JSON → `InvalidRequestContentException`, JSON of the wrong shape →
/// `InvalidParameterValueException`.
pub fn parse_json<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T, LambdaError> {
    serde_json::from_slice(body).map_err(|error| match error.classify() {
        serde_json::error::Category::Data => LambdaError::invalid(format!(
            "the request body does not have the expected shape: {error}"
        )),
        _ => {
            LambdaError::invalid_content(format!("Could not parse request body into json: {error}"))
        }
    })
}

/// Checks `Timeout` (1–900 s).
pub fn check_timeout(timeout: i64) -> Result<u64, LambdaError> {
    u64::try_from(timeout)
        .ok()
        .filter(|t| (1..=900).contains(t))
        .ok_or_else(|| {
            LambdaError::invalid(format!(
                "1 validation error detected: Value '{timeout}' at 'timeout' failed to satisfy \
                 constraint: Member must have value between 1 and 900"
            ))
        })
}

/// Checks `MemorySize` (128–10,240 MB).
pub fn check_memory(memory: i64) -> Result<u64, LambdaError> {
    u64::try_from(memory)
        .ok()
        .filter(|m| (128..=10_240).contains(m))
        .ok_or_else(|| {
            LambdaError::invalid(format!(
                "1 validation error detected: Value '{memory}' at 'memorySize' failed to \
                 satisfy constraint: Member must have value between 128 and 10240"
            ))
        })
}

/// The deployment a function's status describes (what an update starts from).
pub fn spec_of(status: &FunctionStatus) -> FunctionDeployment {
    let mut labels = status.labels.clone().unwrap_or_default();
    labels.remove(LABEL_FAAS_FUNCTION);
    FunctionDeployment {
        service: status.name.clone(),
        image: status.image.clone(),
        namespace: status.namespace.clone(),
        env_process: status.env_process.clone(),
        env_vars: status.env_vars.clone(),
        constraints: status.constraints.clone(),
        secrets: status.secrets.clone(),
        labels: Some(labels),
        annotations: Some(status.annotations.clone().unwrap_or_default()),
        limits: status.limits.clone(),
        requests: status.requests.clone(),
        read_only_root_filesystem: status.read_only_root_filesystem,
    }
}

fn annotations(spec: &mut FunctionDeployment) -> &mut StringMap {
    spec.annotations.get_or_insert_with(StringMap::new)
}

/// Sets `Timeout` on a spec (annotation, and the watchdog's variables unless set by hand).
pub fn set_timeout(spec: &mut FunctionDeployment, seconds: u64) {
    let old = timeout_of_annotations(spec.annotations.as_ref());
    let value = format!("{seconds}s");
    for key in TIMEOUT_ENV {
        let ours = match (spec.env_vars.get(key), old) {
            (None, _) => true,
            (Some(current), Some(old)) => *current == format!("{old}s"),
            (Some(_), None) => false,
        };
        if ours {
            spec.env_vars.insert(key.to_string(), value.clone());
        }
    }
    annotations(spec).insert(ANNOTATION_TIMEOUT.to_string(), value);
}

/// Refuses `Environment.Variables` naming a variable the API manages, as Lambda refuses its
/// reserved keys.
pub fn check_environment(variables: &BTreeMap<String, String>) -> Result<(), LambdaError> {
    if variables.contains_key(HANDLER_ENV) {
        return Err(LambdaError::invalid(format!(
            "Lambda was unable to configure your environment variables because the environment \
             variables you have provided contains reserved keys that are currently not \
             supported for modification. Reserved keys used in this request: {HANDLER_ENV}"
        )));
    }
    Ok(())
}

/// Sets `Handler` on a spec: its annotation, and for zip functions the variable their
/// entrypoint passes to the bootstrap.
pub fn set_handler(spec: &mut FunctionDeployment, handler: &str) {
    annotations(spec).insert(ANNOTATION_HANDLER.to_string(), handler.to_string());
    if spec.annotation(ANNOTATION_PACKAGE_TYPE) == Some("Zip") {
        spec.env_vars
            .insert(HANDLER_ENV.to_string(), handler.to_string());
    }
}

/// Replaces the environment with `variables`, keeping the variables the API manages (timeout,
/// handler).
pub fn set_environment(spec: &mut FunctionDeployment, variables: BTreeMap<String, String>) {
    let timeout = timeout_of_annotations(spec.annotations.as_ref());
    let mut env = variables;
    if let Some(handler) = spec.env_vars.get(HANDLER_ENV) {
        env.insert(HANDLER_ENV.to_string(), handler.clone());
    }
    if let Some(timeout) = timeout {
        for key in TIMEOUT_ENV {
            if !env.contains_key(key) {
                env.insert(key.to_string(), format!("{timeout}s"));
            }
        }
    }
    spec.env_vars = env;
}

/// Sets `MemorySize` on a spec.
pub fn set_memory(spec: &mut FunctionDeployment, mb: u64) {
    let limits = spec.limits.get_or_insert_with(FunctionResources::default);
    limits.memory = format!("{mb}Mi");
    if let Some(annotations) = spec.annotations.as_mut()
        && annotations.contains_key(ANNOTATION_MEMORY)
    {
        annotations.insert(ANNOTATION_MEMORY.to_string(), mb.to_string());
    }
}

/// Sets `Role` / `Description`.
pub fn set_annotation(spec: &mut FunctionDeployment, key: &str, value: &str) {
    annotations(spec).insert(key.to_string(), value.to_string());
}

/// Adds tags: labels, except the gateway tag, which becomes the gateway annotation.
pub fn add_tags(spec: &mut FunctionDeployment, tags: &BTreeMap<String, String>) {
    for (key, value) in tags {
        if key == GATEWAY_ANNOTATION {
            annotations(spec).insert(key.clone(), value.clone());
        } else {
            spec.labels
                .get_or_insert_with(StringMap::new)
                .insert(key.clone(), value.clone());
        }
    }
}

/// Removes tags (labels, or the gateway annotation).
pub fn remove_tags(spec: &mut FunctionDeployment, keys: &[String]) {
    for key in keys {
        if key == GATEWAY_ANNOTATION {
            annotations(spec).remove(key);
        } else if let Some(labels) = spec.labels.as_mut() {
            labels.remove(key);
        }
    }
}

/// The function's tags: its labels (without `faas_function`) and the gateway annotation.
pub fn tags_of(status: &FunctionStatus) -> BTreeMap<String, String> {
    let mut tags: BTreeMap<String, String> = status.labels.clone().unwrap_or_default();
    tags.remove(LABEL_FAAS_FUNCTION);
    if let Some(gateway) = status.annotation(GATEWAY_ANNOTATION) {
        tags.insert(GATEWAY_ANNOTATION.to_string(), gateway.to_string());
    }
    tags
}

/// `30`, `30s`, `2m`, `1h`, `1.5s` → whole seconds (rounded up).
fn parse_seconds(text: &str) -> Option<u64> {
    let text = text.trim();
    let (number, unit) = match text.find(|c: char| c.is_ascii_alphabetic()) {
        Some(i) => text.split_at(i),
        None => (text, "s"),
    };
    let number: f64 = number.parse().ok()?;
    let factor = match unit {
        "ms" => 0.001,
        "s" => 1.0,
        "m" => 60.0,
        "h" => 3600.0,
        _ => return None,
    };
    let seconds = (number * factor).ceil();
    (seconds.is_finite() && seconds >= 0.0).then_some(seconds as u64)
}

fn timeout_of_annotations(annotations: Option<&StringMap>) -> Option<u64> {
    annotations?
        .get(ANNOTATION_TIMEOUT)
        .and_then(|t| parse_seconds(t))
}

/// `Timeout` of a function (default 3).
pub fn timeout_of(status: &FunctionStatus) -> u64 {
    timeout_of_annotations(status.annotations.as_ref()).unwrap_or(DEFAULT_TIMEOUT)
}

/// A Kubernetes memory quantity (`128Mi`, `1Gi`, `200M`, `134217728`) in bytes.
fn quantity_bytes(text: &str) -> Option<f64> {
    let text = text.trim();
    let split = text
        .find(|c: char| c.is_ascii_alphabetic())
        .unwrap_or(text.len());
    let (number, suffix) = text.split_at(split);
    let number: f64 = number.parse().ok()?;
    let factor = match suffix {
        "" => 1.0,
        "k" => 1e3,
        "M" => 1e6,
        "G" => 1e9,
        "T" => 1e12,
        "Ki" => 1024.0,
        "Mi" => 1024.0 * 1024.0,
        "Gi" => 1024.0 * 1024.0 * 1024.0,
        "Ti" => 1024.0 * 1024.0 * 1024.0 * 1024.0,
        _ => return None,
    };
    Some(number * factor)
}

/// `MemorySize` of a function in MB (default 128).
pub fn memory_of(status: &FunctionStatus) -> u64 {
    if let Some(mb) = status
        .annotation(ANNOTATION_MEMORY)
        .and_then(|m| m.trim().parse::<u64>().ok())
    {
        return mb;
    }
    status
        .limits
        .as_ref()
        .and_then(|l| quantity_bytes(&l.memory))
        .map(|bytes| (bytes / (1024.0 * 1024.0)).ceil() as u64)
        .filter(|mb| *mb > 0)
        .unwrap_or(DEFAULT_MEMORY)
}

/// `Environment.Variables` of a function: its variables without the timeout ones the API set.
pub fn environment_of(status: &FunctionStatus) -> BTreeMap<String, String> {
    let managed = timeout_of_annotations(status.annotations.as_ref()).map(|t| format!("{t}s"));
    status
        .env_vars
        .iter()
        .filter(|(key, value)| {
            !(TIMEOUT_ENV.contains(&key.as_str()) && managed.as_ref() == Some(*value))
                && key.as_str() != HANDLER_ENV
        })
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

/// Where a function's identity comes from when rendering it.
#[derive(Debug, Clone, Copy)]
pub struct Render<'a> {
    /// Its Lambda name.
    pub name: &'a str,
    /// Its ARN.
    pub arn: &'a str,
}

/// `FunctionConfiguration` of a function.
pub fn configuration(status: &FunctionStatus, at: Render<'_>) -> Value {
    let digest = Sha256::digest(status.image.as_bytes());
    let sha: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    let ready = status.available_replicas > 0 || status.replicas == 0;
    let mut config = json!({
        "FunctionName": at.name,
        "FunctionArn": at.arn,
        "Role": status.annotation(ANNOTATION_ROLE).unwrap_or_default(),
        "CodeSize": 0,
        "Description": status.annotation(ANNOTATION_DESCRIPTION).unwrap_or_default(),
        "Timeout": timeout_of(status),
        "MemorySize": memory_of(status),
        "LastModified": status.created_at.format("%Y-%m-%dT%H:%M:%S%.3f%z").to_string(),
        "CodeSha256": sha,
        "Version": LATEST,
        "Environment": { "Variables": environment_of(status) },
        "PackageType": status.annotation(ANNOTATION_PACKAGE_TYPE).unwrap_or("Image"),
        "Architectures": ["x86_64"],
        "EphemeralStorage": { "Size": 512 },
        "TracingConfig": { "Mode": "PassThrough" },
        "State": if ready { "Active" } else { "Pending" },
        "LastUpdateStatus": "Successful",
    });
    if let Some(runtime) = status.annotation(ANNOTATION_RUNTIME) {
        config["Runtime"] = json!(runtime);
        config["Handler"] = json!(status.annotation(ANNOTATION_HANDLER).unwrap_or("bootstrap"));
    }
    if !ready {
        config["StateReason"] = json!("The function's replicas are starting");
        config["StateReasonCode"] = json!("Creating");
    }
    config
}

/// `GetFunction`'s answer.
pub fn function(status: &FunctionStatus, at: Render<'_>) -> Value {
    json!({
        "Configuration": configuration(status, at),
        "Code": { "ImageUri": status.image, "ResolvedImageUri": status.image },
        "Tags": tags_of(status),
        "Concurrency": { "ReservedConcurrentExecutions": status.replicas },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn status(spec: &FunctionDeployment) -> FunctionStatus {
        FunctionStatus::from_deployment(spec, chrono::Utc::now())
    }

    #[test]
    fn timeout_memory_environment_and_tags_round_trip() {
        let mut spec = FunctionDeployment::new("echo", "example/echo:1");
        set_environment(&mut spec, [("A".to_string(), "1".to_string())].into());
        set_timeout(&mut spec, 30);
        set_memory(&mut spec, 256);
        add_tags(
            &mut spec,
            &[
                ("team".to_string(), "a".to_string()),
                (GATEWAY_ANNOTATION.to_string(), "edge".to_string()),
            ]
            .into(),
        );
        assert_eq!(spec.env_vars["exec_timeout"], "30s");
        assert_eq!(spec.limits.as_ref().unwrap().memory, "256Mi");
        assert_eq!(spec.annotation(GATEWAY_ANNOTATION), Some("edge"));
        let s = status(&spec);
        assert_eq!(timeout_of(&s), 30);
        assert_eq!(memory_of(&s), 256);
        assert_eq!(
            environment_of(&s),
            [("A".to_string(), "1".to_string())].into()
        );
        let tags = tags_of(&s);
        assert_eq!(tags.len(), 2);
        assert_eq!(tags["team"], "a");

        // A new timeout moves the managed variables; a new environment keeps them.
        set_timeout(&mut spec, 60);
        assert_eq!(spec.env_vars["write_timeout"], "60s");
        set_environment(&mut spec, BTreeMap::new());
        assert_eq!(spec.env_vars["exec_timeout"], "60s");
        assert!(environment_of(&status(&spec)).is_empty());

        remove_tags(
            &mut spec,
            &["team".to_string(), GATEWAY_ANNOTATION.to_string()],
        );
        assert!(tags_of(&status(&spec)).is_empty());
    }

    #[test]
    fn explicit_watchdog_timeouts_are_kept() {
        let mut spec = FunctionDeployment::new("echo", "example/echo:1");
        set_environment(
            &mut spec,
            [("exec_timeout".to_string(), "5s".to_string())].into(),
        );
        set_timeout(&mut spec, 30);
        assert_eq!(spec.env_vars["exec_timeout"], "5s");
        assert_eq!(spec.env_vars["write_timeout"], "30s");
        assert_eq!(environment_of(&status(&spec))["exec_timeout"], "5s");
    }

    #[test]
    fn memory_is_read_from_quantities_and_defaults() {
        let mut spec = FunctionDeployment::new("echo", "example/echo:1");
        assert_eq!(memory_of(&status(&spec)), 128);
        assert_eq!(timeout_of(&status(&spec)), 3);
        for (quantity, mb) in [("1Gi", 1024), ("200M", 191), ("134217728", 128)] {
            spec.limits = Some(FunctionResources {
                memory: quantity.into(),
                cpu: String::new(),
            });
            assert_eq!(memory_of(&status(&spec)), mb, "{quantity}");
        }
        assert_eq!(parse_seconds("2m"), Some(120));
        assert_eq!(parse_seconds("1.5s"), Some(2));
        assert_eq!(parse_seconds("x"), None);
    }

    #[test]
    fn zips_are_refused_and_images_accepted() {
        let zip = Code {
            zip_file: Some("UEsDBA==".into()),
            ..Code::default()
        };
        let error = zip.image(None).unwrap_err();
        assert_eq!(error.code, "InvalidParameterValueException");
        assert!(error.message.contains("not supported"), "{error}");
        let image = Code {
            image_uri: Some("example/echo:1".into()),
            ..Code::default()
        };
        assert_eq!(image.image(Some("Image")).unwrap(), "example/echo:1");
        assert!(image.image(Some("Zip")).is_err());
        assert!(Code::default().image(None).is_err());
    }

    #[test]
    fn bad_json_and_bad_shapes_are_told_apart() {
        let error = parse_json::<CreateFunction>(b"{not json").unwrap_err();
        assert_eq!(error.code, "InvalidRequestContentException");
        let error = parse_json::<CreateFunction>(br#"{"Timeout":"x"}"#).unwrap_err();
        assert_eq!(error.code, "InvalidParameterValueException");
        assert!(check_timeout(0).is_err() && check_timeout(901).is_err());
        assert_eq!(check_memory(128).unwrap(), 128);
        assert!(check_memory(64).is_err());
    }
}
