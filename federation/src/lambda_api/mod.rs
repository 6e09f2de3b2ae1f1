//! The AWS Lambda REST API on the federation: the paths and JSON shapes of the Lambda API
//! version AWS SDKs, boto3 and the AWS CLI use, translated into calls of the same
//! [`faas_provider::Provider`] the OpenFaaS routes use — so a function deployed through one API
//! is visible and invocable through the other, on whichever backend owns it.
//!
//! | operation | method and path | OpenFaaS |
//! |---|---|---|
//! | `CreateFunction` | `POST /2015-03-31/functions` | deploy (`Code.ImageUri` is the image; a `provided.al2023`/`provided.al2` `ZipFile` is imported as one, see [`import`]) |
//! | `ListFunctions` | `GET /2015-03-31/functions[/]` | list of every namespace, `Marker`/`MaxItems` pages |
//! | `GetFunction`, `GetFunctionConfiguration` | `GET /2015-03-31/functions/{name}[/configuration]` | status |
//! | `UpdateFunctionCode` | `PUT /2015-03-31/functions/{name}/code` | update (image, or zip imported as one) |
//! | `UpdateFunctionConfiguration` | `PUT /2015-03-31/functions/{name}/configuration` | update (env, limits, annotations) |
//! | `DeleteFunction` | `DELETE /2015-03-31/functions/{name}` | delete |
//! | `Invoke` | `POST /2015-03-31/functions/{name}/invocations` | invoke; `Event` → the async queue |
//! | `Put`/`Delete`/`GetFunctionConcurrency` | `/2017-10-31/…/concurrency`, `GET /2019-09-30/…/concurrency` | scale / replicas |
//! | `TagResource`, `UntagResource`, `ListTags` | `/2017-03-31/tags/{arn}` | labels (+ the backend annotation) |
//!
//! The mappings are documented in [`names`] (function names and ARNs), [`model`] (fields),
//! `concurrency.rs` (replicas) and `invoke.rs` (invocation types, function errors, log tails). Every failure has Lambda's shape ([`LambdaError`]), including
//! unknown operations under the API's path prefixes and unreadable bodies. With credentials
//! configured every request must carry a valid SigV4 signature ([`sigv4`]).

mod concurrency;
mod config;
mod error;
mod functions;
pub mod import;
mod invoke;
pub mod model;
pub mod names;
pub mod sigv4;
mod state;
mod tags;

use std::hash::{BuildHasher, RandomState};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::SystemTime;

use axum::Router;
use axum::extract::{DefaultBodyLimit, Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodRouter, any, get, post, put};
use faas_provider::{Body, Provider};
use http::HeaderValue;

pub use config::{LAMBDA_MAX_PAYLOAD, LambdaApiConfig, ZipImportConfig};
pub use error::{ERROR_TYPE_HEADER, LambdaError};
pub use invoke::{EXECUTED_VERSION, FUNCTION_ERROR, INVOCATION_TYPE, LOG_RESULT, LOG_TYPE};

use crate::body::{BodyError, read_bounded};
use crate::queue::Queue;
use state::{ApiState, RequestId, Shared};

/// The path prefixes (API versions) the Lambda API owns: anything under them is answered in
/// Lambda's shape.
pub const PREFIXES: [&str; 5] = [
    "/2015-03-31",
    "/2017-10-31",
    "/2019-09-30",
    "/2017-03-31",
    "/2016-08-19",
];

/// Largest body of a control-plane request (Lambda's `CreateFunction` bound).
const CONTROL_PLANE_MAX_BODY: usize = 70_167_211;

/// The response header carrying the request id.
pub const REQUEST_ID_HEADER: &str = "x-amzn-requestid";

/// The Lambda API's routes, to merge into the server's router:
///
/// ```no_run
/// use std::sync::Arc;
/// use faas_provider::{Provider, ServerConfig};
/// use federation::lambda_api::{self, LambdaApiConfig};
/// use federation::queue::{EmbeddedQueue, Queue};
///
/// let provider: Arc<dyn Provider> = Arc::new(provider_memory::MemoryProvider::new());
/// let queue: Arc<dyn Queue> = Arc::new(EmbeddedQueue::new(10_000));
/// let app: axum::Router = faas_provider::server::router(provider.clone(), &ServerConfig::default())
///     .merge(lambda_api::routes(provider, queue, LambdaApiConfig::default()));
/// ```
///
/// `provider` is the one the OpenFaaS routes use (the federation, with its scaling wrapper if
/// any); `queue` receives `Event` invocations (a [`crate::queue::Worker`] must run it).
pub fn routes(
    provider: Arc<dyn Provider>,
    queue: Arc<dyn Queue>,
    config: LambdaApiConfig,
) -> Router {
    let state = ApiState::new(Shared {
        provider,
        queue,
        keys: Arc::new(sigv4::Keys::new(config.credentials.clone())),
        config: Arc::new(config),
    });
    let op = |route: MethodRouter<ApiState>| route.fallback(unknown_operation);
    let mut router = Router::new()
        .route(
            "/2015-03-31/functions",
            op(get(functions::list).post(functions::create)),
        )
        .route("/2015-03-31/functions/", op(get(functions::list)))
        .route(
            "/2015-03-31/functions/{name}",
            op(get(functions::get).delete(functions::delete)),
        )
        .route(
            "/2015-03-31/functions/{name}/configuration",
            op(get(functions::get_configuration).put(functions::update_configuration)),
        )
        .route(
            "/2015-03-31/functions/{name}/code",
            op(put(functions::update_code)),
        )
        .route(
            "/2015-03-31/functions/{name}/invocations",
            op(post(invoke::invoke)),
        )
        .route(
            "/2017-10-31/functions/{name}/concurrency",
            op(put(concurrency::put).delete(concurrency::delete)),
        )
        .route(
            "/2019-09-30/functions/{name}/concurrency",
            op(get(concurrency::get)),
        )
        .route(
            "/2017-03-31/tags/{name}",
            op(get(tags::list).post(tags::tag).delete(tags::untag)),
        );
    for prefix in PREFIXES {
        router = router
            .route(prefix, any(unknown_operation))
            .route(&format!("{prefix}/"), any(unknown_operation))
            .route(&format!("{prefix}/{{*rest}}"), any(unknown_operation));
    }
    router
        .layer(axum::middleware::from_fn_with_state(state.clone(), guard))
        .layer(DefaultBodyLimit::disable())
        .with_state(state)
}

async fn unknown_operation(request: Request) -> LambdaError {
    LambdaError::unknown_operation(request.method(), request.uri().path())
}

fn is_invoke(path: &str) -> bool {
    path.starts_with("/2015-03-31/functions/") && path.ends_with("/invocations")
}

/// Around every Lambda route: a request id, the body read whole (bounded: 413
/// `RequestTooLargeException`), and, with credentials configured, the SigV4 check.
async fn guard(State(state): State<ApiState>, request: Request, next: Next) -> Response {
    let request_id = request_id();
    let mut response = match checked(&state, request, &request_id).await {
        Ok(request) => next.run(request).await,
        Err(error) => error.into_response(),
    };
    if let Ok(value) = HeaderValue::from_str(&request_id) {
        response.headers_mut().insert(REQUEST_ID_HEADER, value);
    }
    response
}

/// A fresh request id: a random (version 4) UUID whose bits are SipHash, keyed once per process
/// from the operating system's randomness, of a counter — unique per request without the system
/// call `Uuid::new_v4` makes each time.
fn request_id() -> String {
    static KEYS: OnceLock<RandomState> = OnceLock::new();
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let keys = KEYS.get_or_init(RandomState::new);
    let count = COUNTER.fetch_add(1, Ordering::Relaxed);
    let high = u128::from(keys.hash_one((count, 0u8)));
    let low = u128::from(keys.hash_one((count, 1u8)));
    uuid::Builder::from_random_bytes((high << 64 | low).to_be_bytes())
        .into_uuid()
        .hyphenated()
        .to_string()
}

async fn checked(
    state: &ApiState,
    request: Request,
    request_id: &str,
) -> Result<Request, LambdaError> {
    let (mut parts, body) = request.into_parts();
    let invoke = is_invoke(parts.uri.path());
    let limit = if invoke {
        state.config.max_payload_bytes
    } else {
        CONTROL_PLANE_MAX_BODY
    };
    let too_large = || {
        let operation = if invoke { "InvokeFunction" } else { "this" };
        LambdaError::too_large(format!(
            "Request must be smaller than {limit} bytes for the {operation} operation"
        ))
    };
    let body = read_bounded(&parts.headers, body, limit)
        .await
        .map_err(|error| match error {
            BodyError::TooLarge => too_large(),
            BodyError::Read(reason) => LambdaError::invalid_content(reason),
        })?;
    if !state.keys.is_empty() {
        sigv4::verify(
            &state.keys,
            &state.config.region,
            &parts,
            &body,
            SystemTime::now(),
        )?;
    }
    parts.extensions.insert(RequestId(request_id.to_string()));
    Ok(Request::from_parts(parts, Body::from(body)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_ids_are_distinct_version_4_uuids() {
        let ids: std::collections::HashSet<String> = (0..10_000).map(|_| request_id()).collect();
        assert_eq!(ids.len(), 10_000);
        for id in ids.iter().take(100) {
            let uuid = uuid::Uuid::parse_str(id).unwrap();
            assert_eq!(uuid.get_version_num(), 4, "{id}");
            assert_eq!(uuid.hyphenated().to_string(), *id);
        }
    }
}
