//! [`RedbStorage`]: a durable [`LogStorage`] on redb, one ACID transaction
//! per [`Ready`].
//!
//! Everything ruft asks an application to persist goes in one redb file:
//!
//! | table     | key                      | value (postcard)            |
//! |-----------|--------------------------|-----------------------------|
//! | `entries` | index (`u64`)            | the [`Entry`]               |
//! | `meta`    | `"hard_state"`           | the [`HardState`]           |
//! | `meta`    | `"snapshot"`             | the latest [`Snapshot`]     |
//! | `meta`    | `"offset"`               | the last compacted entry's [`EntryKey`] |
//!
//! [`RedbStorage::persist`] writes a Ready's snapshot, entries and HardState
//! in one write transaction, committed with an fsync (unless opened with
//! `fsync: false`, for benchmarks): a crash leaves either all of them or
//! none, so the torn writes ruft repairs on restart (see `ruft::Node::new`)
//! never happen here. Reads go to the file; the few metadata values are
//! also kept in memory, updated only after a commit succeeds.

use redb::{Database, ReadableDatabase, ReadableTable, TableDefinition};
use ruft::{
    write_checks, Entry, EntryKey, HardState, Index, LogStorage, Membership, Ready, Snapshot,
    StorageError, StorageResult, Term,
};
use serde::{de::DeserializeOwned, Serialize};
use std::path::Path;

const ENTRIES: TableDefinition<u64, &[u8]> = TableDefinition::new("entries");
const META: TableDefinition<&str, &[u8]> = TableDefinition::new("meta");
const HARD_STATE: &str = "hard_state";
const SNAPSHOT: &str = "snapshot";
const OFFSET: &str = "offset";

/// A durable, crash-consistent Raft log in one redb file.
pub struct RedbStorage {
    db: Database,
    fsync: bool,
    /// What the file holds, as of the last committed transaction.
    hard_state: HardState,
    snapshot: Snapshot,
    offset: EntryKey,
    last: Index,
}

impl std::fmt::Debug for RedbStorage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedbStorage")
            .field("hard_state", &self.hard_state)
            .field("snapshot", &self.snapshot.key())
            .field("offset", &self.offset)
            .field("last", &self.last)
            .finish()
    }
}

/// Any failure of the backend: logged with its cause, reported to ruft as
/// [`StorageError::Io`] (ruft's storage errors carry no text).
fn backend(error: impl std::fmt::Display) -> StorageError {
    tracing::error!(target: "ruft_kv::storage", %error, "redb failed");
    StorageError::Io {
        kind: std::io::ErrorKind::Other,
    }
}

fn encode<T: Serialize>(value: &T) -> StorageResult<Vec<u8>> {
    postcard::to_stdvec(value).map_err(backend)
}

fn decode<T: DeserializeOwned>(bytes: &[u8]) -> StorageResult<T> {
    postcard::from_bytes(bytes).map_err(backend)
}

impl RedbStorage {
    /// Opens (or creates) the log in the file at `path`. With `fsync` off,
    /// commits are not flushed to disk (redb's `Durability::None`): fast,
    /// and lost on a machine crash, never torn.
    pub fn open(path: &Path, fsync: bool) -> StorageResult<RedbStorage> {
        let db = Database::create(path).map_err(backend)?;
        let txn = db.begin_write().map_err(backend)?;
        txn.open_table(ENTRIES).map_err(backend)?;
        txn.open_table(META).map_err(backend)?;
        txn.commit().map_err(backend)?;
        let mut storage = RedbStorage {
            db,
            fsync,
            hard_state: HardState::default(),
            snapshot: Snapshot::default(),
            offset: EntryKey::default(),
            last: Index(0),
        };
        storage.load()?;
        Ok(storage)
    }

    /// Reads the metadata and the last index from the file.
    fn load(&mut self) -> StorageResult<()> {
        let txn = self.db.begin_read().map_err(backend)?;
        let meta = txn.open_table(META).map_err(backend)?;
        let get = |key: &str| -> StorageResult<Option<Vec<u8>>> {
            Ok(meta.get(key).map_err(backend)?.map(|v| v.value().to_vec()))
        };
        if let Some(bytes) = get(HARD_STATE)? {
            self.hard_state = decode(&bytes)?;
        }
        if let Some(bytes) = get(SNAPSHOT)? {
            self.snapshot = decode(&bytes)?;
        }
        if let Some(bytes) = get(OFFSET)? {
            self.offset = decode(&bytes)?;
        }
        let entries = txn.open_table(ENTRIES).map_err(backend)?;
        self.last = match entries.last().map_err(backend)? {
            Some((index, _)) => Index(index.value()),
            None => self.offset.index,
        };
        Ok(())
    }

    /// Carries out step 1 of a Ready in one transaction: the snapshot (which
    /// replaces the whole log), the entries (replacing any stored from the
    /// first one's index on), the HardState. Checked before anything is
    /// written: an error means nothing was.
    pub fn persist(&mut self, ready: &Ready) -> StorageResult<()> {
        let (offset, last) = match &ready.snapshot {
            Some(snapshot) => {
                self.check_snapshot(snapshot.index())?;
                (snapshot.key(), snapshot.index())
            }
            None => (self.offset, self.last),
        };
        if let Some(head) = ready.entries.first().map(Entry::index) {
            write_checks::append(head, offset.index, last)?;
        }
        if ready.snapshot.is_none() && ready.entries.is_empty() && ready.hard_state.is_none() {
            return Ok(());
        }
        let txn = self.begin_write()?;
        {
            let mut entries = txn.open_table(ENTRIES).map_err(backend)?;
            let mut meta = txn.open_table(META).map_err(backend)?;
            if let Some(snapshot) = &ready.snapshot {
                entries.retain(|_, _| false).map_err(backend)?;
                meta.insert(SNAPSHOT, encode(&**snapshot)?.as_slice())
                    .map_err(backend)?;
                meta.insert(OFFSET, encode(&snapshot.key())?.as_slice())
                    .map_err(backend)?;
            }
            if let Some(head) = ready.entries.first().map(Entry::index) {
                entries.retain_in(head.0.., |_, _| false).map_err(backend)?;
                for entry in &ready.entries {
                    entries
                        .insert(entry.index().0, encode(entry)?.as_slice())
                        .map_err(backend)?;
                }
            }
            if let Some(hs) = &ready.hard_state {
                meta.insert(HARD_STATE, encode(hs)?.as_slice())
                    .map_err(backend)?;
            }
        }
        txn.commit().map_err(backend)?;
        if let Some(snapshot) = &ready.snapshot {
            self.snapshot = Snapshot::clone(snapshot);
            self.offset = snapshot.key();
            self.last = snapshot.index();
        }
        if let Some(entry) = ready.entries.last() {
            self.last = entry.index();
        }
        if let Some(hs) = ready.hard_state {
            self.hard_state = hs;
        }
        Ok(())
    }

    /// Records a snapshot of the state machine at `index` (applied, so
    /// committed), replacing the previous one; the entry at `index` must
    /// still be stored. The log is not compacted until [`RedbStorage::compact`].
    pub fn create_snapshot(
        &mut self,
        index: Index,
        membership: &Membership,
        data: impl Into<bytes::Bytes>,
    ) -> StorageResult<Snapshot> {
        let committed = self.hard_state.committed_index;
        write_checks::create(index, self.snapshot.index(), committed)?;
        let term = self.term_at(index)?;
        let snapshot = Snapshot::with_membership(EntryKey::new(term, index), membership, data);
        let txn = self.begin_write()?;
        {
            let mut meta = txn.open_table(META).map_err(backend)?;
            meta.insert(SNAPSHOT, encode(&snapshot)?.as_slice())
                .map_err(backend)?;
        }
        txn.commit().map_err(backend)?;
        self.snapshot = snapshot.clone();
        Ok(snapshot)
    }

    /// Drops every entry up to `index`, which the snapshot must cover.
    /// Compacting what is already compacted changes nothing.
    pub fn compact(&mut self, index: Index) -> StorageResult<()> {
        write_checks::compact(index, self.snapshot.index())?;
        if index <= self.offset.index {
            return Ok(());
        }
        let offset = EntryKey::new(self.term_at(index)?, index);
        let txn = self.begin_write()?;
        {
            let mut entries = txn.open_table(ENTRIES).map_err(backend)?;
            entries
                .retain_in(..=index.0, |_, _| false)
                .map_err(backend)?;
            let mut meta = txn.open_table(META).map_err(backend)?;
            meta.insert(OFFSET, encode(&offset)?.as_slice())
                .map_err(backend)?;
        }
        txn.commit().map_err(backend)?;
        self.offset = offset;
        Ok(())
    }

    /// The persisted HardState.
    pub fn hard_state(&self) -> HardState {
        self.hard_state
    }

    /// The latest snapshot.
    pub fn stored_snapshot(&self) -> &Snapshot {
        &self.snapshot
    }

    /// The last compacted entry (`0@0` before any compaction).
    pub fn compacted(&self) -> EntryKey {
        self.offset
    }

    fn begin_write(&self) -> StorageResult<redb::WriteTransaction> {
        let mut txn = self.db.begin_write().map_err(backend)?;
        if !self.fsync {
            txn.set_durability(redb::Durability::None)
                .map_err(backend)?;
        }
        Ok(txn)
    }

    /// Whether a snapshot ending at `index` is newer than what is held.
    fn check_snapshot(&self, index: Index) -> StorageResult<()> {
        write_checks::install(index, self.snapshot.index().max(self.offset.index))
    }

    fn term_at(&self, index: Index) -> StorageResult<Term> {
        if index == self.offset.index {
            return Ok(self.offset.term);
        }
        if index < self.offset.index {
            return Err(StorageError::Compacted {
                index,
                first: self.offset.index.next(),
            });
        }
        if index > self.last {
            return Err(self.out_of_range(index));
        }
        let txn = self.db.begin_read().map_err(backend)?;
        let entries = txn.open_table(ENTRIES).map_err(backend)?;
        let bytes = entries
            .get(index.0)
            .map_err(backend)?
            .ok_or_else(|| self.out_of_range(index))?;
        Ok(decode::<Entry>(bytes.value())?.term())
    }

    fn out_of_range(&self, index: Index) -> StorageError {
        StorageError::OutOfRange {
            index,
            first: self.offset.index.next(),
            last: self.last,
        }
    }
}

#[async_trait::async_trait]
impl LogStorage for RedbStorage {
    async fn initial_state(&self) -> StorageResult<HardState> {
        Ok(self.hard_state)
    }

    async fn first_index(&self) -> StorageResult<Index> {
        Ok(self.offset.index.next())
    }

    async fn last_index(&self) -> StorageResult<Index> {
        Ok(self.last)
    }

    async fn term(&self, index: Index) -> StorageResult<Term> {
        self.term_at(index)
    }

    async fn entries(&self, low: Index, high: Index) -> StorageResult<Vec<Entry>> {
        if low <= self.offset.index {
            return Err(StorageError::Compacted {
                index: low,
                first: self.offset.index.next(),
            });
        }
        if low > high || high > self.last.next() {
            return Err(self.out_of_range(high.prev()));
        }
        let txn = self.db.begin_read().map_err(backend)?;
        let table = txn.open_table(ENTRIES).map_err(backend)?;
        let mut entries = Vec::with_capacity(low.distance_to(high));
        for row in table.range(low.0..high.0).map_err(backend)? {
            let (index, bytes) = row.map_err(backend)?;
            let entry: Entry = decode(bytes.value())?;
            if entry.index() != Index(index.value()) {
                return Err(backend(format!(
                    "entry {} stored under index {}",
                    entry.key,
                    index.value()
                )));
            }
            entries.push(entry);
        }
        if entries.len() != low.distance_to(high) {
            return Err(backend(format!(
                "a hole in the stored log in [{low}, {high})"
            )));
        }
        Ok(entries)
    }

    async fn snapshot(&self) -> StorageResult<Snapshot> {
        Ok(self.snapshot.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures::executor::block_on;
    use ruft::NodeId;

    fn e(term: u64, index: u64) -> Entry {
        Entry::normal(EntryKey::new(Term(term), Index(index)), format!("v{index}"))
    }

    fn ready(entries: Vec<Entry>, committed: u64) -> Ready {
        Ready {
            entries,
            hard_state: Some(HardState {
                term: Term(2),
                voted_node: Some(NodeId(1)),
                committed_index: Index(committed),
            }),
            ..Ready::default()
        }
    }

    #[test]
    fn what_is_persisted_is_read_back_after_reopening() {
        let dir = tempdir();
        let path = dir.join("log.redb");
        {
            let mut s = RedbStorage::open(&path, true).unwrap();
            s.persist(&ready(vec![e(1, 1), e(1, 2), e(1, 3)], 1))
                .unwrap();
            // A follower's conflicting suffix is replaced from 2 on.
            s.persist(&ready(vec![e(2, 2)], 2)).unwrap();
        }
        let s = RedbStorage::open(&path, true).unwrap();
        assert_eq!(block_on(s.last_index()), Ok(Index(2)));
        assert_eq!(
            block_on(s.entries(Index(1), Index(3))),
            Ok(vec![e(1, 1), e(2, 2)])
        );
        assert_eq!(s.hard_state().committed_index, Index(2));
        assert_eq!(block_on(s.term(Index(0))), Ok(Term(0)));
    }

    #[test]
    fn snapshots_and_compaction_survive_reopening() {
        let dir = tempdir();
        let path = dir.join("log.redb");
        {
            let mut s = RedbStorage::open(&path, false).unwrap();
            s.persist(&ready(vec![e(1, 1), e(1, 2), e(1, 3)], 3))
                .unwrap();
            let one = Membership::simple([NodeId(1)]).unwrap();
            s.create_snapshot(Index(2), &one, "state at 2").unwrap();
            s.compact(Index(2)).unwrap();
            assert_eq!(
                s.compact(Index(3)),
                Err(StorageError::CompactBeyondSnapshot {
                    index: Index(3),
                    snapshot: Index(2)
                })
            );
        }
        let s = RedbStorage::open(&path, false).unwrap();
        assert_eq!(block_on(s.first_index()), Ok(Index(3)));
        assert_eq!(block_on(s.term(Index(2))), Ok(Term(1)));
        assert_eq!(
            block_on(s.term(Index(1))),
            Err(StorageError::Compacted {
                index: Index(1),
                first: Index(3)
            })
        );
        assert_eq!(s.stored_snapshot().data, bytes::Bytes::from("state at 2"));
        assert_eq!(block_on(s.entries(Index(3), Index(4))), Ok(vec![e(1, 3)]));
    }

    #[test]
    fn a_leaders_snapshot_replaces_the_log_and_a_bad_append_writes_nothing() {
        let dir = tempdir();
        let mut s = RedbStorage::open(&dir.join("log.redb"), false).unwrap();
        s.persist(&ready(vec![e(1, 1), e(1, 2)], 1)).unwrap();
        let gap = ready(vec![e(2, 5)], 2);
        assert_eq!(
            s.persist(&gap),
            Err(StorageError::Gap {
                head: Index(5),
                last: Index(2)
            })
        );
        assert_eq!(s.hard_state().committed_index, Index(1), "nothing written");
        let snapshot = Snapshot::new(EntryKey::new(Term(2), Index(9)), [NodeId(1)], "nine");
        let rd = Ready {
            snapshot: Some(Box::new(snapshot)),
            entries: vec![e(2, 10)],
            ..Ready::default()
        };
        s.persist(&rd).unwrap();
        assert_eq!(block_on(s.first_index()), Ok(Index(10)));
        assert_eq!(
            block_on(s.entries(Index(10), Index(11))),
            Ok(vec![e(2, 10)])
        );
        assert_eq!(block_on(s.term(Index(9))), Ok(Term(2)));
    }

    /// A fresh directory under the target directory, removed first.
    pub(crate) fn tempdir() -> std::path::PathBuf {
        use std::sync::atomic::{AtomicUsize, Ordering};
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let dir = std::env::temp_dir().join(format!(
            "ruft-kv-storage-{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }
}
