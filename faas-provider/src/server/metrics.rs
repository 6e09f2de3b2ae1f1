//! Prometheus metrics: `provider_http_requests_total` and `provider_http_request_duration_seconds`
//! with labels `code`, `method`, `path`, as the Go SDK exports them.

use std::sync::Arc;
use std::time::Instant;

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use http::{HeaderValue, StatusCode, header};
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct HttpLabels {
    code: String,
    method: String,
    path: String,
}

/// The server's metrics and the registry they are exported from (possibly shared with the
/// provider's own metrics, see [`super::router_with_registry`]).
pub(crate) struct Metrics {
    registry: Registry,
    requests: Family<HttpLabels, Counter>,
    duration: Family<HttpLabels, Histogram>,
}

impl Metrics {
    pub(crate) fn new(mut registry: Registry) -> Self {
        let requests = Family::<HttpLabels, Counter>::default();
        let duration = Family::<HttpLabels, Histogram>::new_with_constructor(
            (|| Histogram::new(exponential_buckets(0.0005, 2.0, 16))) as fn() -> Histogram,
        );
        registry.register(
            "provider_http_requests",
            "Requests served, by code, method and path",
            requests.clone(),
        );
        registry.register(
            "provider_http_request_duration_seconds",
            "Time to the response head, by code, method and path",
            duration.clone(),
        );
        Self {
            registry,
            requests,
            duration,
        }
    }

    fn observe(&self, code: StatusCode, method: &str, path: String, seconds: f64) {
        let labels = HttpLabels {
            code: code.as_u16().to_string(),
            method: method.to_string(),
            path,
        };
        self.requests.get_or_create(&labels).inc();
        self.duration.get_or_create(&labels).observe(seconds);
    }

    fn encode(&self) -> Result<String, std::fmt::Error> {
        let mut text = String::new();
        prometheus_client::encoding::text::encode(&mut text, &self.registry)?;
        Ok(text)
    }
}

/// The `path` label: the route with bounded cardinality (`/function/<name>` keeps the function,
/// drops the rest of the path; unknown paths share one label).
fn path_label(path: &str) -> String {
    if let Some(rest) = path.strip_prefix("/function/") {
        let name = rest.split('/').next().unwrap_or("");
        return format!("/function/{name}");
    }
    for prefix in [
        "/system/function/",
        "/system/scale-function/",
        "/system/namespace/",
    ] {
        if path.starts_with(prefix) {
            return format!("{prefix}{{name}}");
        }
    }
    match path {
        "/system/functions" | "/system/info" | "/system/secrets" | "/system/logs"
        | "/system/namespaces" | "/healthz" | "/metrics" => path.to_string(),
        _ => "other".to_string(),
    }
}

pub(crate) async fn record(
    State(metrics): State<Arc<Metrics>>,
    req: Request,
    next: Next,
) -> Response {
    let started = Instant::now();
    let method = req.method().as_str().to_string();
    let path = path_label(req.uri().path());
    let response = next.run(req).await;
    metrics.observe(
        response.status(),
        &method,
        path,
        started.elapsed().as_secs_f64(),
    );
    response
}

pub(crate) async fn export(State(metrics): State<Arc<Metrics>>) -> Response {
    match metrics.encode() {
        Ok(text) => {
            let mut response = text.into_response();
            response.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static(
                    "application/openmetrics-text; version=1.0.0; charset=utf-8",
                ),
            );
            response
        }
        Err(_) => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::path_label;

    #[test]
    fn path_labels_are_bounded() {
        assert_eq!(path_label("/function/echo/a/b"), "/function/echo");
        assert_eq!(
            path_label("/system/function/echo"),
            "/system/function/{name}"
        );
        assert_eq!(path_label("/system/functions"), "/system/functions");
        assert_eq!(path_label("/random/x"), "other");
    }
}
