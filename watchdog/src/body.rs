//! Response body plumbing shared by every mode.

use std::pin::Pin;
use std::task::{Context, Poll, ready};
use std::time::Instant;

use bytes::Bytes;
use http::{HeaderValue, Response, StatusCode};
use http_body::{Body as _, Frame, SizeHint};
use tokio::sync::OwnedSemaphorePermit;
use tokio::time::Sleep;

use crate::Body;
use crate::log::log;

/// Header every watchdog-generated error carries in http mode (of-watchdog convention).
pub const INTERNAL_HEADER: &str = "X-OpenFaaS-Internal";

/// Header with the invocation's duration in seconds (Go `%f`: six decimals).
pub const DURATION_HEADER: &str = "X-Duration-Seconds";

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// Wraps a response body to count bytes, log `Wrote N Bytes` when it ends, hold the
/// `max_inflight` permit until the client has the whole body, and enforce a deadline.
pub(crate) struct Tracked {
    inner: Body,
    deadline: Option<Pin<Box<Sleep>>>,
    bytes: u64,
    start: Instant,
    finished: bool,
    _permit: Option<OwnedSemaphorePermit>,
}

impl Tracked {
    pub(crate) fn wrap(
        response: Response<Body>,
        start: Instant,
        deadline: Option<tokio::time::Instant>,
        permit: Option<OwnedSemaphorePermit>,
    ) -> Response<Body> {
        response.map(|inner| {
            Body::new(Tracked {
                inner,
                deadline: deadline.map(|d| Box::pin(tokio::time::sleep_until(d))),
                bytes: 0,
                start,
                finished: false,
                _permit: permit,
            })
        })
    }

    fn finish(&mut self, note: &str) {
        if !self.finished {
            self.finished = true;
            log!(
                "Wrote {} Bytes - Duration: {:.6} seconds{}",
                self.bytes,
                self.start.elapsed().as_secs_f64(),
                note
            );
        }
    }
}

impl http_body::Body for Tracked {
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        let this = self.get_mut();
        if this.finished {
            return Poll::Ready(None);
        }
        let expired = this
            .deadline
            .as_mut()
            .is_some_and(|deadline| deadline.as_mut().poll(cx).is_ready());
        if expired {
            this.finish(" (cut: exec_timeout reached while streaming)");
            return Poll::Ready(Some(Err("exec_timeout reached while streaming".into())));
        }
        match ready!(Pin::new(&mut this.inner).poll_frame(cx)) {
            Some(Ok(frame)) => {
                if let Some(data) = frame.data_ref() {
                    this.bytes += data.len() as u64;
                }
                Poll::Ready(Some(Ok(frame)))
            }
            Some(Err(e)) => {
                this.finish(&format!(" (response aborted: {e})"));
                Poll::Ready(Some(Err(e.into())))
            }
            None => {
                this.finish("");
                Poll::Ready(None)
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        self.finished || self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

impl Drop for Tracked {
    fn drop(&mut self) {
        if !self.finished && !self.inner.is_end_stream() {
            self.finish(" (client went away)");
        } else {
            self.finish("");
        }
    }
}

/// A plain-text response.
pub(crate) fn text(status: StatusCode, message: impl Into<String>) -> Response<Body> {
    let mut message = message.into();
    if !message.ends_with('\n') {
        message.push('\n');
    }
    let mut response = Response::new(Body::from(message));
    *response.status_mut() = status;
    response.headers_mut().insert(
        http::header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    response
}

/// A watchdog-generated error in http mode (marked with `X-OpenFaaS-Internal: of-watchdog`).
pub(crate) fn internal(status: StatusCode, message: impl Into<String>) -> Response<Body> {
    let mut response = text(status, message);
    response
        .headers_mut()
        .insert(INTERNAL_HEADER, HeaderValue::from_static("of-watchdog"));
    response
}

/// `X-Duration-Seconds` for an elapsed time.
pub(crate) fn duration_value(start: Instant) -> HeaderValue {
    HeaderValue::from_str(&format!("{:.6}", start.elapsed().as_secs_f64()))
        .unwrap_or_else(|_| HeaderValue::from_static("0"))
}
