//! Properties of pre-vote, check-quorum and leader transfer, and what the
//! ghost records for them. Each is checked only in models that switch its
//! feature on ([`Needs`]); without the feature the engine never does what
//! they judge.
//!
//! - **pre-vote is harmless** (thesis §9.6): a node never changes its term,
//!   vote or role for a pre-vote request; becoming a pre-candidate changes
//!   neither term nor vote; a pre-vote is granted only to a log at least as
//!   up to date as the voter's (§5.4.1).
//! - **a leader cut off from a quorum steps down** (thesis §6.2): at the end
//!   of an election period, a leader that received a message from fewer
//!   than a quorum of voters (itself included) in it is no longer leader.
//!   The ghost counts any message delivered to the leader, a superset of the
//!   answers the engine counts, so the check is sound.
//! - **a transfer target is up to date** (thesis §3.10): a node that
//!   campaigns on a leader's TimeoutNow has a log at least as up to date as
//!   the leader's when the leader sent it.

use super::{first_raised, Broken, Ghost, NodeObs, Reason};
use ruft::{EntryKey, MemStorage, Message, MessageVariant, Node, NodeId, Role, StepOutcome, Term};

/// The feature a property judges, and without which it is not checked.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Needs {
    /// Always checked.
    Nothing,
    /// `Config::pre_vote` (`check --pre-vote`).
    PreVote,
    /// `Config::check_quorum` (`check --check-quorum`).
    CheckQuorum,
    /// Leader transfers in the run (`check --transfers N`).
    Transfers,
    /// Log compaction in the run (`check --max-compactions N`).
    Snapshots,
    /// Clients and their history (`check --clients N`).
    Clients,
    /// Clients reading by lease (`check --clients N --reads lease`).
    Lease,
    /// Crashes in the run (not with `check --max-crashes 0`).
    Crashes,
    /// Membership changes in the run (`check --conf-changes N`).
    Membership,
    /// Membership changes through joint configurations (`check --joint`).
    Joint,
    /// Learners offered in membership changes (`check --learners`).
    Learners,
}

impl Needs {
    /// Whether a property that needs `self` is checked only where one that
    /// needs `other` is.
    pub fn implies(self, other: Needs) -> bool {
        self == other
            || (self == Needs::Lease && other == Needs::Clients)
            || (matches!(self, Needs::Joint | Needs::Learners) && other == Needs::Membership)
    }
}

/// The features a model or a driver switches on.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Features {
    /// Pre-vote on every node.
    pub pre_vote: bool,
    /// Check-quorum on every node.
    pub check_quorum: bool,
    /// Leader transfers may be requested.
    pub transfers: bool,
    /// Nodes may compact their logs.
    pub snapshots: bool,
    /// Clients run operations and the history is recorded.
    pub clients: bool,
    /// Leaders serve reads from a lease (`ReadMode::Lease`).
    pub lease: bool,
    /// No node ever crashes (`--max-crashes 0`): the properties about
    /// restarts are not checked, since no restart can happen.
    pub crash_free: bool,
    /// Membership changes may be proposed.
    pub membership: bool,
    /// ... through joint configurations.
    pub joint: bool,
    /// ... adding learners.
    pub learners: bool,
}

impl Features {
    /// Whether a property that needs `needs` is checked.
    pub fn enable(self, needs: Needs) -> bool {
        match needs {
            Needs::Nothing => true,
            Needs::PreVote => self.pre_vote,
            Needs::CheckQuorum => self.check_quorum,
            Needs::Transfers => self.transfers,
            Needs::Snapshots => self.snapshots,
            Needs::Clients => self.clients,
            Needs::Lease => self.clients && self.lease,
            Needs::Crashes => !self.crash_free,
            Needs::Membership => self.membership,
            Needs::Joint => self.membership && self.joint,
            Needs::Learners => self.membership && self.learners,
        }
    }
}

/// Witness events of the node's last transition. Unlike the violation
/// flags these do not stick: the model clears them when the node's next
/// transition starts ([`Ghost::start_transition`]), so a witness is a state
/// right after its event, and states that differ only in which witnesses
/// happened long ago are not told apart (sticky witness bits multiplied the
/// pre-vote and check-quorum spaces by up to 2 per node and witness).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Seen {
    /// A pre-candidate lost its pre-vote and stayed in its term.
    pub pre_vote_lost: bool,
    /// A pre-candidate heard from its term's leader and followed it.
    pub rejoined_quietly: bool,
    /// A leader stepped down at the end of an election period.
    pub stepped_down: bool,
    /// A client's read was confirmed in the step that asked for it: its
    /// leader served it from a lease, without a round of heartbeats.
    pub read_at_once: bool,
}

/// What the ghost keeps for these properties.
#[derive(Clone, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct LeadershipRecord {
    /// With check-quorum, while leader: the peers heard from in the current
    /// election period, until they make a quorum with the leader; then
    /// `heard_quorum` is set and the set emptied (which peers no longer
    /// matters, and forgetting them keeps the state space small).
    pub heard: std::collections::BTreeSet<NodeId>,
    /// Whether the peers heard from in this period make a quorum with the leader.
    pub heard_quorum: bool,
    /// As leader: `(term, target)` of each TimeoutNow sent, with the leader's
    /// last entry when it first sent one.
    pub timeout_now_sent: std::collections::BTreeMap<(Term, NodeId), EntryKey>,
    /// `(term, leader)` of each TimeoutNow this node campaigned on, with its
    /// own last entry then.
    pub transfer_campaigns: std::collections::BTreeMap<(Term, NodeId), EntryKey>,
    /// Witness events of the last transition.
    pub seen: Seen,
}

impl LeadershipRecord {
    /// A new election period of a leader among `voters`: only the leader is
    /// heard from, which is a quorum only in a cluster of one.
    fn start_period(&mut self, voters: usize) {
        self.heard.clear();
        self.heard_quorum = ruft::progress::config::quorum(voters) <= 1;
    }

    /// The same record with every node id mapped through `f`.
    pub fn relabel(&self, f: &dyn Fn(NodeId) -> NodeId) -> LeadershipRecord {
        LeadershipRecord {
            heard: self.heard.iter().map(|&id| f(id)).collect(),
            heard_quorum: self.heard_quorum,
            timeout_now_sent: self
                .timeout_now_sent
                .iter()
                .map(|(&(t, id), &k)| ((t, f(id)), k))
                .collect(),
            transfer_campaigns: self
                .transfer_campaigns
                .iter()
                .map(|(&(t, id), &k)| ((t, f(id)), k))
                .collect(),
            seen: self.seen,
        }
    }
}

impl Ghost {
    /// A transition of this node starts: the witness events of the last one
    /// are forgotten (see [`LeadershipRecord::seen`]).
    pub fn start_transition(&mut self) {
        self.leadership.seen = Seen::default();
        self.snapshots = super::snapshots::SnapshotSeen::default();
        self.membership = super::membership::MembershipSeen::default();
    }

    /// Role changes these properties watch (called from `observe_step`).
    pub(super) fn observe_leadership_step(
        &mut self,
        before: &Node<MemStorage>,
        after: &Node<MemStorage>,
    ) {
        let (b, a) = (before.status(), after.status());
        let became_pre = b.role != Role::PreCandidate && a.role == Role::PreCandidate;
        if became_pre && (a.term, a.voted_node) != (b.term, b.voted_node) {
            self.flags.raise(Broken::PreVoteHarmful, || {
                Reason::new(
                    "a pre-campaign moves no term or vote",
                    format!(
                        "{} became a pre-candidate and went from {} (vote {}) to {} (vote {})",
                        a.id,
                        b.term,
                        vote(b.voted_node),
                        a.term,
                        vote(a.voted_node)
                    ),
                )
                .node(a.id)
                .term(b.term)
                .term(a.term)
            });
        }
        if b.role == Role::PreCandidate && a.role == Role::Follower && a.term == b.term {
            self.leadership.seen.pre_vote_lost = true;
            if a.leader.is_some() {
                self.leadership.seen.rejoined_quietly = true;
            }
        }
        if a.role == Role::Leader && (b.role != Role::Leader || b.term != a.term) {
            self.leadership.start_period(after.config().voters.len());
        }
    }

    /// Records the delivery of `msg` to a running node, which went from
    /// `before` to `after` with `outcome`.
    pub fn observe_delivery(
        &mut self,
        before: &Node<MemStorage>,
        after: &Node<MemStorage>,
        msg: &Message,
        outcome: &Result<StepOutcome, ruft::Error>,
    ) {
        let (b, a) = (before.status(), after.status());
        match msg.variant {
            MessageVariant::RequestPreVote { last } => {
                let moved = (a.term, a.voted_node, a.role) != (b.term, b.voted_node, b.role);
                let granted = *outcome == Ok(StepOutcome::Handled);
                if moved || (granted && !last.is_up_to_date_with(b.last)) {
                    self.flags.raise(Broken::PreVoteHarmful, || {
                        let what = if moved {
                            format!(
                                "moved {} from {} {:?} to {} {:?}",
                                a.id, b.term, b.role, a.term, a.role
                            )
                        } else {
                            format!(
                                "was granted by {} with last {} to a log ending at {last}",
                                a.id, b.last
                            )
                        };
                        Reason::new(
                            "a pre-vote moves nothing and is granted only to a log as up to date",
                            format!("a pre-vote request from {} {what}", msg.src),
                        )
                        .node(a.id)
                        .node(msg.src)
                        .term(b.term)
                        .term(a.term)
                        .index(last.index)
                        .index(b.last.index)
                    });
                }
            }
            MessageVariant::TimeoutNow => {
                let campaigned = matches!(a.role, Role::Candidate | Role::Leader)
                    && a.term == msg.src_term.next()
                    && b.role != Role::Candidate;
                if campaigned {
                    let key = (msg.src_term, msg.src);
                    self.leadership
                        .transfer_campaigns
                        .entry(key)
                        .or_insert(b.last);
                }
            }
            _ => {}
        }
        let stays_leader = b.role == Role::Leader && a.role == Role::Leader && a.term == b.term;
        if before.config().check_quorum && stays_leader && !self.leadership.heard_quorum {
            self.leadership.heard.insert(msg.src);
            // The leader itself and the peers heard from.
            let heard = self.leadership.heard.len() + 1;
            if heard >= ruft::progress::config::quorum(before.config().voters.len()) {
                self.leadership.heard_quorum = true;
                self.leadership.heard.clear();
            }
        }
    }

    /// Records the TimeoutNow messages of a Ready of `node` (the leader's
    /// last entry is what the target must hold).
    pub(super) fn observe_timeout_now(&mut self, node: &Node<MemStorage>, messages: &[Message]) {
        for msg in messages
            .iter()
            .filter(|m| m.variant == MessageVariant::TimeoutNow)
        {
            let last = node.status().last;
            self.leadership
                .timeout_now_sent
                .entry((msg.src_term, msg.dst))
                .or_insert(last);
        }
    }

    /// Records the end of an election period at a node that was `before`
    /// and is `after`.
    pub fn observe_check_quorum(&mut self, before: &Node<MemStorage>, after: &Node<MemStorage>) {
        if before.status().role != Role::Leader {
            return;
        }
        let still_leader = after.status().role == Role::Leader;
        if still_leader && !self.leadership.heard_quorum {
            self.flags.raise(Broken::KeptOfficeWithoutQuorum, || {
                let (s, heard) = (after.status(), &self.leadership.heard);
                let heard = if heard.is_empty() {
                    "no other voter".to_string()
                } else {
                    let names: Vec<String> = heard.iter().map(NodeId::to_string).collect();
                    names.join(", ")
                };
                Reason::new(
                    "a leader that heard from no quorum in an election period steps down",
                    format!(
                        "{} stayed leader in {} at the end of a period in which it heard from \
                         {heard} (of {} voters)",
                        s.id,
                        s.term,
                        before.config().voters.len()
                    ),
                )
                .node(s.id)
                .term(s.term)
            });
        }
        if !still_leader {
            self.leadership.seen.stepped_down = true;
        }
        self.leadership.start_period(before.config().voters.len());
    }
}

/// A vote as printed: `n2` or `none`.
fn vote(v: Option<NodeId>) -> String {
    v.map_or("none".to_string(), |c| c.to_string())
}

/// Pre-vote is harmless.
pub fn pre_vote_harmless(nodes: &[NodeObs<'_>]) -> Option<Reason> {
    first_raised(nodes, Broken::PreVoteHarmful)
}

/// Witness: a pre-candidate lost and stayed in its term.
pub fn pre_vote_lost(nodes: &[NodeObs<'_>]) -> bool {
    nodes.iter().any(|n| n.ghost.leadership.seen.pre_vote_lost)
}

/// Witness: a pre-candidate heard from its term's leader and followed it.
pub fn rejoined_quietly(nodes: &[NodeObs<'_>]) -> bool {
    nodes
        .iter()
        .any(|n| n.ghost.leadership.seen.rejoined_quietly)
}

/// A leader cut off from a quorum steps down.
pub fn cut_off_leader_steps_down(nodes: &[NodeObs<'_>]) -> Option<Reason> {
    first_raised(nodes, Broken::KeptOfficeWithoutQuorum)
}

/// Witness: a leader stepped down for lack of quorum.
pub fn stepped_down_without_quorum(nodes: &[NodeObs<'_>]) -> bool {
    nodes.iter().any(|n| n.ghost.leadership.seen.stepped_down)
}

/// A transfer target is up to date: every campaign on TimeoutNow started
/// from a log at least as up to date as the sender's when it sent it.
pub fn transfer_target_up_to_date(nodes: &[NodeObs<'_>]) -> Option<Reason> {
    let sent = |leader: NodeId, term: Term, target: NodeId| {
        nodes
            .iter()
            .filter(|n| n.node.config().id == leader)
            .find_map(|n| n.ghost.leadership.timeout_now_sent.get(&(term, target)))
    };
    nodes.iter().find_map(|n| {
        let me = n.node.config().id;
        n.ghost
            .leadership
            .transfer_campaigns
            .iter()
            .find_map(|(&(term, leader), &mine)| {
                let &theirs = sent(leader, term, me)?;
                (!mine.is_up_to_date_with(theirs)).then(|| {
                    Reason::new(
                        "a transfer target's log is as up to date as the leader's",
                        format!(
                            "{me} campaigned on {leader}'s TimeoutNow of {term} with last entry \
                             {mine}, behind {leader}'s {theirs}"
                        ),
                    )
                    .node(me)
                    .node(leader)
                    .term(term)
                    .index(mine.index)
                    .index(theirs.index)
                })
            })
    })
}

/// Witness: a node that campaigned on TimeoutNow led the next term.
pub fn transfer_completed(nodes: &[NodeObs<'_>]) -> bool {
    nodes.iter().any(|n| {
        n.ghost
            .leadership
            .transfer_campaigns
            .keys()
            .any(|(term, _)| n.ghost.led.contains(&term.next()))
    })
}
