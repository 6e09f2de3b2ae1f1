//! Checks on the bootstrap binary: a 64-bit little-endian ELF executable for the image's
//! architecture, statically linked (no `PT_INTERP`: Lambda's `/` is not the image's). The
//! headers are read by `lambda_shim::elf`, the reader the shim itself launches programs with.

use std::path::Path;

use lambda_shim::elf::{self, EM_AARCH64, EM_X86_64, ET_DYN, ET_EXEC, ElfError, ElfInfo};

use super::error::PackageError;
use crate::arch::Architecture;

fn machine_name(machine: u16) -> String {
    match machine {
        EM_X86_64 => "x86_64".to_string(),
        EM_AARCH64 => "arm64".to_string(),
        other => format!("ELF machine {other}"),
    }
}

/// Check the bootstrap at `path` for `arch`; returns its size.
pub(crate) fn check_bootstrap(path: &Path, arch: Architecture) -> Result<u64, PackageError> {
    let fail = |message: String| PackageError::Bootstrap {
        path: path.to_path_buf(),
        message,
    };
    let file = std::fs::File::open(path).map_err(|e| fail(format!("cannot open: {e}")))?;
    let size = file
        .metadata()
        .map_err(|e| fail(format!("cannot stat: {e}")))?
        .len();
    let info = elf::inspect_elf(&file).map_err(|e| {
        fail(match e {
            ElfError::UnknownFormat => "not an ELF file".to_string(),
            ElfError::Unsupported(_) => "not a 64-bit little-endian ELF file".to_string(),
            other => other.to_string(),
        })
    })?;
    check_header(&info, arch).map_err(fail)?;
    Ok(size)
}

/// What the headers must say of a bootstrap for `arch`.
fn check_header(info: &ElfInfo, arch: Architecture) -> Result<(), String> {
    if !info.is_64_bit {
        return Err("not a 64-bit little-endian ELF file".to_string());
    }
    if info.kind != ET_EXEC && info.kind != ET_DYN {
        return Err("not an executable (ELF type is neither EXEC nor DYN)".to_string());
    }
    let wanted = match arch {
        Architecture::X86_64 => EM_X86_64,
        Architecture::Arm64 => EM_AARCH64,
    };
    if info.machine != wanted {
        return Err(format!(
            "built for {}, the image is {arch}",
            machine_name(info.machine)
        ));
    }
    if info.interpreter.is_some() {
        return Err(
            "dynamically linked (it has an ELF interpreter); the bootstrap must be static"
                .to_string(),
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const PT_INTERP: u32 = 3;

    /// A 64-bit LE ELF header of type `kind` and two program headers, the second a `PT_INTERP`
    /// (pointing at a loader path) when `interp`.
    fn elf(kind: u16, machine: u16, interp: bool) -> Vec<u8> {
        let mut h = vec![0u8; 64 + 56 * 2];
        h[0..4].copy_from_slice(b"\x7fELF");
        h[4] = 2;
        h[5] = 1;
        h[16..18].copy_from_slice(&kind.to_le_bytes());
        h[18..20].copy_from_slice(&machine.to_le_bytes());
        h[0x20..0x28].copy_from_slice(&64u64.to_le_bytes());
        h[0x36..0x38].copy_from_slice(&56u16.to_le_bytes());
        h[0x38..0x3a].copy_from_slice(&2u16.to_le_bytes());
        h[64..68].copy_from_slice(&1u32.to_le_bytes());
        if interp {
            let loader = b"/lib/ld.so\0";
            let at = h.len() as u64;
            h[120..124].copy_from_slice(&PT_INTERP.to_le_bytes());
            h[128..136].copy_from_slice(&at.to_le_bytes());
            h[152..160].copy_from_slice(&(loader.len() as u64).to_le_bytes());
            h.extend_from_slice(loader);
        }
        h
    }

    fn check(bytes: &[u8], arch: Architecture) -> Result<u64, String> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("bootstrap");
        std::fs::write(&path, bytes).unwrap();
        check_bootstrap(&path, arch).map_err(|e| match e {
            PackageError::Bootstrap { message, .. } => message,
            other => panic!("{other}"),
        })
    }

    #[test]
    fn reads_machine_and_interpreter() {
        let static_x86 = elf(ET_DYN, EM_X86_64, false);
        assert_eq!(
            check(&static_x86, Architecture::X86_64),
            Ok(static_x86.len() as u64)
        );
        assert!(check(&elf(ET_EXEC, EM_AARCH64, false), Architecture::Arm64).is_ok());
        let message = check(&static_x86, Architecture::Arm64).unwrap_err();
        assert!(
            message.contains("x86_64") && message.contains("arm64"),
            "{message}"
        );
        let message = check(&elf(ET_EXEC, EM_AARCH64, true), Architecture::Arm64).unwrap_err();
        assert!(message.contains("dynamically linked"), "{message}");
        let message = check(b"#!/bin/sh\n", Architecture::X86_64).unwrap_err();
        assert_eq!(message, "not an ELF file");
        assert!(check(&static_x86[..40], Architecture::X86_64).is_err());
        let mut narrow = static_x86.clone();
        narrow[4] = 1;
        let message = check(&narrow, Architecture::X86_64).unwrap_err();
        assert!(message.contains("64-bit"), "{message}");
        let message = check(&elf(1, EM_X86_64, false), Architecture::X86_64).unwrap_err();
        assert!(message.contains("not an executable"), "{message}");
        let message = check(b"", Architecture::X86_64).unwrap_err();
        assert_eq!(message, "not an ELF file");
    }
}
