//! Extracting a function zip the way Lambda does (into what becomes `/var/task`).

use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use crate::error::EmulatorError;

/// Lambda's limit on the unzipped size of a function (250 MB).
pub const MAX_UNZIPPED_BYTES: u64 = 250 * 1024 * 1024;

/// Extract `zip` into `dest` (entries escaping `dest`, through `..`, absolute names or
/// symlinks, are refused by the zip crate's extractor), keeping unix modes, refusing archives
/// over 250 MB unzipped. `dest` itself is made 0755 so a non-root sandbox user can enter it.
pub fn extract_zip(zip: &Path, dest: &Path) -> Result<(), EmulatorError> {
    let file = std::fs::File::open(zip).map_err(|source| EmulatorError::Io {
        what: format!("opening {}", zip.display()),
        source,
    })?;
    let mut archive = zip::ZipArchive::new(std::io::BufReader::new(file))
        .map_err(|e| EmulatorError::Zip(format!("{}: {e}", zip.display())))?;
    let mut total: u64 = 0;
    for i in 0..archive.len() {
        let entry = archive
            .by_index(i)
            .map_err(|e| EmulatorError::Zip(e.to_string()))?;
        total = total.saturating_add(entry.size());
    }
    if total > MAX_UNZIPPED_BYTES {
        return Err(EmulatorError::Zip(format!(
            "{total} bytes unzipped is over Lambda's {MAX_UNZIPPED_BYTES}-byte limit"
        )));
    }
    std::fs::create_dir_all(dest).map_err(|source| EmulatorError::Io {
        what: format!("creating {}", dest.display()),
        source,
    })?;
    archive
        .extract(dest)
        .map_err(|e| EmulatorError::Zip(e.to_string()))?;
    std::fs::set_permissions(dest, std::fs::Permissions::from_mode(0o755)).map_err(|source| {
        EmulatorError::Io {
            what: format!("chmod {}", dest.display()),
            source,
        }
    })?;
    Ok(())
}

/// Extract `zip` into a fresh directory under `parent` (or the system temp dir) and return it:
/// a convenience for `--zip` and for tests. The directory is readable by everyone (0755) so a
/// non-root sandbox user can read it.
pub fn extract_zip_to_temp(
    zip: &Path,
    parent: Option<&Path>,
) -> Result<tempfile::TempDir, EmulatorError> {
    let builder = {
        let mut b = tempfile::Builder::new();
        b.prefix("faas-lambda-task-");
        b
    };
    let dir = match parent {
        Some(p) => builder.tempdir_in(p),
        None => builder.tempdir(),
    }
    .map_err(|source| EmulatorError::Io {
        what: "creating the task directory".into(),
        source,
    })?;
    extract_zip(zip, dir.path())?;
    Ok(dir)
}
