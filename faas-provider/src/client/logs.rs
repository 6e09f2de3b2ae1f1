//! `GET /system/logs` bodies: NDJSON parsed line by line as bytes arrive (follow streams
//! never end, so nothing is buffered beyond the current line).

use std::pin::Pin;

use bytes::Bytes;
use futures::{Stream, StreamExt};

use crate::provider::LogStream;
use crate::types::{GoJson, LogMessage};

/// Longest log line kept; longer ones are skipped up to their newline.
pub(super) const MAX_LINE_BYTES: usize = 1024 * 1024;

type ByteStream = Pin<Box<dyn Stream<Item = Result<Bytes, reqwest::Error>> + Send>>;

struct Lines {
    body: ByteStream,
    buffer: Vec<u8>,
    /// Bytes of `buffer` already known to hold no newline.
    scanned: usize,
    /// Dropping an over-long line until its newline.
    skipping: bool,
    done: bool,
    backend: String,
}

impl Lines {
    /// The next complete line in the buffer, if any.
    fn take_line(&mut self) -> Option<Vec<u8>> {
        loop {
            let newline = self.buffer[self.scanned..]
                .iter()
                .position(|b| *b == b'\n')
                .map(|i| i + self.scanned);
            match newline {
                Some(end) => {
                    let mut line: Vec<u8> = self.buffer.drain(..=end).collect();
                    self.scanned = 0;
                    line.pop();
                    if std::mem::take(&mut self.skipping) {
                        continue;
                    }
                    return Some(line);
                }
                None => {
                    if self.buffer.len() > MAX_LINE_BYTES {
                        if !self.skipping {
                            tracing::warn!(backend = %self.backend, "skipping a log line longer than {MAX_LINE_BYTES} bytes");
                        }
                        self.buffer.clear();
                        self.skipping = true;
                    }
                    self.scanned = self.buffer.len();
                    return None;
                }
            }
        }
    }

    async fn next_message(&mut self) -> Option<LogMessage> {
        loop {
            if let Some(line) = self.take_line() {
                if let Some(message) = self.parse(&line) {
                    return Some(message);
                }
                continue;
            }
            if self.done {
                // A last line without its newline.
                let rest = std::mem::take(&mut self.buffer);
                self.scanned = 0;
                if self.skipping || rest.is_empty() {
                    return None;
                }
                return self.parse(&rest);
            }
            match self.body.next().await {
                Some(Ok(chunk)) => self.buffer.extend_from_slice(&chunk),
                Some(Err(error)) => {
                    tracing::warn!(backend = %self.backend, error = %super::errors::transport_reason(error), "log stream interrupted");
                    self.done = true;
                }
                None => self.done = true,
            }
        }
    }

    fn parse(&self, line: &[u8]) -> Option<LogMessage> {
        if line.iter().all(u8::is_ascii_whitespace) {
            return None;
        }
        match LogMessage::from_go_json(line) {
            Ok(message) => Some(message),
            Err(error) => {
                tracing::warn!(backend = %self.backend, %error, "skipping an unparsable log line");
                None
            }
        }
    }
}

/// A [`LogStream`] over an NDJSON body: one [`LogMessage`] per line, yielded as soon as its
/// newline arrives. Blank and unparsable lines are skipped (with a warning); a transport
/// error ends the stream.
pub(super) fn ndjson(
    body: impl Stream<Item = Result<Bytes, reqwest::Error>> + Send + 'static,
    backend: String,
) -> LogStream {
    let lines = Lines {
        body: Box::pin(body),
        buffer: Vec::new(),
        scanned: 0,
        skipping: false,
        done: false,
        backend,
    };
    futures::stream::unfold(lines, |mut lines| async move {
        let message = lines.next_message().await?;
        Some((message, lines))
    })
    .boxed()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chunks(parts: Vec<Vec<u8>>) -> impl Stream<Item = Result<Bytes, reqwest::Error>> + Send {
        futures::stream::iter(parts.into_iter().map(|p| Ok(Bytes::from(p))))
    }

    #[tokio::test]
    async fn lines_split_across_chunks_and_bad_lines() {
        let parts = vec![
            br#"{"name":"a","text":"one"}"#[..10].to_vec(),
            [
                &br#"{"name":"a","text":"one"}"#[10..],
                b"\n\n{not json}\n{\"Text\":\"two\",\"NAME\":\"b\"}\r\n",
            ]
            .concat(),
            br#"{"text":"three"}"#.to_vec(),
        ];
        let messages: Vec<LogMessage> = ndjson(chunks(parts), "t".into()).collect().await;
        let texts: Vec<(&str, &str)> = messages
            .iter()
            .map(|m| (m.name.as_str(), m.text.as_str()))
            .collect();
        assert_eq!(texts, [("a", "one"), ("b", "two"), ("", "three")]);
    }

    #[tokio::test]
    async fn over_long_lines_are_skipped() {
        let long = vec![b'x'; MAX_LINE_BYTES + 10];
        let parts = vec![
            long[..MAX_LINE_BYTES / 2].to_vec(),
            long[MAX_LINE_BYTES / 2..].to_vec(),
            b"more x\n{\"text\":\"ok\"}\n".to_vec(),
        ];
        let messages: Vec<LogMessage> = ndjson(chunks(parts), "t".into()).collect().await;
        assert_eq!(messages.len(), 1);
        assert_eq!(messages[0].text, "ok");
    }
}
