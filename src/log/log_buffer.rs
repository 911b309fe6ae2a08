//! [`LogBuffer`]: entries a node holds but the application has not yet persisted.

use crate::{Entry, EntryKey, Index, Term};

/// Which of the three append cases applied (see [`LogBuffer::append`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AppendCase {
    /// The new entries start right after the last one: plain extension.
    Extend,
    /// The new entries start at or before the buffer's first entry: the whole
    /// buffer (and the persisted suffix from that index on) is replaced.
    Replace,
    /// The new entries start inside the buffer: its tail is cut, then extended.
    TruncateExtend,
}

/// The unpersisted tail of the log. `prev` is the key of the entry just before
/// the first buffered entry; everything up to `prev` is in storage. From
/// `prev.index + 1` on, the buffer is the truth and hides whatever storage still
/// holds there (a suffix the application will overwrite).
///
/// `handed` is the last index already handed to the application in a Ready;
/// only entries after it go into the next Ready.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct LogBuffer {
    prev: EntryKey,
    entries: Vec<Entry>,
    handed: Index,
}

impl LogBuffer {
    /// An empty buffer after the persisted log ending at `stable_last`.
    pub fn new(stable_last: EntryKey) -> LogBuffer {
        LogBuffer {
            prev: stable_last,
            entries: Vec::new(),
            handed: stable_last.index,
        }
    }

    /// Maps the node ids configuration entries name (symmetry reduction).
    pub(crate) fn relabel(&mut self, f: &dyn Fn(crate::NodeId) -> crate::NodeId) {
        for e in &mut self.entries {
            if e.as_conf_change().is_some() {
                *e = e.relabel(f);
            }
        }
    }

    /// Key of the last entry of the whole log.
    pub fn last(&self) -> EntryKey {
        self.entries.last().map_or(self.prev, |e| e.key)
    }

    /// Key of the last entry known to be in storage and still part of the log.
    pub fn persisted(&self) -> EntryKey {
        self.prev
    }

    /// The term at `index` if the buffer knows it (`prev` or a buffered entry).
    pub fn term(&self, index: Index) -> Option<Term> {
        if index == self.prev.index {
            return Some(self.prev.term);
        }
        self.get(index).map(Entry::term)
    }

    /// The buffered entry at `index`, if any.
    pub fn get(&self, index: Index) -> Option<&Entry> {
        if index <= self.prev.index {
            return None;
        }
        self.entries.get(self.prev.index.distance_to(index) - 1)
    }

    /// Buffered entries in `[low, high)`, clipped to the buffer.
    pub fn slice(&self, low: Index, high: Index) -> &[Entry] {
        let first = self.prev.index.next();
        let start = first.distance_to(low.max(first)).min(self.entries.len());
        let end = first.distance_to(high.max(first)).min(self.entries.len());
        &self.entries[start..end.max(start)]
    }

    /// Appends `entries`, which follow `prev` (a key the caller verified is in
    /// the log). Three cases, by where the new head falls:
    /// after the last entry (extend), at or before the buffer's first entry
    /// (replace: storage from there on becomes hidden), or inside (truncate, then
    /// extend). Returns `None` for an empty append.
    pub fn append(&mut self, prev: EntryKey, entries: &[Entry]) -> Option<AppendCase> {
        let head = entries.first()?.index();
        debug_assert_eq!(head, prev.index.next(), "appended entries follow prev");
        debug_assert!(head <= self.last().index.next(), "an append leaves no gap");
        let case = if head == self.last().index.next() {
            probe!(AppendExtend);
            AppendCase::Extend
        } else if head <= self.prev.index.next() {
            probe!(AppendReplace);
            self.prev = prev;
            self.entries.clear();
            AppendCase::Replace
        } else {
            probe!(AppendTruncateExtend);
            self.entries
                .truncate(self.prev.index.distance_to(prev.index));
            AppendCase::TruncateExtend
        };
        self.handed = self.handed.min(prev.index);
        self.entries.extend_from_slice(entries);
        Some(case)
    }

    /// Marks every entry as handed to the application and returns those that
    /// were not handed before.
    pub fn take_unhanded(&mut self) -> &[Entry] {
        let from = self.handed.max(self.prev.index);
        self.handed = self.last().index;
        &self.entries[self.prev.index.distance_to(from)..]
    }

    /// Whether some entries wait to be handed to the application.
    pub fn has_unhanded(&self) -> bool {
        self.handed < self.last().index
    }

    /// The application persisted the log up to `key`: forget those entries, unless
    /// the buffer has since replaced them (then the newer version is still to come).
    pub fn on_persisted(&mut self, key: EntryKey) {
        if self.term(key.index) != Some(key.term) || key.index <= self.prev.index {
            return;
        }
        let count = self.prev.index.distance_to(key.index);
        self.entries.drain(..count);
        self.prev = key;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn k(term: u64, index: u64) -> EntryKey {
        EntryKey::new(Term(term), Index(index))
    }

    fn es(keys: &[(u64, u64)]) -> Vec<Entry> {
        keys.iter().map(|&(t, i)| Entry::empty(k(t, i))).collect()
    }

    fn keys(b: &LogBuffer) -> Vec<EntryKey> {
        b.slice(Index(0), Index(u64::MAX))
            .iter()
            .map(|e| e.key)
            .collect()
    }

    #[test]
    fn extend_at_the_end() {
        let mut b = LogBuffer::new(k(1, 2));
        assert_eq!(
            b.append(k(1, 2), &es(&[(1, 3), (1, 4)])),
            Some(AppendCase::Extend)
        );
        assert_eq!(keys(&b), vec![k(1, 3), k(1, 4)]);
        assert_eq!(b.last(), k(1, 4));
        assert_eq!(b.persisted(), k(1, 2));
    }

    #[test]
    fn replace_when_the_head_is_at_or_before_the_offset() {
        let mut b = LogBuffer::new(k(1, 5));
        b.append(k(1, 5), &es(&[(1, 6), (1, 7)]));
        // head 4 lies before the buffer's first entry (6): storage from 4 on is hidden.
        assert_eq!(b.append(k(1, 3), &es(&[(2, 4)])), Some(AppendCase::Replace));
        assert_eq!(keys(&b), vec![k(2, 4)]);
        assert_eq!(b.persisted(), k(1, 3));
        assert_eq!(
            b.term(Index(5)),
            None,
            "5 is neither buffered nor below the buffer"
        );
    }

    #[test]
    fn truncate_then_extend_in_between() {
        let mut b = LogBuffer::new(k(1, 1));
        b.append(k(1, 1), &es(&[(1, 2), (1, 3), (1, 4)]));
        assert_eq!(
            b.append(k(1, 2), &es(&[(3, 3)])),
            Some(AppendCase::TruncateExtend)
        );
        assert_eq!(keys(&b), vec![k(1, 2), k(3, 3)]);
        assert_eq!(b.last(), k(3, 3));
    }

    #[test]
    fn hand_out_once_and_again_after_a_truncation() {
        let mut b = LogBuffer::new(k(0, 0));
        b.append(k(0, 0), &es(&[(1, 1), (1, 2)]));
        assert_eq!(b.take_unhanded().len(), 2);
        assert!(b.take_unhanded().is_empty());
        b.append(k(1, 1), &es(&[(2, 2)]));
        assert_eq!(b.take_unhanded(), es(&[(2, 2)]).as_slice());
    }

    #[test]
    fn persisted_entries_leave_the_buffer_unless_replaced() {
        let mut b = LogBuffer::new(k(0, 0));
        b.append(k(0, 0), &es(&[(1, 1), (1, 2), (1, 3)]));
        b.take_unhanded();
        b.on_persisted(k(1, 2));
        assert_eq!(b.persisted(), k(1, 2));
        assert_eq!(keys(&b), vec![k(1, 3)]);
        b.append(k(1, 2), &es(&[(2, 3)]));
        b.on_persisted(k(1, 3)); // the old 3@1 was persisted, but 3@2 replaced it
        assert_eq!(b.persisted(), k(1, 2));
        assert_eq!(b.last(), k(2, 3));
    }
}
