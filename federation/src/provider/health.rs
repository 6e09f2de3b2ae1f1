//! Bring-up and the health monitor: capability probes of remote backends, the first routing
//! table, and the periodic check that keeps `federation_backend_up` current and lists backends
//! that became reachable.

use std::sync::{Arc, Weak};
use std::time::Duration;

use futures::future::join_all;

use super::federated::FederatedProvider;
use super::lookup::RebuildReport;

impl FederatedProvider {
    /// Prepares for serving: probes remote backends' capabilities, then builds the routing
    /// table from every backend's lists. Unreachable backends are logged and retried later
    /// (by [`FederatedProvider::check_backends`] and on lookup misses); this never fails.
    pub async fn start(&self) -> RebuildReport {
        join_all(self.backends.iter().map(|backend| async move {
            if let Err(error) = backend.probe_capabilities().await {
                tracing::warn!(backend = backend.name(), %error, "cannot probe capabilities yet");
            }
        }))
        .await;
        let report = self.rebuild().await;
        tracing::info!(
            routes = report.routes,
            unreachable = ?report.unreachable,
            backends = ?self.names,
            default = %self.names[self.default],
            "routing table built"
        );
        report
    }

    /// Health-checks every backend (updating `federation_backend_up`), probes capabilities of
    /// remote backends that have not answered a probe yet, and rebuilds the routing table when
    /// a backend that was never listed has become reachable.
    pub async fn check_backends(&self) {
        let results = join_all(self.backends.iter().map(|backend| async move {
            let health = self
                .call(backend, "health", backend.provider().health())
                .await;
            if health.is_ok() && !backend.capabilities_known() {
                if let Err(error) = backend.probe_capabilities().await {
                    tracing::warn!(backend = backend.name(), %error, "capability probe failed");
                }
            }
            health
        }))
        .await;
        let newly_reachable = results
            .iter()
            .enumerate()
            .any(|(i, r)| r.is_ok() && !self.table.listed(i));
        for (backend, result) in self.backends.iter().zip(&results) {
            if let Err(error) = result {
                tracing::warn!(backend = backend.name(), %error, "backend health check failed");
            }
        }
        if newly_reachable {
            self.rebuild().await;
        }
    }

    /// Runs [`FederatedProvider::check_backends`] every `interval` until the federation is
    /// dropped.
    pub fn spawn_monitor(self: &Arc<Self>, interval: Duration) -> tokio::task::JoinHandle<()> {
        let weak: Weak<Self> = Arc::downgrade(self);
        tokio::spawn(async move {
            let mut ticker = tokio::time::interval(interval);
            ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            ticker.tick().await;
            loop {
                ticker.tick().await;
                let Some(federation) = weak.upgrade() else {
                    return;
                };
                federation.check_backends().await;
            }
        })
    }
}
