//! Zip packages (`Code.ZipFile`) of the `provided.al2023` / `provided.al2` runtimes: the zip is
//! imported as an OCI image (`lambda_package::import`: the zip's files under `/var/task` and
//! the static `faas-lambda-entrypoint`), pushed to `lambda_import_registry` as
//! `REGISTRY/NAME:zip-<first 16 hex digits of the zip's SHA-256>`, and that image is deployed
//! on the function's backend like any OpenFaaS image.
//!
//! Refused with `InvalidParameterValueException`: zips of any other runtime (only images,
//! `PackageType: Image` with `Code.ImageUri`, run those), `S3Bucket`/`S3Key`, zips when no
//! `lambda_import_registry` is configured, zips without a `bootstrap`, with entries escaping
//! `/var/task` or unzipping past 250 MB, and zips routed to a backend of kind `lambda`: the
//! `Provider` contract carries an image, which provider-lambda packages into a zip of its own,
//! so a user's zip cannot reach Lambda through it (upload it to Lambda directly, or deploy an
//! image).

use std::path::PathBuf;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use lambda_package::RegistryCredentials;
use lambda_package::import::{ImportOptions, import_zip};
use sha2::{Digest, Sha256};

use super::config::ZipImportConfig;
use super::error::LambdaError;
use super::model::Code;
use super::state::ApiState;

/// The runtimes whose zips are imported.
pub const SUPPORTED_RUNTIMES: [&str; 2] = ["provided.al2023", "provided.al2"];

/// What a function's code is.
pub(crate) enum Source {
    /// An image to deploy as it is.
    Image(String),
    /// A zip (decoded) of a supported runtime.
    Zip(Vec<u8>),
}

/// Reads `code`: an image (`PackageType` Image or none, with `ImageUri`), or a zip of a
/// supported `runtime`.
pub(crate) fn source(
    code: &Code,
    package_type: Option<&str>,
    runtime: Option<&str>,
) -> Result<Source, LambdaError> {
    let Some(zip) = &code.zip_file else {
        if code.s3_bucket.is_some() || code.s3_key.is_some() {
            return Err(LambdaError::invalid(
                "S3Bucket/S3Key code is not supported by this federation: send the zip as \
                 ZipFile, or use PackageType Image with Code.ImageUri",
            ));
        }
        if package_type != Some("Image")
            && let Some(runtime) = runtime
            && !SUPPORTED_RUNTIMES.contains(&runtime)
        {
            return Err(unsupported_runtime(runtime));
        }
        return code.image(package_type).map(Source::Image);
    };
    if package_type == Some("Image") {
        return Err(LambdaError::invalid(
            "PackageType Image takes Code.ImageUri, not ZipFile",
        ));
    }
    match runtime {
        Some(runtime) if SUPPORTED_RUNTIMES.contains(&runtime) => {}
        Some(runtime) => return Err(unsupported_runtime(runtime)),
        None => {
            return Err(LambdaError::invalid(format!(
                "Runtime is required with ZipFile: supported are {}",
                SUPPORTED_RUNTIMES.join(", ")
            )));
        }
    }
    let bytes = STANDARD
        .decode(zip.trim())
        .map_err(|e| LambdaError::invalid(format!("ZipFile is not valid base64: {e}")))?;
    Ok(Source::Zip(bytes))
}

fn unsupported_runtime(runtime: &str) -> LambdaError {
    LambdaError::invalid(format!(
        "The runtime {runtime} is not supported by this federation: zips run with the runtimes \
         {} (a bootstrap in the zip); for any other language deploy an image (PackageType \
         Image with Code.ImageUri)",
        SUPPORTED_RUNTIMES.join(", ")
    ))
}

/// The repository of a function: its Lambda name, lower case, other characters as `-`.
fn repository(name: &str) -> String {
    let mut repo: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect();
    while repo.contains("--") {
        repo = repo.replace("--", "-");
    }
    repo.trim_matches('-').to_string()
}

/// The reference a zip is pushed as.
fn reference(registry: &str, name: &str, zip: &[u8]) -> String {
    let hex: String = Sha256::digest(zip)
        .iter()
        .take(8)
        .map(|b| format!("{b:02x}"))
        .collect();
    format!(
        "{}/{}:zip-{hex}",
        registry.trim_end_matches('/'),
        repository(name)
    )
}

fn entrypoint_path(config: &ZipImportConfig) -> PathBuf {
    config.entrypoint.clone().unwrap_or_else(|| {
        std::env::current_exe()
            .ok()
            .and_then(|exe| exe.parent().map(|dir| dir.join("faas-lambda-entrypoint")))
            .unwrap_or_else(|| PathBuf::from("faas-lambda-entrypoint"))
    })
}

/// Imports `zip` for the function `name` routed to `backend` (its annotation; `None`: the
/// default backend); returns the image to deploy.
pub(crate) async fn image_of_zip(
    state: &ApiState,
    name: &str,
    backend: Option<&str>,
    zip: &[u8],
) -> Result<String, LambdaError> {
    let config = &state.config;
    let backend = backend
        .map(str::to_string)
        .or_else(|| config.default_backend.clone())
        .or_else(|| config.federation_default_backend.clone());
    if let Some(backend) = backend.filter(|b| config.lambda_backends.contains(b)) {
        return Err(LambdaError::invalid(format!(
            "backend {backend} is a Lambda backend: the federation hands backends an image \
             (which provider-lambda packages into a zip of its own), so a zip cannot be \
             deployed there; upload it to Lambda directly, or deploy an image (PackageType \
             Image with Code.ImageUri)"
        )));
    }
    let Some(import) = &config.zip_import else {
        return Err(LambdaError::invalid(
            "zip packages need lambda_import_registry (the registry zips are imported to as \
             images) in the federation's settings; without it only PackageType Image with \
             Code.ImageUri is accepted",
        ));
    };
    let target = reference(&import.registry, name, zip);
    let registry_host = target.split('/').next().unwrap_or_default().to_string();
    let opts = ImportOptions {
        entrypoint: entrypoint_path(import),
        credentials: RegistryCredentials::DockerConfig(import.docker_config.clone()),
        insecure_registries: if import.insecure {
            vec![registry_host]
        } else {
            Vec::new()
        },
        ..Default::default()
    };
    let pushed = import_zip(zip, &target, &opts).await.map_err(|error| {
        if error.is_caller_error() {
            LambdaError::invalid(format!("Could not import the zip: {error}"))
        } else {
            tracing::warn!(%error, image = %target, "Lambda API: importing a zip failed");
            LambdaError::service(format!("importing the zip as {target}: {error}"))
        }
    })?;
    tracing::info!(function = name, image = %pushed.reference, digest = %pushed.digest,
        "Lambda API: zip imported");
    Ok(pushed.reference)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn zip_code() -> Code {
        Code {
            zip_file: Some(STANDARD.encode(b"PK")),
            ..Default::default()
        }
    }

    #[test]
    fn runtimes_and_package_types() {
        let image = Code {
            image_uri: Some("example/fn:1".into()),
            ..Default::default()
        };
        assert!(matches!(
            source(&image, Some("Image"), None),
            Ok(Source::Image(i)) if i == "example/fn:1"
        ));
        assert!(matches!(
            source(&zip_code(), None, Some("provided.al2")),
            Ok(Source::Zip(z)) if z == b"PK"
        ));
        for (code, package_type, runtime, needle) in [
            (
                zip_code(),
                None,
                Some("python3.12"),
                "provided.al2023, provided.al2",
            ),
            (zip_code(), None, None, "Runtime is required"),
            (
                zip_code(),
                Some("Image"),
                Some("provided.al2023"),
                "not ZipFile",
            ),
            (image, None, Some("nodejs20.x"), "PackageType Image"),
            (
                Code {
                    zip_file: Some("!!".into()),
                    ..Default::default()
                },
                None,
                Some("provided.al2023"),
                "base64",
            ),
            (
                Code {
                    s3_bucket: Some("b".into()),
                    ..Default::default()
                },
                None,
                None,
                "S3Bucket",
            ),
        ] {
            let Err(error) = source(&code, package_type, runtime) else {
                panic!("{runtime:?} {package_type:?} accepted");
            };
            assert_eq!(error.code, "InvalidParameterValueException");
            assert!(error.message.contains(needle), "{}", error.message);
        }
    }

    #[test]
    fn references_are_valid_repositories() {
        assert_eq!(repository("My_Func.v2"), "my-func-v2");
        let r = reference("127.0.0.1:5000/lambda/", "Echo", b"zip");
        assert!(r.starts_with("127.0.0.1:5000/lambda/echo:zip-"), "{r}");
        assert_eq!(r.len(), "127.0.0.1:5000/lambda/echo:zip-".len() + 16);
    }
}
