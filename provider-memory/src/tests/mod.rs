//! Every rule of the memory provider, through the `Provider` trait, one module per area.

mod functions;
mod identity;
mod invoke;
mod logs;
mod namespaces;
mod secrets;
mod support;
