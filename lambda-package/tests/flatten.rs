//! Flattening: the WHITEOUT test image through a real registry, then the layer rules one by one
//! on hand-made tars (opaque markers in any tar order, whiteouts sparing the layer's own
//! entries, hard links, symlink rewriting, replacement, modes), and plain / zstd layers
//! through the registry.

mod packaging_common;

use std::collections::BTreeMap;
use std::io::Read;

use lambda_package::flatten::{Compression, FlattenError, Flattener, Limits, RootEntry, Rootfs};
use lambda_package::package_image;
use packaging_common::{S_IFDIR, S_IFREG, options, push_test_image, read_zip, rootfs_paths};
use test_support::Registry;
use test_support::images::{self, WHITEOUT_DELETED, WHITEOUT_LISTING};
use test_support::oci::ImageConfig;
use test_support::oci_index::{LayerCompression, RawImage, RawLayer, RawTar};

#[derive(Debug, Clone, PartialEq, Eq)]
enum Item {
    Dir,
    File(u32, String),
    Link(String),
}

fn file(mode: u32, text: &str) -> Item {
    Item::File(mode, text.to_string())
}

fn link(target: &str) -> Item {
    Item::Link(target.to_string())
}

fn listing(rootfs: &Rootfs) -> BTreeMap<String, Item> {
    let mut out = BTreeMap::new();
    rootfs
        .walk(|path, entry| {
            let item = match entry {
                RootEntry::Dir => Item::Dir,
                RootEntry::File(data) => {
                    let mut text = String::new();
                    rootfs.open(data).read_to_string(&mut text).unwrap();
                    Item::File(data.mode(), text)
                }
                RootEntry::Symlink(target) => Item::Link(target.to_string()),
            };
            out.insert(format!("/{path}"), item);
            Ok::<(), ()>(())
        })
        .unwrap();
    out
}

fn flatten(layers: &[&RawTar]) -> Result<Rootfs, FlattenError> {
    let dir = tempfile::tempdir().unwrap();
    let mut flattener = Flattener::new(dir.path(), Limits::default())?;
    for layer in layers {
        flattener.apply_layer(&layer.finish()[..])?;
    }
    flattener.finish()
}

fn only(rootfs: &Rootfs, prefix: &str) -> BTreeMap<String, Item> {
    listing(rootfs)
        .into_iter()
        .filter(|(k, _)| k.starts_with(prefix))
        .collect()
}

#[tokio::test]
async fn whiteout_image_flattens_like_the_container_sees_it() {
    let registry = Registry::start();
    let pushed = push_test_image(&registry, images::WHITEOUT).await;
    let dir = tempfile::tempdir().unwrap();
    let zip = dir.path().join("fn.zip");
    package_image(&pushed.reference, &options(&registry), &zip)
        .await
        .unwrap();
    let (entries, _) = read_zip(&zip);
    let paths = rootfs_paths(&entries);
    let data: Vec<&str> = paths
        .iter()
        .map(String::as_str)
        .filter(|p| *p == "/data" || p.starts_with("/data/"))
        .collect();
    let expected: Vec<&str> = WHITEOUT_LISTING.lines().collect();
    assert_eq!(data, expected);
    for deleted in WHITEOUT_DELETED {
        assert!(!paths.iter().any(|p| p == deleted), "{deleted} resurrected");
    }
    assert_eq!(entries["rootfs/data/keep.txt"].text(), "keep\n");
    assert_eq!(entries["rootfs/data/opaque/new.txt"].text(), "new\n");
    assert_eq!(entries["rootfs/data/opaque/"].kind(), S_IFDIR);
    // No whiteout file is ever materialised.
    assert!(!entries.keys().any(|k| k.contains(".wh.")));
}

#[test]
fn opaque_marker_hides_lower_children_whatever_the_tar_order() {
    let mut lower = RawTar::new();
    lower
        .dir("d")
        .file("d/old", 0o644, b"old")
        .dir("d/sub")
        .file("d/sub/x", 0o644, b"x")
        .file("keep", 0o644, b"keep");
    let mut upper = RawTar::new();
    upper
        .file("d/before", 0o644, b"before")
        .dir("d/sub")
        .file("d/sub/y", 0o644, b"y")
        .file("d/.wh..wh..opq", 0o644, b"")
        .file("d/after", 0o644, b"after");
    let rootfs = flatten(&[&lower, &upper]).unwrap();
    let got = listing(&rootfs);
    let expected: BTreeMap<String, Item> = [
        ("/d", Item::Dir),
        ("/d/after", file(0o644, "after")),
        ("/d/before", file(0o644, "before")),
        ("/d/sub", Item::Dir),
        ("/d/sub/y", file(0o644, "y")),
        ("/keep", file(0o644, "keep")),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect();
    assert_eq!(got, expected);
}

#[test]
fn whiteouts_delete_lower_layers_only() {
    let mut lower = RawTar::new();
    lower
        .file("f", 0o644, b"lower f")
        .dir("gone")
        .file("gone/inner", 0o644, b"inner")
        .dir("mixed")
        .file("mixed/lower", 0o644, b"lower");
    let mut upper = RawTar::new();
    upper
        // Re-added before its whiteout in the same layer: the new version stays.
        .file("f", 0o644, b"upper f")
        .file(".wh.f", 0o644, b"")
        .file(".wh.gone", 0o644, b"")
        // This layer adds into a lower directory, then whites the directory out.
        .file("mixed/upper", 0o644, b"upper")
        .file(".wh.mixed", 0o644, b"")
        // Whiteouts of things that do not exist are no-ops.
        .file(".wh.never", 0o644, b"")
        .file("nowhere/.wh.x", 0o644, b"")
        // Other aufs metadata is not content.
        .file(".wh..wh.plnk", 0o644, b"");
    let rootfs = flatten(&[&lower, &upper]).unwrap();
    let got = listing(&rootfs);
    let expected: BTreeMap<String, Item> = [
        ("/f", file(0o644, "upper f")),
        ("/mixed", Item::Dir),
        ("/mixed/upper", file(0o644, "upper")),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect();
    assert_eq!(got, expected);
}

#[test]
fn replacing_entries_of_another_kind() {
    let mut lower = RawTar::new();
    lower
        .dir("was-dir")
        .file("was-dir/child", 0o644, b"c")
        .file("was-file", 0o644, b"f")
        .symlink("was-link", "was-file")
        .dir("merged")
        .file("merged/a", 0o644, b"a");
    let mut upper = RawTar::new();
    upper
        .file("was-dir", 0o644, b"now a file")
        .dir("was-file")
        .file("was-link", 0o755, b"now a file too")
        .dir("merged")
        .file("merged/b", 0o644, b"b");
    let got = listing(&flatten(&[&lower, &upper]).unwrap());
    assert_eq!(got["/was-dir"], file(0o644, "now a file"));
    assert!(!got.contains_key("/was-dir/child"));
    assert_eq!(got["/was-file"], Item::Dir);
    assert_eq!(got["/was-link"], file(0o755, "now a file too"));
    assert_eq!(got["/merged/a"], file(0o644, "a"));
    assert_eq!(got["/merged/b"], file(0o644, "b"));
}

#[test]
fn hard_links_become_copies_and_survive_their_target() {
    let mut lower = RawTar::new();
    lower
        .dir("bin")
        .file("bin/tool", 0o755, b"#!tool")
        .symlink("bin/sh", "tool");
    let mut upper = RawTar::new();
    upper
        .hardlink("bin/tool2", "bin/tool")
        .hardlink("./bin/sh2", "./bin/sh")
        .file("same", 0o600, b"same layer")
        .hardlink("same-link", "same");
    let mut top = RawTar::new();
    top.file("bin/.wh.tool", 0o644, b"");
    let rootfs = flatten(&[&lower, &upper, &top]).unwrap();
    let got = listing(&rootfs);
    assert_eq!(got["/bin/tool2"], file(0o755, "#!tool"));
    assert!(!got.contains_key("/bin/tool"));
    assert_eq!(
        got["/bin/sh2"],
        link("tool"),
        "a hard link to a symlink is a symlink"
    );
    assert_eq!(got["/same-link"], file(0o644, "same layer"));
    assert_eq!(rootfs.stats.files, 3);
}

#[test]
fn symlink_targets_are_rewritten_relative_and_inside() {
    let mut layer = RawTar::new();
    layer
        .dir("bin")
        .file("bin/busybox", 0o755, b"bb")
        .dir("usr")
        .dir("usr/bin")
        .dir("usr/lib")
        .symlink("usr/bin/sh", "/bin/busybox")
        .symlink("usr/bin/rel", "../../bin/busybox")
        .symlink("usr/bin/escape", "../../../../../bin/busybox")
        .symlink("usr/bin/root", "/")
        .symlink("usr/bin/self", ".")
        .symlink("lib", "usr/lib")
        .symlink("usr/bin/via", "/lib/../bin/busybox")
        .symlink("usr/bin/dangling", "/nowhere/at/all");
    let got = listing(&flatten(&[&layer]).unwrap());
    assert_eq!(got["/usr/bin/sh"], link("../../bin/busybox"));
    assert_eq!(got["/usr/bin/rel"], link("../../bin/busybox"));
    assert_eq!(got["/usr/bin/escape"], link("../../bin/busybox"));
    assert_eq!(got["/usr/bin/root"], link("../.."));
    assert_eq!(got["/usr/bin/self"], link("."));
    assert_eq!(got["/lib"], link("usr/lib"));
    // `/lib` is a link to usr/lib: `/lib/..` is `/usr`, as the kernel resolves it.
    assert_eq!(got["/usr/bin/via"], link("busybox"));
    assert_eq!(got["/usr/bin/dangling"], link("../../nowhere/at/all"));
}

#[test]
fn modes_are_normalised() {
    let mut layer = RawTar::new();
    layer
        .entry(b"secret-dir/", b'5', 0o700, b"", b"")
        .file("secret-dir/owner-only", 0o600, b"x")
        .file("suid", 0o4755, b"x")
        .file("sgid-exec-group-only", 0o2710, b"x")
        .entry(b"tmp/", b'5', 0o1777, b"", b"")
        .file("plain", 0o444, b"x");
    let got = listing(&flatten(&[&layer]).unwrap());
    assert_eq!(got["/secret-dir"], Item::Dir);
    assert_eq!(got["/secret-dir/owner-only"], file(0o644, "x"));
    assert_eq!(got["/suid"], file(0o755, "x"));
    assert_eq!(got["/sgid-exec-group-only"], file(0o755, "x"));
    assert_eq!(got["/plain"], file(0o644, "x"));
}

#[test]
fn compressed_layers_are_read_and_the_source_drained() {
    let mut tar = RawTar::new();
    tar.file("a", 0o644, b"hello");
    let bytes = tar.finish();
    for compression in [
        LayerCompression::None,
        LayerCompression::Gzip,
        LayerCompression::Zstd,
    ] {
        let layer = RawLayer::new(&bytes, compression);
        let dir = tempfile::tempdir().unwrap();
        let mut flattener = Flattener::new(dir.path(), Limits::default()).unwrap();
        let which = match compression {
            LayerCompression::None => Compression::None,
            LayerCompression::Gzip => Compression::Gzip,
            LayerCompression::Zstd => Compression::Zstd,
        };
        let mut source = &layer.blob.data[..];
        flattener
            .apply_compressed_layer(&mut source, which)
            .unwrap();
        assert!(
            source.is_empty(),
            "{compression:?}: the blob was read to its end"
        );
        let got = listing(&flattener.finish().unwrap());
        assert_eq!(got["/a"], file(0o644, "hello"), "{compression:?}");
    }
}

#[tokio::test]
async fn plain_and_zstd_layers_through_the_registry() {
    let registry = Registry::start();
    let mut base = RawTar::new();
    base.dir("etc").file("etc/base", 0o644, b"base (plain tar)");
    let mut middle = RawTar::new();
    middle
        .file("etc/middle", 0o755, b"middle (zstd)")
        .file("etc/.wh.base", 0o644, b"");
    let mut top = RawTar::new();
    top.file("etc/top", 0o644, b"top (gzip)");
    let image = RawImage::new(
        "amd64",
        None,
        &ImageConfig {
            cmd: vec!["/etc/middle".into()],
            ..Default::default()
        },
        vec![
            RawLayer::new(&base.finish(), LayerCompression::None),
            RawLayer::new(&middle.finish(), LayerCompression::Zstd),
            RawLayer::new(&top.finish(), LayerCompression::Gzip),
        ],
    );
    let reference = format!("{}/mixed/compression:1", registry.host());
    let digest = test_support::oci_index::push_raw(
        &test_support::push::oci_client(),
        &reference,
        &registry.auth(),
        &image,
    )
    .await
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let zip = dir.path().join("fn.zip");
    let summary = package_image(&reference, &options(&registry), &zip)
        .await
        .unwrap();
    assert_eq!(summary.image_digest, digest);
    assert_eq!(summary.spec.cmd, vec!["/etc/middle".to_string()]);
    let (entries, _) = read_zip(&zip);
    assert_eq!(
        rootfs_paths(&entries),
        vec!["/etc", "/etc/middle", "/etc/top"]
    );
    assert_eq!(entries["rootfs/etc/middle"].mode, S_IFREG | 0o755);
    assert_eq!(entries["rootfs/etc/top"].text(), "top (gzip)");
}

#[test]
fn directory_symlinks_are_followed_inside_the_tree() {
    let mut lower = RawTar::new();
    lower
        .dir("usr")
        .dir("usr/lib")
        .file("usr/lib/old.so", 0o644, b"old")
        .symlink("lib", "usr/lib");
    let mut upper = RawTar::new();
    // Written through the `lib` symlink: lands in /usr/lib, `lib` stays a link.
    upper.file("lib/new.so", 0o644, b"new");
    let rootfs = flatten(&[&lower, &upper]).unwrap();
    let got = only(&rootfs, "/");
    assert_eq!(got["/lib"], link("usr/lib"));
    assert_eq!(got["/usr/lib/new.so"], file(0o644, "new"));
    assert_eq!(got["/usr/lib/old.so"], file(0o644, "old"));
}
