//! Why an Always property fails: the clause that broke, the nodes, terms and
//! indexes it compared, and the comparison in words. Every Always property
//! returns a [`Reason`] instead of a bare `false`, so `check`, the random
//! suites and the scenario tests can all say *what* went wrong, not only
//! which of a property's clauses might have.
//!
//! Violations seen on a single transition (a second vote, a term going back)
//! are kept in the node's ghost as [`Flags`]: which [`Broken`] rules, each
//! with the reason written by the observer that saw both sides of the
//! comparison.

use ruft::{Index, NodeId, Term};
use std::cmp::Ordering;
use std::fmt;
use std::hash::{Hash, Hasher};

/// Why an Always property does not hold on a state.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reason {
    /// The clause that failed, as the property's docs name it.
    pub clause: &'static str,
    /// The nodes involved, the one that broke the rule first.
    pub nodes: Vec<NodeId>,
    /// The terms compared.
    pub terms: Vec<Term>,
    /// The indexes compared.
    pub indexes: Vec<Index>,
    /// The comparison in words, e.g. "n1 voted for n1 in t1 (on disk), then
    /// for n3 in t1".
    pub text: String,
}

impl Reason {
    /// A reason for `clause`, described by `text`.
    pub fn new(clause: &'static str, text: impl Into<String>) -> Reason {
        Reason {
            clause,
            nodes: Vec::new(),
            terms: Vec::new(),
            indexes: Vec::new(),
            text: text.into(),
        }
    }

    /// Names a node involved.
    pub fn node(mut self, id: NodeId) -> Reason {
        if !self.nodes.contains(&id) {
            self.nodes.push(id);
        }
        self
    }

    /// Names a term compared.
    pub fn term(mut self, term: Term) -> Reason {
        self.terms.push(term);
        self
    }

    /// Names an index compared.
    pub fn index(mut self, index: Index) -> Reason {
        self.indexes.push(index);
        self
    }

    /// The reason as JSON fields (numbers, not display strings).
    pub fn json(&self) -> serde_json::Value {
        serde_json::json!({
            "clause": self.clause,
            "nodes": self.nodes.iter().map(|n| n.0).collect::<Vec<_>>(),
            "terms": self.terms.iter().map(|t| t.0).collect::<Vec<_>>(),
            "indexes": self.indexes.iter().map(|i| i.0).collect::<Vec<_>>(),
            "text": self.text,
        })
    }
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.clause, self.text)
    }
}

/// A rule that a single transition can be seen to break. The ghost keeps
/// them in [`Flags`], each with the [`Reason`] written by the observer that
/// saw both sides of the comparison.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Broken {
    /// A leader removed or changed an entry of its own log (§5.3).
    AppendOnly,
    /// A running node's term went down (§5.1).
    TermWentBack,
    /// The persisted term went down.
    PersistedTermWentBack,
    /// Two granted votes for different candidates in one term (§5.2).
    SecondVote,
    /// An entry this node had seen committed changed (§5.4.3).
    CommittedChanged,
    /// An entry was applied that differs from the one seen committed at its
    /// index (§5.4.3).
    AppliedChanged,
    /// A message left before the term, vote or entries it speaks for were on
    /// disk (persist before send, §5 and Figure 2).
    SentBeforeDurable,
    /// A Ready could not be handed out or written, or the node could not be
    /// rebuilt from what it wrote (a broken engine; the harness reports it).
    Storage,
    /// A pre-vote moved a node's term, vote or role, or was granted to a log
    /// behind the voter's (§9.6).
    PreVoteHarmful,
    /// A leader kept office at the end of an election period in which it
    /// heard from fewer than a quorum (§6.2).
    KeptOfficeWithoutQuorum,
    /// A running node's commit index went down (a stale snapshot installed, §7).
    CommitWentBack,
    /// A snapshot or state machine does not hold exactly the committed
    /// entries it covers, or an entry was applied twice or out of order (§7).
    Snapshot,
    /// A node campaigned while not a voter of its configuration (§4.2).
    NonVoterCampaigned,
}

impl Broken {
    fn bit(self) -> u16 {
        1 << (self as u16)
    }
}

/// The rules a node was seen breaking over its history, and two witnesses.
///
/// A state's identity (`Eq`, `Hash`, `Ord`) takes in which rules are broken,
/// not the words explaining them: the search's state space is the same as
/// with plain booleans, and two states that differ only in how a violation
/// is worded are one state. The reasons live behind one pointer, so a ghost
/// with nothing broken costs a few bytes.
#[derive(Clone, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Flags {
    /// One bit per [`Broken`] rule.
    broken: u16,
    /// Witness: a node lost an entry to a conflicting leader.
    pub truncated: bool,
    /// Witness: a node restarted with an entry it had seen committed.
    pub survived_crash: bool,
    /// Why each rule broke (commentary: no part of the identity).
    reasons: Reasons,
}

impl Flags {
    /// Records that `rule` broke, with the reason `why` builds, unless it
    /// broke before (the first reason is the one that explains the run).
    pub fn raise(&mut self, rule: Broken, why: impl FnOnce() -> Reason) {
        if self.is_raised(rule) {
            return;
        }
        self.broken |= rule.bit();
        self.reasons
            .0
            .get_or_insert_with(Default::default)
            .push((rule, why()));
    }

    /// Whether `rule` was seen broken.
    pub fn is_raised(&self, rule: Broken) -> bool {
        self.broken & rule.bit() != 0
    }

    /// Every rule seen broken, with why, in the order they broke.
    pub fn broken(&self) -> impl Iterator<Item = (Broken, &Reason)> + '_ {
        let all = self.reasons.0.as_deref().map_or(&[][..], Vec::as_slice);
        all.iter().map(|(rule, why)| (*rule, why))
    }

    /// Why `rule` broke, if it did.
    pub fn reason(&self, rule: Broken) -> Option<&Reason> {
        let all = self.reasons.0.as_deref()?;
        all.iter().find(|(r, _)| *r == rule).map(|(_, why)| why)
    }
}

/// The reasons of a [`Flags`]: equal, hashed and ordered as nothing.
#[derive(Clone, Debug, Default)]
// A boxed Vec on purpose: one thin pointer (8 bytes) in every ghost of every
// state, where a Vec or a boxed slice would take 24 or 16.
#[allow(clippy::box_collection)]
struct Reasons(Option<Box<Vec<(Broken, Reason)>>>);

impl PartialEq for Reasons {
    fn eq(&self, _: &Reasons) -> bool {
        true
    }
}

impl Eq for Reasons {}

impl Hash for Reasons {
    fn hash<H: Hasher>(&self, _: &mut H) {}
}

impl PartialOrd for Reasons {
    fn partial_cmp(&self, other: &Reasons) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Reasons {
    fn cmp(&self, _: &Reasons) -> Ordering {
        Ordering::Equal
    }
}

/// The reason of the first node whose ghost shows `rule` broken.
pub fn first_raised(nodes: &[super::NodeObs<'_>], rule: Broken) -> Option<Reason> {
    nodes
        .iter()
        .find_map(|n| n.ghost.flags.reason(rule))
        .cloned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::hash_map::DefaultHasher;

    fn hash(flags: &Flags) -> u64 {
        let mut h = DefaultHasher::new();
        flags.hash(&mut h);
        h.finish()
    }

    #[test]
    fn a_rule_keeps_its_first_reason() {
        let mut flags = Flags::default();
        assert!(!flags.is_raised(Broken::SecondVote));
        flags.raise(Broken::SecondVote, || {
            Reason::new("one vote per term", "first")
        });
        flags.raise(Broken::SecondVote, || {
            Reason::new("one vote per term", "second")
        });
        flags.raise(Broken::TermWentBack, || {
            Reason::new("terms never go back", "t2 to t1")
        });
        let text = |rule| flags.reason(rule).map(|r| r.text.as_str());
        assert_eq!(text(Broken::SecondVote), Some("first"));
        assert_eq!(text(Broken::TermWentBack), Some("t2 to t1"));
        assert_eq!(text(Broken::AppendOnly), None);
        assert!(!flags.is_raised(Broken::AppendOnly));
    }

    #[test]
    fn the_words_take_no_part_in_a_states_identity() {
        let (mut a, mut b) = (Flags::default(), Flags::default());
        assert_eq!(a, b);
        a.raise(Broken::Storage, || {
            Reason::new("c", "one way").node(NodeId(1))
        });
        assert_ne!(a, b);
        assert_ne!(hash(&a), hash(&b));
        b.raise(Broken::Storage, || {
            Reason::new("c", "another way").node(NodeId(2))
        });
        assert_eq!(a, b);
        assert_eq!(hash(&a), hash(&b));
        assert_eq!(a.cmp(&b), Ordering::Equal);
        assert!(Flags::default() < a);
        b.raise(Broken::Snapshot, || Reason::new("c", "more"));
        assert_ne!(a, b, "which rules broke is identity");
    }

    #[test]
    fn a_ghost_with_nothing_broken_stays_small() {
        assert!(std::mem::size_of::<Flags>() <= 16);
    }

    #[test]
    fn a_reason_reads_and_serialises() {
        let r = Reason::new("one vote per term", "n1 voted for n1 in t1, then for n3")
            .node(NodeId(1))
            .node(NodeId(1))
            .term(Term(1))
            .index(Index(2));
        assert_eq!(
            r.to_string(),
            "one vote per term: n1 voted for n1 in t1, then for n3"
        );
        assert_eq!(r.json()["nodes"], serde_json::json!([1]));
        assert_eq!(r.json()["indexes"], serde_json::json!([2]));
    }
}
