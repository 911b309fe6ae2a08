//! The log view's unit tests: reads across storage and buffer, the byte
//! budget of a read, appends from a leader and backtracking.

use super::*;
use crate::{MemStorage, Term};
use futures::executor::block_on;

fn k(term: u64, index: u64) -> EntryKey {
    EntryKey::new(Term(term), Index(index))
}

fn es(keys: &[(u64, u64)]) -> Vec<Entry> {
    keys.iter().map(|&(t, i)| Entry::empty(k(t, i))).collect()
}

/// Storage holds 1@1 2@1 3@2; the buffer holds 4@2 5@3.
fn view() -> LogView<MemStorage> {
    let mut s = MemStorage::default();
    s.append(&es(&[(1, 1), (1, 2), (2, 3)])).unwrap();
    let mut v = block_on(LogView::open(s)).unwrap();
    v.append_local(&es(&[(2, 4), (3, 5)]));
    v
}

#[test]
fn reads_span_storage_and_buffer() {
    let v = view();
    assert_eq!(v.last(), k(3, 5));
    assert_eq!(v.persisted(), k(2, 3));
    assert_eq!(block_on(v.term(Index(2))), Ok(Some(Term(1))));
    assert_eq!(block_on(v.term(Index(5))), Ok(Some(Term(3))));
    assert_eq!(block_on(v.term(Index(6))), Ok(None));
    let got = block_on(v.entries(Index(2), Index(9), 3)).unwrap();
    assert_eq!(got, es(&[(1, 2), (2, 3), (2, 4)]));
}

#[test]
fn byte_limits_always_let_the_first_entry_through() {
    let mut s = MemStorage::default();
    let big = |i| Entry::normal(k(1, i), vec![0u8; 10]);
    s.append(&[big(1), big(2), big(3)]).unwrap();
    let mut v = block_on(LogView::open(s)).unwrap();
    v.append_local(&[big(4)]);
    let read = |count_max, bytes_max| {
        let limit = Limit {
            count_max,
            bytes_max,
        };
        let got = block_on(v.entries_within(Index(1), Index(9), limit)).unwrap();
        got.iter().map(|e| e.index().0).collect::<Vec<_>>()
    };
    assert_eq!(read(9, 0), vec![1], "one oversized entry still goes");
    assert_eq!(read(9, 25), vec![1, 2]);
    assert_eq!(read(9, 40), vec![1, 2, 3, 4], "storage, then the buffer");
    assert_eq!(read(3, 40), vec![1, 2, 3]);
}

/// A read longer than one storage read ([`READ_CHUNK`] entries) goes on
/// in reads sized by the byte budget left, to the end or to the budget.
#[test]
fn a_long_read_goes_on_past_the_first_chunk() {
    let n = 2 * READ_CHUNK as u64 + 10;
    let mut s = MemStorage::default();
    let three = |i| Entry::normal(k(1, i), vec![0u8; 3]);
    s.append(&(1..=n).map(three).collect::<Vec<_>>()).unwrap();
    let v = block_on(LogView::open(s)).unwrap();
    let read = |bytes_max| {
        let limit = Limit {
            count_max: usize::MAX,
            bytes_max,
        };
        block_on(v.entries_within(Index(1), Index(n + 1), limit)).unwrap()
    };
    let all = read(usize::MAX);
    assert_eq!(
        (all.len(), all.last().map(Entry::index)),
        (n as usize, Some(Index(n)))
    );
    assert_eq!(read(3 * (READ_CHUNK + 100)).len(), READ_CHUNK + 100);
}

/// Storage that records the range of every entry read it is asked for.
struct Counting {
    inner: MemStorage,
    reads: std::sync::Mutex<Vec<(u64, u64)>>,
}

#[async_trait::async_trait]
impl LogStorage for Counting {
    async fn initial_state(&self) -> crate::StorageResult<crate::HardState> {
        self.inner.initial_state().await
    }
    async fn first_index(&self) -> crate::StorageResult<Index> {
        self.inner.first_index().await
    }
    async fn last_index(&self) -> crate::StorageResult<Index> {
        self.inner.last_index().await
    }
    async fn term(&self, index: Index) -> crate::StorageResult<Term> {
        self.inner.term(index).await
    }
    async fn entries(&self, low: Index, high: Index) -> crate::StorageResult<Vec<Entry>> {
        self.reads.lock().unwrap().push((low.0, high.0));
        self.inner.entries(low, high).await
    }
    async fn snapshot(&self) -> crate::StorageResult<crate::Snapshot> {
        self.inner.snapshot().await
    }
}

/// A view over `n` stored entries of `size` bytes each, counting reads.
fn counted(n: u64, size: usize) -> LogView<Counting> {
    let mut s = MemStorage::default();
    let sized = |i| Entry::normal(k(1, i), vec![0u8; size]);
    s.append(&(1..=n).map(sized).collect::<Vec<_>>()).unwrap();
    let counting = Counting {
        inner: s,
        reads: std::sync::Mutex::new(Vec::new()),
    };
    block_on(LogView::open(counting)).unwrap()
}

#[test]
fn the_second_read_asks_for_what_the_budget_left_holds() {
    let chunk = READ_CHUNK as u64;
    let v = counted(chunk + 20_000, 10);
    // Room for the first chunk and 10,000 more entries of 10 bytes.
    let limit = Limit {
        count_max: usize::MAX,
        bytes_max: 10 * (READ_CHUNK + 10_000),
    };
    let got = block_on(v.entries_within(Index(1), Index(chunk + 20_001), limit)).unwrap();
    assert_eq!(got.len(), READ_CHUNK + 10_000);
    // After 4,096 entries of 10 bytes, 100,000 bytes are left: the second
    // read asks for 10,001 entries (one more than fit, to know it is full),
    // not for a doubled chunk nor for everything stored.
    let reads = v.storage.reads.lock().unwrap().clone();
    assert_eq!(
        reads,
        vec![(1, chunk + 1), (chunk + 1, chunk + 10_002)],
        "a large budget is read in two calls sized by the average entry"
    );
}

#[test]
fn with_no_byte_bound_the_reads_double() {
    let chunk = READ_CHUNK as u64;
    let v = counted(8 * chunk, 1);
    let unbounded = Limit {
        count_max: usize::MAX,
        bytes_max: usize::MAX,
    };
    let got = block_on(v.entries_within(Index(1), Index(8 * chunk + 1), unbounded)).unwrap();
    assert_eq!(got.len(), 8 * READ_CHUNK);
    let reads = v.storage.reads.lock().unwrap().clone();
    assert_eq!(
        reads,
        vec![(1, chunk + 1), (chunk + 1, 8 * chunk + 1)],
        "the budget left holds everything: the second read takes the rest"
    );
}

#[test]
fn a_read_ends_at_the_first_entry_that_does_not_fit() {
    let mut s = MemStorage::default();
    let sized = |i, size| Entry::normal(k(1, i), vec![0u8; size]);
    s.append(&[sized(1, 10), sized(2, 10), sized(3, 100)])
        .unwrap();
    let mut v = block_on(LogView::open(s)).unwrap();
    v.append_local(&[sized(4, 1)]);
    let limit = Limit {
        count_max: usize::MAX,
        bytes_max: 25,
    };
    let got = block_on(v.entries_within(Index(1), Index(5), limit)).unwrap();
    let indexes: Vec<Index> = got.iter().map(Entry::index).collect();
    assert_eq!(
        indexes,
        vec![Index(1), Index(2)],
        "entry 4 would fit, but after 3 it would leave a gap"
    );
}

#[test]
fn in_memory_iteration_sees_storage_then_buffer() {
    let v = view();
    let keys: Vec<EntryKey> = v.iter().map(|e| e.key).collect();
    assert_eq!(keys, vec![k(1, 1), k(1, 2), k(2, 3), k(2, 4), k(3, 5)]);
}

#[test]
fn leader_entries_already_held_are_skipped() {
    let mut v = view();
    let r = block_on(v.append_from_leader(k(1, 2), &es(&[(2, 3), (2, 4)]))).unwrap();
    assert_eq!(r, None);
    assert_eq!(
        v.last(),
        k(3, 5),
        "a stale append never truncates a matching log"
    );
}

#[test]
fn a_conflict_replaces_the_suffix_and_hides_storage() {
    let mut v = view();
    let r = block_on(v.append_from_leader(k(1, 1), &es(&[(1, 2), (4, 3)]))).unwrap();
    let r = r.unwrap();
    assert_eq!(
        (r.case, r.from, r.truncated),
        (AppendCase::Replace, Index(3), true)
    );
    assert_eq!(v.last(), k(4, 3));
    assert_eq!(block_on(v.term(Index(3))), Ok(Some(Term(4))));
    assert_eq!(v.take_unpersisted(), es(&[(4, 3)]));
}

#[test]
fn backtracking_target_skips_whole_terms() {
    let v = view();
    assert_eq!(
        block_on(v.last_key_at_or_below(Index(5), Term(2))),
        Ok(k(2, 4))
    );
    assert_eq!(
        block_on(v.last_key_at_or_below(Index(5), Term(1))),
        Ok(k(1, 2))
    );
    assert_eq!(
        block_on(v.last_key_at_or_below(Index(9), Term(0))),
        Ok(k(0, 0))
    );
}
