//! The REST API on the wire, with raw requests: status codes, JSON shapes, Go-style input, basic
//! auth, the invoke proxy's routing. Where the OpenFaaS gateway and its providers leave a choice
//! (e.g. 200 or 202 for a deployment), every answer they give is accepted. Every case is skipped
//! when the target has no HTTP endpoint.
//!
//! One file per area; `wire` holds what they share (paths, the deployment JSON, deploying
//! over the wire).

mod auth;
mod functions;
mod input;
mod logs;
mod proxy;
mod scale;
mod secrets;
mod system;
mod wire;

pub use auth::*;
pub use functions::*;
pub use input::*;
pub use logs::*;
pub use proxy::*;
pub use scale::*;
pub use secrets::*;
pub use system::*;
