//! Registry credentials from a Docker `config.json` (read by `registry-auth`: `auths` entries
//! and credential helpers), as oci-client's [`RegistryAuth`].

use std::path::{Path, PathBuf};

use oci_client::secrets::RegistryAuth;

use super::error::OciError;

/// `$DOCKER_CONFIG/config.json`, else `$HOME/.docker/config.json`.
pub fn docker_config_path() -> Option<PathBuf> {
    registry_auth::default_path()
}

/// The credentials for `registry` in the config at `path`, or (`None`) at the default place.
/// A missing file at the default place means anonymous; a missing given file is an error.
pub(crate) async fn auth_for(
    path: Option<&Path>,
    registry: &str,
) -> Result<RegistryAuth, OciError> {
    let explicit = path.is_some();
    let Some(path) = path.map(Path::to_path_buf).or_else(docker_config_path) else {
        return Ok(RegistryAuth::Anonymous);
    };
    let config = match registry_auth::DockerConfig::load(&path).await {
        Ok(config) => config,
        Err(e) if e.is_missing_file() && !explicit => return Ok(RegistryAuth::Anonymous),
        Err(e) => return Err(OciError::Credentials(e.to_string())),
    };
    let found = config
        .credentials_for(registry)
        .await
        .map_err(|e| OciError::Credentials(e.to_string()))?;
    match found {
        Some(credentials) => to_registry_auth(credentials, &path),
        None => Ok(RegistryAuth::Anonymous),
    }
}

/// A registry token → bearer, user and password → basic. Identity tokens (OAuth refresh
/// tokens) are refused rather than pulled anonymously: oci-client cannot exchange them.
fn to_registry_auth(
    credentials: registry_auth::Credentials,
    path: &Path,
) -> Result<RegistryAuth, OciError> {
    if let Some(token) = credentials.registry_token {
        return Ok(RegistryAuth::Bearer(token));
    }
    if credentials.identity_token.is_some() {
        return Err(OciError::Credentials(format!(
            "the credentials for {} (from {}) are an identity token, which is not supported for \
             Lambda pulls; give a user and password or a registry token instead",
            credentials.server,
            path.display()
        )));
    }
    match (credentials.username, credentials.password) {
        (Some(user), Some(password)) => Ok(RegistryAuth::Basic(user, password)),
        _ => Ok(RegistryAuth::Anonymous),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn credentials(
        user: Option<&str>,
        password: Option<&str>,
        identity: Option<&str>,
        registry: Option<&str>,
    ) -> registry_auth::Credentials {
        registry_auth::Credentials {
            username: user.map(Into::into),
            password: password.map(Into::into),
            identity_token: identity.map(Into::into),
            registry_token: registry.map(Into::into),
            server: "r.io".into(),
        }
    }

    #[test]
    fn mapping() {
        let p = Path::new("/c/config.json");
        let map = |c| to_registry_auth(c, p);
        assert_eq!(
            map(credentials(Some("u"), Some("p"), None, None)).unwrap(),
            RegistryAuth::Basic("u".into(), "p".into())
        );
        assert_eq!(
            map(credentials(None, None, None, Some("t0k"))).unwrap(),
            RegistryAuth::Bearer("t0k".into())
        );
        assert_eq!(
            map(credentials(Some("u"), None, None, None)).unwrap(),
            RegistryAuth::Anonymous
        );
        // What `docker login` stores for an OAuth login: a user, no password, the token.
        let err = map(credentials(
            Some("u"),
            Some(""),
            Some("refresh-secret"),
            None,
        ))
        .unwrap_err();
        assert!(matches!(err, OciError::Credentials(_)), "{err}");
        let message = err.to_string();
        assert!(message.contains("identity token"), "{message}");
        assert!(
            message.contains("r.io") && message.contains("/c/config.json"),
            "{message}"
        );
        assert!(!message.contains("refresh-secret"), "{message}");
    }

    #[tokio::test]
    async fn missing_files() {
        let dir = tempfile::tempdir().unwrap();
        let absent = dir.path().join("config.json");
        let err = auth_for(Some(&absent), "r.io").await.unwrap_err();
        assert!(matches!(err, OciError::Credentials(_)), "{err}");
        assert!(err.to_string().contains("config.json"), "{err}");

        std::fs::write(
            &absent,
            r#"{"auths": {"http://r.io:5000/": {"auth": "dXNlcjpwYTpzcw=="}}}"#,
        )
        .unwrap();
        assert_eq!(
            auth_for(Some(&absent), "r.io:5000").await.unwrap(),
            RegistryAuth::Basic("user".into(), "pa:ss".into())
        );
        assert_eq!(
            auth_for(Some(&absent), "other.io").await.unwrap(),
            RegistryAuth::Anonymous
        );
        std::fs::write(&absent, r#"{"auths": {"r.io": {"auth": "%%%"}}}"#).unwrap();
        let err = auth_for(Some(&absent), "r.io").await.unwrap_err();
        assert!(matches!(err, OciError::Credentials(_)), "{err}");
    }
}
