//! A small, reproducible OCI / Docker image writer: gzip'd tar layers, image config, OCI and
//! Docker v2 schema 2 manifests. Same inputs → byte-identical blobs and digests (fixed mtimes,
//! uid/gid 0, gzip without timestamp or name, keys sorted by serde_json).

use std::collections::BTreeMap;
use std::io::Write;

use bytes::Bytes;
use flate2::{Compression, GzBuilder};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

/// OCI image manifest media type.
pub const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
/// OCI image index media type.
pub const OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";
/// OCI image config media type.
pub const OCI_CONFIG: &str = "application/vnd.oci.image.config.v1+json";
/// OCI gzip'd layer media type.
pub const OCI_LAYER_GZIP: &str = "application/vnd.oci.image.layer.v1.tar+gzip";
/// Docker v2 schema 2 manifest media type.
pub const DOCKER_MANIFEST: &str = "application/vnd.docker.distribution.manifest.v2+json";
/// Docker image config media type.
pub const DOCKER_CONFIG: &str = "application/vnd.docker.container.image.v1+json";
/// Docker gzip'd layer media type.
pub const DOCKER_LAYER_GZIP: &str = "application/vnd.docker.image.rootfs.diff.tar.gzip";

/// The mtime of every entry (2020-09-13T12:26:40Z), so layers are reproducible.
pub const MTIME: u64 = 1_600_000_000;

/// `sha256:<hex>` of `data`.
pub fn sha256_digest(data: &[u8]) -> String {
    let hash = Sha256::digest(data);
    let mut out = String::with_capacity(7 + 64);
    out.push_str("sha256:");
    for byte in hash.iter() {
        out.push_str(&format!("{byte:02x}"));
    }
    out
}

/// A content-addressed blob.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Blob {
    /// `sha256:<hex>`.
    pub digest: String,
    /// The bytes.
    pub data: Bytes,
}

impl Blob {
    /// Hash `data`.
    pub fn new(data: impl Into<Bytes>) -> Blob {
        let data = data.into();
        Blob {
            digest: sha256_digest(&data),
            data,
        }
    }

    /// Size in bytes.
    pub fn size(&self) -> u64 {
        self.data.len() as u64
    }

    /// The hex part of the digest.
    pub fn hex(&self) -> &str {
        self.digest.trim_start_matches("sha256:")
    }
}

/// A finished layer: the gzip'd tar blob and the digest of the uncompressed tar (`diff_id`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Layer {
    /// The compressed blob (what registries store).
    pub blob: Blob,
    /// `sha256:` of the uncompressed tar (the config's `rootfs.diff_ids`).
    pub diff_id: String,
    /// A line for the config history.
    pub comment: String,
}

/// Builds one layer tar, entry by entry, in call order.
///
/// Paths are image-absolute or relative (`/bin/sh` and `bin/sh` are the same entry); parent
/// directories are not added implicitly.
pub struct LayerBuilder {
    tar: tar::Builder<Vec<u8>>,
    comment: String,
}

impl LayerBuilder {
    /// An empty layer; `comment` goes to the image history.
    pub fn new(comment: impl Into<String>) -> LayerBuilder {
        let mut tar = tar::Builder::new(Vec::new());
        tar.mode(tar::HeaderMode::Deterministic);
        LayerBuilder {
            tar,
            comment: comment.into(),
        }
    }

    fn header(kind: tar::EntryType, mode: u32, size: u64) -> tar::Header {
        let mut header = tar::Header::new_gnu();
        header.set_entry_type(kind);
        header.set_mode(mode);
        header.set_size(size);
        header.set_mtime(MTIME);
        header.set_uid(0);
        header.set_gid(0);
        header
    }

    fn rel(path: &str) -> &str {
        path.trim_start_matches('/')
    }

    /// A directory (`mode` like 0o755; 0o1777 for /tmp).
    pub fn dir(&mut self, path: &str, mode: u32) -> &mut Self {
        let mut header = Self::header(tar::EntryType::Directory, mode, 0);
        let path = format!("{}/", Self::rel(path).trim_end_matches('/'));
        self.tar
            .append_data(&mut header, path, std::io::empty())
            .expect("writing to memory");
        self
    }

    /// A regular file.
    pub fn file(&mut self, path: &str, mode: u32, contents: &[u8]) -> &mut Self {
        let mut header = Self::header(tar::EntryType::Regular, mode, contents.len() as u64);
        self.tar
            .append_data(&mut header, Self::rel(path), contents)
            .expect("writing to memory");
        self
    }

    /// A symbolic link; `target` is stored verbatim.
    pub fn symlink(&mut self, path: &str, target: &str) -> &mut Self {
        let mut header = Self::header(tar::EntryType::Symlink, 0o777, 0);
        self.tar
            .append_link(&mut header, Self::rel(path), target)
            .expect("writing to memory");
        self
    }

    /// A hard link to `target` (an image path, possibly from a lower layer).
    pub fn hardlink(&mut self, path: &str, target: &str) -> &mut Self {
        let mut header = Self::header(tar::EntryType::Link, 0o644, 0);
        self.tar
            .append_link(&mut header, Self::rel(path), Self::rel(target))
            .expect("writing to memory");
        self
    }

    /// A whiteout: deletes `path` (file or directory) of the lower layers (`dir/.wh.name`).
    pub fn whiteout(&mut self, path: &str) -> &mut Self {
        let path = Self::rel(path).trim_end_matches('/');
        let (dir, name) = match path.rsplit_once('/') {
            Some((dir, name)) => (format!("{dir}/"), name),
            None => (String::new(), path),
        };
        self.file(&format!("{dir}.wh.{name}"), 0o644, b"")
    }

    /// An opaque marker: hides every lower-layer child of `dir` (`dir/.wh..wh..opq`).
    pub fn opaque(&mut self, dir: &str) -> &mut Self {
        let dir = Self::rel(dir).trim_end_matches('/');
        self.file(&format!("{dir}/.wh..wh..opq"), 0o644, b"")
    }

    /// Finish the tar without compressing it (the uncompressed layer stream).
    pub fn finish_tar(self) -> Vec<u8> {
        self.tar.into_inner().expect("writing to memory")
    }

    /// Finish the tar and gzip it.
    pub fn finish(self) -> Layer {
        let tar = self.tar.into_inner().expect("writing to memory");
        let diff_id = sha256_digest(&tar);
        let mut gz = GzBuilder::new()
            .mtime(0)
            .operating_system(255)
            .write(Vec::new(), Compression::new(6));
        gz.write_all(&tar).expect("writing to memory");
        let compressed = gz.finish().expect("writing to memory");
        Layer {
            blob: Blob::new(compressed),
            diff_id,
            comment: self.comment,
        }
    }
}

/// The runtime part of an image config (`config` in the JSON).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ImageConfig {
    /// `KEY=VALUE` entries.
    pub env: Vec<String>,
    /// `Entrypoint`.
    pub entrypoint: Vec<String>,
    /// `Cmd`.
    pub cmd: Vec<String>,
    /// `WorkingDir` (empty = unset).
    pub working_dir: String,
    /// `User` (empty = unset).
    pub user: String,
    /// `ExposedPorts`, e.g. `8080/tcp`.
    pub exposed_ports: Vec<String>,
    /// `Labels`.
    pub labels: BTreeMap<String, String>,
}

/// A complete image: config and layers, with both an OCI and a Docker v2s2 manifest over the
/// same blobs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Image {
    /// The runtime config it was built from.
    pub config: ImageConfig,
    /// The config JSON blob.
    pub config_blob: Blob,
    /// Layers, base first.
    pub layers: Vec<Layer>,
    /// The OCI image manifest blob (`application/vnd.oci.image.manifest.v1+json`).
    pub oci_manifest: Blob,
    /// The Docker v2 schema 2 manifest blob.
    pub docker_manifest: Blob,
}

impl Image {
    /// Assemble config and manifests for `layers` (base first), linux/amd64.
    pub fn new(config: ImageConfig, layers: Vec<Layer>) -> Image {
        let mut runtime = serde_json::Map::new();
        let list = |v: &[String]| Value::from(v.to_vec());
        if !config.env.is_empty() {
            runtime.insert("Env".into(), list(&config.env));
        }
        if !config.entrypoint.is_empty() {
            runtime.insert("Entrypoint".into(), list(&config.entrypoint));
        }
        if !config.cmd.is_empty() {
            runtime.insert("Cmd".into(), list(&config.cmd));
        }
        if !config.working_dir.is_empty() {
            runtime.insert("WorkingDir".into(), config.working_dir.clone().into());
        }
        if !config.user.is_empty() {
            runtime.insert("User".into(), config.user.clone().into());
        }
        if !config.exposed_ports.is_empty() {
            let ports: serde_json::Map<String, Value> = config
                .exposed_ports
                .iter()
                .map(|p| (p.clone(), json!({})))
                .collect();
            runtime.insert("ExposedPorts".into(), Value::Object(ports));
        }
        if !config.labels.is_empty() {
            runtime.insert("Labels".into(), json!(config.labels));
        }
        let history: Vec<Value> = layers
            .iter()
            .map(|l| json!({"created": "2020-09-13T12:26:40Z", "created_by": l.comment}))
            .collect();
        let config_json = json!({
            "architecture": "amd64",
            "os": "linux",
            "created": "2020-09-13T12:26:40Z",
            "config": Value::Object(runtime),
            "rootfs": {
                "type": "layers",
                "diff_ids": layers.iter().map(|l| l.diff_id.clone()).collect::<Vec<_>>(),
            },
            "history": history,
        });
        let config_blob = Blob::new(serde_json::to_vec(&config_json).expect("json"));
        let manifest = |manifest_type: &str, config_type: &str, layer_type: &str| {
            let value = json!({
                "schemaVersion": 2,
                "mediaType": manifest_type,
                "config": {
                    "mediaType": config_type,
                    "digest": config_blob.digest,
                    "size": config_blob.size(),
                },
                "layers": layers.iter().map(|l| json!({
                    "mediaType": layer_type,
                    "digest": l.blob.digest,
                    "size": l.blob.size(),
                })).collect::<Vec<_>>(),
            });
            Blob::new(serde_json::to_vec(&value).expect("json"))
        };
        let oci_manifest = manifest(OCI_MANIFEST, OCI_CONFIG, OCI_LAYER_GZIP);
        let docker_manifest = manifest(DOCKER_MANIFEST, DOCKER_CONFIG, DOCKER_LAYER_GZIP);
        Image {
            config,
            config_blob,
            layers,
            oci_manifest,
            docker_manifest,
        }
    }

    /// Every blob the manifests reference: config first, then layers.
    pub fn blobs(&self) -> impl Iterator<Item = &Blob> {
        std::iter::once(&self.config_blob).chain(self.layers.iter().map(|l| &l.blob))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    fn entries(layer: &Layer) -> Vec<(String, tar::EntryType, Vec<u8>, Option<String>)> {
        let tar = flate2::read::GzDecoder::new(&layer.blob.data[..]);
        let mut archive = tar::Archive::new(tar);
        archive
            .entries()
            .unwrap()
            .map(|e| {
                let mut e = e.unwrap();
                let path = e.path().unwrap().to_string_lossy().into_owned();
                let kind = e.header().entry_type();
                let link = e
                    .link_name()
                    .unwrap()
                    .map(|l| l.to_string_lossy().into_owned());
                let mut data = Vec::new();
                e.read_to_end(&mut data).unwrap();
                (path, kind, data, link)
            })
            .collect()
    }

    fn sample() -> Layer {
        let mut l = LayerBuilder::new("sample");
        l.dir("/data", 0o755)
            .file("/data/a.txt", 0o644, b"hello")
            .symlink("/data/link", "a.txt")
            .hardlink("/data/hard", "/data/a.txt")
            .whiteout("/data/gone")
            .opaque("/data/opaque/")
            .file(&format!("/data/{}", "x".repeat(150)), 0o600, b"long");
        l.finish()
    }

    #[test]
    fn layers_are_reproducible_and_hold_what_was_added() {
        let a = sample();
        let b = sample();
        assert_eq!(a, b, "same input, same bytes");
        let e = entries(&a);
        let names: Vec<&str> = e.iter().map(|x| x.0.as_str()).collect();
        assert_eq!(
            names,
            [
                "data/",
                "data/a.txt",
                "data/link",
                "data/hard",
                "data/.wh.gone",
                "data/opaque/.wh..wh..opq",
                &format!("data/{}", "x".repeat(150)),
            ]
        );
        assert_eq!(e[1].2, b"hello");
        assert_eq!(e[2].1, tar::EntryType::Symlink);
        assert_eq!(e[2].3.as_deref(), Some("a.txt"));
        assert_eq!(e[3].1, tar::EntryType::Link);
        assert_eq!(e[3].3.as_deref(), Some("data/a.txt"));
        // diff_id is the digest of the uncompressed tar.
        let mut tar = Vec::new();
        flate2::read::GzDecoder::new(&a.blob.data[..])
            .read_to_end(&mut tar)
            .unwrap();
        assert_eq!(a.diff_id, sha256_digest(&tar));
    }

    #[test]
    fn manifests_reference_the_same_blobs() {
        let config = ImageConfig {
            env: vec!["fprocess=cat".into()],
            entrypoint: vec!["/fwatchdog".into()],
            working_dir: "/home/app".into(),
            exposed_ports: vec!["8080/tcp".into()],
            ..Default::default()
        };
        let image = Image::new(config, vec![sample()]);
        let oci: Value = serde_json::from_slice(&image.oci_manifest.data).unwrap();
        let docker: Value = serde_json::from_slice(&image.docker_manifest.data).unwrap();
        assert_eq!(oci["mediaType"], OCI_MANIFEST);
        assert_eq!(docker["mediaType"], DOCKER_MANIFEST);
        assert_eq!(oci["config"]["digest"], image.config_blob.digest);
        assert_eq!(docker["config"]["digest"], image.config_blob.digest);
        assert_eq!(oci["layers"][0]["digest"], image.layers[0].blob.digest);
        assert_eq!(docker["layers"][0]["mediaType"], DOCKER_LAYER_GZIP);
        let config: Value = serde_json::from_slice(&image.config_blob.data).unwrap();
        assert_eq!(config["config"]["Env"][0], "fprocess=cat");
        assert_eq!(config["config"]["ExposedPorts"]["8080/tcp"], json!({}));
        assert_eq!(config["rootfs"]["diff_ids"][0], image.layers[0].diff_id);
        assert_eq!(image.blobs().count(), 2);
    }
}
