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

mod credentials;

use std::time::Duration;

use bytes::Bytes;
use futures::StreamExt;
use oci_client::client::{ClientConfig, ClientProtocol};
use oci_client::errors::{OciDistributionError, OciErrorCode};
use oci_client::manifest::OciDescriptor;
use oci_client::secrets::RegistryAuth;
use oci_client::{Client, Reference};
use serde::Deserialize;
use sha2::Digest as _;

pub use credentials::docker_config_path;

use crate::flatten::Compression;
use crate::package::{Architecture, PackageError};

const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
const OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";
const DOCKER_MANIFEST: &str = "application/vnd.docker.distribution.manifest.v2+json";
const DOCKER_LIST: &str = "application/vnd.docker.distribution.manifest.list.v2+json";

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

/// A blob being streamed, counted and hashed.
pub struct Blob {
    stream: oci_client::client::SizedStream,
    /// `None` once the end was verified.
    hasher: Option<Hasher>,
    received: u64,
    digest: String,
    size: u64,
    registry: String,
}

impl Blob {
    fn mismatch(&self, message: String) -> PackageError {
        PackageError::BlobMismatch {
            digest: self.digest.clone(),
            message,
        }
    }

    /// The next chunk; `None` at the end, once size and digest are verified.
    pub async fn next_chunk(&mut self) -> Result<Option<Bytes>, PackageError> {
        let Some(hasher) = self.hasher.as_mut() else {
            return Ok(None);
        };
        match self.stream.next().await {
            Some(Ok(chunk)) => {
                self.received += chunk.len() as u64;
                if self.received > self.size {
                    return Err(self.mismatch(format!(
                        "more than the {} bytes its descriptor says",
                        self.size
                    )));
                }
                hasher.update(&chunk);
                Ok(Some(chunk))
            }
            Some(Err(e)) => {
                let digest_error = e
                    .get_ref()
                    .is_some_and(|inner| inner.is::<oci_client::errors::DigestError>());
                Err(if digest_error {
                    self.mismatch(e.to_string())
                } else {
                    PackageError::Unreachable {
                        registry: self.registry.clone(),
                        message: format!("reading blob {}: {e}", self.digest),
                    }
                })
            }
            None => {
                if self.received != self.size {
                    return Err(self.mismatch(format!(
                        "{} bytes received, the descriptor says {}",
                        self.received, self.size
                    )));
                }
                let actual = self.hasher.take().expect("checked above").finish();
                if actual != self.digest {
                    return Err(self.mismatch(format!("its content hashes to {actual}")));
                }
                Ok(None)
            }
        }
    }
}

/// A registry connection for one image reference.
pub struct ImageSource {
    client: Client,
    reference: Reference,
    credentials: RegistryCredentials,
    /// `credentials` as oci-client takes them, once known.
    auth: tokio::sync::OnceCell<RegistryAuth>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct DescriptorJson {
    #[serde(default)]
    media_type: String,
    digest: String,
    size: i64,
    #[serde(default)]
    platform: Option<PlatformJson>,
    #[serde(default)]
    annotations: Option<std::collections::BTreeMap<String, String>>,
}

#[derive(Deserialize)]
struct PlatformJson {
    #[serde(default)]
    architecture: String,
    #[serde(default)]
    os: String,
    #[serde(default)]
    variant: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ManifestJson {
    schema_version: i64,
    #[serde(default)]
    media_type: Option<String>,
    #[serde(default)]
    config: Option<DescriptorJson>,
    #[serde(default)]
    layers: Option<Vec<DescriptorJson>>,
    #[serde(default)]
    manifests: Option<Vec<DescriptorJson>>,
}

#[derive(Deserialize)]
struct ConfigJson {
    #[serde(default)]
    architecture: String,
    #[serde(default)]
    os: String,
    #[serde(default)]
    variant: Option<String>,
    #[serde(default)]
    config: Option<RuntimeJson>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct RuntimeJson {
    #[serde(default)]
    env: Option<Vec<String>>,
    #[serde(default)]
    entrypoint: Option<Vec<String>>,
    #[serde(default)]
    cmd: Option<Vec<String>>,
    #[serde(default)]
    working_dir: Option<String>,
}

/// A digest this client can verify: `sha256:` + 64 or `sha512:` + 128 lowercase hex digits.
/// Anything else is refused before it reaches a URL.
fn check_digest(digest: &str) -> Result<(), PackageError> {
    let ok = match digest.split_once(':') {
        Some(("sha256", hex)) => hex.len() == 64,
        Some(("sha512", hex)) => hex.len() == 128,
        _ => false,
    } && digest
        .split_once(':')
        .is_some_and(|(_, hex)| hex.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')));
    if ok {
        Ok(())
    } else {
        Err(PackageError::InvalidImage(format!(
            "unsupported or malformed digest {digest:?}"
        )))
    }
}

/// The distribution spec's repository grammar: `/`-separated components of
/// `[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*`.
fn check_repository(repository: &str) -> Result<(), String> {
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

enum Hasher {
    Sha256(sha2::Sha256),
    Sha512(sha2::Sha512),
}

impl Hasher {
    fn for_digest(digest: &str) -> Hasher {
        if digest.starts_with("sha512:") {
            Hasher::Sha512(sha2::Sha512::new())
        } else {
            Hasher::Sha256(sha2::Sha256::new())
        }
    }

    fn update(&mut self, data: &[u8]) {
        match self {
            Hasher::Sha256(h) => h.update(data),
            Hasher::Sha512(h) => h.update(data),
        }
    }

    fn finish(self) -> String {
        let (algorithm, bytes) = match self {
            Hasher::Sha256(h) => ("sha256", h.finalize().to_vec()),
            Hasher::Sha512(h) => ("sha512", h.finalize().to_vec()),
        };
        let mut out = String::with_capacity(algorithm.len() + 1 + 2 * bytes.len());
        out.push_str(algorithm);
        out.push(':');
        for b in bytes {
            out.push_str(&format!("{b:02x}"));
        }
        out
    }
}

fn descriptor_size(d: &DescriptorJson) -> Result<u64, PackageError> {
    u64::try_from(d.size)
        .map_err(|_| PackageError::InvalidImage(format!("negative size for {}", d.digest)))
}

/// The platform an index entry is for, when Lambda can run it.
fn entry_architecture(entry: &DescriptorJson) -> Option<Architecture> {
    let platform = entry.platform.as_ref()?;
    let attestation = entry
        .annotations
        .as_ref()
        .and_then(|a| a.get("vnd.docker.reference.type"))
        .is_some_and(|t| t == "attestation-manifest");
    if attestation || platform.os != "linux" {
        return None;
    }
    Architecture::from_oci(&platform.architecture, platform.variant.as_deref())
}

impl ImageSource {
    /// Parse `image` and prepare a client. `insecure_registries` (`host:port`) are spoken to
    /// over plain HTTP; every other registry over HTTPS.
    pub fn new(
        image: &str,
        credentials: &RegistryCredentials,
        insecure_registries: &[String],
    ) -> Result<ImageSource, PackageError> {
        let reference: Reference =
            image
                .parse()
                .map_err(|e: oci_client::ParseError| PackageError::BadReference {
                    reference: image.to_string(),
                    message: e.to_string(),
                })?;
        if let Err(message) = check_repository(reference.repository()) {
            return Err(PackageError::BadReference {
                reference: image.to_string(),
                message,
            });
        }
        if let Some(digest) = reference.digest() {
            check_digest(digest).map_err(|_| PackageError::BadReference {
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
    async fn auth(&self) -> Result<&RegistryAuth, PackageError> {
        self.auth
            .get_or_try_init(|| async {
                Ok(match &self.credentials {
                    RegistryCredentials::Anonymous => RegistryAuth::Anonymous,
                    RegistryCredentials::Basic { username, password } => {
                        RegistryAuth::Basic(username.clone(), password.clone())
                    }
                    RegistryCredentials::Bearer(token) => RegistryAuth::Bearer(token.clone()),
                    RegistryCredentials::DockerConfig(path) => {
                        credentials::auth_for(path.as_deref(), self.reference.resolve_registry())
                            .await?
                    }
                })
            })
            .await
    }

    /// The parsed reference (`registry/repository:tag[@digest]`).
    pub fn reference(&self) -> String {
        self.reference.whole()
    }

    /// Fetch the manifest (choosing a platform in an index) and the config.
    pub async fn resolve(
        &self,
        wanted: Option<Architecture>,
    ) -> Result<ResolvedImage, PackageError> {
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
                .map_err(|e| self.map_error(e))?;
            if let Some(size) = expected_size
                && body.len() as u64 != size
            {
                return Err(PackageError::BlobMismatch {
                    digest,
                    message: format!(
                        "the manifest is {} bytes, the index says {size}",
                        body.len()
                    ),
                });
            }
            let manifest: ManifestJson = serde_json::from_slice(&body).map_err(|e| {
                PackageError::InvalidImage(format!("manifest {digest} is not valid JSON: {e}"))
            })?;
            if manifest.schema_version != 2 {
                return Err(PackageError::Unsupported(format!(
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
                return Err(PackageError::Unsupported(format!(
                    "manifest media type {mt}"
                )));
            }
            let (Some(config), Some(layers)) = (manifest.config, manifest.layers) else {
                return Err(PackageError::InvalidImage(format!(
                    "manifest {digest} has no config or no layers"
                )));
            };
            return self
                .finish_resolve(digest, index_digest, config, layers, wanted)
                .await;
        }
        Err(PackageError::Unsupported(format!(
            "image indexes nested deeper than {MAX_INDEX_DEPTH}"
        )))
    }

    fn choose<'a>(
        &self,
        entries: &'a [DescriptorJson],
        wanted: Option<Architecture>,
    ) -> Result<&'a DescriptorJson, PackageError> {
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
                Err(PackageError::Unsupported(format!(
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
    ) -> Result<ResolvedImage, PackageError> {
        check_digest(&config.digest)?;
        let config_size = descriptor_size(&config)?;
        if config_size > MAX_CONFIG_BYTES {
            return Err(PackageError::Unsupported(format!(
                "an image config of {config_size} bytes (limit {MAX_CONFIG_BYTES})"
            )));
        }
        let mut layer_descriptors = Vec::with_capacity(layers.len());
        for layer in &layers {
            check_digest(&layer.digest)?;
            let compression = Compression::from_media_type(&layer.media_type).ok_or_else(|| {
                PackageError::Unsupported(format!(
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
            PackageError::InvalidImage(format!("image config {} is not valid: {e}", config.digest))
        })?;
        if !parsed.os.is_empty() && parsed.os != "linux" {
            return Err(PackageError::Unsupported(format!(
                "an image for {} (Lambda runs linux)",
                parsed.os
            )));
        }
        let architecture = Architecture::from_oci(&parsed.architecture, parsed.variant.as_deref())
            .ok_or_else(|| {
                PackageError::Unsupported(format!(
                    "an image for architecture {:?} (Lambda runs amd64 as x86_64 and arm64)",
                    parsed.architecture
                ))
            })?;
        if let Some(wanted) = wanted
            && wanted != architecture
        {
            return Err(PackageError::Unsupported(format!(
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
    /// [`PackageError::BlobMismatch`] as soon as more bytes than the descriptor's size arrive
    /// (or the registry announces another length), and at the end when the size or digest
    /// differ.
    pub async fn open_blob(&self, descriptor: &LayerDescriptor) -> Result<Blob, PackageError> {
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
            .map_err(|e| self.map_error(e))?;
        let blob = Blob {
            stream,
            hasher: Some(Hasher::for_digest(&descriptor.digest)),
            received: 0,
            digest: descriptor.digest.clone(),
            size: descriptor.size,
            registry: self.reference.resolve_registry().to_string(),
        };
        if let Some(announced) = blob.stream.content_length
            && announced != descriptor.size
        {
            return Err(blob.mismatch(format!(
                "the registry announces {announced} bytes, the descriptor says {}",
                descriptor.size
            )));
        }
        Ok(blob)
    }

    /// A whole (small) blob in memory, verified.
    pub async fn fetch_blob(&self, descriptor: &LayerDescriptor) -> Result<Vec<u8>, PackageError> {
        let mut blob = self.open_blob(descriptor).await?;
        let mut data = Vec::with_capacity(usize::try_from(descriptor.size).unwrap_or(0));
        while let Some(chunk) = blob.next_chunk().await? {
            data.extend_from_slice(&chunk);
        }
        Ok(data)
    }

    fn unreachable(&self, message: String) -> PackageError {
        PackageError::Unreachable {
            registry: self.reference.resolve_registry().to_string(),
            message,
        }
    }

    fn map_error(&self, e: OciDistributionError) -> PackageError {
        let reference = self.reference();
        match e {
            OciDistributionError::UnauthorizedError { url } => PackageError::AuthRefused {
                reference,
                message: format!("401 Unauthorized from {url}"),
            },
            OciDistributionError::AuthenticationFailure(message) => {
                PackageError::AuthRefused { reference, message }
            }
            OciDistributionError::RegistryError { envelope, .. } => {
                let codes: Vec<&OciErrorCode> = envelope.errors.iter().map(|e| &e.code).collect();
                let message = envelope
                    .errors
                    .iter()
                    .map(|e| format!("{:?}: {}", e.code, e.message))
                    .collect::<Vec<_>>()
                    .join("; ");
                let any = |wanted: &[OciErrorCode]| codes.iter().any(|c| wanted.contains(c));
                if any(&[OciErrorCode::Unauthorized, OciErrorCode::Denied]) {
                    PackageError::AuthRefused { reference, message }
                } else if any(&[
                    OciErrorCode::ManifestUnknown,
                    OciErrorCode::NameUnknown,
                    OciErrorCode::BlobUnknown,
                    OciErrorCode::NotFound,
                ]) {
                    PackageError::NotFound { reference, message }
                } else if any(&[OciErrorCode::NameInvalid, OciErrorCode::TagInvalid]) {
                    PackageError::BadReference { reference, message }
                } else if any(&[OciErrorCode::Toomanyrequests]) {
                    self.unreachable(message)
                } else {
                    PackageError::Registry { reference, message }
                }
            }
            OciDistributionError::ServerError { code, url, message } => {
                let message = format!("{code} from {url}: {}", message.trim());
                match code {
                    401 | 403 => PackageError::AuthRefused { reference, message },
                    404 => PackageError::NotFound { reference, message },
                    429 | 500..=599 => self.unreachable(message),
                    _ => PackageError::Registry { reference, message },
                }
            }
            OciDistributionError::ImageManifestNotFoundError(message) => {
                PackageError::NotFound { reference, message }
            }
            OciDistributionError::DigestError(e) => PackageError::BlobMismatch {
                digest: self.reference.digest().unwrap_or("manifest").to_string(),
                message: e.to_string(),
            },
            OciDistributionError::RequestError(e) => self.unreachable(e.to_string()),
            OciDistributionError::IoError(e) => self.unreachable(e.to_string()),
            OciDistributionError::ManifestParsingError(m)
            | OciDistributionError::VersionedParsingError(m) => PackageError::InvalidImage(m),
            OciDistributionError::UnsupportedMediaTypeError(m) => {
                PackageError::Unsupported(format!("media type {m}"))
            }
            OciDistributionError::UnsupportedSchemaVersionError(v) => {
                PackageError::Unsupported(format!("manifest schema version {v}"))
            }
            other => PackageError::Registry {
                reference,
                message: other.to_string(),
            },
        }
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

    #[test]
    fn digests_are_checked_before_use() {
        let good = format!("sha256:{}", "a".repeat(64));
        assert!(check_digest(&good).is_ok());
        for bad in [
            "sha256:../../v2/_catalog",
            "sha256:ABC",
            "md5:00",
            &format!("sha256:{}", "A".repeat(64)),
            &format!("sha256:{}/x", "a".repeat(62)),
        ] {
            assert!(check_digest(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn index_entries_are_filtered_by_platform() {
        let entry = |arch: &str, os: &str, variant: Option<&str>, attestation: bool| {
            let mut annotations = std::collections::BTreeMap::new();
            if attestation {
                annotations.insert(
                    "vnd.docker.reference.type".to_string(),
                    "attestation-manifest".to_string(),
                );
            }
            DescriptorJson {
                media_type: OCI_MANIFEST.into(),
                digest: "sha256:0".into(),
                size: 1,
                platform: Some(PlatformJson {
                    architecture: arch.into(),
                    os: os.into(),
                    variant: variant.map(str::to_string),
                }),
                annotations: Some(annotations),
            }
        };
        assert_eq!(
            entry_architecture(&entry("amd64", "linux", None, false)),
            Some(Architecture::X86_64)
        );
        assert_eq!(
            entry_architecture(&entry("arm64", "linux", Some("v8"), false)),
            Some(Architecture::Arm64)
        );
        assert_eq!(
            entry_architecture(&entry("arm", "linux", Some("v7"), false)),
            None
        );
        assert_eq!(
            entry_architecture(&entry("amd64", "windows", None, false)),
            None
        );
        assert_eq!(
            entry_architecture(&entry("unknown", "unknown", None, true)),
            None
        );
        assert_eq!(
            entry_architecture(&entry("amd64", "linux", None, true)),
            None
        );
    }
}
