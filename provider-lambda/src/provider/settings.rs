//! What a deployment becomes in Lambda's configuration: memory, timeout, architecture and
//! environment, with Lambda's limits checked here (a clear 400) rather than by AWS.
//!
//! | Source | Lambda setting |
//! |---|---|
//! | annotation `com.openfaas.lambda.memory` (MB), else `limits.memory` (quantity, rounded up to whole MB and to Lambda's 128 MB minimum), else `default_memory` | `MemorySize` (128–10,240) |
//! | annotation `com.openfaas.lambda.timeout` (`30`, `30s`, `2m`), else `default_timeout` | `Timeout` (1–900 s) |
//! | annotation `com.openfaas.lambda.architecture` (`x86_64`/`amd64`, `arm64`/`aarch64`), else the image's | `Architectures` |
//! | `envVars` (names Lambda refuses inside [`EXTRA_ENV`]), `envProcess` (as `fprocess`), secrets (as [`SECRETS_ENV`]) | `Environment.Variables` (4 KB in total) |
//!
//! `limits.cpu`, `requests`, `constraints` and `readOnlyRootFilesystem` have no Lambda
//! equivalent (CPU follows memory; `/var/task` is always read-only): they are stored and echoed.

use std::collections::BTreeMap;
use std::time::Duration;

use faas_provider::{FunctionDeployment, ProviderError, Result};

/// Annotation: memory in MB.
pub const ANNOTATION_MEMORY: &str = "com.openfaas.lambda.memory";
/// Annotation: timeout (`45`, `45s`, `2m`).
pub const ANNOTATION_TIMEOUT: &str = "com.openfaas.lambda.timeout";
/// Annotation: architecture (`x86_64` or `arm64`).
pub const ANNOTATION_ARCHITECTURE: &str = "com.openfaas.lambda.architecture";
/// Label: initialised execution environments kept ready while the function is at zero (local
/// mode; the same label as provider-docker's warm pool).
pub const LABEL_WARM: &str = "com.openfaas.scale.warm";

/// The reserved variable carrying a function's secrets (see the crate's README, "Secrets"):
/// a JSON object `{"<name>": "<base64 value>"}`. The shim writes each to
/// `/tmp/openfaas/secrets/<name>` and removes the variable before starting the function.
pub const SECRETS_ENV: &str = lambda_shim::reserved::SECRETS_ENV;

/// The reserved variable carrying `envVars` whose names Lambda refuses (Lambda wants a letter
/// then letters, digits or `_`, at least 2 characters; OpenFaaS allows e.g. `A` or `my-var`):
/// a JSON object `{"<name>": "<value>"}`. The shim adds each to the function's environment and
/// removes the variable.
pub const EXTRA_ENV: &str = lambda_shim::reserved::EXTRA_ENV;

/// Lambda's limit on the total size of a function's environment (keys + values).
pub const MAX_ENV_BYTES: usize = 4096;
/// Lambda's memory range, MB.
pub const MEMORY_RANGE_MB: (u32, u32) = (128, 10240);
/// Lambda's timeout range, seconds.
pub const TIMEOUT_RANGE_SECS: (u64, u64) = (1, 900);

/// A Lambda architecture.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Arch {
    /// `x86_64` (OCI `amd64`).
    X86_64,
    /// `arm64`.
    Arm64,
}

impl Arch {
    /// Lambda's name: `x86_64` or `arm64`.
    pub fn as_lambda_str(self) -> &'static str {
        match self {
            Self::X86_64 => "x86_64",
            Self::Arm64 => "arm64",
        }
    }

    /// Parses Lambda or OCI names.
    pub fn parse(text: &str) -> Option<Self> {
        match text.trim().to_ascii_lowercase().as_str() {
            "x86_64" | "amd64" | "x86-64" => Some(Self::X86_64),
            "arm64" | "aarch64" | "arm64/v8" => Some(Self::Arm64),
            _ => None,
        }
    }
}

/// Lambda settings derived from a deployment (before packaging: the architecture may still
/// come from the image).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    /// `MemorySize`, MB.
    pub memory_mb: u32,
    /// `Timeout`.
    pub timeout: Duration,
    /// Requested architecture (`None` = the image's).
    pub architecture: Option<Arch>,
    /// Label [`LABEL_WARM`] (0 when absent).
    pub warm: u32,
}

/// Derives and checks memory, timeout and architecture.
pub fn settings(
    spec: &FunctionDeployment,
    default_memory_mb: u32,
    default_timeout: Duration,
) -> Result<Settings> {
    let memory_mb = match spec.annotation(ANNOTATION_MEMORY) {
        Some(text) => {
            let mb: u32 = text.trim().parse().map_err(|_| {
                ProviderError::invalid(format!(
                    "annotation {ANNOTATION_MEMORY}: {text:?} is not a whole number of MB"
                ))
            })?;
            check_memory(mb, ANNOTATION_MEMORY)?
        }
        None => match spec
            .limits
            .as_ref()
            .map(|l| l.memory.trim())
            .filter(|m| !m.is_empty())
        {
            Some(quantity) => {
                let bytes = parse_quantity(quantity).ok_or_else(|| {
                    ProviderError::invalid(format!(
                        "limits.memory: {quantity:?} is not a memory quantity (e.g. 128Mi, 1Gi, 256M)"
                    ))
                })?;
                let mb = bytes.div_ceil(1024 * 1024).max(MEMORY_RANGE_MB.0 as u128);
                let mb = u32::try_from(mb).unwrap_or(u32::MAX);
                check_memory(mb, "limits.memory")?
            }
            None => default_memory_mb,
        },
    };
    let timeout = match spec.annotation(ANNOTATION_TIMEOUT) {
        Some(text) => {
            let timeout = parse_duration(text).ok_or_else(|| {
                ProviderError::invalid(format!(
                    "annotation {ANNOTATION_TIMEOUT}: {text:?} is not a duration (e.g. 30, 30s, 2m)"
                ))
            })?;
            let secs = timeout.as_secs_f64().ceil() as u64;
            if !(TIMEOUT_RANGE_SECS.0..=TIMEOUT_RANGE_SECS.1).contains(&secs) {
                return Err(ProviderError::invalid(format!(
                    "annotation {ANNOTATION_TIMEOUT}: {text:?} is outside Lambda's 1 to 900 seconds"
                )));
            }
            Duration::from_secs(secs)
        }
        None => default_timeout,
    };
    let architecture = match spec.annotation(ANNOTATION_ARCHITECTURE) {
        Some(text) => Some(Arch::parse(text).ok_or_else(|| {
            ProviderError::invalid(format!(
                "annotation {ANNOTATION_ARCHITECTURE}: {text:?} is not x86_64 or arm64"
            ))
        })?),
        None => None,
    };
    Ok(Settings {
        memory_mb,
        timeout,
        architecture,
        warm: warm_standbys(spec)?,
    })
}

/// Label [`LABEL_WARM`]: a count of standby environments, 0 when absent.
pub fn warm_standbys(spec: &FunctionDeployment) -> Result<u32> {
    match spec.label(LABEL_WARM) {
        None => Ok(0),
        Some(text) => text.trim().parse().map_err(|_| {
            ProviderError::invalid(format!(
                "labels: {LABEL_WARM} must be a count of standby environments, not {text:?}"
            ))
        }),
    }
}

fn check_memory(mb: u32, source: &str) -> Result<u32> {
    if (MEMORY_RANGE_MB.0..=MEMORY_RANGE_MB.1).contains(&mb) {
        Ok(mb)
    } else {
        Err(ProviderError::invalid(format!(
            "{source}: {mb} MB is outside Lambda's {} to {} MB",
            MEMORY_RANGE_MB.0, MEMORY_RANGE_MB.1
        )))
    }
}

/// The function's environment in Lambda: `envVars`, then `fprocess` from `envProcess`, then
/// the secrets variable (already encoded). Checks names and Lambda's 4 KB limit.
pub fn environment(
    spec: &FunctionDeployment,
    secrets_value: Option<String>,
) -> Result<BTreeMap<String, String>> {
    let mut env = BTreeMap::new();
    let mut extra = BTreeMap::new();
    for (key, value) in &spec.env_vars {
        if check_env_name(key)? {
            env.insert(key.clone(), value.clone());
        } else {
            extra.insert(key.as_str(), value.as_str());
        }
    }
    if !extra.is_empty() {
        let encoded = serde_json::to_string(&extra).expect("a map of strings serializes");
        env.insert(EXTRA_ENV.to_string(), encoded);
    }
    if !spec.env_process.is_empty() {
        if env.contains_key("fprocess") {
            return Err(ProviderError::invalid(
                "envVars sets fprocess and envProcess is set too: use one",
            ));
        }
        env.insert("fprocess".to_string(), spec.env_process.clone());
    }
    if let Some(secrets) = secrets_value {
        env.insert(SECRETS_ENV.to_string(), secrets);
    }
    let size: usize = env.iter().map(|(k, v)| k.len() + v.len()).sum();
    if size > MAX_ENV_BYTES {
        return Err(ProviderError::invalid(format!(
            "the function's environment is {size} bytes (envVars, envProcess and secrets); Lambda allows {MAX_ENV_BYTES}"
        )));
    }
    Ok(env)
}

/// `Ok(true)` for a name Lambda accepts, `Ok(false)` for one that must travel in
/// [`EXTRA_ENV`], an error for names no environment can hold or that Lambda reserves.
fn check_env_name(key: &str) -> Result<bool> {
    if key.is_empty() || key.contains(['=', '\0']) {
        return Err(ProviderError::invalid(format!(
            "envVars: {key:?} is not a variable name"
        )));
    }
    if lambda_emulator::RESERVED_VARIABLES.contains(&key)
        || [SECRETS_ENV, EXTRA_ENV].contains(&key)
        || key.starts_with("AWS_LAMBDA_")
    {
        return Err(ProviderError::invalid(format!(
            "envVars: {key} is reserved by Lambda or by this provider"
        )));
    }
    let bytes = key.as_bytes();
    Ok(bytes.len() >= 2
        && bytes[0].is_ascii_alphabetic()
        && bytes
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || *b == b'_'))
}

/// Parses `45`, `45s`, `1.5s`, `500ms`, `2m`, `1h`, `1m30s`: a bare number is seconds, fractions
/// and exponents included (`1.5`, `1e3`, which Go refuses); anything else is a Go duration
/// ([`faas_provider::config::parse_duration`]).
pub fn parse_duration(text: &str) -> Option<Duration> {
    let text = text.trim();
    if let Ok(secs) = text.parse::<f64>() {
        return (secs >= 0.0)
            .then(|| Duration::try_from_secs_f64(secs).ok())
            .flatten();
    }
    faas_provider::config::parse_duration(text).ok()
}

/// Parses a Kubernetes memory quantity into bytes: `134217728`, `128Mi`, `1Gi`, `128M`, `1.5Gi`,
/// `512Ki`, `1e9`.
pub fn parse_quantity(text: &str) -> Option<u128> {
    let text = text.trim();
    let split = text
        .find(|c: char| c.is_ascii_alphabetic() && c != 'e' && c != 'E')
        .unwrap_or(text.len());
    let (number, suffix) = text.split_at(split);
    let factor: f64 = match suffix {
        "" => 1.0,
        "Ki" => 1024.0,
        "Mi" => 1024f64.powi(2),
        "Gi" => 1024f64.powi(3),
        "Ti" => 1024f64.powi(4),
        "k" | "K" => 1e3,
        "M" => 1e6,
        "G" => 1e9,
        "T" => 1e12,
        _ => return None,
    };
    let value: f64 = number.parse().ok()?;
    let bytes = (value * factor).ceil();
    (bytes.is_finite() && bytes >= 0.0).then_some(bytes as u128)
}

#[cfg(test)]
mod tests {
    use faas_provider::FunctionResources;

    use super::*;

    fn spec_with(annotations: &[(&str, &str)], memory: &str) -> FunctionDeployment {
        let mut spec = FunctionDeployment::new("f", "img");
        spec.annotations = Some(
            annotations
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        );
        if !memory.is_empty() {
            spec.limits = Some(FunctionResources {
                memory: memory.to_string(),
                cpu: String::new(),
            });
        }
        spec
    }

    const DEFAULT: Duration = Duration::from_secs(30);

    #[test]
    fn memory_from_annotation_limits_or_default() {
        let s = |a: &[(&str, &str)], m: &str| settings(&spec_with(a, m), 256, DEFAULT);
        assert_eq!(s(&[], "").unwrap().memory_mb, 256);
        assert_eq!(s(&[], "512Mi").unwrap().memory_mb, 512);
        assert_eq!(s(&[], "1Gi").unwrap().memory_mb, 1024);
        assert_eq!(
            s(&[], "64Mi").unwrap().memory_mb,
            128,
            "raised to Lambda's minimum"
        );
        assert_eq!(s(&[], "200M").unwrap().memory_mb, 191);
        assert_eq!(
            s(&[(ANNOTATION_MEMORY, "2048")], "64Mi").unwrap().memory_mb,
            2048
        );
        for bad in [
            s(&[(ANNOTATION_MEMORY, "64")], ""),
            s(&[(ANNOTATION_MEMORY, "lots")], ""),
            s(&[], "20Gi"),
            s(&[], "many"),
        ] {
            assert!(
                matches!(bad, Err(ProviderError::InvalidRequest(_))),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn timeout_and_architecture() {
        let s = |a: &[(&str, &str)]| settings(&spec_with(a, ""), 256, DEFAULT);
        assert_eq!(s(&[]).unwrap().timeout, DEFAULT);
        assert_eq!(
            s(&[(ANNOTATION_TIMEOUT, "2m")]).unwrap().timeout,
            Duration::from_secs(120)
        );
        assert_eq!(
            s(&[(ANNOTATION_TIMEOUT, "45")]).unwrap().timeout,
            Duration::from_secs(45)
        );
        assert!(s(&[(ANNOTATION_TIMEOUT, "16m")]).is_err());
        assert!(s(&[(ANNOTATION_TIMEOUT, "0")]).is_err());
        assert_eq!(
            s(&[(ANNOTATION_ARCHITECTURE, "amd64")])
                .unwrap()
                .architecture,
            Some(Arch::X86_64)
        );
        assert_eq!(
            s(&[(ANNOTATION_ARCHITECTURE, "arm64")])
                .unwrap()
                .architecture,
            Some(Arch::Arm64)
        );
        assert!(s(&[(ANNOTATION_ARCHITECTURE, "s390x")]).is_err());
    }

    #[test]
    fn environment_is_checked() {
        let mut spec = FunctionDeployment::new("f", "img");
        spec.env_vars.insert("GOOD_1".into(), "v".into());
        spec.env_process = "cat".into();
        let env = environment(&spec, Some("{}".into())).unwrap();
        assert_eq!(env.get("fprocess").map(String::as_str), Some("cat"));
        assert_eq!(env.get(SECRETS_ENV).map(String::as_str), Some("{}"));
        for bad in [
            "",
            "A=B",
            "AWS_REGION",
            SECRETS_ENV,
            EXTRA_ENV,
            "_HANDLER",
            "AWS_LAMBDA_X",
        ] {
            let mut spec = FunctionDeployment::new("f", "img");
            spec.env_vars.insert(bad.into(), "v".into());
            assert!(environment(&spec, None).is_err(), "{bad}");
        }
        // Names Lambda refuses but a process can have travel in EXTRA_ENV.
        let mut odd = FunctionDeployment::new("f", "img");
        for name in ["A", "1AB", "has-dash", "x.y"] {
            odd.env_vars.insert(name.into(), format!("v-{name}"));
        }
        odd.env_vars.insert("NORMAL".into(), "n".into());
        let env = environment(&odd, None).unwrap();
        assert_eq!(env.len(), 2, "{env:?}");
        let extra: BTreeMap<String, String> = serde_json::from_str(&env[EXTRA_ENV]).unwrap();
        assert_eq!(extra.len(), 4);
        assert_eq!(extra["has-dash"], "v-has-dash");
        let mut big = FunctionDeployment::new("f", "img");
        big.env_vars.insert("BIG".into(), "x".repeat(4093));
        assert!(environment(&big, None).is_ok(), "exactly 4096 bytes fits");
        big.env_vars.insert("BIG".into(), "x".repeat(4094));
        match environment(&big, None) {
            Err(ProviderError::InvalidRequest(m)) => assert!(m.contains("4096"), "{m}"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn durations_and_quantities() {
        assert_eq!(parse_duration("1m30s"), Some(Duration::from_secs(90)));
        assert_eq!(parse_duration("500ms"), Some(Duration::from_millis(500)));
        assert_eq!(parse_duration("1.5"), Some(Duration::from_millis(1500)));
        assert_eq!(parse_duration("soon"), None);
        assert_eq!(parse_duration(""), None);
        assert_eq!(parse_quantity("128Mi"), Some(128 * 1024 * 1024));
        assert_eq!(parse_quantity("1e3"), Some(1000));
        assert_eq!(parse_quantity("0.5Gi"), Some(512 * 1024 * 1024));
        assert_eq!(parse_quantity("12Q"), None);
    }

    #[test]
    fn bare_numbers_are_seconds_and_the_rest_go_durations() {
        assert_eq!(parse_duration(" 45 "), Some(Duration::from_secs(45)));
        assert_eq!(parse_duration("1e3"), Some(Duration::from_secs(1000)));
        assert_eq!(parse_duration("1.5s"), Some(Duration::from_millis(1500)));
        assert_eq!(parse_duration("2h3m"), Some(Duration::from_secs(7380)));
        for bad in ["-1", "-1s", "1d", "s", "inf", "NaN", "1e30"] {
            assert_eq!(parse_duration(bad), None, "{bad}");
        }
    }
}
