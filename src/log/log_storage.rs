//! [`LogStorage`]: the read side of durable storage, and [`MemStorage`].
//!
//! ruft only ever reads storage. Writes belong to the application, which
//! persists what each [`crate::Ready`] hands it (see [`MemStorage::append`] and
//! [`MemStorage::set_hard_state`] for the write side of the in-memory store).

use crate::{Entry, HardState, Index, StorageError, StorageResult, Term};
use async_trait::async_trait;

/// Durable log storage as ruft reads it. Every method may suspend (a disk or a
/// remote store behind it); ruft awaits them inside `step`, `tick` and `ready`.
///
/// Contract: the storage holds what the application persisted, in order, and
/// nothing else; index 0 always has term 0; there is no compaction yet, so the
/// first index is 1.
#[async_trait]
pub trait LogStorage: Send + Sync {
    /// The HardState persisted last (default when nothing was persisted).
    async fn initial_state(&self) -> StorageResult<HardState>;
    /// The index of the first stored entry (1 until compaction exists).
    async fn first_index(&self) -> StorageResult<Index>;
    /// The index of the last stored entry (0 when empty).
    async fn last_index(&self) -> StorageResult<Index>;
    /// The term of the entry at `index` (`Term(0)` for index 0).
    async fn term(&self, index: Index) -> StorageResult<Term>;
    /// The entries in `[low, high)`; both ends within `[first, last + 1]`.
    async fn entries(&self, low: Index, high: Index) -> StorageResult<Vec<Entry>>;
}

/// An in-memory [`LogStorage`] plus the write side an application calls.
/// It is a plain value (`Clone + Eq + Hash`) so a model checker can keep it in
/// its states.
///
/// ```
/// use ruft::{Entry, EntryKey, Index, LogStorage, MemStorage, Term};
/// let mut s = MemStorage::default();
/// s.append(&[Entry::normal(EntryKey::new(Term(1), Index(1)), "a")]).unwrap();
/// let last = futures::executor::block_on(s.last_index()).unwrap();
/// assert_eq!(last, Index(1));
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct MemStorage {
    hard_state: HardState,
    entries: Vec<Entry>,
}

impl MemStorage {
    /// Persists entries: the first must be at most `last + 1`; any stored entries
    /// from that index on are replaced (a follower's conflicting suffix).
    pub fn append(&mut self, entries: &[Entry]) -> StorageResult<()> {
        let Some(head) = entries.first().map(Entry::index) else {
            return Ok(());
        };
        let last = self.last();
        if head > last.next() || head == Index(0) {
            return Err(StorageError::Gap { head, last });
        }
        self.entries.truncate(Index(0).distance_to(head.prev()));
        self.entries.extend_from_slice(entries);
        Ok(())
    }

    /// Persists the HardState.
    pub fn set_hard_state(&mut self, hard_state: HardState) {
        self.hard_state = hard_state;
    }

    /// The persisted HardState.
    pub fn hard_state(&self) -> HardState {
        self.hard_state
    }

    /// All persisted entries, in index order (a read-only view for tests and models).
    pub fn stored_entries(&self) -> &[Entry] {
        &self.entries
    }

    fn last(&self) -> Index {
        self.entries.last().map_or(Index(0), Entry::index)
    }

    fn out_of_range(&self, index: Index) -> StorageError {
        StorageError::OutOfRange {
            index,
            first: Index(1),
            last: self.last(),
        }
    }

    /// Position of `index` in `entries` (index 1 is position 0).
    fn position(index: Index) -> usize {
        Index(0).distance_to(index.prev())
    }
}

#[async_trait]
impl LogStorage for MemStorage {
    async fn initial_state(&self) -> StorageResult<HardState> {
        Ok(self.hard_state)
    }

    async fn first_index(&self) -> StorageResult<Index> {
        Ok(Index(1))
    }

    async fn last_index(&self) -> StorageResult<Index> {
        Ok(self.last())
    }

    async fn term(&self, index: Index) -> StorageResult<Term> {
        if index == Index(0) {
            return Ok(Term(0));
        }
        self.entries
            .get(Self::position(index))
            .map(Entry::term)
            .ok_or_else(|| self.out_of_range(index))
    }

    async fn entries(&self, low: Index, high: Index) -> StorageResult<Vec<Entry>> {
        if low == Index(0) || low > high || high > self.last().next() {
            return Err(self.out_of_range(if low == Index(0) { low } else { high.prev() }));
        }
        Ok(self.entries[Self::position(low)..Self::position(high)].to_vec())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::EntryKey;
    use futures::executor::block_on;

    fn e(term: u64, index: u64) -> Entry {
        Entry::empty(EntryKey::new(Term(term), Index(index)))
    }

    #[test]
    fn append_truncates_a_conflicting_suffix() {
        let mut s = MemStorage::default();
        s.append(&[e(1, 1), e(1, 2), e(1, 3)]).unwrap();
        s.append(&[e(2, 2)]).unwrap();
        assert_eq!(s.stored_entries(), &[e(1, 1), e(2, 2)]);
        assert_eq!(block_on(s.term(Index(2))), Ok(Term(2)));
        assert_eq!(block_on(s.term(Index(0))), Ok(Term(0)));
    }

    #[test]
    fn append_refuses_a_gap_and_reads_refuse_out_of_range() {
        let mut s = MemStorage::default();
        assert_eq!(
            s.append(&[e(1, 2)]),
            Err(StorageError::Gap {
                head: Index(2),
                last: Index(0)
            })
        );
        s.append(&[e(1, 1)]).unwrap();
        assert!(block_on(s.term(Index(2))).is_err());
        assert!(block_on(s.entries(Index(1), Index(3))).is_err());
        assert_eq!(block_on(s.entries(Index(1), Index(2))), Ok(vec![e(1, 1)]));
        assert_eq!(block_on(s.entries(Index(2), Index(2))), Ok(vec![]));
    }
}
