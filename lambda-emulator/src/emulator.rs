//! The public [`Emulator`]: serve the invoke front end for one function, invoke in process,
//! stop.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use bytes::Bytes;
use tokio::sync::oneshot;

use crate::config::EmulatorConfig;
use crate::environment::Environment;
use crate::error::EmulatorError;
use crate::frontend;
use crate::invoke::Shared;
use crate::invoke_result::InvokeResult;

/// A running emulator for one function.
pub struct Emulator {
    shared: Arc<Shared>,
    addr: SocketAddr,
    server: Option<(oneshot::Sender<()>, tokio::task::JoinHandle<()>)>,
}

impl std::fmt::Debug for Emulator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Emulator")
            .field("function", &self.shared.cfg.function_name)
            .field("addr", &self.addr)
            .finish_non_exhaustive()
    }
}

impl Emulator {
    /// Validate the configuration and serve the invoke front end (no sandbox starts yet).
    pub async fn start(cfg: EmulatorConfig) -> Result<Emulator, EmulatorError> {
        cfg.validate()?;
        let listener = tokio::net::TcpListener::bind(cfg.bind)
            .await
            .map_err(|source| EmulatorError::Io {
                what: format!("binding {}", cfg.bind),
                source,
            })?;
        let addr = listener.local_addr().map_err(|source| EmulatorError::Io {
            what: "reading the bound address".into(),
            source,
        })?;
        let shared = Arc::new(Shared::new(cfg));
        let app = frontend::router(Arc::clone(&shared));
        let (stop_tx, stop_rx) = oneshot::channel::<()>();
        let server = tokio::spawn(async move {
            let _ = axum::serve(listener, app)
                .with_graceful_shutdown(async move {
                    let _ = stop_rx.await;
                })
                .await;
        });
        Ok(Emulator {
            shared,
            addr,
            server: Some((stop_tx, server)),
        })
    }

    /// The base URL of the invoke front end (`http://127.0.0.1:PORT`), usable as an aws-sdk
    /// `endpoint_url`.
    pub fn invoke_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The front end's address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The configuration in use.
    pub fn config(&self) -> &EmulatorConfig {
        &self.shared.cfg
    }

    /// Invoke synchronously, in process (same rules as the HTTP front end, minus its JSON check).
    pub async fn invoke(&self, payload: Bytes) -> Result<InvokeResult, EmulatorError> {
        self.shared.invoke(payload, None).await
    }

    /// Keeps `count` execution environments initialised and idle, ready for the next invokes
    /// (a warm pool: each has run its init up to the first `GET /next`, so an invoke taking it
    /// pays no init); idle environments beyond `count` are reset, `0` resets them all. Returns
    /// how many are ready; an init that fails is the error (nothing of it is left running).
    pub async fn keep_warm(&self, count: usize) -> Result<usize, EmulatorError> {
        self.shared.keep_warm(count).await
    }

    /// Idle environments whose runtime is initialised and waiting for an event.
    pub fn warm(&self) -> usize {
        self.shared
            .idle
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
            .filter(|e| e.is_initialised())
            .count()
    }

    /// Change the concurrency limit (`None` removes it; `Some(0)` throttles everything).
    pub fn set_concurrency(&self, limit: Option<u32>) {
        *self.shared.limit.lock().unwrap_or_else(|e| e.into_inner()) = limit;
    }

    /// Invocations in flight right now.
    pub fn inflight(&self) -> u32 {
        self.shared.inflight.load(Ordering::SeqCst)
    }

    /// Stop: refuse new invokes, kill every sandbox, stop the front end.
    pub async fn stop(mut self) {
        self.shutdown().await;
    }

    async fn shutdown(&mut self) {
        self.shared.stopped.store(true, Ordering::SeqCst);
        self.shared.stopping.send_replace(true);
        let idle: Vec<Environment> =
            std::mem::take(&mut *self.shared.idle.lock().unwrap_or_else(|e| e.into_inner()));
        for mut environment in idle {
            environment.reset().await;
        }
        // Busy environments see `stopping` and reset themselves.
        while self.shared.inflight.load(Ordering::SeqCst) > 0 {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        if let Some((stop, server)) = self.server.take() {
            let _ = stop.send(());
            let _ = server.await;
        }
    }
}

impl Drop for Emulator {
    fn drop(&mut self) {
        // Without `stop`, sandboxes still go: processes are killed on drop of their handles
        // (kill_on_drop) once their environments are dropped; containers are removed here.
        self.shared.stopped.store(true, Ordering::SeqCst);
        self.shared.stopping.send_replace(true);
        let idle: Vec<Environment> =
            std::mem::take(&mut *self.shared.idle.lock().unwrap_or_else(|e| e.into_inner()));
        if idle.is_empty() {
            return;
        }
        if let Ok(handle) = tokio::runtime::Handle::try_current() {
            handle.spawn(async move {
                for mut environment in idle {
                    environment.reset().await;
                }
            });
        }
        if let Some((stop, _)) = self.server.take() {
            let _ = stop.send(());
        }
    }
}
