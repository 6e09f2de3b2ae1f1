//! The default queue: in-process and bounded, no daemon. What it holds (pending calls and
//! retries waiting for their backoff) is lost when the process stops.

use std::time::Duration;

use async_trait::async_trait;
use tokio::sync::{Mutex, mpsc, watch};

use super::{AsyncCall, Delivery, Queue, QueueError, Settle};

type Item = (AsyncCall, u32);

/// An in-process queue of at most `capacity` pending calls.
#[derive(Debug)]
pub struct EmbeddedQueue {
    sender: mpsc::Sender<Item>,
    receiver: Mutex<mpsc::Receiver<Item>>,
    capacity: usize,
    /// True once [`Queue::close`] ran.
    closed: watch::Sender<bool>,
}

impl EmbeddedQueue {
    /// A queue holding at most `capacity` (at least 1) pending calls.
    pub fn new(capacity: usize) -> Self {
        let capacity = capacity.max(1);
        let (sender, receiver) = mpsc::channel(capacity);
        Self {
            sender,
            receiver: Mutex::new(receiver),
            capacity,
            closed: watch::Sender::new(false),
        }
    }
}

#[async_trait]
impl Queue for EmbeddedQueue {
    fn kind(&self) -> &'static str {
        "embedded"
    }

    async fn enqueue(&self, call: &AsyncCall) -> Result<(), QueueError> {
        if *self.closed.borrow() {
            return Err(QueueError::Closed);
        }
        self.sender
            .try_send((call.clone(), 1))
            .map_err(|error| match error {
                mpsc::error::TrySendError::Full(_) => QueueError::Full {
                    capacity: self.capacity,
                },
                mpsc::error::TrySendError::Closed(_) => QueueError::Closed,
            })
    }

    async fn next(&self) -> Result<Delivery, QueueError> {
        let mut closed = self.closed.subscribe();
        let received = async { self.receiver.lock().await.recv().await };
        let (call, attempt) = tokio::select! {
            biased;
            _ = closed.wait_for(|closed| *closed) => None,
            received = received => received,
        }
        .ok_or(QueueError::Closed)?;
        let settle = EmbeddedSettle {
            sender: self.sender.clone(),
        };
        Ok(Delivery::new(Ok(call), attempt, Box::new(settle)))
    }

    fn close(&self) {
        self.closed.send_replace(true);
    }
}

struct EmbeddedSettle {
    sender: mpsc::Sender<Item>,
}

#[async_trait]
impl Settle for EmbeddedSettle {
    async fn done(self: Box<Self>) {}

    async fn retry(self: Box<Self>, wait: Duration, attempt: u32, call: Option<AsyncCall>) {
        let Some(call) = call else { return };
        // Retries wait outside the bound (an accepted call is never refused later); they go
        // back in line once their backoff is over.
        tokio::spawn(async move {
            tokio::time::sleep(wait).await;
            if self.sender.send((call, attempt + 1)).await.is_err() {
                tracing::warn!("async queue closed: a retry was dropped");
            }
        });
    }

    async fn in_progress(&self) {}
}

#[cfg(test)]
mod tests {
    use super::*;

    fn call(id: &str) -> AsyncCall {
        AsyncCall::sample(id, b"")
    }

    #[tokio::test]
    async fn bounded_in_order_and_retries_come_back_with_the_next_attempt() {
        let queue = EmbeddedQueue::new(2);
        queue.enqueue(&call("a")).await.unwrap();
        queue.enqueue(&call("b")).await.unwrap();
        assert!(matches!(
            queue.enqueue(&call("c")).await,
            Err(QueueError::Full { capacity: 2 })
        ));
        let first = queue.next().await.unwrap();
        assert_eq!(first.call.as_ref().unwrap().id, "a");
        assert_eq!(first.attempt, 1);
        first.retry(Duration::from_millis(10)).await;
        let second = queue.next().await.unwrap();
        assert_eq!(second.call.as_ref().unwrap().id, "b");
        second.done().await;
        let again = queue.next().await.unwrap();
        assert_eq!(again.call.as_ref().unwrap().id, "a");
        assert_eq!(again.attempt, 2);
    }

    #[tokio::test]
    async fn a_closed_queue_wakes_its_waiting_worker_and_refuses_calls() {
        let queue = std::sync::Arc::new(EmbeddedQueue::new(2));
        let waiting = tokio::spawn({
            let queue = queue.clone();
            async move { queue.next().await }
        });
        tokio::task::yield_now().await;
        queue.close();
        assert!(matches!(waiting.await.unwrap(), Err(QueueError::Closed)));
        assert!(matches!(
            queue.enqueue(&call("a")).await,
            Err(QueueError::Closed)
        ));
        assert!(matches!(queue.next().await, Err(QueueError::Closed)));
    }
}
