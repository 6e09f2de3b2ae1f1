//! Turning a packaged image (`faas-launch.json` + `rootfs/`) into a watchdog configuration that
//! runs the image's program from the relocated rootfs.
//!
//! Lambda's `/` is Amazon Linux, not the image, so nothing in the image can be found at its
//! absolute path. The launch therefore:
//!
//! 1. takes the program from `fprocess` (image Env, overridable by the function's environment),
//!    or else from Entrypoint + Cmd (an Entrypoint that is the image's own `fwatchdog` is
//!    replaced by the in-process executor, so `fprocess` is then required);
//! 2. resolves it on the image's `PATH` inside the rootfs, following symlinks *inside* the
//!    rootfs ([`resolve_in_root`]: an absolute link target is rebased, `..` stops at the root);
//! 3. a static ELF is run directly (with `argv[0]` as written in `fprocess`); a dynamically
//!    linked one through the image's own loader: `<rootfs><PT_INTERP> --library-path <rootfs
//!    lib dirs> [--argv0 NAME] <program> args` (`--argv0` when the loader knows it, glibc ≥
//!    2.33); a `#!` script through its relocated interpreter, the same way;
//! 4. arguments that are absolute paths existing in the image are rebased into the rootfs;
//! 5. the working directory is `<rootfs><WorkingDir>`; the process environment is the image Env
//!    (with `PATH` and `LD_LIBRARY_PATH` rebased) overlaid with Lambda's environment (minus
//!    `PATH` and `AWS_LAMBDA_RUNTIME_API`; the runtime has already replaced the provider's
//!    reserved `OPENFAAS_SECRETS` / `OPENFAAS_ENV` there, see [`crate::reserved`]).
//!
//! Paths hard-coded inside the program or its scripts (`/etc/...`, `find /data`) still point at
//! Lambda's root: relocation cannot rewrite them.
//!
//! Middlewares listed in `SLSMIDDLEWARES` are image paths `<SLSMIDDLEWARES_DIR or
//! /opt/middlewares>/NAME` inside the rootfs, relocated the same way ([`middlewares`]).
//!
//! Modules: `paths` (image path arithmetic inside the rootfs), `rootfs` (finding and relocating
//! a program), `prepare` (the launch spec, the watchdog configuration and the process
//! environment), `middlewares` (the image's middlewares), `error` ([`LaunchError`]).

mod error;
mod middlewares;
mod paths;
mod prepare;
mod rootfs;
#[cfg(test)]
mod test_fixture;

pub use error::LaunchError;
pub use middlewares::middlewares;
pub use paths::resolve_in_root;
pub use prepare::{DEFAULT_IMAGE_PATH, load_spec, prepare};
pub use rootfs::{Relocated, Rootfs};
