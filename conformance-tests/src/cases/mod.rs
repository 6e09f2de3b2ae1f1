//! The cases, by area. Every case is `pub async fn name(t: &Target) -> Outcome`.

pub mod functions;
pub mod http;
pub mod invoke;
pub mod logs;
pub mod namespaces;
pub mod runtime;
pub mod scale;
pub mod secrets;
pub mod system;
