//! Images the Lambda packager's tests need beyond [`crate::images`]: any architecture, plain /
//! gzip / zstd layers, image indexes (with an attestation entry), and hand-made tar bytes for
//! hostile layers (names the `tar` crate refuses to write: `..`, absolute, devices...).

use std::io::Write;

use flate2::{Compression, GzBuilder};
use http::HeaderValue;
use oci_client::Client;
use oci_client::secrets::RegistryAuth;
use serde_json::{Value, json};

use crate::oci::{Blob, ImageConfig, LayerBuilder, MTIME, OCI_CONFIG, OCI_INDEX, OCI_MANIFEST};
use crate::push::{PushError, parse_reference};

/// OCI plain tar layer media type.
pub const OCI_LAYER_TAR: &str = "application/vnd.oci.image.layer.v1.tar";
/// OCI zstd layer media type.
pub const OCI_LAYER_ZSTD: &str = "application/vnd.oci.image.layer.v1.tar+zstd";
/// OCI gzip layer media type.
pub const OCI_LAYER_GZIP: &str = crate::oci::OCI_LAYER_GZIP;

/// How a [`RawLayer`] is compressed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LayerCompression {
    /// Plain tar.
    None,
    /// gzip.
    Gzip,
    /// zstd.
    Zstd,
}

/// A layer blob with its media type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawLayer {
    /// The blob as stored in the registry.
    pub blob: Blob,
    /// Its media type.
    pub media_type: String,
    /// `sha256:` of the uncompressed tar.
    pub diff_id: String,
}

impl RawLayer {
    /// Compress `tar` (an uncompressed tar stream).
    pub fn new(tar: &[u8], compression: LayerCompression) -> RawLayer {
        let diff_id = crate::oci::sha256_digest(tar);
        let (data, media_type) = match compression {
            LayerCompression::None => (tar.to_vec(), OCI_LAYER_TAR),
            LayerCompression::Gzip => {
                let mut gz = GzBuilder::new()
                    .mtime(0)
                    .operating_system(255)
                    .write(Vec::new(), Compression::new(6));
                gz.write_all(tar).expect("writing to memory");
                (gz.finish().expect("writing to memory"), OCI_LAYER_GZIP)
            }
            LayerCompression::Zstd => (
                zstd::stream::encode_all(tar, 3).expect("zstd to memory"),
                OCI_LAYER_ZSTD,
            ),
        };
        RawLayer {
            blob: Blob::new(data),
            media_type: media_type.to_string(),
            diff_id,
        }
    }

    /// A layer from a [`LayerBuilder`].
    pub fn from_builder(layer: LayerBuilder, compression: LayerCompression) -> RawLayer {
        RawLayer::new(&layer.finish_tar(), compression)
    }
}

/// An image with any architecture and any layer media types, with an OCI manifest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawImage {
    /// The config blob.
    pub config: Blob,
    /// Layers, base first.
    pub layers: Vec<RawLayer>,
    /// The OCI manifest blob.
    pub manifest: Blob,
}

impl RawImage {
    /// Config (`architecture`, `variant`, `os: linux`) and OCI manifest over `layers`.
    pub fn new(
        architecture: &str,
        variant: Option<&str>,
        config: &ImageConfig,
        layers: Vec<RawLayer>,
    ) -> RawImage {
        let mut runtime = serde_json::Map::new();
        if !config.env.is_empty() {
            runtime.insert("Env".into(), json!(config.env));
        }
        if !config.entrypoint.is_empty() {
            runtime.insert("Entrypoint".into(), json!(config.entrypoint));
        }
        if !config.cmd.is_empty() {
            runtime.insert("Cmd".into(), json!(config.cmd));
        }
        if !config.working_dir.is_empty() {
            runtime.insert("WorkingDir".into(), json!(config.working_dir));
        }
        let mut config_json = json!({
            "architecture": architecture,
            "os": "linux",
            "config": Value::Object(runtime),
            "rootfs": {
                "type": "layers",
                "diff_ids": layers.iter().map(|l| l.diff_id.clone()).collect::<Vec<_>>(),
            },
        });
        if let Some(variant) = variant {
            config_json["variant"] = json!(variant);
        }
        let config = Blob::new(serde_json::to_vec(&config_json).expect("json"));
        let manifest = json!({
            "schemaVersion": 2,
            "mediaType": OCI_MANIFEST,
            "config": {"mediaType": OCI_CONFIG, "digest": config.digest, "size": config.size()},
            "layers": layers.iter().map(|l| json!({
                "mediaType": l.media_type,
                "digest": l.blob.digest,
                "size": l.blob.size(),
            })).collect::<Vec<_>>(),
        });
        RawImage {
            config,
            layers,
            manifest: Blob::new(serde_json::to_vec(&manifest).expect("json")),
        }
    }

    /// Every blob: config, then layers.
    pub fn blobs(&self) -> impl Iterator<Item = &Blob> {
        std::iter::once(&self.config).chain(self.layers.iter().map(|l| &l.blob))
    }
}

/// An OCI image index over `(image, architecture, variant)` entries, plus (when
/// `attestation`) a BuildKit-style attestation entry (`unknown/unknown`) pointing at the first
/// image's manifest.
pub fn index(entries: &[(&RawImage, &str, Option<&str>)], attestation: bool) -> Blob {
    let mut manifests: Vec<Value> = entries
        .iter()
        .map(|(image, arch, variant)| {
            let mut platform = json!({"architecture": arch, "os": "linux"});
            if let Some(v) = variant {
                platform["variant"] = json!(v);
            }
            json!({
                "mediaType": OCI_MANIFEST,
                "digest": image.manifest.digest,
                "size": image.manifest.size(),
                "platform": platform,
            })
        })
        .collect();
    if attestation && let Some((first, _, _)) = entries.first() {
        manifests.insert(
            0,
            json!({
                "mediaType": OCI_MANIFEST,
                "digest": first.manifest.digest,
                "size": first.manifest.size(),
                "platform": {"architecture": "unknown", "os": "unknown"},
                "annotations": {
                    "vnd.docker.reference.type": "attestation-manifest",
                    "vnd.docker.reference.digest": first.manifest.digest,
                },
            }),
        );
    }
    Blob::new(
        serde_json::to_vec(&json!({
            "schemaVersion": 2,
            "mediaType": OCI_INDEX,
            "manifests": manifests,
        }))
        .expect("json"),
    )
}

/// Push `image`'s blobs and its manifest under `reference` (`REGISTRY/NAME:TAG` or
/// `REGISTRY/NAME@DIGEST`). Returns the manifest digest.
pub async fn push_raw(
    client: &Client,
    reference: &str,
    auth: &RegistryAuth,
    image: &RawImage,
) -> Result<String, PushError> {
    let r = parse_reference(reference)?;
    client
        .store_auth_if_needed(r.resolve_registry(), auth)
        .await;
    for blob in image.blobs() {
        if !client.blob_exists(&r, &blob.digest).await? {
            client
                .push_blob(&r, blob.data.clone(), &blob.digest)
                .await?;
        }
    }
    client
        .push_manifest_raw(
            &r,
            image.manifest.data.clone(),
            HeaderValue::from_static(OCI_MANIFEST),
        )
        .await?;
    Ok(image.manifest.digest.clone())
}

/// Push every image of an index (by digest, in `repository`) and the index under
/// `REGISTRY/REPOSITORY:TAG`. Returns the index digest.
pub async fn push_index(
    client: &Client,
    registry: &str,
    repository: &str,
    tag: &str,
    auth: &RegistryAuth,
    images: &[&RawImage],
    index: &Blob,
) -> Result<String, PushError> {
    for image in images {
        push_raw(
            client,
            &format!("{registry}/{repository}@{}", image.manifest.digest),
            auth,
            image,
        )
        .await?;
    }
    let r = parse_reference(&format!("{registry}/{repository}:{tag}"))?;
    client
        .push_manifest_raw(&r, index.data.clone(), HeaderValue::from_static(OCI_INDEX))
        .await?;
    Ok(index.digest.clone())
}

/// Writes tar streams byte by byte, with whatever names, types and link targets it is given
/// (hostile ones included). ustar headers, GNU long names when a name exceeds 100 bytes.
#[derive(Debug, Default, Clone)]
pub struct RawTar {
    data: Vec<u8>,
}

impl RawTar {
    /// An empty archive.
    pub fn new() -> RawTar {
        RawTar::default()
    }

    fn header(name: &[u8], kind: u8, mode: u32, size: u64, link: &[u8]) -> [u8; 512] {
        let mut h = [0u8; 512];
        h[..name.len().min(100)].copy_from_slice(&name[..name.len().min(100)]);
        h[100..108].copy_from_slice(format!("{mode:07o}\0").as_bytes());
        h[108..116].copy_from_slice(b"0000000\0");
        h[116..124].copy_from_slice(b"0000000\0");
        h[124..136].copy_from_slice(format!("{size:011o}\0").as_bytes());
        h[136..148].copy_from_slice(format!("{MTIME:011o}\0").as_bytes());
        h[156] = kind;
        h[157..157 + link.len().min(100)].copy_from_slice(&link[..link.len().min(100)]);
        h[257..263].copy_from_slice(b"ustar\0");
        h[263..265].copy_from_slice(b"00");
        h[148..156].copy_from_slice(b"        ");
        let sum: u32 = h.iter().map(|&b| u32::from(b)).sum();
        h[148..156].copy_from_slice(format!("{sum:06o}\0 ").as_bytes());
        h
    }

    fn pad(&mut self) {
        let rem = self.data.len() % 512;
        if rem != 0 {
            self.data.resize(self.data.len() + 512 - rem, 0);
        }
    }

    fn long(&mut self, kind: u8, value: &[u8]) {
        let mut v = value.to_vec();
        v.push(0);
        self.data.extend_from_slice(&Self::header(
            b"././@LongLink",
            kind,
            0o644,
            v.len() as u64,
            b"",
        ));
        self.data.extend_from_slice(&v);
        self.pad();
    }

    /// Any entry: `kind` is the tar type flag (`b'0'` file, `b'1'` hard link, `b'2'` symlink,
    /// `b'3'`/`b'4'` devices, `b'5'` dir, `b'6'` FIFO...).
    pub fn entry(
        &mut self,
        name: &[u8],
        kind: u8,
        mode: u32,
        data: &[u8],
        link: &[u8],
    ) -> &mut Self {
        if name.len() > 100 {
            self.long(b'L', name);
        }
        if link.len() > 100 {
            self.long(b'K', link);
        }
        self.data
            .extend_from_slice(&Self::header(name, kind, mode, data.len() as u64, link));
        self.data.extend_from_slice(data);
        self.pad();
        self
    }

    /// A regular file.
    pub fn file(&mut self, name: &str, mode: u32, data: &[u8]) -> &mut Self {
        self.entry(name.as_bytes(), b'0', mode, data, b"")
    }

    /// A directory.
    pub fn dir(&mut self, name: &str) -> &mut Self {
        self.entry(name.as_bytes(), b'5', 0o755, b"", b"")
    }

    /// A symbolic link.
    pub fn symlink(&mut self, name: &str, target: &str) -> &mut Self {
        self.entry(name.as_bytes(), b'2', 0o777, b"", target.as_bytes())
    }

    /// A hard link.
    pub fn hardlink(&mut self, name: &str, target: &str) -> &mut Self {
        self.entry(name.as_bytes(), b'1', 0o644, b"", target.as_bytes())
    }

    /// A file header declaring `size` bytes followed by exactly that many zeros, without
    /// materialising them in one piece twice (for size-cap tests keep `size` moderate).
    pub fn zeros(&mut self, name: &str, size: u64) -> &mut Self {
        self.data
            .extend_from_slice(&Self::header(name.as_bytes(), b'0', 0o644, size, b""));
        self.data.resize(self.data.len() + size as usize, 0);
        self.pad();
        self
    }

    /// The archive with its end-of-archive marker.
    pub fn finish(&self) -> Vec<u8> {
        let mut out = self.data.clone();
        out.extend_from_slice(&[0u8; 1024]);
        out
    }
}
