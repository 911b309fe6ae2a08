//! The engine's rules as small transcripts, driven through [`crate::Node`]:
//! votes (§5.2, §5.4.1), quorum commitment with the current-term rule (§5.4.2,
//! figure 8), reject-hint backtracking, and restart from storage.
//!
//! Keys and entries are written as they display, `index@term`; messages are
//! compared through their `Display` (`n1->n2 Vote{t1, granted}`).

use crate::{
    AppendOutcome, Config, DropReason, Entry, EntryKey, EntryVariant, HardState, Index, MemStorage,
    Message, MessageVariant, Node, NodeId, Ready, Rejection, Role, StepOutcome, Term,
};
use futures::executor::block_on;

// ---------------------------------------------------------------- helpers

fn n(id: u64) -> NodeId {
    NodeId(id)
}

/// `"2@1"`: index 2, term 1.
fn key(s: &str) -> EntryKey {
    let (index, term) = s.split_once('@').expect("index@term");
    EntryKey::new(Term(term.parse().unwrap()), Index(index.parse().unwrap()))
}

/// `"1@1 2@1"`: empty entries with these keys.
fn log(s: &str) -> Vec<Entry> {
    s.split_whitespace().map(|k| Entry::empty(key(k))).collect()
}

/// `"from@term ... to@term"`, for long runs of one term.
fn run(term: u64, from: u64, to: u64) -> String {
    let keys: Vec<String> = (from..=to).map(|i| format!("{i}@{term}")).collect();
    keys.join(" ")
}

fn keys(entries: &[Entry]) -> Vec<EntryKey> {
    entries.iter().map(|e| e.key).collect()
}

/// The keys of every entry of `node`'s log.
fn whole_log(node: &Node<MemStorage>) -> Vec<EntryKey> {
    let last = node.status().last.index;
    keys(&block_on(node.entries(Index(1), last.next())).unwrap())
}

fn config(id: u64) -> Config {
    Config::new(n(id), [n(1), n(2), n(3)])
}

/// A node restarted from storage that holds `entries` and `hs`.
fn node_on(config: Config, hs: HardState, entries: &str) -> Node<MemStorage> {
    let mut storage = MemStorage::default();
    storage.append(&log(entries)).unwrap();
    storage.set_hard_state(hs);
    block_on(Node::new(config, storage)).unwrap()
}

fn hard(term: u64, vote: Option<u64>) -> HardState {
    HardState {
        term: Term(term),
        voted_node: vote.map(n),
        committed_index: Index(0),
    }
}

fn fresh(id: u64) -> Node<MemStorage> {
    node_on(config(id), HardState::default(), "")
}

/// A message from `src` in `term` to n1.
fn to_n1(src: u64, term: u64, variant: MessageVariant) -> Message {
    Message::new(n(src), Term(term), n(1), variant)
}

fn request_vote(src: u64, term: u64, last: &str) -> Message {
    to_n1(
        src,
        term,
        MessageVariant::RequestVote {
            last: key(last),
            transfer: false,
        },
    )
}

fn step(node: &mut Node<MemStorage>, msg: Message) -> StepOutcome {
    block_on(node.step(msg.clone())).unwrap_or_else(|e| panic!("{msg}: {e}"))
}

/// Carries out `node`'s Ready as the application would: persist the entries,
/// then the HardState, (send,) apply, advance. Returns the Ready.
fn run_ready(node: &mut Node<MemStorage>) -> Ready {
    let rd = block_on(node.ready()).unwrap();
    node.storage_mut().append(&rd.entries).unwrap();
    if let Some(hs) = rd.hard_state {
        node.storage_mut().set_hard_state(hs);
    }
    node.advance(rd.clone());
    rd
}

/// What `node` sends next (after carrying out its Ready, if it has one).
fn sends(node: &mut Node<MemStorage>) -> Vec<String> {
    if !node.has_ready() {
        return Vec::new();
    }
    show(&run_ready(node).messages)
}

fn show(messages: &[Message]) -> Vec<String> {
    messages.iter().map(ToString::to_string).collect()
}

/// One network round: every node carries out its Ready, then every message is
/// delivered. Messages to nodes not in `nodes` are lost. Returns the delivered ones.
fn round(nodes: &mut [Node<MemStorage>]) -> Vec<Message> {
    let mut outgoing = Vec::new();
    for node in nodes.iter_mut() {
        if node.has_ready() {
            outgoing.extend(run_ready(node).messages);
        }
    }
    let mut delivered = Vec::new();
    for msg in outgoing {
        if let Some(dst) = nodes.iter_mut().find(|node| node.config().id == msg.dst) {
            step(dst, msg.clone());
            delivered.push(msg);
        }
    }
    delivered
}

/// Rounds until nothing is left to do (at most `rounds_max`); every delivered message.
fn settle(nodes: &mut [Node<MemStorage>], rounds_max: usize) -> Vec<Message> {
    let mut transcript = Vec::new();
    for _ in 0..rounds_max {
        if !nodes.iter().any(Node::has_ready) {
            return transcript;
        }
        transcript.extend(round(nodes));
    }
    panic!(
        "not settled after {rounds_max} rounds: {:?}",
        show(&transcript)
    );
}

// ---------------------------------------------------------------- votes (§5.2, §5.4.1)

#[test]
fn one_vote_per_term_first_come_first_served() {
    let mut n1 = fresh(1);
    assert_eq!(
        step(&mut n1, request_vote(2, 1, "0@0")),
        StepOutcome::Handled
    );
    let refused = Rejection::VoteAlreadyCast { voted: n(2) };
    assert_eq!(
        step(&mut n1, request_vote(3, 1, "0@0")),
        StepOutcome::Rejected(refused)
    );
    // n2 asking again (a retransmission) gets the same answer.
    assert_eq!(
        step(&mut n1, request_vote(2, 1, "0@0")),
        StepOutcome::Handled
    );
    assert_eq!(
        sends(&mut n1),
        [
            "n1->n2 Vote{t1, granted}",
            "n1->n3 Vote{t1, rejected}",
            "n1->n2 Vote{t1, granted}"
        ]
    );
    assert_eq!(
        n1.storage().hard_state(),
        hard(1, Some(2)),
        "the vote is persisted first"
    );
    // A new term, a new vote.
    assert_eq!(
        step(&mut n1, request_vote(3, 2, "0@0")),
        StepOutcome::Handled
    );
    assert_eq!(sends(&mut n1), ["n1->n3 Vote{t2, granted}"]);
}

#[test]
fn up_to_date_means_higher_last_term_or_equal_term_and_index_at_least_ours() {
    // n1's log ends at 2@2; each candidate asks a fresh copy of it in term 3.
    let ask = |last: &str| {
        let mut n1 = node_on(config(1), hard(2, None), "1@1 2@2");
        step(&mut n1, request_vote(2, 3, last))
    };
    let not_up_to_date = |theirs: &str| {
        StepOutcome::Rejected(Rejection::LogNotUpToDate {
            ours: key("2@2"),
            theirs: key(theirs),
        })
    };
    assert_eq!(
        ask("1@3"),
        StepOutcome::Handled,
        "higher last term wins, however short"
    );
    assert_eq!(ask("3@2"), StepOutcome::Handled, "equal term, longer");
    assert_eq!(ask("2@2"), StepOutcome::Handled, "equal term, equal index");
    assert_eq!(ask("1@2"), not_up_to_date("1@2"), "equal term, shorter");
    assert_eq!(
        ask("9@1"),
        not_up_to_date("9@1"),
        "lower last term loses, however long"
    );

    // A refusal does not use up the vote of the term.
    let mut n1 = node_on(config(1), hard(2, None), "1@1 2@2");
    assert_eq!(
        step(&mut n1, request_vote(2, 3, "1@2")),
        not_up_to_date("1@2")
    );
    assert_eq!(
        step(&mut n1, request_vote(3, 3, "2@2")),
        StepOutcome::Handled
    );
    assert_eq!(
        sends(&mut n1),
        ["n1->n2 Vote{t3, rejected}", "n1->n3 Vote{t3, granted}"]
    );
}

#[test]
fn a_follower_that_knows_the_leader_of_its_term_does_not_vote() {
    let mut n1 = fresh(1);
    let heartbeat = MessageVariant::Heartbeat {
        commit: Index(0),
        read: None,
    };
    assert_eq!(step(&mut n1, to_n1(2, 1, heartbeat)), StepOutcome::Handled);
    let leader_known = Rejection::LeaderKnown { leader: n(2) };
    assert_eq!(
        step(&mut n1, request_vote(3, 1, "0@0")),
        StepOutcome::Rejected(leader_known)
    );
    assert_eq!(
        sends(&mut n1),
        ["n1->n2 HeartbeatOk{t1}", "n1->n3 Vote{t1, rejected}"]
    );
    assert_eq!(n1.status().voted_node, None);
    // In a newer term the old leader is forgotten.
    assert_eq!(
        step(&mut n1, request_vote(3, 2, "0@0")),
        StepOutcome::Handled
    );
    assert_eq!(n1.status().leader, None);
    assert_eq!(sends(&mut n1), ["n1->n3 Vote{t2, granted}"]);
}

// ---------------------------------------------------------------- commitment (§5.4.2)

#[test]
fn an_older_term_entry_on_a_majority_commits_only_with_the_leaders_no_op() {
    // n1 led term 1 and appended 1@1 2@1; only 1@1 reached n2. n3 is down.
    // n1 may send one entry per append, so 2@1 reaches n2 before the no-op.
    let mut c1 = config(1);
    c1.append_entries_max = 1;
    let n1 = node_on(c1, hard(1, Some(1)), "1@1 2@1");
    let n2 = node_on(config(2), hard(1, Some(1)), "1@1");
    let mut nodes = [n1, n2];
    block_on(nodes[0].campaign()).unwrap();
    assert_eq!(
        show(&round(&mut nodes)),
        ["n1->n2 RequestVote{t2, last 2@1}"]
    );
    assert_eq!(show(&round(&mut nodes)), ["n2->n1 Vote{t2, granted}"]);
    assert_eq!(nodes[0].status().role, Role::Leader);
    assert_eq!(
        show(&round(&mut nodes)),
        ["n1->n2 Append{t2, prev 2@1, entries [3@2], commit 0}"]
    );
    assert_eq!(
        show(&round(&mut nodes)),
        ["n2->n1 AppendReject{t2, at 2, hint 1@1}"]
    );
    assert_eq!(
        show(&round(&mut nodes)),
        ["n1->n2 Append{t2, prev 1@1, entries [2@1], commit 0}"]
    );
    assert_eq!(show(&round(&mut nodes)), ["n2->n1 AppendOk{t2, match 2}"]);
    // 2@1 is now on n1 and n2, a majority, but it is of term 1: not committed.
    assert_eq!(nodes[0].status().committed, Index(0));
    assert_eq!(
        show(&round(&mut nodes)),
        ["n1->n2 Append{t2, prev 2@1, entries [3@2], commit 0}"]
    );
    assert_eq!(show(&round(&mut nodes)), ["n2->n1 AppendOk{t2, match 3}"]);
    // The no-op 3@2 is on a majority: it commits, and 1@1 2@1 with it.
    assert_eq!(nodes[0].status().committed, Index(3));
    let rd = run_ready(&mut nodes[0]);
    assert_eq!(
        keys(&rd.committed_entries),
        [key("1@1"), key("2@1"), key("3@2")]
    );
}

#[test]
fn a_leader_counts_its_own_entry_only_once_persisted() {
    // n1 leads term 1 with n2; the no-op 1@1 is committed.
    let mut nodes = [fresh(1), fresh(2)];
    block_on(nodes[0].campaign()).unwrap();
    settle(&mut nodes, 10);
    assert_eq!(nodes[0].status().committed, Index(1));

    block_on(nodes[0].propose("x".into())).unwrap();
    // n1's write of 2@1 is in flight when n2's ack arrives.
    let rd = block_on(nodes[0].ready()).unwrap();
    assert_eq!(keys(&rd.entries), [key("2@1")]);
    for msg in rd.messages.iter().filter(|m| m.dst == n(2)) {
        step(&mut nodes[1], msg.clone());
    }
    assert_eq!(sends(&mut nodes[1]), ["n2->n1 AppendOk{t1, match 2}"]);
    let ack = Message::new(
        n(2),
        Term(1),
        n(1),
        MessageVariant::AppendEntriesResponse {
            outcome: crate::AppendOutcome::Accepted { matched: Index(2) },
        },
    );
    step(&mut nodes[0], ack);
    assert_eq!(
        nodes[0].status().committed,
        Index(1),
        "n2 alone is not a majority"
    );
    nodes[0].storage_mut().append(&rd.entries).unwrap();
    nodes[0].advance(rd);
    assert_eq!(
        nodes[0].status().committed,
        Index(2),
        "n1's durable copy completes it"
    );
}

// ---------------------------------------------------------------- backtracking

#[test]
fn reject_hints_skip_a_divergent_suffix_a_term_at_a_time() {
    // n1 holds 20 entries of term 1. n2 led terms 2 and 3 with n3's votes and
    // appended 6..10 in term 2 and 11..15 in term 3, which no one else has.
    let n1 = node_on(config(1), hard(3, None), &run(1, 1, 20));
    let n2_log = format!("{} {} {}", run(1, 1, 5), run(2, 6, 10), run(3, 11, 15));
    let n2 = node_on(config(2), hard(3, Some(2)), &n2_log);
    let n3 = node_on(config(3), hard(3, Some(2)), &run(1, 1, 5));
    let mut nodes = [n1, n2, n3];
    block_on(nodes[0].campaign()).unwrap();
    let transcript = settle(&mut nodes, 20);
    assert_eq!(
        nodes[0].status().role,
        Role::Leader,
        "elected by n3 (n2's log is newer)"
    );

    // The exchange between n1 and n2; appends shown by their prev and size.
    let n1_n2: Vec<String> = transcript
        .iter()
        .filter(|m| m.src != n(3) && m.dst != n(3))
        .filter_map(|m| match &m.variant {
            MessageVariant::AppendEntries { prev, entries, .. } => Some(format!(
                "{}->{} Append prev {prev}, {} entries",
                m.src,
                m.dst,
                entries.len()
            )),
            MessageVariant::AppendEntriesResponse { .. } => Some(m.to_string()),
            _ => None,
        })
        .collect();
    assert_eq!(
        n1_n2,
        [
            "n1->n2 Append prev 20@1, 1 entries",
            "n2->n1 AppendReject{t4, at 20, hint 15@3}", // beyond n2's log: its last entry
            "n1->n2 Append prev 15@1, 6 entries",
            "n2->n1 AppendReject{t4, at 15, hint 5@1}", // terms 3 and 2 skipped at once
            "n1->n2 Append prev 5@1, 16 entries",
            "n2->n1 AppendOk{t4, match 21}",
        ]
    );
    // Three round trips for ten divergent entries (sixteen, one index at a time).
    let appends = n1_n2
        .iter()
        .filter(|m| m.starts_with("n1->n2 Append "))
        .count();
    assert_eq!(appends, 3);

    let expected = keys(&log(&format!("{} 21@4", run(1, 1, 20))));
    assert_eq!(whole_log(&nodes[0]), expected);
    assert_eq!(whole_log(&nodes[1]), expected, "n2's suffix is replaced");
    assert_eq!(whole_log(&nodes[2]), expected);
    assert_eq!(nodes[0].status().committed, Index(21));
}

// ---------------------------------------------------------------- restart

#[test]
fn a_restarted_leader_resumes_as_a_follower_with_its_durable_state() {
    let mut nodes = [fresh(1), fresh(2)];
    block_on(nodes[0].campaign()).unwrap();
    settle(&mut nodes, 10);
    block_on(nodes[0].propose("a".into())).unwrap();
    block_on(nodes[0].propose("b".into())).unwrap();
    settle(&mut nodes, 10);
    let before = nodes[0].status();
    assert_eq!(
        (before.role, before.committed, before.applied),
        (Role::Leader, Index(3), Index(3))
    );
    // 4@1 is proposed, but n1 crashes before writing it.
    block_on(nodes[0].propose("c".into())).unwrap();

    let n1 = block_on(Node::new(config(1), nodes[0].storage().clone())).unwrap();
    let after = n1.status();
    assert_eq!(after.role, Role::Follower);
    assert_eq!(after.leader, None);
    assert_eq!((after.term, after.voted_node), (Term(1), Some(n(1))));
    assert_eq!(after.committed, Index(3));
    assert_eq!(
        (after.last, after.persisted),
        (key("3@1"), key("3@1")),
        "4@1 was never written"
    );
    assert_eq!(
        after.applied,
        Index(0),
        "the state machine is rebuilt from the log"
    );
    let stored = block_on(n1.entries(Index(1), Index(4))).unwrap();
    let variants: Vec<EntryVariant> = stored.into_iter().map(|e| e.variant).collect();
    let normal = |s: &'static str| EntryVariant::Normal(s.into());
    assert_eq!(variants, [EntryVariant::Empty, normal("a"), normal("b")]);

    // The first Ready hands the committed entries out again, and nothing else.
    let mut n1 = n1;
    let rd = run_ready(&mut n1);
    assert_eq!(
        keys(&rd.committed_entries),
        [key("1@1"), key("2@1"), key("3@1")]
    );
    assert_eq!(
        (rd.entries.len(), rd.hard_state, rd.messages.len()),
        (0, None, 0)
    );
    assert_eq!(n1.status().applied, Index(3));
    // Its vote of term 1 survived too.
    let refused = Rejection::VoteAlreadyCast { voted: n(1) };
    assert_eq!(
        step(&mut n1, request_vote(3, 1, "9@1")),
        StepOutcome::Rejected(refused)
    );
}

/// A message the node drops for good is exactly one that stepping changes
/// nothing for and answers nothing (a checker removes such messages at once).
#[test]
fn a_silently_dropped_older_term_is_ignored_for_good() {
    let heartbeat = MessageVariant::Heartbeat {
        commit: Index(0),
        read: None,
    };
    let pre_vote = MessageVariant::RequestPreVote { last: key("0@0") };
    let cases = [
        (config(1), to_n1(2, 2, heartbeat.clone()), true),
        (config(1), to_n1(2, 3, heartbeat.clone()), false),
        (config(1), request_vote(2, 2, "0@0"), true),
        (config(1), to_n1(2, 2, pre_vote), false),
        (
            Config {
                check_quorum: true,
                ..config(1)
            },
            to_n1(2, 2, heartbeat),
            false,
        ),
    ];
    for (config, msg, dead) in cases {
        let mut node = node_on(config, hard(3, None), "");
        assert_eq!(node.ignores_for_good(&msg), dead, "{msg}");
        let before = node.clone();
        step(&mut node, msg.clone());
        let silent = node == before && sends(&mut node).is_empty();
        if dead {
            assert!(
                silent,
                "{msg} is dropped for good, so it changes and sends nothing"
            );
        } else {
            assert!(!silent || msg.src_term == Term(3), "{msg} is answered");
        }
    }
}

/// An answer of the node's own term is dead once the node has left the role
/// it was sent to: a candidate that won no longer counts votes, and a node
/// that stopped leading in a term never leads it again (§5.2).
#[test]
fn an_answer_to_a_role_left_in_its_term_is_ignored_for_good() {
    let vote = |src| {
        to_n1(
            src,
            1,
            MessageVariant::RequestVoteResponse { granted: true },
        )
    };
    let ack = to_n1(
        2,
        1,
        MessageVariant::AppendEntriesResponse {
            outcome: AppendOutcome::Accepted { matched: Index(0) },
        },
    );
    let beat = to_n1(2, 1, MessageVariant::HeartbeatResponse { read: None });

    let mut n1 = fresh(1);
    block_on(n1.campaign()).unwrap();
    run_ready(&mut n1);
    assert_eq!(n1.status().role, Role::Candidate);
    assert!(!n1.ignores_for_good(&vote(2)), "a candidate counts votes");
    step(&mut n1, vote(2));
    assert_eq!(n1.status().role, Role::Leader);
    assert!(!n1.ignores_for_good(&ack), "a leader takes acks");
    assert!(!n1.ignores_for_good(&beat));
    assert_silent_for_good(&mut n1, vote(3), "a leader no longer counts votes");

    // Restarted, n1 follows in term 1 and can lead only a later term.
    let mut n1 = block_on(Node::new(config(1), n1.storage().clone())).unwrap();
    assert_eq!(
        (n1.status().role, n1.status().term),
        (Role::Follower, Term(1))
    );
    assert_silent_for_good(&mut n1, ack, "no leader of term 1 is left to ack");
    assert_silent_for_good(&mut n1, beat, "nor to answer a heartbeat");
    assert_silent_for_good(&mut n1, vote(3), "nor a candidate to vote for");
}

/// `msg` is ignored for good by `node`, and stepping it changes and sends nothing.
fn assert_silent_for_good(node: &mut Node<MemStorage>, msg: Message, why: &str) {
    assert!(node.ignores_for_good(&msg), "{msg}: {why}");
    sends(node); // what the node had to do before
    let before = node.clone();
    step(node, msg.clone());
    assert!(
        *node == before && sends(node).is_empty(),
        "{msg} is dropped for good, so it changes and sends nothing"
    );
}

/// A message only a leader sends names that leader when it moves a node
/// into its newer term (the gate, §5.1), even when the handler then cannot
/// act on it: here a TimeoutNow reaches a node that is not a voter, so it
/// cannot campaign, and it follows the sender instead.
#[test]
fn a_newer_timeout_now_that_cannot_be_obeyed_still_names_the_leader() {
    let outside = Config::new(n(4), [n(1), n(2), n(3)]);
    let mut n4 = node_on(outside, hard(1, None), "");
    let timeout_now = Message::new(n(2), Term(2), n(4), MessageVariant::TimeoutNow);
    assert_eq!(
        step(&mut n4, timeout_now),
        StepOutcome::Dropped(DropReason::NotAVoter)
    );
    let status = n4.status();
    assert_eq!(
        (status.role, status.term, status.leader),
        (Role::Follower, Term(2), Some(n(2)))
    );
}
