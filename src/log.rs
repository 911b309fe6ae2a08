//! The replicated log as a node sees it: [`LogView`] reads the unpersisted
//! [`LogBuffer`] first and falls back to the application's [`LogStorage`]. A
//! snapshot received from a leader and not yet persisted replaces both until
//! the application has written it.

pub mod entry;
pub mod log_buffer;
pub mod log_storage;
pub mod snapshot;
pub mod write_checks;

use crate::{Entry, EntryKey, Index, NodeId, Snapshot, StorageError, StorageResult, Term};
use log_buffer::{AppendCase, LogBuffer};
use log_storage::LogStorage;

/// The whole log: persisted entries in `S`, newer ones in the buffer.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct LogView<S> {
    storage: S,
    buffer: LogBuffer,
    /// A leader's snapshot that replaced the log and is not yet persisted:
    /// while it is here, storage is stale and never read.
    unstable: Option<UnstableSnapshot>,
}

/// A restored snapshot on its way to storage.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
struct UnstableSnapshot {
    snapshot: Snapshot,
    /// Whether a Ready handed it to the application.
    handed: bool,
}

/// Entries [`LogView::entries_within`] reads from storage at first; a further
/// read of the same call is sized by the bytes left in its budget.
pub const READ_CHUNK: usize = 4096;

/// How much one read may return: entries and payload bytes. The first entry
/// is always returned, whatever its size.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limit {
    /// Most entries.
    pub count_max: usize,
    /// Most payload bytes ([`Entry::payload_len`]), past the first entry.
    pub bytes_max: usize,
}

impl Limit {
    /// At most `count_max` entries, of any size.
    pub fn count(count_max: usize) -> Limit {
        Limit {
            count_max,
            bytes_max: usize::MAX,
        }
    }
}

/// Payload bytes taken so far under a limit.
struct Budget {
    bytes: usize,
    bytes_max: usize,
    taken_any: bool,
}

impl Budget {
    fn new(bytes_max: usize) -> Budget {
        Budget {
            bytes: 0,
            bytes_max,
            taken_any: false,
        }
    }

    /// How many entries to read next, after a read of `last_len`: as many as
    /// the budget left holds at the average size taken so far (at least
    /// twice the last read), so that small entries take one more read and
    /// large ones never make a read much longer than what fits.
    fn next_read(&self, last_len: usize) -> usize {
        let taken = last_len.max(1);
        let average = (self.bytes / taken).max(1);
        let left = self.bytes_max.saturating_sub(self.bytes);
        (left / average)
            .saturating_add(1)
            .max(last_len.saturating_mul(2))
    }

    /// How many of `entries`, in order, still fit (the very first entry
    /// always does); counts them as taken.
    fn fit(&mut self, entries: &[Entry]) -> usize {
        for (i, entry) in entries.iter().enumerate() {
            let bytes = self.bytes.saturating_add(entry.payload_len());
            if self.taken_any && bytes > self.bytes_max {
                return i;
            }
            self.bytes = bytes;
            self.taken_any = true;
        }
        entries.len()
    }
}

/// What a follower's append did to its log.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Appended {
    /// Which buffer case applied.
    pub case: AppendCase,
    /// The first index whose entry changed or was added.
    pub from: Index,
    /// Whether an existing (conflicting) entry was removed.
    pub truncated: bool,
}

impl<S> LogView<S> {
    /// The storage, as persisted by the application.
    pub fn storage(&self) -> &S {
        &self.storage
    }

    /// The storage, for the application's writes.
    pub fn storage_mut(&mut self) -> &mut S {
        &mut self.storage
    }

    /// Maps the node ids a restored snapshot and buffered configuration
    /// entries name (symmetry reduction).
    pub(crate) fn relabel_unstable(&mut self, f: &dyn Fn(NodeId) -> NodeId) {
        if let Some(u) = &mut self.unstable {
            u.snapshot.meta = u.snapshot.meta.relabel(f);
        }
        self.buffer.relabel(f);
    }
}

impl<S: LogStorage> LogView<S> {
    /// Opens the log over storage, reading where the persisted log ends.
    pub async fn open(storage: S) -> StorageResult<LogView<S>> {
        let last = storage.last_index().await?;
        let term = storage.term(last).await?;
        Ok(LogView {
            storage,
            buffer: LogBuffer::new(EntryKey::new(term, last)),
            unstable: None,
        })
    }

    /// Key of the last entry.
    pub fn last(&self) -> EntryKey {
        self.buffer.last()
    }

    /// Key of the last entry that is persisted and still part of the log.
    pub fn persisted(&self) -> EntryKey {
        self.buffer.persisted()
    }

    /// The term at `index`, or `None` beyond the last entry.
    pub async fn term(&self, index: Index) -> StorageResult<Option<Term>> {
        if index > self.last().index {
            return Ok(None);
        }
        if let Some(term) = self.buffer.term(index) {
            return Ok(Some(term));
        }
        if let Some(u) = &self.unstable {
            // The buffer holds everything from the snapshot's last entry on.
            return Err(StorageError::Compacted {
                index,
                first: u.snapshot.index().next(),
            });
        }
        self.storage.term(index).await.map(Some)
    }

    /// The first index whose entry the log still holds; the one before it
    /// is the last entry of the snapshot (or of the compacted prefix).
    pub async fn first_index(&self) -> StorageResult<Index> {
        match &self.unstable {
            Some(u) => Ok(u.snapshot.index().next()),
            None => self.storage.first_index().await,
        }
    }

    /// The latest snapshot: one received and not yet persisted, else storage's.
    pub async fn snapshot(&self) -> StorageResult<Snapshot> {
        match &self.unstable {
            Some(u) => Ok(u.snapshot.clone()),
            None => self.storage.snapshot().await,
        }
    }

    /// The term at `index`, which the caller knows lies within the log.
    pub async fn term_within(&self, index: Index) -> StorageResult<Term> {
        let last = self.last().index;
        self.term(index).await?.ok_or(StorageError::OutOfRange {
            index,
            first: Index(1),
            last,
        })
    }

    /// Entries in `[low, high)`, at most `count_max` of them, clipped to the log.
    pub async fn entries(
        &self,
        low: Index,
        high: Index,
        count_max: usize,
    ) -> StorageResult<Vec<Entry>> {
        self.entries_within(low, high, Limit::count(count_max))
            .await
    }

    /// Entries in `[low, high)` within `limit` (counts and payload bytes;
    /// the first entry is always taken, however large, so that progress is
    /// possible), clipped to the log. Storage is read in chunks, the first of
    /// [`READ_CHUNK`] entries and the next sized by the budget left, so a
    /// small limit over a long range reads little and a large one reads in
    /// few calls.
    pub async fn entries_within(
        &self,
        low: Index,
        high: Index,
        limit: Limit,
    ) -> StorageResult<Vec<Entry>> {
        let high = high.min(self.last().index.next());
        let high = low
            .checked_add(limit.count_max)
            .map_or(high, |cap| cap.min(high));
        if low >= high {
            return Ok(Vec::new());
        }
        if let Some(u) = self.unstable.as_ref().filter(|u| low <= u.snapshot.index()) {
            return Err(StorageError::Compacted {
                index: low,
                first: u.snapshot.index().next(),
            });
        }
        let mut out: Vec<Entry> = Vec::new();
        let mut budget = Budget::new(limit.bytes_max);
        let stored_end = high.min(self.persisted().index.next());
        let mut at = low;
        let mut chunk_len = READ_CHUNK;
        while at < stored_end {
            let end = at
                .checked_add(chunk_len)
                .map_or(stored_end, |e| e.min(stored_end));
            let mut chunk = self.storage.entries(at, end).await?;
            let fit = budget.fit(&chunk);
            chunk_len = budget.next_read(chunk_len);
            debug_assert!(chunk_len > 0, "every read of the stored log moves on");
            let full = fit < chunk.len();
            chunk.truncate(fit);
            if out.is_empty() {
                out = chunk; // the common case: one read, no copy
            } else {
                out.append(&mut chunk);
            }
            if full {
                return Ok(out);
            }
            at = end;
        }
        let buffered = self.buffer.slice(low.max(stored_end), high);
        out.extend_from_slice(&buffered[..budget.fit(buffered)]);
        debug_assert!(out.len() <= limit.count_max);
        Ok(out)
    }

    /// The leader appends its own entries after the last one.
    pub fn append_local(&mut self, entries: &[Entry]) {
        let prev = self.last();
        self.buffer.append(prev, entries);
    }

    /// A follower appends a leader's entries that follow `prev`, which the caller
    /// verified is in the log. Entries it already has are skipped; from the first
    /// conflicting one on, its log is replaced. Returns `None` if nothing changed.
    pub async fn append_from_leader(
        &mut self,
        prev: EntryKey,
        entries: &[Entry],
    ) -> StorageResult<Option<Appended>> {
        let mut skip = 0;
        let mut truncated = false;
        for entry in entries {
            match self.term(entry.index()).await? {
                Some(term) if term == entry.term() => skip += 1,
                Some(_) => {
                    truncated = true;
                    break;
                }
                None => break,
            }
        }
        let Some(first_new) = entries.get(skip) else {
            probe!(AppendNothingNew);
            return Ok(None);
        };
        let prev = if skip == 0 {
            prev
        } else {
            entries[skip - 1].key
        };
        let from = first_new.index();
        let case = self.buffer.append(prev, &entries[skip..]);
        Ok(case.map(|case| Appended {
            case,
            from,
            truncated,
        }))
    }

    /// Replaces everything after `prev` with `entries`, held or not (the
    /// `TruncateWithoutConflict` mutant).
    #[cfg(feature = "mutants")]
    pub(crate) fn replace_after(&mut self, prev: EntryKey, entries: &[Entry]) {
        self.buffer.append(prev, entries);
    }

    /// The largest index at or below `index` whose term is at most `term`
    /// (the follower's reject hint and the leader's backtracking target).
    /// Terms never decrease along a log, so the scan stops at the first hit;
    /// it visits at most `index` entries and never goes below the first
    /// index - 1 (the snapshot's last entry, returned if nothing later fits:
    /// it is committed, so it is as good a guess as any).
    pub async fn last_key_at_or_below(&self, index: Index, term: Term) -> StorageResult<EntryKey> {
        let floor = self.first_index().await?.prev();
        let mut i = index.min(self.last().index).max(floor);
        loop {
            let t = self.term_within(i).await?;
            if t <= term || i <= floor {
                return Ok(EntryKey::new(t, i));
            }
            i = i.prev();
        }
    }

    /// Replaces the whole log with a leader's snapshot (its last entry is not
    /// in the log, or is of another term): the log now ends at the snapshot's
    /// last entry, and the snapshot waits to be handed out and persisted.
    /// [`Self::persisted`] reports the snapshot's key from here on, before
    /// the write: it is committed (held by a quorum), and the node
    /// acknowledges it only in a Ready that writes it first.
    pub fn restore(&mut self, snapshot: Snapshot) {
        debug_assert!(
            snapshot.index() > Index(0),
            "a restored snapshot covers at least one entry"
        );
        self.buffer = LogBuffer::new(snapshot.key());
        self.unstable = Some(UnstableSnapshot {
            snapshot,
            handed: false,
        });
        debug_assert_eq!(self.last(), self.persisted());
    }

    /// The restored snapshot, if it was not handed out yet, marking it handed.
    pub fn take_unpersisted_snapshot(&mut self) -> Option<Snapshot> {
        let u = self.unstable.as_mut().filter(|u| !u.handed)?;
        u.handed = true;
        Some(u.snapshot.clone())
    }

    /// The application persisted the snapshot ending at `key`: storage holds
    /// it now (unless a newer one replaced it meanwhile).
    pub fn on_snapshot_persisted(&mut self, key: EntryKey) {
        if self
            .unstable
            .as_ref()
            .is_some_and(|u| u.snapshot.key() == key)
        {
            self.unstable = None;
        }
    }

    /// Entries not yet handed to the application, marking them handed.
    pub fn take_unpersisted(&mut self) -> Vec<Entry> {
        self.buffer.take_unhanded().to_vec()
    }

    /// Whether entries wait to be handed to the application.
    pub fn has_unpersisted(&self) -> bool {
        self.buffer.has_unhanded() || self.unstable.as_ref().is_some_and(|u| !u.handed)
    }

    /// The application persisted the log up to `key`.
    pub fn on_persisted(&mut self, key: EntryKey) {
        self.buffer.on_persisted(key);
    }
}

impl LogView<crate::MemStorage> {
    /// Every entry the log holds (after [`Self::compacted`]) in index order,
    /// read without awaiting: in-memory storage only (tests and model checkers).
    pub fn iter(&self) -> impl Iterator<Item = &Entry> + '_ {
        let held = if self.unstable.is_some() {
            0 // storage is stale until the restored snapshot is written
        } else {
            let offset = self.storage.compacted().index;
            offset.distance_to(self.persisted().index)
        };
        let all = self.storage.stored_entries();
        // A storage that lost entries under the node (a broken application)
        // shows what it still holds rather than panicking the reader.
        let stored = &all[..held.min(all.len())];
        let buffered = self
            .buffer
            .slice(self.persisted().index.next(), self.last().index.next());
        stored.iter().chain(buffered)
    }

    /// The key of the entry just before the first one [`Self::iter`] yields:
    /// the restored snapshot's last entry, or storage's compaction point.
    pub fn compacted(&self) -> EntryKey {
        match &self.unstable {
            Some(u) => u.snapshot.key(),
            None => self.storage.compacted(),
        }
    }

    /// The latest snapshot, read without awaiting (see [`Self::snapshot`]).
    pub fn current_snapshot(&self) -> &Snapshot {
        match &self.unstable {
            Some(u) => &u.snapshot,
            None => self.storage.stored_snapshot(),
        }
    }
}

#[cfg(test)]
mod tests;
