//! Unit-level properties of ruft's building blocks, through the public API
//! only, each against a naive twin (design §3 "proptest", issue 4 item 5):
//!
//! - `LogBuffer::append` (and the reads and hand-off around it) against a
//!   plain `Vec` of the whole log, over arbitrary appends, hand-offs and
//!   persistence acknowledgements;
//! - `LogView` over `MemStorage` against a `Vec` with a compaction point,
//!   over appends (conflicting ones included), writes, snapshots with
//!   compaction and restored leader snapshots: terms, entries, the first
//!   and last index and the backtracking target agree, and a compacted index
//!   reads as `Compacted`, never as term 0;
//! - the quorum arithmetic (`committed_index`, `vote_result`) against brute
//!   force over arbitrary voter sets, match indexes and votes;
//! - the current-term rule (§5.4.2) on a real leader: acknowledgements of
//!   entries from older terms never move its commit index, whatever a quorum
//!   matched, until the new term's no-op is matched by a quorum;
//! - `Message::staleness` against a comparison of terms, and the term gate of
//!   a real node acting on it;
//! - `HardState::may_become` against its definition (never backwards), and the
//!   HardStates a real node hands out in successive Readys, under arbitrary
//!   input and crashes, always satisfy it.
//!
//! Budgets: 5,000 to 20,000 cases per property, about 1 s in
//! `cargo test --release` on 2 cores; `RUFT_PROPTEST_SCALE=k`
//! multiplies every default case count by `k`, `PROPTEST_CASES=n` sets every
//! count to `n`. Failures are persisted under `proptest-regressions/proptest_units/`.

use futures::executor::block_on;
use proptest::prelude::*;
use proptest::test_runner::{Config as ProptestConfig, FileFailurePersistence};
use ruft::progress::config::{committed_index, vote_result, VoteResult};
use ruft::{
    AppendCase, AppendOutcome, Config, DropReason, Entry, EntryKey, Error, HardState, Index,
    LogBuffer, LogView, MemStorage, Message, MessageVariant, Node, NodeId, Ready, Role, Staleness,
    StepOutcome, Term, Tick,
};
use std::collections::{BTreeMap, BTreeSet};

/// The case count (see `ruft_models::budget`).
fn cases(default: u32) -> u32 {
    ruft_models::budget::cases(default)
}

fn config(default_cases: u32, regressions: &'static str) -> ProptestConfig {
    ProptestConfig {
        cases: cases(default_cases),
        failure_persistence: Some(Box::new(FileFailurePersistence::Direct(regressions))),
        ..ProptestConfig::default()
    }
}

fn key(term: u64, index: u64) -> EntryKey {
    EntryKey::new(Term(term), Index(index))
}

/// An entry whose payload is a function of its key: two entries with the same
/// key are the same entry, as Log Matching (§5.3) guarantees in a real log.
fn entry(k: EntryKey) -> Entry {
    Entry::normal(k, format!("{k}"))
}

/// A small index, or (rarely) one anywhere up to `u64::MAX`.
fn index() -> impl Strategy<Value = u64> {
    prop_oneof![8 => 0u64..24, 1 => any::<u64>(), 1 => (u64::MAX - 4)..=u64::MAX]
}

// ------------------------------------------------- LogBuffer against a Vec

/// An operation on the buffer; numbers are resolved against the model's
/// current state (modulo its length), so every operation meets `append`'s
/// contract: `prev` is a key of the log and the entries follow it.
#[derive(Clone, Debug)]
enum BufferOp {
    /// Append after the entry at `at % (len + 1)`, with term increments `bumps`.
    Append { at: u16, bumps: Vec<u8> },
    /// Hand the unhanded entries to the application.
    Take,
    /// The application persisted up to one of the keys it was handed.
    Persisted { pick: u16 },
}

fn buffer_op() -> impl Strategy<Value = BufferOp> {
    prop_oneof![
        5 => (any::<u16>(), prop::collection::vec(0u8..=2, 0..=4))
            .prop_map(|(at, bumps)| BufferOp::Append { at, bumps }),
        2 => Just(BufferOp::Take),
        2 => any::<u16>().prop_map(|pick| BufferOp::Persisted { pick }),
    ]
}

/// The naive twin: the whole log as a vector, how much of it is persisted and
/// still part of the log, and how much was handed to the application.
struct VecLog {
    log: Vec<EntryKey>,
    stable: usize,
    handed: usize,
    handed_keys: Vec<EntryKey>,
}

impl VecLog {
    fn key_at(&self, index: usize) -> EntryKey {
        if index == 0 {
            key(0, 0)
        } else {
            self.log[index - 1]
        }
    }

    fn entries(&self, from: usize, to: usize) -> Vec<Entry> {
        self.log[from..to].iter().copied().map(entry).collect()
    }
}

/// Every read of the buffer agrees with the model.
fn same_reads(b: &LogBuffer, m: &VecLog, probes: &[(u64, u64)]) -> Result<(), TestCaseError> {
    let len = m.log.len();
    prop_assert_eq!(b.last(), m.key_at(len));
    prop_assert_eq!(b.persisted(), m.key_at(m.stable));
    prop_assert_eq!(b.has_unhanded(), m.handed < len);
    for i in 0..=len as u64 + 2 {
        let iu = i as usize;
        let buffered = iu > m.stable && iu <= len;
        let term = (buffered || iu == m.stable).then(|| m.key_at(iu).term);
        prop_assert_eq!(b.term(Index(i)), term, "term at {}", i);
        let got = b.get(Index(i)).cloned();
        prop_assert_eq!(got, buffered.then(|| entry(m.key_at(iu))), "get {}", i);
    }
    for &(low, high) in probes {
        let from = (low as usize).max(m.stable + 1).min(len + 1);
        let to = (high as usize).min(len + 1).max(from);
        let want = m.entries(from - 1, to - 1);
        prop_assert_eq!(
            b.slice(Index(low), Index(high)),
            want.as_slice(),
            "slice [{}, {})",
            low,
            high
        );
    }
    Ok(())
}

fn run_buffer(
    initial: &[u8],
    ops: &[BufferOp],
    probes: &[(u64, u64)],
) -> Result<(), TestCaseError> {
    // The persisted log the buffer starts after: terms from 1, never decreasing.
    let mut log = Vec::new();
    let mut term = 1;
    for (i, bump) in initial.iter().enumerate() {
        term += u64::from(*bump);
        log.push(key(term, i as u64 + 1));
    }
    let mut m = VecLog {
        stable: log.len(),
        handed: log.len(),
        log,
        handed_keys: Vec::new(),
    };
    let mut b = LogBuffer::new(m.key_at(m.stable));
    same_reads(&b, &m, probes)?;
    for op in ops {
        match op {
            BufferOp::Append { at, bumps } => {
                let len = m.log.len();
                let p = usize::from(*at) % (len + 1);
                let prev = m.key_at(p);
                let mut term = prev.term.0.max(1);
                let new: Vec<EntryKey> = bumps
                    .iter()
                    .enumerate()
                    .map(|(i, bump)| {
                        term += u64::from(*bump);
                        key(term, (p + i + 1) as u64)
                    })
                    .collect();
                let entries: Vec<Entry> = new.iter().copied().map(entry).collect();
                let expected = if new.is_empty() {
                    None
                } else if p == len {
                    Some(AppendCase::Extend)
                } else if p <= m.stable {
                    Some(AppendCase::Replace)
                } else {
                    Some(AppendCase::TruncateExtend)
                };
                prop_assert_eq!(b.append(prev, &entries), expected, "append after {}", prev);
                if !new.is_empty() {
                    m.log.truncate(p);
                    m.log.extend(new);
                    m.stable = m.stable.min(p);
                    m.handed = m.handed.min(p);
                }
            }
            BufferOp::Take => {
                let from = m.handed.max(m.stable);
                let want = m.entries(from, m.log.len());
                prop_assert_eq!(b.take_unhanded(), want.as_slice());
                if let Some(last) = want.last() {
                    m.handed_keys.push(last.key);
                }
                m.handed = m.log.len();
            }
            BufferOp::Persisted { pick } => {
                if m.handed_keys.is_empty() {
                    continue;
                }
                let k = m.handed_keys[usize::from(*pick) % m.handed_keys.len()];
                b.on_persisted(k);
                let i = k.index.0 as usize;
                // Persisted only if that very entry is still in the buffer.
                if i > m.stable && i <= m.log.len() && m.log[i - 1] == k {
                    m.stable = i;
                }
            }
        }
        same_reads(&b, &m, probes)?;
    }
    Ok(())
}

proptest! {
    #![proptest_config(config(10_000, "proptest-regressions/proptest_units/log_buffer.txt"))]

    /// Extend, replace and truncate-then-extend all leave the buffer reading
    /// exactly like the plain vector they model.
    #[test]
    fn log_buffer_matches_a_vec(
        initial in prop::collection::vec(0u8..=2, 0..=5),
        ops in prop::collection::vec(buffer_op(), 0..=40),
        probes in prop::collection::vec((0u64..16, 0u64..16), 4),
    ) {
        run_buffer(&initial, &ops, &probes)?;
    }
}

// ------------------------------------------------- quorum against brute force

fn voters() -> impl Strategy<Value = BTreeSet<NodeId>> {
    prop::collection::btree_set((1u64..=9).prop_map(NodeId), 0..=7)
}

/// Whether `count` of `n` voters is a strict majority.
fn majority(count: usize, n: usize) -> bool {
    2 * count > n
}

proptest! {
    #![proptest_config(config(20_000, "proptest-regressions/proptest_units/quorum.txt"))]

    /// The committed index is the largest index that a majority of voters
    /// matched (non-voters do not count; an empty voter set commits nothing).
    #[test]
    fn committed_index_is_the_largest_index_a_majority_matched(
        voters in voters(),
        matched in prop::collection::btree_map((1u64..=12).prop_map(NodeId), index(), 0..=12),
    ) {
        let at = |id: NodeId| Index(matched.get(&id).copied().unwrap_or(0));
        let n = voters.len();
        let mut brute = 0;
        let candidates = voters.iter().map(|&v| at(v).0);
        for i in candidates {
            if i > brute && majority(voters.iter().filter(|&&v| at(v).0 >= i).count(), n) {
                brute = i;
            }
        }
        prop_assert_eq!(committed_index(&voters, at), Index(brute));
    }

    /// Won once a majority granted, lost once a majority can no longer grant,
    /// pending otherwise; non-voters' votes are ignored; an empty voter set
    /// stays pending.
    #[test]
    fn vote_result_matches_counting(
        voters in voters(),
        votes in prop::collection::btree_map((1u64..=12).prop_map(NodeId), any::<bool>(), 0..=12),
    ) {
        let n = voters.len();
        let granted = voters.iter().filter(|v| votes.get(v) == Some(&true)).count();
        let open = voters.iter().filter(|v| !votes.contains_key(v)).count();
        let expected = if n == 0 {
            VoteResult::Pending
        } else if majority(granted, n) {
            VoteResult::Won
        } else if !majority(granted + open, n) {
            VoteResult::Lost
        } else {
            VoteResult::Pending
        };
        prop_assert_eq!(vote_result(&voters, &votes), expected);
    }
}

// ------------------------------------------------- the current-term rule

/// Carries out every Ready (persist, then advance); returns them.
fn drain(node: &mut Node<MemStorage>) -> Vec<Ready> {
    let mut out = Vec::new();
    while node.has_ready() {
        let rd = block_on(node.ready()).expect("ready");
        node.storage_mut().persist(&rd).expect("persist");
        out.push(rd.clone());
        node.advance(rd);
    }
    out
}

fn cfg(voters: u64) -> Config {
    let mut c = Config::new(NodeId(1), (1..=voters).map(NodeId));
    c.election_tick = Tick(5);
    c
}

/// The brute-force quorum of `matched` (the leader's own included).
fn brute_quorum(matched: &BTreeMap<NodeId, u64>, n: usize) -> u64 {
    let mut best = 0;
    for &i in matched.values() {
        if majority(matched.values().filter(|&&m| m >= i).count(), n) {
            best = best.max(i);
        }
    }
    best
}

fn current_term_rule(
    voters: u64,
    bumps: &[u8],
    commit_pick: u16,
    acks: &[(u64, u16)],
) -> Result<(), TestCaseError> {
    // Storage: k entries of terms 1.. and a commit index below them.
    let mut storage = MemStorage::default();
    let mut term = 1;
    let old: Vec<Entry> = bumps
        .iter()
        .enumerate()
        .map(|(i, b)| {
            term += u64::from(*b);
            entry(key(term, i as u64 + 1))
        })
        .collect();
    let k = old.len() as u64;
    storage.append(&old).expect("append");
    let c0 = u64::from(commit_pick) % (k + 1);
    storage.set_hard_state(HardState {
        term: Term(term),
        voted_node: None,
        committed_index: Index(c0),
    });
    let mut node = block_on(Node::new(cfg(voters), storage)).expect("node");
    block_on(node.campaign()).expect("campaign");
    let leader_term = node.status().term;
    for v in 2..=voters {
        let vote = Message::new(
            NodeId(v),
            leader_term,
            NodeId(1),
            MessageVariant::RequestVoteResponse { granted: true },
        );
        block_on(node.step(vote)).expect("vote");
    }
    prop_assert_eq!(node.status().role, Role::Leader);
    drain(&mut node);
    let term_start = k + 1;
    prop_assert_eq!(
        node.status().persisted,
        key(leader_term.0, term_start),
        "the no-op is persisted"
    );
    let mut matched: BTreeMap<NodeId, u64> = (1..=voters).map(|v| (NodeId(v), 0)).collect();
    matched.insert(NodeId(1), term_start);
    let mut commit = c0;
    for &(follower, pick) in acks {
        let follower = NodeId((follower - 2) % (voters - 1) + 2);
        let ack = u64::from(pick) % (term_start + 1);
        let m = matched.entry(follower).or_default();
        *m = (*m).max(ack);
        let msg = Message::new(
            follower,
            leader_term,
            NodeId(1),
            MessageVariant::AppendEntriesResponse {
                outcome: AppendOutcome::Accepted {
                    matched: Index(ack),
                },
            },
        );
        block_on(node.step(msg)).expect("ack");
        drain(&mut node);
        let q = brute_quorum(&matched, voters as usize);
        if q >= term_start {
            commit = commit.max(q);
        }
        prop_assert_eq!(
            node.status().committed,
            Index(commit),
            "acks so far {:?}",
            matched
        );
        let on_own_term = commit == c0 || commit >= term_start;
        prop_assert!(on_own_term, "committed {} of an older term", commit);
    }
    Ok(())
}

proptest! {
    #![proptest_config(config(5_000, "proptest-regressions/proptest_units/current_term.txt"))]

    /// §5.4.2 (the Raft paper's figure 8): a new leader whose log holds `k`
    /// entries of older terms counts acknowledgements towards commitment only
    /// once they reach its own no-op at `k + 1`. Before that, its commit index
    /// stays where storage left it, even when a majority matched old entries.
    #[test]
    fn a_leader_commits_only_entries_of_its_own_term(
        voters in prop_oneof![Just(3u64), Just(5)],
        bumps in prop::collection::vec(0u8..=1, 1..=6),
        commit_pick in any::<u16>(),
        acks in prop::collection::vec((2u64..=5, any::<u16>()), 0..=20),
    ) {
        current_term_rule(voters, &bumps, commit_pick, &acks)?;
    }
}

// ------------------------------------------------- staleness and HardState

/// A term: small ones collide often; huge ones probe the edges.
fn term() -> impl Strategy<Value = u64> {
    prop_oneof![8 => 0u64..6, 1 => any::<u64>(), 1 => (u64::MAX - 2)..=u64::MAX]
}

fn hard_state() -> impl Strategy<Value = HardState> {
    (0u64..4, prop::option::of(1u64..=3), 0u64..4).prop_map(|(t, v, c)| HardState {
        term: Term(t),
        voted_node: v.map(NodeId),
        committed_index: Index(c),
    })
}

/// Whether `next` moves backwards from `prev`: a lower term, a lower commit
/// index, or a vote changed or forgotten within the term.
fn backwards(prev: &HardState, next: &HardState) -> bool {
    next.term < prev.term
        || next.committed_index < prev.committed_index
        || (next.term == prev.term
            && prev.voted_node.is_some()
            && next.voted_node != prev.voted_node)
}

fn term_gate(current: u64, sent: u64) -> Result<(), TestCaseError> {
    let mut storage = MemStorage::default();
    storage.set_hard_state(HardState {
        term: Term(current),
        voted_node: None,
        committed_index: Index(0),
    });
    let mut node = block_on(Node::new(cfg(3), storage)).expect("node");
    let before = node.clone();
    let msg = Message::new(
        NodeId(2),
        Term(sent),
        NodeId(1),
        MessageVariant::HeartbeatResponse { read: None },
    );
    let got = block_on(node.step(msg.clone()));
    if Term(sent) > Term::ACCEPTED_MAX {
        // Beyond any real cluster's terms: refused before the gate.
        let refused = Error::TermOutOfRange {
            src: NodeId(2),
            term: Term(sent),
        };
        prop_assert_eq!(got, Err(refused));
        prop_assert_eq!(&node, &before);
        return Ok(());
    }
    match msg.staleness(Term(current)) {
        Staleness::Local => {
            prop_assert_eq!(got, Err(Error::RemoteTermZero { src: NodeId(2) }));
            prop_assert_eq!(&node, &before);
        }
        Staleness::Stale => {
            let reason = DropReason::StaleTerm {
                term: Term(sent),
                current: Term(current),
            };
            prop_assert_eq!(got, Ok(StepOutcome::Dropped(reason)));
            prop_assert_eq!(&node, &before);
        }
        Staleness::Consistent => {
            prop_assert!(got.is_ok());
            prop_assert_eq!(node.status().term, Term(current));
        }
        Staleness::Fresh => {
            prop_assert!(got.is_ok());
            prop_assert_eq!(node.status().term, Term(sent));
            prop_assert_eq!(node.status().role, Role::Follower);
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(config(10_000, "proptest-regressions/proptest_units/staleness.txt"))]

    /// Local iff the term is 0, else the order of the two terms.
    #[test]
    fn staleness_is_the_order_of_terms(current in term(), sent in term(), src in 1u64..=3) {
        let ok = MessageVariant::HeartbeatResponse { read: None };
        let msg = Message::new(NodeId(src), Term(sent), NodeId(1), ok);
        let expected = if sent == 0 {
            Staleness::Local
        } else {
            match sent.cmp(&current) {
                std::cmp::Ordering::Less => Staleness::Stale,
                std::cmp::Ordering::Equal => Staleness::Consistent,
                std::cmp::Ordering::Greater => Staleness::Fresh,
            }
        };
        prop_assert_eq!(msg.staleness(Term(current)), expected);
    }

    /// A real node acts on the classification once: a remote term 0 is
    /// refused, a stale message dropped with the node unchanged, a consistent
    /// one leaves the term alone, a fresh one makes the node a follower of
    /// that term.
    #[test]
    fn the_term_gate_acts_on_staleness(current in term(), sent in term()) {
        term_gate(current, sent)?;
    }
}

proptest! {
    #![proptest_config(config(20_000, "proptest-regressions/proptest_units/hard_state.txt"))]

    /// `may_become` refuses exactly the moves that go backwards.
    #[test]
    fn may_become_refuses_exactly_the_backward_moves(a in hard_state(), b in hard_state()) {
        prop_assert_eq!(a.may_become(&b), !backwards(&a, &b), "{} -> {}", a, b);
        prop_assert!(a.may_become(&a));
    }

    /// Two allowed moves make an allowed move: checking each Ready against the
    /// previous one checks the whole history.
    #[test]
    fn may_become_is_transitive(a in hard_state(), b in hard_state(), c in hard_state()) {
        if a.may_become(&b) && b.may_become(&c) {
            prop_assert!(a.may_become(&c), "{} -> {} -> {}", a, b, c);
        }
    }
}

// ------------------------------------------------- HardStates in successive Readys

/// Input to a single node n1 of {n1, n2, n3}: anything its peers could send
/// (whether or not a real peer would), its timer, client commands, and crashes.
#[derive(Clone, Debug)]
enum Input {
    Tick(u8),
    Propose,
    /// A message from n2 or n3 in a term near n1's.
    Peer {
        src: u64,
        term_delta: i8,
        body: Body,
    },
    /// The Ready in hand is lost with the volatile state; restart from disk.
    Crash,
    /// The next Ready's write is slow: it completes at the next `Hold`, and
    /// a `Crash` before then loses it.
    Hold,
}

#[derive(Clone, Debug)]
enum Body {
    RequestVote {
        last: (u64, u64),
    },
    Vote {
        granted: bool,
    },
    Append {
        prev_back: u8,
        terms: Vec<u8>,
        commit: u64,
    },
    Ack {
        matched: u64,
    },
    Reject {
        rejected: u64,
        hint: (u64, u64),
    },
    Heartbeat {
        commit: u64,
    },
    HeartbeatOk,
}

fn input() -> impl Strategy<Value = Input> {
    let body = prop_oneof![
        (0u64..6, 0u64..8).prop_map(|last| Body::RequestVote { last }),
        any::<bool>().prop_map(|granted| Body::Vote { granted }),
        (0u8..4, prop::collection::vec(0u8..=1, 0..=3), 0u64..8).prop_map(
            |(prev_back, terms, commit)| Body::Append {
                prev_back,
                terms,
                commit
            }
        ),
        (0u64..8).prop_map(|matched| Body::Ack { matched }),
        (0u64..8, (0u64..6, 0u64..8)).prop_map(|(rejected, hint)| Body::Reject { rejected, hint }),
        (0u64..8).prop_map(|commit| Body::Heartbeat { commit }),
        Just(Body::HeartbeatOk),
    ];
    prop_oneof![
        3 => (1u8..=6).prop_map(Input::Tick),
        1 => Just(Input::Propose),
        6 => (2u64..=3, -1i8..=2, body)
            .prop_map(|(src, term_delta, body)| Input::Peer { src, term_delta, body }),
        1 => Just(Input::Crash),
        1 => Just(Input::Hold),
    ]
}

/// The message `body` from `src` in `term`, shaped after n1's log where that
/// makes it acceptable (an append's `prev` is one of n1's entries).
fn peer_message(node: &Node<MemStorage>, src: u64, term: Term, body: &Body) -> Message {
    let last = node.status().last;
    let variant = match body {
        Body::RequestVote { last } => MessageVariant::RequestVote {
            last: key(last.0, last.1),
            transfer: false,
        },
        Body::Vote { granted } => MessageVariant::RequestVoteResponse { granted: *granted },
        Body::Append {
            prev_back,
            terms,
            commit,
        } => {
            let prev_index = last.index.0.saturating_sub(u64::from(*prev_back));
            let prev_term = node
                .log()
                .iter()
                .nth((prev_index as usize).wrapping_sub(1))
                .map_or(Term(0), |e| e.key.term);
            let mut t = prev_term.0;
            let entries = terms
                .iter()
                .enumerate()
                .map(|(i, bump)| {
                    t = (t + u64::from(*bump)).clamp(1, term.0.max(1));
                    entry(key(t, prev_index + i as u64 + 1))
                })
                .collect();
            MessageVariant::AppendEntries {
                prev: key(prev_term.0, prev_index),
                entries,
                commit: Index(*commit),
            }
        }
        Body::Ack { matched } => MessageVariant::AppendEntriesResponse {
            outcome: AppendOutcome::Accepted {
                matched: Index(*matched),
            },
        },
        Body::Reject { rejected, hint } => MessageVariant::AppendEntriesResponse {
            outcome: AppendOutcome::Rejected {
                rejected: Index(*rejected),
                hint: key(hint.0, hint.1),
            },
        },
        Body::Heartbeat { commit } => MessageVariant::Heartbeat {
            commit: Index(*commit),
            read: None,
        },
        Body::HeartbeatOk => MessageVariant::HeartbeatResponse { read: None },
    };
    Message::new(NodeId(src), term, NodeId(1), variant)
}

/// n1 and its Ready loop, which checks every HardState handed out against
/// the previous one.
struct Single {
    node: Node<MemStorage>,
    /// The last HardState handed out in this incarnation (or read from disk).
    handed: HardState,
    held: Option<Ready>,
    hold_next: bool,
}

impl Single {
    fn carry_out(&mut self, rd: Ready) {
        self.node.storage_mut().persist(&rd).expect("persist");
        self.node.advance(rd);
    }

    fn pump(&mut self) -> Result<(), TestCaseError> {
        while self.held.is_none() && self.node.has_ready() {
            let rd = block_on(self.node.ready()).expect("ready");
            if let Some(hs) = rd.hard_state {
                prop_assert!(
                    self.handed.may_become(&hs),
                    "Ready hands out {} after {}",
                    hs,
                    self.handed
                );
                self.handed = hs;
            }
            if std::mem::take(&mut self.hold_next) {
                self.held = Some(rd);
            } else {
                self.carry_out(rd);
            }
        }
        Ok(())
    }
}

fn ready_hard_states(inputs: &[Input]) -> Result<(), TestCaseError> {
    let node = block_on(Node::new(cfg(3), MemStorage::default())).expect("node");
    let mut s = Single {
        node,
        handed: HardState::default(),
        held: None,
        hold_next: false,
    };
    for input in inputs {
        match input {
            Input::Tick(n) => {
                for _ in 0..*n {
                    block_on(s.node.tick()).expect("tick");
                }
            }
            Input::Propose => {
                let before = s.node.clone();
                if block_on(s.node.propose("x".into())).is_err() {
                    prop_assert_eq!(&s.node, &before);
                }
            }
            Input::Peer {
                src,
                term_delta,
                body,
            } => {
                let now = s.node.status().term.0;
                let term = Term(now.saturating_add_signed(i64::from(*term_delta)).max(1));
                let msg = peer_message(&s.node, *src, term, body);
                let before = s.node.clone();
                if let Err(e) = block_on(s.node.step(msg.clone())) {
                    prop_assert!(!matches!(e, Error::Storage(_)), "{}: {:?}", msg, e);
                    prop_assert_eq!(&s.node, &before, "refusing {} changed n1", msg);
                }
            }
            Input::Crash => {
                let storage = s.node.storage().clone();
                s.handed = storage.hard_state();
                s.held = None;
                s.node = block_on(Node::new(cfg(3), storage)).expect("restart from disk");
            }
            Input::Hold => {
                if let Some(rd) = s.held.take() {
                    s.carry_out(rd);
                } else {
                    s.hold_next = true;
                }
            }
        }
        s.pump()?;
    }
    Ok(())
}

proptest! {
    #![proptest_config(config(5_000, "proptest-regressions/proptest_units/readys.txt"))]

    /// Whatever n1 is fed (votes, appends, acks and heartbeats from peers in
    /// terms around its own, ticks, proposals, crashes with a write in
    /// flight), each HardState it hands out may follow the previous one, and
    /// after a restart the first one may follow what is on disk. A refused
    /// input leaves the node unchanged.
    #[test]
    fn successive_ready_hard_states_only_move_forward(
        inputs in prop::collection::vec(input(), 0..=80),
    ) {
        ready_hard_states(&inputs)?;
    }
}

// ------------------------------------------------- LogView with compaction against a Vec

/// An operation on a `LogView<MemStorage>` and its storage, as a follower
/// node and its application would perform them. Numbers are resolved
/// against the model's state, so every operation meets the contracts: the
/// leader's entries never replace committed ones, a snapshot covers only
/// committed and persisted entries, one write is in flight at a time and
/// completes in order (snapshot, entries, then the acknowledgements).
#[derive(Clone, Debug)]
enum ViewOp {
    /// The leader appends after its last entry, with term increments `bumps`.
    Local { bumps: Vec<u8> },
    /// A leader's entries after an uncommitted, uncompacted `prev`: the
    /// first `keep` copy the log, then `bumps` (possibly conflicting).
    Leader { at: u16, keep: u8, bumps: Vec<u8> },
    /// The commit index moves up, at most to the persisted log.
    Commit { pick: u16 },
    /// Hand out the unpersisted snapshot and entries (the write begins).
    Take,
    /// The write in flight completes and is acknowledged.
    Write,
    /// The application snapshots storage at a committed index and compacts
    /// up to an index at or below the snapshot's (no leader snapshot pending).
    Compact { snap: u16, upto: u16 },
    /// A leader's snapshot beyond the commit index replaces the log.
    Restore { ahead: u8, bump: u8 },
}

fn view_op() -> impl Strategy<Value = ViewOp> {
    prop_oneof![
        4 => prop::collection::vec(0u8..=1, 1..=3).prop_map(|bumps| ViewOp::Local { bumps }),
        3 => (any::<u16>(), 0u8..=3, prop::collection::vec(0u8..=1, 0..=3))
            .prop_map(|(at, keep, bumps)| ViewOp::Leader { at, keep, bumps }),
        3 => any::<u16>().prop_map(|pick| ViewOp::Commit { pick }),
        3 => Just(ViewOp::Take),
        3 => Just(ViewOp::Write),
        3 => (any::<u16>(), any::<u16>()).prop_map(|(snap, upto)| ViewOp::Compact { snap, upto }),
        1 => (0u8..=4, 0u8..=2).prop_map(|(ahead, bump)| ViewOp::Restore { ahead, bump }),
    ]
}

/// The naive twin: the whole log as a vector (index `i` at `log[i - 1]`;
/// keys below `first - 1` are compacted and never read), where it is
/// persisted and handed out up to, the commit index, a leader's snapshot
/// not yet persisted, and the write in flight.
struct ViewModel {
    log: Vec<EntryKey>,
    first: u64,
    stable: u64,
    handed: u64,
    commit: u64,
    /// A restored snapshot's key and whether it was handed out.
    unstable: Option<(EntryKey, bool)>,
    writing: Option<(Option<ruft::Snapshot>, Vec<Entry>)>,
}

impl ViewModel {
    fn len(&self) -> u64 {
        self.log.len() as u64
    }

    fn key_at(&self, index: u64) -> EntryKey {
        if index == 0 {
            key(0, 0)
        } else {
            self.log[index as usize - 1]
        }
    }

    fn compacted(&self, index: u64) -> ruft::StorageError {
        ruft::StorageError::Compacted {
            index: Index(index),
            first: Index(self.first),
        }
    }

    /// What `term(i)` must answer.
    fn term(&self, i: u64) -> Result<Option<Term>, ruft::StorageError> {
        if i > self.len() {
            Ok(None)
        } else if i + 1 < self.first {
            Err(self.compacted(i))
        } else {
            Ok(Some(self.key_at(i).term))
        }
    }

    /// What `entries(lo, hi, max)` must answer.
    fn entries(&self, lo: u64, hi: u64, max: usize) -> Result<Vec<Entry>, ruft::StorageError> {
        let hi = hi.min(self.len() + 1).min(lo.saturating_add(max as u64));
        if lo >= hi {
            return Ok(Vec::new());
        }
        if lo < self.first {
            return Err(self.compacted(lo));
        }
        Ok((lo..hi).map(|i| entry(self.key_at(i))).collect())
    }

    /// `last_key_at_or_below` by brute force: the highest index in
    /// `[first - 1, index]` whose term is at most `term`, else `first - 1`.
    fn last_key_at_or_below(&self, index: u64, term: u64) -> EntryKey {
        let floor = self.first - 1;
        let start = index.min(self.len()).max(floor);
        (floor..=start)
            .rev()
            .map(|i| self.key_at(i))
            .find(|k| k.term.0 <= term)
            .unwrap_or(self.key_at(floor))
    }

    /// The log after a leader's `new` entries: those it already holds are
    /// skipped; from the first other one on, the log is replaced.
    fn accept(&mut self, new: &[EntryKey]) {
        let Some(head) = new
            .iter()
            .position(|k| k.index.0 > self.len() || self.key_at(k.index.0) != *k)
        else {
            return;
        };
        let from = new[head].index.0;
        self.log.truncate(from as usize - 1);
        self.log.extend_from_slice(&new[head..]);
        self.stable = self.stable.min(from - 1);
        self.handed = self.handed.min(from - 1);
    }
}

/// Every read of the view agrees with the model.
fn same_view(
    v: &LogView<MemStorage>,
    m: &ViewModel,
    probes: &[(u64, u64, u8)],
) -> Result<(), TestCaseError> {
    prop_assert_eq!(v.last(), m.key_at(m.len()));
    prop_assert_eq!(v.persisted(), m.key_at(m.stable));
    prop_assert_eq!(block_on(v.first_index()), Ok(Index(m.first)));
    let pending = m.handed < m.len() || m.unstable.is_some_and(|(_, handed)| !handed);
    prop_assert_eq!(v.has_unpersisted(), pending);
    let snapshot = block_on(v.snapshot()).expect("snapshot");
    if let Some((k, _)) = m.unstable {
        prop_assert_eq!(snapshot.key(), k);
    }
    prop_assert!(
        snapshot.index().0 + 1 >= m.first,
        "the snapshot covers the compacted prefix"
    );
    for i in 0..=m.len() + 2 {
        prop_assert_eq!(block_on(v.term(Index(i))), m.term(i), "term at {}", i);
    }
    for &(lo, hi, max) in probes {
        let max = usize::from(max);
        let got = block_on(v.entries(Index(lo), Index(hi), max));
        prop_assert_eq!(
            got,
            m.entries(lo, hi, max),
            "entries [{}, {}) max {}",
            lo,
            hi,
            max
        );
        let got = block_on(v.last_key_at_or_below(Index(lo), Term(hi % 5)));
        let want = m.last_key_at_or_below(lo, hi % 5);
        prop_assert_eq!(got, Ok(want), "last key at or below {}@{}", lo, hi % 5);
    }
    Ok(())
}

/// Creates entry keys as Raft's leaders do: each key once, so that two
/// entries with the same key have the same history (Log Matching, §5.3). A
/// key created before gets a term no entry had yet instead.
#[derive(Default)]
struct Mint {
    created: BTreeSet<EntryKey>,
    max_term: u64,
}

impl Mint {
    fn mint(&mut self, term: u64, index: u64) -> EntryKey {
        let term = if self.created.contains(&key(term, index)) {
            self.max_term + 1
        } else {
            term
        };
        self.max_term = self.max_term.max(term);
        let k = key(term, index);
        self.created.insert(k);
        k
    }

    /// New keys after `prev` with term increments `bumps`, never below term 1.
    fn following(&mut self, prev: EntryKey, bumps: &[u8]) -> Vec<EntryKey> {
        let mut term = prev.term.0.max(1);
        let mut index = prev.index.0;
        bumps
            .iter()
            .map(|bump| {
                index += 1;
                let k = self.mint(term + u64::from(*bump), index);
                term = k.term.0;
                k
            })
            .collect()
    }
}

fn run_view(
    initial: &[u8],
    commit_pick: u16,
    snap_pick: u16,
    ops: &[ViewOp],
    probes: &[(u64, u64, u8)],
) -> Result<(), TestCaseError> {
    // Storage as a restarted node finds it: a persisted log, part of it
    // committed, and maybe compacted under a snapshot.
    let mut mint = Mint::default();
    let log = mint.following(key(0, 0), initial);
    let mut storage = MemStorage::default();
    storage
        .append(&log.iter().copied().map(entry).collect::<Vec<_>>())
        .expect("append");
    let len = log.len() as u64;
    let commit = u64::from(commit_pick) % (len + 1);
    storage.set_hard_state(HardState {
        term: Term(1),
        voted_node: None,
        committed_index: Index(commit),
    });
    let snap = u64::from(snap_pick) % (commit + 1);
    if snap > 0 {
        storage
            .create_snapshot(
                Index(snap),
                &ruft::Membership::simple([NodeId(1)]).unwrap(),
                "s",
            )
            .expect("snapshot");
        storage.compact(Index(snap)).expect("compact");
    }
    let mut v = block_on(LogView::open(storage)).expect("open");
    let mut m = ViewModel {
        log,
        first: snap + 1,
        stable: len,
        handed: len,
        commit,
        unstable: None,
        writing: None,
    };
    same_view(&v, &m, probes)?;
    for op in ops {
        match op {
            ViewOp::Local { bumps } => {
                let new = mint.following(m.key_at(m.len()), bumps);
                v.append_local(&new.iter().copied().map(entry).collect::<Vec<_>>());
                m.log.extend(new);
            }
            ViewOp::Leader { at, keep, bumps } => {
                let low = m.commit.max(m.first - 1);
                let p = low + u64::from(*at) % (m.len() - low + 1);
                let kept = (p + 1..=(p + u64::from(*keep)).min(m.len())).map(|i| m.key_at(i));
                let mut new: Vec<EntryKey> = kept.collect();
                let tail = *new.last().unwrap_or(&m.key_at(p));
                new.extend(mint.following(tail, bumps));
                let entries: Vec<Entry> = new.iter().copied().map(entry).collect();
                block_on(v.append_from_leader(m.key_at(p), &entries)).expect("append from leader");
                m.accept(&new);
            }
            ViewOp::Commit { pick } => {
                m.commit += u64::from(*pick) % (m.stable - m.commit + 1);
            }
            ViewOp::Take => {
                if m.writing.is_some() {
                    continue;
                }
                let snapshot = v.take_unpersisted_snapshot();
                let want = m.unstable.filter(|(_, handed)| !handed).map(|(k, _)| k);
                prop_assert_eq!(snapshot.as_ref().map(ruft::Snapshot::key), want);
                if let Some((_, handed)) = &mut m.unstable {
                    *handed = true;
                }
                let entries = v.take_unpersisted();
                let from = m.handed.max(m.stable);
                let want: Vec<Entry> = (from + 1..=m.len()).map(|i| entry(m.key_at(i))).collect();
                prop_assert_eq!(&entries, &want);
                m.handed = m.len();
                m.writing = Some((snapshot, entries));
            }
            ViewOp::Write => {
                let Some((snapshot, entries)) = m.writing.take() else {
                    continue;
                };
                if let Some(s) = &snapshot {
                    v.storage_mut()
                        .apply_snapshot(s.clone())
                        .expect("apply snapshot");
                }
                v.storage_mut().append(&entries).expect("append");
                if let Some(s) = &snapshot {
                    v.on_snapshot_persisted(s.key());
                    if m.unstable.is_some_and(|(k, _)| k == s.key()) {
                        m.unstable = None;
                    }
                }
                if let Some(last) = entries.last() {
                    v.on_persisted(last.key);
                    let i = last.index().0;
                    // Persisted only if that very entry is still in the log.
                    if i > m.stable && i <= m.len() && m.key_at(i) == last.key {
                        m.stable = i;
                    }
                }
            }
            ViewOp::Compact { snap, upto } => {
                if m.unstable.is_some() {
                    continue; // the application waits until the leader's snapshot is written
                }
                let s = v.storage_mut();
                s.set_hard_state(HardState {
                    term: Term(1),
                    voted_node: None,
                    committed_index: Index(m.commit),
                });
                let current = s.stored_snapshot().index().0;
                let mut covered = current;
                if m.commit > current {
                    let at = current + 1 + u64::from(*snap) % (m.commit - current);
                    let made = s
                        .create_snapshot(
                            Index(at),
                            &ruft::Membership::simple([NodeId(1)]).unwrap(),
                            "s",
                        )
                        .expect("snapshot");
                    prop_assert_eq!(made.key(), m.key_at(at));
                    covered = at;
                }
                let upto = u64::from(*upto) % (covered + 1);
                s.compact(Index(upto)).expect("compact");
                m.first = m.first.max(upto + 1);
            }
            ViewOp::Restore { ahead, bump } => {
                let index = m.commit + 1 + u64::from(*ahead);
                let base = m.key_at(m.commit.min(m.len())).term.0.max(1);
                let k = mint.mint(base + u64::from(*bump), index);
                v.restore(ruft::Snapshot::new(k, [NodeId(1)], "r"));
                m.log.resize(index as usize - 1, key(0, 0));
                m.log.push(k);
                m.first = index + 1;
                m.stable = index;
                m.handed = index;
                m.commit = index;
                m.unstable = Some((k, false));
            }
        }
        same_view(&v, &m, probes)?;
    }
    Ok(())
}

proptest! {
    #![proptest_config(config(5_000, "proptest-regressions/proptest_units/log_view.txt"))]

    /// A `LogView` over `MemStorage`, through appends (the leader's own and
    /// a leader's, conflicting ones included), writes, compactions and
    /// restored snapshots, reads exactly like a plain vector of the log:
    /// terms and entries below the first index are `Compacted` (never term
    /// 0), everything from the index before it up to the last is there, and
    /// the backtracking target never goes below the compaction point.
    #[test]
    fn log_view_with_compaction_matches_a_vec(
        initial in prop::collection::vec(0u8..=1, 0..=5),
        commit_pick in any::<u16>(),
        snap_pick in any::<u16>(),
        ops in prop::collection::vec(view_op(), 0..=40),
        probes in prop::collection::vec((0u64..16, 0u64..16, 0u8..6), 4),
    ) {
        run_view(&initial, commit_pick, snap_pick, &ops, &probes)?;
    }
}
