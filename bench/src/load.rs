//! The load generator: hyper HTTP/1.1 connections on loopback, keep-alive, one request in
//! flight per connection. Bounded in time and in requests. [`run`] sends
//! `POST /function/echo`; [`run_requests`] sends whatever a [`MakeRequest`] builds (another
//! API's path, headers, a signature computed per request).

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use anyhow::Context;
use bytes::Bytes;
use http::header::{CONTENT_TYPE, HOST, HeaderValue};
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1::SendRequest;
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;

use crate::servers::FUNCTION;

/// How a phase loads the target.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Mode {
    /// `connections` workers each send the next request as soon as the previous one is
    /// answered (closed loop): the throughput at saturation.
    Saturation {
        /// Concurrent connections.
        connections: usize,
    },
    /// Requests are started at `rate` per second in total, spread over `connections`
    /// (open loop, moderate load): the latency the target adds when it is not queueing.
    FixedRate {
        /// Requests per second, all connections together.
        rate: u64,
        /// Connections the schedule is spread over.
        connections: usize,
    },
}

/// What a phase measured.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Measurement {
    /// Answered requests.
    pub requests: usize,
    /// Requests that failed or did not answer 200.
    pub errors: usize,
    /// Wall time of the phase.
    pub elapsed: Duration,
    /// Request latencies (send to last body byte), sorted, in nanoseconds.
    pub latencies_ns: Vec<u64>,
}

impl Measurement {
    /// Adds another slice of the same phase.
    pub fn merge(&mut self, other: Measurement) {
        self.requests += other.requests;
        self.errors += other.errors;
        self.elapsed += other.elapsed;
        self.latencies_ns.extend(other.latencies_ns);
        self.latencies_ns.sort_unstable();
    }

    /// Answered requests per second.
    pub fn rate(&self) -> f64 {
        let secs = self.elapsed.as_secs_f64();
        if secs > 0.0 {
            self.requests as f64 / secs
        } else {
            0.0
        }
    }

    /// The `q` quantile (0..=1) of latency, in microseconds (nearest rank).
    pub fn quantile_us(&self, q: f64) -> f64 {
        if self.latencies_ns.is_empty() {
            return f64::NAN;
        }
        let rank = ((q * self.latencies_ns.len() as f64).ceil() as usize)
            .clamp(1, self.latencies_ns.len());
        self.latencies_ns[rank - 1] as f64 / 1_000.0
    }
}

/// Builds each request a connection sends, from the `Host` value and the body; called once per
/// request, on the load generator's runtime (so its cost is the client's).
pub type MakeRequest =
    Arc<dyn Fn(&HeaderValue, &Bytes) -> http::Request<Full<Bytes>> + Send + Sync>;

/// `POST /function/echo` with a `text/plain` body: what [`run`] sends.
pub fn function_request(host: &HeaderValue, body: &Bytes) -> http::Request<Full<Bytes>> {
    let mut request = http::Request::new(Full::new(body.clone()));
    *request.method_mut() = http::Method::POST;
    *request.uri_mut() = format!("/function/{FUNCTION}")
        .parse()
        .expect("the function's path is a valid URI");
    let headers = request.headers_mut();
    headers.insert(HOST, host.clone());
    headers.insert(CONTENT_TYPE, HeaderValue::from_static("text/plain"));
    request
}

struct Connection {
    sender: SendRequest<Full<Bytes>>,
}

impl Connection {
    async fn open(addr: SocketAddr) -> anyhow::Result<Self> {
        let stream = TcpStream::connect(addr)
            .await
            .with_context(|| format!("connecting to {addr}"))?;
        stream.set_nodelay(true)?;
        let (sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
            .await
            .context("HTTP/1.1 handshake")?;
        tokio::spawn(async move {
            let _ = connection.await;
        });
        Ok(Self { sender })
    }

    /// One request; `Ok(true)` when it answered 200 with a body.
    async fn send(&mut self, request: http::Request<Full<Bytes>>) -> anyhow::Result<bool> {
        self.sender.ready().await.context("connection closed")?;
        let response = self.sender.send_request(request).await?;
        let ok = response.status() == http::StatusCode::OK;
        let bytes = response.into_body().collect().await?.to_bytes();
        Ok(ok && !bytes.is_empty())
    }
}

/// Loads `addr` with `POST /function/echo` in `mode` for at most `duration` and at most
/// `max_requests` requests.
pub async fn run(
    addr: SocketAddr,
    mode: Mode,
    duration: Duration,
    max_requests: usize,
    body_bytes: usize,
) -> anyhow::Result<Measurement> {
    let make: MakeRequest = Arc::new(function_request);
    run_requests(addr, mode, duration, max_requests, body_bytes, make).await
}

/// Loads `addr` with the requests `make` builds, in `mode`, for at most `duration` and at most
/// `max_requests` requests. A request counts when it is answered 200 with a body.
pub async fn run_requests(
    addr: SocketAddr,
    mode: Mode,
    duration: Duration,
    max_requests: usize,
    body_bytes: usize,
    make: MakeRequest,
) -> anyhow::Result<Measurement> {
    let (connections, interval) = match mode {
        Mode::Saturation { connections } => (connections.max(1), None),
        Mode::FixedRate { rate, connections } => {
            let connections = connections.max(1);
            let per_connection = Duration::from_secs_f64(connections as f64 / rate.max(1) as f64);
            (connections, Some(per_connection))
        }
    };
    let host = HeaderValue::from_str(&addr.to_string())?;
    let body = Bytes::from(vec![b'x'; body_bytes]);
    let budget = Arc::new(AtomicUsize::new(max_requests));
    let mut opened = Vec::with_capacity(connections);
    for _ in 0..connections {
        opened.push(Connection::open(addr).await?);
    }
    let started = Instant::now();
    let deadline = started + duration;
    let mut workers = Vec::with_capacity(connections);
    for (index, mut connection) in opened.into_iter().enumerate() {
        let host = host.clone();
        let body = body.clone();
        let budget = budget.clone();
        let make = make.clone();
        workers.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            let mut errors = 0usize;
            // Fixed rate: worker `index` owns slots index, index + n, index + 2n... of the
            // global schedule.
            let mut next = interval.map(|i| started + i.mul_f64(index as f64 / connections as f64));
            loop {
                if let (Some(at), Some(interval)) = (next, interval) {
                    if at >= deadline {
                        break;
                    }
                    tokio::time::sleep_until(at.into()).await;
                    next = Some(at + interval);
                }
                if Instant::now() >= deadline
                    || budget
                        .fetch_update(Ordering::AcqRel, Ordering::Acquire, |left| {
                            left.checked_sub(1)
                        })
                        .is_err()
                {
                    break;
                }
                let sent = Instant::now();
                match connection.send(make(&host, &body)).await {
                    Ok(true) => latencies.push(sent.elapsed().as_nanos() as u64),
                    Ok(false) => errors += 1,
                    Err(_) => {
                        errors += 1;
                        // Reconnect so one broken connection does not end the worker.
                        match Connection::open(addr).await {
                            Ok(fresh) => connection = fresh,
                            Err(_) => break,
                        }
                    }
                }
            }
            (latencies, errors)
        }));
    }
    let mut latencies = Vec::new();
    let mut errors = 0;
    for worker in workers {
        let (l, e) = worker.await.context("a load worker panicked")?;
        latencies.extend(l);
        errors += e;
    }
    let elapsed = started.elapsed();
    latencies.sort_unstable();
    Ok(Measurement {
        requests: latencies.len(),
        errors,
        elapsed,
        latencies_ns: latencies,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every request is the one `make` builds: to a function that does not exist, none is
    /// answered 200; to `echo`, all are.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn requests_are_built_by_make() {
        let server = crate::servers::memory(&tokio::runtime::Handle::current())
            .await
            .unwrap();
        let missing: MakeRequest = Arc::new(|host, body| {
            let mut request = function_request(host, body);
            *request.uri_mut() = http::Uri::from_static("/function/missing");
            request
        });
        let mode = Mode::Saturation { connections: 2 };
        let long = Duration::from_secs(30);
        let refused = run_requests(server.addr, mode, long, 20, 8, missing)
            .await
            .unwrap();
        assert_eq!((refused.requests, refused.errors), (0, 20));
        let answered = run(server.addr, mode, long, 20, 8).await.unwrap();
        assert_eq!((answered.requests, answered.errors), (20, 0));
    }

    #[test]
    fn quantiles_use_nearest_rank() {
        let m = Measurement {
            requests: 4,
            errors: 0,
            elapsed: Duration::from_secs(2),
            latencies_ns: vec![1_000, 2_000, 3_000, 4_000],
        };
        assert_eq!(m.quantile_us(0.5), 2.0);
        assert_eq!(m.quantile_us(0.99), 4.0);
        assert_eq!(m.quantile_us(0.0), 1.0);
        assert_eq!(m.rate(), 2.0);
        let empty = Measurement {
            latencies_ns: vec![],
            ..m
        };
        assert!(empty.quantile_us(0.5).is_nan());
        let mut merged = Measurement::default();
        merged.merge(m.clone());
        merged.merge(Measurement {
            requests: 1,
            errors: 1,
            elapsed: Duration::from_secs(1),
            latencies_ns: vec![500],
        });
        assert_eq!((merged.requests, merged.errors), (5, 1));
        assert_eq!(merged.latencies_ns, [500, 1_000, 2_000, 3_000, 4_000]);
        assert_eq!(merged.elapsed, Duration::from_secs(3));
    }
}
