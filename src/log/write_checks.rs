//! The checks a storage backend makes before each write, shared by
//! [`crate::MemStorage`] and any durable backend (ruft-kv's `RedbStorage`
//! uses them), so every backend refuses the same bad writes with the same
//! [`StorageError`]s, and refuses them before writing anything.
//!
//! ```
//! use ruft::{write_checks, Index, StorageError};
//! // A log holding entries 4..=9 (3 is the last compacted one).
//! assert_eq!(write_checks::append(Index(10), Index(3), Index(9)), Ok(()));
//! assert_eq!(
//!     write_checks::append(Index(12), Index(3), Index(9)),
//!     Err(StorageError::Gap { head: Index(12), last: Index(9) })
//! );
//! ```

use crate::{Index, StorageError, StorageResult};

/// Entries appended from `head` onto a log holding `(compacted, last]`: the
/// head must lie in `[compacted + 1, last + 1]` (a follower replaces its
/// suffix from `head` on; it never leaves a hole or rewrites what is
/// compacted).
pub fn append(head: Index, compacted: Index, last: Index) -> StorageResult<()> {
    if head <= compacted {
        return Err(StorageError::Compacted {
            index: head,
            first: compacted.next(),
        });
    }
    if head > last.next() {
        return Err(StorageError::Gap { head, last });
    }
    Ok(())
}

/// A leader's snapshot ending at `index` replaces a log whose snapshot or
/// compaction point is `held`: it must be newer.
pub fn install(index: Index, held: Index) -> StorageResult<()> {
    if index <= held {
        return Err(StorageError::SnapshotOutOfDate {
            index,
            current: held,
        });
    }
    Ok(())
}

/// A snapshot of the state machine at `index`, replacing the one at
/// `current`, with `committed` the persisted commit index: it must be newer
/// and cover only committed entries.
pub fn create(index: Index, current: Index, committed: Index) -> StorageResult<()> {
    install(index, current)?;
    if index > committed {
        return Err(StorageError::Uncommitted { index, committed });
    }
    Ok(())
}

/// Compacting the log up to `index` under a snapshot at `snapshot`: only
/// what the snapshot covers may go.
pub fn compact(index: Index, snapshot: Index) -> StorageResult<()> {
    if index > snapshot {
        return Err(StorageError::CompactBeyondSnapshot { index, snapshot });
    }
    Ok(())
}
