//! [`KeyedLocks`]: one async lock per key, forgetting keys nobody holds.

use std::collections::HashMap;
use std::fmt;
use std::hash::Hash;
use std::sync::{Arc, Mutex, PoisonError};

type Slot = Arc<tokio::sync::Mutex<()>>;

/// One async lock per key: work on one key (e.g. deploy, update and delete of one function)
/// runs one at a time, work on different keys in parallel. A key's entry is removed as soon as
/// nobody holds or waits for its lock, so the map does not grow with every key ever seen.
///
/// ```
/// # async fn run() {
/// use faas_provider::sync::KeyedLocks;
///
/// let locks = KeyedLocks::<String>::default();
/// let guard = locks.lock("echo.openfaas-fn".to_string()).await;
/// // ... mutate echo.openfaas-fn; another `lock` of that key waits until `guard` drops ...
/// drop(guard);
/// assert!(locks.is_empty());
/// # }
/// ```
pub struct KeyedLocks<K: Hash + Eq + Clone> {
    slots: Mutex<HashMap<K, Slot>>,
}

impl<K: Hash + Eq + Clone> Default for KeyedLocks<K> {
    fn default() -> Self {
        Self {
            slots: Mutex::new(HashMap::new()),
        }
    }
}

impl<K: Hash + Eq + Clone> fmt::Debug for KeyedLocks<K> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KeyedLocks")
            .field("keys", &self.len())
            .finish()
    }
}

/// Holds the lock of one key until dropped.
#[must_use = "the key is unlocked as soon as the guard is dropped"]
pub struct KeyedGuard<'a, K: Hash + Eq + Clone> {
    locks: &'a KeyedLocks<K>,
    key: K,
    slot: Slot,
    guard: Option<tokio::sync::OwnedMutexGuard<()>>,
}

impl<K: Hash + Eq + Clone> fmt::Debug for KeyedGuard<'_, K> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KeyedGuard").finish_non_exhaustive()
    }
}

impl<K: Hash + Eq + Clone> KeyedLocks<K> {
    /// Waits until nobody else holds `key`'s lock, then holds it until the guard is dropped.
    /// Waiters are served in order (tokio's fair mutex).
    pub async fn lock(&self, key: K) -> KeyedGuard<'_, K> {
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

    /// How many keys are held or waited for now.
    pub fn len(&self) -> usize {
        self.slots
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .len()
    }

    /// True when no key is held or waited for.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
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

    #[tokio::test]
    async fn a_waited_for_key_is_kept_until_its_last_holder_goes() {
        let locks = Arc::new(KeyedLocks::<u32>::default());
        let first = locks.lock(1).await;
        let waiter = {
            let locks = locks.clone();
            tokio::spawn(async move {
                let _g = locks.lock(1).await;
            })
        };
        for _ in 0..10 {
            tokio::task::yield_now().await;
        }
        drop(first);
        assert_eq!(locks.len(), 1, "the waiter still needs the entry");
        waiter.await.unwrap();
        assert!(locks.is_empty());
    }
}
