//! Function logs from the engine: every replica's stdout and stderr, one [`LogMessage`] per
//! line, `instance` = the container id.
//!
//! Without `follow`, the replicas' histories are merged in time order and `tail` applies to
//! the merged lines. With `follow`, each replica's last `tail` lines come first, then lines as
//! they are written, interleaved by arrival; replicas started later (scale up, a rolling
//! update, a restart) join the stream as the engine reports them, until the function is
//! deleted. Logs of removed containers are gone with them.

use std::collections::HashMap;
use std::pin::Pin;
use std::task::{Context, Poll};

use bollard::Docker;
use bollard::query_parameters::{
    EventsOptionsBuilder, ListContainersOptionsBuilder, LogsOptionsBuilder,
};
use chrono::{DateTime, Utc};
use faas_provider::{FunctionRef, LogMessage, LogRequest, LogStream};
use futures::stream::{self, BoxStream, SelectAll, Stream, StreamExt};

use crate::labels::{self, ROLE, Record, Role, STANDBY};

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

/// Where one replica's lines are read from, and from when.
struct Source<'a> {
    id: &'a str,
    function: &'a FunctionRef,
    /// Lines before this time are skipped.
    since: Option<DateTime<Utc>>,
    /// Only the last `tail` lines of its history.
    tail: Option<usize>,
    /// The timestamp of a line the engine wrote without one.
    first: DateTime<Utc>,
}

/// The lines of one replica as a stream.
fn replica_stream(docker: &Docker, source: Source<'_>, follow: bool) -> LogStream {
    let mut options = LogsOptionsBuilder::default()
        .stdout(true)
        .stderr(true)
        .timestamps(true)
        .follow(follow)
        .tail(
            &source
                .tail
                .map(|n| n.to_string())
                .unwrap_or_else(|| "all".into()),
        );
    if let Some(since) = source.since {
        options = options.since(i32::try_from(since.timestamp()).unwrap_or(0).max(0));
    }
    let since = source.since;
    let name = source.function.name.clone();
    let namespace = source.function.namespace.clone();
    let instance = source.id.to_string();
    let mut last = source.first;
    docker
        .logs(source.id, Some(options.build()))
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

/// Whether a replica (container `id`, container `name`) is one `request` asks for.
fn wanted(request: &LogRequest, id: &str, name: &str) -> bool {
    match &request.instance {
        Some(instance) => id.starts_with(instance.as_str()) || name == instance,
        None => true,
    }
}

/// The log stream of a function made of `records`. With `follow`, `watch` (from [`watch`],
/// opened before `records` were listed) brings in the replicas started later.
pub(crate) async fn stream(
    docker: &Docker,
    records: &[Record],
    request: LogRequest,
    watch: Option<Watch>,
) -> LogStream {
    let replicas: Vec<&Record> = records
        .iter()
        .filter(|r| r.role == Role::Replica && !r.standby)
        .filter(|r| wanted(&request, &r.id, &r.name))
        .collect();
    let (since, tail) = (request.since, request.tail);
    let sources = replicas.iter().map(|record| Source {
        id: &record.id,
        function: &record.function,
        since,
        tail,
        first: record.created_at,
    });
    if request.follow {
        let streams: Vec<LogStream> = sources
            .map(|source| replica_stream(docker, source, true))
            .collect();
        // Starts reported up to now are of runs these streams cover.
        let listed = Utc::now();
        let replicas = replicas
            .iter()
            .map(|r| {
                let followed = Followed {
                    since: listed,
                    died: None,
                    last: None,
                };
                (r.id.clone(), followed)
            })
            .collect();
        return Following {
            docker: docker.clone(),
            request,
            streams: stream::select_all(streams),
            replicas,
            watch: watch.map(|w| w.changes),
        }
        .boxed();
    }
    let streams: Vec<LogStream> = sources
        .map(|source| replica_stream(docker, source, false))
        .collect();
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

/// What the engine reports of a function's replicas while its logs are followed.
enum Change {
    /// A replica started (new, or restarted by the engine).
    Started {
        id: String,
        name: String,
        at: DateTime<Utc>,
    },
    /// A replica's process ended (its lines up to then are written: the engine reports the
    /// end once the output is copied).
    Died { id: String, at: DateTime<Utc> },
}

/// The engine's word on a function's replicas, for a follow stream: opened before the
/// function's containers are listed, so that no replica starts unseen in between.
pub(crate) struct Watch {
    /// Replica starts and ends; ends when the function is gone (or the engine's stream ends).
    changes: BoxStream<'static, Change>,
}

/// Watches the containers that `filters` (engine label filters) select.
pub(crate) fn watch(docker: &Docker, filters: HashMap<String, Vec<String>>) -> Watch {
    let mut events = filters.clone();
    events.insert("type".into(), vec!["container".into()]);
    let actions = ["start", "unpause", "die", "destroy"];
    events.insert("event".into(), actions.map(String::from).to_vec());
    // `since` is in whole seconds: from a second early; replays of what gets listed are
    // told apart by their time.
    let since = (Utc::now().timestamp() - 1).max(0).to_string();
    let options = EventsOptionsBuilder::default()
        .since(&since)
        .filters(&events)
        .build();
    let messages = docker.events(Some(options)).boxed();
    let changes = stream::unfold(
        (messages, docker.clone(), filters),
        |(mut messages, docker, filters)| async move {
            loop {
                // An engine error ends the watch: the replicas already followed go on.
                let event = messages.next().await?.ok()?;
                let actor = event.actor.unwrap_or_default();
                let mut attributes = actor.attributes.unwrap_or_default();
                let id = actor.id.unwrap_or_default();
                let at = event
                    .time_nano
                    .map(DateTime::from_timestamp_nanos)
                    .unwrap_or_else(Utc::now);
                let replica = attributes.get(ROLE).map(String::as_str) == Some("replica");
                // A standby starts as `warming-…` (then paused): it joins when woken (unpaused).
                let born_standby = attributes.get(STANDBY).map(String::as_str) == Some("true");
                let name = attributes.remove("name").unwrap_or_default();
                let change = match event.action.as_deref() {
                    Some("start")
                        if replica && !id.is_empty() && !labels::is_warming_name(&name) =>
                    {
                        Change::Started { id, name, at }
                    }
                    Some("unpause") if replica && born_standby && !id.is_empty() => {
                        Change::Started { id, name, at }
                    }
                    Some("die") if replica => Change::Died { id, at },
                    Some("destroy") if !exists(&docker, &filters).await => return None,
                    _ => continue,
                };
                return Some((change, (messages, docker, filters)));
            }
        },
    )
    .boxed();
    Watch { changes }
}

/// Whether any container matches `filters`; `true` when the engine cannot tell.
async fn exists(docker: &Docker, filters: &HashMap<String, Vec<String>>) -> bool {
    let options = ListContainersOptionsBuilder::default()
        .all(true)
        .filters(filters)
        .build();
    docker
        .list_containers(Some(options))
        .await
        .map_or(true, |containers| !containers.is_empty())
}

/// A follow stream: the lines of every replica followed, interleaved by arrival, joined by
/// the replicas that start later (a restarted one from where its previous run ended); it
/// ends once the function is deleted and its replicas' streams have ended.
struct Following {
    docker: Docker,
    request: LogRequest,
    streams: SelectAll<LogStream>,
    replicas: HashMap<String, Followed>,
    watch: Option<BoxStream<'static, Change>>,
}

/// What a follow stream knows of one replica.
struct Followed {
    /// Its current run is followed from this time on: an earlier start is a replay.
    since: DateTime<Utc>,
    /// When its current run ended.
    died: Option<DateTime<Utc>>,
    /// Time of the last line sent.
    last: Option<DateTime<Utc>>,
}

impl Following {
    fn change(&mut self, change: Change) {
        let (id, name, at) = match change {
            Change::Died { id, at } => {
                if let Some(replica) = self.replicas.get_mut(&id)
                    && at > replica.since
                {
                    replica.died = Some(at);
                }
                return;
            }
            Change::Started { id, name, at } => (id, name, at),
        };
        if !wanted(&self.request, &id, &name) {
            return;
        }
        let since = match self.replicas.get(&id) {
            Some(replica) if at <= replica.since => return,
            // Restarted: from where its previous run ended, as far as that is known.
            Some(replica) => replica
                .died
                .or(replica.last.map(|t| t + chrono::Duration::nanoseconds(1))),
            None => None,
        };
        let since = since.max(self.request.since);
        let source = Source {
            id: &id,
            function: &self.request.function,
            since,
            tail: None,
            first: at,
        };
        self.streams
            .push(replica_stream(&self.docker, source, true));
        let last = self.replicas.get(&id).and_then(|r| r.last);
        self.replicas.insert(
            id,
            Followed {
                since: at,
                died: None,
                last,
            },
        );
    }
}

impl Stream for Following {
    type Item = LogMessage;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<LogMessage>> {
        while let Some(watch) = self.watch.as_mut() {
            match watch.poll_next_unpin(cx) {
                Poll::Ready(Some(change)) => self.change(change),
                Poll::Ready(None) => self.watch = None,
                Poll::Pending => break,
            }
        }
        match self.streams.poll_next_unpin(cx) {
            Poll::Ready(Some(line)) => {
                if let Some(replica) = self.replicas.get_mut(&line.instance) {
                    replica.last = Some(line.timestamp);
                }
                Poll::Ready(Some(line))
            }
            // No replica now; the watch wakes this when one starts.
            Poll::Ready(None) if self.watch.is_some() => Poll::Pending,
            other => other,
        }
    }
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
