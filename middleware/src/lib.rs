//! # middleware
//!
//! The middleware pipeline of the Serverless Open Runtime design: executables written in any
//! language, run around a function with the event on standard input and the hook name as their
//! argument, their standard output replacing the event (or the response). The watchdog and the
//! Lambda shim both run functions through this crate, so one middleware binary behaves the
//! same on the Docker backend and on Lambda.
//!
//! ## The contract
//!
//! - `SLSMIDDLEWARES` ([`LIST_ENV`]), in the function's environment, lists middleware names,
//!   comma-separated. Each is the executable `/opt/middlewares/NAME` ([`DEFAULT_DIR`];
//!   `SLSMIDDLEWARES_DIR`, [`DIR_ENV`], points elsewhere). A name that is empty or contains `/`
//!   or `..` is refused ([`parse_names`]).
//! - At start every listed middleware must exist and be executable ([`Pipeline::check`]); the
//!   error names the first that is not.
//! - Per call: `echo EVENT | NAME before` for each middleware **in list order**, each stdout
//!   the next stdin, the last one the event the function gets; then `echo RESPONSE | NAME after`
//!   **in reverse order**, the last stdout the response.
//! - A hook that exits non-zero, prints anything but one JSON value, or is still running at the
//!   call's deadline (killed, with its process group) stops the call with a [`HookError`]
//!   naming it, carrying the first 4 KB ([`STDERR_LIMIT`]) of its stderr. A failed `before`
//!   means the function does not run.
//!
//! What the event and the response are is the embedder's: the watchdog presents an HTTP
//! request as an API Gateway v2 event and the function's answer as an API Gateway v2 response
//! (`apigw-event`); the Lambda shim passes the Lambda event as received and the function's
//! result.
//!
//! Modules: `names` (variables, [`Hook`], name rules), `pipeline` ([`Pipeline`],
//! [`Middleware`]), `process` (one hook run: concurrent stdin/stdout, deadline, stderr capture),
//! `error` ([`MiddlewareError`], [`HookError`]).

mod error;
mod names;
mod pipeline;
mod process;

pub use error::{Failure, HookError, MiddlewareError};
pub use names::{DEFAULT_DIR, DIR_ENV, Hook, LIST_ENV, STDERR_LIMIT, parse_names, validate_name};
pub use pipeline::{Middleware, Pipeline};
