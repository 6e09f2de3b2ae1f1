//! A deployment checked against the engine and turned into container settings: environment,
//! labels, secrets, resources, read-only root, constraints. Anything that cannot be honoured is
//! a 400 naming the field.

use std::collections::BTreeMap;

use faas_provider::types::name::{validate_namespace, validate_secret_name, validate_service};
use faas_provider::{DEFAULT_NAMESPACE, FunctionDeployment, ProviderError, Result};

use crate::labels::PREFIX;
use crate::quantity::{parse_cpu, parse_memory};

/// Docker's smallest memory limit (6 MiB).
pub const MIN_MEMORY_BYTES: i64 = 6 * 1024 * 1024;
/// Docker's smallest CPU limit (0.01 CPU), in nano-CPUs.
pub const MIN_NANO_CPUS: i64 = 10_000_000;
/// Where functions read their secrets.
pub const SECRETS_MOUNT_DIR: &str = "/var/openfaas/secrets";

/// What the engine is, for constraints and limits.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct EngineFacts {
    /// `linux`.
    pub(crate) os: String,
    /// `x86_64`, `aarch64`...
    pub(crate) arch: String,
    /// The engine host's name.
    pub(crate) hostname: String,
    /// The engine's `--label key=value` labels.
    pub(crate) labels: BTreeMap<String, String>,
    /// CPUs of the engine's host.
    pub(crate) cpus: i64,
}

/// Container resources derived from limits and requests.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Resources {
    pub(crate) memory: Option<i64>,
    pub(crate) memory_reservation: Option<i64>,
    pub(crate) nano_cpus: Option<i64>,
    pub(crate) cpu_shares: Option<i64>,
}

/// A validated deployment.
#[derive(Debug, Clone)]
pub(crate) struct Plan {
    /// The spec, namespace filled.
    pub(crate) spec: FunctionDeployment,
    /// Environment of every replica (user variables and `fprocess`), before networking's own.
    pub(crate) env: BTreeMap<String, String>,
    pub(crate) resources: Resources,
}

fn invalid(message: impl Into<String>) -> ProviderError {
    ProviderError::invalid(message)
}

/// Checks `spec` and derives the container settings. Secrets are checked by the caller (they
/// live in the store).
pub(crate) fn plan(mut spec: FunctionDeployment, engine: &EngineFacts) -> Result<Plan> {
    if spec.namespace.is_empty() {
        spec.namespace = DEFAULT_NAMESPACE.to_string();
    }
    validate_service(&spec.service)?;
    validate_namespace(&spec.namespace)?;
    if spec.image.trim().is_empty() {
        return Err(invalid("image: is required"));
    }
    if spec.image.trim() != spec.image || spec.image.contains(char::is_whitespace) {
        return Err(invalid(format!(
            "image: {:?} is not an image reference",
            spec.image
        )));
    }

    let mut env = BTreeMap::new();
    for (key, value) in &spec.env_vars {
        if key.is_empty() || key.contains(['=', '\0']) || value.contains('\0') {
            return Err(invalid(format!(
                "envVars: {key:?} is not a valid environment variable"
            )));
        }
        env.insert(key.clone(), value.clone());
    }
    if !spec.env_process.is_empty() {
        if spec.env_process.contains('\0') {
            return Err(invalid("envProcess: must not contain NUL"));
        }
        env.insert("fprocess".to_string(), spec.env_process.clone());
    }

    for (key, _) in spec.labels.iter().flatten() {
        if key.is_empty() {
            return Err(invalid("labels: empty label key"));
        }
        if key.starts_with(PREFIX) {
            return Err(invalid(format!(
                "labels: {key:?} uses the prefix {PREFIX:?}, which is reserved for the provider's own labels"
            )));
        }
    }

    let mut seen = std::collections::HashSet::new();
    for secret in &spec.secrets {
        validate_secret_name(secret)?;
        if !seen.insert(secret) {
            return Err(invalid(format!("secrets: {secret:?} is listed twice")));
        }
    }

    for constraint in &spec.constraints {
        check_constraint(constraint, engine)?;
    }

    let resources = resources(&spec, engine)?;
    Ok(Plan {
        spec,
        env,
        resources,
    })
}

fn resources(spec: &FunctionDeployment, engine: &EngineFacts) -> Result<Resources> {
    let memory = |field: &str, text: &str| {
        parse_memory(text).map_err(|e| invalid(format!("{field}.memory: {e}")))
    };
    let cpu =
        |field: &str, text: &str| parse_cpu(text).map_err(|e| invalid(format!("{field}.cpu: {e}")));
    let mut out = Resources::default();
    let mut requested_memory = None;
    if let Some(limits) = &spec.limits {
        if !limits.memory.is_empty() {
            let bytes = memory("limits", &limits.memory)?;
            requested_memory = Some(bytes);
            // Kubernetes-based providers accept any limit (the OpenFaaS certifier deploys
            // 5Mi): the engine's minimum is applied, the spec (and so the function's status)
            // keeps what was asked.
            if bytes < MIN_MEMORY_BYTES {
                tracing::info!(
                    function = %spec.service,
                    requested = %limits.memory,
                    applied = "6Mi",
                    "limits.memory is below the Docker Engine's minimum: raised to it"
                );
            }
            out.memory = Some(bytes.max(MIN_MEMORY_BYTES));
        }
        if !limits.cpu.is_empty() {
            let nanos = cpu("limits", &limits.cpu)?;
            if nanos < MIN_NANO_CPUS {
                return Err(invalid(format!(
                    "limits.cpu: {} is below the Docker Engine's minimum of 10m (0.01 CPU)",
                    limits.cpu
                )));
            }
            if engine.cpus > 0 && nanos > engine.cpus * 1_000_000_000 {
                return Err(invalid(format!(
                    "limits.cpu: {} is more than the engine's {} CPUs",
                    limits.cpu, engine.cpus
                )));
            }
            out.nano_cpus = Some(nanos);
        }
    }
    if let Some(requests) = &spec.requests {
        if !requests.memory.is_empty() {
            let bytes = memory("requests", &requests.memory)?;
            if let Some(limit) = requested_memory
                && bytes > limit
            {
                return Err(invalid(format!(
                    "requests.memory: {} is more than limits.memory",
                    requests.memory
                )));
            }
            out.memory_reservation = Some(bytes).filter(|b| *b > 0);
        }
        if !requests.cpu.is_empty() {
            let nanos = cpu("requests", &requests.cpu)?;
            if let Some(limit) = out.nano_cpus
                && nanos > limit
            {
                return Err(invalid(format!(
                    "requests.cpu: {} is more than limits.cpu",
                    requests.cpu
                )));
            }
            // Kubernetes' mapping of a CPU request to cgroup shares: 1024 per CPU, at least 2.
            let shares = (nanos as i128 * 1024 / 1_000_000_000).max(2);
            out.cpu_shares = Some(shares as i64);
        }
    }
    Ok(out)
}

const ARCH_ALIASES: [(&str, &str); 3] = [
    ("amd64", "x86_64"),
    ("arm64", "aarch64"),
    ("armhf", "armv7l"),
];

fn same_arch(a: &str, b: &str) -> bool {
    let canonical = |s: &str| {
        let lower = s.to_ascii_lowercase();
        ARCH_ALIASES
            .iter()
            .find(|(alias, _)| *alias == lower)
            .map(|(_, name)| name.to_string())
            .unwrap_or(lower)
    };
    canonical(a) == canonical(b)
}

/// Swarm-style placement constraints a single engine can answer: `node.platform.os`,
/// `node.platform.arch`, `node.hostname`, `node.labels.<key>` / `engine.labels.<key>` (the
/// engine's labels), with `==` or `!=`. Others, and unsatisfied ones, are rejected.
fn check_constraint(constraint: &str, engine: &EngineFacts) -> Result<()> {
    let (key, expected, equal) = if let Some((k, v)) = constraint.split_once("!=") {
        (k.trim(), v.trim(), false)
    } else if let Some((k, v)) = constraint.split_once("==") {
        (k.trim(), v.trim(), true)
    } else {
        return Err(invalid(format!(
            "constraints: {constraint:?} is not of the form KEY==VALUE or KEY!=VALUE"
        )));
    };
    type Matcher = fn(&str, &str) -> bool;
    let (actual, matches): (Option<String>, Matcher) = match key {
        "node.platform.os" => (Some(engine.os.clone()), |a, b| a.eq_ignore_ascii_case(b)),
        "node.platform.arch" => (Some(engine.arch.clone()), same_arch),
        "node.hostname" => (Some(engine.hostname.clone()), |a, b| a == b),
        _ => match key
            .strip_prefix("node.labels.")
            .or_else(|| key.strip_prefix("engine.labels."))
        {
            Some(label) => (engine.labels.get(label).cloned(), |a, b| a == b),
            None => {
                return Err(invalid(format!(
                    "constraints: {constraint:?} cannot be honoured by a single Docker Engine; supported keys are \
                     node.platform.os, node.platform.arch, node.hostname, node.labels.<key> and engine.labels.<key>"
                )));
            }
        },
    };
    let satisfied = match &actual {
        Some(actual) => matches(actual, expected) == equal,
        None => !equal,
    };
    if satisfied {
        Ok(())
    } else {
        Err(invalid(format!(
            "constraints: {constraint:?} is not satisfied by this Docker Engine ({key} is {})",
            actual.as_deref().unwrap_or("unset")
        )))
    }
}

#[cfg(test)]
mod tests {
    use faas_provider::FunctionResources;

    use super::*;

    fn engine() -> EngineFacts {
        EngineFacts {
            os: "linux".into(),
            arch: "x86_64".into(),
            hostname: "box".into(),
            labels: BTreeMap::from([("zone".to_string(), "a".to_string())]),
            cpus: 2,
        }
    }

    fn spec() -> FunctionDeployment {
        FunctionDeployment::new("echo", "img:1")
    }

    fn resources_of(limits: (&str, &str), requests: (&str, &str)) -> Result<Resources> {
        let mut spec = spec();
        spec.limits = Some(FunctionResources {
            memory: limits.0.into(),
            cpu: limits.1.into(),
        });
        spec.requests = Some(FunctionResources {
            memory: requests.0.into(),
            cpu: requests.1.into(),
        });
        plan(spec, &engine()).map(|p| p.resources)
    }

    #[test]
    fn limits_and_requests() {
        assert_eq!(
            resources_of(("128Mi", "0.5"), ("64Mi", "100m")).unwrap(),
            Resources {
                memory: Some(128 << 20),
                memory_reservation: Some(64 << 20),
                nano_cpus: Some(500_000_000),
                cpu_shares: Some(102),
            }
        );
        assert_eq!(
            resources_of(("", ""), ("", "")).unwrap(),
            Resources::default()
        );
        assert_eq!(
            resources_of(("1G", ""), ("", "1m")).unwrap().cpu_shares,
            Some(2)
        );
        // Below the engine's minimum: raised to it (the request is judged against the limit asked).
        let small = resources_of(("5Mi", ""), ("5Mi", "")).unwrap();
        assert_eq!(
            (small.memory, small.memory_reservation),
            (Some(MIN_MEMORY_BYTES), Some(5 << 20))
        );
        for (limits, requests, needle) in [
            (("128Q", ""), ("", ""), "limits.memory"),
            (("", "5m"), ("", ""), "minimum of 10m"),
            (("", "4"), ("", ""), "2 CPUs"),
            (("", "x"), ("", ""), "limits.cpu"),
            (("64Mi", ""), ("128Mi", ""), "requests.memory"),
            (("", "100m"), ("", "200m"), "requests.cpu"),
            (("", ""), ("-1", ""), "negative"),
        ] {
            match resources_of(limits, requests) {
                Err(ProviderError::InvalidRequest(message)) => {
                    assert!(message.contains(needle), "{message}")
                }
                other => panic!("{limits:?} {requests:?}: {other:?}"),
            }
        }
    }

    #[test]
    fn environment_and_labels() {
        let mut s = spec();
        s.env_process = "cat".into();
        s.env_vars.insert("A".into(), "1".into());
        let p = plan(s.clone(), &engine()).unwrap();
        assert_eq!(p.spec.namespace, DEFAULT_NAMESPACE);
        assert_eq!(p.env.get("fprocess").map(String::as_str), Some("cat"));
        assert_eq!(p.env.get("A").map(String::as_str), Some("1"));

        let mut bad = s.clone();
        bad.env_vars.insert("A=B".into(), "1".into());
        assert!(plan(bad, &engine()).is_err());
        let mut bad = s.clone();
        bad.labels = Some(BTreeMap::from([(format!("{PREFIX}spec"), "x".to_string())]));
        assert!(plan(bad, &engine()).is_err());
        let mut bad = s.clone();
        bad.image = "bad image".into();
        assert!(plan(bad, &engine()).is_err());
        let mut bad = s.clone();
        bad.image = String::new();
        assert!(plan(bad, &engine()).is_err());
        let mut bad = s.clone();
        bad.secrets = vec!["a".into(), "a".into()];
        assert!(plan(bad, &engine()).is_err());
        let mut bad = s;
        bad.secrets = vec!["../etc".into()];
        assert!(plan(bad, &engine()).is_err());
    }

    #[test]
    fn constraints() {
        let e = engine();
        for ok in [
            "node.platform.os == linux",
            "node.platform.arch == amd64",
            "node.platform.arch==x86_64",
            "node.platform.arch != arm64",
            "node.hostname == box",
            "node.labels.zone == a",
            "engine.labels.zone != b",
            "engine.labels.missing != x",
        ] {
            check_constraint(ok, &e).unwrap_or_else(|err| panic!("{ok}: {err}"));
        }
        for (bad, needle) in [
            ("node.platform.os == windows", "not satisfied"),
            ("node.labels.missing == x", "unset"),
            ("node.role == manager", "cannot be honoured"),
            ("node.platform.os", "KEY==VALUE"),
        ] {
            let err = check_constraint(bad, &e).unwrap_err().to_string();
            assert!(err.contains(needle), "{bad}: {err}");
        }
    }
}
