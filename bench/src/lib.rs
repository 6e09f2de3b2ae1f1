//! # bench
//!
//! The pieces every loopback invoke benchmark of this workspace shares, free of any provider
//! crate beyond faas-provider and provider-memory (so a provider's own benchmark can use them
//! without depending on the federation):
//!
//! - [`load`]: the load generator (hyper HTTP/1.1 connections on loopback, a saturation or a
//!   fixed-rate [`Mode`]) and its [`Measurement`].
//! - [`servers`]: the function every target serves ([`servers::FUNCTION`]), the memory
//!   provider behind the faas-provider server, a bare hyper echo server, and the plumbing to
//!   serve any provider router on the server runtime.
//!
//! The `faas-bench` binary and its scenarios (including the federation's) are the
//! `faas-bench` crate, in `bench/faas-bench/`.

#![warn(missing_docs)]

pub mod load;
pub mod servers;

pub use load::{Measurement, Mode};
