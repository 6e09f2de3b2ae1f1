//! Replica readiness: which replicas pass `/_/health` (and so get routed to), checked on demand
//! and by a background task every `health_interval`.

use std::collections::HashMap;
use std::sync::Weak;
use std::time::Duration;

use faas_provider::{FunctionRef, FunctionStatus, Result};
use futures::future::join_all;

use crate::labels::{FunctionView, Record};
use crate::routes;
use crate::shared::Inner;

/// Re-checks every function of the scope every `interval` (never when zero), until the provider
/// is dropped.
pub(crate) fn spawn_health_checks(inner: Weak<Inner>, interval: Duration) {
    if interval.is_zero() {
        return;
    }
    tokio::spawn(async move {
        let mut ticker = tokio::time::interval(interval);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        ticker.tick().await;
        loop {
            ticker.tick().await;
            let Some(inner) = inner.upgrade() else { break };
            if let Err(e) = inner.refresh_all().await {
                tracing::warn!(error = %e, "background health check failed");
            }
        }
    });
}

/// What one look at a function found.
pub(crate) struct Observed {
    pub(crate) replicas: u64,
    pub(crate) available: u64,
}

impl Inner {
    /// Probes the running replicas of `view` and records the ready ones for routing (unless the
    /// function was changed since `epoch`).
    pub(crate) async fn observe(&self, view: &FunctionView, epoch: u64) -> Observed {
        let candidates: Vec<&Record> = view
            .replicas
            .iter()
            .filter(|r| r.is_running() && !self.routes.is_draining(&r.id))
            .collect();
        let probes = candidates.iter().map(|record| async move {
            match record.address {
                Some(addr) if routes::probe(&self.engine.client, addr).await => {
                    Some((record.id.clone(), addr))
                }
                _ => None,
            }
        });
        let ready: Vec<_> = join_all(probes).await.into_iter().flatten().collect();
        let available = ready.len() as u64;
        self.routes.set_observed(&view.function, epoch, ready);
        Observed {
            replicas: view.replicas.len() as u64,
            available,
        }
    }

    pub(crate) fn status(&self, view: &FunctionView, observed: &Observed) -> FunctionStatus {
        let mut status = FunctionStatus::from_deployment(&view.spec, view.created_at);
        status.namespace = view.function.namespace.clone();
        status.replicas = observed.replicas;
        status.available_replicas = observed.available;
        status.invocation_count = self.routes.invocations(&view.function) as f64;
        status
    }

    /// Looks a function up in the engine and refreshes its route (the view is kept for a
    /// mutation that follows, see [`crate::recent`]); `None` when absent.
    pub(crate) async fn refresh_function(
        &self,
        function: &FunctionRef,
    ) -> Result<Option<(FunctionView, Observed)>> {
        let epoch = self.routes.epoch(function);
        let mark = self.recent.mark(function);
        match self.engine.view(function).await? {
            Some(view) => {
                self.recent.keep(function, mark, view.clone());
                let observed = self.observe(&view, epoch).await;
                Ok(Some((view, observed)))
            }
            None => {
                self.routes.remove_observed(function, epoch);
                Ok(None)
            }
        }
    }

    pub(crate) async fn refresh_all(&self) -> Result<()> {
        let known = self.routes.functions();
        let epochs: HashMap<FunctionRef, u64> = known
            .iter()
            .map(|f| (f.clone(), self.routes.epoch(f)))
            .collect();
        let records = self.engine.records(None, None).await?;
        let views = FunctionView::group(records);
        for function in known {
            if !views.contains_key(&function) {
                self.routes.remove_observed(&function, epochs[&function]);
            }
        }
        join_all(views.values().map(|view| {
            let epoch = epochs
                .get(&view.function)
                .copied()
                .unwrap_or_else(|| self.routes.epoch(&view.function));
            self.observe(view, epoch)
        }))
        .await;
        Ok(())
    }
}
