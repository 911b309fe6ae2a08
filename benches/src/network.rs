//! [`Network`]: the in-memory network both clusters send through.

use crate::BoxError;
use std::collections::VecDeque;

/// A FIFO queue of one library's messages, delivered in the order sent.
#[derive(Debug)]
pub struct Network<M> {
    queue: VecDeque<M>,
    delivered: usize,
}

impl<M> Default for Network<M> {
    fn default() -> Self {
        Network {
            queue: VecDeque::new(),
            delivered: 0,
        }
    }
}

impl<M> Network<M> {
    /// Queues messages for delivery.
    pub fn send(&mut self, messages: impl IntoIterator<Item = M>) {
        self.queue.extend(messages);
    }

    /// Hands every message queued now to `step`, in the order sent; messages
    /// sent meanwhile wait for the next call. Returns whether there were any.
    pub fn deliver(
        &mut self,
        mut step: impl FnMut(M) -> Result<(), BoxError>,
    ) -> Result<bool, BoxError> {
        let count = self.queue.len();
        // Bounded by the messages queued at the start.
        for msg in self.queue.drain(..count) {
            step(msg)?;
        }
        self.delivered += count;
        Ok(count > 0)
    }

    /// Messages delivered so far.
    pub fn delivered(&self) -> usize {
        self.delivered
    }
}
