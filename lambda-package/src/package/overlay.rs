//! Layer images (`faas-lambda package --layer IMAGE`): images whose layers are applied over the
//! function image's, in order, so that files shared by many functions (e.g. the middlewares of
//! `/opt/middlewares`) are added to any of them without rebuilding it. Only their layers are
//! used: their config (Env, Entrypoint...) is ignored, the function image's is kept.
//!
//! Each one is resolved for the function image's architecture (an index entry of that
//! platform, or a refusal naming both) before any layer is downloaded. Explicit credentials
//! (basic, bearer) are sent only to the function image's own registry; a layer image on
//! another registry is pulled anonymously, or with the Docker config's entry for its registry.

use crate::arch::Architecture;
use crate::oci::{ImageSource, RegistryCredentials, ResolvedImage};

use super::error::PackageError;

/// A layer image, resolved.
pub(super) struct LayerImage {
    /// The reference as given.
    pub(super) reference: String,
    /// Its registry connection.
    pub(super) source: ImageSource,
    /// Its manifest (for the architecture packaged) and layers.
    pub(super) resolved: ResolvedImage,
}

impl LayerImage {
    /// `e` (while pulling or applying this image's layers) as this image's failure.
    pub(super) fn error(&self, e: PackageError) -> PackageError {
        in_layer_image(&self.reference, e)
    }
}

fn in_layer_image(reference: &str, e: PackageError) -> PackageError {
    PackageError::LayerImage {
        reference: reference.to_string(),
        source: Box::new(e),
    }
}

/// The credentials to pull a layer image on `registry` with, when the function image is on
/// `function_registry`.
fn credentials_for(
    credentials: &RegistryCredentials,
    function_registry: &str,
    registry: &str,
) -> RegistryCredentials {
    match credentials {
        RegistryCredentials::Basic { .. } | RegistryCredentials::Bearer(_)
            if registry != function_registry =>
        {
            RegistryCredentials::Anonymous
        }
        other => other.clone(),
    }
}

/// Resolve every layer image in `references` for `arch`, in order.
pub(super) async fn resolve_all(
    references: &[String],
    function: &ImageSource,
    credentials: &RegistryCredentials,
    insecure_registries: &[String],
    arch: Architecture,
) -> Result<Vec<LayerImage>, PackageError> {
    let mut images = Vec::with_capacity(references.len());
    for reference in references {
        let resolve = async {
            // Parsed once with no credentials to learn its registry, then with the right ones.
            let probe = ImageSource::new(
                reference,
                &RegistryCredentials::Anonymous,
                insecure_registries,
            )?;
            let credentials = credentials_for(credentials, function.registry(), probe.registry());
            let source = ImageSource::new(reference, &credentials, insecure_registries)?;
            let resolved = source.resolve(Some(arch)).await?;
            Ok::<_, PackageError>(LayerImage {
                reference: reference.clone(),
                source,
                resolved,
            })
        };
        images.push(resolve.await.map_err(|e| in_layer_image(reference, e))?);
    }
    Ok(images)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn explicit_credentials_stay_on_the_function_registry() {
        let basic = RegistryCredentials::Basic {
            username: "u".into(),
            password: "p".into(),
        };
        let bearer = RegistryCredentials::Bearer("t".into());
        let config = RegistryCredentials::DockerConfig(None);
        for explicit in [&basic, &bearer] {
            assert_eq!(&credentials_for(explicit, "a:5000", "a:5000"), explicit);
            assert_eq!(
                credentials_for(explicit, "a:5000", "b:5000"),
                RegistryCredentials::Anonymous
            );
        }
        // A Docker config holds per-registry entries: it is always passed on.
        assert_eq!(credentials_for(&config, "a:5000", "b:5000"), config);
    }
}
