//! Keep-alive HTTP/1.1 connections to one plain-`http://` provider, for invocations.
//!
//! An invocation through the federation is a second HTTP exchange on the same machine, so its
//! client side is on the hot path: with `reqwest` it cost more CPU than the load generator that
//! drove it (`faas-bench federation-vs-direct`). This pool is the minimum hyper needs: idle
//! [`SendRequest`] handles in a stack, each connection driven by its own task, a handle going
//! back to the stack when its response body has been read to the end, so the next request
//! finds it ready. HTTPS providers keep going through `reqwest` (TLS, proxies).
//!
//! A request is sent again on another connection when hyper gives it back unsent (the idle
//! connection was closed by the remote meanwhile), or, for a bodiless safe request (GET, HEAD,
//! OPTIONS, TRACE), when a reused connection fails under it; otherwise, once bytes may have
//! left, the failure is the caller's.

use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use http::HeaderValue;
use http_body::{Body as HttpBody, Frame, SizeHint};
use hyper::body::Incoming;
use hyper::client::conn::http1::{self, SendRequest};
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;
use tokio::time::Sleep;

use crate::provider::Body;

/// Idle connections kept per provider; more are closed when they come back.
const MAX_IDLE: usize = 256;

/// Why an exchange failed.
#[derive(Debug)]
pub(super) enum PoolError {
    /// Connecting (resolving, TCP, HTTP/1.1 handshake) failed or took too long.
    Connect(String),
    /// The request was sent (perhaps in part) and no response came back.
    Exchange(hyper::Error),
    /// No response head within the invocation's time bound.
    Timeout,
}

impl std::fmt::Display for PoolError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Connect(reason) => write!(f, "cannot connect: {reason}"),
            Self::Exchange(error) => {
                write!(f, "{error}")?;
                let mut source = std::error::Error::source(error);
                while let Some(cause) = source {
                    write!(f, ": {cause}")?;
                    source = cause.source();
                }
                Ok(())
            }
            Self::Timeout => f.write_str("no response in time"),
        }
    }
}

/// Connections to one `host:port`.
#[derive(Debug)]
pub(super) struct Pool {
    /// `host:port` to connect to (brackets around an IPv6 address).
    authority: String,
    /// The same, as the `Host` header of every request.
    host: HeaderValue,
    connect_timeout: Duration,
    idle: Mutex<Vec<SendRequest<Body>>>,
}

impl Pool {
    /// A pool for `authority` (`host:port`); `None` when it is not a valid `Host` value.
    pub(super) fn new(authority: &str, connect_timeout: Duration) -> Option<Arc<Self>> {
        Some(Arc::new(Self {
            authority: authority.to_string(),
            host: HeaderValue::from_str(authority).ok()?,
            connect_timeout,
            idle: Mutex::new(Vec::new()),
        }))
    }

    /// Sends `request` (origin-form URI; `Host` is set here) and waits for the response head,
    /// all within `timeout`; the response body is bounded by the same deadline and gives the
    /// connection back to the pool when read to its end.
    pub(super) async fn send(
        self: &Arc<Self>,
        mut request: http::Request<Body>,
        timeout: Duration,
    ) -> Result<http::Response<PooledBody>, PoolError> {
        request
            .headers_mut()
            .insert(http::header::HOST, self.host.clone());
        let mut deadline = Box::pin(tokio::time::sleep(timeout));
        let exchange = self.exchange(request);
        let (response, sender) = tokio::select! {
            biased;
            result = exchange => result?,
            () = &mut deadline => return Err(PoolError::Timeout),
        };
        let (parts, body) = response.into_parts();
        let mut body = PooledBody {
            inner: body,
            deadline,
            sender: Some(sender),
            pool: self.clone(),
        };
        if body.inner.is_end_stream() {
            // Nobody may poll an empty body (HEAD, 204, 304): the connection is free now.
            body.release();
        }
        Ok(http::Response::from_parts(parts, body))
    }

    async fn exchange(
        &self,
        mut request: http::Request<Body>,
    ) -> Result<(http::Response<Incoming>, SendRequest<Body>), PoolError> {
        let mut fresh_only = false;
        loop {
            let idle = if fresh_only { None } else { self.take_idle() };
            let (mut sender, reused) = match idle {
                Some(sender) => (sender, true),
                // Boxed: the rare path would otherwise size every request's future.
                None => (Box::pin(self.connect()).await?, false),
            };
            if sender.ready().await.is_err() {
                if reused {
                    continue;
                }
                return Err(PoolError::Connect(
                    "the connection closed right after it opened".to_string(),
                ));
            }
            let replay = if reused { replayable(&request) } else { None };
            match sender.try_send_request(request).await {
                Ok(response) => return Ok((response, sender)),
                Err(mut failed) => match (failed.take_message(), replay) {
                    // Never written: safe to send again on another connection.
                    (Some(unsent), _) if reused => request = unsent,
                    // A reused connection the remote closed as this request went out (its
                    // idle timeout): a bodiless safe request is sent once more on a new
                    // connection, as Go's `http.Transport` does.
                    (_, Some(copy)) => {
                        request = copy;
                        fresh_only = true;
                    }
                    _ => return Err(PoolError::Exchange(failed.into_error())),
                },
            }
        }
    }

    fn take_idle(&self) -> Option<SendRequest<Body>> {
        let mut idle = self.idle.lock().unwrap_or_else(PoisonError::into_inner);
        while let Some(sender) = idle.pop() {
            if !sender.is_closed() {
                return Some(sender);
            }
        }
        None
    }

    fn put_back(&self, sender: SendRequest<Body>) {
        if sender.is_closed() {
            return;
        }
        let mut idle = self.idle.lock().unwrap_or_else(PoisonError::into_inner);
        if idle.len() < MAX_IDLE {
            idle.push(sender);
        }
    }

    async fn connect(&self) -> Result<SendRequest<Body>, PoolError> {
        let connecting = async {
            let stream = TcpStream::connect(&self.authority)
                .await
                .map_err(|e| PoolError::Connect(format!("{}: {e}", self.authority)))?;
            let _ = stream.set_nodelay(true);
            let (sender, connection) = http1::handshake(TokioIo::new(stream))
                .await
                .map_err(|e| PoolError::Connect(format!("{}: {e}", self.authority)))?;
            tokio::spawn(async move {
                if let Err(error) = connection.await {
                    tracing::debug!(%error, "invoke connection ended");
                }
            });
            Ok(sender)
        };
        tokio::time::timeout(self.connect_timeout, connecting)
            .await
            .unwrap_or_else(|_| {
                Err(PoolError::Connect(format!(
                    "{}: not connected within {:?}",
                    self.authority, self.connect_timeout
                )))
            })
    }
}

/// A copy of a request that may be sent twice: a safe method (GET, HEAD, OPTIONS, TRACE)
/// without a body.
fn replayable(request: &http::Request<Body>) -> Option<http::Request<Body>> {
    if !request.method().is_safe() || !request.body().is_end_stream() {
        return None;
    }
    let mut copy = http::Request::new(Body::empty());
    *copy.method_mut() = request.method().clone();
    *copy.uri_mut() = request.uri().clone();
    *copy.version_mut() = request.version();
    *copy.headers_mut() = request.headers().clone();
    Some(copy)
}

/// A response body from the pool: bounded by the invocation's deadline, and giving its
/// connection back when read to the end (dropped early, the connection is closed).
pub(super) struct PooledBody {
    inner: Incoming,
    deadline: Pin<Box<Sleep>>,
    sender: Option<SendRequest<Body>>,
    pool: Arc<Pool>,
}

impl PooledBody {
    fn release(&mut self) {
        if let Some(sender) = self.sender.take() {
            self.pool.put_back(sender);
        }
    }
}

/// The response body outlived the invocation's time bound.
#[derive(Debug, thiserror::Error)]
#[error("the response body was not complete within the invocation's time bound")]
pub(super) struct BodyTimeout;

impl HttpBody for PooledBody {
    type Data = Bytes;
    type Error = Box<dyn std::error::Error + Send + Sync>;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        let this = self.get_mut();
        match Pin::new(&mut this.inner).poll_frame(cx) {
            Poll::Ready(None) => {
                this.release();
                Poll::Ready(None)
            }
            Poll::Ready(Some(Err(error))) => {
                this.sender = None;
                Poll::Ready(Some(Err(error.into())))
            }
            Poll::Ready(Some(Ok(frame))) => {
                if this.inner.is_end_stream() {
                    this.release();
                }
                Poll::Ready(Some(Ok(frame)))
            }
            Poll::Pending => {
                if this.deadline.as_mut().poll(cx).is_ready() {
                    this.sender = None;
                    return Poll::Ready(Some(Err(BodyTimeout.into())));
                }
                Poll::Pending
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}
