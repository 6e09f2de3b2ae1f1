//! A small, bounded tar reader for untrusted layers.
//!
//! Why not the `tar` crate: it reads GNU long names and PAX headers into memory whole, whatever
//! their size, and a hostile layer can declare a multi-gigabyte long name. This reader parses
//! what OCI layers use (ustar and GNU headers, PAX `path`/`linkpath`/`size`, GNU `L`/`K` long
//! names), caps every header it buffers, validates checksums, and never allocates more than
//! [`MAX_PAX_BYTES`] for one header. Entry data is never buffered: the caller streams it.

use std::io::{self, Read};

use super::error::FlattenError;

/// The tar block size.
const BLOCK: u64 = 512;

/// Largest PAX extended header accepted (they hold a few short records in practice).
pub(crate) const MAX_PAX_BYTES: u64 = 64 * 1024;

/// One member header, with PAX and GNU long-name extensions applied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Header {
    /// The type flag (`b'0'`, `b'5'`, ...).
    pub(crate) typeflag: u8,
    /// The member path, raw bytes.
    pub(crate) path: Vec<u8>,
    /// The link target (hard and symbolic links), raw bytes.
    pub(crate) link: Vec<u8>,
    /// Permission bits from the header.
    pub(crate) mode: u32,
    /// Size of the data that follows the header.
    pub(crate) size: u64,
}

/// Types whose size field describes no data (archive/tar in Go treats them the same way).
fn header_only(typeflag: u8) -> bool {
    matches!(typeflag, b'1' | b'2' | b'3' | b'4' | b'5' | b'6')
}

/// Reads members one after the other from a tar stream.
pub(crate) struct TarReader<R> {
    inner: R,
    /// Unread data bytes of the current member.
    remaining: u64,
    /// Padding after the current member's data.
    padding: u64,
    /// Largest path or link name accepted.
    max_name: usize,
}

impl<R: Read> TarReader<R> {
    pub(crate) fn new(inner: R, max_name: usize) -> TarReader<R> {
        TarReader {
            inner,
            remaining: 0,
            padding: 0,
            max_name,
        }
    }

    /// The underlying reader (positioned after the last byte consumed).
    pub(crate) fn into_inner(self) -> R {
        self.inner
    }

    /// The next member, or `None` at the end-of-archive marker (or a clean end of stream on a
    /// block boundary). Skips whatever the caller left unread of the previous member.
    pub(crate) fn next_header(&mut self) -> Result<Option<Header>, FlattenError> {
        self.skip_rest()?;
        let mut long_name: Option<Vec<u8>> = None;
        let mut long_link: Option<Vec<u8>> = None;
        let mut pax = Pax::default();
        let mut extension_pending = false;
        loop {
            let mut block = [0u8; BLOCK as usize];
            if !self.read_block(&mut block)? {
                if extension_pending {
                    return Err(malformed("archive ends after an extension header"));
                }
                return Ok(None);
            }
            if block.iter().all(|&b| b == 0) {
                if extension_pending {
                    return Err(malformed("end-of-archive right after an extension header"));
                }
                return Ok(None);
            }
            verify_checksum(&block)?;
            let typeflag = block[156];
            let size = parse_number(&block[124..136], "size")?;
            match typeflag {
                b'L' | b'K' => {
                    let limit = self.max_name as u64 + 1;
                    if size > limit {
                        return Err(FlattenError::Limit(format!(
                            "a GNU long name of {size} bytes (limit {limit})"
                        )));
                    }
                    let mut name = self.read_extension(size)?;
                    while name.last() == Some(&0) {
                        name.pop();
                    }
                    let slot = if typeflag == b'L' {
                        &mut long_name
                    } else {
                        &mut long_link
                    };
                    if slot.replace(name).is_some() {
                        return Err(malformed("two GNU long names for one member"));
                    }
                    extension_pending = true;
                }
                b'x' => {
                    if size > MAX_PAX_BYTES {
                        return Err(FlattenError::Limit(format!(
                            "a PAX header of {size} bytes (limit {MAX_PAX_BYTES})"
                        )));
                    }
                    let data = self.read_extension(size)?;
                    pax.parse(&data)?;
                    extension_pending = true;
                }
                b'g' => {
                    // Global PAX headers carry defaults (comments, mtimes): nothing we use.
                    if size > MAX_PAX_BYTES {
                        return Err(FlattenError::Limit(format!(
                            "a global PAX header of {size} bytes (limit {MAX_PAX_BYTES})"
                        )));
                    }
                    self.read_extension(size)?;
                }
                _ => {
                    let path = match (long_name, pax.path) {
                        (_, Some(p)) => p,
                        (Some(n), None) => n,
                        (None, None) => ustar_name(&block),
                    };
                    let link = match (long_link, pax.linkpath) {
                        (_, Some(l)) => l,
                        (Some(l), None) => l,
                        (None, None) => until_nul(&block[157..257]).to_vec(),
                    };
                    if path.len() > self.max_name || link.len() > self.max_name {
                        return Err(FlattenError::Limit(format!(
                            "a member name or link target longer than {} bytes",
                            self.max_name
                        )));
                    }
                    let mut size = pax.size.unwrap_or(size);
                    if header_only(typeflag) {
                        size = 0;
                    }
                    let mode = parse_number(&block[100..108], "mode")? as u32 & 0o7777;
                    self.remaining = size;
                    self.padding = (BLOCK - size % BLOCK) % BLOCK;
                    return Ok(Some(Header {
                        typeflag,
                        path,
                        link,
                        mode,
                        size,
                    }));
                }
            }
        }
    }

    /// The data of the current member (reads at most its size).
    pub(crate) fn data(&mut self) -> Data<'_, R> {
        Data { tar: self }
    }

    fn skip_rest(&mut self) -> Result<(), FlattenError> {
        let n = self.remaining + self.padding;
        self.remaining = 0;
        self.padding = 0;
        skip(&mut self.inner, n)
    }

    /// Read one 512-byte block; `false` at a clean end of stream.
    fn read_block(&mut self, block: &mut [u8; BLOCK as usize]) -> Result<bool, FlattenError> {
        let mut filled = 0;
        while filled < block.len() {
            match self.inner.read(&mut block[filled..]) {
                Ok(0) if filled == 0 => return Ok(false),
                Ok(0) => return Err(malformed("truncated tar header")),
                Ok(n) => filled += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(FlattenError::Read(e)),
            }
        }
        Ok(true)
    }

    /// Read an extension header's (bounded) data and its padding.
    fn read_extension(&mut self, size: u64) -> Result<Vec<u8>, FlattenError> {
        let mut data = Vec::with_capacity(size as usize);
        let read = (&mut self.inner)
            .take(size)
            .read_to_end(&mut data)
            .map_err(FlattenError::Read)?;
        if (read as u64) < size {
            return Err(malformed("truncated extension header"));
        }
        skip(&mut self.inner, (BLOCK - size % BLOCK) % BLOCK)?;
        Ok(data)
    }
}

/// Reader over the current member's data.
pub(crate) struct Data<'a, R> {
    tar: &'a mut TarReader<R>,
}

impl<R: Read> Read for Data<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.tar.remaining == 0 || buf.is_empty() {
            return Ok(0);
        }
        let want = buf
            .len()
            .min(usize::try_from(self.tar.remaining).unwrap_or(usize::MAX));
        let n = self.tar.inner.read(&mut buf[..want])?;
        if n == 0 {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "tar member data is truncated",
            ));
        }
        self.tar.remaining -= n as u64;
        Ok(n)
    }
}

#[derive(Default)]
struct Pax {
    path: Option<Vec<u8>>,
    linkpath: Option<Vec<u8>>,
    size: Option<u64>,
}

impl Pax {
    /// Parse `"<len> <key>=<value>\n"` records.
    fn parse(&mut self, mut data: &[u8]) -> Result<(), FlattenError> {
        while !data.is_empty() {
            let space = data
                .iter()
                .position(|&b| b == b' ')
                .ok_or_else(|| malformed("PAX record without a length"))?;
            let len: usize = std::str::from_utf8(&data[..space])
                .ok()
                .and_then(|s| s.parse().ok())
                .ok_or_else(|| malformed("PAX record with a bad length"))?;
            if len <= space + 1 || len > data.len() || data[len - 1] != b'\n' {
                return Err(malformed("PAX record length does not match its content"));
            }
            let record = &data[space + 1..len - 1];
            let eq = record
                .iter()
                .position(|&b| b == b'=')
                .ok_or_else(|| malformed("PAX record without '='"))?;
            let (key, value) = (&record[..eq], &record[eq + 1..]);
            match key {
                b"path" => self.path = Some(value.to_vec()),
                b"linkpath" => self.linkpath = Some(value.to_vec()),
                b"size" => {
                    let size = std::str::from_utf8(value)
                        .ok()
                        .and_then(|s| s.parse().ok())
                        .ok_or_else(|| malformed("PAX size is not a number"))?;
                    self.size = Some(size);
                }
                _ => {}
            }
            data = &data[len..];
        }
        Ok(())
    }
}

fn malformed(message: &str) -> FlattenError {
    FlattenError::Malformed(message.to_string())
}

fn skip<R: Read>(r: &mut R, n: u64) -> Result<(), FlattenError> {
    if n == 0 {
        return Ok(());
    }
    let copied = io::copy(&mut r.take(n), &mut io::sink()).map_err(FlattenError::Read)?;
    if copied < n {
        return Err(malformed("tar member data is truncated"));
    }
    Ok(())
}

fn until_nul(field: &[u8]) -> &[u8] {
    match field.iter().position(|&b| b == 0) {
        Some(end) => &field[..end],
        None => field,
    }
}

/// `prefix/name` for POSIX ustar headers, `name` otherwise (GNU uses the prefix area for times).
fn ustar_name(block: &[u8; BLOCK as usize]) -> Vec<u8> {
    let name = until_nul(&block[0..100]);
    let posix = &block[257..263] == b"ustar\0";
    let prefix = if posix {
        until_nul(&block[345..500])
    } else {
        &[]
    };
    if prefix.is_empty() {
        name.to_vec()
    } else {
        let mut full = prefix.to_vec();
        full.push(b'/');
        full.extend_from_slice(name);
        full
    }
}

/// Octal (NUL/space padded) or GNU base-256 (high bit set) numbers.
fn parse_number(field: &[u8], what: &str) -> Result<u64, FlattenError> {
    if field.first().is_some_and(|b| b & 0x80 != 0) {
        if field[0] == 0xff {
            return Err(FlattenError::Malformed(format!("negative tar {what}")));
        }
        let mut value: u64 = u64::from(field[0] & 0x7f);
        for &b in &field[1..] {
            value = value
                .checked_mul(256)
                .and_then(|v| v.checked_add(u64::from(b)))
                .ok_or_else(|| FlattenError::Malformed(format!("tar {what} overflows")))?;
        }
        return Ok(value);
    }
    let mut value: u64 = 0;
    let mut seen_digit = false;
    for &b in field {
        match b {
            b'0'..=b'7' => {
                seen_digit = true;
                value = value
                    .checked_mul(8)
                    .and_then(|v| v.checked_add(u64::from(b - b'0')))
                    .ok_or_else(|| FlattenError::Malformed(format!("tar {what} overflows")))?;
            }
            b' ' | 0 if !seen_digit => {}
            b' ' | 0 => break,
            _ => return Err(FlattenError::Malformed(format!("tar {what} is not octal"))),
        }
    }
    Ok(value)
}

fn verify_checksum(block: &[u8; BLOCK as usize]) -> Result<(), FlattenError> {
    let stored = parse_number(&block[148..156], "checksum")?;
    let mut unsigned: u64 = 0;
    let mut signed: i64 = 0;
    for (i, &b) in block.iter().enumerate() {
        let b = if (148..156).contains(&i) { b' ' } else { b };
        unsigned += u64::from(b);
        signed += i64::from(b as i8);
    }
    if stored == unsigned || i64::try_from(stored).is_ok_and(|s| s == signed) {
        Ok(())
    } else {
        Err(malformed(
            "tar header checksum mismatch (not a tar stream?)",
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(name: &str, kind: u8, size: u64) -> [u8; 512] {
        let mut h = [0u8; 512];
        h[..name.len()].copy_from_slice(name.as_bytes());
        h[100..107].copy_from_slice(b"0000644");
        h[124..135].copy_from_slice(format!("{size:011o}").as_bytes());
        h[156] = kind;
        h[257..263].copy_from_slice(b"ustar\0");
        h[263..265].copy_from_slice(b"00");
        h[148..156].copy_from_slice(b"        ");
        let sum: u32 = h.iter().map(|&b| u32::from(b)).sum();
        h[148..155].copy_from_slice(format!("{sum:06o}\0").as_bytes());
        h
    }

    fn padded(data: &[u8]) -> Vec<u8> {
        let mut v = data.to_vec();
        v.resize(data.len().div_ceil(512) * 512, 0);
        v
    }

    #[test]
    fn reads_members_pax_and_gnu_long_names() {
        let mut tar = Vec::new();
        tar.extend_from_slice(&header("a.txt", b'0', 5));
        tar.extend(padded(b"hello"));
        let long = "d/".repeat(80) + "f";
        let pax = format!("{} path={long}\n", long.len() + 7 + 3);
        assert_eq!(pax.len(), long.len() + 10);
        tar.extend_from_slice(&header("PaxHeader", b'x', pax.len() as u64));
        tar.extend(padded(pax.as_bytes()));
        tar.extend_from_slice(&header("short", b'0', 0));
        tar.extend_from_slice(&header("././@LongLink", b'L', 4));
        tar.extend(padded(b"gnu\0"));
        tar.extend_from_slice(&header("x", b'5', 0));
        tar.extend_from_slice(&[0u8; 1024]);
        let mut r = TarReader::new(&tar[..], 4096);
        let a = r.next_header().unwrap().unwrap();
        assert_eq!(
            (a.path.as_slice(), a.size, a.mode),
            (&b"a.txt"[..], 5, 0o644)
        );
        let mut data = Vec::new();
        r.data().read_to_end(&mut data).unwrap();
        assert_eq!(data, b"hello");
        assert_eq!(r.next_header().unwrap().unwrap().path, long.as_bytes());
        let gnu = r.next_header().unwrap().unwrap();
        assert_eq!((gnu.path.as_slice(), gnu.typeflag), (&b"gnu"[..], b'5'));
        assert!(r.next_header().unwrap().is_none());
    }

    #[test]
    fn refuses_bad_checksums_and_huge_long_names() {
        let mut h = header("a", b'0', 0);
        h[0] = b'b';
        assert!(matches!(
            TarReader::new(&h[..], 4096).next_header(),
            Err(FlattenError::Malformed(_))
        ));
        let mut h = header("././@LongLink", b'L', 0);
        // base-256 size (2^40), checksum recomputed.
        h[124..136].copy_from_slice(&[0x80, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0]);
        h[148..156].copy_from_slice(b"        ");
        let sum: u32 = h.iter().map(|&b| u32::from(b)).sum();
        h[148..155].copy_from_slice(format!("{sum:06o}\0").as_bytes());
        assert!(matches!(
            TarReader::new(&h[..], 4096).next_header(),
            Err(FlattenError::Limit(_))
        ));
    }

    #[test]
    fn numbers_octal_and_base256() {
        assert_eq!(parse_number(b"0000644 \0", "m").unwrap(), 0o644);
        assert_eq!(parse_number(b"\0\0\0", "m").unwrap(), 0);
        let mut b = [0u8; 12];
        b[0] = 0x80;
        b[11] = 5;
        b[10] = 1;
        assert_eq!(parse_number(&b, "s").unwrap(), 261);
        assert!(parse_number(b"12x", "m").is_err());
    }
}
