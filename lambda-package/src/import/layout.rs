//! The two layers of an imported function: the runtime layer (the static entrypoint at
//! [`ENTRYPOINT_PATH`] and a world-writable `/tmp`) and the task layer (the zip's entries under
//! [`TASK_ROOT`]). Both are gzip-compressed tars with fixed owners (root) and times (0), so
//! the same zip and entrypoint always give the same digests.
//!
//! Entries of the zip:
//! - names are relative paths of `/`-separated components; an absolute name, a `..` component,
//!   a backslash or a NUL is refused, as is a name given twice or one reaching through an
//!   entry that is a symlink;
//! - modes come from the zip's unix external attributes (permission bits only: setuid, setgid
//!   and sticky are dropped), else 0644 for files and 0755 for directories; every entry is made
//!   readable (and, when its owner may execute it, executable) by everyone, since the function
//!   runs as a non-root user, as Lambda's requirement of 0644/0755 says;
//! - `bootstrap` must be at the top, a file (made 0755) or a symlink;
//! - parent directories missing from the zip are added (0755);
//! - the unzipped bytes are counted as they are read, bounded by the caller's limit.

use std::collections::BTreeSet;
use std::io::{self, Read, Write};

use flate2::Compression;
use flate2::write::GzEncoder;
use sha2::{Digest, Sha256};

use super::error::ImportError;

/// Where the zip's files go (`LAMBDA_TASK_ROOT`).
pub const TASK_ROOT: &str = "/var/task";
/// Where the entrypoint goes (`LAMBDA_RUNTIME_DIR` is `/var/runtime`).
pub const ENTRYPOINT_PATH: &str = "/var/runtime/faas-lambda-entrypoint";

/// A built layer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Layer {
    /// The gzip-compressed tar.
    pub data: Vec<u8>,
    /// `sha256:…` of `data`.
    pub digest: String,
    /// `sha256:…` of the uncompressed tar.
    pub diff_id: String,
}

/// What the task layer holds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TaskStats {
    /// Regular files.
    pub files: usize,
    /// Directories (added ones included).
    pub dirs: usize,
    /// Symlinks.
    pub symlinks: usize,
    /// Unzipped bytes of the files.
    pub unzipped_bytes: u64,
}

/// Counts what passes through and hashes it.
struct Hashing<W> {
    inner: W,
    hash: Sha256,
}

impl<W: Write> Write for Hashing<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.hash.update(&buf[..n]);
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

fn sha256(hash: Sha256) -> String {
    let bytes = hash.finalize();
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    format!("sha256:{hex}")
}

/// A tar being written through gzip, with both digests computed on the way.
struct LayerWriter {
    tar: tar::Builder<Hashing<GzEncoder<Hashing<Vec<u8>>>>>,
}

fn io_error(error: io::Error) -> ImportError {
    ImportError::Zip(format!("writing the layer: {error}"))
}

impl LayerWriter {
    fn new() -> LayerWriter {
        let compressed = Hashing {
            inner: Vec::new(),
            hash: Sha256::new(),
        };
        let gzip = GzEncoder::new(compressed, Compression::default());
        LayerWriter {
            tar: tar::Builder::new(Hashing {
                inner: gzip,
                hash: Sha256::new(),
            }),
        }
    }

    fn header(kind: tar::EntryType, mode: u32, size: u64) -> tar::Header {
        let mut header = tar::Header::new_gnu();
        header.set_entry_type(kind);
        header.set_mode(mode);
        header.set_uid(0);
        header.set_gid(0);
        header.set_mtime(0);
        header.set_size(size);
        header
    }

    fn dir(&mut self, path: &str, mode: u32) -> Result<(), ImportError> {
        let mut header = Self::header(tar::EntryType::Directory, mode, 0);
        self.tar
            .append_data(&mut header, format!("{path}/"), io::empty())
            .map_err(io_error)
    }

    fn file(
        &mut self,
        path: &str,
        mode: u32,
        size: u64,
        data: impl Read,
    ) -> Result<(), ImportError> {
        let mut header = Self::header(tar::EntryType::Regular, mode, size);
        self.tar
            .append_data(&mut header, path, data)
            .map_err(io_error)
    }

    fn symlink(&mut self, path: &str, target: &str) -> Result<(), ImportError> {
        let mut header = Self::header(tar::EntryType::Symlink, 0o777, 0);
        self.tar
            .append_link(&mut header, path, target)
            .map_err(io_error)
    }

    fn finish(self) -> Result<Layer, ImportError> {
        let tar_hash = self.tar.into_inner().map_err(io_error)?;
        let diff_id = sha256(tar_hash.hash);
        let compressed = tar_hash.inner.finish().map_err(io_error)?;
        Ok(Layer {
            digest: sha256(compressed.hash),
            data: compressed.inner,
            diff_id,
        })
    }
}

/// The runtime layer: `/tmp` (1777) and the entrypoint (0755) at [`ENTRYPOINT_PATH`].
pub(super) fn runtime_layer(entrypoint: &[u8]) -> Result<Layer, ImportError> {
    let mut layer = LayerWriter::new();
    layer.dir("tmp", 0o1777)?;
    layer.dir("var", 0o755)?;
    layer.dir("var/runtime", 0o755)?;
    layer.file(
        ENTRYPOINT_PATH.trim_start_matches('/'),
        0o755,
        entrypoint.len() as u64,
        entrypoint,
    )?;
    layer.finish()
}

/// Checks a zip entry name; returns its components.
fn components(name: &str) -> Result<Vec<&str>, ImportError> {
    let refuse = |reason: &str| {
        Err(ImportError::UnsafeEntry {
            name: name.to_string(),
            reason: reason.to_string(),
        })
    };
    if name.starts_with('/') {
        return refuse("absolute paths cannot be placed under /var/task");
    }
    if name.contains('\\') || name.contains('\0') {
        return refuse("backslashes and NUL are not allowed in names");
    }
    let parts: Vec<&str> = name
        .split('/')
        .filter(|part| !part.is_empty() && *part != ".")
        .collect();
    if parts.contains(&"..") {
        return refuse("a .. component would escape /var/task");
    }
    Ok(parts)
}

/// Permission bits of an entry: the zip's (without setuid/setgid/sticky), readable by all,
/// executable by all when the owner may execute.
fn mode_of(unix_mode: Option<u32>, default: u32) -> u32 {
    let mut mode = unix_mode.map_or(default, |m| m & 0o777);
    mode |= 0o444;
    if mode & 0o100 != 0 {
        mode |= 0o111;
    }
    mode
}

/// The task layer: every zip entry under [`TASK_ROOT`], at most `max_unzipped_bytes` of file
/// contents.
pub(super) fn task_layer(
    zip: &[u8],
    max_unzipped_bytes: u64,
) -> Result<(Layer, TaskStats), ImportError> {
    let mut archive =
        zip::ZipArchive::new(io::Cursor::new(zip)).map_err(|e| ImportError::Zip(e.to_string()))?;
    let root = TASK_ROOT.trim_start_matches('/');
    let mut layer = LayerWriter::new();
    layer.dir("var", 0o755)?;
    layer.dir(root, 0o755)?;
    let mut stats = TaskStats::default();
    let mut seen: BTreeSet<String> = BTreeSet::new();
    let mut dirs: BTreeSet<String> = BTreeSet::new();
    let mut symlinks: BTreeSet<String> = BTreeSet::new();
    let mut bootstrap = false;
    for index in 0..archive.len() {
        let mut entry = archive
            .by_index(index)
            .map_err(|e| ImportError::Zip(e.to_string()))?;
        let raw_name = String::from_utf8_lossy(entry.name_raw()).into_owned();
        let parts = components(&raw_name)?;
        if parts.is_empty() {
            continue;
        }
        let refuse = |reason: &str| ImportError::UnsafeEntry {
            name: raw_name.clone(),
            reason: reason.to_string(),
        };
        for depth in 1..parts.len() {
            let parent = parts[..depth].join("/");
            if symlinks.contains(&parent) {
                return Err(refuse("it lies under an entry that is a symlink"));
            }
            if !dirs.contains(&parent) {
                if seen.contains(&parent) {
                    return Err(refuse("its parent is not a directory"));
                }
                layer.dir(&format!("{root}/{parent}"), 0o755)?;
                dirs.insert(parent.clone());
                seen.insert(parent);
                stats.dirs += 1;
            }
        }
        let path = parts.join("/");
        let is_dir = entry.is_dir();
        if is_dir && dirs.contains(&path) {
            continue;
        }
        if !seen.insert(path.clone()) {
            return Err(refuse("the name is given twice"));
        }
        let full = format!("{root}/{path}");
        if is_dir {
            layer.dir(&full, mode_of(entry.unix_mode(), 0o755))?;
            dirs.insert(path);
            stats.dirs += 1;
        } else if entry.is_symlink() {
            let mut target = String::new();
            (&mut entry)
                .take(4096)
                .read_to_string(&mut target)
                .map_err(|e| refuse(&format!("unreadable symlink target: {e}")))?;
            if target.is_empty() || target.contains('\0') {
                return Err(refuse("a symlink needs a target without NUL"));
            }
            layer.symlink(&full, &target)?;
            bootstrap |= path == "bootstrap";
            symlinks.insert(path);
            stats.symlinks += 1;
        } else {
            let size = entry.size();
            let remaining = max_unzipped_bytes.saturating_sub(stats.unzipped_bytes);
            if size > remaining {
                return Err(ImportError::TooLarge {
                    limit: max_unzipped_bytes,
                });
            }
            let mut mode = mode_of(entry.unix_mode(), 0o644);
            if path == "bootstrap" {
                mode |= 0o755;
                bootstrap = true;
            }
            let mut data = Vec::with_capacity(usize::try_from(size).unwrap_or(0));
            (&mut entry)
                .take(size.saturating_add(1))
                .read_to_end(&mut data)
                .map_err(|e| ImportError::Zip(format!("{raw_name}: {e}")))?;
            if data.len() as u64 != size {
                return Err(ImportError::Zip(format!(
                    "{raw_name}: the entry holds {} bytes, its header says {size}",
                    data.len()
                )));
            }
            layer.file(&full, mode, size, data.as_slice())?;
            stats.files += 1;
            stats.unzipped_bytes += size;
        }
    }
    if !bootstrap {
        return Err(ImportError::NoBootstrap);
    }
    Ok((layer.finish()?, stats))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_checked() {
        assert_eq!(components("a/./b//c").unwrap(), ["a", "b", "c"]);
        for bad in ["/etc/passwd", "a/../../x", "..", "a\\b", "a\0b"] {
            assert!(
                matches!(components(bad), Err(ImportError::UnsafeEntry { .. })),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn modes_are_made_readable_and_special_bits_dropped() {
        assert_eq!(mode_of(Some(0o104700), 0o644), 0o755);
        assert_eq!(mode_of(Some(0o100600), 0o644), 0o644);
        assert_eq!(mode_of(None, 0o644), 0o644);
        assert_eq!(mode_of(Some(0o4755), 0o644), 0o755);
    }
}
