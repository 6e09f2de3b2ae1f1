//! Checks on the bootstrap binary: a 64-bit little-endian ELF executable for the image's
//! architecture, statically linked (no `PT_INTERP`: Lambda's `/` is not the image's).

use std::io::Read;
use std::path::Path;

use super::error::PackageError;
use crate::arch::Architecture;

const EM_X86_64: u16 = 62;
const EM_AARCH64: u16 = 183;
const PT_INTERP: u32 = 3;

fn machine_name(machine: u16) -> String {
    match machine {
        EM_X86_64 => "x86_64".to_string(),
        EM_AARCH64 => "arm64".to_string(),
        other => format!("ELF machine {other}"),
    }
}

/// What the header says: machine and whether it has an ELF interpreter.
pub(crate) fn inspect(head: &[u8]) -> Result<(u16, bool), String> {
    if head.get(0..4) != Some(b"\x7fELF") {
        return Err("not an ELF file".to_string());
    }
    if head.get(4) != Some(&2) || head.get(5) != Some(&1) {
        return Err("not a 64-bit little-endian ELF file".to_string());
    }
    let u16_at = |o: usize| head.get(o..o + 2).map(|b| u16::from_le_bytes([b[0], b[1]]));
    let u32_at = |o: usize| {
        head.get(o..o + 4)
            .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    };
    let u64_at = |o: usize| {
        head.get(o..o + 8)
            .map(|b| u64::from_le_bytes(b.try_into().expect("8 bytes")))
    };
    let truncated = || "truncated ELF header".to_string();
    let kind = u16_at(16).ok_or_else(truncated)?;
    if kind != 2 && kind != 3 {
        return Err("not an executable (ELF type is neither EXEC nor DYN)".to_string());
    }
    let machine = u16_at(18).ok_or_else(truncated)?;
    let phoff = u64_at(0x20).ok_or_else(truncated)?;
    let phentsize = u16_at(0x36).ok_or_else(truncated)?;
    let phnum = u16_at(0x38).ok_or_else(truncated)?;
    let mut interp = false;
    for i in 0..u64::from(phnum) {
        let offset = phoff
            .checked_add(i * u64::from(phentsize))
            .and_then(|o| usize::try_from(o).ok())
            .ok_or_else(truncated)?;
        let kind = u32_at(offset)
            .ok_or_else(|| "program headers lie beyond the first 64 KiB".to_string())?;
        interp |= kind == PT_INTERP;
    }
    Ok((machine, interp))
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
    let mut head = Vec::with_capacity(64 * 1024);
    file.take(64 * 1024)
        .read_to_end(&mut head)
        .map_err(|e| fail(format!("cannot read: {e}")))?;
    let (machine, interp) = inspect(&head).map_err(fail)?;
    let wanted = match arch {
        Architecture::X86_64 => EM_X86_64,
        Architecture::Arm64 => EM_AARCH64,
    };
    if machine != wanted {
        return Err(fail(format!(
            "built for {}, the image is {arch}",
            machine_name(machine)
        )));
    }
    if interp {
        return Err(fail(
            "dynamically linked (it has an ELF interpreter); the bootstrap must be static"
                .to_string(),
        ));
    }
    Ok(size)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn elf(machine: u16, interp: bool) -> Vec<u8> {
        let mut h = vec![0u8; 64 + 56 * 2];
        h[0..4].copy_from_slice(b"\x7fELF");
        h[4] = 2;
        h[5] = 1;
        h[16..18].copy_from_slice(&3u16.to_le_bytes());
        h[18..20].copy_from_slice(&machine.to_le_bytes());
        h[0x20..0x28].copy_from_slice(&64u64.to_le_bytes());
        h[0x36..0x38].copy_from_slice(&56u16.to_le_bytes());
        h[0x38..0x3a].copy_from_slice(&2u16.to_le_bytes());
        h[64..68].copy_from_slice(&1u32.to_le_bytes());
        if interp {
            h[120..124].copy_from_slice(&PT_INTERP.to_le_bytes());
        }
        h
    }

    #[test]
    fn reads_machine_and_interpreter() {
        assert_eq!(inspect(&elf(EM_X86_64, false)), Ok((EM_X86_64, false)));
        assert_eq!(inspect(&elf(EM_AARCH64, true)), Ok((EM_AARCH64, true)));
        assert!(inspect(b"#!/bin/sh\n").is_err());
        assert!(inspect(&elf(EM_X86_64, false)[..40]).is_err());
    }
}
