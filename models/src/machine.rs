//! [`Machine`]: the model application's state machine. It applies every
//! committed entry it is handed, in order, and its snapshot data is its whole
//! state, so properties can compare a snapshot with the log it replaced.
//!
//! Only models with compaction keep one (`check --max-compactions N`):
//! without snapshots a state machine is exactly the applied prefix of the
//! log, which the ghost already judges entry by entry.

use bytes::{Buf, BufMut, Bytes, BytesMut};
use ruft::{
    ConfChange, Entry, EntryKey, EntryVariant, Index, MemStorage, MemberChange, Membership, NodeId,
    Ready, StorageError, Term,
};

/// The entries applied, in index order from index 1.
#[derive(Clone, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Machine {
    applied: Vec<Entry>,
}

/// Why the machine refused what it was handed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MachineError {
    /// An entry that does not come right after the last one applied (applied
    /// twice, or a gap).
    OutOfOrder {
        /// The entry's index.
        index: Index,
        /// The index the machine expected.
        expected: Index,
    },
    /// Snapshot data that does not decode to entries `1..=index`.
    BadSnapshot {
        /// The snapshot's index.
        index: Index,
    },
}

impl Machine {
    /// The index of the last entry applied.
    pub fn applied(&self) -> Index {
        Index(self.applied.len() as u64)
    }

    /// Every entry applied, from index 1.
    pub fn entries(&self) -> &[Entry] {
        &self.applied
    }

    /// The same machine with the ids its configuration entries name mapped
    /// through `f` (symmetry; its snapshot data, bytes, is not renamed, so
    /// `check` refuses symmetry with both compaction and membership changes).
    pub fn relabel(&self, f: &dyn Fn(NodeId) -> NodeId) -> Machine {
        Machine {
            applied: self.applied.iter().map(|e| e.relabel(f)).collect(),
        }
    }

    /// Applies `entry`, which must come right after the last one applied.
    pub fn apply(&mut self, entry: &Entry) -> Result<(), MachineError> {
        let expected = self.applied().next();
        if entry.index() != expected {
            return Err(MachineError::OutOfOrder {
                index: entry.index(),
                expected,
            });
        }
        self.applied.push(entry.clone());
        Ok(())
    }

    /// The application's step 3 for one Ready: restore from its snapshot, if
    /// it carries one, then apply its committed entries in order.
    pub fn apply_ready(&mut self, rd: &Ready) -> Result<(), MachineError> {
        if let Some(snapshot) = &rd.snapshot {
            *self = Machine::decode(snapshot.index(), &snapshot.data)?;
        }
        rd.committed_entries.iter().try_for_each(|e| self.apply(e))
    }

    /// Whether a compaction would drop anything: the machine applied entries
    /// beyond `storage`'s snapshot.
    pub fn may_compact(&self, storage: &MemStorage) -> bool {
        self.applied() > storage.stored_snapshot().index()
    }

    /// Snapshots the machine at its applied index into `storage` and drops
    /// the log up to there, as an application compacting its log does. The
    /// machine applies only committed, persisted entries, so a refusal means
    /// the engine handed out something else.
    pub fn compact(
        &self,
        storage: &mut MemStorage,
        membership: &Membership,
    ) -> Result<(), StorageError> {
        let index = self.applied();
        storage.create_snapshot(index, membership, self.encode())?;
        storage.compact(index)
    }

    /// The machine's whole state as snapshot data.
    pub fn encode(&self) -> Bytes {
        let mut b = BytesMut::new();
        for e in &self.applied {
            b.put_u64(e.term().0);
            b.put_u64(e.index().0);
            match &e.variant {
                EntryVariant::Empty => b.put_u8(0),
                EntryVariant::Normal(p) => {
                    b.put_u8(1);
                    b.put_u32(u32::try_from(p.len()).unwrap_or(u32::MAX));
                    b.put_slice(p);
                }
                EntryVariant::ConfChange(c) => {
                    b.put_u8(2);
                    encode_conf(&mut b, c);
                }
            }
        }
        b.freeze()
    }

    /// The machine a snapshot ending at `index` restores, if its data is the
    /// state of a machine that applied exactly `1..=index`.
    pub fn decode(index: Index, data: &[u8]) -> Result<Machine, MachineError> {
        let bad = MachineError::BadSnapshot { index };
        let mut data = data;
        let mut m = Machine::default();
        while data.has_remaining() {
            if data.remaining() < 17 {
                return Err(bad);
            }
            let key = EntryKey::new(Term(data.get_u64()), Index(data.get_u64()));
            let entry = match data.get_u8() {
                0 => Entry::empty(key),
                1 if data.remaining() >= 4 => {
                    let len = data.get_u32() as usize;
                    if data.remaining() < len {
                        return Err(bad);
                    }
                    Entry::normal(key, data.copy_to_bytes(len))
                }
                2 => Entry::conf_change(key, decode_conf(&mut data).ok_or(bad)?),
                _ => return Err(bad),
            };
            m.apply(&entry).map_err(|_| bad)?;
        }
        if m.applied() != index {
            return Err(bad);
        }
        Ok(m)
    }
}

/// A configuration change as bytes: a kind byte (0 simple, 1 joint, 2
/// joint with auto-leave, 3 leave), then for the first two a count and each
/// change as a kind byte and an id.
fn encode_conf(b: &mut BytesMut, change: &ConfChange) {
    let one = |b: &mut BytesMut, c: &MemberChange| {
        let kind = match c {
            MemberChange::AddVoter(_) => 0,
            MemberChange::AddLearner(_) => 1,
            MemberChange::Remove(_) => 2,
        };
        b.put_u8(kind);
        b.put_u64(c.node().0);
    };
    match change {
        ConfChange::Simple(c) => {
            b.put_u8(0);
            b.put_u32(1);
            one(b, c);
        }
        ConfChange::EnterJoint {
            changes,
            auto_leave,
        } => {
            b.put_u8(if *auto_leave { 2 } else { 1 });
            b.put_u32(u32::try_from(changes.len()).unwrap_or(u32::MAX));
            changes.iter().for_each(|c| one(b, c));
        }
        ConfChange::LeaveJoint => b.put_u8(3),
    }
}

/// The change [`encode_conf`] wrote, if the bytes hold one.
fn decode_conf(data: &mut &[u8]) -> Option<ConfChange> {
    if !data.has_remaining() {
        return None;
    }
    let kind = data.get_u8();
    if kind == 3 {
        return Some(ConfChange::LeaveJoint);
    }
    if kind > 3 || data.remaining() < 4 {
        return None;
    }
    let count = data.get_u32() as usize;
    if data.remaining() < count.saturating_mul(9) {
        return None;
    }
    let changes: Option<Vec<MemberChange>> = (0..count)
        .map(|_| {
            let k = data.get_u8();
            let id = NodeId(data.get_u64());
            match k {
                0 => Some(MemberChange::AddVoter(id)),
                1 => Some(MemberChange::AddLearner(id)),
                2 => Some(MemberChange::Remove(id)),
                _ => None,
            }
        })
        .collect();
    let changes = changes?;
    match (kind, changes.as_slice()) {
        (0, [one]) => Some(ConfChange::Simple(*one)),
        (0, _) => None,
        _ => Some(ConfChange::EnterJoint {
            changes,
            auto_leave: kind == 2,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn e(term: u64, index: u64) -> Entry {
        Entry::normal(EntryKey::new(Term(term), Index(index)), vec![index as u8])
    }

    #[test]
    fn applies_in_order_only_and_round_trips_through_snapshot_data() {
        let mut m = Machine::default();
        m.apply(&Entry::empty(EntryKey::new(Term(1), Index(1))))
            .unwrap();
        m.apply(&e(1, 2)).unwrap();
        assert_eq!(
            m.apply(&e(1, 2)),
            Err(MachineError::OutOfOrder {
                index: Index(2),
                expected: Index(3)
            })
        );
        let back = Machine::decode(Index(2), &m.encode()).unwrap();
        assert_eq!(back, m);
        assert_eq!(
            Machine::decode(Index(3), &m.encode()),
            Err(MachineError::BadSnapshot { index: Index(3) })
        );
        assert!(Machine::decode(Index(2), &m.encode()[..20]).is_err());
    }

    #[test]
    fn configuration_entries_round_trip_through_snapshot_data() {
        let k = |i| EntryKey::new(Term(1), Index(i));
        let joint = ConfChange::EnterJoint {
            changes: vec![
                MemberChange::Remove(NodeId(1)),
                MemberChange::AddLearner(NodeId(4)),
            ],
            auto_leave: true,
        };
        let mut m = Machine::default();
        for entry in [
            Entry::conf_change(k(1), ConfChange::Simple(MemberChange::AddVoter(NodeId(4)))),
            Entry::conf_change(k(2), joint),
            Entry::conf_change(k(3), ConfChange::LeaveJoint),
        ] {
            m.apply(&entry).unwrap();
        }
        assert_eq!(Machine::decode(Index(3), &m.encode()), Ok(m));
    }
}
