//! Image files on disk: a `docker load` archive and an OCI image layout.

use std::collections::BTreeSet;
use std::io;
use std::path::Path;

use serde_json::json;

use crate::images::BuiltImage;
use crate::oci::{Blob, Image, MTIME, OCI_INDEX, OCI_MANIFEST};

fn append(tar: &mut tar::Builder<Vec<u8>>, path: &str, data: &[u8]) {
    let mut header = tar::Header::new_gnu();
    header.set_entry_type(tar::EntryType::Regular);
    header.set_size(data.len() as u64);
    header.set_mode(0o644);
    header.set_mtime(MTIME);
    tar.append_data(&mut header, path, data)
        .expect("writing to memory");
}

/// A `docker save`-format tarball (`manifest.json` + config + gzip'd layers under
/// `blobs/sha256/`) holding `images`, each with its repo tags. `docker load` / bollard's
/// `import_image` accept it.
pub fn docker_archive(images: &[(&Image, Vec<String>)]) -> Vec<u8> {
    let mut tar = tar::Builder::new(Vec::new());
    let mut written = BTreeSet::new();
    let mut manifest = Vec::new();
    for (image, tags) in images {
        for blob in image.blobs() {
            if written.insert(blob.digest.clone()) {
                append(
                    &mut tar,
                    &format!("blobs/sha256/{}", blob.hex()),
                    &blob.data,
                );
            }
        }
        manifest.push(json!({
            "Config": format!("blobs/sha256/{}", image.config_blob.hex()),
            "RepoTags": tags,
            "Layers": image
                .layers
                .iter()
                .map(|l| format!("blobs/sha256/{}", l.blob.hex()))
                .collect::<Vec<_>>(),
        }));
    }
    let manifest = serde_json::to_vec(&manifest).expect("json");
    append(&mut tar, "manifest.json", &manifest);
    tar.into_inner().expect("writing to memory")
}

/// Write an OCI image layout (`oci-layout`, `index.json`, `blobs/sha256/…`) with every image's
/// OCI manifest, named by the `org.opencontainers.image.ref.name` annotation `NAME:TAG`
/// (usable with `skopeo copy oci:DIR:NAME:TAG …` or `umoci`). Returns the index.
pub fn write_oci_layout(dir: &Path, images: &[BuiltImage]) -> io::Result<Blob> {
    let blobs = dir.join("blobs").join("sha256");
    std::fs::create_dir_all(&blobs)?;
    std::fs::write(dir.join("oci-layout"), br#"{"imageLayoutVersion":"1.0.0"}"#)?;
    let mut entries = Vec::new();
    for built in images {
        let image = &built.content;
        for blob in image
            .blobs()
            .chain([&image.oci_manifest, &image.docker_manifest])
        {
            std::fs::write(blobs.join(blob.hex()), &blob.data)?;
        }
        entries.push(json!({
            "mediaType": OCI_MANIFEST,
            "digest": image.oci_manifest.digest,
            "size": image.oci_manifest.size(),
            "platform": {"architecture": "amd64", "os": "linux"},
            "annotations": {"org.opencontainers.image.ref.name": built.image.local_reference()},
        }));
    }
    let index = json!({"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": entries});
    let index = Blob::new(serde_json::to_vec_pretty(&index).expect("json"));
    std::fs::write(dir.join("index.json"), &index.data)?;
    Ok(index)
}
