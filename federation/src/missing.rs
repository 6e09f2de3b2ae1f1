//! The backends a merged answer had to leave out, reported in the [`MISSING_BACKENDS_HEADER`]
//! response header.
//!
//! The [`faas_provider::Provider`] trait cannot set headers, so fan-out reads (`list`,
//! `list_secrets`, `list_namespaces`, `get_namespace`) record unreachable backends with
//! [`record_missing`] in a tokio task-local set that [`missing_backends`] scopes around each
//! request and reads afterwards. A leaf module: the provider records, the server's router
//! reports.

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex, PoisonError};

use axum::extract::Request;
use axum::middleware::Next;
use axum::response::Response;
use http::HeaderValue;

/// Response header listing (comma-separated) the backends missing from a merged answer.
pub const MISSING_BACKENDS_HEADER: &str = "x-federation-missing-backends";

type MissingSet = Arc<Mutex<BTreeSet<String>>>;

tokio::task_local! {
    static MISSING: MissingSet;
}

/// Notes that `backend` is missing from the answer being built (no-op outside
/// [`missing_backends`], e.g. when the provider is used as a library).
pub(crate) fn record_missing(backend: &str) {
    let _ = MISSING.try_with(|set| {
        set.lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(backend.to_string());
    });
}

/// Axum middleware: runs the request with an empty task-local set, then adds
/// [`MISSING_BACKENDS_HEADER`] when a fan-out recorded unreachable backends. Invocations
/// (`/function/...`) never fan out and pass straight through.
pub async fn missing_backends(request: Request, next: Next) -> Response {
    if !request.uri().path().starts_with("/system/") {
        return next.run(request).await;
    }
    let set = MissingSet::default();
    let mut response = MISSING.scope(set.clone(), next.run(request)).await;
    let missing = std::mem::take(&mut *set.lock().unwrap_or_else(PoisonError::into_inner));
    if !missing.is_empty() {
        let joined = missing.into_iter().collect::<Vec<_>>().join(", ");
        if let Ok(value) = HeaderValue::from_str(&joined) {
            response
                .headers_mut()
                .insert(MISSING_BACKENDS_HEADER, value);
        }
    }
    response
}
