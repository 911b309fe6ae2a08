//! [`Outbox`]: messages queued for the next Ready, bounded by `outbox_max`.

use crate::Message;

/// Messages waiting to be handed out. Handlers never send: they `prepare`.
#[derive(Clone, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Outbox {
    /// At most `outbox_max` messages (the caller passes the bound).
    messages: Vec<Message>,
    /// Messages dropped because the outbox was full (Raft tolerates loss).
    dropped: usize,
}

impl Outbox {
    /// Queues `msg` unless `outbox_max` messages already wait; returns whether queued.
    pub fn prepare(&mut self, msg: Message, outbox_max: usize) -> Result<(), Message> {
        if self.messages.len() >= outbox_max {
            self.dropped = self.dropped.saturating_add(1);
            return Err(msg);
        }
        self.messages.push(msg);
        Ok(())
    }

    /// Hands out every queued message.
    pub fn take(&mut self) -> Vec<Message> {
        std::mem::take(&mut self.messages)
    }

    /// Whether no message waits.
    pub fn is_empty(&self) -> bool {
        self.messages.is_empty()
    }

    /// How many messages were dropped for lack of room, ever.
    pub fn dropped(&self) -> usize {
        self.dropped
    }

    /// Rewrites every queued message (used to relabel node ids).
    pub fn map(&mut self, f: impl Fn(&Message) -> Message) {
        self.messages = self.messages.iter().map(f).collect();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{MessageVariant, NodeId};

    #[test]
    fn a_full_outbox_drops_and_counts() {
        let mut o = Outbox::default();
        let m = Message::local(NodeId(1), MessageVariant::Beat);
        assert!(o.prepare(m.clone(), 1).is_ok());
        assert_eq!(o.prepare(m.clone(), 1), Err(m));
        assert_eq!(o.dropped(), 1);
        assert_eq!(o.take().len(), 1);
        assert!(o.is_empty());
    }

    #[test]
    fn every_drop_is_counted_and_a_map_rewrites_what_waits() {
        let mut o = Outbox::default();
        let beat = |dst| Message::local(NodeId(dst), MessageVariant::Beat);
        assert_eq!(o.dropped(), 0);
        assert!(o.prepare(beat(1), 2).is_ok());
        assert!(o.prepare(beat(2), 2).is_ok());
        assert!(o.prepare(beat(3), 2).is_err());
        assert!(o.prepare(beat(3), 2).is_err());
        assert_eq!(o.dropped(), 2, "two refused");
        o.map(|m| Message {
            dst: NodeId(m.dst.0 + 10),
            ..m.clone()
        });
        let dsts: Vec<NodeId> = o.take().iter().map(|m| m.dst).collect();
        assert_eq!(dsts, [NodeId(11), NodeId(12)]);
    }
}
