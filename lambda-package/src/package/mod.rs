//! OCI image → Lambda zip (`provided.al2023`): pull, flatten, zip.
//!
//! The zip holds `bootstrap` (0755, the static shim), `faas-launch.json` (0644, a
//! [`lambda_shim::spec::LaunchSpec`]) and `rootfs/` (the flattened image; see
//! [`crate::flatten`] for the rules). Memory stays flat whatever the image size: each layer is
//! streamed from the registry through the decompressor into the flattener, file bytes go to a
//! spool file, and the zip is written entry by entry.
//!
//! ```no_run
//! # async fn demo() -> Result<(), lambda_package::PackageError> {
//! use lambda_package::{package_image, BootstrapSource, PackageOptions};
//! let opts = PackageOptions {
//!     bootstrap: BootstrapSource::File("target/static/bootstrap".into()),
//!     insecure_registries: vec!["127.0.0.1:5000".into()],
//!     ..Default::default()
//! };
//! let summary = package_image("127.0.0.1:5000/fn/echo:1", &opts, "fn.zip".as_ref()).await?;
//! println!("{} bytes zipped, {} files", summary.zipped_bytes, summary.files);
//! # Ok(()) }
//! ```

mod elf;
mod error;
mod overlay;
mod progress;
mod zipfile;

use std::io::{self, Read};
use std::path::{Path, PathBuf};

use bytes::Bytes;
use lambda_shim::spec::{LaunchSpec, ROOTFS_DIR};
use tokio::sync::mpsc;

pub use error::{ErrorClass, PackageError};

use crate::arch::Architecture;
pub use crate::flatten::Limits;
use crate::flatten::{FlattenError, Flattener};
pub use crate::oci::RegistryCredentials;
use crate::oci::{ImageSource, LayerDescriptor};
use progress::Progress;

/// Where the static `bootstrap` shim binary comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BootstrapSource {
    /// One binary; its ELF architecture must match the image's.
    File(PathBuf),
    /// One binary per architecture (`None`: that architecture cannot be packaged).
    PerArch {
        /// For x86_64 images.
        x86_64: Option<PathBuf>,
        /// For arm64 images.
        arm64: Option<PathBuf>,
    },
}

impl Default for BootstrapSource {
    fn default() -> BootstrapSource {
        BootstrapSource::PerArch {
            x86_64: None,
            arm64: None,
        }
    }
}

impl BootstrapSource {
    fn path_for(&self, arch: Architecture) -> Result<&Path, PackageError> {
        let path = match (self, arch) {
            (BootstrapSource::File(path), _) => Some(path),
            (BootstrapSource::PerArch { x86_64, .. }, Architecture::X86_64) => x86_64.as_ref(),
            (BootstrapSource::PerArch { arm64, .. }, Architecture::Arm64) => arm64.as_ref(),
        };
        path.map(PathBuf::as_path)
            .ok_or_else(|| PackageError::Bootstrap {
                path: PathBuf::new(),
                message: format!("no bootstrap binary configured for {arch} images"),
            })
    }
}

/// How to package.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PackageOptions {
    /// Registry credentials.
    pub credentials: RegistryCredentials,
    /// The architecture to package. `None`: the image's own, or in an image index the
    /// linux/amd64 entry first, then linux/arm64.
    pub architecture: Option<Architecture>,
    /// Registries (`host:port`) spoken to over plain HTTP; all others over HTTPS.
    pub insecure_registries: Vec<String>,
    /// The static shim binary.
    pub bootstrap: BootstrapSource,
    /// Size caps (Lambda's by default).
    pub limits: Limits,
    /// Draw progress bars on stderr.
    pub progress: bool,
    /// Where the spool file goes (default: the system temp dir). The output zip is written
    /// next to its final path and renamed into place.
    pub work_dir: Option<PathBuf>,
    /// Deflate level, 1–9 (default 6, as `zip -r`).
    pub compression_level: u32,
    /// Layer images (`--layer`): their layers are applied on top of the image's, in this
    /// order, with the same flattening rules; their configs are ignored. Each is pulled for the
    /// image's architecture. `credentials` of kind basic or bearer are sent only when a layer
    /// image is on the image's own registry (a Docker config is per registry anyway).
    pub layer_images: Vec<String>,
}

impl Default for PackageOptions {
    fn default() -> PackageOptions {
        PackageOptions {
            credentials: RegistryCredentials::Anonymous,
            architecture: None,
            insecure_registries: Vec::new(),
            bootstrap: BootstrapSource::default(),
            limits: Limits::default(),
            progress: false,
            work_dir: None,
            compression_level: 6,
            layer_images: Vec::new(),
        }
    }
}

/// What was packaged.
#[derive(Debug, Clone, PartialEq)]
pub struct PackageSummary {
    /// Size of the zip file.
    pub zipped_bytes: u64,
    /// Sum of the uncompressed sizes of its files (what Lambda's 250 MB quota counts).
    pub unzipped_bytes: u64,
    /// Regular files in the zip (bootstrap and launch spec included).
    pub files: u64,
    /// Directories in `rootfs/` (itself included).
    pub dirs: u64,
    /// Symlinks in `rootfs/`.
    pub symlinks: u64,
    /// The architecture packaged.
    pub architecture: Architecture,
    /// Digest of the image manifest packaged.
    pub image_digest: String,
    /// Digest of the index it was chosen from, when the reference named one.
    pub index_digest: Option<String>,
    /// Per layer, in the order applied (the image's in manifest order, then each layer
    /// image's): digest and compressed size.
    pub layers: Vec<(String, u64)>,
    /// Per layer image, in the order applied: its reference as given and its manifest digest.
    pub layer_images: Vec<(String, String)>,
    /// Symlinks removed because their resolution loops.
    pub removed_symlink_loops: u64,
    /// The launch spec written as `faas-launch.json`.
    pub spec: LaunchSpec,
}

/// Reads the chunks a download task sends.
struct ChannelReader {
    rx: mpsc::Receiver<io::Result<Bytes>>,
    current: Bytes,
}

impl Read for ChannelReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        while self.current.is_empty() {
            match self.rx.blocking_recv() {
                Some(Ok(chunk)) => self.current = chunk,
                Some(Err(e)) => return Err(e),
                None => return Ok(0),
            }
        }
        let n = buf.len().min(self.current.len());
        buf[..n].copy_from_slice(&self.current.split_to(n));
        Ok(n)
    }
}

fn join_error(e: tokio::task::JoinError) -> PackageError {
    PackageError::io("a packaging task failed", io::Error::other(e.to_string()))
}

/// Pull `image`, flatten it, and write the Lambda zip to `out_zip` (replaced atomically; on
/// error nothing is left there).
pub async fn package_image(
    image: &str,
    opts: &PackageOptions,
    out_zip: &Path,
) -> Result<PackageSummary, PackageError> {
    let source = ImageSource::new(image, &opts.credentials, &opts.insecure_registries)?;
    let progress = Progress::new(opts.progress);
    progress.message(format!("resolving {}", source.reference()));
    let resolved = source.resolve(opts.architecture).await?;
    let arch = resolved.architecture;
    let bootstrap = opts.bootstrap.path_for(arch)?.to_path_buf();
    let bootstrap_size = elf::check_bootstrap(&bootstrap, arch)?;
    let overlays = overlay::resolve_all(
        &opts.layer_images,
        &source,
        &opts.credentials,
        &opts.insecure_registries,
        arch,
    )
    .await?;

    let work_dir = opts.work_dir.clone().unwrap_or_else(std::env::temp_dir);
    let limits = opts.limits.clone();
    let mut flattener = tokio::task::spawn_blocking({
        let work_dir = work_dir.clone();
        move || Flattener::new(&work_dir, limits)
    })
    .await
    .map_err(join_error)?
    .map_err(|e| flatten_setup_error(&work_dir, e))?;

    // Every layer to apply: (its image's source, the layer, its index there, its layer image).
    let mut plan: Vec<(
        &ImageSource,
        &LayerDescriptor,
        usize,
        Option<&overlay::LayerImage>,
    )> = resolved
        .layers
        .iter()
        .enumerate()
        .map(|(index, layer)| (&source, layer, index, None))
        .collect();
    for image in &overlays {
        plan.extend(
            image
                .resolved
                .layers
                .iter()
                .enumerate()
                .map(|(index, layer)| (&image.source, layer, index, Some(image))),
        );
    }
    let count = plan.len();
    for (position, (source, layer, index, image)) in plan.iter().enumerate() {
        progress.layer_start(position, count, layer);
        flattener = apply_layer(source, flattener, *index, layer, &progress)
            .await
            .map_err(|e| match image {
                Some(image) => image.error(e),
                None => e,
            })?;
        progress.layer_done();
    }
    let layers: Vec<(String, u64)> = plan
        .iter()
        .map(|(_, l, _, _)| (l.digest.clone(), l.size))
        .collect();

    let rootfs = tokio::task::spawn_blocking(move || flattener.finish())
        .await
        .map_err(join_error)?
        .map_err(|e| match e {
            FlattenError::Limit(m) => PackageError::TooBig(m),
            FlattenError::Spool(e) => PackageError::io("reading the spool file", e),
            other => PackageError::InvalidImage(other.to_string()),
        })?;

    let spec = LaunchSpec {
        rootfs: ROOTFS_DIR.to_string(),
        architecture: arch.as_lambda_str().to_string(),
        env: resolved.config.env.clone(),
        entrypoint: resolved.config.entrypoint.clone(),
        cmd: resolved.config.cmd.clone(),
        working_dir: resolved.config.working_dir.clone(),
        image: resolved.reference.clone(),
        image_digest: resolved.manifest_digest.clone(),
    };
    let spec_json = serde_json::to_vec_pretty(&spec).expect("a LaunchSpec serializes");
    let unzipped = rootfs.stats.bytes + bootstrap_size + spec_json.len() as u64;
    if unzipped > opts.limits.max_unzipped_bytes {
        return Err(PackageError::TooBig(format!(
            "{unzipped} bytes unzipped (limit {})",
            opts.limits.max_unzipped_bytes
        )));
    }

    let out_zip = out_zip.to_path_buf();
    let level = opts.compression_level;
    let max_zipped = opts.limits.max_zipped_bytes;
    let zip_progress = progress.clone();
    let written = tokio::task::spawn_blocking(move || {
        zip_progress.zip_start(rootfs.stats.bytes + bootstrap_size);
        let written = zipfile::write_package(
            &out_zip,
            &bootstrap,
            &spec_json,
            &rootfs,
            level,
            max_zipped,
            &zip_progress,
        );
        zip_progress.zip_done();
        written.map(|w| (w, rootfs.stats))
    })
    .await
    .map_err(join_error)?;
    let (written, stats) = written?;
    progress.finish();

    Ok(PackageSummary {
        zipped_bytes: written.zipped_bytes,
        unzipped_bytes: unzipped,
        files: stats.files + 2,
        dirs: stats.dirs + 1,
        symlinks: stats.symlinks,
        architecture: arch,
        image_digest: resolved.manifest_digest,
        index_digest: resolved.index_digest,
        layers,
        layer_images: overlays
            .iter()
            .map(|i| (i.reference.clone(), i.resolved.manifest_digest.clone()))
            .collect(),
        removed_symlink_loops: stats.removed_symlink_loops,
        spec,
    })
}

fn flatten_setup_error(work_dir: &Path, e: FlattenError) -> PackageError {
    match e {
        FlattenError::Spool(e) => PackageError::io(
            format!("creating a spool file in {}", work_dir.display()),
            e,
        ),
        other => PackageError::io(
            "starting the flattener",
            io::Error::other(other.to_string()),
        ),
    }
}

/// Stream one layer from the registry into the flattener (on a blocking thread).
async fn apply_layer(
    source: &ImageSource,
    mut flattener: Flattener,
    index: usize,
    layer: &LayerDescriptor,
    progress: &Progress,
) -> Result<Flattener, PackageError> {
    let (tx, rx) = mpsc::channel::<io::Result<Bytes>>(8);
    let compression = layer.compression;
    let task = tokio::task::spawn_blocking(move || {
        let reader = ChannelReader {
            rx,
            current: Bytes::new(),
        };
        let result = flattener.apply_compressed_layer(reader, compression);
        (flattener, result)
    });
    let fetched = async {
        let mut blob = source.open_blob(layer).await?;
        while let Some(chunk) = blob.next_chunk().await? {
            progress.layer_bytes(chunk.len() as u64);
            if tx.send(Ok(chunk)).await.is_err() {
                // The flattener stopped (its error says why).
                break;
            }
        }
        Ok::<(), PackageError>(())
    }
    .await;
    if let Err(e) = &fetched {
        // Make the flattener stop with an error rather than see a clean end of stream.
        let _ = tx.send(Err(io::Error::other(e.to_string()))).await;
    }
    drop(tx);
    let (flattener, applied) = task.await.map_err(join_error)?;
    // A download or verification failure explains whatever the flattener saw.
    fetched?;
    applied.map_err(|source| PackageError::Layer {
        index,
        digest: layer.digest.clone(),
        source,
    })?;
    Ok(flattener)
}

#[cfg(test)]
mod tests {
    use super::*;

    type Boxed<'a> = std::pin::Pin<
        Box<dyn std::future::Future<Output = Result<PackageSummary, PackageError>> + Send + 'a>,
    >;

    /// What `#[async_trait]` does with a call from a trait method: box it as `Send` for any
    /// lifetime. Compiling is the test.
    fn boxed<'a>(image: &'a str, opts: &'a PackageOptions, out: &'a Path) -> Boxed<'a> {
        Box::pin(package_image(image, opts, out))
    }

    #[test]
    fn package_image_future_is_send_for_any_lifetime() {
        let opts = PackageOptions::default();
        drop(boxed("x", &opts, Path::new("x.zip")));
    }
}
