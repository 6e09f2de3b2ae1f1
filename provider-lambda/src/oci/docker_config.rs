//! Credentials from a Docker `config.json`: the `auths` map, keyed by registry (`host:port`,
//! `https://host/v1/`, ...), whose entries hold `auth` (base64 of `user:password`) or
//! `username` + `password`, or a `registrytoken` (sent as a bearer token). Credential helpers
//! (`credsStore`, `credHelpers`) are not run.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use base64::Engine as _;
use oci_client::secrets::RegistryAuth;
use serde::Deserialize;

use crate::package::PackageError;

#[derive(Deserialize, Default)]
struct ConfigFile {
    #[serde(default)]
    auths: BTreeMap<String, AuthEntry>,
}

#[derive(Deserialize, Default)]
struct AuthEntry {
    #[serde(default)]
    auth: Option<String>,
    #[serde(default)]
    username: Option<String>,
    #[serde(default)]
    password: Option<String>,
    #[serde(default)]
    registrytoken: Option<String>,
}

/// `$DOCKER_CONFIG/config.json`, else `$HOME/.docker/config.json`.
pub fn docker_config_path() -> Option<PathBuf> {
    if let Some(dir) = std::env::var_os("DOCKER_CONFIG") {
        return Some(PathBuf::from(dir).join("config.json"));
    }
    std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".docker").join("config.json"))
}

/// `host[:port]` of an `auths` key: scheme and path dropped, Docker Hub aliases folded.
fn normalise(key: &str) -> String {
    let key = key
        .strip_prefix("https://")
        .or_else(|| key.strip_prefix("http://"))
        .unwrap_or(key);
    let host = key.split('/').next().unwrap_or(key).to_ascii_lowercase();
    match host.as_str() {
        "docker.io" | "index.docker.io" | "registry-1.docker.io" => "docker.io".to_string(),
        _ => host,
    }
}

/// The credentials for `registry` in the config at `path` (or the default place).
pub(crate) fn auth_for(path: Option<&Path>, registry: &str) -> Result<RegistryAuth, PackageError> {
    let explicit = path.is_some();
    let Some(path) = path.map(Path::to_path_buf).or_else(docker_config_path) else {
        return Ok(RegistryAuth::Anonymous);
    };
    let text = match std::fs::read_to_string(&path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound && !explicit => {
            return Ok(RegistryAuth::Anonymous);
        }
        Err(e) => {
            return Err(PackageError::Credentials(format!(
                "cannot read {}: {e}",
                path.display()
            )));
        }
    };
    let config: ConfigFile = serde_json::from_str(&text).map_err(|e| {
        PackageError::Credentials(format!("{} is not a Docker config: {e}", path.display()))
    })?;
    from_config(&config, registry, &path)
}

fn from_config(
    config: &ConfigFile,
    registry: &str,
    path: &Path,
) -> Result<RegistryAuth, PackageError> {
    let wanted = normalise(registry);
    let Some(entry) = config
        .auths
        .iter()
        .find(|(key, _)| normalise(key) == wanted)
        .map(|(_, entry)| entry)
    else {
        return Ok(RegistryAuth::Anonymous);
    };
    if let Some(encoded) = entry.auth.as_deref().filter(|a| !a.is_empty()) {
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(encoded.trim())
            .ok()
            .and_then(|bytes| String::from_utf8(bytes).ok())
            .ok_or_else(|| {
                PackageError::Credentials(format!(
                    "{}: the auth of {registry} is not base64 of user:password",
                    path.display()
                ))
            })?;
        let (user, password) = decoded.split_once(':').ok_or_else(|| {
            PackageError::Credentials(format!(
                "{}: the auth of {registry} has no ':' between user and password",
                path.display()
            ))
        })?;
        return Ok(RegistryAuth::Basic(user.to_string(), password.to_string()));
    }
    if let (Some(user), Some(password)) = (&entry.username, &entry.password) {
        return Ok(RegistryAuth::Basic(user.clone(), password.clone()));
    }
    if let Some(token) = &entry.registrytoken {
        return Ok(RegistryAuth::Bearer(token.clone()));
    }
    Ok(RegistryAuth::Anonymous)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(json: &str) -> ConfigFile {
        serde_json::from_str(json).unwrap()
    }

    #[test]
    fn finds_entries_by_registry() {
        let config = parse(
            r#"{"auths": {
                "127.0.0.1:5000": {"auth": "dXNlcjpwYTpzcw=="},
                "https://index.docker.io/v1/": {"username": "hub", "password": "pw"},
                "http://tok.example:443/": {"registrytoken": "t0k"}
            }}"#,
        );
        let p = Path::new("config.json");
        assert_eq!(
            from_config(&config, "127.0.0.1:5000", p).unwrap(),
            RegistryAuth::Basic("user".into(), "pa:ss".into())
        );
        assert_eq!(
            from_config(&config, "index.docker.io", p).unwrap(),
            RegistryAuth::Basic("hub".into(), "pw".into())
        );
        assert_eq!(
            from_config(&config, "tok.example:443", p).unwrap(),
            RegistryAuth::Bearer("t0k".into())
        );
        assert_eq!(
            from_config(&config, "other:1", p).unwrap(),
            RegistryAuth::Anonymous
        );
    }

    #[test]
    fn malformed_auth_is_a_clear_error() {
        let config = parse(r#"{"auths": {"r:1": {"auth": "%%%"}}}"#);
        let err = from_config(&config, "r:1", Path::new("c.json")).unwrap_err();
        assert!(matches!(err, PackageError::Credentials(_)), "{err}");
    }
}
