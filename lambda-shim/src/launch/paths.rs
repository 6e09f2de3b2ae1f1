//! Image paths inside a relocated rootfs: resolving them as if the rootfs were `/`, and joining
//! them lexically.

use std::io;
use std::path::{Component, Path, PathBuf};

/// Symlinks followed while resolving one path (Linux's limit).
const MAX_SYMLINKS: usize = 40;

/// Resolve the image path `path` inside `root` like the kernel would if `root` were `/`:
/// symlinks are followed, absolute targets restart at `root`, `..` never leaves `root`. Missing
/// components are kept as they are (the caller checks existence). Fails on symlink loops.
pub fn resolve_in_root(root: &Path, path: &str) -> io::Result<PathBuf> {
    let mut pending: Vec<String> = components(path).into_iter().rev().collect();
    let mut resolved: Vec<String> = Vec::new();
    let mut links = 0;
    while let Some(part) = pending.pop() {
        if part == ".." {
            resolved.pop();
            continue;
        }
        let mut candidate = root.to_path_buf();
        candidate.extend(&resolved);
        candidate.push(&part);
        match std::fs::symlink_metadata(&candidate) {
            Ok(meta) if meta.file_type().is_symlink() => {
                links += 1;
                if links > MAX_SYMLINKS {
                    return Err(io::Error::other(format!(
                        "too many levels of symbolic links at {}",
                        candidate.display()
                    )));
                }
                let target = std::fs::read_link(&candidate)?;
                let target = target.to_string_lossy();
                if target.starts_with('/') {
                    resolved.clear();
                }
                pending.extend(components(&target).into_iter().rev());
            }
            Ok(_) => resolved.push(part),
            Err(e) if e.kind() == io::ErrorKind::NotFound => resolved.push(part),
            Err(e) if e.kind() == io::ErrorKind::NotADirectory => resolved.push(part),
            Err(e) => return Err(e),
        }
    }
    let mut out = root.to_path_buf();
    out.extend(&resolved);
    Ok(out)
}

/// Normal components and `..` of a slash path (`.` and empty parts dropped).
pub(super) fn components(path: &str) -> Vec<String> {
    Path::new(path)
        .components()
        .filter_map(|c| match c {
            Component::Normal(s) => Some(s.to_string_lossy().into_owned()),
            Component::ParentDir => Some("..".to_string()),
            _ => None,
        })
        .collect()
}

/// Join an image directory and a relative path lexically (`/home/app` + `./x` → `/home/app/x`).
pub(super) fn image_join(dir: &str, rel: &str) -> String {
    let mut parts = components(dir);
    for part in components(rel) {
        if part == ".." {
            parts.pop();
        } else {
            parts.push(part);
        }
    }
    format!("/{}", parts.join("/"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::symlink;

    use super::super::test_fixture::fixture;
    use crate::spec::ROOTFS_DIR;

    #[test]
    fn resolution_stays_inside_the_root() {
        let dir = fixture();
        let root = dir.path().join(ROOTFS_DIR);
        assert_eq!(
            resolve_in_root(&root, "/usr/bin/cat").unwrap(),
            root.join("bin/busybox")
        );
        assert_eq!(
            resolve_in_root(&root, "/../../bin/sh").unwrap(),
            root.join("bin/busybox")
        );
        // `..` links are clamped at the root: this resolves to <root>/etc, not the host's.
        assert_eq!(
            resolve_in_root(&root, "/home/app/escape/passwd").unwrap(),
            root.join("etc/passwd")
        );
        assert_eq!(
            resolve_in_root(&root, "/nope/x").unwrap(),
            root.join("nope/x")
        );
        symlink("loop", root.join("loop")).unwrap();
        assert!(resolve_in_root(&root, "/loop").is_err());
    }
}
