//! Pushing an imported image: its blobs (skipping those the registry has), then its manifest
//! under the reference's tag.

use std::time::Duration;

use http::HeaderValue;
use oci_client::client::{ClientConfig, ClientProtocol};
use oci_client::{Client, Reference};

use super::error::ImportError;
use super::image::OCI_MANIFEST;
use super::progress::Progress;
use super::{ImportImage, ImportOptions};
use crate::oci::{check_repository, registry_auth};

/// Where an image was pushed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pushed {
    /// `REGISTRY/REPO:TAG` as given (normalised).
    pub reference: String,
    /// `sha256:…` of the manifest.
    pub digest: String,
    /// `REGISTRY/REPO@sha256:…`.
    pub by_digest: String,
}

/// Parses a push target: a registry, a valid repository and a tag (no digest).
pub(super) fn parse(reference: &str) -> Result<Reference, ImportError> {
    let fail = |message: String| ImportError::Reference {
        reference: reference.to_string(),
        message,
    };
    let parsed: Reference = reference
        .parse()
        .map_err(|e: oci_client::ParseError| fail(e.to_string()))?;
    check_repository(parsed.repository()).map_err(fail)?;
    if parsed.digest().is_some() {
        return Err(fail("push to a tag, not a digest".to_string()));
    }
    Ok(parsed)
}

fn registry_error(error: impl std::fmt::Display) -> ImportError {
    ImportError::Registry(error.to_string())
}

pub(super) async fn push(
    image: &ImportImage,
    target: &Reference,
    opts: &ImportOptions,
    progress: &Progress,
) -> Result<Pushed, ImportError> {
    let protocol = if opts.insecure_registries.is_empty() {
        ClientProtocol::Https
    } else {
        ClientProtocol::HttpsExcept(opts.insecure_registries.clone())
    };
    let client = Client::new(ClientConfig {
        protocol,
        connect_timeout: Some(Duration::from_secs(30)),
        read_timeout: Some(Duration::from_secs(300)),
        ..Default::default()
    });
    let registry = target.resolve_registry().to_string();
    let auth = registry_auth(&opts.credentials, &registry)
        .await
        .map_err(registry_error)?;
    client
        .auth(target, &auth, oci_client::RegistryOperation::Push)
        .await
        .map_err(registry_error)?;
    let total: u64 = image
        .layers
        .iter()
        .map(|l| l.data.len() as u64)
        .sum::<u64>()
        + image.config.len() as u64;
    progress.push_start(total);
    let config_digest = super::image::digest_of(&image.config);
    let blobs = image
        .layers
        .iter()
        .map(|l| (l.data.as_slice(), l.digest.as_str()))
        .chain([(image.config.as_slice(), config_digest.as_str())]);
    for (data, digest) in blobs {
        if !client
            .blob_exists(target, digest)
            .await
            .map_err(registry_error)?
        {
            client
                .push_blob(target, data.to_vec(), digest)
                .await
                .map_err(registry_error)?;
        }
        progress.pushed(data.len() as u64);
    }
    client
        .push_manifest_raw(
            target,
            image.manifest.clone(),
            HeaderValue::from_static(OCI_MANIFEST),
        )
        .await
        .map_err(registry_error)?;
    let reference = target.whole();
    let repository = format!("{}/{}", target.registry(), target.repository());
    Ok(Pushed {
        by_digest: format!("{repository}@{}", image.digest),
        reference,
        digest: image.digest.clone(),
    })
}
