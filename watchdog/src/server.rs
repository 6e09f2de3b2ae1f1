//! The HTTP listener: `/_/health`, `/_/ready`, everything else invokes the function; graceful
//! shutdown.

use std::convert::Infallible;
use std::future::Future;
use std::time::Duration;

use http::{Method, Request, Response, StatusCode};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::task::JoinSet;

use crate::Body;
use crate::body::text;
use crate::log::log;
use crate::watchdog::{Watchdog, WatchdogError};

/// Answer the watchdog's own endpoints, or invoke the function.
///
/// - `GET /_/health`: 200 `OK` when [`Watchdog::is_healthy`], else 503;
/// - `GET /_/ready`: like health, but 429 when `max_inflight` is reached;
/// - anything else: [`Watchdog::handle`].
pub async fn route(watchdog: &Watchdog, request: Request<Body>) -> Response<Body> {
    let own = matches!(request.uri().path(), "/_/health" | "/_/ready");
    if !own {
        return watchdog.handle(request).await;
    }
    if request.method() != Method::GET && request.method() != Method::HEAD {
        return text(StatusCode::METHOD_NOT_ALLOWED, "use GET");
    }
    if !watchdog.is_healthy() {
        return text(StatusCode::SERVICE_UNAVAILABLE, "Not healthy");
    }
    if request.uri().path() == "/_/ready" && watchdog.at_capacity() {
        return text(
            StatusCode::TOO_MANY_REQUESTS,
            "Concurrent request limit reached",
        );
    }
    text(StatusCode::OK, "OK")
}

/// Serve `watchdog` on `listener` until `shutdown` resolves, then shut down gracefully.
///
/// Starts the watchdog ([`Watchdog::start`]) while already answering health checks (503
/// until started). After `shutdown`: health goes 503 and the lock file is removed, requests
/// are still served for `healthcheck_interval`, then the listener closes and in-flight
/// requests drain for at most `write_timeout` (unbounded when zero), then the http-mode
/// process is stopped. Returns an error when start fails or the http-mode process exits.
pub async fn serve(
    listener: TcpListener,
    watchdog: Watchdog,
    shutdown: impl Future<Output = ()>,
) -> Result<(), WatchdogError> {
    let config = watchdog.config().clone();
    let (drain_tx, drain_rx) = watch::channel(false);
    let mut connections = JoinSet::new();
    let spawn_connection = |connections: &mut JoinSet<()>, stream: TcpStream| {
        connections.spawn(serve_connection(
            stream,
            watchdog.clone(),
            drain_rx.clone(),
            config.read_timeout,
        ));
    };
    let start = watchdog.start();
    tokio::pin!(start);
    tokio::pin!(shutdown);
    let mut started = false;
    loop {
        tokio::select! {
            result = &mut start, if !started => {
                started = true;
                if let Err(e) = result {
                    log!("Start failed: {e}");
                    return Err(e);
                }
            }
            how = watchdog.process_exited(), if started => {
                log!("Function process exited ({how}); stopping the watchdog");
                watchdog.begin_shutdown();
                return Err(WatchdogError::UpstreamExited(how));
            }
            () = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => spawn_connection(&mut connections, stream),
                Err(e) => {
                    log!("Accept failed: {e}");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            },
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
        }
    }

    watchdog.begin_shutdown();
    log!(
        "SIGTERM received.. shutting down server in {:?}",
        config.healthcheck_interval
    );
    let interval = tokio::time::sleep(config.healthcheck_interval);
    tokio::pin!(interval);
    loop {
        tokio::select! {
            () = &mut interval => break,
            accepted = listener.accept() => {
                if let Ok((stream, _)) = accepted {
                    spawn_connection(&mut connections, stream);
                }
            }
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
        }
    }
    drop(listener);
    let _ = drain_tx.send(true);
    log!(
        "No new connections allowed. Draining {} connection(s) for up to {:?}",
        connections.len(),
        config.write_timeout
    );
    let drain = async { while connections.join_next().await.is_some() {} };
    let drained = if config.write_timeout.is_zero() {
        drain.await;
        true
    } else {
        tokio::time::timeout(config.write_timeout, drain)
            .await
            .is_ok()
    };
    if !drained {
        log!(
            "Drain timed out; dropping {} connection(s)",
            connections.len()
        );
        connections.abort_all();
        while connections.join_next().await.is_some() {}
    }
    watchdog.stop().await;
    log!("Exiting.");
    Ok(())
}

async fn serve_connection(
    stream: TcpStream,
    watchdog: Watchdog,
    mut drain: watch::Receiver<bool>,
    read_timeout: Duration,
) {
    let _ = stream.set_nodelay(true);
    let service = service_fn(move |request: Request<Incoming>| {
        let watchdog = watchdog.clone();
        async move { Ok::<_, Infallible>(route(&watchdog, request.map(Body::new)).await) }
    });
    let mut builder = http1::Builder::new();
    builder.timer(TokioTimer::new());
    if !read_timeout.is_zero() {
        builder.header_read_timeout(read_timeout);
    }
    let connection = builder.serve_connection(TokioIo::new(stream), service);
    tokio::pin!(connection);
    let mut draining = false;
    loop {
        if !draining && *drain.borrow_and_update() {
            draining = true;
            connection.as_mut().graceful_shutdown();
        }
        tokio::select! {
            _ = connection.as_mut() => break,
            changed = drain.changed(), if !draining => {
                if changed.is_err() {
                    draining = true;
                    connection.as_mut().graceful_shutdown();
                }
            }
        }
    }
}
