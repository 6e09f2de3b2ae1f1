//! Lingering close: a request body a handler leaves unread (a 413, a 401, a refused invoke) is
//! read and discarded after the answer, so a client that writes its whole body before reading
//! (Python's `http.client`, `requests`) reads that answer instead of a reset connection.
//!
//! hyper closes the read side of a connection as soon as an unfinished request body is
//! dropped; the client's unread bytes then make the kernel reset the connection, which
//! destroys the answer already written. [`layer`] wraps every request body so that dropping it
//! unfinished hands the rest to a task that discards it, bounded like nginx's lingering close
//! ([`MAX_DRAIN_BYTES`], [`MAX_DRAIN_TIME`]): hyper keeps reading for that task, writes the
//! answer meanwhile, and closes only once the body ended or a bound was reached.

use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::body::Body;
use axum::extract::Request;
use bytes::Bytes;
use http_body::{Body as _, Frame, SizeHint};
use http_body_util::BodyExt;

/// At most this many bytes of an unread request body are read and discarded.
pub const MAX_DRAIN_BYTES: u64 = 64 * 1024 * 1024;
/// At most this long is spent discarding an unread request body.
pub const MAX_DRAIN_TIME: Duration = Duration::from_secs(10);

/// A request body that, dropped before its end, is drained in the background.
struct DrainOnDrop {
    inner: Option<Body>,
    finished: bool,
}

impl http_body::Body for DrainOnDrop {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, axum::Error>>> {
        let Some(inner) = self.inner.as_mut() else {
            return Poll::Ready(None);
        };
        let polled = Pin::new(inner).poll_frame(cx);
        if matches!(polled, Poll::Ready(None) | Poll::Ready(Some(Err(_)))) {
            self.finished = true;
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        self.inner
            .as_ref()
            .is_none_or(|inner| inner.is_end_stream())
    }

    fn size_hint(&self) -> SizeHint {
        self.inner
            .as_ref()
            .map_or_else(|| SizeHint::with_exact(0), |inner| inner.size_hint())
    }
}

impl Drop for DrainOnDrop {
    fn drop(&mut self) {
        let Some(inner) = self.inner.take() else {
            return;
        };
        if self.finished || inner.is_end_stream() {
            return;
        }
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            runtime.spawn(drain(inner));
        }
    }
}

/// Reads and discards `body` until its end, [`MAX_DRAIN_BYTES`] or [`MAX_DRAIN_TIME`].
async fn drain(mut body: Body) {
    let discard = async {
        let mut read = 0u64;
        while let Some(Ok(frame)) = body.frame().await {
            if let Some(data) = frame.data_ref() {
                read += data.len() as u64;
                if read > MAX_DRAIN_BYTES {
                    break;
                }
            }
        }
    };
    let _ = tokio::time::timeout(MAX_DRAIN_TIME, discard).await;
}

/// Wraps the request's body (see the module docs); a body already at its end is left as is.
pub(crate) async fn layer(request: Request) -> Request {
    if request.body().is_end_stream() {
        return request;
    }
    request.map(|body| {
        Body::new(DrainOnDrop {
            inner: Some(body),
            finished: false,
        })
    })
}
