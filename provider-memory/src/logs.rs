//! Per-function log history (bounded) plus a live feed for `follow`.

use std::collections::VecDeque;

use faas_provider::{LogMessage, LogRequest, LogStream};
use futures::StreamExt;
use tokio::sync::broadcast;

/// Default number of lines of history kept per function.
pub const DEFAULT_LOG_HISTORY: usize = 10_000;

/// Live lines buffered per follower before it starts missing some.
const LIVE_CAPACITY: usize = 1024;

/// The log of one function. Dropping it ends every follow stream.
#[derive(Debug)]
pub(crate) struct LogBook {
    history: VecDeque<LogMessage>,
    limit: usize,
    live: broadcast::Sender<LogMessage>,
}

impl LogBook {
    /// An empty log keeping at most `limit` lines of history.
    pub(crate) fn new(limit: usize) -> Self {
        let (live, _) = broadcast::channel(LIVE_CAPACITY);
        Self {
            history: VecDeque::with_capacity(limit.min(64)),
            limit,
            live,
        }
    }

    /// Records a line and hands it to every follower.
    pub(crate) fn push(&mut self, message: LogMessage) {
        while !self.history.is_empty() && self.history.len() >= self.limit {
            self.history.pop_front();
        }
        if self.limit > 0 {
            self.history.push_back(message.clone());
        }
        // No follower is not an error.
        let _ = self.live.send(message);
    }

    /// The lines `request` asks for: the filtered history (its last `tail` lines; a `tail` of
    /// 0 means all, as in OpenFaaS), then, with `follow`, every new matching line until this
    /// log is dropped (function deleted) or the stream is.
    ///
    /// Takes the history snapshot and subscribes at once; callers hold the state lock, and
    /// lines are only pushed under its write side, so no line is lost or repeated.
    pub(crate) fn stream(&self, request: &LogRequest) -> LogStream {
        let matches = Filter {
            instance: request.instance.clone().filter(|i| !i.is_empty()),
            since: request.since,
        };
        let mut history: Vec<LogMessage> = self
            .history
            .iter()
            .filter(|m| matches.accepts(m))
            .cloned()
            .collect();
        if let Some(tail) = request.tail.filter(|t| *t > 0) {
            let skip = history.len().saturating_sub(tail);
            history.drain(..skip);
        }
        let history = futures::stream::iter(history);
        if !request.follow {
            return history.boxed();
        }
        let live = futures::stream::unfold(self.live.subscribe(), |mut receiver| async move {
            loop {
                match receiver.recv().await {
                    Ok(message) => return Some((message, receiver)),
                    // A slow follower misses lines rather than holding memory.
                    Err(broadcast::error::RecvError::Lagged(_)) => continue,
                    Err(broadcast::error::RecvError::Closed) => return None,
                }
            }
        })
        .filter(move |m| std::future::ready(matches.accepts(m)));
        // Fused: polling an ended stream again answers `None` instead of panicking.
        history.chain(live).fuse().boxed()
    }

    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.history.len()
    }
}

#[derive(Debug, Clone)]
struct Filter {
    instance: Option<String>,
    since: Option<chrono::DateTime<chrono::Utc>>,
}

impl Filter {
    fn accepts(&self, message: &LogMessage) -> bool {
        self.instance
            .as_ref()
            .is_none_or(|i| *i == message.instance)
            && self.since.is_none_or(|since| message.timestamp >= since)
    }
}
