//! Function lifecycle: deploy (spec holder, then replicas started until ready), rolling update
//! with roll back, scale, delete; replicas are created, started, replaced and removed here.

use std::time::Duration;

use chrono::Utc;
use faas_provider::{FunctionDeployment, FunctionRef, ProviderError, Result};
use futures::future::join_all;

use crate::engine::Started;
use crate::labels::{FunctionView, Record};
use crate::shared::Inner;
use crate::spec::{self, Plan};

/// Tries at starting a replica whose host port was taken by someone else in the meantime.
const PORT_ATTEMPTS: u32 = 5;

impl Inner {
    fn max_replicas_check(&self, function: &FunctionRef, replicas: u64) -> Result<()> {
        let max = self.engine.config.max_replicas;
        if replicas > max {
            return Err(ProviderError::invalid(format!(
                "{function}: {replicas} replicas is more than this provider's maximum of {max} (max_replicas)"
            )));
        }
        Ok(())
    }

    /// Validates a deployment against the engine and the store.
    fn plan(&self, spec: FunctionDeployment) -> Result<Plan> {
        let plan = spec::plan(spec, &self.engine.facts)?;
        crate::warm::warm_label(&plan.spec)?;
        self.engine.store.require_namespace(&plan.spec.namespace)?;
        for secret in &plan.spec.secrets {
            if !self
                .engine
                .store
                .secret_exists(&plan.spec.namespace, secret)
            {
                return Err(ProviderError::invalid(format!(
                    "unable to find secret: {secret}"
                )));
            }
        }
        Ok(plan)
    }

    /// Starts replicas `indexes` (standbys when `standby`) and waits until each is ready; on
    /// any failure every replica started here is removed and the first error returned.
    pub(crate) async fn start_ready(
        &self,
        plan: &Plan,
        generation: u64,
        created_at: chrono::DateTime<Utc>,
        indexes: &[u32],
        standby: bool,
    ) -> Result<Vec<Started>> {
        let function = FunctionRef::new(&plan.spec.service, &plan.spec.namespace);
        let attempts = indexes.iter().map(|index| {
            let function = &function;
            async move {
                let mut attempt = 0;
                loop {
                    attempt += 1;
                    let started = self
                        .engine
                        .start_replica(plan, generation, created_at, *index, standby)
                        .await?;
                    match self.engine.wait_ready(function, &started).await {
                        Ok(()) => return Ok(started),
                        Err(failure) => {
                            self.engine.remove(&started.id, Duration::ZERO).await;
                            if failure.port_conflict && attempt < PORT_ATTEMPTS {
                                tracing::info!(%function, replica = %started.name, "host port taken meanwhile: retrying on another port");
                                continue;
                            }
                            return Err(failure.error);
                        }
                    }
                }
            }
        });
        let results: Vec<Result<Started>> = join_all(attempts).await;
        let mut started = Vec::new();
        let mut first_error = None;
        for result in results {
            match result {
                Ok(s) => started.push(s),
                Err(e) => {
                    first_error.get_or_insert(e);
                }
            }
        }
        match first_error {
            None => Ok(started),
            Some(error) => {
                join_all(
                    started
                        .iter()
                        .map(|s| self.engine.remove(&s.id, Duration::ZERO)),
                )
                .await;
                Err(error)
            }
        }
    }

    /// Takes a replica out of routing, lets its in-flight invocations finish, stops and
    /// removes it.
    async fn retire(&self, function: &FunctionRef, id: &str) {
        let grace = self.engine.config.stop_timeout;
        self.routes.drain(function, id);
        self.routes.wait_idle(id, grace).await;
        self.engine.remove(id, grace).await;
        self.routes.forget(id);
    }

    /// Removes spec holders older than `generation`, and creates the holder of `generation`
    /// when missing (e.g. pruned by hand).
    async fn settle_holders(&self, view: &FunctionView, plan: Option<&Plan>) -> Result<()> {
        for holder in view
            .holders
            .iter()
            .filter(|h| h.generation < view.generation)
        {
            self.engine.remove(&holder.id, Duration::ZERO).await;
        }
        if !view.holders.iter().any(|h| h.generation == view.generation) {
            let plan = match plan {
                Some(plan) => plan.clone(),
                None => spec::plan(view.spec.clone(), &self.engine.facts)?,
            };
            self.engine
                .create_holder(&plan, view.generation, view.created_at)
                .await?;
        }
        Ok(())
    }

    pub(crate) async fn deploy(&self, spec: FunctionDeployment) -> Result<()> {
        let plan = self.plan(spec)?;
        let function = FunctionRef::new(&plan.spec.service, &plan.spec.namespace);
        let replicas = plan.spec.min_replicas();
        self.max_replicas_check(&function, replicas)?;
        let _lock = self.lock(&function).await;
        if self.engine.view(&function).await?.is_some() {
            return Err(ProviderError::function_exists(&function));
        }
        self.engine.ensure_image(&plan.spec.image, false).await?;
        let created_at = Utc::now();
        let holder = self.engine.create_holder(&plan, 1, created_at).await?;
        let indexes: Vec<u32> = (0..replicas as u32).collect();
        match self
            .start_ready(&plan, 1, created_at, &indexes, false)
            .await
        {
            Ok(started) => {
                for s in &started {
                    self.routes.add_ready(&function, &s.id, s.addr);
                }
                tracing::info!(%function, image = %plan.spec.image, replicas, "deployed");
                Ok(())
            }
            Err(e) => {
                self.engine.remove(&holder, Duration::ZERO).await;
                Err(e)
            }
        }
    }

    pub(crate) async fn update(&self, spec: FunctionDeployment) -> Result<()> {
        let plan = self.plan(spec)?;
        let function = FunctionRef::new(&plan.spec.service, &plan.spec.namespace);
        let _lock = self.lock(&function).await;
        let view = self
            .engine
            .view(&function)
            .await?
            .ok_or_else(|| ProviderError::function_not_found(&function))?;
        let desired = (view.replicas.len() as u64).max(plan.spec.min_replicas());
        self.max_replicas_check(&function, desired)?;
        self.engine.ensure_image(&plan.spec.image, false).await?;
        // Standbys run the old spec: they go. An update leaves at least one replica (the
        // minimum is 1), so the pool is refilled, with the new spec, at the next scale to zero.
        self.remove_all(view.standbys.iter().map(|r| r.id.as_str()))
            .await;
        let generation = view.generation + 1;
        let new_holder = self
            .engine
            .create_holder(&plan, generation, view.created_at)
            .await?;
        let old = view.replicas.clone();
        let extra = view.free_indexes((desired as usize).saturating_sub(old.len()));
        let mut fresh: Vec<Started> = Vec::new();
        let mut replaced: Vec<Record> = Vec::new();
        for i in 0..desired as usize {
            let index = old
                .get(i)
                .map(|r| r.replica)
                .unwrap_or_else(|| extra[i - old.len()]);
            match self
                .start_ready(&plan, generation, view.created_at, &[index], false)
                .await
            {
                Ok(mut started) => {
                    let s = started.remove(0);
                    self.routes.add_ready(&function, &s.id, s.addr);
                    fresh.push(s);
                }
                Err(error) => {
                    let rollback = self.roll_back(&view, &fresh, &replaced).await;
                    self.engine.remove(&new_holder, Duration::ZERO).await;
                    return Err(match rollback {
                        Ok(()) => error,
                        Err(rollback_error) => ProviderError::invalid(format!(
                            "{error}; rolling back to the previous spec also failed: {rollback_error}"
                        )),
                    });
                }
            }
            if let Some(record) = old.get(i) {
                self.retire(&function, &record.id).await;
                replaced.push(record.clone());
            }
        }
        for holder in &view.holders {
            self.engine.remove(&holder.id, Duration::ZERO).await;
        }
        tracing::info!(%function, image = %plan.spec.image, replicas = desired, generation, "updated");
        Ok(())
    }

    /// Undoes a partial rolling update: replicas of the previous spec replace the `replaced`
    /// ones, then the `fresh` ones are retired.
    async fn roll_back(
        &self,
        view: &FunctionView,
        fresh: &[Started],
        replaced: &[Record],
    ) -> Result<()> {
        let function = &view.function;
        let mut result = Ok(());
        if !replaced.is_empty() {
            let plan = spec::plan(view.spec.clone(), &self.engine.facts)?;
            let indexes: Vec<u32> = replaced.iter().map(|r| r.replica).collect();
            match self
                .start_ready(&plan, view.generation, view.created_at, &indexes, false)
                .await
            {
                Ok(started) => {
                    for s in &started {
                        self.routes.add_ready(function, &s.id, s.addr);
                    }
                }
                Err(e) => result = Err(e),
            }
        }
        join_all(fresh.iter().map(|s| self.retire(function, &s.id))).await;
        result
    }

    pub(crate) async fn scale(&self, function: &FunctionRef, replicas: u64) -> Result<()> {
        self.max_replicas_check(function, replicas)?;
        let mut lock = self.lock(function).await;
        let view = self
            .view_of(function, lock.listed.take())
            .await?
            .ok_or_else(|| ProviderError::function_not_found(function))?;
        let current = view.replicas.len() as u64;
        let mut plan = None;
        let mut woken = Vec::new();
        if replicas > current {
            // From zero, standbys are woken first (already routed when this returns).
            if current == 0 {
                woken = self
                    .wake_standbys(function, &view.standbys, view.generation, replicas as usize)
                    .await;
            }
            let missing = (replicas - current) as usize - woken.len();
            if missing > 0 {
                // The image was pulled at deploy: not looked up again (a replica whose image
                // is gone meanwhile gets it, see `Engine::start_replica`).
                let p = spec::plan(view.spec.clone(), &self.engine.facts)?;
                let indexes = view.free_indexes(missing);
                let started = self
                    .start_ready(&p, view.generation, view.created_at, &indexes, false)
                    .await?;
                for s in &started {
                    self.routes.add_ready(function, &s.id, s.addr);
                }
                plan = Some(p);
            }
        } else if replicas < current {
            // Replicas that are down go first, then the highest indexes.
            let mut victims: Vec<&Record> = view.replicas.iter().collect();
            victims.sort_by_key(|r| (r.is_running(), std::cmp::Reverse(r.replica)));
            let victims = &victims[..(current - replicas) as usize];
            join_all(victims.iter().map(|r| self.retire(function, &r.id))).await;
        }
        if replicas == 0 {
            match plan
                .clone()
                .map(Ok)
                .unwrap_or_else(|| spec::plan(view.spec.clone(), &self.engine.facts))
            {
                Ok(p) => {
                    self.fill_pool(
                        function,
                        &p,
                        view.generation,
                        view.created_at,
                        &view.standbys,
                    )
                    .await
                }
                Err(e) => tracing::warn!(%function, error = %e, "warm pool not filled"),
            }
        } else {
            // The pool is kept only at zero: standbys not woken go.
            let left = view
                .standbys
                .iter()
                .filter(|r| !woken.iter().any(|w| w.id == r.id));
            self.remove_all(left.map(|r| r.id.as_str())).await;
        }
        self.settle_holders(&view, plan.as_ref()).await?;
        tracing::info!(%function, from = current, to = replicas, woken = woken.len(), "scaled");
        Ok(())
    }

    pub(crate) async fn delete(&self, function: &FunctionRef) -> Result<()> {
        let lock = self.lock(function).await;
        let deleted = self.delete_locked(function).await;
        drop(lock);
        // Deleted or never there: no view of it is kept (names deleted would pile up).
        self.recent.forget(function);
        deleted
    }

    async fn delete_locked(&self, function: &FunctionRef) -> Result<()> {
        let view = self
            .engine
            .view(function)
            .await?
            .ok_or_else(|| ProviderError::function_not_found(function))?;
        join_all(view.replicas.iter().map(|r| self.retire(function, &r.id))).await;
        self.remove_all(view.standbys.iter().map(|r| r.id.as_str()))
            .await;
        for holder in &view.holders {
            self.engine.remove(&holder.id, Duration::ZERO).await;
        }
        self.routes.remove_function(function);
        // Anything that appeared meanwhile (another provider instance) goes too.
        for record in self
            .engine
            .records(Some(&function.namespace), Some(&function.name))
            .await?
        {
            self.engine.remove(&record.id, Duration::ZERO).await;
        }
        tracing::info!(%function, "deleted");
        Ok(())
    }
}
