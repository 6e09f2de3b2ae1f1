//! Backend kinds, and the tables of in-process `docker` and `lambda` backends handed to their
//! provider crates: each crate owns its settings (the names of its binary's environment
//! variables, e.g. `docker_host`, `state_dir`), their defaults and their validation. The
//! federation only turns the TOML values into the text an environment variable would hold
//! and refuses keys the crate does not list, naming the ones it does.

use std::collections::BTreeMap;
#[cfg(any(feature = "docker", feature = "lambda"))]
use std::path::Path;

#[cfg(any(feature = "docker", feature = "lambda"))]
use super::model::BackendSpec;

/// Backend kinds this build knows (`docker` and `lambda` with the cargo features of the same
/// names).
#[cfg(all(not(feature = "docker"), not(feature = "lambda")))]
pub const KNOWN_KINDS: &[&str] = &["memory", "http"];
/// Backend kinds this build knows (`docker` and `lambda` with the cargo features of the same
/// names).
#[cfg(all(feature = "docker", not(feature = "lambda")))]
pub const KNOWN_KINDS: &[&str] = &["memory", "http", "docker"];
/// Backend kinds this build knows (`docker` and `lambda` with the cargo features of the same
/// names).
#[cfg(all(not(feature = "docker"), feature = "lambda"))]
pub const KNOWN_KINDS: &[&str] = &["memory", "http", "lambda"];
/// Backend kinds this build knows (`docker` and `lambda` with the cargo features of the same
/// names).
#[cfg(all(feature = "docker", feature = "lambda"))]
pub const KNOWN_KINDS: &[&str] = &["memory", "http", "docker", "lambda"];

/// The keys a backend entry has beyond the federation's own (`name`, `kind`, `url`, ...).
pub(super) type Table = BTreeMap<String, toml::Value>;

/// Refuses every key of `table` not in `known` (a provider crate's settings; empty for the
/// kinds that take none), naming the known ones.
pub(super) fn check_keys(kind: &str, table: &Table, known: &[&str]) -> Result<(), String> {
    match table.keys().find(|k| !known.contains(&k.as_str())) {
        None => Ok(()),
        Some(key) if known.is_empty() => Err(format!("unknown field {key:?} for kind {kind:?}")),
        Some(key) => Err(format!(
            "unknown field {key:?} for kind {kind:?} (known: {})",
            known.join(", ")
        )),
    }
}

/// `kind = "docker"`: the table handed to [`provider_docker::DockerConfig::from_settings`]
/// (relative paths resolved against `base`, the configuration file's directory).
#[cfg(feature = "docker")]
pub(super) fn docker(table: &Table, base: &Path) -> Result<BackendSpec, String> {
    check_keys("docker", table, provider_docker::SETTINGS)?;
    let settings = settings_text(table)?;
    provider_docker::DockerConfig::from_settings(&settings, base)
        .map(BackendSpec::Docker)
        .map_err(|e| e.to_string())
}

/// `kind = "lambda"`: the table handed to
/// [`provider_lambda::launch::Launch::from_settings`] (relative paths resolved
/// against `base`, the configuration file's directory).
#[cfg(feature = "lambda")]
pub(super) fn lambda(table: &Table, base: &Path) -> Result<BackendSpec, String> {
    use provider_lambda::launch::Launch;

    check_keys("lambda", table, provider_lambda::SETTINGS)?;
    let settings = settings_text(table)?;
    Launch::from_settings(&settings, base)
        .map(|launch| BackendSpec::Lambda(Box::new(launch)))
        .map_err(|e| e.to_string())
}

/// Every value of `table` as the text an environment variable would hold: strings as they
/// are, numbers and booleans written out, arrays joined with commas.
pub(super) fn settings_text(table: &Table) -> Result<BTreeMap<String, String>, String> {
    table
        .iter()
        .map(|(key, value)| Ok((key.clone(), setting_text(key, value)?)))
        .collect()
}

fn setting_text(key: &str, value: &toml::Value) -> Result<String, String> {
    Ok(match value {
        toml::Value::String(s) => s.clone(),
        toml::Value::Integer(i) => i.to_string(),
        toml::Value::Float(f) => f.to_string(),
        toml::Value::Boolean(b) => b.to_string(),
        toml::Value::Array(items) => {
            let mut parts = Vec::with_capacity(items.len());
            for item in items {
                match item {
                    toml::Value::String(s) => parts.push(s.clone()),
                    toml::Value::Integer(i) => parts.push(i.to_string()),
                    _ => return Err(format!("{key}: expected an array of strings or numbers")),
                }
            }
            parts.join(",")
        }
        _ => return Err(format!("{key}: expected a string, number or boolean")),
    })
}
