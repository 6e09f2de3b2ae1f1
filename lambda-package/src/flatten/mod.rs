//! Flattening image layers into one root filesystem, safely.
//!
//! Design: nothing is ever written through a path that comes from a layer. Each layer's tar is
//! streamed once, in manifest order; the result is an in-memory tree of metadata (directory,
//! file, symlink; see `tree`) and the bytes of regular files are appended to one unnamed spool
//! file. The zip writer then walks the tree. Rules, as containerd/umoci apply them:
//!
//! - Names: `..` components, absolute names and NUL bytes are refused ([`FlattenError::Hostile`]);
//!   `./` prefixes and repeated slashes are accepted; names must be UTF-8 (zip needs text).
//! - A path whose parent goes through a symlink is resolved inside the tree (links followed,
//!   `..` clamped at the root, as the kernel does inside a container): `x -> /etc` then
//!   `x/passwd` writes the image's `/etc/passwd`, never the host's. Missing parents are created.
//! - Whiteouts (`.wh.NAME`) delete `NAME` from lower layers but never what the same layer
//!   added; opaque markers (`.wh..wh..opq`) hide every lower child of their directory whatever
//!   the tar order; other `.wh..wh.*` names are ignored; a bare `.wh.`, `.wh..` or `.wh...`
//!   is refused. Directories merge, anything else replaces (whole subtrees included).
//! - Hard links are resolved in the tree at the time they appear (they may point at lower
//!   layers) and become a copy of their target (zip has no hard links). A link to a missing
//!   path or a directory is refused.
//! - Symlink targets are data. After the last layer every target is resolved in the tree and
//!   **rewritten** as a relative path that cannot leave the root: absolute targets become
//!   relative, `..` above the root is clamped to the root, links through links are followed.
//!   A symlink whose resolution loops (more than 40 hops) is removed (it could only fail).
//! - Device nodes, FIFOs and unknown entry types are dropped (they also remove what a lower
//!   layer had at that path). GNU sparse files are refused.
//! - Modes: directories 0755, files 0755 if any execute bit was set else 0644; setuid, setgid,
//!   sticky and owner-only modes disappear (Lambda runs as an unprivileged user).
//! - Caps ([`Limits`]): live entries, file bytes, spooled bytes, decompressed bytes, path
//!   length and depth, symlink hops, tar header sizes.

mod error;
mod spool;
mod tar;
mod tree;

use std::fs::File;
use std::io::{self, BufReader, Read};
use std::path::Path;

pub use error::FlattenError;
pub use spool::SpoolReader;
use spool::{AppendError, Spool};
use tar::{Header, TarReader};
use tree::{Content, Kind, Node, Tree, prune_lower};

/// Size and shape caps. The defaults are AWS Lambda's (250 MB unzipped, 50 MB zipped for a
/// direct upload) plus generous bounds on everything a hostile layer could inflate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// Most bytes of the unzipped package (rootfs files + bootstrap + launch spec).
    pub max_unzipped_bytes: u64,
    /// Most bytes of the zip itself.
    pub max_zipped_bytes: u64,
    /// Most entries (directories, files, links) in the flattened tree at any time.
    pub max_entries: u64,
    /// Most bytes of file data spooled across all layers (deleted files included).
    pub max_spool_bytes: u64,
    /// Most decompressed tar bytes read across all layers.
    pub max_decompressed_bytes: u64,
    /// Longest path or link target, in bytes.
    pub max_path_len: usize,
    /// Deepest path, in components.
    pub max_path_depth: usize,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            max_unzipped_bytes: 262_144_000,
            max_zipped_bytes: 52_428_800,
            max_entries: 100_000,
            max_spool_bytes: 1 << 30,
            max_decompressed_bytes: 2 << 30,
            max_path_len: 4096,
            max_path_depth: 256,
        }
    }
}

/// How a layer blob is compressed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compression {
    /// A plain tar.
    None,
    /// gzip (possibly several members).
    Gzip,
    /// zstd.
    Zstd,
}

impl Compression {
    /// The compression of an OCI or Docker layer media type; `None` for types that are not
    /// layers we can read.
    pub fn from_media_type(media_type: &str) -> Option<Compression> {
        match media_type {
            "application/vnd.oci.image.layer.v1.tar"
            | "application/vnd.oci.image.layer.nondistributable.v1.tar"
            | "application/vnd.docker.image.rootfs.diff.tar" => Some(Compression::None),
            "application/vnd.oci.image.layer.v1.tar+gzip"
            | "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip"
            | "application/vnd.docker.image.rootfs.diff.tar.gzip"
            | "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip" => {
                Some(Compression::Gzip)
            }
            "application/vnd.oci.image.layer.v1.tar+zstd"
            | "application/vnd.oci.image.layer.nondistributable.v1.tar+zstd" => {
                Some(Compression::Zstd)
            }
            _ => None,
        }
    }
}

/// What one layer contributed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LayerStats {
    /// Tar members read.
    pub entries: u64,
    /// Regular files (hard links included).
    pub files: u64,
    /// Bytes of regular-file data.
    pub file_bytes: u64,
    /// Whiteouts and opaque markers.
    pub whiteouts: u64,
    /// Device nodes, FIFOs and unknown entry types dropped.
    pub dropped: u64,
}

/// The flattened tree's totals.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RootfsStats {
    /// Regular files.
    pub files: u64,
    /// Directories (the root not counted).
    pub dirs: u64,
    /// Symbolic links.
    pub symlinks: u64,
    /// Bytes of regular-file data.
    pub bytes: u64,
    /// Symlinks removed because resolving them loops.
    pub removed_symlink_loops: u64,
}

/// Applies layers, base first, to an empty root.
pub struct Flattener {
    tree: Tree,
    spool: Spool,
    limits: Limits,
    /// The current layer (1-based; 0 is "none yet").
    layer: u32,
    /// Nodes in the tree, the root excluded.
    live: u64,
    /// Tar headers read across layers.
    headers: u64,
    /// Decompressed bytes read across layers.
    decompressed: u64,
}

/// The marker of a reader that hit [`Limits::max_decompressed_bytes`].
#[derive(Debug)]
struct DecompressedLimit(u64);

impl std::fmt::Display for DecompressedLimit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "more than {} decompressed bytes across all layers",
            self.0
        )
    }
}

impl std::error::Error for DecompressedLimit {}

/// Counts bytes and fails past a cap.
struct Capped<R> {
    inner: R,
    remaining: u64,
    limit: u64,
    read: u64,
}

impl<R: Read> Read for Capped<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        if n as u64 > self.remaining {
            return Err(io::Error::other(DecompressedLimit(self.limit)));
        }
        self.remaining -= n as u64;
        self.read += n as u64;
        Ok(n)
    }
}

/// Turn a read error caused by the decompressed-bytes cap into [`FlattenError::Limit`].
fn classify(e: FlattenError) -> FlattenError {
    match e {
        FlattenError::Read(io)
            if io
                .get_ref()
                .is_some_and(|inner| inner.is::<DecompressedLimit>()) =>
        {
            FlattenError::Limit(io.to_string())
        }
        other => other,
    }
}

/// Split a member name into components: `.`/empty dropped; `..`, absolute names and NUL
/// refused.
fn parse_name(raw: &[u8], limits: &Limits) -> Result<Vec<String>, FlattenError> {
    let lossy = || String::from_utf8_lossy(raw).into_owned();
    if raw.contains(&0) {
        return Err(FlattenError::Hostile(format!(
            "a NUL byte in the name {:?}",
            lossy()
        )));
    }
    let name = std::str::from_utf8(raw)
        .map_err(|_| FlattenError::Malformed(format!("the name {:?} is not UTF-8", lossy())))?;
    if name.starts_with('/') {
        return Err(FlattenError::Hostile(format!("the absolute name {name:?}")));
    }
    let mut out = Vec::new();
    for c in name.split('/') {
        match c {
            "" | "." => {}
            // A backslash is an ordinary byte on Linux, but some unzippers split on it.
            c if c == ".." || c.split('\\').any(|piece| piece == "..") => {
                return Err(FlattenError::Hostile(format!(
                    "the name {name:?} contains '..'"
                )));
            }
            c if c.len() > 255 => {
                return Err(FlattenError::Limit(format!(
                    "a name component longer than 255 bytes in {name:?}"
                )));
            }
            c => out.push(c.to_string()),
        }
    }
    if out.len() > limits.max_path_depth {
        return Err(FlattenError::Limit(format!(
            "a path deeper than {} components",
            limits.max_path_depth
        )));
    }
    Ok(out)
}

fn display(path: &[String]) -> String {
    format!("/{}", path.join("/"))
}

impl Flattener {
    /// A flattener spooling file data to an unnamed temporary file in `work_dir`.
    pub fn new(work_dir: &Path, limits: Limits) -> Result<Flattener, FlattenError> {
        let spool = Spool::new(work_dir, limits.max_spool_bytes).map_err(FlattenError::Spool)?;
        Ok(Flattener {
            tree: Tree::new(),
            spool,
            limits,
            layer: 0,
            live: 0,
            headers: 0,
            decompressed: 0,
        })
    }

    /// The caps in force.
    pub fn limits(&self) -> &Limits {
        &self.limits
    }

    /// Apply one compressed layer blob, then read `raw` to its end (so that a verifying
    /// source sees every byte).
    pub fn apply_compressed_layer<R: Read>(
        &mut self,
        mut raw: R,
        compression: Compression,
    ) -> Result<LayerStats, FlattenError> {
        let stats = match compression {
            Compression::None => self.apply_layer(&mut raw)?,
            Compression::Gzip => {
                let decoder = flate2::read::MultiGzDecoder::new(BufReader::with_capacity(
                    64 * 1024,
                    &mut raw,
                ));
                self.apply_layer(decoder)?
            }
            Compression::Zstd => {
                let decoder =
                    zstd::stream::read::Decoder::new(&mut raw).map_err(FlattenError::Read)?;
                self.apply_layer(decoder)?
            }
        };
        io::copy(&mut raw, &mut io::sink()).map_err(FlattenError::Read)?;
        Ok(stats)
    }

    /// Apply one uncompressed layer tar on top of what is there. The stream is read to its
    /// end (bytes after the end-of-archive marker are read and ignored).
    pub fn apply_layer<R: Read>(&mut self, reader: R) -> Result<LayerStats, FlattenError> {
        self.layer += 1;
        let remaining = self
            .limits
            .max_decompressed_bytes
            .saturating_sub(self.decompressed);
        let capped = Capped {
            inner: reader,
            remaining,
            limit: self.limits.max_decompressed_bytes,
            read: 0,
        };
        let mut tar = TarReader::new(capped, self.limits.max_path_len);
        let mut stats = LayerStats::default();
        let result = (|| {
            while let Some(header) = tar.next_header()? {
                self.headers += 1;
                if self.headers > self.limits.max_entries.saturating_mul(4) + 1024 {
                    return Err(FlattenError::Limit(format!(
                        "more than {} tar members",
                        self.limits.max_entries.saturating_mul(4) + 1024
                    )));
                }
                stats.entries += 1;
                self.apply_entry(&header, &mut tar, &mut stats)?;
            }
            Ok(())
        })();
        result.map_err(classify)?;
        let mut rest = tar.into_inner();
        io::copy(&mut rest, &mut io::sink()).map_err(|e| classify(FlattenError::Read(e)))?;
        self.decompressed += rest.read;
        Ok(stats)
    }

    fn apply_entry<R: Read>(
        &mut self,
        header: &Header,
        tar: &mut TarReader<R>,
        stats: &mut LayerStats,
    ) -> Result<(), FlattenError> {
        let components = parse_name(&header.path, &self.limits)?;
        let Some((name, parent)) = components.split_last() else {
            return match header.typeflag {
                b'5' => Ok(()),
                0 if header.path.ends_with(b"/") => Ok(()),
                _ => Err(FlattenError::Hostile(
                    "a non-directory entry for the root itself".to_string(),
                )),
            };
        };
        if parent.iter().any(|c| c.starts_with(".wh.")) {
            return Err(FlattenError::Malformed(format!(
                "{}: a directory name starting with .wh.",
                display(&components)
            )));
        }
        if let Some(hidden) = name.strip_prefix(".wh.") {
            stats.whiteouts += 1;
            return self.whiteout(parent, hidden);
        }
        match header.typeflag {
            0 if header.path.ends_with(b"/") => self.add_dir(parent, name),
            b'0' | 0 | b'7' => {
                let parent = self.dir_for_insert(parent, name)?;
                let max_file = self.limits.max_unzipped_bytes;
                if header.size > max_file {
                    return Err(FlattenError::Limit(format!(
                        "{}/{name} is {} bytes (limit {max_file})",
                        display(&parent),
                        header.size
                    )));
                }
                let content = self
                    .spool
                    .append(&mut tar.data(), max_file, header.mode & 0o111 != 0)
                    .map_err(|e| match e {
                        AppendError::Read(e) => FlattenError::Read(e),
                        AppendError::Write(e) => FlattenError::Spool(e),
                        AppendError::Limit(m) => FlattenError::Limit(m),
                    })?;
                stats.files += 1;
                stats.file_bytes += content.len;
                self.insert(&parent, name, Kind::File(content))
            }
            b'5' => self.add_dir(parent, name),
            b'2' => {
                if header.link.contains(&0) {
                    return Err(FlattenError::Hostile(format!(
                        "a NUL byte in the target of {}",
                        display(&components)
                    )));
                }
                let target = std::str::from_utf8(&header.link).map_err(|_| {
                    FlattenError::Malformed(format!(
                        "the target of {} is not UTF-8",
                        display(&components)
                    ))
                })?;
                if target.is_empty() {
                    return Err(FlattenError::Malformed(format!(
                        "the symlink {} has an empty target",
                        display(&components)
                    )));
                }
                let parent = self.dir_for_insert(parent, name)?;
                self.insert(&parent, name, Kind::Symlink(target.to_string()))
            }
            b'1' => {
                let kind = self.hard_link_target(&components, &header.link)?;
                if matches!(kind, Kind::File(_)) {
                    stats.files += 1;
                }
                let parent = self.dir_for_insert(parent, name)?;
                self.insert(&parent, name, kind)
            }
            b'S' => Err(FlattenError::Malformed(format!(
                "{} is a GNU sparse file (not supported)",
                display(&components)
            ))),
            // Character and block devices, FIFOs, and types we do not know: a zip cannot carry
            // them. Whatever a lower layer had at that path is gone all the same.
            _ => {
                stats.dropped += 1;
                let parent = self.resolve_dir(parent, name)?;
                if let Some(Node {
                    kind: Kind::Dir(children),
                    ..
                }) = self.tree.get_mut(&parent)
                    && let Some(old) = children.remove(name)
                {
                    self.live -= old.count();
                }
                Ok(())
            }
        }
    }

    /// Resolve a member's parent directory inside the tree (following links), checking the
    /// resulting path's depth and length. Does not create anything.
    fn resolve_dir(&self, parent: &[String], name: &str) -> Result<Vec<String>, FlattenError> {
        let resolved = self
            .tree
            .resolve(&[], parent.iter().map(String::as_str), true)
            .map_err(|_| {
                FlattenError::Hostile(format!(
                    "the parent of {}/{name} is a symlink loop",
                    display(parent)
                ))
            })?;
        let depth = resolved.len() + 1;
        let len: usize = resolved.iter().map(|c| c.len() + 1).sum::<usize>() + name.len();
        if depth > self.limits.max_path_depth || len > self.limits.max_path_len {
            return Err(FlattenError::Limit(format!(
                "the path {}/{name} is too long or too deep",
                display(&resolved)
            )));
        }
        Ok(resolved)
    }

    /// [`Self::resolve_dir`], then create missing directories and mark every directory on the
    /// way as touched by this layer (so this layer's own whiteouts spare them).
    fn dir_for_insert(
        &mut self,
        parent: &[String],
        name: &str,
    ) -> Result<Vec<String>, FlattenError> {
        let resolved = self.resolve_dir(parent, name)?;
        let layer = self.layer;
        let mut created = 0;
        let mut node = &mut self.tree.root;
        for (i, c) in resolved.iter().enumerate() {
            let Kind::Dir(children) = &mut node.kind else {
                unreachable!("only directories are walked into");
            };
            let child = children.entry(c.clone()).or_insert_with(|| {
                created += 1;
                Node::dir(layer)
            });
            if !child.is_dir() {
                return Err(FlattenError::Malformed(format!(
                    "{} is not a directory (needed for {}/{name})",
                    display(&resolved[..=i]),
                    display(&resolved)
                )));
            }
            child.layer = layer;
            node = child;
        }
        self.live += created;
        self.check_entries()?;
        Ok(resolved)
    }

    fn check_entries(&self) -> Result<(), FlattenError> {
        if self.live > self.limits.max_entries {
            return Err(FlattenError::Limit(format!(
                "more than {} entries",
                self.limits.max_entries
            )));
        }
        Ok(())
    }

    fn add_dir(&mut self, parent: &[String], name: &str) -> Result<(), FlattenError> {
        let parent = self.dir_for_insert(parent, name)?;
        self.insert(&parent, name, Kind::Dir(Default::default()))
    }

    /// Put `kind` at `parent/name`: directories merge into directories, anything else replaces
    /// what was there.
    fn insert(&mut self, parent: &[String], name: &str, kind: Kind) -> Result<(), FlattenError> {
        let layer = self.layer;
        let Some(Node {
            kind: Kind::Dir(children),
            ..
        }) = self.tree.get_mut(parent)
        else {
            unreachable!("dir_for_insert made the parent a directory");
        };
        let node = Node { kind, layer };
        match children.get_mut(name) {
            Some(existing) if existing.is_dir() && node.is_dir() => existing.layer = layer,
            Some(existing) => {
                let removed = existing.count();
                *existing = node;
                self.live = self.live - removed + 1;
            }
            None => {
                children.insert(name.to_string(), node);
                self.live += 1;
            }
        }
        self.check_entries()
    }

    /// What a hard link to `link` (an image path) copies: the target file or symlink.
    fn hard_link_target(&self, components: &[String], link: &[u8]) -> Result<Kind, FlattenError> {
        let target = parse_name(link, &self.limits).map_err(|e| match e {
            FlattenError::Hostile(m) => FlattenError::Hostile(format!(
                "hard link {} to outside the image: {m}",
                display(components)
            )),
            other => other,
        })?;
        let Some((tname, tparent)) = target.split_last() else {
            return Err(FlattenError::Hostile(format!(
                "hard link {} to the root",
                display(components)
            )));
        };
        let mut path = self.resolve_dir(tparent, tname)?;
        path.push(tname.clone());
        match self.tree.get(&path).map(|n| &n.kind) {
            Some(Kind::File(content)) => Ok(Kind::File(Content { ..*content })),
            Some(Kind::Symlink(t)) => Ok(Kind::Symlink(t.clone())),
            Some(Kind::Dir(_)) => Err(FlattenError::Hostile(format!(
                "hard link {} to the directory {}",
                display(components),
                display(&path)
            ))),
            None => Err(FlattenError::Malformed(format!(
                "hard link {} to {}, which does not exist",
                display(components),
                display(&target)
            ))),
        }
    }

    fn whiteout(&mut self, parent: &[String], hidden: &str) -> Result<(), FlattenError> {
        let layer = self.layer;
        if hidden.is_empty() {
            return Err(FlattenError::Malformed(format!(
                "a bare whiteout {}/.wh.",
                display(parent)
            )));
        }
        if hidden == "." || hidden == ".." {
            return Err(FlattenError::Hostile(format!(
                "a whiteout of {}/{hidden}",
                display(parent)
            )));
        }
        if hidden == ".wh..opq" {
            let dir = self.resolve_dir(parent, hidden)?;
            if let Some(node) = self.tree.get_mut(&dir)
                && node.is_dir()
            {
                let removed = prune_lower(node, layer);
                node.layer = layer;
                self.live -= removed;
            }
            return Ok(());
        }
        if hidden.starts_with(".wh.") {
            // Other aufs metadata (`.wh..wh.plnk`, `.wh..wh.aufs`): not content.
            return Ok(());
        }
        let dir = self.resolve_dir(parent, hidden)?;
        let Some(Node {
            kind: Kind::Dir(children),
            ..
        }) = self.tree.get_mut(&dir)
        else {
            return Ok(());
        };
        let removed = match children.get_mut(hidden) {
            // Added or touched by this very layer: only what lower layers had underneath goes.
            Some(node) if node.layer == layer => prune_lower(node, layer),
            Some(_) => children.remove(hidden).map_or(0, |n| n.count()),
            None => 0,
        };
        self.live -= removed;
        Ok(())
    }

    /// Finish: rewrite symlinks to stay inside, total the tree, check the unzipped cap.
    pub fn finish(mut self) -> Result<Rootfs, FlattenError> {
        let removed_symlink_loops = self.tree.rewrite_symlinks();
        let spool = self.spool.finish().map_err(FlattenError::Spool)?;
        let mut stats = RootfsStats {
            removed_symlink_loops,
            ..Default::default()
        };
        total(&self.tree.root, &mut stats);
        if stats.bytes > self.limits.max_unzipped_bytes {
            return Err(FlattenError::Limit(format!(
                "the flattened image holds {} bytes of files (limit {})",
                stats.bytes, self.limits.max_unzipped_bytes
            )));
        }
        Ok(Rootfs {
            tree: self.tree,
            spool,
            stats,
        })
    }

    /// Bytes spooled so far (deleted files included).
    pub fn spooled_bytes(&self) -> u64 {
        self.spool.len()
    }
}

fn total(node: &Node, stats: &mut RootfsStats) {
    if let Kind::Dir(children) = &node.kind {
        for child in children.values() {
            match &child.kind {
                Kind::Dir(_) => {
                    stats.dirs += 1;
                    total(child, stats);
                }
                Kind::File(c) => {
                    stats.files += 1;
                    stats.bytes += c.len;
                }
                Kind::Symlink(_) => stats.symlinks += 1,
            }
        }
    }
}

/// One entry of the flattened root, as [`Rootfs::walk`] hands it out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RootEntry<'a> {
    /// A directory (mode 0755).
    Dir,
    /// A regular file; read it with [`Rootfs::open`].
    File(FileData),
    /// A symbolic link with its (rewritten, relative, inside) target.
    Symlink(&'a str),
}

/// Where a file's bytes are; see [`Rootfs::open`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FileData {
    content: Content,
}

impl FileData {
    /// Size in bytes.
    pub fn len(&self) -> u64 {
        self.content.len
    }

    /// Whether the file is empty.
    pub fn is_empty(&self) -> bool {
        self.content.len == 0
    }

    /// The normalised mode: 0o755 if the image had any execute bit, else 0o644.
    pub fn mode(&self) -> u32 {
        if self.content.executable {
            0o755
        } else {
            0o644
        }
    }
}

/// The flattened image: a tree of entries plus the spool holding file bytes.
pub struct Rootfs {
    tree: Tree,
    spool: File,
    /// Totals.
    pub stats: RootfsStats,
}

impl Rootfs {
    /// Visit every entry, depth first in byte order of names, each directory before its
    /// children. Paths are relative (`bin/sh`), without a trailing slash; the root itself is
    /// not visited.
    pub fn walk<E>(
        &self,
        mut visit: impl FnMut(&str, RootEntry<'_>) -> Result<(), E>,
    ) -> Result<(), E> {
        let mut path = String::new();
        walk_node(&self.tree.root, &mut path, &mut visit)
    }

    /// The bytes of a file.
    pub fn open(&self, file: FileData) -> SpoolReader<'_> {
        SpoolReader::new(&self.spool, file.content)
    }
}

fn walk_node<E>(
    node: &Node,
    path: &mut String,
    visit: &mut impl FnMut(&str, RootEntry<'_>) -> Result<(), E>,
) -> Result<(), E> {
    let Kind::Dir(children) = &node.kind else {
        return Ok(());
    };
    for (name, child) in children {
        let len = path.len();
        if !path.is_empty() {
            path.push('/');
        }
        path.push_str(name);
        match &child.kind {
            Kind::Dir(_) => {
                visit(path, RootEntry::Dir)?;
                walk_node(child, path, visit)?;
            }
            Kind::File(content) => visit(path, RootEntry::File(FileData { content: *content }))?,
            Kind::Symlink(target) => visit(path, RootEntry::Symlink(target))?,
        }
        path.truncate(len);
    }
    Ok(())
}
