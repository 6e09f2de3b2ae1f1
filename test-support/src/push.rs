//! Pushing the test images to a registry and loading them into a Docker Engine.

use bytes::Bytes;
use futures::StreamExt;
use http::HeaderValue;
use oci_client::client::{ClientConfig, ClientProtocol};
use oci_client::secrets::RegistryAuth;
use oci_client::{Client, Reference};

use crate::archive::docker_archive;
use crate::images::{BuiltImage, TestImage};
use crate::oci::{DOCKER_MANIFEST, Image, OCI_MANIFEST};

/// Why pushing or loading failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PushError {
    /// A reference did not parse.
    #[error("invalid reference {reference}: {message}")]
    Reference {
        /// The reference.
        reference: String,
        /// The parser's message.
        message: String,
    },
    /// The registry refused or failed.
    #[error("registry: {0}")]
    Registry(#[from] oci_client::errors::OciDistributionError),
    /// The Docker Engine refused or failed.
    #[error("docker: {0}")]
    Docker(#[from] bollard::errors::Error),
    /// `docker load` reported an error.
    #[error("docker load: {0}")]
    Load(String),
}

/// Where an image was pushed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pushed {
    /// Which image.
    pub image: TestImage,
    /// `REGISTRY/NAME:TAG` (OCI manifest).
    pub reference: String,
    /// Digest of the OCI manifest: pull `REGISTRY/NAME@DIGEST`.
    pub digest: String,
    /// `REGISTRY/NAME:TAG-v2s2` (Docker v2s2 manifest, same blobs).
    pub docker_reference: String,
    /// Digest of the Docker manifest.
    pub docker_digest: String,
}

impl Pushed {
    /// `REGISTRY/NAME@sha256:…` of the OCI manifest.
    pub fn by_digest(&self) -> String {
        let repo = self.reference.rsplit_once(':').map_or("", |(r, _)| r);
        format!("{repo}@{}", self.digest)
    }
}

/// An oci-client speaking plain HTTP (every registry the tests use is on 127.0.0.0/8).
pub fn oci_client() -> Client {
    Client::new(ClientConfig {
        protocol: ClientProtocol::Http,
        ..Default::default()
    })
}

pub(crate) fn parse_reference(reference: &str) -> Result<Reference, PushError> {
    reference
        .parse()
        .map_err(|e: oci_client::ParseError| PushError::Reference {
            reference: reference.to_string(),
            message: e.to_string(),
        })
}

/// Push one image: its blobs, the OCI manifest under `TAG` and the Docker v2s2 manifest under
/// `TAG-v2s2` (distribution 2.8 does not convert between them).
pub async fn push_image(
    client: &Client,
    registry: &str,
    auth: &RegistryAuth,
    image: TestImage,
    content: &Image,
) -> Result<Pushed, PushError> {
    let reference = image.reference(registry);
    let docker_reference = image.docker_reference(registry);
    let oci_ref = parse_reference(&reference)?;
    let docker_ref = parse_reference(&docker_reference)?;
    client
        .store_auth_if_needed(oci_ref.resolve_registry(), auth)
        .await;
    for blob in content.blobs() {
        if !client.blob_exists(&oci_ref, &blob.digest).await? {
            client
                .push_blob(&oci_ref, blob.data.clone(), &blob.digest)
                .await?;
        }
    }
    client
        .push_manifest_raw(
            &oci_ref,
            content.oci_manifest.data.clone(),
            HeaderValue::from_static(OCI_MANIFEST),
        )
        .await?;
    client
        .push_manifest_raw(
            &docker_ref,
            content.docker_manifest.data.clone(),
            HeaderValue::from_static(DOCKER_MANIFEST),
        )
        .await?;
    Ok(Pushed {
        image,
        reference,
        digest: content.oci_manifest.digest.clone(),
        docker_reference,
        docker_digest: content.docker_manifest.digest.clone(),
    })
}

/// Push `images` (e.g. [`crate::images::build_all`]) to `registry` (`127.0.0.1:PORT`).
pub async fn push_all(
    registry: &str,
    auth: &RegistryAuth,
    images: &[BuiltImage],
) -> Result<Vec<Pushed>, PushError> {
    let client = oci_client();
    let mut pushed = Vec::with_capacity(images.len());
    for built in images {
        pushed.push(push_image(&client, registry, auth, built.image, &built.content).await?);
    }
    Ok(pushed)
}

/// `docker load` `images` into the engine behind `docker`, tagged `NAME:TAG` (and, with
/// `registry`, also `REGISTRY/NAME:TAG`). Returns the loaded tags.
pub async fn docker_load(
    docker: &bollard::Docker,
    images: &[BuiltImage],
    registry: Option<&str>,
) -> Result<Vec<String>, PushError> {
    let tagged: Vec<(&Image, Vec<String>)> = images
        .iter()
        .map(|b| {
            let mut tags = vec![b.image.local_reference()];
            if let Some(registry) = registry {
                tags.push(b.image.reference(registry));
            }
            (&b.content, tags)
        })
        .collect();
    let archive = Bytes::from(docker_archive(&tagged));
    let options = bollard::query_parameters::ImportImageOptionsBuilder::new()
        .quiet(true)
        .build();
    let mut progress = docker.import_image(options, bollard::body_full(archive), None);
    while let Some(item) = progress.next().await {
        let info = item?;
        if let Some(error) = info.error_detail.and_then(|d| d.message) {
            return Err(PushError::Load(error));
        }
    }
    Ok(tagged.into_iter().flat_map(|(_, tags)| tags).collect())
}

/// `docker pull REFERENCE` (e.g. a [`Pushed::by_digest`] from a 127.0.0.1 registry, which the
/// daemon treats as insecure, i.e. plain HTTP).
pub async fn docker_pull(docker: &bollard::Docker, reference: &str) -> Result<(), PushError> {
    let options = bollard::query_parameters::CreateImageOptionsBuilder::new()
        .from_image(reference)
        .build();
    let mut progress = docker.create_image(Some(options), None, None);
    while let Some(item) = progress.next().await {
        let info = item?;
        if let Some(error) = info.error_detail.and_then(|d| d.message) {
            return Err(PushError::Load(error));
        }
    }
    Ok(())
}
