//! Host files the test images are made of: the static `fwatchdog` and Lambda `bootstrap` (built
//! from this repo), Debian's static busybox, and a small dynamically linked C program with its
//! glibc files.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

/// The target the static binaries are built for (the only one the test images use).
pub const STATIC_TARGET: &str = "x86_64-unknown-linux-gnu";

/// The workspace root (parent of this crate).
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("test-support lives in the workspace")
        .to_path_buf()
}

/// Where the static build goes: `$FAAS_STATIC_TARGET_DIR` or `<workspace>/target/static`. A
/// separate target dir is required: the outer `cargo test` holds the lock on `target/`.
pub fn static_target_dir() -> PathBuf {
    match std::env::var_os("FAAS_STATIC_TARGET_DIR") {
        Some(dir) => PathBuf::from(dir),
        None => workspace_root().join("target").join("static"),
    }
}

/// Build (once per process; cargo makes later builds no-ops) and return the fully static
/// `fwatchdog` binary: [`static_binary`]`("watchdog", "fwatchdog")`.
pub fn static_fwatchdog() -> &'static Path {
    static BUILT: OnceLock<PathBuf> = OnceLock::new();
    BUILT.get_or_init(|| static_binary("watchdog", "fwatchdog"))
}

/// Build (once per process) and return the fully static Lambda `bootstrap` (the shim):
/// [`static_binary`]`("lambda-shim", "bootstrap")`.
pub fn static_bootstrap() -> &'static Path {
    static BUILT: OnceLock<PathBuf> = OnceLock::new();
    BUILT.get_or_init(|| static_binary("lambda-shim", "bootstrap"))
}

/// Build a fully static binary of this workspace and return its path:
/// `RUSTFLAGS='-C target-feature=+crt-static' cargo build --release -p PACKAGE --bin BIN
/// --target x86_64-unknown-linux-gnu --target-dir target/static`, checked to have no ELF
/// interpreter.
///
/// The first build compiles the package's dependencies in release mode (about a minute on two
/// cores); concurrent test processes wait on cargo's lock for the same directory.
/// Panics with cargo's output when the build fails.
pub fn static_binary(package: &str, bin: &str) -> PathBuf {
    assert_eq!(
        std::env::consts::ARCH,
        "x86_64",
        "the test images are linux/amd64 only"
    );
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let target_dir = static_target_dir();
    let output = Command::new(&cargo)
        .current_dir(workspace_root())
        .args(["build", "--release", "-p", package, "--bin", bin])
        .args(["--target", STATIC_TARGET, "--target-dir"])
        .arg(&target_dir)
        .env("RUSTFLAGS", "-C target-feature=+crt-static")
        .env_remove("CARGO_ENCODED_RUSTFLAGS")
        .env_remove("CARGO_BUILD_RUSTFLAGS")
        .env_remove("CARGO_TARGET_DIR")
        .env_remove("CARGO_BUILD_TARGET")
        .output()
        .unwrap_or_else(|e| panic!("cannot run {cargo:?}: {e}"));
    if !output.status.success() {
        panic!(
            "building the static {bin} ({package}) failed ({}):\n{}",
            output.status,
            tail(&String::from_utf8_lossy(&output.stderr), 60)
        );
    }
    let binary = target_dir.join(STATIC_TARGET).join("release").join(bin);
    let bytes =
        std::fs::read(&binary).unwrap_or_else(|e| panic!("cannot read {}: {e}", binary.display()));
    assert!(
        is_static_elf(&bytes),
        "{} is not statically linked (it has an ELF interpreter)",
        binary.display()
    );
    binary
}

/// Debian's `busybox-static` (`/bin/busybox`), checked to be a static executable.
pub fn busybox() -> &'static Path {
    static FOUND: OnceLock<PathBuf> = OnceLock::new();
    FOUND.get_or_init(|| {
        let path = PathBuf::from(
            std::env::var_os("FAAS_TEST_BUSYBOX").unwrap_or_else(|| "/bin/busybox".into()),
        );
        let bytes = std::fs::read(&path).unwrap_or_else(|e| {
            panic!(
                "{}: {e}; install Debian's busybox-static (scripts/test does)",
                path.display()
            )
        });
        assert!(
            is_static_elf(&bytes),
            "{} is dynamically linked; the images need busybox-static",
            path.display()
        );
        path
    })
}

/// A file of the dynamic-program fixture: where it goes in the image and its bytes.
#[derive(Debug, Clone)]
pub enum DynamicFile {
    /// A regular file.
    File {
        /// Image path.
        path: String,
        /// Contents.
        data: Vec<u8>,
        /// Mode bits.
        mode: u32,
    },
    /// A symbolic link.
    Symlink {
        /// Image path.
        path: String,
        /// Link target, verbatim.
        target: String,
    },
}

/// Path of the dynamically linked program inside [`crate::images::DYNAMIC`].
pub const DYNAMIC_PROGRAM: &str = "/usr/local/bin/hello-dyn";

const DYNAMIC_SOURCE: &str = include_str!("../assets/hello-dyn.c");

/// Compile `assets/hello-dyn.c` with the host C compiler (glibc, dynamically linked) and
/// collect what it needs at run time from the host: every shared library `ldd` lists, placed at
/// the path `ldd` printed, and the ELF interpreter as `/lib64/ld-linux-x86-64.so.2` → a relative
/// symlink to the real file under `/lib/x86_64-linux-gnu/` (the Debian layout minus merged /usr).
pub fn dynamic_program() -> &'static [DynamicFile] {
    static FILES: OnceLock<Vec<DynamicFile>> = OnceLock::new();
    FILES.get_or_init(|| {
        let dir = tempfile::tempdir().expect("tempdir");
        let source = dir.path().join("hello-dyn.c");
        std::fs::write(&source, DYNAMIC_SOURCE).expect("write C source");
        let binary = dir.path().join("hello-dyn");
        let cc = std::env::var_os("CC").unwrap_or_else(|| "cc".into());
        let output = Command::new(&cc)
            .current_dir(dir.path())
            .args([
                "-O2",
                "-Wl,--build-id=none",
                "-o",
                "hello-dyn",
                "hello-dyn.c",
            ])
            .output()
            .unwrap_or_else(|e| panic!("cannot run {cc:?} (install gcc and libc6-dev): {e}"));
        assert!(
            output.status.success(),
            "compiling hello-dyn.c failed:\n{}",
            String::from_utf8_lossy(&output.stderr)
        );
        let bytes = std::fs::read(&binary).expect("read hello-dyn");
        assert!(
            !is_static_elf(&bytes),
            "hello-dyn must be dynamically linked"
        );
        let ldd = Command::new("ldd").arg(&binary).output().expect("run ldd");
        assert!(ldd.status.success(), "ldd failed");
        let mut files = vec![DynamicFile::File {
            path: DYNAMIC_PROGRAM.to_string(),
            data: bytes,
            mode: 0o755,
        }];
        let mut interpreter_seen = false;
        for line in String::from_utf8_lossy(&ldd.stdout).lines() {
            // "libc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x...)" or
            // "/lib64/ld-linux-x86-64.so.2 (0x...)" or "linux-vdso.so.1 (0x...)".
            let path = match line.split_once("=>") {
                Some((_, rest)) => rest.split_whitespace().next(),
                None => line
                    .split_whitespace()
                    .next()
                    .filter(|p| p.starts_with('/')),
            };
            let Some(path) = path.filter(|p| p.starts_with('/')) else {
                continue;
            };
            let real = std::fs::canonicalize(path)
                .unwrap_or_else(|e| panic!("cannot resolve {path}: {e}"));
            let data = std::fs::read(&real).expect("read shared library");
            if path == "/lib64/ld-linux-x86-64.so.2" {
                interpreter_seen = true;
                let name = "ld-linux-x86-64.so.2";
                files.push(DynamicFile::File {
                    path: format!("/lib/x86_64-linux-gnu/{name}"),
                    data,
                    mode: 0o755,
                });
                files.push(DynamicFile::Symlink {
                    path: format!("/lib64/{name}"),
                    target: format!("../lib/x86_64-linux-gnu/{name}"),
                });
            } else {
                files.push(DynamicFile::File {
                    path: path.to_string(),
                    data,
                    mode: 0o644,
                });
            }
        }
        assert!(
            interpreter_seen,
            "ldd did not list /lib64/ld-linux-x86-64.so.2:\n{}",
            String::from_utf8_lossy(&ldd.stdout)
        );
        files
    })
}

/// Whether an ELF file has no `PT_INTERP` program header (static or static-pie).
pub fn is_static_elf(bytes: &[u8]) -> bool {
    let u16_at = |o: usize| {
        bytes
            .get(o..o + 2)
            .map(|b| u16::from_le_bytes([b[0], b[1]]))
    };
    let u64_at = |o: usize| {
        bytes
            .get(o..o + 8)
            .map(|b| u64::from_le_bytes(b.try_into().expect("8 bytes")))
    };
    // 64-bit little-endian ELF only (x86_64).
    if bytes.get(0..6) != Some(&[0x7f, b'E', b'L', b'F', 2, 1][..]) {
        return false;
    }
    let (Some(phoff), Some(phentsize), Some(phnum)) = (u64_at(0x20), u16_at(0x36), u16_at(0x38))
    else {
        return false;
    };
    (0..usize::from(phnum)).all(|i| {
        let offset = phoff as usize + i * usize::from(phentsize);
        let kind = bytes
            .get(offset..offset + 4)
            .map(|b| u32::from_le_bytes(b.try_into().expect("4 bytes")));
        kind != Some(3) // PT_INTERP
    })
}

/// The last `lines` lines of `text`.
pub fn tail(text: &str, lines: usize) -> String {
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detects_static_and_dynamic_elves() {
        let busybox = std::fs::read(busybox()).unwrap();
        assert!(is_static_elf(&busybox));
        let sh = std::fs::read("/bin/sh").unwrap();
        assert!(!is_static_elf(&sh), "/bin/sh on Debian is dynamic");
        assert!(!is_static_elf(b"#!/bin/sh\n"));
    }

    #[test]
    fn the_dynamic_fixture_has_its_loader() {
        let files = dynamic_program();
        let has = |p: &str| {
            files.iter().any(|f| match f {
                DynamicFile::File { path, .. } | DynamicFile::Symlink { path, .. } => path == p,
            })
        };
        assert!(has(DYNAMIC_PROGRAM));
        assert!(has("/lib64/ld-linux-x86-64.so.2"));
        assert!(has("/lib/x86_64-linux-gnu/libc.so.6"));
    }
}
