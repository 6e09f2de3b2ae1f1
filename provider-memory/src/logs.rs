//! Per-function log history (bounded) plus a live feed for `follow`.
//!
//! Kept small for the many functions nobody reads: a line is stored without the function's
//! name and namespace (the book's owner passes them when lines are read) and with its
//! replica as a number, the history grows only as lines arrive, and the live feed (a
//! broadcast channel of [`LIVE_CAPACITY`] slots) exists only while someone follows.

use std::collections::VecDeque;

use chrono::{DateTime, Utc};
use faas_provider::{LogMessage, LogRequest, LogStream};
use futures::StreamExt;
use tokio::sync::broadcast;

/// Default number of lines of history kept per function.
pub const DEFAULT_LOG_HISTORY: usize = 10_000;

/// Live lines buffered per follower before it starts missing some.
const LIVE_CAPACITY: usize = 1024;

/// Who wrote a line: the function as a whole (its lifecycle, instance `<name>`) or one of its
/// replicas (instance `<name>-<n>`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Writer {
    /// Deploy, update, scale, delete.
    Function,
    /// Replica `n`.
    Replica(u64),
}

impl Writer {
    /// The instance name of this writer of function `name`.
    pub(crate) fn instance(self, name: &str) -> String {
        match self {
            Self::Function => name.to_string(),
            Self::Replica(n) => format!("{name}-{n}"),
        }
    }

    /// The writer an instance name of function `name` denotes; `None` when it names none.
    fn parse(instance: &str, name: &str) -> Option<Self> {
        if instance == name {
            return Some(Self::Function);
        }
        let n = instance.strip_prefix(name)?.strip_prefix('-')?;
        // Only the canonical spelling (`api-1`, not `api-01`) names a replica.
        let index: u64 = n.parse().ok()?;
        (index.to_string() == n).then_some(Self::Replica(index))
    }
}

/// One stored line.
#[derive(Debug, Clone)]
struct Line {
    writer: Writer,
    timestamp: DateTime<Utc>,
    text: Box<str>,
}

/// The function a book belongs to, as its lines name it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Owner<'a> {
    pub(crate) name: &'a str,
    pub(crate) namespace: &'a str,
}

impl Line {
    fn message(&self, owner: Owner<'_>) -> LogMessage {
        LogMessage {
            name: owner.name.to_string(),
            namespace: owner.namespace.to_string(),
            instance: self.writer.instance(owner.name),
            timestamp: self.timestamp,
            text: self.text.to_string(),
        }
    }
}

/// The log of one function. Dropping it ends every follow stream.
#[derive(Debug)]
pub(crate) struct LogBook {
    history: VecDeque<Line>,
    limit: usize,
    /// Created by the first follower, dropped once no follower is left.
    live: Option<broadcast::Sender<LogMessage>>,
}

impl LogBook {
    /// An empty log keeping at most `limit` lines of history.
    pub(crate) fn new(limit: usize) -> Self {
        Self {
            history: VecDeque::new(),
            limit,
            live: None,
        }
    }

    /// Records a line of `owner` and hands it to every follower.
    pub(crate) fn push(&mut self, owner: Owner<'_>, writer: Writer, text: impl Into<String>) {
        let line = Line {
            writer,
            timestamp: Utc::now(),
            text: text.into().into_boxed_str(),
        };
        if let Some(live) = &self.live {
            if live.receiver_count() == 0 {
                // Every follower has gone: free the channel's slots.
                self.live = None;
            } else {
                // A follower that went meanwhile is not an error.
                let _ = live.send(line.message(owner));
            }
        }
        while !self.history.is_empty() && self.history.len() >= self.limit {
            self.history.pop_front();
        }
        if self.limit > 0 {
            self.history.push_back(line);
        }
    }

    /// The history lines `request` asks for: filtered, then its last `tail` lines (a `tail` of
    /// 0 means all, as in OpenFaaS).
    pub(crate) fn history(&self, owner: Owner<'_>, request: &LogRequest) -> Vec<LogMessage> {
        let matches = Filter::new(owner, request);
        let selected: Vec<&Line> = self
            .history
            .iter()
            .filter(|line| matches.accepts_line(line))
            .collect();
        let skip = match request.tail.filter(|t| *t > 0) {
            Some(tail) => selected.len().saturating_sub(tail),
            None => 0,
        };
        selected[skip..]
            .iter()
            .map(|line| line.message(owner))
            .collect()
    }

    /// [`LogBook::history`], then, with `follow`, every new matching line until this log is
    /// dropped (function deleted) or the stream is.
    ///
    /// Takes the history snapshot and subscribes at once; callers hold the state lock (its
    /// write side when following, as subscribing may create the live feed), and lines are
    /// only pushed under its write side, so no line is lost or repeated.
    pub(crate) fn stream(&mut self, owner: Owner<'_>, request: &LogRequest) -> LogStream {
        let history = futures::stream::iter(self.history(owner, request));
        if !request.follow {
            return history.boxed();
        }
        let matches = Filter::new(owner, request);
        let receiver = self
            .live
            .get_or_insert_with(|| broadcast::channel(LIVE_CAPACITY).0)
            .subscribe();
        let live = futures::stream::unfold(receiver, |mut receiver| async move {
            loop {
                match receiver.recv().await {
                    Ok(message) => return Some((message, receiver)),
                    // A slow follower misses lines rather than holding memory.
                    Err(broadcast::error::RecvError::Lagged(_)) => continue,
                    Err(broadcast::error::RecvError::Closed) => return None,
                }
            }
        })
        .filter(move |m| std::future::ready(matches.accepts_message(m)));
        // Fused: polling an ended stream again answers `None` instead of panicking.
        history.chain(live).fuse().boxed()
    }

    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.history.len()
    }

    /// True while a live feed exists (someone follows, or did since the last line).
    #[cfg(test)]
    pub(crate) fn is_live(&self) -> bool {
        self.live.is_some()
    }
}

#[derive(Debug, Clone)]
struct Filter {
    /// `None`: every writer; `Some(None)`: an instance name denoting no writer of this
    /// function (nothing matches); `Some(Some(w))`: only `w`.
    writer: Option<Option<Writer>>,
    instance: Option<String>,
    since: Option<DateTime<Utc>>,
}

impl Filter {
    fn new(owner: Owner<'_>, request: &LogRequest) -> Self {
        let instance = request.instance.clone().filter(|i| !i.is_empty());
        Self {
            writer: instance.as_deref().map(|i| Writer::parse(i, owner.name)),
            instance,
            since: request.since,
        }
    }

    fn accepts_line(&self, line: &Line) -> bool {
        self.writer.is_none_or(|w| w == Some(line.writer))
            && self.since.is_none_or(|since| line.timestamp >= since)
    }

    fn accepts_message(&self, message: &LogMessage) -> bool {
        self.instance
            .as_ref()
            .is_none_or(|i| *i == message.instance)
            && self.since.is_none_or(|since| message.timestamp >= since)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const OWNER: Owner<'static> = Owner {
        name: "api",
        namespace: "openfaas-fn",
    };

    #[test]
    fn instances_name_writers_canonically() {
        assert_eq!(Writer::parse("api", "api"), Some(Writer::Function));
        assert_eq!(Writer::parse("api-3", "api"), Some(Writer::Replica(3)));
        assert_eq!(Writer::parse("api-03", "api"), None);
        assert_eq!(Writer::parse("api-", "api"), None);
        assert_eq!(Writer::parse("apix-1", "api"), None);
        assert_eq!(Writer::parse("other", "api"), None);
        assert_eq!(Writer::Replica(7).instance("api"), "api-7");
        assert_eq!(Writer::Function.instance("api"), "api");
    }

    #[test]
    fn an_unread_book_holds_no_live_feed_and_no_spare_history() {
        let mut book = LogBook::new(DEFAULT_LOG_HISTORY);
        book.push(OWNER, Writer::Function, "Deployed");
        assert!(!book.is_live(), "nobody follows: no channel");
        assert!(book.history.capacity() < 8, "history grows with its lines");
    }

    #[tokio::test]
    async fn the_live_feed_comes_with_the_first_follower_and_goes_after_the_last() {
        let mut book = LogBook::new(10);
        book.push(OWNER, Writer::Function, "one");
        let mut request = LogRequest::new(faas_provider::FunctionRef::new("api", "openfaas-fn"));
        request.follow = true;
        let mut first = book.stream(OWNER, &request);
        assert!(book.is_live());
        book.push(OWNER, Writer::Replica(0), "two");
        let seen: Vec<String> = (&mut first).take(2).map(|m| m.text).collect().await;
        assert_eq!(seen, ["one", "two"]);
        drop(first);
        book.push(OWNER, Writer::Function, "three");
        assert!(
            !book.is_live(),
            "the last follower left: the channel is freed"
        );

        // A follower arriving after the feed was freed gets a new one, and new lines.
        let mut second = book.stream(OWNER, &request);
        book.push(OWNER, Writer::Replica(1), "four");
        let seen: Vec<LogMessage> = (&mut second).take(4).collect().await;
        let texts: Vec<&str> = seen.iter().map(|m| m.text.as_str()).collect();
        assert_eq!(texts, ["one", "two", "three", "four"]);
        assert_eq!(seen[3].instance, "api-1");
        assert_eq!(
            (seen[3].name.as_str(), seen[3].namespace.as_str()),
            ("api", "openfaas-fn")
        );
        drop(book);
        assert!(
            second.next().await.is_none(),
            "dropping the book ends the stream"
        );
    }
}
