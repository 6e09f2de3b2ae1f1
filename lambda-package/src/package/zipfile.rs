//! Writing the Lambda zip: `bootstrap` (0755), `faas-launch.json` (0644), then `rootfs/`
//! walked depth first (directories 0755, files 0644/0755, symlinks as symlink entries whose
//! data is the relative target). Unix modes go in the external attributes (`mode << 16`, made
//! by Unix); timestamps are fixed (1980-01-01) so the same image gives the same zip.

use std::fs::File;
use std::io::{self, BufWriter, Seek, SeekFrom, Write};
use std::path::Path;

use lambda_shim::spec::{LAUNCH_SPEC_FILE, ROOTFS_DIR};
use zip::write::SimpleFileOptions;
use zip::{CompressionMethod, DateTime, ZipWriter};

use super::error::PackageError;
use super::progress::Progress;
use crate::flatten::{RootEntry, Rootfs};

/// What was written.
pub(crate) struct Written {
    pub(crate) zipped_bytes: u64,
}

/// Marks the error of a write past the zipped-size cap.
#[derive(Debug)]
struct ZippedLimit(u64);

impl std::fmt::Display for ZippedLimit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "the zip grows past {} bytes", self.0)
    }
}

impl std::error::Error for ZippedLimit {}

/// A file writer that refuses to grow past a cap.
struct Capped {
    inner: BufWriter<File>,
    pos: u64,
    end: u64,
    limit: u64,
    poisoned: bool,
}

impl Write for Capped {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if self.poisoned {
            // The package already failed; let ZipWriter's drop finish quietly (the partial
            // file is deleted anyway).
            return Ok(buf.len());
        }
        if self.pos + buf.len() as u64 > self.limit {
            self.poisoned = true;
            return Err(io::Error::other(ZippedLimit(self.limit)));
        }
        let n = self.inner.write(buf)?;
        self.pos += n as u64;
        self.end = self.end.max(self.pos);
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

impl Seek for Capped {
    fn seek(&mut self, pos: SeekFrom) -> io::Result<u64> {
        self.pos = self.inner.seek(pos)?;
        Ok(self.pos)
    }
}

/// Counts bytes copied into the zip for the progress bar.
struct Counting<'a, W> {
    inner: W,
    progress: &'a Progress,
}

impl<W: Write> Write for Counting<'_, W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.progress.zip_bytes(n as u64);
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

fn zip_error(e: zip::result::ZipError) -> PackageError {
    match e {
        zip::result::ZipError::Io(io) => io_error(io),
        other => PackageError::io("writing the zip", io::Error::other(other.to_string())),
    }
}

fn io_error(e: io::Error) -> PackageError {
    if let Some(limit) = e.get_ref().and_then(|i| i.downcast_ref::<ZippedLimit>()) {
        PackageError::TooBig(limit.to_string())
    } else {
        PackageError::io("writing the zip", e)
    }
}

/// Write the package to a temporary file next to `out`, then rename it over `out`.
pub(crate) fn write_package(
    out: &Path,
    bootstrap: &Path,
    spec_json: &[u8],
    rootfs: &Rootfs,
    level: u32,
    max_zipped: u64,
    progress: &Progress,
) -> Result<Written, PackageError> {
    let dir = match out.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let temp = tempfile::Builder::new()
        .prefix(".faas-lambda-")
        .suffix(".zip.partial")
        .tempfile_in(dir)
        .map_err(|e| PackageError::io(format!("creating a file in {}", dir.display()), e))?;
    let file = temp
        .as_file()
        .try_clone()
        .map_err(|e| PackageError::io("opening the zip", e))?;
    let capped = Capped {
        inner: BufWriter::with_capacity(256 * 1024, file),
        pos: 0,
        end: 0,
        limit: max_zipped,
        poisoned: false,
    };
    let mut zip = ZipWriter::new(capped);
    let file_options = SimpleFileOptions::default()
        .compression_method(CompressionMethod::Deflated)
        .compression_level(Some(i64::from(level.clamp(1, 9))))
        .last_modified_time(DateTime::default());
    let dir_options = SimpleFileOptions::default()
        .last_modified_time(DateTime::default())
        .unix_permissions(0o755);
    let link_options = SimpleFileOptions::default()
        .last_modified_time(DateTime::default())
        .unix_permissions(0o777);

    zip.start_file("bootstrap", file_options.unix_permissions(0o755))
        .map_err(zip_error)?;
    let mut shim = File::open(bootstrap).map_err(|e| PackageError::Bootstrap {
        path: bootstrap.to_path_buf(),
        message: format!("cannot open: {e}"),
    })?;
    io::copy(
        &mut shim,
        &mut Counting {
            inner: &mut zip,
            progress,
        },
    )
    .map_err(io_error)?;

    zip.start_file(LAUNCH_SPEC_FILE, file_options.unix_permissions(0o644))
        .map_err(zip_error)?;
    zip.write_all(spec_json).map_err(io_error)?;

    zip.add_directory(format!("{ROOTFS_DIR}/"), dir_options)
        .map_err(zip_error)?;
    rootfs.walk(|path, entry| {
        let name = format!("{ROOTFS_DIR}/{path}");
        match entry {
            RootEntry::Dir => zip
                .add_directory(format!("{name}/"), dir_options)
                .map_err(zip_error),
            RootEntry::File(data) => {
                zip.start_file(name, file_options.unix_permissions(data.mode()))
                    .map_err(zip_error)?;
                io::copy(
                    &mut rootfs.open(data),
                    &mut Counting {
                        inner: &mut zip,
                        progress,
                    },
                )
                .map_err(io_error)?;
                Ok(())
            }
            RootEntry::Symlink(target) => zip
                .add_symlink(name, target, link_options)
                .map_err(zip_error),
        }
    })?;

    let mut capped = zip.finish().map_err(zip_error)?;
    capped.flush().map_err(io_error)?;
    let zipped_bytes = capped.end;
    drop(capped);
    temp.persist(out)
        .map_err(|e| PackageError::io(format!("renaming the zip to {}", out.display()), e.error))?;
    Ok(Written { zipped_bytes })
}
