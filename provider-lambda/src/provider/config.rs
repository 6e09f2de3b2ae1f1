//! The Lambda provider's configuration: environment variables (lower-case, OpenFaaS style) with
//! defaults, parsed through an injectable lookup so tests never touch the process environment.
//!
//! AWS itself (region, endpoint, credentials) comes from the usual AWS sources
//! (`AWS_REGION`, `AWS_ENDPOINT_URL`/`AWS_ENDPOINT_URL_LAMBDA`, `AWS_ACCESS_KEY_ID`, profiles,
//! web identity, IMDS...); `aws_region` and `aws_endpoint_url` here override them.

use std::path::PathBuf;
use std::time::Duration;

use faas_provider::DEFAULT_NAMESPACE;

/// A configuration value that cannot be used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// A variable's value does not parse or is out of range.
    #[error("{name}: invalid value {value:?}: {reason}")]
    Invalid {
        /// Variable name.
        name: &'static str,
        /// Its value.
        value: String,
        /// What is wrong.
        reason: String,
    },
    /// A required variable is missing.
    #[error("{name} is required: {hint}")]
    Missing {
        /// Variable name.
        name: &'static str,
        /// What to set.
        hint: &'static str,
    },
}

/// How the Lambda provider talks to Lambda and shapes functions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LambdaConfig {
    /// Execution role ARN of every function (`lambda_execution_role`, required).
    pub role_arn: String,
    /// The one namespace this provider serves (`function_namespace`, default `openfaas-fn`).
    pub namespace: String,
    /// Prefix of Lambda function names (`function_prefix`, default empty): function `echo` is
    /// the Lambda `<prefix>echo`. The whole name must fit Lambda's 64 characters.
    pub function_prefix: String,
    /// Prefix of Secrets Manager names (`secrets_prefix`, default `openfaas/`): secret `s` of
    /// namespace `ns` is `<prefix><ns>/s`.
    pub secrets_prefix: String,
    /// Region override (`aws_region`); default: the AWS SDK's own lookup.
    pub region: Option<String>,
    /// Endpoint override for every AWS service (`aws_endpoint_url`); default: the SDK's.
    pub endpoint_url: Option<String>,
    /// Attempts per control-plane call, retries included (`aws_max_attempts`, default 3).
    pub max_attempts: u32,
    /// Attempts per invocation (`invoke_max_attempts`, default 1: a retried invoke may run the
    /// function twice, and throttling must surface as 429 at once).
    pub invoke_max_attempts: u32,
    /// Bound on one control-plane call (`aws_call_timeout`, default 60 s).
    pub call_timeout: Duration,
    /// Bound on waiting for a function to become Active / Successful (`ready_timeout`, 300 s).
    pub ready_timeout: Duration,
    /// Function timeout when no annotation sets one (`default_timeout`, default 30 s).
    pub default_timeout: Duration,
    /// Function memory (MB) when neither limits nor annotation set it (`default_memory`, 256).
    pub default_memory_mb: u32,
    /// The static shim for x86_64 (`bootstrap_x86_64`, or `bootstrap_path` for both).
    pub bootstrap_x86_64: Option<PathBuf>,
    /// The static shim for arm64 (`bootstrap_arm64`).
    pub bootstrap_arm64: Option<PathBuf>,
    /// Registries spoken to over plain HTTP (`insecure_registries`, comma-separated host:port).
    pub insecure_registries: Vec<String>,
    /// A Docker `config.json` with registry credentials (`docker_config`).
    pub docker_config: Option<PathBuf>,
}

impl LambdaConfig {
    /// A configuration with `role_arn` and every default.
    pub fn new(role_arn: impl Into<String>) -> Self {
        Self {
            role_arn: role_arn.into(),
            namespace: DEFAULT_NAMESPACE.to_string(),
            function_prefix: String::new(),
            secrets_prefix: "openfaas/".to_string(),
            region: None,
            endpoint_url: None,
            max_attempts: 3,
            invoke_max_attempts: 1,
            call_timeout: Duration::from_secs(60),
            ready_timeout: Duration::from_secs(300),
            default_timeout: Duration::from_secs(30),
            default_memory_mb: 256,
            bootstrap_x86_64: None,
            bootstrap_arm64: None,
            insecure_registries: Vec::new(),
            docker_config: None,
        }
    }

    /// Reads the configuration through `lookup` (tests pass a map). Empty values are unset.
    /// Providers are described by a settings table ([`super::launch::Launch::from_settings`],
    /// which calls this over it).
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let get = |name: &str| {
            lookup(name)
                .map(|v| v.trim().to_string())
                .filter(|v| !v.is_empty())
        };
        let role = get("lambda_execution_role").ok_or(ConfigError::Missing {
            name: "lambda_execution_role",
            hint: "the ARN of the IAM role every function runs as",
        })?;
        let mut config = Self::new(role);
        if let Some(ns) = get("function_namespace") {
            if faas_provider::types::name::validate_namespace(&ns).is_err() {
                return Err(invalid("function_namespace", &ns, "not a DNS-1123 label"));
            }
            config.namespace = ns;
        }
        if let Some(prefix) = get("function_prefix") {
            if prefix.len() > 32
                || !prefix
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
            {
                return Err(invalid(
                    "function_prefix",
                    &prefix,
                    "at most 32 of [A-Za-z0-9_-]",
                ));
            }
            config.function_prefix = prefix;
        }
        if let Some(prefix) = get("secrets_prefix") {
            config.secrets_prefix = prefix;
        }
        config.region = get("aws_region");
        config.endpoint_url = get("aws_endpoint_url");
        for (name, slot) in [
            ("aws_max_attempts", &mut config.max_attempts),
            ("invoke_max_attempts", &mut config.invoke_max_attempts),
        ] {
            if let Some(value) = get(name) {
                *slot = value
                    .parse::<u32>()
                    .ok()
                    .filter(|n| (1..=10).contains(n))
                    .ok_or_else(|| invalid(name, &value, "an integer from 1 to 10"))?;
            }
        }
        for (name, slot) in [
            ("aws_call_timeout", &mut config.call_timeout),
            ("ready_timeout", &mut config.ready_timeout),
            ("default_timeout", &mut config.default_timeout),
        ] {
            if let Some(value) = get(name) {
                *slot = crate::provider::settings::parse_duration(&value)
                    .filter(|d| !d.is_zero())
                    .ok_or_else(|| invalid(name, &value, "a duration such as 30s, 2m or 45"))?;
            }
        }
        let secs = config.default_timeout.as_secs();
        if !(1..=900).contains(&secs) {
            return Err(invalid(
                "default_timeout",
                &format!("{secs}s"),
                "Lambda timeouts are 1 to 900 seconds",
            ));
        }
        if let Some(value) = get("default_memory") {
            config.default_memory_mb = value
                .parse::<u32>()
                .ok()
                .filter(|m| (128..=10240).contains(m))
                .ok_or_else(|| invalid("default_memory", &value, "MB from 128 to 10240"))?;
        }
        if let Some(path) = get("bootstrap_path") {
            config.bootstrap_x86_64 = Some(PathBuf::from(&path));
            config.bootstrap_arm64 = Some(PathBuf::from(path));
        }
        if let Some(path) = get("bootstrap_x86_64") {
            config.bootstrap_x86_64 = Some(PathBuf::from(path));
        }
        if let Some(path) = get("bootstrap_arm64") {
            config.bootstrap_arm64 = Some(PathBuf::from(path));
        }
        if let Some(list) = get("insecure_registries") {
            config.insecure_registries = list
                .split(',')
                .map(|s| s.trim().to_string())
                .filter(|s| !s.is_empty())
                .collect();
        }
        config.docker_config = get("docker_config").map(PathBuf::from);
        Ok(config)
    }
}

fn invalid(name: &'static str, value: &str, reason: &str) -> ConfigError {
    ConfigError::Invalid {
        name,
        value: value.to_string(),
        reason: reason.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    fn parse(pairs: &[(&str, &str)]) -> Result<LambdaConfig, ConfigError> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        LambdaConfig::from_lookup(|name| map.get(name).cloned())
    }

    #[test]
    fn role_is_required_and_defaults_apply() {
        assert!(matches!(parse(&[]), Err(ConfigError::Missing { .. })));
        let config = parse(&[("lambda_execution_role", "arn:aws:iam::1:role/r")]).unwrap();
        assert_eq!(config, LambdaConfig::new("arn:aws:iam::1:role/r"));
        assert_eq!(config.namespace, "openfaas-fn");
    }

    #[test]
    fn values_are_parsed_and_checked() {
        let config = parse(&[
            ("lambda_execution_role", "r"),
            ("function_prefix", "of-"),
            ("aws_max_attempts", "5"),
            ("default_timeout", "2m"),
            ("default_memory", "512"),
            ("bootstrap_path", "/opt/bootstrap"),
            ("bootstrap_arm64", "/opt/bootstrap-arm64"),
            ("insecure_registries", "127.0.0.1:5000, localhost:5001"),
        ])
        .unwrap();
        assert_eq!(config.function_prefix, "of-");
        assert_eq!(config.max_attempts, 5);
        assert_eq!(config.default_timeout, Duration::from_secs(120));
        assert_eq!(config.default_memory_mb, 512);
        assert_eq!(
            config.bootstrap_x86_64,
            Some(PathBuf::from("/opt/bootstrap"))
        );
        assert_eq!(
            config.bootstrap_arm64,
            Some(PathBuf::from("/opt/bootstrap-arm64"))
        );
        assert_eq!(
            config.insecure_registries,
            vec!["127.0.0.1:5000", "localhost:5001"]
        );
        for bad in [
            ("function_prefix", "bad/prefix"),
            ("aws_max_attempts", "0"),
            ("default_timeout", "901s"),
            ("default_memory", "64"),
            ("function_namespace", "Not_A_Label"),
        ] {
            let result = parse(&[("lambda_execution_role", "r"), bad]);
            assert!(
                matches!(result, Err(ConfigError::Invalid { .. })),
                "{bad:?}: {result:?}"
            );
        }
    }
}
