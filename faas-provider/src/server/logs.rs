//! `GET /system/logs`: a flushed NDJSON stream of [`crate::LogMessage`]s.

use std::convert::Infallible;

use axum::extract::{RawQuery, State};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use futures::StreamExt;
use http::{HeaderValue, header};

use super::AppState;
use super::extract::QueryParams;
use crate::config::parse_bool;
use crate::types::gojson::parse_time;
use crate::types::name::validate_function_name;
use crate::{Body, FunctionRef, LogRequest, ProviderError, Result};

fn unparsable(what: &str, value: &str) -> ProviderError {
    ProviderError::Unprocessable(format!("could not parse the log request: {what} {value:?}"))
}

/// Parses the query as the Go SDK does: last value wins; `tail` ≤ 0 means unlimited; `follow`
/// uses Go's `ParseBool` (a bad value is false); bad `tail`/`since` are 422.
pub(crate) fn parse_request(state: &AppState, raw: Option<&str>) -> Result<LogRequest> {
    let query = QueryParams::parse(raw);
    let name = query
        .last("name")
        .filter(|n| !n.is_empty())
        .ok_or_else(|| {
            ProviderError::invalid(
                "the name query parameter is required: /system/logs?name=<function>",
            )
        })?;
    validate_function_name(name)?;
    let namespace = state.namespace([query.last("namespace")])?;
    let tail = match query.last("tail").filter(|v| !v.is_empty()) {
        None => None,
        Some(value) => {
            let n: i64 = value.parse().map_err(|_| unparsable("tail", value))?;
            usize::try_from(n).ok().filter(|n| *n > 0)
        }
    };
    let since = match query.last("since").filter(|v| !v.is_empty()) {
        None => None,
        Some(value) => Some(parse_time(value).map_err(|_| unparsable("since", value))?),
    };
    Ok(LogRequest {
        function: FunctionRef::new(name, namespace),
        instance: query
            .last("instance")
            .filter(|v| !v.is_empty())
            .map(str::to_string),
        since,
        tail,
        follow: query.last("follow").and_then(parse_bool).unwrap_or(false),
    })
}

pub(crate) async fn logs(
    State(state): State<AppState>,
    RawQuery(query): RawQuery,
) -> Result<Response> {
    let request = parse_request(&state, query.as_deref())?;
    let stream = state.provider.logs(request).await?;
    let lines = stream.map(|message| {
        let mut line = serde_json::to_vec(&message)
            .unwrap_or_else(|_| br#"{"text":"failed to serialize log message"}"#.to_vec());
        line.push(b'\n');
        Ok::<_, Infallible>(Bytes::from(line))
    });
    let mut response = Body::from_stream(lines).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/x-ndjson"),
    );
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    Ok(response)
}
