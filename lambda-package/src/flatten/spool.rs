//! The spool: one unnamed, append-only temporary file holding the bytes of every regular file
//! of every layer, back to back. Entry names never become file names; the only thing written
//! to disk is this file (in the work directory, deleted by the OS when it is closed).

use std::fs::File;
use std::io::{self, BufWriter, Read, Write};
use std::os::unix::fs::FileExt;
use std::path::Path;

use super::tree::Content;

pub(crate) struct Spool {
    writer: BufWriter<File>,
    /// Bytes written so far (the offset of the next file).
    len: u64,
    /// Most bytes the spool may hold.
    limit: u64,
}

/// Why appending failed.
pub(crate) enum AppendError {
    /// Reading the entry's data failed.
    Read(io::Error),
    /// Writing the spool failed.
    Write(io::Error),
    /// The file is larger than allowed, or the spool would exceed its limit.
    Limit(String),
}

impl Spool {
    pub(crate) fn new(dir: &Path, limit: u64) -> io::Result<Spool> {
        let file = tempfile::tempfile_in(dir)?;
        Ok(Spool {
            writer: BufWriter::with_capacity(256 * 1024, file),
            len: 0,
            limit,
        })
    }

    /// Copy `data` to the end of the spool; at most `max_file` bytes.
    pub(crate) fn append(
        &mut self,
        data: &mut impl Read,
        max_file: u64,
        executable: bool,
    ) -> Result<Content, AppendError> {
        let offset = self.len;
        let mut buf = [0u8; 64 * 1024];
        let mut len: u64 = 0;
        loop {
            let n = match data.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(AppendError::Read(e)),
            };
            len += n as u64;
            if len > max_file {
                return Err(AppendError::Limit(format!(
                    "a file larger than {max_file} bytes"
                )));
            }
            if self.len + n as u64 > self.limit {
                return Err(AppendError::Limit(format!(
                    "more than {} bytes of file data across all layers",
                    self.limit
                )));
            }
            self.writer
                .write_all(&buf[..n])
                .map_err(AppendError::Write)?;
            self.len += n as u64;
        }
        Ok(Content {
            offset,
            len,
            executable,
        })
    }

    /// Bytes spooled so far.
    pub(crate) fn len(&self) -> u64 {
        self.len
    }

    /// Flush and hand back the file for reading.
    pub(crate) fn finish(self) -> io::Result<File> {
        self.writer.into_inner().map_err(|e| e.into_error())
    }
}

/// Reads one file's bytes back from the spool (positional reads: no shared cursor).
pub struct SpoolReader<'a> {
    file: &'a File,
    pos: u64,
    end: u64,
}

impl<'a> SpoolReader<'a> {
    pub(crate) fn new(file: &'a File, content: Content) -> SpoolReader<'a> {
        SpoolReader {
            file,
            pos: content.offset,
            end: content.offset + content.len,
        }
    }
}

impl Read for SpoolReader<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let left = self.end - self.pos;
        if left == 0 || buf.is_empty() {
            return Ok(0);
        }
        let want = buf.len().min(usize::try_from(left).unwrap_or(usize::MAX));
        let n = self.file.read_at(&mut buf[..want], self.pos)?;
        if n == 0 {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "the spool file is shorter than recorded",
            ));
        }
        self.pos += n as u64;
        Ok(n)
    }
}
