//! Function logs from the engine: every replica's stdout and stderr, one [`LogMessage`] per
//! line, `instance` = the container id.
//!
//! Without `follow`, the replicas' histories are merged in time order and `tail` applies to
//! the merged lines. With `follow`, each replica's last `tail` lines come first, then lines as
//! they are written, interleaved by arrival; replicas started after the request are not
//! followed. Logs of removed containers are gone with them.

use bollard::Docker;
use bollard::query_parameters::LogsOptionsBuilder;
use chrono::{DateTime, Utc};
use faas_provider::{LogMessage, LogRequest, LogStream};
use futures::stream::{self, StreamExt};

use crate::labels::{Record, Role};

/// Upper bound of lines gathered from one replica for a non-follow request.
const MAX_HISTORY_LINES: usize = 100_000;

/// Splits a `timestamps=true` log chunk into (timestamp, text) lines.
fn split_lines(chunk: &[u8], last: &mut DateTime<Utc>) -> Vec<(DateTime<Utc>, String)> {
    let text = String::from_utf8_lossy(chunk);
    let mut lines = Vec::new();
    for line in text.split('\n') {
        if line.is_empty() {
            continue;
        }
        let line = line.strip_suffix('\r').unwrap_or(line);
        let (timestamp, rest) = match line.split_once(' ') {
            Some((head, rest)) => match DateTime::parse_from_rfc3339(head) {
                Ok(t) => (t.with_timezone(&Utc), rest),
                Err(_) => (*last, line),
            },
            None => match DateTime::parse_from_rfc3339(line) {
                // A timestamp alone: an empty line was written.
                Ok(t) => (t.with_timezone(&Utc), ""),
                Err(_) => (*last, line),
            },
        };
        *last = timestamp;
        lines.push((timestamp, rest.to_string()));
    }
    lines
}

/// The lines of one replica as a stream.
fn replica_stream(
    docker: &Docker,
    record: &Record,
    request: &LogRequest,
    tail: Option<usize>,
) -> LogStream {
    let mut options = LogsOptionsBuilder::default()
        .stdout(true)
        .stderr(true)
        .timestamps(true)
        .follow(request.follow)
        .tail(&tail.map(|n| n.to_string()).unwrap_or_else(|| "all".into()));
    if let Some(since) = request.since {
        options = options.since(i32::try_from(since.timestamp()).unwrap_or(0).max(0));
    }
    let since = request.since;
    let name = record.function.name.clone();
    let namespace = record.function.namespace.clone();
    let instance = record.id.clone();
    let mut last = record.created_at;
    docker
        .logs(&record.id, Some(options.build()))
        .take_while(|chunk| futures::future::ready(chunk.is_ok()))
        .filter_map(|chunk| futures::future::ready(chunk.ok()))
        .flat_map(move |chunk| {
            let messages: Vec<LogMessage> = split_lines(chunk.as_ref(), &mut last)
                .into_iter()
                .filter(|(timestamp, _)| since.is_none_or(|s| *timestamp >= s))
                .map(|(timestamp, text)| LogMessage {
                    name: name.clone(),
                    namespace: namespace.clone(),
                    instance: instance.clone(),
                    timestamp,
                    text,
                })
                .collect();
            stream::iter(messages)
        })
        .boxed()
}

/// The log stream of a function made of `records`.
pub(crate) async fn stream(docker: &Docker, records: &[Record], request: LogRequest) -> LogStream {
    let replicas: Vec<&Record> = records
        .iter()
        .filter(|r| r.role == Role::Replica)
        .filter(|r| match &request.instance {
            Some(instance) => r.id.starts_with(instance.as_str()) || r.name == *instance,
            None => true,
        })
        .collect();
    let streams: Vec<LogStream> = replicas
        .iter()
        .map(|record| replica_stream(docker, record, &request, request.tail))
        .collect();
    if request.follow {
        return stream::select_all(streams).boxed();
    }
    let mut lines: Vec<LogMessage> = Vec::new();
    for replica in streams {
        let mut history: Vec<LogMessage> = replica.take(MAX_HISTORY_LINES).collect().await;
        lines.append(&mut history);
    }
    lines.sort_by_key(|m| m.timestamp);
    if let Some(tail) = request.tail {
        let skip = lines.len().saturating_sub(tail);
        lines.drain(..skip);
    }
    stream::iter(lines).boxed()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamped_chunks_split_into_lines() {
        let mut last = DateTime::<Utc>::UNIX_EPOCH;
        let lines = split_lines(
            b"2024-05-01T10:00:00.123456789Z Forking fprocess.\n2024-05-01T10:00:01Z Wrote 5 Bytes\r\ncontinued\n",
            &mut last,
        );
        assert_eq!(lines.len(), 3);
        assert_eq!(lines[0].1, "Forking fprocess.");
        assert_eq!(
            lines[0].0.to_rfc3339(),
            "2024-05-01T10:00:00.123456789+00:00"
        );
        assert_eq!(lines[1].1, "Wrote 5 Bytes");
        assert_eq!(lines[2], (lines[1].0, "continued".to_string()));
        let empty = split_lines(b"2024-05-01T10:00:02Z\n", &mut last);
        assert_eq!(empty[0].1, "");
    }
}
