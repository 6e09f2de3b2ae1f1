//! The Runtime API one execution environment's `bootstrap` talks to
//! (`/2018-06-01/runtime/...`), with the RIE's status codes:
//!
//! | call | replies |
//! |---|---|
//! | `GET /invocation/next` | 200 + event (waits for one); 500 once the environment is shut down |
//! | `POST /invocation/{id}/response` | 202; 400 unknown id; 403 already answered; 413 over 6 MiB + 100 B (the invocation then fails with `Function.ResponseSizeTooLarge`); 500 shut down |
//! | `POST /invocation/{id}/error` | 202; 400; 403; 500 |
//! | `POST /init/error` | 202; 403 after the first `/next`; 500 |
//!
//! Error bodies are `{"errorType","errorMessage"}` like the RIE's.

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use bytes::Bytes;
use http_body_util::{BodyExt, Limited};
use tokio::net::TcpListener;
use tokio::sync::{mpsc, oneshot, watch};

/// Largest event or result (the RIE's limit: 6 MiB + 100 B).
pub const MAX_PAYLOAD_BYTES: usize = 6 * 1024 * 1024 + 100;

/// Request ids remembered to tell "already answered" (403) from "unknown" (400).
const REMEMBERED_IDS: usize = 64;

/// An event handed to the runtime.
#[derive(Debug)]
pub(crate) struct Dispatch {
    pub(crate) request_id: String,
    pub(crate) payload: Bytes,
    pub(crate) deadline_ms: u64,
    pub(crate) trace_id: String,
    pub(crate) client_context: Option<String>,
    pub(crate) reply: oneshot::Sender<Reply>,
}

/// How the runtime answered an invocation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reply {
    /// `/response`: the result and its Content-Type.
    Response {
        /// The result bytes.
        body: Bytes,
        /// The Content-Type the runtime sent.
        content_type: Option<String>,
    },
    /// `/error`: the `Lambda-Runtime-Function-Error-Type` header and the body.
    Error {
        /// The error type header (if any).
        error_type: Option<String>,
        /// The body as sent.
        body: Bytes,
    },
}

/// What the environment's runtime has done so far.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Signal {
    /// Nothing yet.
    Starting,
    /// The first `GET /next` arrived: init is complete.
    Ready,
    /// `POST /init/error` arrived.
    InitError {
        error_type: Option<String>,
        body: Bytes,
    },
}

#[derive(Default)]
struct Book {
    initialized: bool,
    closed: bool,
    inflight: Option<(String, oneshot::Sender<Reply>)>,
    answered: VecDeque<String>,
}

pub(crate) struct ApiState {
    function_arn: String,
    events_tx: Mutex<Option<mpsc::Sender<Dispatch>>>,
    events_rx: tokio::sync::Mutex<mpsc::Receiver<Dispatch>>,
    book: Mutex<Book>,
    signal: watch::Sender<Signal>,
}

/// A running Runtime API server for one environment incarnation.
pub(crate) struct RuntimeApiServer {
    state: Arc<ApiState>,
    addr: SocketAddr,
    shutdown: Option<oneshot::Sender<()>>,
}

impl RuntimeApiServer {
    /// Bind `127.0.0.1:0` and serve.
    pub(crate) async fn start(function_arn: String) -> std::io::Result<RuntimeApiServer> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let (events_tx, events_rx) = mpsc::channel(1);
        let state = Arc::new(ApiState {
            function_arn,
            events_tx: Mutex::new(Some(events_tx)),
            events_rx: tokio::sync::Mutex::new(events_rx),
            book: Mutex::new(Book::default()),
            signal: watch::Sender::new(Signal::Starting),
        });
        let (shutdown, stop) = oneshot::channel::<()>();
        let app = router(Arc::clone(&state));
        tokio::spawn(async move {
            let _ = axum::serve(listener, app)
                .with_graceful_shutdown(async move {
                    let _ = stop.await;
                })
                .await;
        });
        Ok(RuntimeApiServer {
            state,
            addr,
            shutdown: Some(shutdown),
        })
    }

    /// `host:port` for `AWS_LAMBDA_RUNTIME_API`.
    pub(crate) fn addr(&self) -> SocketAddr {
        self.addr
    }

    pub(crate) fn signals(&self) -> watch::Receiver<Signal> {
        self.state.signal.subscribe()
    }

    /// Queue an event for the runtime's `GET /next`. Fails when shut down.
    pub(crate) async fn dispatch(&self, dispatch: Dispatch) -> Result<(), Dispatch> {
        let sender = lock(&self.state.events_tx).clone();
        match sender {
            Some(sender) => sender.send(dispatch).await.map_err(|e| e.0),
            None => Err(dispatch),
        }
    }

    /// Refuse everything from now on (pending `/next` → 500) and stop the listener.
    pub(crate) fn close(&mut self) {
        {
            let mut book = lock(&self.state.book);
            book.closed = true;
            book.inflight = None;
        }
        lock(&self.state.events_tx).take();
        if let Some(stop) = self.shutdown.take() {
            let _ = stop.send(());
        }
    }
}

impl Drop for RuntimeApiServer {
    fn drop(&mut self) {
        self.close();
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

fn router(state: Arc<ApiState>) -> Router {
    Router::new()
        .route("/2018-06-01/runtime/invocation/next", get(next))
        .route(
            "/2018-06-01/runtime/invocation/{id}/response",
            post(response),
        )
        .route("/2018-06-01/runtime/invocation/{id}/error", post(error))
        .route("/2018-06-01/runtime/init/error", post(init_error))
        .fallback(|| async {
            api_error(
                StatusCode::NOT_FOUND,
                "InvalidRequest",
                "unknown Runtime API path",
            )
        })
        .with_state(state)
}

fn api_error(status: StatusCode, error_type: &str, message: &str) -> Response {
    let body = serde_json::json!({"errorType": error_type, "errorMessage": message});
    (
        status,
        [(
            axum::http::header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        )],
        body.to_string(),
    )
        .into_response()
}

fn closed() -> Response {
    api_error(
        StatusCode::INTERNAL_SERVER_ERROR,
        "Runtime.ShuttingDown",
        "the execution environment is shutting down; the runtime must exit",
    )
}

fn accepted() -> Response {
    (
        StatusCode::ACCEPTED,
        [(
            axum::http::header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        )],
        r#"{"status":"OK"}"#,
    )
        .into_response()
}

async fn next(State(state): State<Arc<ApiState>>) -> Response {
    {
        let mut book = lock(&state.book);
        if book.closed {
            return closed();
        }
        book.initialized = true;
    }
    state.signal.send_if_modified(|s| {
        let first = *s == Signal::Starting;
        if first {
            *s = Signal::Ready;
        }
        first
    });
    let mut events = state.events_rx.lock().await;
    let Some(dispatch) = events.recv().await else {
        return closed();
    };
    drop(events);
    let mut book = lock(&state.book);
    if book.closed {
        return closed();
    }
    book.inflight = Some((dispatch.request_id.clone(), dispatch.reply));
    drop(book);
    let mut response = Response::new(Body::from(dispatch.payload));
    let headers = response.headers_mut();
    let mut set = |name: &'static str, value: &str| {
        if let Ok(v) = HeaderValue::from_str(value) {
            headers.insert(name, v);
        }
    };
    set("lambda-runtime-aws-request-id", &dispatch.request_id);
    set(
        "lambda-runtime-deadline-ms",
        &dispatch.deadline_ms.to_string(),
    );
    set("lambda-runtime-invoked-function-arn", &state.function_arn);
    set("lambda-runtime-trace-id", &dispatch.trace_id);
    if let Some(context) = &dispatch.client_context {
        set("lambda-runtime-client-context", context);
    }
    set("content-type", "application/json");
    response
}

/// Why a Runtime API call is refused.
enum Refusal {
    Closed,
    AlreadyAnswered(String),
    UnknownId(String),
    TooLarge,
    BadBody(String),
}

impl Refusal {
    fn response(self) -> Response {
        match self {
            Refusal::Closed => closed(),
            Refusal::AlreadyAnswered(id) => api_error(
                StatusCode::FORBIDDEN,
                "InvalidStateTransition",
                &format!("invocation {id} was already answered"),
            ),
            Refusal::UnknownId(id) => api_error(
                StatusCode::BAD_REQUEST,
                "InvalidRequestID",
                &format!("invalid request id {id}: not the invocation in progress"),
            ),
            Refusal::TooLarge => api_error(
                StatusCode::PAYLOAD_TOO_LARGE,
                "Function.ResponseSizeTooLarge",
                &too_large_message(),
            ),
            Refusal::BadBody(e) => api_error(
                StatusCode::BAD_REQUEST,
                "InvalidRequest",
                &format!("cannot read the body: {e}"),
            ),
        }
    }
}

/// Take the in-flight invocation `id`, or the reason it cannot be answered.
fn claim(state: &ApiState, id: &str) -> Result<oneshot::Sender<Reply>, Refusal> {
    let mut book = lock(&state.book);
    if book.closed {
        return Err(Refusal::Closed);
    }
    match book.inflight.take() {
        Some((current, reply)) if current == id => {
            book.answered.push_back(current);
            if book.answered.len() > REMEMBERED_IDS {
                book.answered.pop_front();
            }
            Ok(reply)
        }
        other => {
            book.inflight = other;
            if book.answered.iter().any(|a| a == id) {
                Err(Refusal::AlreadyAnswered(id.to_string()))
            } else {
                Err(Refusal::UnknownId(id.to_string()))
            }
        }
    }
}

async fn read_limited(body: Body) -> Result<Bytes, Refusal> {
    match Limited::new(body, MAX_PAYLOAD_BYTES).collect().await {
        Ok(c) => Ok(c.to_bytes()),
        Err(e) if e.is::<http_body_util::LengthLimitError>() => Err(Refusal::TooLarge),
        Err(e) => Err(Refusal::BadBody(e.to_string())),
    }
}

pub(crate) fn too_large_message() -> String {
    format!(
        "Response payload size exceeded maximum allowed payload size ({MAX_PAYLOAD_BYTES} bytes)."
    )
}

fn header(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
}

fn size_error() -> Reply {
    Reply::Error {
        error_type: Some("Function.ResponseSizeTooLarge".into()),
        body: Bytes::from(
            serde_json::json!({
                "errorType": "Function.ResponseSizeTooLarge",
                "errorMessage": too_large_message(),
            })
            .to_string(),
        ),
    }
}

async fn response(
    State(state): State<Arc<ApiState>>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let reply = match claim(&state, &id) {
        Ok(r) => r,
        Err(refusal) => return refusal.response(),
    };
    match read_limited(body).await {
        Ok(body) => {
            let _ = reply.send(Reply::Response {
                body,
                content_type: header(&headers, "content-type"),
            });
            accepted()
        }
        Err(refusal) => {
            let _ = reply.send(match refusal {
                Refusal::TooLarge => size_error(),
                _ => Reply::Error {
                    error_type: Some("Runtime.TruncatedResponse".into()),
                    body: Bytes::from_static(
                        br#"{"errorType":"Runtime.TruncatedResponse","errorMessage":"the runtime's response broke off"}"#,
                    ),
                },
            });
            refusal.response()
        }
    }
}

async fn error(
    State(state): State<Arc<ApiState>>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let reply = match claim(&state, &id) {
        Ok(r) => r,
        Err(refusal) => return refusal.response(),
    };
    match read_limited(body).await {
        Ok(body) => {
            let _ = reply.send(Reply::Error {
                error_type: header(&headers, "lambda-runtime-function-error-type"),
                body,
            });
            accepted()
        }
        Err(refusal) => {
            let _ = reply.send(match refusal {
                Refusal::TooLarge => size_error(),
                _ => Reply::Error {
                    error_type: Some("Runtime.TruncatedResponse".into()),
                    body: Bytes::from_static(
                        br#"{"errorType":"Runtime.TruncatedResponse","errorMessage":"the runtime's error report broke off"}"#,
                    ),
                },
            });
            refusal.response()
        }
    }
}

async fn init_error(
    State(state): State<Arc<ApiState>>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    {
        let book = lock(&state.book);
        if book.closed {
            return closed();
        }
        if book.initialized {
            return api_error(
                StatusCode::FORBIDDEN,
                "InvalidStateTransition",
                "init already completed (the runtime called /next)",
            );
        }
    }
    let body = match read_limited(body).await {
        Ok(b) => b,
        Err(refusal) => return refusal.response(),
    };
    state.signal.send_replace(Signal::InitError {
        error_type: header(&headers, "lambda-runtime-function-error-type"),
        body,
    });
    accepted()
}

#[cfg(test)]
mod tests {
    use super::*;

    const BASE: &str = "/2018-06-01/runtime";

    fn url(server: &RuntimeApiServer, path: &str) -> String {
        format!("http://{}{BASE}{path}", server.addr())
    }

    fn dispatch(id: &str, payload: &'static [u8]) -> (Dispatch, oneshot::Receiver<Reply>) {
        let (reply, rx) = oneshot::channel();
        (
            Dispatch {
                request_id: id.to_string(),
                payload: Bytes::from_static(payload),
                deadline_ms: 4_102_444_800_000,
                trace_id: "Root=1-0-0;Parent=0;Sampled=0".into(),
                client_context: Some(r#"{"custom":{"k":"v"}}"#.into()),
                reply,
            },
            rx,
        )
    }

    #[tokio::test]
    async fn next_response_and_the_rie_status_codes() {
        let mut server = RuntimeApiServer::start("arn:aws:lambda:us-east-1:0:function:f".into())
            .await
            .unwrap();
        let client = reqwest::Client::new();
        let mut signals = server.signals();
        assert_eq!(*signals.borrow(), Signal::Starting);

        let next = tokio::spawn({
            let client = client.clone();
            let url = url(&server, "/invocation/next");
            async move { client.get(url).send().await.unwrap() }
        });
        signals.wait_for(|s| *s == Signal::Ready).await.unwrap();
        let (d, reply) = dispatch("id-1", b"{\"event\":1}");
        server.dispatch(d).await.unwrap();
        let response = next.await.unwrap();
        assert_eq!(response.status(), 200);
        let h = response.headers();
        assert_eq!(h["lambda-runtime-aws-request-id"], "id-1");
        assert_eq!(h["lambda-runtime-deadline-ms"], "4102444800000");
        assert_eq!(
            h["lambda-runtime-invoked-function-arn"],
            "arn:aws:lambda:us-east-1:0:function:f"
        );
        assert_eq!(
            h["lambda-runtime-trace-id"],
            "Root=1-0-0;Parent=0;Sampled=0"
        );
        assert_eq!(
            h["lambda-runtime-client-context"],
            r#"{"custom":{"k":"v"}}"#
        );
        assert_eq!(h["content-type"], "application/json");
        assert_eq!(response.bytes().await.unwrap().as_ref(), b"{\"event\":1}");

        // init/error after /next: 403.
        let late_init = client
            .post(url(&server, "/init/error"))
            .body("{}")
            .send()
            .await
            .unwrap();
        assert_eq!(late_init.status(), 403);

        // Unknown id: 400. The right one: 202, the result reaches the invoker. Again: 403.
        let bad = client
            .post(url(&server, "/invocation/nope/response"))
            .body("x")
            .send()
            .await
            .unwrap();
        assert_eq!(bad.status(), 400);
        let ok = client
            .post(url(&server, "/invocation/id-1/response"))
            .header("content-type", "text/plain")
            .body("result")
            .send()
            .await
            .unwrap();
        assert_eq!(ok.status(), 202);
        assert_eq!(
            reply.await.unwrap(),
            Reply::Response {
                body: Bytes::from_static(b"result"),
                content_type: Some("text/plain".into())
            }
        );
        for path in ["/invocation/id-1/response", "/invocation/id-1/error"] {
            let again = client
                .post(url(&server, path))
                .body("x")
                .send()
                .await
                .unwrap();
            assert_eq!(again.status(), 403, "{path}");
        }

        // /error with its type header.
        let next = tokio::spawn({
            let client = client.clone();
            let url = url(&server, "/invocation/next");
            async move { client.get(url).send().await.unwrap() }
        });
        let (d, reply) = dispatch("id-2", b"{}");
        server.dispatch(d).await.unwrap();
        assert_eq!(next.await.unwrap().status(), 200);
        let err = client
            .post(url(&server, "/invocation/id-2/error"))
            .header("lambda-runtime-function-error-type", "Runtime.ExitError")
            .body(r#"{"errorType":"Runtime.ExitError","errorMessage":"boom"}"#)
            .send()
            .await
            .unwrap();
        assert_eq!(err.status(), 202);
        assert_eq!(
            reply.await.unwrap(),
            Reply::Error {
                error_type: Some("Runtime.ExitError".into()),
                body: Bytes::from_static(
                    br#"{"errorType":"Runtime.ExitError","errorMessage":"boom"}"#
                )
            }
        );

        // A result over 6 MiB + 100 B: 413, and the invocation fails with the size error.
        let next = tokio::spawn({
            let client = client.clone();
            let url = url(&server, "/invocation/next");
            async move { client.get(url).send().await.unwrap() }
        });
        let (d, reply) = dispatch("id-3", b"{}");
        server.dispatch(d).await.unwrap();
        assert_eq!(next.await.unwrap().status(), 200);
        let big = client
            .post(url(&server, "/invocation/id-3/response"))
            .body(vec![b'x'; MAX_PAYLOAD_BYTES + 1])
            .send()
            .await
            .unwrap();
        assert_eq!(big.status(), 413);
        let body: serde_json::Value = big.json().await.unwrap();
        assert_eq!(body["errorType"], "Function.ResponseSizeTooLarge");
        match reply.await.unwrap() {
            Reply::Error { error_type, .. } => {
                assert_eq!(error_type.as_deref(), Some("Function.ResponseSizeTooLarge"))
            }
            other => panic!("{other:?}"),
        }

        // Exactly at the limit is accepted.
        let next = tokio::spawn({
            let client = client.clone();
            let url = url(&server, "/invocation/next");
            async move { client.get(url).send().await.unwrap() }
        });
        let (d, reply) = dispatch("id-4", b"{}");
        server.dispatch(d).await.unwrap();
        assert_eq!(next.await.unwrap().status(), 200);
        let max = client
            .post(url(&server, "/invocation/id-4/response"))
            .body(vec![b'x'; MAX_PAYLOAD_BYTES])
            .send()
            .await
            .unwrap();
        assert_eq!(max.status(), 202);
        assert!(
            matches!(reply.await.unwrap(), Reply::Response { body, .. } if body.len() == MAX_PAYLOAD_BYTES)
        );

        // Unknown path: 404. After close: a waiting /next gets 500.
        let unknown = client.get(url(&server, "/nope")).send().await.unwrap();
        assert_eq!(unknown.status(), 404);
        let next = tokio::spawn({
            let client = client.clone();
            let url = url(&server, "/invocation/next");
            async move { client.get(url).send().await.unwrap() }
        });
        // Let the /next reach the server before closing (it is then waiting for an event).
        while server.state.events_rx.try_lock().is_ok() {
            tokio::task::yield_now().await;
        }
        server.close();
        assert_eq!(next.await.unwrap().status(), 500);
    }

    #[tokio::test]
    async fn init_error_before_next_is_accepted_and_signalled() {
        let server = RuntimeApiServer::start("arn".into()).await.unwrap();
        let mut signals = server.signals();
        let response = reqwest::Client::new()
            .post(url(&server, "/init/error"))
            .header(
                "lambda-runtime-function-error-type",
                "Runtime.InvalidEntrypoint",
            )
            .body(r#"{"errorType":"Runtime.InvalidEntrypoint","errorMessage":"no cat"}"#)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 202);
        let signal = signals
            .wait_for(|s| matches!(s, Signal::InitError { .. }))
            .await
            .unwrap()
            .clone();
        assert_eq!(
            signal,
            Signal::InitError {
                error_type: Some("Runtime.InvalidEntrypoint".into()),
                body: Bytes::from_static(
                    br#"{"errorType":"Runtime.InvalidEntrypoint","errorMessage":"no cat"}"#
                )
            }
        );
    }
}
