//! # bench
//!
//! The pieces every loopback invoke benchmark of this workspace shares, free of any provider
//! crate beyond faas-provider and provider-memory (so a provider's own benchmark can use them
//! without depending on the federation):
//!
//! - [`load`]: the load generator (hyper HTTP/1.1 connections on loopback, a saturation or a
//!   fixed-rate [`Mode`]) and its [`Measurement`].
//! - [`quantile_ms`]: a quantile of measured times, for benchmarks that time their calls
//!   themselves.
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

use std::time::Duration;

/// The `q` quantile (0..=1, nearest rank) of `times`, in milliseconds; NaN when empty.
pub fn quantile_ms(times: &[Duration], q: f64) -> f64 {
    if times.is_empty() {
        return f64::NAN;
    }
    let mut sorted = times.to_vec();
    sorted.sort();
    let rank = ((q * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    sorted[rank - 1].as_secs_f64() * 1000.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantiles_of_times_use_nearest_rank() {
        let times: Vec<Duration> = [4, 1, 3, 2].map(Duration::from_millis).to_vec();
        assert_eq!(quantile_ms(&times, 0.5), 2.0);
        assert_eq!(quantile_ms(&times, 0.9), 4.0);
        assert_eq!(quantile_ms(&times, 0.0), 1.0);
        assert!(quantile_ms(&[], 0.5).is_nan());
    }
}
