//! Clients of a [`Cluster`] ([`Cluster::keep_clients`]): one per node, as in
//! the model ([`crate::clients`]), so that the random suites judge every
//! client history with the same `linearizable` property as `check`.
//!
//! A client is served by its own node: a write is proposed there, or, when
//! that node names another leader in [`Error::NotLeader`], on that leader
//! (the client follows the hint once); a read asks its node for a ReadIndex
//! (a follower forwards it). Either returns when the client's node applies
//! what it waits for ([`crate::clients::on_ready`]). A client that starts an
//! operation while one is under way gives the old one up, as a client whose
//! request timed out retries: the old one may still take effect, and the
//! checker treats it as in flight forever (each operation is its own
//! [`Thread`]).

use super::{Cluster, DriveError};
use crate::clients::{self, Client, Event, History, InFlight, Op, Thread};
use futures::executor::block_on;
use ruft::{EntryKey, Error, MemStorage, Node, NodeId};

/// Which operation a client starts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ClientOp {
    /// Write a fresh value (the key its entry is appended at).
    Write,
    /// Read the register.
    Read,
}

/// How starting a client operation went.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Started {
    /// The operation is under way (a write on the node that took it).
    Yes(Thread, NodeId),
    /// The node (and, for a write, the leader it named) refused it: nothing
    /// was started.
    Refused(Error),
    /// The client's node is down, or the cluster keeps no clients, or the
    /// client ran out of operation numbers.
    No,
}

impl Cluster {
    /// Gives every node a client and starts recording their history; the
    /// properties then judge it (`linearizable`). Call it before the first
    /// event.
    pub fn keep_clients(&mut self) {
        for slot in &mut self.slots {
            slot.client.get_or_insert_with(Client::default);
        }
        self.history.get_or_insert_with(History::default);
    }

    /// The clients' history, if the cluster keeps clients.
    pub fn history(&self) -> Option<&History> {
        self.history.as_ref()
    }

    /// The client on `id` starts `op`, giving up the one under way if any.
    /// An error is the driver's (storage); a refusal is in [`Started`].
    pub fn client_starts(&mut self, id: NodeId, op: ClientOp) -> Result<Started, DriveError> {
        let i = Self::at(id);
        let Some(client) = self.slots.get(i).filter(|s| s.up).and_then(|s| s.client) else {
            return Ok(Started::No);
        };
        let Some(number) = client.issued.checked_add(1) else {
            return Ok(Started::No);
        };
        let thread = Thread {
            node: id,
            op: number,
        };
        let started = match op {
            ClientOp::Read => self
                .ask(i, |n| block_on(n.read_index(thread.ctx())))
                .map(|_| {
                    (
                        id,
                        InFlight::Read {
                            thread,
                            index: None,
                        },
                        Op::Read,
                    )
                }),
            ClientOp::Write => self
                .propose_following_hint(i)
                .map(|(on, key)| (on, InFlight::Write { thread, key }, Op::Write(key))),
        };
        let (on, in_flight, invoked) = match started {
            Ok(started) => started,
            Err(e) => return Ok(Started::Refused(e)),
        };
        if let Some(c) = self.slots[i].client.as_mut() {
            c.issued = number;
            c.op = Some(in_flight);
        }
        let history = self.history.get_or_insert_with(History::default);
        history.events.push(Event::Invoke(thread, invoked));
        let before = history.events.len();
        // The Invoke is recorded before any Ready is carried out: a lease
        // read (or a single voter's write) may return in that Ready.
        self.drive(Self::at(on))?;
        self.drive(i)?;
        self.report_losses()?;
        let events = self
            .history
            .as_ref()
            .map_or(&[][..], |h| &h.events[before..]);
        if op == ClientOp::Read && clients::read_answered(self.slots[i].client, events) {
            self.slots[i].ghost.leadership.seen.read_at_once = true;
        }
        Ok(Started::Yes(thread, on))
    }

    /// Proposes a client write on node `i` or, if `i` names another running
    /// leader in its refusal, on that leader: the node that took it, and its
    /// key.
    fn propose_following_hint(&mut self, i: usize) -> Result<(NodeId, EntryKey), Error> {
        let propose = |n: &mut Node<MemStorage>| block_on(n.propose(clients::write_payload()));
        let own = self.slots[i].node.config().id;
        match self.ask(i, propose) {
            Err(Error::NotLeader {
                leader: Some(leader),
            }) if leader != own && self.slots.get(Self::at(leader)).is_some_and(|s| s.up) => {
                let key = self.ask(Self::at(leader), propose)?;
                Ok((leader, key))
            }
            other => other.map(|key| (own, key)),
        }
    }

    /// Runs `f` on node `i` (running), recording the step for the ghost.
    fn ask<T>(
        &mut self,
        i: usize,
        f: impl FnOnce(&mut Node<MemStorage>) -> Result<T, Error>,
    ) -> Result<T, Error> {
        let slot = &mut self.slots[i];
        let before = self.check_properties.then(|| slot.node.clone());
        let result = f(&mut slot.node);
        if let Some(before) = before {
            slot.ghost.observe_step(&before, &slot.node);
        }
        result
    }
}
