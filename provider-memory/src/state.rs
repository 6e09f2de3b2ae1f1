//! The provider's state: namespaces, each holding functions and secrets. Plain data, no I/O,
//! no `await`; the provider wraps it in one lock.

use std::collections::BTreeMap;
use std::time::Duration;

use chrono::{DateTime, Utc};
use faas_provider::{
    DEFAULT_NAMESPACE, FunctionDeployment, FunctionNamespace, FunctionRef, FunctionStatus,
    LogMessage, LogRequest, LogStream, ProviderError, Result,
};
use tokio::time::Instant;

use crate::logs::{LogBook, Owner, Writer};

/// Everything the provider knows.
#[derive(Debug)]
pub(crate) struct State {
    pub(crate) namespaces: BTreeMap<String, NamespaceEntry>,
    next_id: u64,
}

/// One namespace and what it holds.
#[derive(Debug)]
pub(crate) struct NamespaceEntry {
    pub(crate) meta: FunctionNamespace,
    pub(crate) functions: BTreeMap<String, FunctionEntry>,
    pub(crate) secrets: BTreeMap<String, Vec<u8>>,
}

impl NamespaceEntry {
    pub(crate) fn new(meta: FunctionNamespace) -> Self {
        Self {
            meta,
            functions: BTreeMap::new(),
            secrets: BTreeMap::new(),
        }
    }
}

impl State {
    /// A state holding only the (empty) default namespace.
    pub(crate) fn new() -> Self {
        let mut namespaces = BTreeMap::new();
        namespaces.insert(
            DEFAULT_NAMESPACE.to_string(),
            NamespaceEntry::new(FunctionNamespace::new(DEFAULT_NAMESPACE)),
        );
        Self {
            namespaces,
            next_id: 0,
        }
    }

    /// A fresh identity for a newly deployed function, so a function deleted and redeployed
    /// while an invocation is in flight is not credited with it.
    pub(crate) fn next_id(&mut self) -> u64 {
        self.next_id += 1;
        self.next_id
    }

    /// The namespace functions and secrets live in; `InvalidRequest` when it does not exist.
    pub(crate) fn namespace(&self, name: &str) -> Result<&NamespaceEntry> {
        self.namespaces
            .get(name)
            .ok_or_else(|| namespace_not_valid(name))
    }

    /// Mutable [`State::namespace`].
    pub(crate) fn namespace_mut(&mut self, name: &str) -> Result<&mut NamespaceEntry> {
        self.namespaces
            .get_mut(name)
            .ok_or_else(|| namespace_not_valid(name))
    }

    /// The function; `InvalidRequest` for an unknown namespace, `NotFound` for an unknown name.
    pub(crate) fn function(&self, function: &FunctionRef) -> Result<&FunctionEntry> {
        self.namespace(&function.namespace)?
            .functions
            .get(&function.name)
            .ok_or_else(|| ProviderError::function_not_found(function))
    }

    /// Mutable [`State::function`].
    pub(crate) fn function_mut(&mut self, function: &FunctionRef) -> Result<&mut FunctionEntry> {
        self.namespace_mut(&function.namespace)?
            .functions
            .get_mut(&function.name)
            .ok_or_else(|| ProviderError::function_not_found(function))
    }
}

/// `InvalidRequest("namespace <ns> not valid")`, as faasd words it.
pub(crate) fn namespace_not_valid(name: &str) -> ProviderError {
    ProviderError::invalid(format!("namespace {name} not valid"))
}

/// One deployed function.
#[derive(Debug)]
pub(crate) struct FunctionEntry {
    pub(crate) id: u64,
    pub(crate) spec: FunctionDeployment,
    pub(crate) created_at: DateTime<Utc>,
    pub(crate) invocations: u64,
    pub(crate) replicas: Replicas,
    next_instance: u64,
    pub(crate) logs: LogBook,
}

impl FunctionEntry {
    pub(crate) fn new(
        id: u64,
        spec: FunctionDeployment,
        replicas: Replicas,
        log_limit: usize,
    ) -> Self {
        Self {
            id,
            spec,
            created_at: Utc::now(),
            invocations: 0,
            replicas,
            next_instance: 0,
            logs: LogBook::new(log_limit),
        }
    }

    /// The status reported by `get` and `list`.
    pub(crate) fn status(&self, now: Instant) -> FunctionStatus {
        let mut status = FunctionStatus::from_deployment(&self.spec, self.created_at);
        status.invocation_count = self.invocations as f64;
        status.replicas = self.replicas.desired();
        status.available_replicas = self.replicas.available(now);
        status
    }

    /// The next ready replica in round-robin order (its index; the instance name is
    /// `<name>-<index>`); `None` when none is ready.
    pub(crate) fn pick_instance(&mut self, now: Instant) -> Option<u64> {
        let available = self.replicas.available(now);
        if available == 0 {
            return None;
        }
        let index = self.next_instance % available;
        self.next_instance = self.next_instance.wrapping_add(1);
        Some(index)
    }

    /// The name of replica `index`.
    pub(crate) fn instance_name(&self, index: u64) -> String {
        Writer::Replica(index).instance(&self.spec.service)
    }

    /// Appends a line written by replica `index`.
    pub(crate) fn log(&mut self, index: u64, text: impl Into<String>) {
        self.push(Writer::Replica(index), text);
    }

    /// Appends a line about the function as a whole (deploy, update, scale, delete); its
    /// instance is the function's name, distinct from every replica's `<name>-<n>`.
    pub(crate) fn log_lifecycle(&mut self, text: impl Into<String>) {
        self.push(Writer::Function, text);
    }

    fn push(&mut self, writer: Writer, text: impl Into<String>) {
        let owner = Owner {
            name: &self.spec.service,
            namespace: &self.spec.namespace,
        };
        self.logs.push(owner, writer, text);
    }

    /// The function's log lines `request` asks for (see [`LogBook::stream`]).
    pub(crate) fn log_stream(&mut self, request: &LogRequest) -> LogStream {
        let owner = Owner {
            name: &self.spec.service,
            namespace: &self.spec.namespace,
        };
        self.logs.stream(owner, request)
    }

    /// The function's history lines `request` asks for (no follow).
    pub(crate) fn log_history(&self, request: &LogRequest) -> Vec<LogMessage> {
        let owner = Owner {
            name: &self.spec.service,
            namespace: &self.spec.namespace,
        };
        self.logs.history(owner, request)
    }
}

/// A function's replicas: how many are wanted and when each becomes ready.
///
/// Replicas are numbered `0..desired`; they are added at the end and removed from the end, and
/// every new one becomes ready one fixed delay after it was added, so the ready replicas are
/// always `0..available`. Kept as batches `(ready_at, count)` in ascending time, so a huge
/// replica count costs nothing.
#[derive(Debug, Clone)]
pub(crate) struct Replicas {
    batches: Vec<(Instant, u64)>,
    delay: Duration,
}

impl Replicas {
    /// `count` new replicas, ready `delay` from `now`.
    pub(crate) fn new(count: u64, delay: Duration, now: Instant) -> Self {
        let mut replicas = Self {
            batches: Vec::new(),
            delay,
        };
        replicas.set(count, now);
        replicas
    }

    /// Desired replicas.
    pub(crate) fn desired(&self) -> u64 {
        self.batches.iter().map(|(_, n)| n).sum()
    }

    /// Replicas ready at `now`.
    pub(crate) fn available(&self, now: Instant) -> u64 {
        self.batches
            .iter()
            .filter(|(at, _)| *at <= now)
            .map(|(_, n)| n)
            .sum()
    }

    /// Scales to `count`: adds new (not yet ready) replicas or removes the newest ones.
    pub(crate) fn set(&mut self, count: u64, now: Instant) {
        let current = self.desired();
        if count > current {
            self.batches.push((now + self.delay, count - current));
        } else {
            let mut excess = current - count;
            while excess > 0 {
                let Some(last) = self.batches.last_mut() else {
                    break;
                };
                if last.1 > excess {
                    last.1 -= excess;
                    excess = 0;
                } else {
                    excess -= last.1;
                    self.batches.pop();
                }
            }
        }
        self.compact(now);
    }

    /// Merges every batch already ready into one, keeping the list short.
    fn compact(&mut self, now: Instant) {
        let ready = self.batches.iter().take_while(|(at, _)| *at <= now).count();
        if ready > 1 {
            let count = self.batches[..ready].iter().map(|(_, n)| n).sum();
            let at = self.batches[0].0;
            self.batches.splice(..ready, [(at, count)]);
        }
        self.batches.retain(|(_, n)| *n > 0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replicas_become_ready_after_the_delay_oldest_first() {
        let t0 = Instant::now();
        let delay = Duration::from_secs(10);
        let mut r = Replicas::new(2, delay, t0);
        assert_eq!((r.desired(), r.available(t0)), (2, 0));
        assert_eq!(r.available(t0 + delay), 2);

        let t1 = t0 + Duration::from_secs(5);
        r.set(5, t1);
        assert_eq!(r.desired(), 5);
        assert_eq!(r.available(t0 + delay), 2);
        assert_eq!(r.available(t1 + delay), 5);

        // Scaling down removes the newest (not yet ready) replicas first.
        r.set(3, t1);
        assert_eq!((r.desired(), r.available(t0 + delay)), (3, 2));
        r.set(1, t1);
        assert_eq!((r.desired(), r.available(t1 + delay)), (1, 1));
        r.set(0, t1);
        assert_eq!((r.desired(), r.available(t1 + delay)), (0, 0));
    }

    #[test]
    fn zero_delay_is_ready_at_once_and_huge_counts_are_cheap() {
        let now = Instant::now();
        let mut r = Replicas::new(1, Duration::ZERO, now);
        assert_eq!(r.available(now), 1);
        r.set(u64::MAX, now);
        assert_eq!((r.desired(), r.available(now)), (u64::MAX, u64::MAX));
        assert_eq!(r.batches.len(), 1, "ready batches are merged");
        r.set(2, now);
        assert_eq!((r.desired(), r.available(now)), (2, 2));
    }
}
