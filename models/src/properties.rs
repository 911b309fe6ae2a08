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
mod reason;
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
pub use reason::{first_raised, Broken, Flags, Reason};
pub use snapshots::{
    image, lagging_follower_caught_up, refused_snapshot, restarted_from_snapshot,
    snapshot_consistency, snapshot_installed, Image, SnapshotSeen, SNAPSHOT_CLAUSE,
};

/// Always or Sometimes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Expect {
    /// Must hold in every reachable state.
    Always,
    /// Must hold in at least one reachable state (non-vacuity witness).
    Sometimes,
}

/// How a property judges one state of the whole cluster.
#[derive(Clone, Copy, Debug)]
pub enum Check {
    /// An Always property: why the state breaks it, or `None` when it holds.
    Always(fn(&[NodeObs<'_>]) -> Option<Reason>),
    /// A Sometimes property: whether the state witnesses it.
    Sometimes(fn(&[NodeObs<'_>]) -> bool),
}

/// One property: name as printed, kind, the check, and its pair.
#[derive(Clone, Copy, Debug)]
pub struct PropertyDef {
    /// The printed name (`check list` shows exactly this).
    pub name: &'static str,
    /// The condition over the whole cluster, and whether it must hold
    /// always or be reached sometimes.
    pub check: Check,
    /// The statement, in one line.
    pub about: &'static str,
    /// For an Always, the Sometimes that shows it is not vacuous, and vice versa.
    pub pair: &'static str,
    /// The feature without which it is not checked.
    pub needs: Needs,
}

impl PropertyDef {
    /// Always or Sometimes.
    pub fn expect(&self) -> Expect {
        match self.check {
            Check::Always(_) => Expect::Always,
            Check::Sometimes(_) => Expect::Sometimes,
        }
    }

    /// Whether the property's condition is true of `nodes` (an Always one
    /// holds, a Sometimes one is witnessed).
    pub fn holds(&self, nodes: &[NodeObs<'_>]) -> bool {
        match self.check {
            Check::Always(why) => why(nodes).is_none(),
            Check::Sometimes(seen) => seen(nodes),
        }
    }

    /// Why `nodes` break this Always property (`None` when it holds, and
    /// for every Sometimes property).
    pub fn explain(&self, nodes: &[NodeObs<'_>]) -> Option<Reason> {
        match self.check {
            Check::Always(why) => why(nodes),
            Check::Sometimes(_) => None,
        }
    }
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
        let me = a.id;
        if a.term < b.term {
            self.flags.raise(Broken::TermWentBack, || {
                Reason::new(
                    "terms never go back",
                    format!("{me}'s term went from {} back to {}", b.term, a.term),
                )
                .node(me)
                .term(b.term)
                .term(a.term)
            });
        }
        let (was, now) = (before.storage().hard_state(), after.storage().hard_state());
        if now.term < was.term {
            self.flags.raise(Broken::PersistedTermWentBack, || {
                Reason::new(
                    "terms never go back",
                    format!(
                        "{me}'s term on disk went from {} back to {}",
                        was.term, now.term
                    ),
                )
                .node(me)
                .term(was.term)
                .term(now.term)
            });
        }
        // A vote on disk (a candidate's own included) never changes within its term.
        if now.term == was.term && was.voted_node.is_some() && now.voted_node != was.voted_node {
            self.flags.raise(Broken::SecondVote, || {
                let name = |v: Option<NodeId>| v.map_or("nobody".to_string(), |c| c.to_string());
                let mut why = Reason::new(
                    "one vote per term",
                    format!(
                        "{me}'s vote in {} on disk was for {}, then for {} in the same term",
                        now.term,
                        name(was.voted_node),
                        name(now.voted_node)
                    ),
                )
                .node(me)
                .term(now.term);
                for c in [was.voted_node, now.voted_node].into_iter().flatten() {
                    why = why.node(c);
                }
                why
            });
        }
        if a.role == Role::Leader {
            self.led.insert(a.term);
        }
        let same_leader = b.role == Role::Leader && a.role == Role::Leader && a.term == b.term;
        let after_image = image(after);
        let before_image = image(before);
        let mut after_log = after_image.iter();
        let lost = before_image.iter().find(|e| after_log.next() != Some(e));
        if let (true, Some(lost)) = (same_leader, lost) {
            self.flags.raise(Broken::AppendOnly, || {
                Reason::new(
                    "a leader never removes or changes its entries",
                    format!(
                        "{me}, leader in {}, no longer holds entry {lost} of its log",
                        a.term
                    ),
                )
                .node(me)
                .term(a.term)
                .index(lost.index())
            });
        }
        if lost.is_some() {
            self.flags.truncated = true;
        }
        self.observe_leadership_step(before, after);
        self.observe_snapshot_step(before, after);
        self.observe_membership_step(before, after);
        self.observe_commit(after);
    }

    /// Records that `id`'s engine broke `rule` in a way the harness saw from
    /// outside (a Ready refused or unwritable, a restart or a snapshot that
    /// failed): the `clause` broken and `what` happened. Rare error paths,
    /// so the words are built eagerly.
    pub fn broke(&mut self, rule: Broken, id: NodeId, clause: &'static str, what: String) {
        self.flags
            .raise(rule, || Reason::new(clause, what).node(id));
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
        let me = node.status().id;
        if let Some(early) = ready
            .messages
            .iter()
            .find(|m| !is_durable(node.storage(), m))
        {
            self.flags.raise(Broken::SentBeforeDurable, || {
                let hs = node.storage().hard_state();
                Reason::new(
                    "persist before send",
                    format!(
                        "{me} sent {early} while its disk held {}, vote {}, last entry {}",
                        hs.term,
                        hs.voted_node.map_or("none".to_string(), |v| v.to_string()),
                        stored_last(node.storage())
                    ),
                )
                .node(me)
                .node(early.dst)
                .term(early.src_term)
                .term(hs.term)
            });
        }
        self.observe_timeout_now(node, &ready.messages);
        self.observe_ready_snapshot(ready);
        for msg in &ready.messages {
            if let MessageVariant::RequestVoteResponse { granted: true } = msg.variant {
                let voted = *self.votes.entry(msg.src_term).or_insert(msg.dst);
                if voted != msg.dst {
                    self.flags.raise(Broken::SecondVote, || {
                        Reason::new(
                            "one vote per term",
                            format!(
                                "{me} granted its vote in {} to {voted}, then to {}",
                                msg.src_term, msg.dst
                            ),
                        )
                        .node(me)
                        .node(voted)
                        .node(msg.dst)
                        .term(msg.src_term)
                    });
                }
            }
        }
        self.observe_commit(node);
        for entry in &ready.committed_entries {
            let position = Index(0).distance_to(entry.index().prev());
            let seen = self.committed.get(position);
            if seen != Some(entry) {
                self.flags.raise(Broken::AppliedChanged, || {
                    Reason::new(
                        "applied entries are the committed ones",
                        format!(
                            "{me} applied {entry} at index {}, where it had seen {} committed",
                            entry.index(),
                            seen.map_or("nothing".to_string(), |e| e.to_string())
                        ),
                    )
                    .node(me)
                    .index(entry.index())
                });
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
                Some(seen) if seen != entry => self.flags.raise(Broken::CommittedChanged, || {
                    Reason::new(
                        "committed entries never change",
                        format!(
                            "{} had seen {seen} committed at index {}, now holds {entry} there \
                             as committed",
                            status.id,
                            entry.index()
                        ),
                    )
                    .node(status.id)
                    .index(entry.index())
                }),
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

/// Every entry some leader committed before `term`, as prefixes of that
/// leader's committed record.
fn committed_before<'a>(
    nodes: &'a [NodeObs<'a>],
    term: Term,
) -> impl Iterator<Item = &'a [Entry]> + 'a {
    committed_before_by(nodes, term).map(|(prefix, _, _)| prefix)
}

/// [`committed_before`], each prefix with the leader that committed it and
/// the term it did so in.
fn committed_before_by<'a>(
    nodes: &'a [NodeObs<'a>],
    term: Term,
) -> impl Iterator<Item = (&'a [Entry], NodeId, Term)> + 'a {
    nodes.iter().flat_map(move |n| {
        let by = n.node.config().id;
        n.ghost
            .commit_terms
            .iter()
            .filter(move |(_, t)| *t < term)
            .map(move |&(index, t)| {
                let end = Index(0).distance_to(index).min(n.ghost.committed.len());
                (&n.ghost.committed[..end], by, t)
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
        check: Check::Always(election_safety),
        about: "at most one leader per term, over the whole history (§5.2)",
        pair: "a leader is elected",
        needs: Needs::Nothing,
    },
    PropertyDef {
        name: "leader append-only",
        check: Check::Always(leader_append_only),
        about: "a leader never overwrites or deletes entries in its log (§5.3)",
        pair: "a conflicting entry is truncated",
        needs: Needs::Nothing,
    },
    PropertyDef {
        name: "log matching",
        check: Check::Always(log_matching),
        about: "logs with an entry of the same index and term agree up to it (§5.3)",
        pair: "an entry is committed",
        needs: Needs::Nothing,
    },
    PropertyDef {
        name: "leader completeness",
        check: Check::Always(leader_completeness),
        about: "an entry committed in term T is in every leader's log for terms > T (§5.4)",
        pair: "a later leader holds a committed entry",
        needs: Needs::Nothing,
    },
    PropertyDef {
        name: "state machine safety",
        check: Check::Always(state_machine_safety),
        about: "no two nodes apply different entries at an index; committed prefixes never change (§5.4.3)",
        pair: "two nodes apply the same entry",
        needs: Needs::Nothing,
    },
    PropertyDef {
        name: "index order",
        check: Check::Always(index_order),
        about: "applied <= committed <= last; terms and commit never decrease; one vote per term across restarts",
        pair: "a node votes in two terms",
        needs: Needs::Nothing,
    },
    PropertyDef {
        name: "durable before sent",
        check: Check::Always(durable_before_sent),
        about: "a message carries only the term, vote and entries its sender has on disk",
        pair: "a granted vote is on disk",
        needs: Needs::Nothing,
    },
    PropertyDef {
        name: "storage round trip",
        check: Check::Always(storage_round_trip),
        about: "every Ready is handed out and written, and a node restarts from what it wrote",
        pair: "a committed entry survives a crash",
        needs: Needs::Crashes,
    },
    PropertyDef {
        name: "pre-vote is harmless",
        check: Check::Always(pre_vote_harmless),
        about: "a pre-vote never moves a term, vote or role, and is granted only to an up-to-date log (§9.6)",
        pair: "a pre-vote fails and the term stays",
        needs: Needs::PreVote,
    },
    PropertyDef {
        name: "a cut-off leader steps down",
        check: Check::Always(cut_off_leader_steps_down),
        about: "a leader that heard from no quorum in an election period is no longer leader after it (§6.2)",
        pair: "a leader steps down for lack of quorum",
        needs: Needs::CheckQuorum,
    },
    PropertyDef {
        name: "a transfer target is up to date",
        check: Check::Always(transfer_target_up_to_date),
        about: "a node campaigns on TimeoutNow only with a log as up to date as the sender's (§3.10)",
        pair: "a leader transfer completes",
        needs: Needs::Transfers,
    },
    PropertyDef {
        name: "snapshot consistency",
        check: Check::Always(snapshot_consistency),
        about: "snapshots and state machines hold exactly the committed entries they cover, applied once in order; first-1 <= snapshot <= applied (§7)",
        pair: "a snapshot is installed on a follower",
        needs: Needs::Snapshots,
    },
    PropertyDef {
        name: "linearizable",
        check: Check::Always(linearizable),
        about: "some order of the clients' operations, consistent with real time, explains every value read (§6.4)",
        pair: "a read returns another client's write",
        needs: Needs::Clients,
    },
    PropertyDef {
        name: "a leader is elected",
        check: Check::Sometimes(leader_elected),
        about: "some node becomes leader",
        pair: "election safety",
        needs: Needs::Nothing,
    },
    PropertyDef {
        name: "an entry is committed",
        check: Check::Sometimes(entry_committed),
        about: "some node sees an entry committed",
        pair: "log matching",
        needs: Needs::Nothing,
    },
    PropertyDef {
        name: "a committed entry survives a crash",
        check: Check::Sometimes(committed_survives_crash),
        about: "a node restarts from storage holding an entry it had seen committed",
        pair: "storage round trip",
        needs: Needs::Crashes,
    },
    PropertyDef {
        name: "a conflicting entry is truncated",
        check: Check::Sometimes(conflicting_truncated),
        about: "a node's entry is replaced by a later leader's",
        pair: "leader append-only",
        needs: Needs::Nothing,
    },
    PropertyDef {
        name: "a later leader holds a committed entry",
        check: Check::Sometimes(later_leader_holds_committed),
        about: "a leader of a term after an entry's commit holds that entry",
        pair: "leader completeness",
        needs: Needs::Nothing,
    },
    PropertyDef {
        name: "two nodes apply the same entry",
        check: Check::Sometimes(two_nodes_apply),
        about: "two state machines applied an entry at the same index",
        pair: "state machine safety",
        needs: Needs::Nothing,
    },
    PropertyDef {
        name: "a node votes in two terms",
        check: Check::Sometimes(votes_in_two_terms),
        about: "some node granted votes in two different terms",
        pair: "index order",
        needs: Needs::Nothing,
    },
    PropertyDef {
        name: "a granted vote is on disk",
        check: Check::Sometimes(granted_vote_on_disk),
        about: "a node's disk holds the vote it granted another node in its current term",
        pair: "durable before sent",
        needs: Needs::Nothing,
    },
    PropertyDef {
        name: "a pre-vote fails and the term stays",
        check: Check::Sometimes(pre_vote_lost),
        about: "a pre-candidate is refused by a quorum and becomes a follower in its own term",
        pair: "pre-vote is harmless",
        needs: Needs::PreVote,
    },
    PropertyDef {
        name: "a pre-candidate rejoins its leader",
        check: Check::Sometimes(rejoined_quietly),
        about: "a pre-candidate hears from the leader of its term and follows it: no disruption",
        pair: "pre-vote is harmless",
        needs: Needs::PreVote,
    },
    PropertyDef {
        name: "a leader steps down for lack of quorum",
        check: Check::Sometimes(stepped_down_without_quorum),
        about: "a leader ends an election period as a follower (check-quorum)",
        pair: "a cut-off leader steps down",
        needs: Needs::CheckQuorum,
    },
    PropertyDef {
        name: "a leader transfer completes",
        check: Check::Sometimes(transfer_completed),
        about: "a node that campaigned on TimeoutNow leads the next term",
        pair: "a transfer target is up to date",
        needs: Needs::Transfers,
    },
    PropertyDef {
        name: "a snapshot is installed on a follower",
        check: Check::Sometimes(snapshot_installed),
        about: "a follower's Ready hands out a leader's snapshot to install",
        pair: "snapshot consistency",
        needs: Needs::Snapshots,
    },
    PropertyDef {
        name: "a node restarts from a snapshot",
        check: Check::Sometimes(restarted_from_snapshot),
        about: "a node restarts over a compacted log",
        pair: "snapshot consistency",
        needs: Needs::Snapshots,
    },
    PropertyDef {
        name: "a snapshot catches a lagging follower up",
        check: Check::Sometimes(lagging_follower_caught_up),
        about: "a follower that needed a leader's snapshot acknowledges it and is replicated to again",
        pair: "snapshot consistency",
        needs: Needs::Snapshots,
    },
    PropertyDef {
        name: "a read returns another client's write",
        check: Check::Sometimes(read_anothers_write),
        about: "a client's read returns a value another client wrote",
        pair: "linearizable",
        needs: Needs::Clients,
    },
    PropertyDef {
        name: "a read is served after a leader change",
        check: Check::Sometimes(read_after_leader_change),
        about: "a read returns a written value in a term after the first",
        pair: "linearizable",
        needs: Needs::Clients,
    },
    PropertyDef {
        name: "a read is served from a lease",
        check: Check::Sometimes(read_served_from_lease),
        about: "a client's read is confirmed in the step that asked for it (ReadMode::Lease)",
        pair: "linearizable",
        needs: Needs::Lease,
    },
    PropertyDef {
        name: "one pending change",
        check: Check::Always(one_pending_change),
        about: "no leader holds two configuration entries beyond what any node saw committed (§4.1)",
        pair: "an added node leads",
        needs: Needs::Membership,
    },
    PropertyDef {
        name: "non-voters never campaign",
        check: Check::Always(non_voters_never_campaign),
        about: "no learner, removed or not-yet-added node starts a campaign (§4.2)",
        pair: "an added node votes",
        needs: Needs::Membership,
    },
    PropertyDef {
        name: "removed leaders step down",
        check: Check::Always(removed_leaders_step_down),
        about: "no running leader is outside its configuration's voters (§4.2.2)",
        pair: "a removed leader steps down",
        needs: Needs::Membership,
    },
    PropertyDef {
        name: "an added node leads",
        check: Check::Sometimes(added_node_leads),
        about: "a node that was not an initial voter is elected leader",
        pair: "one pending change",
        needs: Needs::Membership,
    },
    PropertyDef {
        name: "an added node votes",
        check: Check::Sometimes(added_node_votes),
        about: "a node that was not an initial voter applied its addition",
        pair: "non-voters never campaign",
        needs: Needs::Membership,
    },
    PropertyDef {
        name: "a removed leader steps down",
        check: Check::Sometimes(removed_leader_stepped_down),
        about: "a leader applies its own removal and becomes a follower",
        pair: "removed leaders step down",
        needs: Needs::Membership,
    },
    PropertyDef {
        name: "a joint configuration is left",
        check: Check::Sometimes(joint_left),
        about: "a node enters a joint configuration and leaves it (§4.3)",
        pair: "one pending change",
        needs: Needs::Joint,
    },
    PropertyDef {
        name: "a learner is promoted",
        check: Check::Sometimes(learner_promoted),
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
fn linearizable(nodes: &[NodeObs<'_>]) -> Option<Reason> {
    let h = history(nodes)?;
    (!h.is_linearizable()).then(|| {
        let why = Reason::new(
            "some order consistent with real time explains every read",
            format!("no such order exists for the history {h}"),
        );
        h.clients().into_iter().fold(why, Reason::node)
    })
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
    reasons(nodes).into_iter().map(|(name, _)| name).collect()
}

/// The violated Always properties on `nodes`, each with why it fails.
pub fn reasons(nodes: &[NodeObs<'_>]) -> Vec<(&'static str, Reason)> {
    PROPERTIES
        .iter()
        .filter_map(|p| p.explain(nodes).map(|why| (p.name, why)))
        .collect()
}

fn up<'a>(nodes: &'a [NodeObs<'a>]) -> impl Iterator<Item = &'a NodeObs<'a>> + 'a {
    nodes.iter().filter(|n| n.up)
}

/// Election Safety: no term has two leaders, ever.
pub fn election_safety(nodes: &[NodeObs<'_>]) -> Option<Reason> {
    let mut led: BTreeMap<Term, NodeId> = BTreeMap::new();
    for n in nodes {
        let me = n.node.config().id;
        for &term in &n.ghost.led {
            if let Some(&first) = led.get(&term) {
                return Some(
                    Reason::new(
                        "one leader per term",
                        format!("{first} and {me} both led {term}"),
                    )
                    .node(first)
                    .node(me)
                    .term(term),
                );
            }
            led.insert(term, me);
        }
    }
    None
}

/// Leader Append-Only: no leader's log lost or changed an entry within its term.
pub fn leader_append_only(nodes: &[NodeObs<'_>]) -> Option<Reason> {
    first_raised(nodes, Broken::AppendOnly)
}

/// Log Matching: two logs holding an entry with the same index and term hold
/// identical entries up to it.
pub fn log_matching(nodes: &[NodeObs<'_>]) -> Option<Reason> {
    let up: Vec<&NodeObs<'_>> = up(nodes).collect();
    let images: Vec<Image<'_>> = up.iter().map(|n| image(n.node)).collect();
    let logs: Vec<Vec<&Entry>> = images.iter().map(|i| i.iter().collect()).collect();
    for (i, a) in logs.iter().enumerate() {
        for (j, b) in logs.iter().enumerate().skip(i + 1) {
            // The last position where both hold the same key bounds the prefix that must agree.
            let Some(last) = a.iter().zip(b.iter()).rposition(|(x, y)| x.key == y.key) else {
                continue;
            };
            let Some(k) = (0..=last).find(|&k| a[k] != b[k]) else {
                continue;
            };
            let (x, y) = (up[i].node.config().id, up[j].node.config().id);
            let (shared, differ) = (a[last], (a[k], b[k]));
            let what = if differ.0.key == differ.1.key {
                format!("entries {} differ in payload", differ.0)
            } else {
                format!("{x} holds {} and {y} holds {}", differ.0, differ.1)
            };
            return Some(
                Reason::new(
                    "same index and term, same prefix",
                    format!(
                        "{x} and {y} both hold {shared}, but at index {}: {what}",
                        k + 1
                    ),
                )
                .node(x)
                .node(y)
                .term(shared.key.term)
                .index(shared.index())
                .index(differ.0.index()),
            );
        }
    }
    None
}

/// Leader Completeness: a leader of term T holds every entry committed in a term before T.
pub fn leader_completeness(nodes: &[NodeObs<'_>]) -> Option<Reason> {
    for leader in up(nodes).filter(|n| n.node.status().role == Role::Leader) {
        let (me, term) = (leader.node.status().id, leader.node.status().term);
        let image = image(leader.node);
        let log: Vec<&Entry> = image.iter().collect();
        for (prefix, by, when) in committed_before_by(nodes, term) {
            let mut held = log.iter();
            let Some(missing) = prefix.iter().find(|e| held.next() != Some(e)) else {
                continue;
            };
            let holds = log
                .get(Index(0).distance_to(missing.index().prev()))
                .map_or("nothing".to_string(), |e| e.to_string());
            return Some(
                Reason::new(
                    "a leader holds every entry committed before its term",
                    format!(
                        "{me}, leader in {term}, holds {holds} at index {} where {by} committed \
                         {missing} in {when}",
                        missing.index()
                    ),
                )
                .node(me)
                .node(by)
                .term(term)
                .term(when)
                .index(missing.index()),
            );
        }
    }
    None
}

/// State Machine Safety: committed prefixes agree everywhere and never change,
/// and every applied entry is the one seen committed at its index.
pub fn state_machine_safety(nodes: &[NodeObs<'_>]) -> Option<Reason> {
    if let Some(why) = first_raised(nodes, Broken::CommittedChanged)
        .or_else(|| first_raised(nodes, Broken::AppliedChanged))
    {
        return Some(why);
    }
    for (i, a) in nodes.iter().enumerate() {
        for b in &nodes[i + 1..] {
            let pairs = a.ghost.committed.iter().zip(&b.ghost.committed);
            if let Some((x, y)) = pairs.into_iter().find(|(x, y)| x != y) {
                let (p, q) = (a.node.config().id, b.node.config().id);
                return Some(
                    Reason::new(
                        "every node commits the same entries",
                        format!(
                            "{p} saw {x} committed at index {} and {q} saw {y}",
                            x.index()
                        ),
                    )
                    .node(p)
                    .node(q)
                    .index(x.index()),
                );
            }
        }
    }
    None
}

/// Index order: applied <= committed <= last on running nodes; terms never go
/// back; one vote per term across restarts; commit indexes never go back.
pub fn index_order(nodes: &[NodeObs<'_>]) -> Option<Reason> {
    for n in up(nodes) {
        let s = n.node.status();
        if !(s.applied <= s.committed && s.committed <= s.last.index) {
            return Some(
                Reason::new(
                    "applied <= committed <= last",
                    format!(
                        "{} has applied {}, committed {}, last {}",
                        s.id, s.applied, s.committed, s.last.index
                    ),
                )
                .node(s.id)
                .index(s.applied)
                .index(s.committed)
                .index(s.last.index),
            );
        }
    }
    first_raised(nodes, Broken::TermWentBack)
        .or_else(|| first_raised(nodes, Broken::PersistedTermWentBack))
        .or_else(|| first_raised(nodes, Broken::SecondVote))
        .or_else(|| first_raised(nodes, Broken::CommitWentBack))
}

/// Durable before sent: no message left ahead of the write it speaks for.
pub fn durable_before_sent(nodes: &[NodeObs<'_>]) -> Option<Reason> {
    first_raised(nodes, Broken::SentBeforeDurable)
}

/// Storage round trip: every Ready was handed out and written, and every
/// restart rebuilt the node from what it wrote.
pub fn storage_round_trip(nodes: &[NodeObs<'_>]) -> Option<Reason> {
    first_raised(nodes, Broken::Storage)
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
                p.expect(),
                partner.expect(),
                "{} pairs with {}",
                p.name,
                partner.name
            );
            // Each Always and its witness name each other; a further witness
            // of the same Always (say, a pre-candidate rejoining) names it only.
            let mutual = partner.pair == p.name;
            assert!(
                mutual || p.expect() == Expect::Sometimes,
                "{} is not named back",
                p.name
            );
            // A further witness may need more than its Always (a lease read
            // needs clients reading by lease).
            assert!(
                p.needs.implies(partner.needs) && (mutual || p.expect() == Expect::Sometimes),
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
        assert!(
            !g.flags.is_raised(Broken::SecondVote),
            "the same candidate twice is one vote"
        );
        g.observe_ready(&node, &ready(vec![vote(3)]));
        let why = g.flags.reason(Broken::SecondVote).expect("a second vote");
        assert_eq!(why.text, "n1 granted its vote in t2 to n2, then to n3");
        assert_eq!(why.nodes, [NodeId(1), NodeId(2), NodeId(3)]);
        assert_eq!(why.terms, [Term(2)]);
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
        let why = g
            .flags
            .reason(Broken::AppliedChanged)
            .expect("nothing was committed");
        assert_eq!(why.clause, "applied entries are the committed ones");
        assert_eq!(
            why.text,
            "n1 applied 1@1 at index 1, where it had seen nothing committed"
        );
    }
}
