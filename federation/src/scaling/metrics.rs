//! Invocation and scaling metrics under the OpenFaaS gateway's names, so its dashboards and
//! alerts work against the federation:
//!
//! - `gateway_function_invocation_total{function_name,code}`: finished invocations;
//! - `gateway_functions_seconds{function_name,code}`: their duration (histogram);
//! - `gateway_function_invocation_started{function_name}`: started invocations;
//! - `gateway_service_count{function_name}`: replicas, as last seen;
//! - `federation_autoscaler_scale_total{function_name,reason}`: scale calls the federation made
//!   (`wake`, `up`, `down`, `idle`), and `federation_autoscaler_desired_replicas{function_name}`.
//!
//! `function_name` is `name.namespace`, as the gateway writes it. Invocations of functions the
//! federation does not know share the one value [`UNKNOWN_FUNCTION`], so callers cannot grow the
//! label set.

use std::sync::Arc;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

/// The `function_name` of invocations of functions no backend knows.
pub const UNKNOWN_FUNCTION: &str = "unknown";

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct CodeLabels {
    function_name: Arc<str>,
    code: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct FunctionLabels {
    function_name: Arc<str>,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ScaleLabels {
    function_name: Arc<str>,
    reason: &'static str,
}

/// The scaler's metric families (clones share their values).
#[derive(Clone)]
pub(crate) struct Metrics {
    invocations: Family<CodeLabels, Counter>,
    seconds: Family<CodeLabels, Histogram>,
    /// A gauge only for its name: prometheus-client gives counters a `_total` suffix, and the
    /// gateway's series is `gateway_function_invocation_started` (it only ever increases).
    started: Family<FunctionLabels, Gauge>,
    replicas: Family<FunctionLabels, Gauge>,
    scales: Family<ScaleLabels, Counter>,
    desired: Family<FunctionLabels, Gauge>,
}

impl Default for Metrics {
    fn default() -> Self {
        Self {
            invocations: Family::default(),
            seconds: Family::new_with_constructor(
                (|| Histogram::new(exponential_buckets(0.001, 2.0, 16))) as fn() -> Histogram,
            ),
            started: Family::default(),
            replicas: Family::default(),
            scales: Family::default(),
            desired: Family::default(),
        }
    }
}

impl Metrics {
    pub(crate) fn register(&self, registry: &mut Registry) {
        registry.register(
            "gateway_function_invocation",
            "Invocations finished, by function and status code",
            self.invocations.clone(),
        );
        registry.register(
            "gateway_functions_seconds",
            "Invocation time to the response head, by function and status code",
            self.seconds.clone(),
        );
        registry.register(
            "gateway_function_invocation_started",
            "Invocations started, by function",
            self.started.clone(),
        );
        registry.register(
            "gateway_service_count",
            "Replicas of each function, as last seen",
            self.replicas.clone(),
        );
        registry.register(
            "federation_autoscaler_scale",
            "Scale calls made by the federation, by function and reason",
            self.scales.clone(),
        );
        registry.register(
            "federation_autoscaler_desired_replicas",
            "Replicas the autoscaler last asked for",
            self.desired.clone(),
        );
    }

    pub(crate) fn started(&self, function: &Arc<str>) {
        self.started
            .get_or_create(&FunctionLabels {
                function_name: function.clone(),
            })
            .inc();
    }

    pub(crate) fn finished(&self, function: &Arc<str>, code: u16, seconds: f64) {
        let labels = CodeLabels {
            function_name: function.clone(),
            code,
        };
        self.invocations.get_or_create(&labels).inc();
        self.seconds.get_or_create(&labels).observe(seconds);
    }

    pub(crate) fn replicas(&self, function: &Arc<str>, replicas: u64) {
        self.replicas
            .get_or_create(&FunctionLabels {
                function_name: function.clone(),
            })
            .set(i64::try_from(replicas).unwrap_or(i64::MAX));
    }

    pub(crate) fn scaled(&self, function: &Arc<str>, reason: &'static str, replicas: u64) {
        self.scales
            .get_or_create(&ScaleLabels {
                function_name: function.clone(),
                reason,
            })
            .inc();
        self.desired
            .get_or_create(&FunctionLabels {
                function_name: function.clone(),
            })
            .set(i64::try_from(replicas).unwrap_or(i64::MAX));
    }

    /// Drops a deleted function's series.
    pub(crate) fn forget(&self, function: &Arc<str>) {
        let labels = FunctionLabels {
            function_name: function.clone(),
        };
        self.replicas.remove(&labels);
        self.desired.remove(&labels);
    }
}
