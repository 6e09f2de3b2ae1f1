//! Keep-alive HTTP/1.1 connections to one plain-`http://` provider, for invocations.
//!
//! An invocation through the federation is a second HTTP exchange on the same machine, so its
//! client side is on the hot path: with `reqwest` it cost more CPU than the load generator that
//! drove it (`faas-bench federation-vs-direct`). This pool is the minimum hyper needs: idle
//! connections in a stack, each one driven **by the task that uses it** (no connection task, no
//! hand-off between tasks on each request: the request, its response head and body move on the
//! caller's task), going back to the stack when its response body has been read to the end.
//! An idle connection is polled when taken, so one the remote closed meanwhile is noticed then;
//! one idle longer than [`IDLE_TIMEOUT`] is closed instead (as Go's `http.Transport` does), when
//! the pool is next used.
//! HTTPS providers keep going through `reqwest` (TLS, proxies).
//!
//! A request is sent again on another connection when hyper gives it back unsent (the idle
//! connection was closed by the remote meanwhile), or, for a bodiless safe request (GET, HEAD,
//! OPTIONS, TRACE), when a reused connection fails under it; otherwise, once bytes may have
//! left, the failure is the caller's.

use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http::HeaderValue;
use http_body::{Body as HttpBody, Frame, SizeHint};
use hyper::body::Incoming;
use hyper::client::conn::http1::{self, Connection, SendRequest};
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;
use tokio::time::Sleep;

use crate::provider::Body;

/// Idle connections kept per provider; more are closed when they come back.
const MAX_IDLE: usize = 256;

/// How long a connection may sit idle before it is closed rather than reused: Go's
/// `http.DefaultTransport` value, so a remote keeping connections longer than that is not
/// relied on. Checked when the pool is used (no timer task): a connection the remote closed
/// meanwhile holds one socket until then.
const IDLE_TIMEOUT: Duration = Duration::from_secs(90);

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
            Self::Exchange(error) => f.write_str(&crate::error::chain(error)),
            Self::Timeout => f.write_str("no response in time"),
        }
    }
}

/// Connections to one `host:port`.
#[derive(Debug)]
pub(super) struct Pool {
    /// `host:port` to connect to (brackets around an IPv6 address).
    authority: String,
    /// The `Host` header of every request.
    host: HeaderValue,
    connect_timeout: Duration,
    idle_timeout: Duration,
    /// Oldest at the bottom, each with the time it came back.
    idle: Mutex<Vec<(Instant, Conn)>>,
}

/// The state machine of one HTTP/1.1 client connection (boxed in [`Conn`]: it is large, and
/// idle connections move in and out of the stack).
type Driver = Connection<TokioIo<TcpStream>, Body>;

/// One connection: the handle requests are sent through, and the state machine that moves
/// its bytes, polled by whoever holds it (dropped, the connection closes).
struct Conn {
    sender: SendRequest<Body>,
    /// `None` once the connection has ended.
    driver: Option<Pin<Box<Driver>>>,
}

impl std::fmt::Debug for Conn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Conn")
            .field("open", &self.driver.is_some())
            .finish()
    }
}

impl Conn {
    /// Moves the connection's bytes; `false` once it has ended (the driver is dropped then,
    /// which fails any request still waiting on it).
    fn drive(&mut self, cx: &mut Context<'_>) -> bool {
        let Some(driver) = self.driver.as_mut() else {
            return false;
        };
        match driver.as_mut().poll(cx) {
            Poll::Pending => true,
            Poll::Ready(result) => {
                if let Err(error) = result {
                    tracing::debug!(%error, "invoke connection ended");
                }
                self.driver = None;
                false
            }
        }
    }

    fn is_open(&self) -> bool {
        self.driver.is_some() && !self.sender.is_closed()
    }

    /// Waits until a request can go out; `false` when the connection ended instead.
    async fn ready(&mut self) -> bool {
        std::future::poll_fn(|cx| {
            let open = self.drive(cx);
            match self.sender.poll_ready(cx) {
                Poll::Ready(result) => Poll::Ready(result.is_ok() && open),
                Poll::Pending if open => Poll::Pending,
                Poll::Pending => Poll::Ready(false),
            }
        })
        .await
    }
}

impl Pool {
    /// A pool connecting to `authority` (`host:port`) and sending `host` as the `Host` header
    /// (without the port when it is the scheme's default, as browsers and `reqwest` do); `None`
    /// when that is not a valid header value.
    pub(super) fn new(authority: &str, host: &str, connect_timeout: Duration) -> Option<Arc<Self>> {
        Some(Arc::new(Self {
            authority: authority.to_string(),
            host: HeaderValue::from_str(host).ok()?,
            connect_timeout,
            idle_timeout: IDLE_TIMEOUT,
            idle: Mutex::new(Vec::new()),
        }))
    }

    /// The `Host` header sent.
    #[cfg(test)]
    pub(super) fn host(&self) -> &HeaderValue {
        &self.host
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
        let (response, conn) = tokio::select! {
            biased;
            result = exchange => result?,
            () = &mut deadline => return Err(PoolError::Timeout),
        };
        let (parts, body) = response.into_parts();
        let mut body = PooledBody {
            inner: body,
            deadline,
            conn: Some(conn),
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
    ) -> Result<(http::Response<Incoming>, Conn), PoolError> {
        let mut fresh_only = false;
        loop {
            let idle = if fresh_only { None } else { self.take_idle() };
            let (mut conn, reused) = match idle {
                Some(conn) => (conn, true),
                // Boxed: the rare path would otherwise size every request's future.
                None => (Box::pin(self.connect()).await?, false),
            };
            if !conn.ready().await {
                if reused {
                    continue;
                }
                return Err(PoolError::Connect(
                    "the connection closed right after it opened".to_string(),
                ));
            }
            let replay = if reused { replayable(&request) } else { None };
            let mut response = std::pin::pin!(conn.sender.try_send_request(request));
            let sent = std::future::poll_fn(|cx| {
                if let Poll::Ready(result) = response.as_mut().poll(cx) {
                    return Poll::Ready(result);
                }
                if conn.drive(cx) {
                    Poll::Pending
                } else {
                    // Ended: the request's answer (an error) is ready now.
                    response.as_mut().poll(cx)
                }
            })
            .await;
            match sent {
                Ok(response) => return Ok((response, conn)),
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

    /// An idle connection still open and ready: each is polled once first, which reads a close
    /// the remote sent while it sat here (or finishes the previous exchange's bookkeeping). One
    /// still busy (a request body the remote did not wait for) is closed, not waited on.
    fn take_idle(&self) -> Option<Conn> {
        let waker = std::task::Waker::noop();
        let mut cx = Context::from_waker(waker);
        loop {
            let mut idle = self.idle.lock().unwrap_or_else(PoisonError::into_inner);
            let (since, mut conn) = idle.pop()?;
            if since.elapsed() > self.idle_timeout {
                // The newest is stale, so all are: closed (outside the lock).
                let stale = std::mem::take(&mut *idle);
                drop(idle);
                drop((stale, conn));
                return None;
            }
            drop(idle);
            if conn.drive(&mut cx) && conn.is_open() && conn.sender.is_ready() {
                return Some(conn);
            }
        }
    }

    fn put_back(&self, conn: Conn) {
        if !conn.is_open() {
            return;
        }
        let now = Instant::now();
        let mut idle = self.idle.lock().unwrap_or_else(PoisonError::into_inner);
        let stale = idle
            .iter()
            .take_while(|(since, _)| now.duration_since(*since) > self.idle_timeout)
            .count();
        let stale: Vec<_> = idle.drain(..stale).collect();
        if idle.len() < MAX_IDLE {
            idle.push((now, conn));
        }
        drop(idle);
        drop(stale);
    }

    async fn connect(&self) -> Result<Conn, PoolError> {
        let connecting = async {
            let stream = TcpStream::connect(&self.authority)
                .await
                .map_err(|e| PoolError::Connect(format!("{}: {e}", self.authority)))?;
            let _ = stream.set_nodelay(true);
            let (sender, driver) = http1::handshake(TokioIo::new(stream))
                .await
                .map_err(|e| PoolError::Connect(format!("{}: {e}", self.authority)))?;
            Ok(Conn {
                sender,
                driver: Some(Box::pin(driver)),
            })
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
    /// Until the body has been read to its end.
    conn: Option<Conn>,
    pool: Arc<Pool>,
}

impl PooledBody {
    fn release(&mut self) {
        if let Some(conn) = self.conn.take() {
            self.pool.put_back(conn);
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
        if let Some(conn) = this.conn.as_mut() {
            // The body's bytes arrive through the connection, which only moves when polled.
            conn.drive(cx);
        }
        match Pin::new(&mut this.inner).poll_frame(cx) {
            Poll::Ready(None) => {
                this.release();
                Poll::Ready(None)
            }
            Poll::Ready(Some(Err(error))) => {
                this.conn = None;
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
                    this.conn = None;
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

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use http_body_util::BodyExt;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::TcpListener;

    use super::*;

    /// A keep-alive HTTP/1.1 remote answering `ok` to every request; counts the connections
    /// it accepted and those the client closed.
    async fn remote() -> (String, Arc<AtomicUsize>, Arc<AtomicUsize>) {
        remote_answering(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok").await
    }

    /// A keep-alive HTTP/1.1 remote writing `answer` as soon as each request head arrives
    /// (whatever else comes is not waited for), with its connection counters.
    async fn remote_answering(
        answer: &'static [u8],
    ) -> (String, Arc<AtomicUsize>, Arc<AtomicUsize>) {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let authority = listener.local_addr().unwrap().to_string();
        let (accepted, closed) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
        let (a, c) = (accepted.clone(), closed.clone());
        tokio::spawn(async move {
            loop {
                let (mut stream, _) = listener.accept().await.unwrap();
                a.fetch_add(1, Ordering::SeqCst);
                let c = c.clone();
                tokio::spawn(async move {
                    let mut seen = Vec::new();
                    let mut buf = [0u8; 1024];
                    loop {
                        match stream.read(&mut buf).await {
                            Ok(0) | Err(_) => break,
                            Ok(n) => seen.extend_from_slice(&buf[..n]),
                        }
                        while let Some(end) = seen.windows(4).position(|w| w == b"\r\n\r\n") {
                            seen.drain(..end + 4);
                            if stream.write_all(answer).await.is_err() {
                                return;
                            }
                        }
                    }
                    c.fetch_add(1, Ordering::SeqCst);
                });
            }
        });
        (authority, accepted, closed)
    }

    fn get() -> http::Request<Body> {
        http::Request::get("/").body(Body::empty()).unwrap()
    }

    async fn read(response: http::Response<PooledBody>) -> Bytes {
        response.into_body().collect().await.unwrap().to_bytes()
    }

    async fn until(what: &str, check: impl Fn() -> bool) {
        for _ in 0..500 {
            if check() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        panic!("{what}: not within 5 s");
    }

    /// A pool to `authority` whose connections go stale after 200 ms idle.
    fn short_idle_pool(authority: &str) -> Arc<Pool> {
        let pool = Pool::new(authority, authority, Duration::from_secs(5)).unwrap();
        Arc::new(Pool {
            idle_timeout: Duration::from_millis(200),
            ..Arc::into_inner(pool).unwrap()
        })
    }

    /// Bound of each exchange in these tests.
    const TIMEOUT: Duration = Duration::from_secs(5);

    #[tokio::test]
    async fn connections_idle_past_the_timeout_are_closed_not_reused() {
        let (authority, accepted, closed) = remote().await;
        let pool = short_idle_pool(&authority);

        // Two at once: two connections, both idle once their bodies are read.
        let first = pool.send(get(), TIMEOUT).await.unwrap();
        let second = pool.send(get(), TIMEOUT).await.unwrap();
        assert_eq!(read(first).await, "ok");
        assert_eq!(read(second).await, "ok");
        assert_eq!(accepted.load(Ordering::SeqCst), 2);
        assert_eq!(pool.idle.lock().unwrap().len(), 2);

        // Within the timeout: reused.
        let again = pool.send(get(), TIMEOUT).await.unwrap();
        assert_eq!(read(again).await, "ok");
        assert_eq!(accepted.load(Ordering::SeqCst), 2);

        // Past it: both closed, a new one opened.
        tokio::time::sleep(Duration::from_millis(400)).await;
        let late = pool.send(get(), TIMEOUT).await.unwrap();
        assert_eq!(read(late).await, "ok");
        assert_eq!(accepted.load(Ordering::SeqCst), 3);
        until("both stale connections closed", || {
            closed.load(Ordering::SeqCst) == 2
        })
        .await;
        assert_eq!(pool.idle.lock().unwrap().len(), 1);
    }

    #[tokio::test]
    async fn stale_connections_under_a_fresh_one_are_closed_when_one_comes_back() {
        let (authority, accepted, closed) = remote().await;
        let pool = short_idle_pool(&authority);

        let first = pool.send(get(), TIMEOUT).await.unwrap();
        let second = pool.send(get(), TIMEOUT).await.unwrap();
        assert_eq!(read(first).await, "ok");
        tokio::time::sleep(Duration::from_millis(400)).await;
        // `first` is stale at the bottom; `second` comes back on top of it.
        assert_eq!(read(second).await, "ok");
        until("the stale connection closed", || {
            closed.load(Ordering::SeqCst) == 1
        })
        .await;
        assert_eq!(pool.idle.lock().unwrap().len(), 1);
        assert_eq!(accepted.load(Ordering::SeqCst), 2);
    }

    #[tokio::test]
    async fn invoke_after_an_early_answer_to_an_unfinished_request_body() {
        use std::convert::Infallible;

        use futures::StreamExt as _;

        use crate::client::HttpProvider;
        use crate::provider::{FunctionRef, Provider as _};

        const GUARD: Duration = Duration::from_secs(60);
        let answer = b"HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\nearly";
        let (authority, _, _) = remote_answering(answer).await;
        let p = HttpProvider::new(&format!("http://{authority}")).unwrap();
        let echo = FunctionRef::new("echo", "dev");
        // The caller's body never ends.
        let endless = futures::stream::once(async { Ok::<_, Infallible>(Bytes::from("part")) })
            .chain(futures::stream::pending());
        let request = http::Request::post("/")
            .body(Body::from_stream(endless))
            .unwrap();
        let response = tokio::time::timeout(GUARD, p.invoke(&echo, request))
            .await
            .expect("the early answer arrives")
            .unwrap();
        let body = tokio::time::timeout(GUARD, response.into_body().collect())
            .await
            .expect("the early answer's body ends")
            .unwrap()
            .to_bytes();
        assert_eq!(&body[..], b"early");
        // The connection is still busy sending that body: the next call does not wait on it.
        let next = tokio::time::timeout(GUARD, async {
            let request = http::Request::get("/next").body(Body::empty()).unwrap();
            let response = p.invoke(&echo, request).await.unwrap();
            let status = response.status();
            let body = response.into_body().collect().await.unwrap().to_bytes();
            (status, String::from_utf8(body.to_vec()).unwrap())
        })
        .await
        .expect("the next call is not stuck behind the unfinished body");
        assert_eq!(next, (http::StatusCode::OK, "early".to_string()));
    }
}
