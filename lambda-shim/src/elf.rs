//! Just enough of an ELF/script header reader to launch a program from a relocated rootfs (the
//! machine, the `PT_INTERP` loader path, or a `#!` line) and to check a `bootstrap` before it is
//! packaged (64-bit, an executable, static). Safe code, little-endian ELF only (every Lambda
//! architecture is little-endian), 32- and 64-bit.

use std::fs::File;
use std::io;
use std::os::unix::fs::FileExt;
use std::path::Path;

/// `e_machine` of x86_64.
pub const EM_X86_64: u16 = 62;
/// `e_machine` of aarch64.
pub const EM_AARCH64: u16 = 183;

/// `e_type` of an executable.
pub const ET_EXEC: u16 = 2;
/// `e_type` of a position-independent executable (or shared object).
pub const ET_DYN: u16 = 3;

const PT_INTERP: u32 = 3;
/// Upper bound of the program header table read (real tables are a few hundred bytes).
const MAX_PHDR_TABLE: u64 = 64 * 1024;
/// Upper bound of an interpreter path.
const MAX_INTERP: u64 = 4096;
/// The kernel reads at most this much of a `#!` line (BINPRM_BUF_SIZE).
const SHEBANG_MAX: usize = 256;

/// What kind of executable a file is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Executable {
    /// An ELF file: its machine and, when dynamically linked, its loader path.
    Elf {
        /// `e_machine` ([`EM_X86_64`], [`EM_AARCH64`]...).
        machine: u16,
        /// The `PT_INTERP` path (e.g. `/lib64/ld-linux-x86-64.so.2`), `None` when static.
        interpreter: Option<String>,
    },
    /// A `#!` script: the interpreter and its optional single argument (Linux semantics: the
    /// rest of the line after the interpreter, trimmed, is one argument).
    Script {
        /// The interpreter path as written.
        interpreter: String,
        /// The optional argument.
        argument: Option<String>,
    },
}

/// What an ELF file's headers say.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ElfInfo {
    /// 64-bit (`ELFCLASS64`); `false` for 32-bit.
    pub is_64_bit: bool,
    /// `e_type` ([`ET_EXEC`], [`ET_DYN`]...).
    pub kind: u16,
    /// `e_machine` ([`EM_X86_64`], [`EM_AARCH64`]...).
    pub machine: u16,
    /// The `PT_INTERP` path (e.g. `/lib64/ld-linux-x86-64.so.2`), `None` when static.
    pub interpreter: Option<String>,
}

/// Why a file is not a launchable executable.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ElfError {
    /// Reading failed.
    #[error("cannot read: {0}")]
    Io(#[from] io::Error),
    /// Neither ELF nor `#!`.
    #[error("not an ELF executable or a #! script")]
    UnknownFormat,
    /// An ELF we do not handle (big-endian, bad class).
    #[error("unsupported ELF: {0}")]
    Unsupported(&'static str),
    /// Truncated or inconsistent headers.
    #[error("malformed ELF: {0}")]
    Malformed(&'static str),
    /// A `#!` line without an interpreter, or not valid UTF-8.
    #[error("malformed #! line")]
    BadShebang,
}

fn read_at(file: &File, offset: u64, len: usize) -> Result<Vec<u8>, ElfError> {
    let mut buf = vec![0u8; len];
    let mut filled = 0;
    while filled < len {
        let n = file.read_at(&mut buf[filled..], offset + filled as u64)?;
        if n == 0 {
            return Err(ElfError::Malformed("truncated"));
        }
        filled += n;
    }
    Ok(buf)
}

fn u16_le(b: &[u8], at: usize) -> Result<u16, ElfError> {
    b.get(at..at + 2)
        .map(|s| u16::from_le_bytes([s[0], s[1]]))
        .ok_or(ElfError::Malformed("short header"))
}

fn u32_le(b: &[u8], at: usize) -> Result<u32, ElfError> {
    b.get(at..at + 4)
        .map(|s| u32::from_le_bytes([s[0], s[1], s[2], s[3]]))
        .ok_or(ElfError::Malformed("short header"))
}

fn u64_le(b: &[u8], at: usize) -> Result<u64, ElfError> {
    b.get(at..at + 8)
        .map(|s| {
            let mut a = [0u8; 8];
            a.copy_from_slice(s);
            u64::from_le_bytes(a)
        })
        .ok_or(ElfError::Malformed("short header"))
}

fn read_head(file: &File) -> Result<([u8; 64], usize), ElfError> {
    let mut head = [0u8; 64];
    let mut len = 0;
    while len < head.len() {
        let n = file.read_at(&mut head[len..], len as u64)?;
        if n == 0 {
            break;
        }
        len += n;
    }
    Ok((head, len))
}

/// Inspect the file at `path`.
pub fn inspect(path: &Path) -> Result<Executable, ElfError> {
    let file = File::open(path)?;
    let (head, len) = read_head(&file)?;
    let head = &head[..len];
    if head.starts_with(b"#!") {
        return parse_shebang(&file);
    }
    let ElfInfo {
        machine,
        interpreter,
        ..
    } = parse_elf(&file, head)?;
    Ok(Executable::Elf {
        machine,
        interpreter,
    })
}

/// Read the ELF headers of `file` ([`ElfError::UnknownFormat`] for anything else, `#!` scripts
/// included).
pub fn inspect_elf(file: &File) -> Result<ElfInfo, ElfError> {
    let (head, len) = read_head(file)?;
    parse_elf(file, &head[..len])
}

fn parse_shebang(file: &File) -> Result<Executable, ElfError> {
    let mut buf = vec![0u8; SHEBANG_MAX];
    let n = file.read_at(&mut buf, 0)?;
    buf.truncate(n);
    let line_end = buf.iter().position(|b| *b == b'\n').unwrap_or(buf.len());
    let line = std::str::from_utf8(&buf[2..line_end]).map_err(|_| ElfError::BadShebang)?;
    let line = line.trim_matches(|c: char| c == ' ' || c == '\t' || c == '\r');
    let (interpreter, argument) = match line.find([' ', '\t']) {
        Some(i) => {
            let arg = line[i..].trim_matches(|c: char| c == ' ' || c == '\t');
            (&line[..i], (!arg.is_empty()).then(|| arg.to_string()))
        }
        None => (line, None),
    };
    if interpreter.is_empty() {
        return Err(ElfError::BadShebang);
    }
    Ok(Executable::Script {
        interpreter: interpreter.to_string(),
        argument,
    })
}

fn parse_elf(file: &File, head: &[u8]) -> Result<ElfInfo, ElfError> {
    if !head.starts_with(b"\x7fELF") {
        return Err(ElfError::UnknownFormat);
    }
    let class = *head.get(4).ok_or(ElfError::Malformed("short header"))?;
    let data = *head.get(5).ok_or(ElfError::Malformed("short header"))?;
    if data != 1 {
        return Err(ElfError::Unsupported("big-endian"));
    }
    let kind = u16_le(head, 16)?;
    let machine = u16_le(head, 18)?;
    // (e_phoff, e_phentsize, e_phnum) and, per program header, (p_offset, p_filesz) offsets.
    let (phoff, phentsize, phnum, off_at, size_at, wide) = match class {
        2 => (
            u64_le(head, 32)?,
            u16_le(head, 54)?,
            u16_le(head, 56)?,
            8,
            32,
            true,
        ),
        1 => (
            u64::from(u32_le(head, 28)?),
            u16_le(head, 42)?,
            u16_le(head, 44)?,
            4,
            16,
            false,
        ),
        _ => return Err(ElfError::Unsupported("unknown ELF class")),
    };
    let min_entry = if wide { 56 } else { 32 };
    if phnum == 0 {
        return Ok(ElfInfo {
            is_64_bit: wide,
            kind,
            machine,
            interpreter: None,
        });
    }
    if usize::from(phentsize) < min_entry {
        return Err(ElfError::Malformed("program header entry too small"));
    }
    let table_len = u64::from(phentsize) * u64::from(phnum);
    if table_len > MAX_PHDR_TABLE {
        return Err(ElfError::Malformed("program header table too large"));
    }
    let table = read_at(file, phoff, table_len as usize)?;
    for entry in table.chunks_exact(usize::from(phentsize)) {
        if u32_le(entry, 0)? != PT_INTERP {
            continue;
        }
        let (offset, size) = if wide {
            (u64_le(entry, off_at)?, u64_le(entry, size_at)?)
        } else {
            (
                u64::from(u32_le(entry, off_at)?),
                u64::from(u32_le(entry, size_at)?),
            )
        };
        if size == 0 || size > MAX_INTERP {
            return Err(ElfError::Malformed("bad PT_INTERP size"));
        }
        let raw = read_at(file, offset, size as usize)?;
        let end = raw.iter().position(|b| *b == 0).unwrap_or(raw.len());
        let interp = std::str::from_utf8(&raw[..end])
            .map_err(|_| ElfError::Malformed("PT_INTERP is not UTF-8"))?;
        if interp.is_empty() {
            return Err(ElfError::Malformed("empty PT_INTERP"));
        }
        return Ok(ElfInfo {
            is_64_bit: wide,
            kind,
            machine,
            interpreter: Some(interp.to_string()),
        });
    }
    Ok(ElfInfo {
        is_64_bit: wide,
        kind,
        machine,
        interpreter: None,
    })
}

/// The `e_machine` of the architecture this binary runs on.
pub fn host_machine() -> Option<u16> {
    match std::env::consts::ARCH {
        "x86_64" => Some(EM_X86_64),
        "aarch64" => Some(EM_AARCH64),
        _ => None,
    }
}

/// The Debian multiarch triplet for a machine (`x86_64-linux-gnu`).
pub fn multiarch_triplet(machine: u16) -> Option<&'static str> {
    match machine {
        EM_X86_64 => Some("x86_64-linux-gnu"),
        EM_AARCH64 => Some("aarch64-linux-gnu"),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A minimal 64-bit LE ELF header + program headers, with an optional PT_INTERP.
    fn elf64(machine: u16, interp: Option<&str>) -> Vec<u8> {
        let phnum: u16 = 2;
        let mut b = vec![0u8; 64];
        b[..4].copy_from_slice(b"\x7fELF");
        b[4] = 2;
        b[5] = 1;
        b[6] = 1;
        b[18..20].copy_from_slice(&machine.to_le_bytes());
        b[32..40].copy_from_slice(&64u64.to_le_bytes());
        b[54..56].copy_from_slice(&56u16.to_le_bytes());
        b[56..58].copy_from_slice(&phnum.to_le_bytes());
        let interp_off = 64 + 56 * u64::from(phnum);
        // PT_LOAD first, then PT_INTERP (or another PT_LOAD).
        let mut load = vec![0u8; 56];
        load[0..4].copy_from_slice(&1u32.to_le_bytes());
        b.extend_from_slice(&load);
        let mut ph = vec![0u8; 56];
        let kind = if interp.is_some() { PT_INTERP } else { 1 };
        ph[0..4].copy_from_slice(&kind.to_le_bytes());
        ph[8..16].copy_from_slice(&interp_off.to_le_bytes());
        let size = interp.map_or(0, |i| i.len() as u64 + 1);
        ph[32..40].copy_from_slice(&size.to_le_bytes());
        b.extend_from_slice(&ph);
        if let Some(i) = interp {
            b.extend_from_slice(i.as_bytes());
            b.push(0);
        }
        b
    }

    fn inspect_bytes(bytes: &[u8]) -> Result<Executable, ElfError> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f");
        std::fs::write(&path, bytes).unwrap();
        inspect(&path)
    }

    #[test]
    fn synthetic_headers() {
        assert_eq!(
            inspect_bytes(&elf64(EM_AARCH64, Some("/lib/ld-linux-aarch64.so.1"))).unwrap(),
            Executable::Elf {
                machine: EM_AARCH64,
                interpreter: Some("/lib/ld-linux-aarch64.so.1".into())
            }
        );
        assert_eq!(
            inspect_bytes(&elf64(EM_X86_64, None)).unwrap(),
            Executable::Elf {
                machine: EM_X86_64,
                interpreter: None
            }
        );
        let mut big_endian = elf64(EM_X86_64, None);
        big_endian[5] = 2;
        assert!(matches!(
            inspect_bytes(&big_endian),
            Err(ElfError::Unsupported(_))
        ));
        let full = elf64(EM_X86_64, Some("/lib/ld.so"));
        assert!(matches!(
            inspect_bytes(&full[..100]),
            Err(ElfError::Malformed(_))
        ));
        assert!(matches!(
            inspect_bytes(b"MZ\x90\x00"),
            Err(ElfError::UnknownFormat)
        ));
        assert!(matches!(inspect_bytes(b""), Err(ElfError::UnknownFormat)));
    }

    #[test]
    fn elf_headers_for_packaging() {
        let info = |bytes: &[u8]| {
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join("f");
            std::fs::write(&path, bytes).unwrap();
            inspect_elf(&File::open(&path).unwrap())
        };
        let mut pie = elf64(EM_X86_64, None);
        pie[16..18].copy_from_slice(&ET_DYN.to_le_bytes());
        assert_eq!(
            info(&pie).unwrap(),
            ElfInfo {
                is_64_bit: true,
                kind: ET_DYN,
                machine: EM_X86_64,
                interpreter: None
            }
        );
        let mut dynamic = elf64(EM_AARCH64, Some("/lib/ld-linux-aarch64.so.1"));
        dynamic[16..18].copy_from_slice(&ET_EXEC.to_le_bytes());
        assert_eq!(
            info(&dynamic).unwrap(),
            ElfInfo {
                is_64_bit: true,
                kind: ET_EXEC,
                machine: EM_AARCH64,
                interpreter: Some("/lib/ld-linux-aarch64.so.1".into())
            }
        );
        let mut narrow = elf64(EM_X86_64, None);
        narrow[4] = 1;
        assert!(!info(&narrow[..64]).unwrap().is_64_bit);
        // A script is not an ELF file here; a header cut short is malformed.
        assert!(matches!(info(b"#!/bin/sh\n"), Err(ElfError::UnknownFormat)));
        assert!(matches!(
            info(&elf64(EM_X86_64, None)[..40]),
            Err(ElfError::Malformed(_))
        ));
    }

    #[test]
    fn real_binaries_of_the_host() {
        // The shim's own test binary is dynamically linked on this host (glibc).
        let me = std::env::current_exe().unwrap();
        match inspect(&me).unwrap() {
            Executable::Elf {
                machine,
                interpreter,
            } => {
                assert_eq!(Some(machine), host_machine());
                assert!(interpreter.unwrap().contains("ld-"));
            }
            other => panic!("{other:?}"),
        }
        // Debian's busybox-static (the test images need it too).
        assert!(matches!(
            inspect(Path::new("/bin/busybox")).unwrap(),
            Executable::Elf {
                interpreter: None,
                ..
            }
        ));
    }

    #[test]
    fn shebang_lines() {
        assert_eq!(
            inspect_bytes(b"#!/bin/sh\necho hi\n").unwrap(),
            Executable::Script {
                interpreter: "/bin/sh".into(),
                argument: None
            }
        );
        assert_eq!(
            inspect_bytes(b"#! /usr/bin/env  python3 -u \r\n").unwrap(),
            Executable::Script {
                interpreter: "/usr/bin/env".into(),
                argument: Some("python3 -u".into())
            }
        );
        assert!(matches!(inspect_bytes(b"#!\n"), Err(ElfError::BadShebang)));
    }
}
