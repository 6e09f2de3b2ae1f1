//! Registry credentials for a pull, from a Docker `config.json` (read by `registry-auth`:
//! `auths` entries and credential helpers), as bollard's [`DockerCredentials`].

use std::path::Path;

use bollard::auth::DockerCredentials;

/// Credentials for pulling `image`, from the Docker config file at `path` (absent file = none).
/// Helpers are looked up in `helper_dir` when given, else on `PATH`.
pub(crate) async fn credentials_for(
    path: &Path,
    image: &str,
    helper_dir: Option<&Path>,
) -> Result<Option<DockerCredentials>, registry_auth::Error> {
    let registry = registry_auth::registry_of(image);
    let found = registry_auth::credentials_for(path, &registry, helper_dir).await?;
    Ok(found.map(to_docker))
}

fn to_docker(credentials: registry_auth::Credentials) -> DockerCredentials {
    DockerCredentials {
        username: credentials.username,
        password: credentials.password,
        identitytoken: credentials.identity_token,
        registrytoken: credentials.registry_token,
        serveraddress: Some(credentials.server),
        ..Default::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_field_is_carried_over() {
        let docker = to_docker(registry_auth::Credentials {
            username: Some("u".into()),
            password: Some("p".into()),
            identity_token: Some("id".into()),
            registry_token: Some("reg".into()),
            server: "r.io".into(),
        });
        assert_eq!(docker.username.as_deref(), Some("u"));
        assert_eq!(docker.password.as_deref(), Some("p"));
        assert_eq!(docker.identitytoken.as_deref(), Some("id"));
        assert_eq!(docker.registrytoken.as_deref(), Some("reg"));
        assert_eq!(docker.serveraddress.as_deref(), Some("r.io"));
        assert_eq!(docker.email, None);
    }

    #[tokio::test]
    async fn credentials_for_an_image() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.json");
        std::fs::write(
            &path,
            r#"{"auths":{"https://index.docker.io/v1/":{"username":"bob","password":"pw"}}}"#,
        )
        .unwrap();
        let c = credentials_for(&path, "functions/alpine:latest", None)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(c.username.as_deref(), Some("bob"));
        assert_eq!(c.serveraddress.as_deref(), Some(registry_auth::DOCKER_HUB));
        assert!(
            credentials_for(&path, "quay.io/x/y", None)
                .await
                .unwrap()
                .is_none()
        );
        let missing = dir.path().join("absent.json");
        assert!(
            credentials_for(&missing, "r.io/x", None)
                .await
                .unwrap()
                .is_none()
        );
    }
}
