//! The OpenFaaS provider REST API over any [`crate::Provider`].
//!
//! [`router`] mounts every route of the OpenFaaS provider API, as OpenFaaS faas-provider's Go
//! `serve.go` does: functions CRUD, status, scale, info, secrets, logs, namespaces, `/healthz`,
//! `/metrics` and the invoke proxy.
//! Basic auth (when `basic_auth` is on) guards `/system/*` except the read-only namespace list;
//! `/function/*`, `/healthz` and `/metrics` stay open, as in the Go SDK.

use std::future::Future;
use std::sync::Arc;

use axum::Router;
use axum::response::Response;
use axum::routing::{any, get, post};
use http::StatusCode;
use prometheus_client::registry::Registry;

mod auth;
pub mod calls;
pub mod drain;
mod error;
mod extract;
mod invoke;
pub mod logging;
mod logs;
mod metrics;
mod system;

pub use crate::headers::INTERNAL_HEADER;
pub use auth::{BasicAuthCredentials, PASSWORD_FILE, USER_FILE};
pub use error::status_of;
pub use logging::init_logging;

use crate::{Provider, ServerConfig};

/// What every handler shares.
#[derive(Clone)]
pub(crate) struct AppState {
    pub(crate) provider: Arc<dyn Provider>,
    pub(crate) config: Arc<ServerConfig>,
}

/// Builds the router serving every OpenFaaS provider route over `provider`.
///
/// With `config.basic_auth`, the credentials are read from `config.secret_mount_path` now; if
/// they cannot be read every protected route answers 401 (fail closed) — use [`serve`] or
/// [`check_config`] to fail at startup instead.
pub fn router(provider: Arc<dyn Provider>, config: &ServerConfig) -> Router {
    router_with_registry(provider, config, Registry::default())
}

/// Like [`router`], exporting on `/metrics` the metrics already registered in `registry`
/// (e.g. a federation's per-backend metrics) next to the server's own.
pub fn router_with_registry(
    provider: Arc<dyn Provider>,
    config: &ServerConfig,
    registry: Registry,
) -> Router {
    let state = AppState {
        provider,
        config: Arc::new(config.clone()),
    };
    let metrics = Arc::new(metrics::Metrics::new(registry));

    let mut protected = Router::new()
        .route(
            "/system/functions",
            get(system::list_functions)
                .post(system::deploy)
                .put(system::update)
                .delete(system::delete),
        )
        .route("/system/function/{name}", get(system::status))
        .route("/system/scale-function/{name}", post(system::scale))
        .route("/system/info", get(system::info))
        .route(
            "/system/secrets",
            get(system::list_secrets)
                .post(system::create_secret)
                .put(system::update_secret)
                .delete(system::delete_secret),
        )
        .route("/system/logs", get(logs::logs))
        .route(
            "/system/namespace/{name}",
            get(system::get_namespace)
                .post(system::create_namespace)
                .put(system::update_namespace)
                .delete(system::delete_namespace),
        );
    if config.basic_auth {
        let policy = match BasicAuthCredentials::read_from_dir(&config.secret_mount_path) {
            Ok(credentials) => auth::AuthPolicy::Require(credentials),
            Err(e) => {
                tracing::error!(error = %e, "basic auth is on but credentials are unreadable: refusing /system/*");
                auth::AuthPolicy::DenyAll
            }
        };
        protected = protected.route_layer(axum::middleware::from_fn_with_state(
            policy,
            auth::require_basic_auth,
        ));
    }

    let invocations = Router::new()
        .route("/function/{name}", any(invoke::invoke))
        .route("/function/{name}/", any(invoke::invoke))
        .route("/function/{name}/{*rest}", any(invoke::invoke))
        .route_layer(axum::middleware::from_fn_with_state(
            config.access_log,
            calls::track,
        ));
    let open = Router::new()
        .route("/system/namespaces", get(system::list_namespaces))
        .route("/healthz", get(system::health).head(system::health));

    Router::new()
        .merge(protected)
        .merge(open)
        .merge(invocations)
        .fallback(not_found)
        .with_state(state)
        .route("/metrics", get(metrics::export).with_state(metrics.clone()))
        .layer(axum::middleware::from_fn_with_state(
            metrics,
            metrics::record,
        ))
}

/// Go's router answer for an unknown path.
async fn not_found() -> Response {
    error::text_response(StatusCode::NOT_FOUND, "404 page not found")
}

/// Checks what [`router`] cannot report: basic-auth credentials are readable when required.
pub fn check_config(config: &ServerConfig) -> Result<(), crate::ConfigError> {
    if config.basic_auth {
        BasicAuthCredentials::read_from_dir(&config.secret_mount_path)?;
    }
    Ok(())
}

/// Serves `provider` on `listener` until `shutdown` completes, then drains in-flight requests.
/// Fails before serving when the configuration is unusable ([`check_config`]).
pub async fn serve(
    listener: tokio::net::TcpListener,
    provider: Arc<dyn Provider>,
    config: &ServerConfig,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    serve_router(listener, router(provider, config), config, shutdown).await
}

/// Serves an already built router (see [`router_with_registry`]) like [`serve`]. Request bodies
/// a handler leaves unread are drained before the connection closes ([`drain`]).
pub async fn serve_router(
    listener: tokio::net::TcpListener,
    app: Router,
    config: &ServerConfig,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    use axum::serve::ListenerExt;
    check_config(config).map_err(std::io::Error::other)?;
    let listener = listener.tap_io(|tcp| {
        let _ = tcp.set_nodelay(true);
    });
    let app = app.layer(axum::middleware::map_request(drain::layer));
    axum::serve(
        listener,
        app.into_make_service_with_connect_info::<std::net::SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown)
    .await
}

/// Completes on Ctrl-C or SIGTERM (for [`serve`]'s `shutdown`).
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { _ = ctrl_c => {}, _ = term => {} }
}
