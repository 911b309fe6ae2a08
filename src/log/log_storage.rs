//! [`LogStorage`]: the read side of durable storage, and [`MemStorage`].
//!
//! ruft only ever reads storage. Writes belong to the application, which
//! persists what each [`crate::Ready`] hands it (see [`MemStorage::append`],
//! [`MemStorage::apply_snapshot`] and [`MemStorage::set_hard_state`] for the
//! write side of the in-memory store) and compacts the log when it likes
//! ([`MemStorage::create_snapshot`], [`MemStorage::compact`]).

use super::write_checks;
use crate::{
    Entry, EntryKey, HardState, Index, Membership, NodeId, Snapshot, StorageError, StorageResult,
    Term,
};
use async_trait::async_trait;
use bytes::Bytes;

/// Durable log storage as ruft reads it. Every method may suspend (a disk or a
/// remote store behind it); ruft awaits them inside `step`, `tick` and `ready`.
///
/// Contract: the storage holds what the application persisted, in order, and
/// nothing else. Entries up to `first_index() - 1` may have been compacted
/// away; the term of `first_index() - 1` is still known (it is the last
/// compacted entry's, or 0 at index 0), and reading below it is
/// [`StorageError::Compacted`], never a made-up term. The latest snapshot
/// covers at least everything compacted: `first_index() - 1 <= snapshot().index()`.
#[async_trait]
pub trait LogStorage: Send + Sync {
    /// The HardState persisted last (default when nothing was persisted).
    async fn initial_state(&self) -> StorageResult<HardState>;
    /// The index of the first entry still stored (1 before any compaction).
    async fn first_index(&self) -> StorageResult<Index>;
    /// The index of the last stored entry (`first_index() - 1` when none is).
    async fn last_index(&self) -> StorageResult<Index>;
    /// The term of the entry at `index`, for `index` in `[first - 1, last]`
    /// (`Term(0)` for index 0); below that, [`StorageError::Compacted`].
    async fn term(&self, index: Index) -> StorageResult<Term>;
    /// The entries in `[low, high)`; both ends within `[first, last + 1]`
    /// ([`StorageError::Compacted`] if `low` is below `first`).
    async fn entries(&self, low: Index, high: Index) -> StorageResult<Vec<Entry>>;
    /// The latest snapshot ([`Snapshot::default`] when there is none).
    async fn snapshot(&self) -> StorageResult<Snapshot>;
}

/// An in-memory [`LogStorage`] plus the write side an application calls.
/// It is a plain value (`Clone + Eq + Hash`) so a model checker can keep it in
/// its states.
///
/// ```
/// use ruft::{Entry, EntryKey, HardState, Index, LogStorage, MemStorage, Membership, NodeId, StorageError, Term};
/// use futures::executor::block_on;
/// let mut s = MemStorage::default();
/// let k = |i| EntryKey::new(Term(1), Index(i));
/// s.append(&[Entry::normal(k(1), "a"), Entry::normal(k(2), "b"), Entry::normal(k(3), "c")]).unwrap();
/// s.set_hard_state(HardState { term: Term(1), voted_node: None, committed_index: Index(3) });
/// assert_eq!(block_on(s.last_index()), Ok(Index(3)));
/// // The application applied up to 2: snapshot its state machine there, then drop the prefix.
/// s.create_snapshot(Index(2), &Membership::simple([NodeId(1)]).unwrap(), "ab").unwrap();
/// s.compact(Index(2)).unwrap();
/// assert_eq!(block_on(s.first_index()), Ok(Index(3)));
/// assert_eq!(block_on(s.term(Index(2))), Ok(Term(1)));
/// assert_eq!(block_on(s.term(Index(1))), Err(StorageError::Compacted { index: Index(1), first: Index(3) }));
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct MemStorage {
    hard_state: HardState,
    snapshot: Snapshot,
    /// The key of the entry just before the first stored one (the last
    /// compacted entry, or `0@0`).
    offset: EntryKey,
    entries: Vec<Entry>,
}

impl MemStorage {
    /// Persists entries: the first must lie in `[first, last + 1]`; any stored
    /// entries from that index on are replaced (a follower's conflicting suffix).
    pub fn append(&mut self, entries: &[Entry]) -> StorageResult<()> {
        let Some(head) = entries.first().map(Entry::index) else {
            return Ok(());
        };
        write_checks::append(head, self.offset.index, self.last())?;
        self.entries
            .truncate(self.offset.index.distance_to(head.prev()));
        self.entries.extend_from_slice(entries);
        Ok(())
    }

    /// Carries out step 1 of a [`crate::Ready`] in the documented order: the
    /// snapshot, then the entries, then the HardState. Every write is
    /// checked before any is made, so an error means nothing was written.
    pub fn persist(&mut self, ready: &crate::Ready) -> StorageResult<()> {
        let (offset, last) = match &ready.snapshot {
            Some(snapshot) => {
                self.check_snapshot(snapshot.index())?;
                (snapshot.index(), snapshot.index())
            }
            None => (self.offset.index, self.last()),
        };
        if let Some(head) = ready.entries.first().map(Entry::index) {
            write_checks::append(head, offset, last)?;
        }
        if let Some(snapshot) = &ready.snapshot {
            self.apply_snapshot(Snapshot::clone(snapshot))?;
        }
        self.append(&ready.entries)?;
        if let Some(hs) = ready.hard_state {
            self.set_hard_state(hs);
        }
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

    /// Records a snapshot of the application's state machine at `index`
    /// (which the application has applied, so it is committed), replacing the
    /// previous one. The entry at `index` must still be stored; the log is
    /// not compacted until [`MemStorage::compact`]. Returns the snapshot.
    pub fn create_snapshot(
        &mut self,
        index: Index,
        membership: &Membership,
        data: impl Into<Bytes>,
    ) -> StorageResult<Snapshot> {
        let committed = self.hard_state.committed_index;
        write_checks::create(index, self.snapshot.index(), committed)?;
        let term = self.term_at(index)?;
        self.snapshot = Snapshot::with_membership(EntryKey::new(term, index), membership, data);
        Ok(self.snapshot.clone())
    }

    /// Drops every entry up to `index`, which the snapshot must cover
    /// ([`StorageError::CompactBeyondSnapshot`] otherwise). Compacting what is
    /// already compacted changes nothing.
    pub fn compact(&mut self, index: Index) -> StorageResult<()> {
        write_checks::compact(index, self.snapshot.index())?;
        if index <= self.offset.index {
            return Ok(());
        }
        let term = self.term_at(index)?;
        self.entries.drain(..self.offset.index.distance_to(index));
        self.offset = EntryKey::new(term, index);
        debug_assert!(self.offset.index <= self.snapshot.index());
        Ok(())
    }

    /// Persists a snapshot a leader sent ([`crate::Ready::snapshot`]): it
    /// replaces the whole log (ruft hands one out only when the log does not
    /// hold the snapshot's last entry). An older or equal snapshot is
    /// refused with [`StorageError::SnapshotOutOfDate`].
    pub fn apply_snapshot(&mut self, snapshot: Snapshot) -> StorageResult<()> {
        self.check_snapshot(snapshot.index())?;
        self.offset = snapshot.key();
        self.entries.clear();
        self.snapshot = snapshot;
        Ok(())
    }

    /// Whether a snapshot ending at `index` is newer than what is held.
    fn check_snapshot(&self, index: Index) -> StorageResult<()> {
        write_checks::install(index, self.snapshot.index().max(self.offset.index))
    }

    /// The latest snapshot (a read-only view for tests and models).
    pub fn stored_snapshot(&self) -> &Snapshot {
        &self.snapshot
    }

    /// The stored entries, in index order, from the first one still held (a
    /// read-only view for tests and models).
    pub fn stored_entries(&self) -> &[Entry] {
        &self.entries
    }

    /// The key of the entry just before the first stored one.
    pub fn compacted(&self) -> EntryKey {
        self.offset
    }

    /// Maps the voters the snapshot names (symmetry reduction).
    pub(crate) fn relabel_snapshot(&mut self, f: &dyn Fn(NodeId) -> NodeId) {
        self.snapshot.meta = self.snapshot.meta.relabel(f);
        for e in &mut self.entries {
            if e.as_conf_change().is_some() {
                *e = e.relabel(f);
            }
        }
    }

    fn last(&self) -> Index {
        self.entries.last().map_or(self.offset.index, Entry::index)
    }

    fn compacted_error(&self, index: Index) -> StorageError {
        StorageError::Compacted {
            index,
            first: self.offset.index.next(),
        }
    }

    fn out_of_range(&self, index: Index) -> StorageError {
        StorageError::OutOfRange {
            index,
            first: self.offset.index.next(),
            last: self.last(),
        }
    }

    fn term_at(&self, index: Index) -> StorageResult<Term> {
        if index == self.offset.index {
            return Ok(self.offset.term);
        }
        if index < self.offset.index {
            return Err(self.compacted_error(index));
        }
        self.entries
            .get(self.position(index))
            .map(Entry::term)
            .ok_or_else(|| self.out_of_range(index))
    }

    /// Position of `index` (> offset) in `entries`.
    fn position(&self, index: Index) -> usize {
        self.offset.index.distance_to(index.prev())
    }
}

/// Whether entries starting at `head` may be stored over a log whose
/// compaction point is `offset` and whose last index is `last`.
#[async_trait]
impl LogStorage for MemStorage {
    async fn initial_state(&self) -> StorageResult<HardState> {
        Ok(self.hard_state)
    }

    async fn first_index(&self) -> StorageResult<Index> {
        Ok(self.offset.index.next())
    }

    async fn last_index(&self) -> StorageResult<Index> {
        Ok(self.last())
    }

    async fn term(&self, index: Index) -> StorageResult<Term> {
        self.term_at(index)
    }

    async fn entries(&self, low: Index, high: Index) -> StorageResult<Vec<Entry>> {
        if low <= self.offset.index {
            return Err(self.compacted_error(low));
        }
        if low > high || high > self.last().next() {
            return Err(self.out_of_range(high.prev()));
        }
        Ok(self.entries[self.position(low)..self.position(high)].to_vec())
    }

    async fn snapshot(&self) -> StorageResult<Snapshot> {
        Ok(self.snapshot.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures::executor::block_on;

    fn one() -> Membership {
        Membership::simple([NodeId(1)]).unwrap()
    }

    fn e(term: u64, index: u64) -> Entry {
        Entry::empty(EntryKey::new(Term(term), Index(index)))
    }

    fn committed(entries: &[Entry]) -> MemStorage {
        let mut s = MemStorage::default();
        s.append(entries).unwrap();
        let last = entries.last().map_or(Index(0), Entry::index);
        s.set_hard_state(HardState {
            committed_index: last,
            ..HardState::default()
        });
        s
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

    #[test]
    fn compaction_keeps_the_boundary_term_and_refuses_below_it() {
        let mut s = committed(&[e(1, 1), e(1, 2), e(2, 3), e(2, 4)]);
        assert_eq!(
            s.compact(Index(2)),
            Err(StorageError::CompactBeyondSnapshot {
                index: Index(2),
                snapshot: Index(0)
            }),
            "nothing is dropped that no snapshot covers"
        );
        let snap = s.create_snapshot(Index(3), &one(), "abc").unwrap();
        assert_eq!(snap.key(), EntryKey::new(Term(2), Index(3)));
        s.compact(Index(2)).unwrap();
        assert_eq!(block_on(s.first_index()), Ok(Index(3)));
        assert_eq!(
            block_on(s.term(Index(2))),
            Ok(Term(1)),
            "first - 1 keeps its term"
        );
        let compacted = StorageError::Compacted {
            index: Index(1),
            first: Index(3),
        };
        assert_eq!(block_on(s.term(Index(1))), Err(compacted));
        assert_eq!(block_on(s.entries(Index(1), Index(4))), Err(compacted));
        assert_eq!(
            block_on(s.entries(Index(3), Index(5))),
            Ok(vec![e(2, 3), e(2, 4)])
        );
        s.compact(Index(3)).unwrap();
        s.compact(Index(1)).unwrap();
        assert_eq!(s.compacted(), EntryKey::new(Term(2), Index(3)));
        assert_eq!(block_on(s.last_index()), Ok(Index(4)));
        assert_eq!(
            s.append(&[e(3, 3)]),
            Err(StorageError::Compacted {
                index: Index(3),
                first: Index(4)
            })
        );
    }

    #[test]
    fn snapshots_only_move_forward_and_only_over_committed_entries() {
        let mut s = committed(&[e(1, 1), e(1, 2)]);
        s.append(&[e(1, 3)]).unwrap();
        assert_eq!(
            s.create_snapshot(Index(3), &one(), ""),
            Err(StorageError::Uncommitted {
                index: Index(3),
                committed: Index(2)
            })
        );
        s.create_snapshot(Index(2), &one(), "").unwrap();
        assert_eq!(
            s.create_snapshot(Index(1), &one(), ""),
            Err(StorageError::SnapshotOutOfDate {
                index: Index(1),
                current: Index(2)
            })
        );
    }

    #[test]
    fn a_ready_that_cannot_be_written_whole_writes_nothing() {
        let mut s = committed(&[e(1, 1), e(1, 2)]);
        s.create_snapshot(Index(2), &Membership::simple([NodeId(1)]).unwrap(), "ab")
            .unwrap();
        let before = s.clone();
        let snap = Snapshot::new(EntryKey::new(Term(3), Index(5)), [NodeId(1)], "x");
        let gapped = crate::Ready {
            snapshot: Some(Box::new(snap)),
            entries: vec![e(3, 7)],
            ..crate::Ready::default()
        };
        assert_eq!(
            s.persist(&gapped),
            Err(StorageError::Gap {
                head: Index(7),
                last: Index(5)
            })
        );
        assert_eq!(s, before, "the snapshot was not written either");
        let stale = crate::Ready {
            snapshot: Some(Box::new(Snapshot::new(
                EntryKey::new(Term(1), Index(1)),
                [],
                "",
            ))),
            ..crate::Ready::default()
        };
        assert_eq!(
            s.persist(&stale),
            Err(StorageError::SnapshotOutOfDate {
                index: Index(1),
                current: Index(2)
            })
        );
        assert_eq!(s, before);
    }

    #[test]
    fn an_applied_snapshot_replaces_the_whole_log() {
        let mut s = committed(&[e(1, 1), e(1, 2)]);
        let snap = Snapshot::new(EntryKey::new(Term(3), Index(5)), [NodeId(1)], "x");
        s.apply_snapshot(snap.clone()).unwrap();
        assert!(s.stored_entries().is_empty());
        assert_eq!(block_on(s.first_index()), Ok(Index(6)));
        assert_eq!(block_on(s.last_index()), Ok(Index(5)));
        assert_eq!(block_on(s.term(Index(5))), Ok(Term(3)));
        assert_eq!(block_on(s.snapshot()), Ok(snap.clone()));
        assert_eq!(
            s.apply_snapshot(snap),
            Err(StorageError::SnapshotOutOfDate {
                index: Index(5),
                current: Index(5)
            })
        );
        s.append(&[e(3, 6)]).unwrap();
        assert_eq!(block_on(s.entries(Index(6), Index(7))), Ok(vec![e(3, 6)]));
    }
}
