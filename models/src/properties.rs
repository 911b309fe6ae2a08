//! The Raft safety properties (Figure 3 of the paper), one implementation
//! shared by the model checker, the proptest suites and the scenario tests.
//!
//! Properties read the cluster through [`NodeObs`]: each node's current state
//! (if it is up) and its [`Ghost`], a record kept beside the node that survives
//! its crashes and that the node itself never reads. Ghosts are updated by the
//! `observe_*` methods after every transition, and history-wide facts (who led
//! which term, which votes went out) are judged from them.

use ruft::{
    AppendOutcome, Entry, Index, MemStorage, MessageVariant, Node, NodeId, Ready, Role, Term,
};
use std::collections::{BTreeMap, BTreeSet};

mod leadership;
mod membership;
mod snapshots;
pub use leadership::{
    cut_off_leader_steps_down, pre_vote_harmless, pre_vote_lost, rejoined_quietly,
    stepped_down_without_quorum, transfer_completed, transfer_target_up_to_date, Features,
    LeadershipRecord, Needs,
};
pub use membership::{
    added_node_leads, added_node_votes, joint_left, learner_promoted, non_voters_never_campaign,
    one_pending_change, removed_leader_stepped_down, removed_leaders_step_down, MembershipSeen,
};
pub use snapshots::{
    image, lagging_follower_caught_up, restarted_from_snapshot, snapshot_consistency,
    snapshot_installed, Image, SnapshotSeen,
};

/// Always or Sometimes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Expect {
    /// Must hold in every reachable state.
    Always,
    /// Must hold in at least one reachable state (non-vacuity witness).
    Sometimes,
}

/// One property: name as printed, kind, the check, and its pair.
#[derive(Clone, Copy, Debug)]
pub struct PropertyDef {
    /// The printed name (`check list` shows exactly this).
    pub name: &'static str,
    /// Always or Sometimes.
    pub expect: Expect,
    /// The condition over the whole cluster.
    pub check: fn(&[NodeObs<'_>]) -> bool,
    /// The statement, in one line.
    pub about: &'static str,
    /// For an Always, the Sometimes that shows it is not vacuous, and vice versa.
    pub pair: &'static str,
    /// The feature without which it is not checked.
    pub needs: Needs,
}

/// One node as the properties see it.
#[derive(Clone, Copy, Debug)]
pub struct NodeObs<'a> {
    /// The node's state (for a crashed node: its state when it crashed).
    pub node: &'a Node<MemStorage>,
    /// Whether it is running.
    pub up: bool,
    /// What was observed of it over the whole history.
    pub ghost: &'a Ghost,
    /// The application's state machine, where the harness keeps one (models
    /// with compaction, see [`crate::machine`]).
    pub machine: Option<&'a crate::machine::Machine>,
    /// The clients' history, the same for every node (models with clients,
    /// see [`crate::clients`]).
    pub history: Option<&'a crate::clients::History>,
}

/// Violations a single transition can show; each names the rule broken.
#[derive(Clone, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Flags {
    /// A leader removed or changed an entry of its own log (§5.3).
    pub append_only_broken: bool,
    /// A running node's term went down (§5.1).
    pub term_went_back: bool,
    /// The persisted term went down.
    pub persisted_term_went_back: bool,
    /// Two granted votes for different candidates in one term (§5.2).
    pub second_vote: bool,
    /// An entry this node had seen committed changed (§5.4.3).
    pub committed_changed: bool,
    /// An entry was applied that differs from the one seen committed at its index (§5.4.3).
    pub applied_changed: bool,
    /// A message left before the term, vote or entries it speaks for were on
    /// disk (persist before send, §5 and Figure 2).
    pub sent_before_durable: bool,
    /// A Ready could not be handed out or written, or the node could not be
    /// rebuilt from what it wrote (a broken engine; the harness reports it).
    pub storage_broken: bool,
    /// A pre-vote moved a node's term, vote or role, or was granted to a log
    /// behind the voter's (§9.6).
    pub pre_vote_harmful: bool,
    /// A leader kept office at the end of an election period in which it
    /// heard from fewer than a quorum (§6.2).
    pub kept_office_without_quorum: bool,
    /// A running node's commit index went down (a stale snapshot installed, §7).
    pub commit_went_back: bool,
    /// A snapshot or state machine does not hold exactly the committed
    /// entries it covers, or an entry was applied twice or out of order (§7).
    pub snapshot_broken: bool,
    /// Witness: a node lost an entry to a conflicting leader.
    pub truncated: bool,
    /// Witness: a node restarted with an entry it had seen committed.
    pub survived_crash: bool,
    /// A node campaigned while not a voter of its configuration (§4.2).
    pub non_voter_campaigned: bool,
}

/// The history of one node, kept outside it and across its crashes.
#[derive(Clone, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Ghost {
    /// Terms in which the node was leader.
    pub led: BTreeSet<Term>,
    /// Granted votes it sent, by term.
    pub votes: BTreeMap<Term, NodeId>,
    /// The committed prefix it has seen.
    pub committed: Vec<Entry>,
    /// While leader: how far it committed in each term it led, as
    /// `(commit index, term)`. Every commitment is first decided by a leader
    /// (followers only adopt a leader's commit index), so these records give
    /// each committed entry the term it was committed in.
    pub commit_terms: Vec<(Index, Term)>,
    /// Violations and witnesses seen on single transitions.
    pub flags: Flags,
    /// What pre-vote, check-quorum and transfer properties need.
    pub leadership: LeadershipRecord,
    /// Snapshot witness events of the last transition.
    pub snapshots: SnapshotSeen,
    /// Membership witness events of the last transition.
    pub membership: MembershipSeen,
}

impl Ghost {
    /// Records a transition of a running node from `before` to `after`.
    pub fn observe_step(&mut self, before: &Node<MemStorage>, after: &Node<MemStorage>) {
        let (b, a) = (before.status(), after.status());
        if a.term < b.term {
            self.flags.term_went_back = true;
        }
        let (was, now) = (before.storage().hard_state(), after.storage().hard_state());
        if now.term < was.term {
            self.flags.persisted_term_went_back = true;
        }
        // A vote on disk (a candidate's own included) never changes within its term.
        if now.term == was.term && was.voted_node.is_some() && now.voted_node != was.voted_node {
            self.flags.second_vote = true;
        }
        if a.role == Role::Leader {
            self.led.insert(a.term);
        }
        let same_leader = b.role == Role::Leader && a.role == Role::Leader && a.term == b.term;
        let after_image = image(after);
        let mut after_log = after_image.iter();
        let kept_all = image(before).iter().all(|e| after_log.next() == Some(e));
        if same_leader && !kept_all {
            self.flags.append_only_broken = true;
        }
        if !kept_all {
            self.flags.truncated = true;
        }
        self.observe_leadership_step(before, after);
        self.observe_snapshot_step(before, after);
        self.observe_membership_step(before, after);
        self.observe_commit(after);
    }

    /// Records the node's state after it was rebuilt from storage.
    pub fn observe_restart(&mut self, node: &Node<MemStorage>) {
        if let Some(last) = self.committed.last() {
            if image(node).iter().any(|e| e == last) {
                self.flags.survived_crash = true;
            }
        }
        if node.log().compacted().index > Index(0) {
            self.snapshots.restarted_compacted = true;
        }
        self.observe_commit(node);
    }

    /// Records what a Ready of `node` hands out: the granted votes, and the
    /// entries applied, each of which must be the one seen committed at its index.
    pub fn observe_ready(&mut self, node: &Node<MemStorage>, ready: &Ready) {
        if !ready.messages.iter().all(|m| is_durable(node.storage(), m)) {
            self.flags.sent_before_durable = true;
        }
        self.observe_timeout_now(node, &ready.messages);
        self.observe_ready_snapshot(ready);
        for msg in &ready.messages {
            if let MessageVariant::RequestVoteResponse { granted: true } = msg.variant {
                let voted = *self.votes.entry(msg.src_term).or_insert(msg.dst);
                if voted != msg.dst {
                    self.flags.second_vote = true;
                }
            }
        }
        self.observe_commit(node);
        for entry in &ready.committed_entries {
            let position = Index(0).distance_to(entry.index().prev());
            if self.committed.get(position) != Some(entry) {
                self.flags.applied_changed = true;
            }
        }
    }

    /// Compares the node's committed prefix with what was seen before, and
    /// extends the record; a leader also records how far it committed in its term.
    fn observe_commit(&mut self, node: &Node<MemStorage>) {
        let status = node.status();
        let committed = Index(0).distance_to(status.committed);
        let image = image(node);
        for (position, entry) in image.iter().take(committed).enumerate() {
            match self.committed.get(position) {
                Some(seen) if seen != entry => self.flags.committed_changed = true,
                Some(_) => {}
                None => self.committed.push(entry.clone()),
            }
        }
        if status.role == Role::Leader && status.committed > Index(0) {
            match self.commit_terms.last_mut() {
                Some((index, term)) if *term == status.term => {
                    *index = (*index).max(status.committed)
                }
                _ => self.commit_terms.push((status.committed, status.term)),
            }
        }
    }
}

/// Whether everything `msg` speaks for is on `disk`: its term, a granted
/// vote (a candidate's request speaks for its own vote), and the entries an
/// accepted append acknowledges. Called once the Ready's writes are done and
/// before its messages leave. A disk already in a later term keeps a vote's
/// promise (the node can never vote in the message's term again) and voids
/// an acknowledgement's (a later leader may have replaced those entries).
fn is_durable(disk: &MemStorage, msg: &ruft::Message) -> bool {
    let hs = disk.hard_state();
    let superseded = hs.term > msg.src_term;
    let vote_on_disk = |voted| superseded || hs.voted_node == Some(voted);
    // A prospective message (pre-vote, §9.6) carries a term nobody is in:
    // it speaks for no term of the sender's.
    let term_on_disk = msg.variant.is_prospective() || msg.src_term <= hs.term;
    let promise_kept = match &msg.variant {
        MessageVariant::RequestVote { .. } => vote_on_disk(msg.src),
        MessageVariant::RequestVoteResponse { granted: true } => vote_on_disk(msg.dst),
        MessageVariant::AppendEntriesResponse {
            outcome: AppendOutcome::Accepted { matched },
        } => superseded || stored_last(disk) >= *matched,
        _ => true,
    };
    term_on_disk && promise_kept
}

/// The last index `disk` holds (its compaction point when it holds no entry).
fn stored_last(disk: &MemStorage) -> Index {
    disk.stored_entries()
        .last()
        .map_or(disk.compacted().index, Entry::index)
}

/// Every entry some leader committed before `term`, as `(entries, term)`
/// prefixes of that leader's committed record.
fn committed_before<'a>(
    nodes: &'a [NodeObs<'a>],
    term: Term,
) -> impl Iterator<Item = &'a [Entry]> + 'a {
    nodes.iter().flat_map(move |n| {
        n.ghost
            .commit_terms
            .iter()
            .filter(move |(_, t)| *t < term)
            .map(move |(index, _)| {
                &n.ghost.committed[..Index(0).distance_to(*index).min(n.ghost.committed.len())]
            })
    })
}

/// Whether `log` starts with `prefix`.
fn holds_prefix<'a>(mut log: impl Iterator<Item = &'a Entry>, prefix: &[Entry]) -> bool {
    prefix.iter().all(|e| log.next() == Some(e))
}

/// Every property, Always ones first; names are printed exactly so.
pub const PROPERTIES: &[PropertyDef] = &[
    PropertyDef {
        name: "election safety",
        expect: Expect::Always,
        check: election_safety,
        about: "at most one leader per term, over the whole history (§5.2)",
        pair: "a leader is elected",
        needs: Needs::Nothing,
    },
    PropertyDef {
        name: "leader append-only",
        expect: Expect::Always,
        check: leader_append_only,
        about: "a leader never overwrites or deletes entries in its log (§5.3)",
        pair: "a conflicting entry is truncated",
        needs: Needs::Nothing,
    },
    PropertyDef {
        name: "log matching",
        expect: Expect::Always,
        check: log_matching,
        about: "logs with an entry of the same index and term agree up to it (§5.3)",
        pair: "an entry is committed",
        needs: Needs::Nothing,
    },
    PropertyDef {
        name: "leader completeness",
        expect: Expect::Always,
        check: leader_completeness,
        about: "an entry committed in term T is in every leader's log for terms > T (§5.4)",
        pair: "a later leader holds a committed entry",
        needs: Needs::Nothing,
    },
    PropertyDef {
        name: "state machine safety",
        expect: Expect::Always,
        check: state_machine_safety,
        about: "no two nodes apply different entries at an index; committed prefixes never change (§5.4.3)",
        pair: "two nodes apply the same entry",
        needs: Needs::Nothing,
    },
    PropertyDef {
        name: "index order",
        expect: Expect::Always,
        check: index_order,
        about: "applied <= committed <= last; terms and commit never decrease; one vote per term across restarts",
        pair: "a node votes in two terms",
        needs: Needs::Nothing,
    },
    PropertyDef {
        name: "durable before sent",
        expect: Expect::Always,
        check: durable_before_sent,
        about: "a message carries only the term, vote and entries its sender has on disk",
        pair: "a granted vote is on disk",
        needs: Needs::Nothing,
    },
    PropertyDef {
        name: "storage round trip",
        expect: Expect::Always,
        check: storage_round_trip,
        about: "every Ready is handed out and written, and a node restarts from what it wrote",
        pair: "a committed entry survives a crash",
        needs: Needs::Crashes,
    },
    PropertyDef {
        name: "pre-vote is harmless",
        expect: Expect::Always,
        check: pre_vote_harmless,
        about: "a pre-vote never moves a term, vote or role, and is granted only to an up-to-date log (§9.6)",
        pair: "a pre-vote fails and the term stays",
        needs: Needs::PreVote,
    },
    PropertyDef {
        name: "a cut-off leader steps down",
        expect: Expect::Always,
        check: cut_off_leader_steps_down,
        about: "a leader that heard from no quorum in an election period is no longer leader after it (§6.2)",
        pair: "a leader steps down for lack of quorum",
        needs: Needs::CheckQuorum,
    },
    PropertyDef {
        name: "a transfer target is up to date",
        expect: Expect::Always,
        check: transfer_target_up_to_date,
        about: "a node campaigns on TimeoutNow only with a log as up to date as the sender's (§3.10)",
        pair: "a leader transfer completes",
        needs: Needs::Transfers,
    },
    PropertyDef {
        name: "snapshot consistency",
        expect: Expect::Always,
        check: snapshot_consistency,
        about: "snapshots and state machines hold exactly the committed entries they cover, applied once in order; first-1 <= snapshot <= applied (§7)",
        pair: "a snapshot is installed on a follower",
        needs: Needs::Snapshots,
    },
    PropertyDef {
        name: "linearizable",
        expect: Expect::Always,
        check: linearizable,
        about: "some order of the clients' operations, consistent with real time, explains every value read (§6.4)",
        pair: "a read returns another client's write",
        needs: Needs::Clients,
    },
    PropertyDef {
        name: "a leader is elected",
        expect: Expect::Sometimes,
        check: leader_elected,
        about: "some node becomes leader",
        pair: "election safety",
        needs: Needs::Nothing,
    },
    PropertyDef {
        name: "an entry is committed",
        expect: Expect::Sometimes,
        check: entry_committed,
        about: "some node sees an entry committed",
        pair: "log matching",
        needs: Needs::Nothing,
    },
    PropertyDef {
        name: "a committed entry survives a crash",
        expect: Expect::Sometimes,
        check: committed_survives_crash,
        about: "a node restarts from storage holding an entry it had seen committed",
        pair: "storage round trip",
        needs: Needs::Crashes,
    },
    PropertyDef {
        name: "a conflicting entry is truncated",
        expect: Expect::Sometimes,
        check: conflicting_truncated,
        about: "a node's entry is replaced by a later leader's",
        pair: "leader append-only",
        needs: Needs::Nothing,
    },
    PropertyDef {
        name: "a later leader holds a committed entry",
        expect: Expect::Sometimes,
        check: later_leader_holds_committed,
        about: "a leader of a term after an entry's commit holds that entry",
        pair: "leader completeness",
        needs: Needs::Nothing,
    },
    PropertyDef {
        name: "two nodes apply the same entry",
        expect: Expect::Sometimes,
        check: two_nodes_apply,
        about: "two state machines applied an entry at the same index",
        pair: "state machine safety",
        needs: Needs::Nothing,
    },
    PropertyDef {
        name: "a node votes in two terms",
        expect: Expect::Sometimes,
        check: votes_in_two_terms,
        about: "some node granted votes in two different terms",
        pair: "index order",
        needs: Needs::Nothing,
    },
    PropertyDef {
        name: "a granted vote is on disk",
        expect: Expect::Sometimes,
        check: granted_vote_on_disk,
        about: "a node's disk holds the vote it granted another node in its current term",
        pair: "durable before sent",
        needs: Needs::Nothing,
    },
    PropertyDef {
        name: "a pre-vote fails and the term stays",
        expect: Expect::Sometimes,
        check: pre_vote_lost,
        about: "a pre-candidate is refused by a quorum and becomes a follower in its own term",
        pair: "pre-vote is harmless",
        needs: Needs::PreVote,
    },
    PropertyDef {
        name: "a pre-candidate rejoins its leader",
        expect: Expect::Sometimes,
        check: rejoined_quietly,
        about: "a pre-candidate hears from the leader of its term and follows it: no disruption",
        pair: "pre-vote is harmless",
        needs: Needs::PreVote,
    },
    PropertyDef {
        name: "a leader steps down for lack of quorum",
        expect: Expect::Sometimes,
        check: stepped_down_without_quorum,
        about: "a leader ends an election period as a follower (check-quorum)",
        pair: "a cut-off leader steps down",
        needs: Needs::CheckQuorum,
    },
    PropertyDef {
        name: "a leader transfer completes",
        expect: Expect::Sometimes,
        check: transfer_completed,
        about: "a node that campaigned on TimeoutNow leads the next term",
        pair: "a transfer target is up to date",
        needs: Needs::Transfers,
    },
    PropertyDef {
        name: "a snapshot is installed on a follower",
        expect: Expect::Sometimes,
        check: snapshot_installed,
        about: "a follower's Ready hands out a leader's snapshot to install",
        pair: "snapshot consistency",
        needs: Needs::Snapshots,
    },
    PropertyDef {
        name: "a node restarts from a snapshot",
        expect: Expect::Sometimes,
        check: restarted_from_snapshot,
        about: "a node restarts over a compacted log",
        pair: "snapshot consistency",
        needs: Needs::Snapshots,
    },
    PropertyDef {
        name: "a snapshot catches a lagging follower up",
        expect: Expect::Sometimes,
        check: lagging_follower_caught_up,
        about: "a follower that needed a leader's snapshot acknowledges it and is replicated to again",
        pair: "snapshot consistency",
        needs: Needs::Snapshots,
    },
    PropertyDef {
        name: "a read returns another client's write",
        expect: Expect::Sometimes,
        check: read_anothers_write,
        about: "a client's read returns a value another client wrote",
        pair: "linearizable",
        needs: Needs::Clients,
    },
    PropertyDef {
        name: "a read is served after a leader change",
        expect: Expect::Sometimes,
        check: read_after_leader_change,
        about: "a read returns a written value in a term after the first",
        pair: "linearizable",
        needs: Needs::Clients,
    },
    PropertyDef {
        name: "a read is served from a lease",
        expect: Expect::Sometimes,
        check: read_served_from_lease,
        about: "a client's read is confirmed in the step that asked for it (ReadMode::Lease)",
        pair: "linearizable",
        needs: Needs::Lease,
    },
    PropertyDef {
        name: "one pending change",
        expect: Expect::Always,
        check: one_pending_change,
        about: "no leader holds two configuration entries beyond what any node saw committed (§4.1)",
        pair: "an added node leads",
        needs: Needs::Membership,
    },
    PropertyDef {
        name: "non-voters never campaign",
        expect: Expect::Always,
        check: non_voters_never_campaign,
        about: "no learner, removed or not-yet-added node starts a campaign (§4.2)",
        pair: "an added node votes",
        needs: Needs::Membership,
    },
    PropertyDef {
        name: "removed leaders step down",
        expect: Expect::Always,
        check: removed_leaders_step_down,
        about: "no running leader is outside its configuration's voters (§4.2.2)",
        pair: "a removed leader steps down",
        needs: Needs::Membership,
    },
    PropertyDef {
        name: "an added node leads",
        expect: Expect::Sometimes,
        check: added_node_leads,
        about: "a node that was not an initial voter is elected leader",
        pair: "one pending change",
        needs: Needs::Membership,
    },
    PropertyDef {
        name: "an added node votes",
        expect: Expect::Sometimes,
        check: added_node_votes,
        about: "a node that was not an initial voter applied its addition",
        pair: "non-voters never campaign",
        needs: Needs::Membership,
    },
    PropertyDef {
        name: "a removed leader steps down",
        expect: Expect::Sometimes,
        check: removed_leader_stepped_down,
        about: "a leader applies its own removal and becomes a follower",
        pair: "removed leaders step down",
        needs: Needs::Membership,
    },
    PropertyDef {
        name: "a joint configuration is left",
        expect: Expect::Sometimes,
        check: joint_left,
        about: "a node enters a joint configuration and leaves it (§4.3)",
        pair: "one pending change",
        needs: Needs::Joint,
    },
    PropertyDef {
        name: "a learner is promoted",
        expect: Expect::Sometimes,
        check: learner_promoted,
        about: "a learner applies its promotion to voter",
        pair: "non-voters never campaign",
        needs: Needs::Learners,
    },
];

/// Some node's client had its read confirmed at once, from a lease.
fn read_served_from_lease(nodes: &[NodeObs<'_>]) -> bool {
    nodes.iter().any(|n| n.ghost.leadership.seen.read_at_once)
}

/// The clients' history is linearizable (see [`crate::clients`]).
fn linearizable(nodes: &[NodeObs<'_>]) -> bool {
    history(nodes).is_none_or(|h| h.is_linearizable())
}

fn read_anothers_write(nodes: &[NodeObs<'_>]) -> bool {
    history(nodes).is_some_and(|h| h.read_anothers_write())
}

fn read_after_leader_change(nodes: &[NodeObs<'_>]) -> bool {
    history(nodes).is_some_and(|h| h.read_after_leader_change())
}

/// The clients' history, if the model keeps one.
fn history<'a>(nodes: &[NodeObs<'a>]) -> Option<&'a crate::clients::History> {
    nodes.first().and_then(|n| n.history)
}

/// The properties checked when `features` are on, in [`PROPERTIES`] order.
pub fn enabled(features: Features) -> impl Iterator<Item = &'static PropertyDef> {
    PROPERTIES.iter().filter(move |p| features.enable(p.needs))
}

/// Looks a property up by its printed name.
pub fn property(name: &str) -> Option<&'static PropertyDef> {
    PROPERTIES.iter().find(|p| p.name == name)
}

/// The names of the properties that fail on `nodes`: violated Always ones.
pub fn violations(nodes: &[NodeObs<'_>]) -> Vec<&'static str> {
    PROPERTIES
        .iter()
        .filter(|p| p.expect == Expect::Always && !(p.check)(nodes))
        .map(|p| p.name)
        .collect()
}

fn up<'a>(nodes: &'a [NodeObs<'a>]) -> impl Iterator<Item = &'a NodeObs<'a>> + 'a {
    nodes.iter().filter(|n| n.up)
}

/// Election Safety: no term has two leaders, ever.
pub fn election_safety(nodes: &[NodeObs<'_>]) -> bool {
    let mut led = BTreeSet::new();
    nodes
        .iter()
        .flat_map(|n| &n.ghost.led)
        .all(|t| led.insert(*t))
}

/// Leader Append-Only: no leader's log lost or changed an entry within its term.
pub fn leader_append_only(nodes: &[NodeObs<'_>]) -> bool {
    nodes.iter().all(|n| !n.ghost.flags.append_only_broken)
}

/// Log Matching: two logs holding an entry with the same index and term hold
/// identical entries up to it.
pub fn log_matching(nodes: &[NodeObs<'_>]) -> bool {
    let images: Vec<Image<'_>> = up(nodes).map(|n| image(n.node)).collect();
    let logs: Vec<Vec<&Entry>> = images.iter().map(|i| i.iter().collect()).collect();
    logs.iter().enumerate().all(|(i, a)| {
        logs[i + 1..].iter().all(|b| {
            // The last position where both hold the same key bounds the prefix that must agree.
            let agree = a.iter().zip(b.iter()).rposition(|(x, y)| x.key == y.key);
            agree.is_none_or(|last| a[..=last] == b[..=last])
        })
    })
}

/// Leader Completeness: a leader of term T holds every entry committed in a term before T.
pub fn leader_completeness(nodes: &[NodeObs<'_>]) -> bool {
    up(nodes)
        .filter(|n| n.node.status().role == Role::Leader)
        .all(|leader| {
            let log = image(leader.node);
            committed_before(nodes, leader.node.status().term)
                .all(|prefix| holds_prefix(log.iter(), prefix))
        })
}

/// State Machine Safety: committed prefixes agree everywhere and never change,
/// and every applied entry is the one seen committed at its index.
pub fn state_machine_safety(nodes: &[NodeObs<'_>]) -> bool {
    let flagged = nodes
        .iter()
        .any(|n| n.ghost.flags.committed_changed || n.ghost.flags.applied_changed);
    let pairs_agree = nodes.iter().enumerate().all(|(i, a)| {
        nodes[i + 1..].iter().all(|b| {
            a.ghost
                .committed
                .iter()
                .zip(&b.ghost.committed)
                .all(|(x, y)| x == y)
        })
    });
    !flagged && pairs_agree
}

/// Index order: applied <= committed <= last on running nodes; terms never go
/// back; one vote per term across restarts.
pub fn index_order(nodes: &[NodeObs<'_>]) -> bool {
    let ordered = up(nodes).all(|n| {
        let s = n.node.status();
        s.applied <= s.committed && s.committed <= s.last.index
    });
    let flags = nodes.iter().all(|n| {
        let f = &n.ghost.flags;
        !(f.term_went_back || f.persisted_term_went_back || f.second_vote || f.commit_went_back)
    });
    ordered && flags
}

/// Durable before sent: no message left ahead of the write it speaks for.
pub fn durable_before_sent(nodes: &[NodeObs<'_>]) -> bool {
    nodes.iter().all(|n| !n.ghost.flags.sent_before_durable)
}

/// Storage round trip: every Ready was handed out and written, and every
/// restart rebuilt the node from what it wrote.
pub fn storage_round_trip(nodes: &[NodeObs<'_>]) -> bool {
    nodes.iter().all(|n| !n.ghost.flags.storage_broken)
}

/// Witness: a node granted votes in two terms (one vote per term is then
/// judged across terms, not only within one).
pub fn votes_in_two_terms(nodes: &[NodeObs<'_>]) -> bool {
    nodes.iter().any(|n| n.ghost.votes.len() >= 2)
}

/// Witness: a node's disk holds a vote it granted to another node in the
/// term on disk, the case `durable before sent` judges most closely.
pub fn granted_vote_on_disk(nodes: &[NodeObs<'_>]) -> bool {
    nodes.iter().any(|n| {
        let hs = n.node.storage().hard_state();
        let id = n.node.status().id;
        n.ghost
            .votes
            .get(&hs.term)
            .is_some_and(|&c| c != id && hs.voted_node == Some(c))
    })
}

/// Witness: a leader was elected.
pub fn leader_elected(nodes: &[NodeObs<'_>]) -> bool {
    nodes.iter().any(|n| !n.ghost.led.is_empty())
}

/// Witness: an entry was committed.
pub fn entry_committed(nodes: &[NodeObs<'_>]) -> bool {
    nodes.iter().any(|n| !n.ghost.committed.is_empty())
}

/// Witness: a committed entry survived a crash.
pub fn committed_survives_crash(nodes: &[NodeObs<'_>]) -> bool {
    nodes.iter().any(|n| n.ghost.flags.survived_crash)
}

/// Witness: a conflicting entry was truncated.
pub fn conflicting_truncated(nodes: &[NodeObs<'_>]) -> bool {
    nodes.iter().any(|n| n.ghost.flags.truncated)
}

/// Witness: a leader of a later term holds an entry committed earlier.
pub fn later_leader_holds_committed(nodes: &[NodeObs<'_>]) -> bool {
    up(nodes)
        .filter(|n| n.node.status().role == Role::Leader)
        .any(|leader| {
            let log = image(leader.node);
            committed_before(nodes, leader.node.status().term)
                .any(|prefix| !prefix.is_empty() && holds_prefix(log.iter(), prefix))
        })
}

/// Witness: two running state machines applied an entry. Every applied entry
/// is checked against the committed prefix its node saw, and committed
/// prefixes agree pairwise, so both applied the same entry at index 1.
pub fn two_nodes_apply(nodes: &[NodeObs<'_>]) -> bool {
    up(nodes)
        .filter(|n| n.node.status().applied > Index(0))
        .count()
        >= 2
}

/// The names of every property, in order.
pub fn names() -> Vec<&'static str> {
    PROPERTIES.iter().map(|p| p.name).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use ruft::{EntryKey, Term};

    #[test]
    fn every_always_has_a_sometimes_partner_and_back() {
        for p in PROPERTIES {
            let partner = property(p.pair).expect("pair names a property");
            assert_ne!(
                p.expect, partner.expect,
                "{} pairs with {}",
                p.name, partner.name
            );
            // Each Always and its witness name each other; a further witness
            // of the same Always (say, a pre-candidate rejoining) names it only.
            let mutual = partner.pair == p.name;
            assert!(
                mutual || p.expect == Expect::Sometimes,
                "{} is not named back",
                p.name
            );
            // A further witness may need more than its Always (a lease read
            // needs clients reading by lease).
            assert!(
                p.needs.implies(partner.needs) && (mutual || p.expect == Expect::Sometimes),
                "{} pairs across features",
                p.name
            );
            assert!(!mutual || partner.needs == p.needs, "{}", p.name);
        }
    }

    fn single_node() -> Node<MemStorage> {
        let cfg = ruft::Config::new(NodeId(1), [NodeId(1)]);
        futures::executor::block_on(Node::new(cfg, MemStorage::default())).unwrap()
    }

    #[test]
    fn a_second_vote_in_a_term_is_flagged() {
        let node = single_node();
        let mut g = Ghost::default();
        let vote = |to| {
            ruft::Message::new(
                NodeId(1),
                Term(2),
                NodeId(to),
                MessageVariant::RequestVoteResponse { granted: true },
            )
        };
        let ready = |messages| Ready {
            messages,
            ..Ready::default()
        };
        g.observe_ready(&node, &ready(vec![vote(2), vote(2)]));
        assert!(!g.flags.second_vote, "the same candidate twice is one vote");
        g.observe_ready(&node, &ready(vec![vote(3)]));
        assert!(g.flags.second_vote);
    }

    #[test]
    fn applying_an_entry_not_seen_committed_is_flagged() {
        let node = single_node();
        let mut g = Ghost::default();
        let e = Entry::empty(EntryKey::new(Term(1), Index(1)));
        let ready = Ready {
            committed_entries: vec![e],
            ..Ready::default()
        };
        g.observe_ready(&node, &ready);
        assert!(g.flags.applied_changed, "nothing was committed");
    }
}
