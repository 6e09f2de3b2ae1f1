//! The invoke plumbing behind the front end and [`Emulator::invoke`](crate::Emulator::invoke):
//! the payload limit, the concurrency limit, and the pool of idle execution environments.

use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};

use bytes::Bytes;
use tokio::sync::watch;

use crate::config::EmulatorConfig;
use crate::environment::Environment;
use crate::error::EmulatorError;
use crate::invoke_result::InvokeResult;
use crate::runtime_api::MAX_PAYLOAD_BYTES;

/// What the front end and the [`Emulator`](crate::Emulator) share: the configuration, the idle
/// environments, the concurrency count and limit, and the stop signal.
pub(crate) struct Shared {
    pub(crate) cfg: EmulatorConfig,
    pub(crate) idle: Mutex<Vec<Environment>>,
    pub(crate) inflight: AtomicU32,
    pub(crate) limit: Mutex<Option<u32>>,
    pub(crate) stopping: watch::Sender<bool>,
    pub(crate) stopped: AtomicBool,
}

/// Gives the concurrency slot back.
struct Slot<'a>(&'a AtomicU32);

impl Drop for Slot<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

impl Shared {
    pub(crate) fn new(cfg: EmulatorConfig) -> Self {
        let limit = cfg.max_concurrency;
        Shared {
            cfg,
            idle: Mutex::new(Vec::new()),
            inflight: AtomicU32::new(0),
            limit: Mutex::new(limit),
            stopping: watch::Sender::new(false),
            stopped: AtomicBool::new(false),
        }
    }

    fn acquire(&self) -> Result<Slot<'_>, EmulatorError> {
        let limit = *self.limit.lock().unwrap_or_else(|e| e.into_inner());
        let mut current = self.inflight.load(Ordering::SeqCst);
        loop {
            if let Some(limit) = limit {
                if current >= limit {
                    return Err(EmulatorError::Throttled {
                        limit,
                        inflight: current,
                    });
                }
            }
            match self.inflight.compare_exchange(
                current,
                current + 1,
                Ordering::SeqCst,
                Ordering::SeqCst,
            ) {
                Ok(_) => return Ok(Slot(&self.inflight)),
                Err(actual) => current = actual,
            }
        }
    }

    /// Keeps exactly `count` idle environments initialised (standbys): idle ones beyond it, or
    /// not initialised, are reset; missing ones are started and initialised one by one. Returns
    /// how many are ready.
    pub(crate) async fn keep_warm(&self, count: usize) -> Result<usize, EmulatorError> {
        let surplus: Vec<Environment> = {
            let mut idle = self.idle.lock().unwrap_or_else(|e| e.into_inner());
            let (mut ready, other): (Vec<Environment>, Vec<Environment>) =
                idle.drain(..).partition(Environment::is_initialised);
            let extra = ready.split_off(count.min(ready.len()));
            *idle = ready;
            extra.into_iter().chain(other).collect()
        };
        for mut environment in surplus {
            environment.reset().await;
        }
        loop {
            let have = self.idle.lock().unwrap_or_else(|e| e.into_inner()).len();
            if have >= count {
                return Ok(have);
            }
            if self.stopped.load(Ordering::SeqCst) {
                return Err(EmulatorError::Stopped);
            }
            let mut environment = Environment::new();
            environment
                .initialise(&self.cfg, self.stopping.subscribe())
                .await?;
            if self.stopped.load(Ordering::SeqCst) {
                environment.reset().await;
                return Err(EmulatorError::Stopped);
            }
            self.idle
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .push(environment);
        }
    }

    pub(crate) async fn invoke(
        &self,
        payload: Bytes,
        client_context: Option<String>,
    ) -> Result<InvokeResult, EmulatorError> {
        if self.stopped.load(Ordering::SeqCst) {
            return Err(EmulatorError::Stopped);
        }
        if payload.len() > MAX_PAYLOAD_BYTES {
            return Err(EmulatorError::PayloadTooLarge {
                size: payload.len(),
                limit: MAX_PAYLOAD_BYTES,
            });
        }
        let _slot = self.acquire()?;
        let mut environment = self
            .idle
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .pop()
            .unwrap_or_else(Environment::new);
        let result = environment
            .invoke(
                &self.cfg,
                self.stopping.subscribe(),
                payload,
                client_context,
            )
            .await;
        if self.stopped.load(Ordering::SeqCst) {
            environment.reset().await;
        } else {
            self.idle
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .push(environment);
        }
        result
    }
}
