//! The pending-read bookkeeping of ReadIndex (`ruft::read_only::ReadOnly`)
//! against a brute-force twin that keeps the whole history: every read ever
//! registered and every heartbeat answer ever received.
//!
//! The twin's rule is the thesis's (§6.4), stated directly: a read is
//! confirmed once some read registered at or after it has answers from a
//! quorum (the leader's own included), where an answer counts for a read
//! only if it arrived after the read was registered and echoes that read's
//! number or a later one, i.e. it answers a heartbeat sent after the read
//! was registered. Over arbitrary
//! interleavings of reads (held back or registered), answers (echoing old,
//! current or future numbers, from voters and strangers) and step-downs,
//! `ReadOnly` releases exactly the reads the twin says are confirmed, in
//! order, each with the index recorded when it arrived, and counts exactly
//! the context bytes it holds.
//!
//! 10,000 cases, well under a second in `cargo test --release`;
//! `RUFT_PROPTEST_SCALE=k` multiplies the count.

use proptest::prelude::*;
use proptest::test_runner::{Config as ProptestConfig, FileFailurePersistence};
use ruft::read_only::{ReadOnly, ReadRequest};
use ruft::{Index, NodeId, ReadSeq};
use std::collections::BTreeSet;

/// The leader; voters are n1..=n5 of which the first `size` vote.
const ME: NodeId = NodeId(1);

#[derive(Clone, Debug)]
enum Op {
    /// A read arrives with a context of this many bytes; `held` while the
    /// leader has not committed in its term.
    Read { ctx_len: u8, held: bool },
    /// The leader commits in its term: held reads are registered.
    Commit,
    /// Node `from` answers a heartbeat that carried the read number
    /// `newest - back` (or `newest + 1` for `back == 0` and `ahead`).
    Answer { from: u64, back: u8, ahead: bool },
    /// The commit index advances.
    Advance,
    /// The leader steps down: everything held is dropped.
    StepDown,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => (0u8..4, any::<bool>()).prop_map(|(ctx_len, held)| Op::Read { ctx_len, held }),
        1 => Just(Op::Commit),
        6 => (1u64..=6, 0u8..3, prop::bool::weighted(0.1))
            .prop_map(|(from, back, ahead)| Op::Answer { from, back, ahead }),
        2 => Just(Op::Advance),
        1 => Just(Op::StepDown),
    ]
}

/// The twin: the whole history, judged from scratch.
#[derive(Default)]
struct Twin {
    /// Every registered read not yet released: number, index, context, and
    /// how many answers had arrived before it was registered.
    registered: Vec<(ReadSeq, Index, Vec<u8>, usize)>,
    /// Held-back reads, in arrival order.
    held: Vec<Vec<u8>>,
    /// Every answer since the leader took office: (from, echoed number).
    answers: Vec<(NodeId, ReadSeq)>,
    next: u64,
}

impl Twin {
    fn register(&mut self, ctx: Vec<u8>, index: Index) {
        self.next += 1;
        let since = self.answers.len();
        self.registered
            .push((ReadSeq(self.next), index, ctx, since));
    }

    /// Releases every read some later-or-equal read of which a quorum answered.
    fn release(&mut self, voters: &BTreeSet<NodeId>) -> Vec<(Vec<u8>, Index)> {
        let quorum = voters.len() / 2 + 1;
        // Answers that arrived after the read and echo its number or a later one.
        let confirmed = |seq: ReadSeq, since: usize| {
            let mut acks: BTreeSet<NodeId> = BTreeSet::from([ME]);
            let after = self.answers[since..].iter().filter(|a| a.1 >= seq);
            acks.extend(after.map(|a| a.0));
            acks.intersection(voters).count() >= quorum
        };
        let last = self.registered.iter().rposition(|r| confirmed(r.0, r.3));
        let n = last.map_or(0, |i| i + 1);
        self.registered
            .drain(..n)
            .map(|(_, index, ctx, _)| (ctx, index))
            .collect()
    }

    fn bytes(&self) -> usize {
        let held: usize = self.held.iter().map(Vec::len).sum();
        let registered: usize = self.registered.iter().map(|r| r.2.len()).sum();
        held + registered
    }
}

fn run(size: u64, ops: Vec<Op>) -> Result<(), TestCaseError> {
    let voters: BTreeSet<NodeId> = (1..=size).map(NodeId).collect();
    let quorum = voters.len() / 2 + 1;
    let has_quorum = |acks: &BTreeSet<NodeId>| acks.intersection(&voters).count() >= quorum;
    let mut reads = ReadOnly::default();
    let mut twin = Twin::default();
    let mut commit = Index(1);
    let mut made = 0u8;
    for op in ops {
        let mut released = Vec::new();
        let mut expected = Vec::new();
        match op {
            Op::Read { ctx_len, held } => {
                made = made.wrapping_add(1);
                let ctx = vec![made; usize::from(ctx_len)];
                let request = ReadRequest {
                    ctx: ctx.clone().into(),
                    from: ME,
                };
                if held {
                    reads.postpone(request);
                    twin.held.push(ctx);
                } else {
                    let seq = reads.add(request, commit, ME);
                    twin.register(ctx, commit);
                    prop_assert_eq!(seq, ReadSeq(twin.next));
                    released = reads.ack(ME, seq, has_quorum);
                    expected = twin.release(&voters);
                }
            }
            Op::Commit => {
                for request in reads.take_waiting() {
                    let seq = reads.add(request, commit, ME);
                    released.extend(reads.ack(ME, seq, has_quorum));
                }
                for ctx in std::mem::take(&mut twin.held) {
                    twin.register(ctx, commit);
                }
                expected = twin.release(&voters);
            }
            Op::Answer { from, back, ahead } => {
                let newest = reads.newest().unwrap_or_default();
                prop_assert!(twin.registered.last().is_none_or(|r| r.0 == newest));
                let seq = if ahead {
                    newest.next()
                } else {
                    ReadSeq(newest.0.saturating_sub(u64::from(back)))
                };
                released = reads.ack(NodeId(from), seq, has_quorum);
                twin.answers.push((NodeId(from), seq));
                expected = twin.release(&voters);
            }
            Op::Advance => commit = Index(commit.0 + 1),
            Op::StepDown => {
                let dropped = reads.clear();
                let twin_count = twin.held.len() + twin.registered.len();
                prop_assert_eq!(dropped.len(), twin_count);
                twin = Twin {
                    next: 0,
                    ..Twin::default()
                };
                reads = ReadOnly::default(); // a new leadership starts afresh
            }
        }
        let released: Vec<(Vec<u8>, Index)> = released
            .into_iter()
            .map(|(r, i)| (r.ctx.to_vec(), i))
            .collect();
        prop_assert_eq!(&released, &expected);
        prop_assert_eq!(reads.bytes(), twin.bytes());
        prop_assert_eq!(reads.len(), twin.held.len() + twin.registered.len());
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: ruft_models::budget::cases(10_000),
        failure_persistence: Some(Box::new(FileFailurePersistence::Direct(
            "proptest-regressions/proptest_read_only/twin.txt",
        ))),
        ..ProptestConfig::default()
    })]

    #[test]
    fn read_only_releases_what_the_brute_force_twin_confirms(
        size in 1u64..=5,
        ops in prop::collection::vec(op(), 0..60),
    ) {
        run(size, ops)?;
    }
}
