//! Relabelling node ids: the same cluster state under other names.
//!
//! Node ids carry no behaviour in Raft, so a state with its ids permuted is
//! equivalent to the original. A model checker uses this for symmetry
//! reduction without ruft depending on the checker.

use super::role::RoleState;
use super::Context;
use crate::{HardState, MemStorage, Message, MessageVariant, NodeId, Snapshot};

/// Values that mention node ids and can be rewritten under a renaming of the
/// nodes (a permutation of the voters).
///
/// ```
/// use ruft::{HardState, NodeId, Relabel};
/// let hs = HardState { voted_node: Some(NodeId(1)), ..HardState::default() };
/// let swapped = hs.relabel(&|id: NodeId| NodeId(3 - id.0));
/// assert_eq!(swapped.voted_node, Some(NodeId(2)));
/// ```
pub trait Relabel: Sized {
    /// `self` with every node id mapped through `f`.
    fn relabel(&self, f: &dyn Fn(NodeId) -> NodeId) -> Self;
}

impl Relabel for HardState {
    fn relabel(&self, f: &dyn Fn(NodeId) -> NodeId) -> Self {
        HardState {
            voted_node: self.voted_node.map(f),
            ..*self
        }
    }
}

/// A snapshot names the members.
impl Relabel for Snapshot {
    fn relabel(&self, f: &dyn Fn(NodeId) -> NodeId) -> Self {
        Snapshot {
            meta: self.meta.relabel(f),
            data: self.data.clone(),
        }
    }
}

/// Sender and receiver are mapped, and the ids a variant names.
impl Relabel for Message {
    fn relabel(&self, f: &dyn Fn(NodeId) -> NodeId) -> Self {
        let variant = match &self.variant {
            MessageVariant::InstallSnapshot { snapshot } => MessageVariant::InstallSnapshot {
                snapshot: Box::new(snapshot.relabel(f)),
            },
            MessageVariant::AppendEntries {
                prev,
                entries,
                commit,
            } if entries.iter().any(|e| e.as_conf_change().is_some()) => {
                MessageVariant::AppendEntries {
                    prev: *prev,
                    entries: entries.iter().map(|e| e.relabel(f)).collect(),
                    commit: *commit,
                }
            }
            MessageVariant::ProposeConfChange { change } => MessageVariant::ProposeConfChange {
                change: change.relabel(f),
            },
            MessageVariant::TransferLeader { target } => {
                MessageVariant::TransferLeader { target: f(*target) }
            }
            MessageVariant::ReportSnapshot { peer, status } => MessageVariant::ReportSnapshot {
                peer: f(*peer),
                status: *status,
            },
            other => other.clone(),
        };
        Message {
            src: f(self.src),
            dst: f(self.dst),
            src_term: self.src_term,
            variant,
        }
    }
}

/// The persisted HardState names the vote, the snapshot the members, and
/// configuration entries the nodes they change.
impl Relabel for MemStorage {
    fn relabel(&self, f: &dyn Fn(NodeId) -> NodeId) -> Self {
        let mut s = self.clone();
        s.set_hard_state(self.hard_state().relabel(f));
        s.relabel_snapshot(f);
        s
    }
}

impl<S: Relabel + Clone> Context<S> {
    /// This state with every node id mapped through `f`.
    pub fn relabel(&self, f: &dyn Fn(NodeId) -> NodeId) -> Context<S> {
        let mut ctx = self.clone();
        ctx.config.id = f(self.config.id);
        ctx.config.voters = self.config.voters.iter().map(|&id| f(id)).collect();
        ctx.membership = self.membership.relabel(f);
        ctx.handed_confs = self
            .handed_confs
            .iter()
            .map(|(i, h)| (*i, h.relabel(f)))
            .collect();
        ctx.hard = self.hard.relabel(f);
        ctx.hard_handed = self.hard_handed.relabel(f);
        ctx.role = match &self.role {
            RoleState::Follower { leader } => RoleState::Follower {
                leader: leader.map(f),
            },
            RoleState::PreCandidate { votes } => RoleState::PreCandidate {
                votes: votes.iter().map(|(&id, &g)| (f(id), g)).collect(),
            },
            RoleState::Candidate { votes } => RoleState::Candidate {
                votes: votes.iter().map(|(&id, &g)| (f(id), g)).collect(),
            },
            RoleState::Leader {
                tracker,
                term_start,
                transfer,
                uncommitted_bytes,
                reads,
                pending_conf,
                broadcast_due,
            } => RoleState::Leader {
                pending_conf: *pending_conf,
                broadcast_due: *broadcast_due,
                tracker: tracker.relabel(&f),
                reads: reads.relabel(f),
                term_start: *term_start,
                uncommitted_bytes: *uncommitted_bytes,
                transfer: transfer.map(|t| super::role::Transfer {
                    target: f(t.target),
                    ..t
                }),
            },
        };
        ctx.outbox.map(|m| m.relabel(f));
        *ctx.log.storage_mut() = self.log.storage().relabel(f);
        ctx.log.relabel_unstable(f);
        // The timeout is drawn from the id: redrawn only for a renamed node
        // (drawing seeds a generator, a cost on every state the model
        // canonicalises).
        if ctx.config.id != self.config.id {
            ctx.election_timeout =
                super::inherent::drawn_election_timeout(&ctx.config, ctx.hard.term);
        }
        ctx
    }
}

#[cfg(test)]
mod tests {
    use super::Relabel;
    use crate::{
        ConfChange, Config, Entry, EntryKey, HardState, Index, MemStorage, MemberChange, Message,
        MessageVariant, Node, NodeId, Role, Snapshot, StepOutcome, Term,
    };
    use futures::executor::block_on;

    fn swap_1_3(id: NodeId) -> NodeId {
        match id.0 {
            1 => NodeId(3),
            3 => NodeId(1),
            other => NodeId(other),
        }
    }

    /// Persists and advances `node`'s Ready; returns what it sends.
    fn run_ready(node: &mut Node<MemStorage>) -> Vec<Message> {
        let rd = block_on(node.ready()).unwrap();
        node.storage_mut().append(&rd.entries).unwrap();
        if let Some(hs) = rd.hard_state {
            node.storage_mut().set_hard_state(hs);
        }
        node.advance(rd.clone());
        rd.messages
    }

    /// n1 campaigned in term 1, persisted its vote, and won n2's: a leader
    /// whose first appends wait unsent.
    fn leader_with_queued_appends() -> Node<MemStorage> {
        let cfg = Config::new(NodeId(1), [NodeId(1), NodeId(2), NodeId(3)]);
        let mut node = block_on(Node::new(cfg, MemStorage::default())).unwrap();
        block_on(node.campaign()).unwrap();
        run_ready(&mut node);
        let granted = MessageVariant::RequestVoteResponse { granted: true };
        block_on(node.step(Message::new(NodeId(2), Term(1), NodeId(1), granted))).unwrap();
        assert_eq!(node.status().role, Role::Leader);
        node
    }

    #[test]
    fn a_relabelled_leader_is_the_same_leader_under_other_names() {
        let mut leader = leader_with_queued_appends();
        // A read n3 forwarded waits for the leader's first commit.
        let read = MessageVariant::ReadIndexForward { ctx: "r".into() };
        let forwarded = Message::new(NodeId(3), Term(1), NodeId(1), read);
        assert_eq!(block_on(leader.step(forwarded)), Ok(StepOutcome::Handled));
        let mut renamed = leader.relabel(&swap_1_3);
        assert_eq!(renamed.relabel(&swap_1_3), leader, "a swap undoes itself");
        let unnamed = renamed.relabel(&|id| id);
        assert_eq!(unnamed, renamed, "the identity changes nothing");

        let status = renamed.status();
        assert_eq!((status.id, status.role), (NodeId(3), Role::Leader));
        assert_eq!((status.term, status.voted_node), (Term(1), Some(NodeId(3))));
        let durable = HardState {
            term: Term(1),
            voted_node: Some(NodeId(3)),
            committed_index: Index(0),
        };
        assert_eq!(renamed.storage().hard_state(), durable, "the term is no id");
        assert!(
            renamed.progress(NodeId(1)).is_some(),
            "n1 is a follower now"
        );

        let sent = run_ready(&mut renamed);
        let mut routes: Vec<(NodeId, NodeId)> = sent.iter().map(|m| (m.src, m.dst)).collect();
        routes.sort();
        assert_eq!(routes, [(NodeId(3), NodeId(1)), (NodeId(3), NodeId(2))]);
    }

    fn node(id: u64) -> Node<MemStorage> {
        let cfg = Config::new(NodeId(id), [NodeId(1), NodeId(2), NodeId(3)]);
        block_on(Node::new(cfg, MemStorage::default())).unwrap()
    }

    #[test]
    fn a_renamed_fresh_node_is_the_node_of_that_name() {
        let (n1, n3) = (node(1), node(3));
        // The election timeout is drawn from the id: renaming redraws it.
        assert_ne!(n1.status().election_timeout, n3.status().election_timeout);
        assert_eq!(n1.relabel(&swap_1_3), n3);
        assert_eq!(node(2).relabel(&swap_1_3), node(2), "n2 keeps its name");
    }

    #[test]
    fn a_snapshot_and_configuration_entries_name_the_new_members() {
        let key = EntryKey::new(Term(1), Index(4));
        let snap = Snapshot::new(key, [NodeId(1), NodeId(2)], "data");
        let renamed = snap.relabel(&swap_1_3);
        let want: std::collections::BTreeSet<NodeId> = [NodeId(2), NodeId(3)].into();
        assert_eq!((renamed.meta.voters, renamed.meta.last), (want, key));
        assert_eq!(renamed.data, snap.data);

        let add = |id| ConfChange::Simple(MemberChange::AddVoter(NodeId(id)));
        let entries = vec![
            Entry::empty(key),
            Entry::conf_change(EntryKey::new(Term(1), Index(5)), add(1)),
        ];
        let append = MessageVariant::AppendEntries {
            prev: EntryKey::default(),
            entries,
            commit: Index(0),
        };
        let msg = Message::new(NodeId(1), Term(1), NodeId(2), append).relabel(&swap_1_3);
        let MessageVariant::AppendEntries { entries, .. } = &msg.variant else {
            panic!("still an append: {msg}");
        };
        assert_eq!(entries[1].as_conf_change(), Some(&add(3)));
        assert_eq!(entries[0], Entry::empty(key));
        assert_eq!((msg.src, msg.dst), (NodeId(3), NodeId(2)));
    }

    #[test]
    fn stored_state_names_the_new_members() {
        let mut storage = MemStorage::default();
        let snap_key = EntryKey::new(Term(1), Index(2));
        let snap = Snapshot::new(snap_key, [NodeId(1), NodeId(2)], "data");
        storage.apply_snapshot(snap).unwrap();
        let add = |id| ConfChange::Simple(MemberChange::AddVoter(NodeId(id)));
        let change = Entry::conf_change(EntryKey::new(Term(1), Index(3)), add(1));
        storage.append(std::slice::from_ref(&change)).unwrap();
        let renamed = storage.relabel(&swap_1_3);
        let voters: Vec<NodeId> = renamed
            .stored_snapshot()
            .meta
            .voters
            .iter()
            .copied()
            .collect();
        assert_eq!(voters, [NodeId(2), NodeId(3)], "the snapshot's members");
        let stored = renamed.stored_entries();
        assert_eq!(stored[0].as_conf_change(), Some(&add(3)), "a stored change");
        assert_eq!(renamed.relabel(&swap_1_3), storage, "a swap undoes itself");
    }

    #[test]
    fn a_leader_renamed_mid_transfer_and_mid_change_keeps_both() {
        let mut leader = leader_with_queued_appends();
        run_ready(&mut leader);
        let appended = block_on(
            leader.propose_conf_change(ConfChange::Simple(MemberChange::Remove(NodeId(1)))),
        )
        .unwrap();
        let outcome = block_on(leader.transfer_leader(NodeId(3))).unwrap();
        assert_eq!(outcome, StepOutcome::Handled);
        let renamed = leader.relabel(&swap_1_3);
        assert_eq!(renamed.status().transfer, Some(NodeId(1)), "n3 is now n1");
        // The change is not yet written: it sits among the unstable entries.
        assert!(renamed.log().persisted() < appended);
        let written = block_on(renamed.entries(appended.index, appended.index.next())).unwrap();
        let removed = ConfChange::Simple(MemberChange::Remove(NodeId(3)));
        assert_eq!(written[0].as_conf_change(), Some(&removed));
    }
}
