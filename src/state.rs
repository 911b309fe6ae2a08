//! [`HardState`]: what a node must persist before it speaks.

use crate::{Index, NodeId, Term};
use std::fmt;

/// The durable part of a node's Raft state (Figure 2 of the paper: `currentTerm`,
/// `votedFor`, plus the commit index so a restarted node need not relearn it).
///
/// [`crate::Ready::hard_state`] carries it whenever it changed; the application
/// writes it (after the Ready's entries) before sending the Ready's messages.
///
/// ```
/// use ruft::{HardState, Index, NodeId, Term};
/// let hs = HardState { term: Term(2), voted_node: Some(NodeId(1)), committed_index: Index(4) };
/// assert_eq!(hs.to_string(), "t2 vote n1 commit 4");
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct HardState {
    /// The latest term this node has seen.
    pub term: Term,
    /// The candidate this node voted for in `term`, if any.
    pub voted_node: Option<NodeId>,
    /// The highest index this node knows to be committed.
    pub committed_index: Index,
}

impl HardState {
    /// Whether `next` may follow `self` on disk: the term never decreases, the
    /// vote never changes within a term, and the commit index never decreases.
    pub fn may_become(&self, next: &HardState) -> bool {
        let vote_kept = next.term > self.term
            || self.voted_node.is_none()
            || self.voted_node == next.voted_node;
        next.term >= self.term && vote_kept && next.committed_index >= self.committed_index
    }
}

impl fmt::Display for HardState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.term)?;
        if let Some(v) = self.voted_node {
            write!(f, " vote {v}")?;
        }
        write!(f, " commit {}", self.committed_index)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hs(term: u64, vote: Option<u64>, commit: u64) -> HardState {
        HardState {
            term: Term(term),
            voted_node: vote.map(NodeId),
            committed_index: Index(commit),
        }
    }

    #[test]
    fn hard_state_moves_only_forward() {
        assert!(hs(1, None, 0).may_become(&hs(1, Some(2), 0)));
        assert!(hs(1, Some(2), 0).may_become(&hs(2, Some(3), 0)));
        assert!(hs(1, Some(2), 0).may_become(&hs(1, Some(2), 3)));
        assert!(
            !hs(1, Some(2), 0).may_become(&hs(1, Some(3), 0)),
            "second vote in a term"
        );
        assert!(
            !hs(2, None, 0).may_become(&hs(1, None, 0)),
            "term went back"
        );
        assert!(
            !hs(1, None, 3).may_become(&hs(1, None, 2)),
            "commit went back"
        );
        assert!(
            !hs(1, Some(2), 0).may_become(&hs(1, None, 0)),
            "vote forgotten"
        );
    }

    #[test]
    fn a_hard_state_displays_term_vote_and_commit() {
        assert_eq!(hs(2, Some(3), 4).to_string(), "t2 vote n3 commit 4");
        assert_eq!(hs(2, None, 0).to_string(), "t2 commit 0");
    }
}
