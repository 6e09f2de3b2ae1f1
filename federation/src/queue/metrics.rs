//! Async and trigger metrics:
//!
//! - `federation_async_calls_total{function_name,outcome}`: `queued`, `retried`, `failed`,
//!   `completed` (a call that answered with a status outside the retry codes, or ran out of
//!   retries, is `failed` when the status is ≥ 400);
//! - `federation_async_calls_running{function_name}`: calls running now;
//! - `federation_trigger_messages_total{subject,outcome}`: messages per bound subject
//!   (`invoked` or `failed`).
//!
//! Label values are bounded: `function_name` only takes functions that exist (the accept
//! handler checks), `subject` only the subjects functions are bound to.

use std::sync::Arc;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct CallLabels {
    function_name: Arc<str>,
    outcome: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RunningLabels {
    function_name: Arc<str>,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct SubjectLabels {
    subject: Arc<str>,
    outcome: &'static str,
}

/// The families (clones share their values).
#[derive(Clone, Debug, Default)]
pub struct QueueMetrics {
    calls: Family<CallLabels, Counter>,
    running: Family<RunningLabels, Gauge>,
    messages: Family<SubjectLabels, Counter>,
}

impl QueueMetrics {
    /// Registers the families into `registry`.
    pub fn register(&self, registry: &mut Registry) {
        registry.register(
            "federation_async_calls",
            "Async calls by function and outcome (queued, retried, failed, completed)",
            self.calls.clone(),
        );
        registry.register(
            "federation_async_calls_running",
            "Async calls running now, by function",
            self.running.clone(),
        );
        registry.register(
            "federation_trigger_messages",
            "Messages received on bound subjects, by subject and outcome",
            self.messages.clone(),
        );
    }

    pub(crate) fn call(&self, function: &Arc<str>, outcome: &'static str) {
        self.calls
            .get_or_create(&CallLabels {
                function_name: function.clone(),
                outcome,
            })
            .inc();
    }

    pub(crate) fn running(&self, function: &Arc<str>, delta: i64) {
        self.running
            .get_or_create(&RunningLabels {
                function_name: function.clone(),
            })
            .inc_by(delta);
    }

    pub(crate) fn message(&self, subject: &Arc<str>, outcome: &'static str) {
        self.messages
            .get_or_create(&SubjectLabels {
                subject: subject.clone(),
                outcome,
            })
            .inc();
    }
}
