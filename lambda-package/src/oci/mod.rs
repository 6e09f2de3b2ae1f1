//! Pulling an image from an OCI distribution registry with oci-client, one verified blob at a
//! time.
//!
//! - Manifests: OCI and Docker v2 schema 2 image manifests, OCI image indexes and Docker
//!   manifest lists (nested ones too). Index entries are chosen by platform (`linux/amd64` →
//!   x86_64, `linux/arm64` → arm64); attestation manifests, other OSes, unknown architectures
//!   and unknown media types are skipped.
//! - Blobs (config and layers) are streamed with `pull_blob_stream`, never with
//!   `Client::pull` (which buffers every layer in memory and returns them in completion order,
//!   not manifest order). Every byte is counted and hashed here: more bytes than the
//!   descriptor's size stop the download at once, and size and digest are both checked at the
//!   end. Descriptor `urls` (foreign layers) are never followed.
//! - Credentials: anonymous, basic, bearer, or a Docker `config.json` (`auths` entries and
//!   credential helpers, read by `registry-auth` when the image is first resolved).

mod blob;
mod credentials;
mod error;
mod manifest;

use std::time::Duration;

use oci_client::client::{ClientConfig, ClientProtocol};
use oci_client::manifest::OciDescriptor;
use oci_client::secrets::RegistryAuth;
use oci_client::{Client, Reference};

pub use blob::Blob;
use blob::check_digest;
pub use credentials::docker_config_path;
pub use error::OciError;
use manifest::{
    ConfigJson, DOCKER_LIST, DOCKER_MANIFEST, DescriptorJson, ManifestJson, OCI_INDEX,
    OCI_MANIFEST, RuntimeJson, descriptor_size, entry_architecture,
};

use crate::arch::Architecture;
use crate::flatten::Compression;

/// Largest image config accepted (they are a few KB).
const MAX_CONFIG_BYTES: u64 = 8 << 20;
/// Deepest chain of nested indexes followed.
const MAX_INDEX_DEPTH: usize = 4;

/// How to authenticate to the registry.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum RegistryCredentials {
    /// No credentials.
    #[default]
    Anonymous,
    /// HTTP basic auth (also exchanged for a bearer token when the registry asks).
    Basic {
        /// User name.
        username: String,
        /// Password or access token.
        password: String,
    },
    /// A bearer token sent as is.
    Bearer(String),
    /// The credentials for the image's registry in a Docker `config.json`: the given file, or
    /// (`None`) `$DOCKER_CONFIG/config.json`, else `~/.docker/config.json`. Its `credHelpers`
    /// helper, else its `auths` entry, else the `credsStore` helper; none of them (or no file
    /// at the default place) means anonymous. Identity tokens are refused. Read when the image
    /// is first resolved.
    DockerConfig(Option<std::path::PathBuf>),
}

/// A layer to apply, in manifest order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LayerDescriptor {
    /// Media type.
    pub media_type: String,
    /// `sha256:…` (or `sha512:…`).
    pub digest: String,
    /// Compressed size in bytes.
    pub size: u64,
    /// Its compression.
    pub compression: Compression,
}

/// The runtime part of the image config.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RuntimeConfig {
    /// `Env`, `K=V`.
    pub env: Vec<String>,
    /// `Entrypoint`.
    pub entrypoint: Vec<String>,
    /// `Cmd`.
    pub cmd: Vec<String>,
    /// `WorkingDir` (`""` when unset).
    pub working_dir: String,
}

/// An image manifest chosen for one platform, with its config.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResolvedImage {
    /// The reference as normalised by the parser (`docker.io/library/x:latest`).
    pub reference: String,
    /// Digest of the image manifest (the platform's, when the reference named an index).
    pub manifest_digest: String,
    /// Digest of the index the manifest was chosen from, if any.
    pub index_digest: Option<String>,
    /// The image's architecture.
    pub architecture: Architecture,
    /// Runtime config.
    pub config: RuntimeConfig,
    /// Layers, base first.
    pub layers: Vec<LayerDescriptor>,
}

/// A registry connection for one image reference.
pub struct ImageSource {
    client: Client,
    reference: Reference,
    credentials: RegistryCredentials,
    /// `credentials` as oci-client takes them, once known.
    auth: tokio::sync::OnceCell<RegistryAuth>,
}

/// The distribution spec's repository grammar: `/`-separated components of
/// `[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*`.
pub(crate) fn check_repository(repository: &str) -> Result<(), String> {
    let component_ok = |c: &str| {
        let bytes = c.as_bytes();
        let alnum = |b: u8| b.is_ascii_lowercase() || b.is_ascii_digit();
        if bytes.is_empty() || !alnum(bytes[0]) || !alnum(bytes[bytes.len() - 1]) {
            return false;
        }
        let mut i = 0;
        while i < bytes.len() {
            if alnum(bytes[i]) {
                i += 1;
                continue;
            }
            let start = i;
            while i < bytes.len() && !alnum(bytes[i]) {
                i += 1;
            }
            let sep = &c[start..i];
            let dashes = sep.bytes().all(|b| b == b'-');
            if !(sep == "." || sep == "_" || sep == "__" || dashes) {
                return false;
            }
        }
        true
    };
    if repository.len() > 255 || !repository.split('/').all(component_ok) {
        return Err(format!(
            "repository {repository:?} is not a valid name (lowercase letters, digits and \
             separators . _ __ -)"
        ));
    }
    Ok(())
}

/// `credentials` as oci-client takes them for `registry` (a Docker config and its helpers are
/// read now): what pulls use, and what the importer pushes with.
pub(crate) async fn registry_auth(
    credentials: &RegistryCredentials,
    registry: &str,
) -> Result<RegistryAuth, OciError> {
    Ok(match credentials {
        RegistryCredentials::Anonymous => RegistryAuth::Anonymous,
        RegistryCredentials::Basic { username, password } => {
            RegistryAuth::Basic(username.clone(), password.clone())
        }
        RegistryCredentials::Bearer(token) => RegistryAuth::Bearer(token.clone()),
        RegistryCredentials::DockerConfig(path) => {
            credentials::auth_for(path.as_deref(), registry).await?
        }
    })
}

impl ImageSource {
    /// Parse `image` and prepare a client. `insecure_registries` (`host:port`) are spoken to
    /// over plain HTTP; every other registry over HTTPS.
    pub fn new(
        image: &str,
        credentials: &RegistryCredentials,
        insecure_registries: &[String],
    ) -> Result<ImageSource, OciError> {
        let reference: Reference =
            image
                .parse()
                .map_err(|e: oci_client::ParseError| OciError::BadReference {
                    reference: image.to_string(),
                    message: e.to_string(),
                })?;
        if let Err(message) = check_repository(reference.repository()) {
            return Err(OciError::BadReference {
                reference: image.to_string(),
                message,
            });
        }
        if let Some(digest) = reference.digest() {
            check_digest(digest).map_err(|_| OciError::BadReference {
                reference: image.to_string(),
                message: format!("unsupported digest {digest:?}"),
            })?;
        }
        let protocol = if insecure_registries.is_empty() {
            ClientProtocol::Https
        } else {
            ClientProtocol::HttpsExcept(insecure_registries.to_vec())
        };
        let client = Client::new(ClientConfig {
            protocol,
            platform_resolver: None,
            connect_timeout: Some(Duration::from_secs(30)),
            read_timeout: Some(Duration::from_secs(120)),
            ..Default::default()
        });
        Ok(ImageSource {
            client,
            reference,
            credentials: credentials.clone(),
            auth: tokio::sync::OnceCell::new(),
        })
    }

    /// The credentials as oci-client takes them; a Docker config (and its helpers) is read
    /// on first use.
    async fn auth(&self) -> Result<&RegistryAuth, OciError> {
        self.auth
            .get_or_try_init(|| registry_auth(&self.credentials, self.reference.resolve_registry()))
            .await
    }

    /// The parsed reference (`registry/repository:tag[@digest]`).
    pub fn reference(&self) -> String {
        self.reference.whole()
    }

    /// The registry spoken to (`host[:port]`; `index.docker.io` for Docker Hub).
    pub fn registry(&self) -> &str {
        self.reference.resolve_registry()
    }

    /// Fetch the manifest (choosing a platform in an index) and the config.
    pub async fn resolve(&self, wanted: Option<Architecture>) -> Result<ResolvedImage, OciError> {
        let accepted = [OCI_MANIFEST, DOCKER_MANIFEST, OCI_INDEX, DOCKER_LIST];
        let mut reference = self.reference.clone();
        let mut index_digest = None;
        let mut expected_size = None;
        let auth = self.auth().await?;
        for _ in 0..=MAX_INDEX_DEPTH {
            let (body, digest) = self
                .client
                .pull_manifest_raw(&reference, auth, &accepted)
                .await
                .map_err(|e| error::from_distribution(e, &self.reference))?;
            if let Some(size) = expected_size
                && body.len() as u64 != size
            {
                return Err(OciError::BlobMismatch {
                    digest,
                    message: format!(
                        "the manifest is {} bytes, the index says {size}",
                        body.len()
                    ),
                });
            }
            let manifest: ManifestJson = serde_json::from_slice(&body).map_err(|e| {
                OciError::InvalidImage(format!("manifest {digest} is not valid JSON: {e}"))
            })?;
            if manifest.schema_version != 2 {
                return Err(OciError::Unsupported(format!(
                    "manifest schema version {} (only 2 is supported)",
                    manifest.schema_version
                )));
            }
            if let Some(entries) = manifest.manifests {
                let entry = self.choose(&entries, wanted)?;
                check_digest(&entry.digest)?;
                expected_size = Some(descriptor_size(entry)?);
                index_digest.get_or_insert(digest);
                reference = self.reference.clone_with_digest(entry.digest.clone());
                continue;
            }
            if let Some(mt) = manifest.media_type.as_deref()
                && mt != OCI_MANIFEST
                && mt != DOCKER_MANIFEST
            {
                return Err(OciError::Unsupported(format!("manifest media type {mt}")));
            }
            let (Some(config), Some(layers)) = (manifest.config, manifest.layers) else {
                return Err(OciError::InvalidImage(format!(
                    "manifest {digest} has no config or no layers"
                )));
            };
            return self
                .finish_resolve(digest, index_digest, config, layers, wanted)
                .await;
        }
        Err(OciError::Unsupported(format!(
            "image indexes nested deeper than {MAX_INDEX_DEPTH}"
        )))
    }

    fn choose<'a>(
        &self,
        entries: &'a [DescriptorJson],
        wanted: Option<Architecture>,
    ) -> Result<&'a DescriptorJson, OciError> {
        let usable = |e: &&DescriptorJson| {
            matches!(
                e.media_type.as_str(),
                OCI_MANIFEST | DOCKER_MANIFEST | OCI_INDEX | DOCKER_LIST
            )
        };
        let candidates: Vec<(&DescriptorJson, Architecture)> = entries
            .iter()
            .filter(usable)
            .filter_map(|e| entry_architecture(e).map(|a| (e, a)))
            .collect();
        let pick = |arch: Architecture| candidates.iter().find(|(_, a)| *a == arch);
        let chosen = match wanted {
            Some(arch) => pick(arch),
            None => pick(Architecture::X86_64).or_else(|| pick(Architecture::Arm64)),
        };
        match chosen {
            Some((entry, _)) => Ok(entry),
            None => {
                let offered: Vec<String> = entries
                    .iter()
                    .filter_map(|e| e.platform.as_ref())
                    .map(|p| match &p.variant {
                        Some(v) => format!("{}/{}/{v}", p.os, p.architecture),
                        None => format!("{}/{}", p.os, p.architecture),
                    })
                    .collect();
                let wanted = match wanted {
                    Some(a) => format!("linux/{}", a.oci_str()),
                    None => "linux/amd64 or linux/arm64".to_string(),
                };
                Err(OciError::Unsupported(format!(
                    "the image index of {} has no {wanted} manifest (it offers: {})",
                    self.reference(),
                    if offered.is_empty() {
                        "nothing usable".to_string()
                    } else {
                        offered.join(", ")
                    }
                )))
            }
        }
    }

    async fn finish_resolve(
        &self,
        manifest_digest: String,
        index_digest: Option<String>,
        config: DescriptorJson,
        layers: Vec<DescriptorJson>,
        wanted: Option<Architecture>,
    ) -> Result<ResolvedImage, OciError> {
        check_digest(&config.digest)?;
        let config_size = descriptor_size(&config)?;
        if config_size > MAX_CONFIG_BYTES {
            return Err(OciError::Unsupported(format!(
                "an image config of {config_size} bytes (limit {MAX_CONFIG_BYTES})"
            )));
        }
        let mut layer_descriptors = Vec::with_capacity(layers.len());
        for layer in &layers {
            check_digest(&layer.digest)?;
            let compression = Compression::from_media_type(&layer.media_type).ok_or_else(|| {
                OciError::Unsupported(format!(
                    "layer {} has media type {:?}",
                    layer.digest, layer.media_type
                ))
            })?;
            layer_descriptors.push(LayerDescriptor {
                media_type: layer.media_type.clone(),
                digest: layer.digest.clone(),
                size: descriptor_size(layer)?,
                compression,
            });
        }
        let config_desc = LayerDescriptor {
            media_type: config.media_type.clone(),
            digest: config.digest.clone(),
            size: config_size,
            compression: Compression::None,
        };
        let config_bytes = self.fetch_blob(&config_desc).await?;
        let parsed: ConfigJson = serde_json::from_slice(&config_bytes).map_err(|e| {
            OciError::InvalidImage(format!("image config {} is not valid: {e}", config.digest))
        })?;
        if !parsed.os.is_empty() && parsed.os != "linux" {
            return Err(OciError::Unsupported(format!(
                "an image for {} (Lambda runs linux)",
                parsed.os
            )));
        }
        let architecture = Architecture::from_oci(&parsed.architecture, parsed.variant.as_deref())
            .ok_or_else(|| {
                OciError::Unsupported(format!(
                    "an image for architecture {:?} (Lambda runs amd64 as x86_64 and arm64)",
                    parsed.architecture
                ))
            })?;
        if let Some(wanted) = wanted
            && wanted != architecture
        {
            return Err(OciError::Unsupported(format!(
                "{} is a {} image, {} was asked for",
                self.reference(),
                architecture.as_lambda_str(),
                wanted.as_lambda_str()
            )));
        }
        let runtime = parsed.config.unwrap_or(RuntimeJson {
            env: None,
            entrypoint: None,
            cmd: None,
            working_dir: None,
        });
        Ok(ResolvedImage {
            reference: self.reference(),
            manifest_digest,
            index_digest,
            architecture,
            config: RuntimeConfig {
                env: runtime.env.unwrap_or_default(),
                entrypoint: runtime.entrypoint.unwrap_or_default(),
                cmd: runtime.cmd.unwrap_or_default(),
                working_dir: runtime.working_dir.unwrap_or_default(),
            },
            layers: layer_descriptors,
        })
    }

    /// Start streaming one blob. Read it with [`Blob::next_chunk`], which fails with
    /// [`OciError::BlobMismatch`] as soon as more bytes than the descriptor's size arrive
    /// (or the registry announces another length), and at the end when the size or digest
    /// differ.
    pub async fn open_blob(&self, descriptor: &LayerDescriptor) -> Result<Blob, OciError> {
        check_digest(&descriptor.digest)?;
        let request = OciDescriptor {
            media_type: descriptor.media_type.clone(),
            digest: descriptor.digest.clone(),
            size: i64::try_from(descriptor.size).unwrap_or(i64::MAX),
            urls: None,
            annotations: None,
            ..Default::default()
        };
        let stream = self
            .client
            .pull_blob_stream(&self.reference, &request)
            .await
            .map_err(|e| error::from_distribution(e, &self.reference))?;
        Blob::new(
            stream,
            &descriptor.digest,
            descriptor.size,
            self.reference.resolve_registry().to_string(),
        )
    }

    /// A whole (small) blob in memory, verified.
    pub async fn fetch_blob(&self, descriptor: &LayerDescriptor) -> Result<Vec<u8>, OciError> {
        let mut blob = self.open_blob(descriptor).await?;
        let mut data = Vec::with_capacity(usize::try_from(descriptor.size).unwrap_or(0));
        while let Some(chunk) = blob.next_chunk().await? {
            data.extend_from_slice(&chunk);
        }
        Ok(data)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repository_names_follow_the_distribution_grammar() {
        for ok in [
            "a",
            "faas-test/echo",
            "library/busy_box",
            "a__b/c.d",
            "x--y",
        ] {
            assert!(check_repository(ok).is_ok(), "{ok}");
        }
        for bad in ["UPPER/case", "a/", "-a", "a..b", "a_._b", "a b", "a/../b"] {
            assert!(check_repository(bad).is_err(), "{bad}");
        }
    }
}
