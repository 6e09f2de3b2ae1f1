//! Per-backend Prometheus metrics, exported next to the server's own on `/metrics`:
//!
//! - `federation_backend_requests_total{backend,operation,outcome}`: every call to a backend;
//!   `outcome` is `ok`, `rejected` (the backend answered with a 4xx/501-class error: it is up),
//!   `unavailable`, `timeout`, `unauthorized`, `throttled` or `error`;
//! - `federation_backend_request_duration_seconds{backend,operation}`: their duration;
//! - `federation_backend_up{backend}`: 1 when the last call or health check reached it, else 0;
//! - `federation_routing_rebuilds_total`: full rebuilds of the routing table.

use std::sync::Arc;
use std::time::Duration;

use faas_provider::ProviderError;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    backend: Arc<String>,
    operation: &'static str,
    outcome: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct OperationLabels {
    backend: Arc<String>,
    operation: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct BackendLabels {
    backend: Arc<String>,
}

/// The federation's metric families (clones share their values).
#[derive(Clone)]
pub(crate) struct Metrics {
    requests: Family<RequestLabels, Counter>,
    duration: Family<OperationLabels, Histogram>,
    up: Family<BackendLabels, Gauge>,
    rebuilds: Counter,
}

impl Default for Metrics {
    fn default() -> Self {
        Self {
            requests: Family::default(),
            duration: Family::new_with_constructor(
                (|| Histogram::new(exponential_buckets(0.000_05, 2.0, 20))) as fn() -> Histogram,
            ),
            up: Family::default(),
            rebuilds: Counter::default(),
        }
    }
}

/// What a call's result says about the backend.
pub(crate) fn outcome(result: &Result<(), &ProviderError>) -> &'static str {
    match result {
        Ok(()) => "ok",
        Err(ProviderError::Unavailable { .. }) => "unavailable",
        Err(ProviderError::Timeout(_)) => "timeout",
        Err(ProviderError::Unauthorized(_)) => "unauthorized",
        Err(ProviderError::Throttled(_)) => "throttled",
        Err(ProviderError::Backend { .. } | ProviderError::Unreachable { .. }) => "error",
        Err(_) => "rejected",
    }
}

/// True when the outcome proves the backend could not be reached.
pub(crate) fn is_down(outcome: &str) -> bool {
    matches!(outcome, "unavailable" | "timeout")
}

impl Metrics {
    /// Registers the families into `registry` (prefix `federation_`).
    pub(crate) fn register(&self, registry: &mut Registry) {
        registry.register(
            "federation_backend_requests",
            "Calls to each backend, by operation and outcome",
            self.requests.clone(),
        );
        registry.register(
            "federation_backend_request_duration_seconds",
            "Duration of calls to each backend, by operation",
            self.duration.clone(),
        );
        registry.register(
            "federation_backend_up",
            "1 when the backend answered its last call or health check, 0 when it could not be reached",
            self.up.clone(),
        );
        registry.register(
            "federation_routing_rebuilds",
            "Full rebuilds of the routing table from the backends' own lists",
            self.rebuilds.clone(),
        );
    }

    pub(crate) fn observe(
        &self,
        backend: &Arc<String>,
        operation: &'static str,
        outcome: &'static str,
        elapsed: Duration,
    ) {
        self.requests
            .get_or_create(&RequestLabels {
                backend: backend.clone(),
                operation,
                outcome,
            })
            .inc();
        self.duration
            .get_or_create(&OperationLabels {
                backend: backend.clone(),
                operation,
            })
            .observe(elapsed.as_secs_f64());
        if is_down(outcome) {
            self.set_up(backend, false);
        } else {
            self.set_up(backend, true);
        }
    }

    pub(crate) fn set_up(&self, backend: &Arc<String>, up: bool) {
        self.up
            .get_or_create(&BackendLabels {
                backend: backend.clone(),
            })
            .set(i64::from(up));
    }

    pub(crate) fn rebuilt(&self) {
        self.rebuilds.inc();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metrics_are_exported_with_backend_labels() {
        let metrics = Metrics::default();
        let mut registry = Registry::default();
        metrics.register(&mut registry);
        let local = Arc::new("local".to_string());
        metrics.observe(&local, "invoke", "ok", Duration::from_micros(20));
        metrics.observe(&local, "list", "unavailable", Duration::from_millis(2));
        let mut text = String::new();
        prometheus_client::encoding::text::encode(&mut text, &registry).unwrap();
        assert!(
            text.contains(
                r#"federation_backend_requests_total{backend="local",operation="invoke",outcome="ok"} 1"#
            ),
            "{text}"
        );
        assert!(
            text.contains(r#"federation_backend_up{backend="local"} 0"#),
            "{text}"
        );
        assert!(
            text.contains("federation_backend_request_duration_seconds_bucket"),
            "{text}"
        );
    }

    #[test]
    fn outcomes_classify_errors() {
        let unavailable = ProviderError::Unavailable {
            backend: "b".into(),
            reason: "r".into(),
        };
        assert_eq!(outcome(&Ok(())), "ok");
        assert_eq!(outcome(&Err(&unavailable)), "unavailable");
        assert_eq!(outcome(&Err(&ProviderError::invalid("x"))), "rejected");
        assert!(is_down("timeout") && !is_down("rejected"));
    }
}
