//! API Gateway HTTP API payload 2.0 / Lambda Function URL events, and their conversions to and
//! from `http` types. One implementation serves both sides: the provider turns a request into an
//! [`HttpEvent`] ([`event_from_request`]) and a function's payload back into a response
//! ([`response_from_payload`]); the shim turns the event into a request for the watchdog executor
//! ([`request_from_event`]) and its answer into an [`HttpEventResponse`] ([`event_response_from`]).
//!
//! Body encoding follows `lambda_http`: a body is sent as UTF-8 text when its `Content-Type` is
//! textual (see [`is_text_content`]) and it is valid UTF-8, otherwise base64 with
//! `isBase64Encoded: true`.
//!
//! One codec for every place an HTTP call meets a Lambda-style event: the Lambda provider's
//! invoke path, the Lambda shim (`bootstrap`), and the watchdog's middleware pipeline (which
//! presents plain HTTP requests to middlewares as these events, so one middleware behaves the
//! same on every backend). Small on purpose: serde, http, base64, no runtime.
//!
//! - `wire`: the event and response types as serialised, and payload detection;
//! - `request`: HTTP request ⇄ event;
//! - `response`: HTTP response ⇄ response payload;
//! - `body`: the text-or-base64 body rules and header joining both directions share;
//! - `error`: [`EventError`].

mod body;
mod error;
mod request;
mod response;
mod wire;

pub use body::{TEXT_ENCODING_HEADER, is_text_content, sync_content_length};
pub use error::EventError;
pub use request::{event_from_request, request_from_event};
pub use response::{event_response_from, response_from_payload};
pub use wire::{
    DEFAULT_ROUTE, HttpDescription, HttpEvent, HttpEventResponse, PAYLOAD_VERSION, RequestContext,
};
