//! Progress bars on stderr (indicatif): bytes per layer, then bytes zipped. A no-op when
//! disabled.

use std::sync::{Arc, Mutex};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::oci::LayerDescriptor;

#[derive(Clone)]
pub(crate) struct Progress {
    bar: Option<Arc<Mutex<Option<ProgressBar>>>>,
}

fn bytes_style(template: &str) -> ProgressStyle {
    ProgressStyle::with_template(template)
        .expect("a valid progress template")
        .progress_chars("=> ")
}

fn short(digest: &str) -> &str {
    let hex = digest.split_once(':').map_or(digest, |(_, h)| h);
    &hex[..hex.len().min(12)]
}

impl Progress {
    pub(crate) fn new(enabled: bool) -> Progress {
        Progress {
            bar: enabled.then(|| Arc::new(Mutex::new(None))),
        }
    }

    fn replace(&self, bar: ProgressBar) {
        if let Some(slot) = &self.bar {
            let mut slot = slot.lock().expect("progress lock");
            if let Some(old) = slot.take() {
                old.finish();
            }
            bar.set_draw_target(ProgressDrawTarget::stderr());
            *slot = Some(bar);
        }
    }

    fn with(&self, f: impl FnOnce(&ProgressBar)) {
        if let Some(slot) = &self.bar
            && let Some(bar) = slot.lock().expect("progress lock").as_ref()
        {
            f(bar);
        }
    }

    pub(crate) fn message(&self, message: String) {
        if self.bar.is_some() {
            let bar = ProgressBar::new_spinner();
            bar.set_message(message);
            self.replace(bar);
        }
    }

    pub(crate) fn layer_start(&self, index: usize, count: usize, layer: &LayerDescriptor) {
        if self.bar.is_some() {
            let bar = ProgressBar::new(layer.size);
            bar.set_style(bytes_style(
                "{prefix} [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec}",
            ));
            bar.set_prefix(format!(
                "layer {}/{count} {}",
                index + 1,
                short(&layer.digest)
            ));
            self.replace(bar);
        }
    }

    pub(crate) fn layer_bytes(&self, n: u64) {
        self.with(|bar| bar.inc(n));
    }

    pub(crate) fn layer_done(&self) {
        self.with(ProgressBar::finish);
    }

    pub(crate) fn zip_start(&self, total: u64) {
        if self.bar.is_some() {
            let bar = ProgressBar::new(total);
            bar.set_style(bytes_style(
                "{prefix} [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec}",
            ));
            bar.set_prefix("zipping");
            self.replace(bar);
        }
    }

    pub(crate) fn zip_bytes(&self, n: u64) {
        self.with(|bar| bar.inc(n));
    }

    pub(crate) fn zip_done(&self) {
        self.with(ProgressBar::finish);
    }

    pub(crate) fn finish(&self) {
        if let Some(slot) = &self.bar
            && let Some(bar) = slot.lock().expect("progress lock").take()
        {
            bar.finish();
        }
    }
}
