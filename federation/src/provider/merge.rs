//! Answers merged from several backends and mutations sent to several: the merged function
//! list (and who was left out of it), and the fan-out of secret and namespace mutations with
//! their repair step (see [`crate::fanout`]).

use std::collections::HashMap;
use std::future::Future;

use futures::future::{BoxFuture, join_all};

use faas_provider::{Capabilities, FunctionRef, FunctionStatus, Provider, ProviderError, Result};

use super::federated::{FederatedProvider, PROVIDER_NAME, is_refusal};
use crate::backends::Backend;
use crate::cache::BackendIndex;
use crate::fanout::{self, Plan};
use crate::missing::record_missing;

/// A merged list and the backends left out of it.
#[derive(Debug)]
pub struct ListReport {
    /// Functions of every backend that answered.
    pub functions: Vec<FunctionStatus>,
    /// Backends that could not answer, with why.
    pub missing: Vec<(String, String)>,
}

impl FederatedProvider {
    /// Merges every backend's list of `namespace`; backends that cannot answer are left out
    /// and reported in `missing`. Fails only when no backend answered.
    pub async fn list_report(&self, namespace: &str) -> Result<ListReport> {
        let (lists, missing) = self
            .gather(namespace, |b| b.provider().list(namespace))
            .await?;
        Ok(ListReport {
            functions: self.merge(namespace, lists),
            missing,
        })
    }

    /// Every backend's answer to a list of `namespace` (`list` calls one backend's provider),
    /// and the backends that could not answer, with why. Fails only when no backend answered:
    /// with the refusal when every backend refused (a bad namespace), else `Unavailable`
    /// naming them.
    pub(super) async fn gather<'a, T, F>(
        &'a self,
        namespace: &str,
        list: impl Fn(&'a Backend) -> F,
    ) -> Result<(Vec<(BackendIndex, T)>, Vec<(String, String)>)>
    where
        F: Future<Output = Result<T>> + 'a,
    {
        let results = join_all(self.backends.iter().map(|b| self.call(b, "list", list(b)))).await;
        let mut lists = Vec::new();
        let mut missing = Vec::new();
        let mut refusal = None;
        for (i, result) in results.into_iter().enumerate() {
            match result {
                Ok(list) => lists.push((i, list)),
                Err(e) if is_refusal(&e) => {
                    refusal.get_or_insert(e);
                }
                Err(e) => missing.push((i, e)),
            }
        }
        if lists.is_empty()
            && missing.is_empty()
            && let Some(refusal) = refusal
        {
            return Err(refusal);
        }
        let missing: Vec<(String, String)> = missing
            .into_iter()
            .map(|(i, e)| (self.names[i].clone(), e.to_string()))
            .collect();
        if lists.is_empty() {
            return Err(none_listed(namespace, &missing));
        }
        Ok((lists, missing))
    }

    /// The answers of several backends as one list, in backend order; the routing table
    /// learns every function it did not know. A name listed by several backends (a move in
    /// flight) appears once, where it was first listed, as the copy its route points to.
    fn merge(
        &self,
        namespace: &str,
        lists: Vec<(BackendIndex, Vec<FunctionStatus>)>,
    ) -> Vec<FunctionStatus> {
        let total: usize = lists.iter().map(|(_, list)| list.len()).sum();
        let mut first: HashMap<&str, BackendIndex> = HashMap::with_capacity(total);
        let mut duplicated = false;
        for (i, list) in &lists {
            for status in list {
                duplicated |= first.insert(status.name.as_str(), *i).is_some();
            }
        }
        // Only names not yet routed are added, so the first listing backend wins there.
        self.table.learn(
            namespace,
            lists
                .iter()
                .flat_map(|(i, list)| list.iter().map(move |s| (s.name.as_str(), *i))),
        );
        drop(first);
        if !duplicated {
            let mut functions = Vec::with_capacity(total);
            for (_, list) in lists {
                functions.extend(list);
            }
            return functions;
        }
        let mut merged: Vec<FunctionStatus> = Vec::with_capacity(total);
        let mut positions: HashMap<String, usize> = HashMap::with_capacity(total);
        for (i, list) in lists {
            for status in list {
                match positions.get(&status.name) {
                    Some(&at) => {
                        let function = FunctionRef::new(status.name.clone(), namespace);
                        if self.table.get(&function) == Some(i) {
                            merged[at] = status;
                        }
                    }
                    None => {
                        positions.insert(status.name.clone(), merged.len());
                        merged.push(status);
                    }
                }
            }
        }
        merged
    }

    /// Records backends left out of a merged answer (log + response header).
    pub(super) fn left_out(&self, what: &str, missing: &[(String, String)]) {
        for (backend, reason) in missing {
            tracing::warn!(backend = %backend, %reason, "{what}: backend left out of the answer");
            record_missing(backend);
        }
    }

    /// The backends supporting `operation`; `Unsupported` when none does.
    pub(super) fn supporting(
        &self,
        operation: &'static str,
        feature: impl Fn(&Capabilities) -> bool,
    ) -> Result<Vec<BackendIndex>> {
        let targets: Vec<BackendIndex> = self
            .backends
            .iter()
            .enumerate()
            .filter(|(_, b)| feature(&b.capabilities()))
            .map(|(i, _)| i)
            .collect();
        if targets.is_empty() {
            return Err(ProviderError::unsupported(operation, PROVIDER_NAME));
        }
        Ok(targets)
    }

    /// Sends one mutation to `targets` in parallel.
    async fn fan_out<'a>(
        &'a self,
        targets: &[BackendIndex],
        operation: &'static str,
        call: impl Fn(&'a dyn Provider) -> BoxFuture<'a, Result<()>>,
    ) -> Vec<Result<()>> {
        join_all(targets.iter().map(|i| {
            let backend = &self.backends[*i];
            self.call(backend, operation, call(backend.provider().as_ref()))
        }))
        .await
    }

    /// A fan-out mutation with its repair step (see [`crate::fanout`]).
    pub(super) async fn mutate<'a, R>(
        &'a self,
        targets: Vec<BackendIndex>,
        operation: &'static str,
        benign: fn(&ProviderError) -> bool,
        call: impl Fn(&'a dyn Provider) -> BoxFuture<'a, Result<()>>,
        repair: Option<(&'static str, R)>,
    ) -> Result<()>
    where
        R: Fn(&'a dyn Provider) -> BoxFuture<'a, Result<()>>,
    {
        let mut results = self.fan_out(&targets, operation, call).await;
        match fanout::plan(&results, benign) {
            Plan::Done => Ok(()),
            Plan::Fail(at) | Plan::AllBenign(at) => {
                Err(results.swap_remove(at).err().unwrap_or_else(|| {
                    ProviderError::backend(PROVIDER_NAME, "fan-out result vanished")
                }))
            }
            Plan::Repair(positions) => {
                let Some((repair_operation, repair)) = repair else {
                    return Ok(());
                };
                let again: Vec<BackendIndex> = positions.iter().map(|p| targets[*p]).collect();
                for (i, result) in again
                    .iter()
                    .zip(self.fan_out(&again, repair_operation, repair).await)
                {
                    if let Err(error) = result {
                        tracing::warn!(backend = %self.names[*i], %error, "{operation}: repair failed");
                        return Err(error);
                    }
                }
                Ok(())
            }
        }
    }
}

/// The error of a list no backend answered: `Unavailable` naming the backends `missing` holds,
/// with why each could not.
pub(super) fn none_listed(namespace: &str, missing: &[(String, String)]) -> ProviderError {
    ProviderError::Unavailable {
        backend: missing
            .iter()
            .map(|(name, _)| name.as_str())
            .collect::<Vec<_>>()
            .join(", "),
        reason: format!(
            "no backend could list namespace {namespace}: {}",
            missing
                .iter()
                .map(|(_, why)| why.as_str())
                .collect::<Vec<_>>()
                .join("; ")
        ),
    }
}

/// A call to one backend's provider.
type ProviderCall<'a> = fn(&'a dyn Provider) -> BoxFuture<'a, Result<()>>;

/// The `repair` argument of a fan-out whose benign answers are fixed by `call`.
pub(super) fn repair_with<'a, F>(operation: &'static str, call: F) -> Option<(&'static str, F)>
where
    F: Fn(&'a dyn Provider) -> BoxFuture<'a, Result<()>>,
{
    Some((operation, call))
}

/// The `repair` argument of a fan-out without a repair step.
pub(super) fn no_repair<'a>() -> Option<(&'static str, ProviderCall<'a>)> {
    None
}
