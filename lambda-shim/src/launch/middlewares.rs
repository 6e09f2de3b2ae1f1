//! The image's middlewares (`SLSMIDDLEWARES`): found in the rootfs and run the way the
//! function is (relocated `#!` interpreter or the image's own loader, the function's process
//! environment and working directory), so a middleware written for the image behaves as it
//! does on the Docker backend.

use std::path::Path;

use middleware::{Middleware, Pipeline};
use watchdog::WatchdogConfig;

use super::error::LaunchError;
use super::paths::resolve_in_root;
use super::prepare::image_rootfs;
use crate::spec::LaunchSpec;

/// Take the middlewares out of `config` (the watchdog executor must not run them: the shim
/// runs them on the Lambda event) and resolve each as the image path
/// `<middleware_dir>/NAME` inside the rootfs: it must be an executable file there (the error
/// names it), and is run like the function. `None` when none are listed.
pub fn middlewares(
    task_root: &Path,
    spec: &LaunchSpec,
    config: &mut WatchdogConfig,
) -> Result<Option<Pipeline>, LaunchError> {
    let names = std::mem::take(&mut config.middlewares);
    if names.is_empty() {
        return Ok(None);
    }
    let rootfs = image_rootfs(task_root, spec)?;
    let dir = config.middleware_dir.to_string_lossy().into_owned();
    let mut list = Vec::with_capacity(names.len());
    for name in names {
        middleware::validate_name(&name)?;
        let image_path = format!("{}/{name}", dir.trim_end_matches('/'));
        let host =
            resolve_in_root(rootfs.root(), &image_path).map_err(|source| LaunchError::Resolve {
                path: image_path.clone(),
                source,
            })?;
        let mut m = Middleware::new(name, host);
        m.check()?;
        let relocated = rootfs.relocate(&image_path, &[])?;
        m.argv = relocated.argv;
        m.argv0 = relocated.argv0;
        list.push(m);
    }
    let pipeline = Pipeline::new(list)
        .with_env(config.process_env.clone())
        .with_working_dir(config.working_dir.clone());
    Ok(Some(pipeline))
}
