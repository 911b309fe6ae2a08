//! Properties of log compaction and snapshots (§7), the log image the other
//! properties compare, and what the ghost records for them.
//!
//! - **the log image**: a node's whole log from index 1, as the §5
//!   properties compare it: the entries its latest snapshot covers (decoded
//!   from the model application's snapshot data, [`crate::machine`]) up to
//!   the compaction point, then the entries it holds. An entry covered by a
//!   snapshot therefore counts as present (leader completeness, log
//!   matching), and compaction never looks like a truncation.
//! - **snapshot consistency**: every snapshot decodes to exactly the entries
//!   it covers; a state machine applies each index once, in order;
//!   `first - 1 <= snapshot <= applied <= committed <= last`; installing a
//!   snapshot never moves commit or applied back. Checked only with
//!   compaction on; the part about commit is checked everywhere (index order).

use super::{first_raised, Broken, Ghost, NodeObs, Reason};
use crate::machine::Machine;
use ruft::{Entry, Index, MemStorage, Node, ProgressState, Ready};

/// A node's whole log from index 1 (see the module docs).
pub struct Image<'a> {
    covered: Vec<Entry>,
    node: &'a Node<MemStorage>,
    /// Whether the snapshot's data did not decode to the entries it covers.
    pub broken: bool,
}

/// The image of `node`'s log. Without compaction it is the log itself and
/// costs nothing.
pub fn image(node: &Node<MemStorage>) -> Image<'_> {
    let compacted = node.log().compacted().index;
    if compacted == Index(0) {
        return Image {
            covered: Vec::new(),
            node,
            broken: false,
        };
    }
    let snapshot = node.log().current_snapshot();
    match Machine::decode(snapshot.index(), &snapshot.data) {
        Ok(m) if snapshot.index() >= compacted => {
            let n = Index(0).distance_to(compacted);
            Image {
                covered: m.entries()[..n].to_vec(),
                node,
                broken: false,
            }
        }
        _ => Image {
            covered: Vec::new(),
            node,
            broken: true,
        },
    }
}

impl Image<'_> {
    /// Every entry from index 1 on, in order.
    pub fn iter(&self) -> impl Iterator<Item = &Entry> + '_ {
        self.covered.iter().chain(self.node.log().iter())
    }
}

/// Witness events of the node's last transition (cleared like
/// the leadership witnesses, see [`Ghost::start_transition`]).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SnapshotSeen {
    /// A follower's Ready handed out a leader's snapshot.
    pub installed: bool,
    /// The node restarted over a compacted log.
    pub restarted_compacted: bool,
    /// As leader: a follower that needed a snapshot acknowledged it and is
    /// replicated to again.
    pub caught_up: bool,
}

impl Ghost {
    /// A leader's follower left the snapshot state for replication.
    pub(super) fn observe_snapshot_step(
        &mut self,
        before: &Node<MemStorage>,
        after: &Node<MemStorage>,
    ) {
        let waited = |n: &Node<MemStorage>, id| {
            n.progress(id)
                .map(|p| matches!(p.state(), ProgressState::Snapshot { .. }))
        };
        let id = after.status().id;
        let caught_up = after.config().voters.iter().any(|&peer| {
            peer != id
                && waited(before, peer) == Some(true)
                && after
                    .progress(peer)
                    .is_some_and(|p| matches!(p.state(), ProgressState::Replicate { .. }))
        });
        if caught_up {
            self.snapshots.caught_up = true;
        }
        let (b, a) = (before.status(), after.status());
        if a.committed < b.committed {
            self.flags.raise(Broken::CommitWentBack, || {
                Reason::new(
                    "commit indexes never go back",
                    format!(
                        "{}'s commit index went from {} back to {}",
                        a.id, b.committed, a.committed
                    ),
                )
                .node(a.id)
                .index(b.committed)
                .index(a.committed)
            });
        }
    }

    /// What a Ready's snapshot tells: it was installed.
    pub(super) fn observe_ready_snapshot(&mut self, ready: &Ready) {
        if ready.snapshot.is_some() {
            self.snapshots.installed = true;
        }
    }

    /// The model application's state machine refused what it was handed, or
    /// does not stand where the node says it applied.
    pub fn observe_machine(&mut self, node: &Node<MemStorage>, machine: &Machine, refused: bool) {
        let s = node.status();
        if refused || machine.applied() != s.applied {
            self.flags.raise(Broken::Snapshot, || {
                let what = if refused {
                    "refused what the node handed it".to_string()
                } else {
                    format!(
                        "stands at {} while the node applied {}",
                        machine.applied(),
                        s.applied
                    )
                };
                Reason::new(SNAPSHOT_CLAUSE, format!("{}'s state machine {what}", s.id))
                    .node(s.id)
                    .index(machine.applied())
                    .index(s.applied)
            });
        }
    }
}

/// The clause a state machine's failures break.
pub const SNAPSHOT_CLAUSE: &str = "the state machine holds exactly the applied entries";

/// Why `id`'s state machine failed to snapshot what it applied.
pub fn refused_snapshot(id: ruft::NodeId, e: &dyn std::fmt::Display) -> String {
    format!("{id}'s state machine could not snapshot what it applied: {e}")
}

/// Snapshot consistency (see the module docs).
pub fn snapshot_consistency(nodes: &[NodeObs<'_>]) -> Option<Reason> {
    if let Some(why) = first_raised(nodes, Broken::Snapshot) {
        return Some(why);
    }
    for n in nodes.iter().filter(|n| n.up) {
        let s = n.node.status();
        let disk = n.node.storage();
        let (compacted, snapshot) = (disk.compacted().index, disk.stored_snapshot().index());
        if !(compacted <= snapshot && snapshot <= s.applied) {
            return Some(
                Reason::new(
                    "compacted <= snapshot <= applied",
                    format!(
                        "{} has compacted to {compacted}, a snapshot at {snapshot}, applied {}",
                        s.id, s.applied
                    ),
                )
                .node(s.id)
                .index(compacted)
                .index(snapshot)
                .index(s.applied),
            );
        }
        if image(n.node).broken {
            return Some(
                Reason::new(
                    "the snapshot and the log join up",
                    format!(
                        "{}'s log does not continue its snapshot at {snapshot}",
                        s.id
                    ),
                )
                .node(s.id)
                .index(snapshot),
            );
        }
    }
    for (i, a) in nodes.iter().enumerate() {
        for b in &nodes[i + 1..] {
            let (Some(x), Some(y)) = (a.machine, b.machine) else {
                continue;
            };
            if let Some((p, q)) = x.entries().iter().zip(y.entries()).find(|(p, q)| p != q) {
                let (m, n) = (a.node.config().id, b.node.config().id);
                return Some(
                    Reason::new(
                        "state machines apply the same entries",
                        format!(
                            "the state machines of {m} and {n} applied {p} and {q} at index {}",
                            p.index()
                        ),
                    )
                    .node(m)
                    .node(n)
                    .index(p.index()),
                );
            }
        }
    }
    None
}

/// Witness: a follower installed a leader's snapshot.
pub fn snapshot_installed(nodes: &[NodeObs<'_>]) -> bool {
    nodes.iter().any(|n| n.ghost.snapshots.installed)
}

/// Witness: a node restarted over a compacted log.
pub fn restarted_from_snapshot(nodes: &[NodeObs<'_>]) -> bool {
    nodes.iter().any(|n| n.ghost.snapshots.restarted_compacted)
}

/// Witness: a compacted leader brought a lagging follower back.
pub fn lagging_follower_caught_up(nodes: &[NodeObs<'_>]) -> bool {
    nodes.iter().any(|n| n.ghost.snapshots.caught_up)
}
