//! Run a packaged Lambda function (an extracted `provided.al2023` zip) locally, the way Lambda
//! does: a Runtime API emulator per execution environment plus the Invoke front end
//! (`POST /2015-03-31/functions/{name}/invocations` in Lambda's wire format, so aws-sdk-lambda
//! pointed at [`Emulator::invoke_url`] works).
//!
//! - Environments start lazily on the first invoke that needs one (the function's `bootstrap`
//!   with Lambda's environment), and are reused; several run at once up to the concurrency
//!   limit ([`EmulatorConfig::max_concurrency`], like reserved concurrency: `Some(0)` throttles
//!   every invoke, over the limit → 429 `TooManyRequestsException`).
//! - [`Emulator::keep_warm`] initialises environments ahead of invokes (a warm pool: the next
//!   invokes take them without paying the init) and resets idle ones beyond the count.
//! - Init must reach the first `GET /next` within [`EmulatorConfig::init_timeout`]; an
//!   `/init/error`, an exit or the timeout → [`EmulatorError::InitFailed`] (HTTP 502); the next
//!   invoke tries again.
//! - The function timeout is enforced: past the deadline the sandbox is killed and the invoke
//!   answers a function error `Task timed out after N.00 seconds` (errorType `Sandbox.Timeout`);
//!   the environment restarts on the next invoke. A runtime exiting mid-invoke →
//!   `Runtime.ExitError`.
//! - Payloads: 6 MiB + 100 B each way for synchronous invokes (413 `RequestTooLargeException`
//!   for the request; `Function.ResponseSizeTooLarge` function error for the result), 1 MiB for
//!   `Event` invokes.
//! - Sandboxes: [`Sandbox::Process`] (a child process) or [`Sandbox::Docker`] (busybox-only
//!   image, task dir read-only at `/var/task`, tmpfs `/tmp`, non-root user, host network).
//!
//! Not implemented: `X-Amz-Log-Type: Tail` (no `X-Amz-Log-Result`), qualifiers other than
//! `$LATEST`, response streaming, extensions.
//!
//! Modules: `emulator` (the public [`Emulator`]), `config` ([`EmulatorConfig`] and the
//! environment a runtime gets), `invoke` (concurrency and the pool of execution environments),
//! `environment` (one execution environment: start, init, one invoke), `invoke_result`
//! ([`InvokeResult`] and the function errors the emulator reports), `frontend` (the Invoke HTTP
//! API), `runtime_api` (the Runtime API server), `sandbox` (where `bootstrap` runs), `zipdir`
//! (zip extraction), `error` ([`EmulatorError`]), [`entrypoint`] (the function contract an
//! imported zip's image serves: binary `faas-lambda-entrypoint`).

mod config;
mod emulator;
pub mod entrypoint;
mod environment;
mod error;
mod frontend;
mod invoke;
mod invoke_result;
mod runtime_api;
mod sandbox;
mod zipdir;

pub use config::{EmulatorConfig, RESERVED_VARIABLES};
pub use emulator::Emulator;
pub use error::EmulatorError;
pub use frontend::MAX_ASYNC_PAYLOAD_BYTES;
pub use invoke_result::{InvokeResult, LATEST};
pub use runtime_api::{MAX_PAYLOAD_BYTES, Reply};
pub use sandbox::{CONTAINER_TASK_ROOT, DockerSandbox, Sandbox};
pub use zipdir::{MAX_UNZIPPED_BYTES, extract_zip, extract_zip_to_temp};
