//! Progress on stderr (indicatif) for the import: a spinner while the layers are built, then
//! a byte bar over every blob pushed. A no-op when disabled.

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::sync::Mutex;

pub(super) struct Progress {
    bar: Option<Mutex<Option<ProgressBar>>>,
}

impl Progress {
    pub(super) fn new(enabled: bool) -> Progress {
        Progress {
            bar: enabled.then(|| Mutex::new(None)),
        }
    }

    fn replace(&self, bar: ProgressBar) {
        if let Some(slot) = &self.bar {
            let mut slot = slot.lock().unwrap_or_else(|e| e.into_inner());
            if let Some(old) = slot.take() {
                old.finish();
            }
            bar.set_draw_target(ProgressDrawTarget::stderr());
            *slot = Some(bar);
        }
    }

    pub(super) fn message(&self, message: String) {
        if self.bar.is_some() {
            let bar = ProgressBar::new_spinner();
            bar.set_message(message);
            self.replace(bar);
        }
    }

    pub(super) fn push_start(&self, total: u64) {
        if self.bar.is_some() {
            let bar = ProgressBar::new(total);
            bar.set_style(
                ProgressStyle::with_template(
                    "{prefix} [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec}",
                )
                .expect("a valid progress template")
                .progress_chars("=> "),
            );
            bar.set_prefix("pushing");
            self.replace(bar);
        }
    }

    pub(super) fn pushed(&self, bytes: u64) {
        if let Some(slot) = &self.bar
            && let Some(bar) = slot.lock().unwrap_or_else(|e| e.into_inner()).as_ref()
        {
            bar.inc(bytes);
        }
    }

    pub(super) fn finish(&self) {
        if let Some(slot) = &self.bar
            && let Some(bar) = slot.lock().unwrap_or_else(|e| e.into_inner()).take()
        {
            bar.finish();
        }
    }
}
