//! Group commit for the JetStream queue: calls accepted while a publish is on its way to
//! JetStream go out together as one stream message, so that under load the server stores,
//! delivers and deletes one message for many calls (its cost is per message, not per byte:
//! faas-bench-async). A call waits for nothing more than the PubAck of the message that carries
//! it (alone when nothing else is waiting), so an accept still answers only once its call is
//! stored.
//!
//! The stored form is JSON lines: one [`AsyncCall`] per line (serde_json never writes a raw
//! newline inside a value), so a message of one call is the single JSON object stored before
//! batching existed.

use async_nats::jetstream;
use tokio::sync::{mpsc, oneshot};

use super::{AsyncCall, QueueError};

/// One accepted call waiting to be published.
struct Pending {
    line: Vec<u8>,
    stored: oneshot::Sender<Result<(), QueueError>>,
}

/// Sends accepted calls to JetStream, several to a message when they arrive together.
#[derive(Debug)]
pub(super) struct Batcher {
    sender: mpsc::UnboundedSender<Pending>,
}

impl Batcher {
    /// Publishes on `subject` through `publisher`: at most `max_calls` calls and `max_bytes`
    /// bytes to a message (a larger call goes alone).
    pub(super) fn spawn(
        publisher: jetstream::Context,
        subject: String,
        max_calls: usize,
        max_bytes: usize,
    ) -> Self {
        let (sender, receiver) = mpsc::unbounded_channel();
        tokio::spawn(run(
            publisher,
            subject,
            max_calls.max(1),
            max_bytes,
            receiver,
        ));
        Self { sender }
    }

    /// Returns once JetStream has stored `call` (or could not).
    pub(super) async fn publish(&self, call: &AsyncCall) -> Result<(), QueueError> {
        let (stored, done) = oneshot::channel();
        let pending = Pending {
            line: call.to_json(),
            stored,
        };
        self.sender.send(pending).map_err(|_| QueueError::Closed)?;
        done.await.map_err(|_| QueueError::Closed)?
    }
}

/// One message at a time: while its PubAck is on the way, calls gather in the channel and go
/// out together in the next one (group commit). Letting 2, 4 or 8 publishes wait for their
/// PubAck at once made messages of 4, 2.6 and 1.5 calls on average with 16 connections in
/// faas-bench-async, more CPU per call in nats-server and a lower end-to-end rate.
async fn run(
    publisher: jetstream::Context,
    subject: String,
    max_calls: usize,
    max_bytes: usize,
    mut receiver: mpsc::UnboundedReceiver<Pending>,
) {
    let mut carried: Option<Pending> = None;
    loop {
        let first = match carried.take() {
            Some(pending) => pending,
            None => match receiver.recv().await {
                Some(pending) => pending,
                None => return,
            },
        };
        let mut payload = first.line;
        let mut waiting = vec![first.stored];
        while waiting.len() < max_calls {
            let Ok(next) = receiver.try_recv() else { break };
            if payload.len() + 1 + next.line.len() > max_bytes {
                carried = Some(next);
                break;
            }
            payload.push(b'\n');
            payload.extend_from_slice(&next.line);
            waiting.push(next.stored);
        }
        let stored = match publisher.publish(subject.clone(), payload.into()).await {
            Ok(ack) => ack
                .await
                .map(|_| ())
                .map_err(|error| format!("storing a call: {error}")),
            Err(error) => Err(format!("publishing a call: {error}")),
        };
        for waiter in waiting {
            let _ = waiter.send(stored.clone().map_err(QueueError::Nats));
        }
    }
}

/// The calls of one stored message, in order; an unreadable rest ends the list with its error.
pub(super) fn decode(payload: &[u8]) -> Vec<Result<AsyncCall, String>> {
    let mut calls = Vec::new();
    for call in serde_json::Deserializer::from_slice(payload).into_iter::<AsyncCall>() {
        match call {
            Ok(call) => calls.push(Ok(call)),
            Err(error) => {
                calls.push(Err(error.to_string()));
                break;
            }
        }
    }
    if calls.is_empty() {
        calls.push(Err("an empty message".to_string()));
    }
    calls
}

#[cfg(test)]
mod tests {
    use super::*;

    fn call(id: &str) -> AsyncCall {
        AsyncCall::sample(id, b"line one\nline two")
    }

    #[test]
    fn json_lines_carry_one_or_many_calls_and_stop_at_garbage() {
        let one = call("a").to_json();
        assert_eq!(decode(&one), vec![Ok(call("a"))]);
        let mut two = call("a").to_json();
        two.push(b'\n');
        two.extend(call("b").to_json());
        assert_eq!(decode(&two), vec![Ok(call("a")), Ok(call("b"))]);
        two.extend(b"\n{not json");
        let decoded = decode(&two);
        assert_eq!(decoded.len(), 3);
        assert!(decoded[2].is_err());
        assert!(decode(b"").first().is_some_and(Result::is_err));
    }
}
