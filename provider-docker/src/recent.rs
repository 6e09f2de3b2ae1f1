//! Views of a function just listed by a status read, handed to the mutation that follows at
//! once: the federation's scale from zero reads the status (is it at zero? which labels?),
//! then scales, and the scale starts from that list instead of asking the engine again.
//!
//! A view is handed over only when nothing changed the function since it was listed (every
//! mutation counts as a change when it takes the function's lock and again when it lets it
//! go) and it is at most [`REUSE_WITHIN`] old: as fresh as the list a mutation makes itself,
//! give or take a status read.
//!
//! Only functions a status read found have a slot, and a deleted function's slot goes: the
//! marks come from one counter, and a function without a slot is as of the counter's value,
//! so a change to it (or a delete) still makes the views listed before it stale.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use faas_provider::FunctionRef;

use crate::labels::FunctionView;

/// The oldest listed view a mutation starts from.
pub(crate) const REUSE_WITHIN: Duration = Duration::from_millis(500);

/// Per function: the mark of its last change, and the view last listed.
#[derive(Debug, Default)]
pub(crate) struct RecentViews {
    slots: Mutex<HashMap<FunctionRef, Slot>>,
    /// The last mark handed out: a change of any function counts it up.
    last_mark: AtomicU64,
}

#[derive(Debug, Default)]
struct Slot {
    mark: u64,
    listed: Option<Listed>,
}

#[derive(Debug)]
struct Listed {
    view: FunctionView,
    mark: u64,
    at: Instant,
}

impl RecentViews {
    fn slots(&self) -> std::sync::MutexGuard<'_, HashMap<FunctionRef, Slot>> {
        self.slots.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The mark of `function`'s last change: read it before listing, hand it to [`Self::keep`].
    pub(crate) fn mark(&self, function: &FunctionRef) -> u64 {
        let slots = self.slots();
        slots
            .get(function)
            .map_or_else(|| self.last_mark.load(Ordering::SeqCst), |slot| slot.mark)
    }

    /// Keeps `view`, listed after reading `mark`, for the next mutation.
    pub(crate) fn keep(&self, function: &FunctionRef, mark: u64, view: FunctionView) {
        let mut slots = self.slots();
        let slot = slots.entry(function.clone()).or_insert_with(|| Slot {
            mark: self.last_mark.load(Ordering::SeqCst),
            listed: None,
        });
        slot.listed = Some(Listed {
            view,
            mark,
            at: Instant::now(),
        });
    }

    /// The view kept for `function` if nothing changed it since it was listed and it is
    /// recent; taken either way.
    pub(crate) fn take(&self, function: &FunctionRef) -> Option<FunctionView> {
        let mut slots = self.slots();
        let slot = slots.get_mut(function)?;
        let listed = slot.listed.take()?;
        (listed.mark == slot.mark && listed.at.elapsed() <= REUSE_WITHIN).then_some(listed.view)
    }

    /// Records a change of `function` (views listed before it are never handed over).
    pub(crate) fn changed(&self, function: &FunctionRef) {
        let mut slots = self.slots();
        let mark = self.last_mark.fetch_add(1, Ordering::SeqCst) + 1;
        if let Some(slot) = slots.get_mut(function) {
            slot.mark = mark;
            slot.listed = None;
        }
    }

    /// `function` was deleted (or never existed): its slot goes, and the views listed before
    /// are stale.
    pub(crate) fn forget(&self, function: &FunctionRef) {
        let mut slots = self.slots();
        self.last_mark.fetch_add(1, Ordering::SeqCst);
        slots.remove(function);
    }

    #[cfg(test)]
    fn slot_count(&self) -> usize {
        self.slots().len()
    }
}

#[cfg(test)]
mod tests {
    use chrono::Utc;
    use faas_provider::FunctionDeployment;

    use super::*;

    fn view() -> FunctionView {
        FunctionView {
            function: f(),
            spec: FunctionDeployment::new("echo", "img"),
            generation: 1,
            created_at: Utc::now(),
            holders: vec![],
            replicas: vec![],
            standbys: vec![],
        }
    }

    fn f() -> FunctionRef {
        FunctionRef::new("echo", "openfaas-fn")
    }

    #[test]
    fn a_view_is_handed_over_once_when_nothing_changed_since() {
        let recent = RecentViews::default();
        assert!(recent.take(&f()).is_none());
        let mark = recent.mark(&f());
        recent.keep(&f(), mark, view());
        assert!(recent.take(&f()).is_some());
        assert!(recent.take(&f()).is_none(), "handed over twice");

        // Listed before a change (a mutation started or ended meanwhile): never handed over.
        let mark = recent.mark(&f());
        recent.changed(&f());
        recent.keep(&f(), mark, view());
        assert!(recent.take(&f()).is_none());
        // A change drops a kept view.
        let mark = recent.mark(&f());
        recent.keep(&f(), mark, view());
        recent.changed(&f());
        assert!(recent.take(&f()).is_none());
        // Other functions are not affected.
        let other = FunctionRef::new("other", "openfaas-fn");
        let mark = recent.mark(&f());
        recent.keep(&f(), mark, view());
        recent.changed(&other);
        assert!(recent.take(&f()).is_some());
    }

    #[test]
    fn deleted_functions_leave_no_slot_and_their_old_views_stay_stale() {
        let recent = RecentViews::default();
        // Mutations of a function no read found leave nothing behind.
        recent.changed(&f());
        recent.changed(&f());
        assert_eq!(recent.slot_count(), 0);

        let mark = recent.mark(&f());
        recent.keep(&f(), mark, view());
        assert_eq!(recent.slot_count(), 1);
        // Listed before the delete, kept after it: never handed over.
        let before = recent.mark(&f());
        recent.changed(&f());
        recent.forget(&f());
        assert_eq!(recent.slot_count(), 0);
        recent.keep(&f(), before, view());
        assert!(recent.take(&f()).is_none());
        // A change of a function without a slot makes a view listed before it stale too.
        recent.forget(&f());
        let before = recent.mark(&f());
        recent.changed(&f());
        recent.keep(&f(), before, view());
        assert!(recent.take(&f()).is_none());
        // Listed after: handed over.
        let after = recent.mark(&f());
        recent.keep(&f(), after, view());
        assert!(recent.take(&f()).is_some());
    }

    #[test]
    fn an_old_view_is_not_handed_over() {
        let recent = RecentViews::default();
        let mark = recent.mark(&f());
        recent.keep(&f(), mark, view());
        recent
            .slots()
            .get_mut(&f())
            .unwrap()
            .listed
            .as_mut()
            .unwrap()
            .at = Instant::now() - REUSE_WITHIN - Duration::from_millis(1);
        assert!(recent.take(&f()).is_none());
    }
}
