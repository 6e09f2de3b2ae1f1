//! Lambda zip → OCI image (the Kratos importer), the other direction of [`crate::package`]: a
//! `provided.al2023` / `provided.al2` function zip (a `bootstrap` at its top) becomes an image
//! that runs wherever OpenFaaS images run.
//!
//! The image has two layers ([`layout`]): the static entrypoint of `lambda-emulator`
//! (`faas-lambda-entrypoint`) at [`ENTRYPOINT_PATH`], and the zip's files under
//! [`TASK_ROOT`]. The entrypoint serves the function contract the Docker backend speaks (port
//! `port`, default 8080; `/_/health`) and runs the zip's `bootstrap` against a Runtime API of
//! its own: a request carrying [`INVOKE_HEADER`] is a Lambda `Invoke` (its body is the event,
//! the function's response is the body of the answer, unchanged), any other request is an HTTP
//! call turned into an API Gateway v2 event and back. Its config: `Entrypoint` the
//! entrypoint, `User` 993:993 (non-root), `WorkingDir` `/var/task`, `ExposedPorts` 8080/tcp.
//!
//! ```no_run
//! # async fn demo() -> Result<(), lambda_package::import::ImportError> {
//! use lambda_package::import::{ImportOptions, import_zip};
//! let zip = std::fs::read("fn.zip").unwrap();
//! let opts = ImportOptions {
//!     entrypoint: "target/static/faas-lambda-entrypoint".into(),
//!     insecure_registries: vec!["127.0.0.1:5000".into()],
//!     ..Default::default()
//! };
//! let pushed = import_zip(&zip, "127.0.0.1:5000/fn/echo:1", &opts).await?;
//! println!("{} = {}", pushed.reference, pushed.digest);
//! # Ok(()) }
//! ```

mod error;
mod image;
mod layout;
mod progress;
mod push;

use std::path::PathBuf;

pub use error::ImportError;
pub use image::{DEFAULT_PORT, OCI_CONFIG, OCI_LAYER_GZIP, OCI_MANIFEST, RuntimeSettings};
pub use layout::{ENTRYPOINT_PATH, Layer, TASK_ROOT, TaskStats};
pub use push::Pushed;

use crate::arch::Architecture;
use crate::oci::RegistryCredentials;
use progress::Progress;

/// The header marking a Lambda `Invoke` for the entrypoint (the federation's `Invoke` adds
/// it): the body is the event as it is, and the function's response comes back as it is.
/// Without it a request is an HTTP call, handed to the function as an API Gateway v2 event.
pub const INVOKE_HEADER: &str = "x-faas-lambda-invoke";

/// Lambda's limit on a function's unzipped size (250 MB).
pub const MAX_UNZIPPED_BYTES: u64 = 262_144_000;

/// How to import.
#[derive(Debug, Clone)]
pub struct ImportOptions {
    /// The static `faas-lambda-entrypoint` binary (its ELF machine is the image's
    /// architecture).
    pub entrypoint: PathBuf,
    /// Credentials for the registry pushed to.
    pub credentials: RegistryCredentials,
    /// Registries (`host:port`) spoken to over plain HTTP.
    pub insecure_registries: Vec<String>,
    /// Largest unzipped size accepted.
    pub max_unzipped_bytes: u64,
    /// User and extra environment of the image.
    pub runtime: RuntimeSettings,
    /// Progress bars on stderr.
    pub progress: bool,
}

impl Default for ImportOptions {
    fn default() -> Self {
        Self {
            entrypoint: PathBuf::from("faas-lambda-entrypoint"),
            credentials: RegistryCredentials::Anonymous,
            insecure_registries: Vec::new(),
            max_unzipped_bytes: MAX_UNZIPPED_BYTES,
            runtime: RuntimeSettings::default(),
            progress: false,
        }
    }
}

/// A built image, not yet pushed.
#[derive(Debug, Clone)]
pub struct ImportImage {
    /// The entrypoint layer, then the task layer.
    pub layers: Vec<Layer>,
    /// The config JSON.
    pub config: Vec<u8>,
    /// The OCI manifest JSON.
    pub manifest: Vec<u8>,
    /// `sha256:…` of the manifest: the image's digest.
    pub digest: String,
    /// The image's architecture (the entrypoint's).
    pub architecture: Architecture,
    /// What the zip held.
    pub stats: TaskStats,
}

/// Checks that `entrypoint` is a static ELF executable and returns its architecture.
pub fn entrypoint_architecture(
    path: &std::path::Path,
    bytes: &[u8],
) -> Result<Architecture, ImportError> {
    let fail = |message: &str| ImportError::Entrypoint {
        path: path.to_path_buf(),
        message: message.to_string(),
    };
    let file = std::fs::File::open(path).map_err(|e| fail(&format!("cannot open: {e}")))?;
    let info = lambda_shim::elf::inspect_elf(&file).map_err(|e| fail(&e.to_string()))?;
    if bytes.len() < 64 || !info.is_64_bit {
        return Err(fail("not a 64-bit ELF executable"));
    }
    if info.interpreter.is_some() {
        return Err(fail(
            "dynamically linked: the entrypoint must be static (the image has no libc)",
        ));
    }
    match info.machine {
        lambda_shim::elf::EM_X86_64 => Ok(Architecture::X86_64),
        lambda_shim::elf::EM_AARCH64 => Ok(Architecture::Arm64),
        other => Err(fail(&format!(
            "ELF machine {other} is neither x86_64 nor arm64"
        ))),
    }
}

/// Builds the image of `zip` with `entrypoint` (the binary's bytes) for `architecture`.
pub fn build_image(
    zip: &[u8],
    entrypoint: &[u8],
    architecture: Architecture,
    opts: &ImportOptions,
) -> Result<ImportImage, ImportError> {
    let (task, stats) = layout::task_layer(zip, opts.max_unzipped_bytes)?;
    let runtime = layout::runtime_layer(entrypoint)?;
    let layers = [&runtime, &task];
    let config = image::config(architecture, &layers, &opts.runtime);
    let manifest = image::manifest(&config, &layers);
    Ok(ImportImage {
        digest: image::digest_of(&manifest),
        layers: vec![runtime, task],
        config,
        manifest,
        architecture,
        stats,
    })
}

/// Imports `zip`: reads and checks the entrypoint, builds the image, pushes it as
/// `reference` (`REGISTRY/REPO:TAG`).
pub async fn import_zip(
    zip: &[u8],
    reference: &str,
    opts: &ImportOptions,
) -> Result<Pushed, ImportError> {
    let target = push::parse(reference)?;
    let progress = Progress::new(opts.progress);
    progress.message(format!("building the image of {} zipped bytes", zip.len()));
    let path = opts.entrypoint.clone();
    let entrypoint = std::fs::read(&path).map_err(|e| ImportError::Entrypoint {
        path: path.clone(),
        message: format!("cannot read: {e}"),
    })?;
    let architecture = entrypoint_architecture(&path, &entrypoint)?;
    let zip = zip.to_vec();
    let build_opts = opts.clone();
    let image = tokio::task::spawn_blocking(move || {
        build_image(&zip, &entrypoint, architecture, &build_opts)
    })
    .await
    .map_err(|e| ImportError::Zip(format!("the image build stopped: {e}")))??;
    let pushed = push::push(&image, &target, opts, &progress).await;
    progress.finish();
    pushed
}
