//! The Lambda side of an OpenFaaS function packaged as a `provided.al2023` zip.
//!
//! - [`spec`]: the `faas-launch.json` the packager writes next to `bootstrap`.
//! - [`event`]: API Gateway v2 / Function URL events and responses, and their conversions to
//!   and from `http` types: the `apigw-event` crate, re-exported under its old name (shared with
//!   the provider's invoke path and the watchdog's middleware pipeline).
//! - [`launch`]: relocating the image's program into `$LAMBDA_TASK_ROOT/rootfs` (PATH lookup
//!   inside the rootfs, the image's own dynamic loader, `#!` interpreters) → a
//!   [`watchdog::WatchdogConfig`].
//! - [`reserved`]: the provider's reserved variables: `OPENFAAS_SECRETS` written to files under
//!   `/tmp/openfaas/secrets`, `OPENFAAS_ENV` expanded into the function's environment.
//! - [`elf`]: the ELF / `#!` header reader `launch` needs.
//! - `report`: the runtime's error report and stop reasons (re-exported by [`runtime`]).
//! - [`runtime`]: the Runtime API client loop (the `bootstrap` binary is
//!   [`runtime::main_from_env`]).
//!
//! Build the static `bootstrap` with `RUSTFLAGS='-C target-feature=+crt-static' cargo build
//! --release -p lambda-shim --bin bootstrap --target x86_64-unknown-linux-gnu`.

pub mod elf;
pub mod launch;
mod report;
pub mod reserved;
pub mod runtime;
pub mod spec;

pub use apigw_event as event;
