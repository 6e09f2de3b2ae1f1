//! Arbitrary bytes as a layer tar, applied on top of a small base layer: the flattener must
//! return an error or a tree whose entries and symlink targets stay inside the root, and must
//! never panic, write outside its spool, or allocate without bound.
//!
//! Seeds: `cp ../tests/fixtures/hostile/*.tar corpus/layer/` (see README.md).

#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use lambda_package::flatten::{Flattener, Limits, RootEntry};

fn work_dir() -> &'static std::path::Path {
    static DIR: OnceLock<tempfile::TempDir> = OnceLock::new();
    DIR.get_or_init(|| tempfile::tempdir().expect("a temp dir")).path()
}

/// A plain tar with `etc/`, `etc/passwd` and a symlink `lib -> usr/lib`, built by hand.
fn base() -> &'static [u8] {
    static BASE: OnceLock<Vec<u8>> = OnceLock::new();
    BASE.get_or_init(|| {
        let mut out = Vec::new();
        let mut entry = |name: &str, kind: u8, data: &[u8], link: &str| {
            let mut h = [0u8; 512];
            h[..name.len()].copy_from_slice(name.as_bytes());
            h[100..108].copy_from_slice(b"0000644\0");
            h[124..136].copy_from_slice(format!("{:011o}\0", data.len()).as_bytes());
            h[156] = kind;
            h[157..157 + link.len()].copy_from_slice(link.as_bytes());
            h[257..263].copy_from_slice(b"ustar\0");
            h[263..265].copy_from_slice(b"00");
            h[148..156].copy_from_slice(b"        ");
            let sum: u32 = h.iter().map(|&b| u32::from(b)).sum();
            h[148..156].copy_from_slice(format!("{sum:06o}\0 ").as_bytes());
            out.extend_from_slice(&h);
            out.extend_from_slice(data);
            out.resize(out.len().div_ceil(512) * 512, 0);
        };
        entry("etc/", b'5', b"", "");
        entry("etc/passwd", b'0', b"root:x:0:0::/:/bin/sh\n", "");
        entry("lib", b'2', b"", "usr/lib");
        out.extend_from_slice(&[0u8; 1024]);
        out
    })
}

fuzz_target!(|data: &[u8]| {
    let limits = Limits {
        max_entries: 2_000,
        max_spool_bytes: 16 << 20,
        max_decompressed_bytes: 32 << 20,
        ..Limits::default()
    };
    let mut flattener = Flattener::new(work_dir(), limits).expect("a spool file");
    flattener.apply_layer(base()).expect("the base layer applies");
    if flattener.apply_layer(data).is_err() {
        return;
    }
    let Ok(rootfs) = flattener.finish() else {
        return;
    };
    rootfs
        .walk(|path, entry| {
            assert!(!path.is_empty() && !path.starts_with('/'), "{path:?}");
            assert!(!path.split('/').any(|c| c.is_empty() || c == "." || c == ".."), "{path:?}");
            if let RootEntry::Symlink(target) = entry {
                assert!(!target.starts_with('/'), "{path} -> {target}");
                let depth = path.split('/').count() - 1;
                let ups = target.split('/').take_while(|c| *c == "..").count();
                assert!(ups <= depth, "{path} -> {target} climbs out");
                assert!(!target.split('/').skip(ups).any(|c| c == ".."), "{path} -> {target}");
            }
            Ok::<(), ()>(())
        })
        .unwrap();
});
