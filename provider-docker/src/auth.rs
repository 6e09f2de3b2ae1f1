//! Registry credentials from a Docker `config.json`: `auths` entries (`auth`, or `username`
//! and `password`, or `identitytoken`), and credential helpers (`credHelpers`, `credsStore`,
//! run as `docker-credential-<helper> get`).

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Stdio;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use bollard::auth::DockerCredentials;
use serde::Deserialize;
use tokio::io::AsyncWriteExt;

/// The registry Docker Hub images come from, as `config.json` names it.
const DOCKER_HUB: &str = "https://index.docker.io/v1/";

/// Why credentials could not be read. Reported with the pull that needed them.
#[derive(Debug, thiserror::Error)]
pub(crate) enum AuthError {
    #[error("reading {path}: {source}")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path} is not a Docker config file: {source}")]
    Parse {
        path: PathBuf,
        #[source]
        source: serde_json::Error,
    },
    #[error("the credentials for {registry} in {path} are not base64 user:password")]
    BadAuth { registry: String, path: PathBuf },
    #[error("credential helper docker-credential-{helper} failed for {registry}: {reason}")]
    Helper {
        helper: String,
        registry: String,
        reason: String,
    },
}

#[derive(Debug, Default, Deserialize)]
struct ConfigFile {
    #[serde(default)]
    auths: HashMap<String, AuthEntry>,
    #[serde(default, rename = "credHelpers")]
    cred_helpers: HashMap<String, String>,
    #[serde(default, rename = "credsStore")]
    creds_store: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
struct AuthEntry {
    #[serde(default)]
    auth: Option<String>,
    #[serde(default)]
    username: Option<String>,
    #[serde(default)]
    password: Option<String>,
    #[serde(default)]
    identitytoken: Option<String>,
}

#[derive(Debug, Deserialize)]
struct HelperOutput {
    #[serde(rename = "Username")]
    username: String,
    #[serde(rename = "Secret")]
    secret: String,
}

/// The registry host of an image reference: the first path component when it looks like a
/// host (has `.` or `:`, or is `localhost`), else Docker Hub.
pub(crate) fn registry_of(image: &str) -> String {
    match image.split_once('/') {
        Some((first, _)) if first.contains(['.', ':']) || first == "localhost" => first.to_string(),
        _ => DOCKER_HUB.to_string(),
    }
}

/// `https://host:port/v1/` → `host:port`; Docker Hub's aliases → `docker.io`.
fn normalize(key: &str) -> String {
    let host = key
        .trim_start_matches("https://")
        .trim_start_matches("http://");
    let host = host.split('/').next().unwrap_or(host);
    match host {
        "index.docker.io" | "registry-1.docker.io" | "docker.io" => "docker.io".to_string(),
        other => other.to_string(),
    }
}

/// Credentials for pulling `image`, from the Docker config file at `path` (absent file = none).
/// Helpers are looked up in `helper_dir` when given, else on `PATH`.
pub(crate) async fn credentials_for(
    path: &Path,
    image: &str,
    helper_dir: Option<&Path>,
) -> Result<Option<DockerCredentials>, AuthError> {
    let text = match tokio::fs::read_to_string(path).await {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(source) => {
            return Err(AuthError::Read {
                path: path.to_path_buf(),
                source,
            });
        }
    };
    let config: ConfigFile = serde_json::from_str(&text).map_err(|source| AuthError::Parse {
        path: path.to_path_buf(),
        source,
    })?;
    let registry = registry_of(image);
    let wanted = normalize(&registry);

    let helper = config
        .cred_helpers
        .iter()
        .find(|(key, _)| normalize(key) == wanted)
        .map(|(_, helper)| helper.clone());
    if let Some(helper) = helper {
        return run_helper(&helper, &registry, helper_dir).await;
    }
    if let Some((key, entry)) = config
        .auths
        .iter()
        .find(|(key, _)| normalize(key) == wanted)
    {
        return entry_credentials(entry, key, path).map(Some);
    }
    match &config.creds_store {
        Some(store) if !store.is_empty() => run_helper(store, &registry, helper_dir).await,
        _ => Ok(None),
    }
}

fn entry_credentials(
    entry: &AuthEntry,
    key: &str,
    path: &Path,
) -> Result<DockerCredentials, AuthError> {
    let bad = || AuthError::BadAuth {
        registry: key.to_string(),
        path: path.to_path_buf(),
    };
    let (username, password) = match (&entry.auth, &entry.username) {
        (Some(auth), _) if !auth.is_empty() => {
            let decoded = STANDARD.decode(auth.trim()).map_err(|_| bad())?;
            let decoded = String::from_utf8(decoded).map_err(|_| bad())?;
            let (user, pass) = decoded.split_once(':').ok_or_else(bad)?;
            (Some(user.to_string()), Some(pass.to_string()))
        }
        (_, Some(user)) => (Some(user.clone()), entry.password.clone()),
        _ => (None, None),
    };
    Ok(DockerCredentials {
        username,
        password,
        identitytoken: entry.identitytoken.clone().filter(|t| !t.is_empty()),
        serveraddress: Some(key.to_string()),
        ..Default::default()
    })
}

async fn run_helper(
    helper: &str,
    registry: &str,
    helper_dir: Option<&Path>,
) -> Result<Option<DockerCredentials>, AuthError> {
    let fail = |reason: String| AuthError::Helper {
        helper: helper.to_string(),
        registry: registry.to_string(),
        reason,
    };
    let program = format!("docker-credential-{helper}");
    let program = match helper_dir {
        Some(dir) => dir.join(program),
        None => PathBuf::from(program),
    };
    let mut child = tokio::process::Command::new(&program)
        .arg("get")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .map_err(|e| fail(format!("cannot run {}: {e}", program.display())))?;
    if let Some(mut stdin) = child.stdin.take() {
        stdin
            .write_all(registry.as_bytes())
            .await
            .map_err(|e| fail(e.to_string()))?;
    }
    let output = child
        .wait_with_output()
        .await
        .map_err(|e| fail(e.to_string()))?;
    if !output.status.success() {
        let stdout = String::from_utf8_lossy(&output.stdout);
        // Helpers answer "credentials not found in native keychain" when they have none.
        if stdout.contains("credentials not found") {
            return Ok(None);
        }
        let stderr = String::from_utf8_lossy(&output.stderr);
        return Err(fail(format!(
            "{}: {}{}",
            output.status,
            stdout.trim(),
            stderr.trim()
        )));
    }
    let parsed: HelperOutput =
        serde_json::from_slice(&output.stdout).map_err(|e| fail(e.to_string()))?;
    let credentials = if parsed.username == "<token>" {
        DockerCredentials {
            identitytoken: Some(parsed.secret),
            serveraddress: Some(registry.to_string()),
            ..Default::default()
        }
    } else {
        DockerCredentials {
            username: Some(parsed.username),
            password: Some(parsed.secret),
            serveraddress: Some(registry.to_string()),
            ..Default::default()
        }
    };
    Ok(Some(credentials))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registries_of_images() {
        assert_eq!(registry_of("alpine"), DOCKER_HUB);
        assert_eq!(registry_of("functions/alpine:latest"), DOCKER_HUB);
        assert_eq!(registry_of("127.0.0.1:5000/x/y:1"), "127.0.0.1:5000");
        assert_eq!(registry_of("ghcr.io/o/i@sha256:ab"), "ghcr.io");
        assert_eq!(registry_of("localhost/i"), "localhost");
        assert_eq!(normalize("https://index.docker.io/v1/"), "docker.io");
        assert_eq!(normalize("http://127.0.0.1:5000/v2/"), "127.0.0.1:5000");
    }

    async fn lookup(config: &str, image: &str) -> Result<Option<DockerCredentials>, AuthError> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.json");
        std::fs::write(&path, config).unwrap();
        credentials_for(&path, image, Some(dir.path())).await
    }

    #[tokio::test]
    async fn auths_entries() {
        let auth = STANDARD.encode("alice:s3cret");
        let config = format!(
            r#"{{"auths":{{"127.0.0.1:5000":{{"auth":"{auth}"}},
                "https://index.docker.io/v1/":{{"username":"bob","password":"pw"}},
                "ghcr.io":{{"identitytoken":"tok"}}}}}}"#
        );
        let c = lookup(&config, "127.0.0.1:5000/fn/echo:1")
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            (c.username.as_deref(), c.password.as_deref()),
            (Some("alice"), Some("s3cret"))
        );
        let c = lookup(&config, "functions/alpine").await.unwrap().unwrap();
        assert_eq!(c.username.as_deref(), Some("bob"));
        let c = lookup(&config, "ghcr.io/o/i").await.unwrap().unwrap();
        assert_eq!(c.identitytoken.as_deref(), Some("tok"));
        assert!(lookup(&config, "quay.io/x/y").await.unwrap().is_none());

        let bad = r#"{"auths":{"r.io":{"auth":"!!!"}}}"#;
        assert!(matches!(
            lookup(bad, "r.io/x").await,
            Err(AuthError::BadAuth { .. })
        ));
        assert!(matches!(
            lookup("not json", "r.io/x").await,
            Err(AuthError::Parse { .. })
        ));
        let missing = credentials_for(Path::new("/nonexistent/config.json"), "r.io/x", None).await;
        assert!(missing.unwrap().is_none());
    }

    #[tokio::test]
    async fn credential_helpers_are_run() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let helper = dir.path().join("docker-credential-fake");
        std::fs::write(
            &helper,
            "#!/bin/sh\nread reg\necho \"{\\\"ServerURL\\\":\\\"$reg\\\",\\\"Username\\\":\\\"u-$reg\\\",\\\"Secret\\\":\\\"p\\\"}\"\n",
        )
        .unwrap();
        std::fs::set_permissions(&helper, std::fs::Permissions::from_mode(0o755)).unwrap();
        let path = dir.path().join("config.json");
        std::fs::write(
            &path,
            r#"{"credHelpers":{"r.io":"fake"},"credsStore":"fake"}"#,
        )
        .unwrap();
        let c = credentials_for(&path, "r.io/x", Some(dir.path()))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(c.username.as_deref(), Some("u-r.io"));
        let c = credentials_for(&path, "other.io/x", Some(dir.path()))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(c.username.as_deref(), Some("u-other.io"));

        std::fs::write(&path, r#"{"credsStore":"missing"}"#).unwrap();
        assert!(matches!(
            credentials_for(&path, "r.io/x", Some(dir.path())).await,
            Err(AuthError::Helper { .. })
        ));
    }
}
