//! Shared by the packaging tests: options for a local registry, pushing test images, reading a
//! zip back.
#![allow(dead_code, unreachable_pub)]

use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};

use lambda_package::{BootstrapSource, PackageOptions};
use test_support::Registry;
use test_support::images::TestImage;
use test_support::push::{self, Pushed};

/// S_IFMT and the types zip entries carry.
pub const S_IFMT: u32 = 0o170000;
pub const S_IFDIR: u32 = 0o040000;
pub const S_IFREG: u32 = 0o100000;
pub const S_IFLNK: u32 = 0o120000;

/// The static shim packaged as `bootstrap` (copied, never run, by these tests).
pub fn bootstrap() -> PathBuf {
    test_support::assets::static_bootstrap().to_path_buf()
}

/// Options for a registry on loopback (plain HTTP).
pub fn options(registry: &Registry) -> PackageOptions {
    PackageOptions {
        insecure_registries: vec![registry.host()],
        bootstrap: BootstrapSource::File(bootstrap()),
        ..Default::default()
    }
}

/// Push one of the test images (OCI and Docker v2s2 manifests).
pub async fn push_test_image(registry: &Registry, image: TestImage) -> Pushed {
    push::push_image(
        &push::oci_client(),
        &registry.host(),
        &registry.auth(),
        image,
        image.build(),
    )
    .await
    .expect("push the test image")
}

/// One zip entry: its full unix mode (type bits included) and its data (a symlink's data is
/// its target).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ZipEntry {
    pub mode: u32,
    pub data: Vec<u8>,
}

impl ZipEntry {
    pub fn kind(&self) -> u32 {
        self.mode & S_IFMT
    }

    pub fn perm(&self) -> u32 {
        self.mode & 0o7777
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.data).into_owned()
    }
}

/// Every entry of the zip at `path`, by name (in file order in `order`).
pub fn read_zip(path: &Path) -> (BTreeMap<String, ZipEntry>, Vec<String>) {
    let file = std::fs::File::open(path).expect("open the zip");
    let mut archive = zip::ZipArchive::new(file).expect("a valid zip");
    let mut entries = BTreeMap::new();
    let mut order = Vec::new();
    for i in 0..archive.len() {
        let mut f = archive.by_index(i).expect("zip entry");
        let name = f.name().expect("UTF-8 entry name").to_string();
        let mode = f.unix_mode().expect("every entry has a unix mode");
        let mut data = Vec::new();
        f.read_to_end(&mut data).expect("read zip entry");
        order.push(name.clone());
        assert!(
            entries
                .insert(name.clone(), ZipEntry { mode, data })
                .is_none(),
            "duplicate entry {name}"
        );
    }
    (entries, order)
}

/// The `rootfs/` listing as image paths (`/data/a`), directories included, sorted.
pub fn rootfs_paths(entries: &BTreeMap<String, ZipEntry>) -> Vec<String> {
    entries
        .keys()
        .filter_map(|k| k.strip_prefix("rootfs/"))
        .filter(|k| !k.is_empty())
        .map(|k| format!("/{}", k.trim_end_matches('/')))
        .collect()
}

/// Check that nothing in the zip lies or points outside `rootfs/` (besides the two top-level
/// files): entry names are clean, and every symlink resolved against the entries it refers to
/// (following other symlinks) stays inside `rootfs/`.
pub fn assert_contained(entries: &BTreeMap<String, ZipEntry>) {
    for (name, entry) in entries {
        assert!(
            name == "bootstrap" || name == "faas-launch.json" || name.starts_with("rootfs/"),
            "{name} lies outside rootfs/"
        );
        for part in name.trim_end_matches('/').split('/') {
            assert!(
                !part.is_empty() && part != "." && part != ".." && !part.contains('\\'),
                "unclean entry name {name:?}"
            );
        }
        assert!(
            entry.mode & 0o7000 == 0,
            "{name}: setuid/setgid/sticky bits present"
        );
        if entry.kind() == S_IFLNK {
            let target = entry.text();
            assert!(!target.starts_with('/'), "{name} -> {target} is absolute");
            let resolved = resolve(entries, name, 0);
            assert!(
                resolved
                    .as_deref()
                    .is_none_or(|r| r == "rootfs" || r.starts_with("rootfs/")),
                "{name} -> {target} resolves to {resolved:?}, outside rootfs/"
            );
        }
    }
}

/// Resolve a symlink entry like the kernel would after extraction (None: a loop).
fn resolve(entries: &BTreeMap<String, ZipEntry>, link: &str, depth: u32) -> Option<String> {
    if depth > 40 {
        return None;
    }
    let target = entries[link].text();
    let mut stack: Vec<String> = link.split('/').map(str::to_string).collect();
    stack.pop();
    let parts: Vec<&str> = target.split('/').collect();
    for (i, part) in parts.iter().enumerate() {
        match *part {
            "" | "." => {}
            ".." => {
                // Leaving the extraction root is an escape: report it as such.
                if stack.pop().is_none() {
                    return Some("..".to_string());
                }
            }
            name => {
                stack.push(name.to_string());
                let here = stack.join("/");
                if let Some(e) = entries.get(&here)
                    && e.kind() == S_IFLNK
                    && i + 1 < parts.len()
                {
                    let r = resolve(entries, &here, depth + 1)?;
                    if r == ".." {
                        return Some(r);
                    }
                    stack = r.split('/').map(str::to_string).collect();
                }
            }
        }
    }
    Some(stack.join("/"))
}
