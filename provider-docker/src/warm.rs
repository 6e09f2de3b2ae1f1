//! The warm pool: while a function is at zero replicas it keeps `com.openfaas.scale.warm`
//! standby replicas (default `warm_default`), at most `warm_max` over the whole scope. A
//! standby is a replica of the current spec started (named `warming-…`), checked healthy on
//! `/_/health`, paused, then renamed to a replica's name; scaling up from zero wakes standbys
//! first (an unpause and a `/_/health` check: nothing else on that path), which then are
//! ordinary replicas, and starts the rest as usual. Standbys are told apart by their label,
//! name and state ([`crate::labels`]): they are never counted, probed or routed to.
//!
//! Paused rather than created-and-stopped: measured on this repository's engine (the
//! `standby kinds` section of `benches/warm.rs`, 20 rounds on a 2-core machine shared with two
//! other agents' builds, load average 6.0–6.8), from the container's state to the first
//! `/_/health` 200: unpausing a paused container p50 28.8 ms (p90 60.9 ms), starting a created
//! and stopped one p50 219.3 ms (p90 271.9 ms), create + start p50 222.0 ms (p90 306.7 ms).
//! Paused is 7.6x faster, and a paused container keeps its host port (a stopped one would have
//! to find one again). The cost: a paused standby keeps its memory, hence the provider-wide
//! `warm_max`. A wake through the federation (`faas-bench-wake`) is that unpause plus ≈ 5–7 ms:
//! the scaler's status read (one list, ≈ 1 ms, which the scale then starts from), the
//! `/_/health` check (< 0.5 ms) and the call itself through the federation (≈ 3 ms).

use std::time::Duration;

use chrono::{DateTime, Utc};
use faas_provider::{FunctionRef, ProviderError, Result};
use futures::future::join_all;

use crate::engine::Started;
use crate::labels::{Record, SCALE_WARM};
use crate::shared::Inner;
use crate::spec::Plan;

/// The `com.openfaas.scale.warm` label of a deployment: `None` when absent, a 400 when it is
/// not a count.
pub(crate) fn warm_label(spec: &faas_provider::FunctionDeployment) -> Result<Option<u64>> {
    match spec.labels.as_ref().and_then(|l| l.get(SCALE_WARM)) {
        None => Ok(None),
        Some(value) => value.trim().parse().map(Some).map_err(|_| {
            ProviderError::invalid(format!(
                "labels: {SCALE_WARM} must be a count of standby replicas, not {value:?}"
            ))
        }),
    }
}

impl Inner {
    /// The standby count `plan` asks for: its label, else the provider's `warm_default`.
    fn warm_wanted(&self, plan: &Plan) -> u64 {
        warm_label(&plan.spec)
            .ok()
            .flatten()
            .unwrap_or(self.engine.config.warm_default)
    }

    /// Brings the pool of `function` (at zero replicas) to its warm count of paused standbys
    /// of `plan` at `generation`, within the provider-wide `warm_max`: standbys of another
    /// generation or not prepared (an interrupted fill) are removed, missing ones started and
    /// paused, extra ones removed. Failures are logged, not returned: a function at zero is
    /// fine without a pool. Call with the function's lock held.
    pub(crate) async fn fill_pool(
        &self,
        function: &FunctionRef,
        plan: &Plan,
        generation: u64,
        created_at: DateTime<Utc>,
        existing: &[Record],
    ) {
        let wanted = self.warm_wanted(plan);
        if wanted == 0 && existing.is_empty() {
            return;
        }
        // One fill at a time in the provider: the cap is counted and used under this lock.
        let _pool = self.pool_lock.lock().await;
        let (mut kept, stale): (Vec<&Record>, Vec<&Record>) = existing
            .iter()
            .partition(|r| r.is_wakeable() && r.generation == generation);
        self.remove_all(stale.iter().map(|r| r.id.as_str())).await;
        let cap = self.engine.config.warm_max;
        let others = match self.engine.records(None, None).await {
            Ok(records) => records
                .iter()
                .filter(|r| r.standby && r.is_live() && r.function != *function)
                .count() as u64,
            Err(e) => {
                tracing::warn!(%function, error = %e, "warm pool: cannot count standbys; not filled");
                return;
            }
        };
        let target = wanted.min(cap.saturating_sub(others)) as usize;
        if (target as u64) < wanted {
            tracing::warn!(
                %function, wanted, kept = target, warm_max = cap, elsewhere = others,
                "warm pool cut by the provider-wide cap (warm_max)"
            );
        }
        if kept.len() > target {
            let extra = kept.split_off(target);
            self.remove_all(extra.iter().map(|r| r.id.as_str())).await;
            return;
        }
        let missing = target - kept.len();
        if missing == 0 {
            return;
        }
        let used: std::collections::HashSet<u32> = kept.iter().map(|r| r.replica).collect();
        let indexes: Vec<u32> = (0..).filter(|i| !used.contains(i)).take(missing).collect();
        let started = match self
            .start_ready(plan, generation, created_at, &indexes, true)
            .await
        {
            Ok(started) => started,
            Err(e) => {
                tracing::warn!(%function, error = %e, "warm pool: a standby did not start");
                return;
            }
        };
        let paused = join_all(started.iter().map(|s| async move {
            match self.engine.prepare_standby(s).await {
                Ok(()) => true,
                Err(e) => {
                    tracing::warn!(%function, standby = %s.name, error = %e, "warm pool: pausing or renaming failed");
                    self.engine.remove(&s.id, Duration::ZERO).await;
                    false
                }
            }
        }))
        .await;
        let count = kept.len() + paused.iter().filter(|p| **p).count();
        tracing::info!(%function, standbys = count, "warm pool filled");
    }

    /// Wakes up to `count` paused standbys of `generation` among `standbys`, at once, and
    /// routes to them; a standby that fails to wake is removed (the caller starts a fresh
    /// replica instead). Returns the woken ones.
    pub(crate) async fn wake_standbys(
        &self,
        function: &FunctionRef,
        standbys: &[Record],
        generation: u64,
        count: usize,
    ) -> Vec<Started> {
        let candidates = standbys
            .iter()
            .filter(|r| r.is_wakeable() && r.generation == generation)
            .take(count);
        let woken = join_all(candidates.map(|standby| async move {
            match self.engine.wake(function, standby).await {
                Ok(started) => {
                    self.routes.add_ready(function, &started.id, started.addr);
                    Some(started)
                }
                Err(e) => {
                    tracing::warn!(%function, standby = %standby.name, error = %e, "waking a standby failed");
                    self.engine.remove(&standby.id, Duration::ZERO).await;
                    None
                }
            }
        }))
        .await;
        woken.into_iter().flatten().collect()
    }

    /// Removes containers at once (force: a paused standby cannot be stopped gracefully).
    pub(crate) async fn remove_all<'a>(&self, ids: impl Iterator<Item = &'a str>) {
        join_all(ids.map(|id| self.engine.remove(id, Duration::ZERO))).await;
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use faas_provider::FunctionDeployment;

    use super::*;

    #[test]
    fn the_warm_label_is_a_count() {
        let mut spec = FunctionDeployment::new("f", "img");
        assert_eq!(warm_label(&spec).unwrap(), None);
        spec.labels = Some(BTreeMap::from([(SCALE_WARM.to_string(), " 2".to_string())]));
        assert_eq!(warm_label(&spec).unwrap(), Some(2));
        for bad in ["-1", "two", ""] {
            spec.labels = Some(BTreeMap::from([(SCALE_WARM.to_string(), bad.to_string())]));
            let err = warm_label(&spec).unwrap_err().to_string();
            assert!(err.contains(SCALE_WARM), "{err}");
        }
    }
}
