//! Per-key async locks: mutations of one function (deploy, update/move, delete) run one at a
//! time, mutations of different functions in parallel.

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::{Arc, Mutex, PoisonError};

type Slot = Arc<tokio::sync::Mutex<()>>;

/// A lock per key; entries are removed when nobody holds or waits for them.
#[derive(Debug)]
pub(crate) struct KeyedLocks<K: Hash + Eq + Clone> {
    slots: Mutex<HashMap<K, Slot>>,
}

impl<K: Hash + Eq + Clone> Default for KeyedLocks<K> {
    fn default() -> Self {
        Self {
            slots: Mutex::new(HashMap::new()),
        }
    }
}

/// Holds the lock of one key until dropped.
pub(crate) struct KeyedGuard<'a, K: Hash + Eq + Clone> {
    locks: &'a KeyedLocks<K>,
    key: K,
    slot: Slot,
    guard: Option<tokio::sync::OwnedMutexGuard<()>>,
}

impl<K: Hash + Eq + Clone> KeyedLocks<K> {
    pub(crate) async fn lock(&self, key: K) -> KeyedGuard<'_, K> {
        let slot = self
            .slots
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .entry(key.clone())
            .or_default()
            .clone();
        let guard = slot.clone().lock_owned().await;
        KeyedGuard {
            locks: self,
            key,
            slot,
            guard: Some(guard),
        }
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.slots
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .len()
    }
}

impl<K: Hash + Eq + Clone> Drop for KeyedGuard<'_, K> {
    fn drop(&mut self) {
        self.guard.take();
        let mut slots = self
            .locks
            .slots
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        // The map's reference and ours: nobody else holds or waits.
        if Arc::strong_count(&self.slot) == 2 {
            slots.remove(&self.key);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn one_holder_per_key_and_no_leak() {
        let locks = Arc::new(KeyedLocks::<String>::default());
        let first = locks.lock("a".to_string()).await;
        let _other = locks.lock("b".to_string()).await;
        let waiter = {
            let locks = locks.clone();
            tokio::spawn(async move {
                let _g = locks.lock("a".to_string()).await;
            })
        };
        // Single-threaded test runtime: yielding lets the waiter run until it blocks.
        for _ in 0..10 {
            tokio::task::yield_now().await;
        }
        assert!(!waiter.is_finished(), "a second holder got the same key");
        drop(first);
        waiter.await.unwrap();
        drop(_other);
        assert_eq!(locks.len(), 0);
    }
}
