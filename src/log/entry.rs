//! Log entries and their coordinates: [`Index`], [`Term`], [`EntryKey`], [`Entry`].

use bytes::Bytes;
use std::fmt;

/// A position in the replicated log. `Index(0)` is the empty position before the
/// first entry; real entries start at `Index(1)`.
///
/// ```
/// use ruft::Index;
/// assert_eq!(Index(3).next(), Index(4));
/// assert_eq!(Index(3).prev(), Index(2));
/// assert_eq!(Index(0).prev(), Index(0)); // saturating: there is nothing before 0
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Index(pub u64);

impl Index {
    /// The index after this one (saturating at the largest index).
    pub fn next(self) -> Index {
        Index(self.0.saturating_add(1))
    }

    /// The index before this one (saturating at `Index(0)`).
    pub fn prev(self) -> Index {
        Index(self.0.saturating_sub(1))
    }

    /// `self + count`, or `None` if that would overflow (hostile input).
    pub fn checked_add(self, count: usize) -> Option<Index> {
        u64::try_from(count)
            .ok()
            .and_then(|c| self.0.checked_add(c))
            .map(Index)
    }

    /// How many entries lie in `(self, upto]`; zero when `upto <= self`.
    pub fn distance_to(self, upto: Index) -> usize {
        usize::try_from(upto.0.saturating_sub(self.0)).unwrap_or(usize::MAX)
    }
}

impl fmt::Display for Index {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// A Raft term. `Term(0)` is "no term yet" for a node and "local" for a message.
///
/// ```
/// use ruft::Term;
/// assert_eq!(Term(1).next(), Term(2));
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Term(pub u64);

impl Term {
    /// The largest term a message may carry: 2^63. A cluster that counts
    /// one election per millisecond reaches it after some 300 million
    /// years; a message beyond it is hostile or corrupt, and is refused
    /// ([`crate::Error::TermOutOfRange`]) so that no sender can push a node
    /// to the last terms, where it could never campaign again.
    pub const ACCEPTED_MAX: Term = Term(1 << 63);

    /// The term after this one (saturating at the largest term).
    pub fn next(self) -> Term {
        Term(self.0.saturating_add(1))
    }
}

impl fmt::Display for Term {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "t{}", self.0)
    }
}

/// The coordinates of an entry: its index and the term it was created in.
/// By Log Matching (§5.3) a key identifies an entry and the whole prefix before it.
///
/// Displayed as `index@term`:
/// ```
/// use ruft::{EntryKey, Index, Term};
/// assert_eq!(EntryKey::new(Term(2), Index(5)).to_string(), "5@2");
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct EntryKey {
    /// The term of the leader that created the entry.
    pub term: Term,
    /// The entry's position in the log.
    pub index: Index,
}

impl EntryKey {
    /// A key from its term and index.
    pub fn new(term: Term, index: Index) -> EntryKey {
        EntryKey { term, index }
    }

    /// Whether a log ending at `self` is at least as up to date as one ending at
    /// `other`: the later last term wins; with equal terms the longer log wins (§5.4.1).
    ///
    /// ```
    /// use ruft::{EntryKey, Index, Term};
    /// let short_new = EntryKey::new(Term(3), Index(2));
    /// let long_old = EntryKey::new(Term(2), Index(9));
    /// assert!(short_new.is_up_to_date_with(long_old));
    /// assert!(!long_old.is_up_to_date_with(short_new));
    /// ```
    pub fn is_up_to_date_with(self, other: EntryKey) -> bool {
        (self.term, self.index) >= (other.term, other.index)
    }
}

impl fmt::Display for EntryKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}@{}", self.index.0, self.term.0)
    }
}

/// What an entry carries.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum EntryVariant {
    /// The no-op a new leader appends in its term, so that it can commit (§5.4.2, §8).
    Empty,
    /// An application command.
    Normal(Bytes),
    /// A membership change: it takes effect on each node once that node's
    /// application has applied it (see [`crate::Node::propose_conf_change`]).
    ConfChange(crate::ConfChange),
}

/// One log entry.
///
/// ```
/// use ruft::{Entry, EntryKey, EntryVariant, Index, Term};
/// let e = Entry::normal(EntryKey::new(Term(1), Index(1)), "x");
/// assert_eq!(e.to_string(), "1@1");
/// assert_eq!(e.variant, EntryVariant::Normal("x".into()));
/// ```
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Entry {
    /// Where the entry sits and which term created it.
    pub key: EntryKey,
    /// The payload.
    pub variant: EntryVariant,
}

impl Entry {
    /// A leader's no-op entry.
    pub fn empty(key: EntryKey) -> Entry {
        Entry {
            key,
            variant: EntryVariant::Empty,
        }
    }

    /// An entry carrying an application command.
    pub fn normal(key: EntryKey, payload: impl Into<Bytes>) -> Entry {
        Entry {
            key,
            variant: EntryVariant::Normal(payload.into()),
        }
    }

    /// An entry carrying a membership change.
    pub fn conf_change(key: EntryKey, change: crate::ConfChange) -> Entry {
        Entry {
            key,
            variant: EntryVariant::ConfChange(change),
        }
    }

    /// The membership change it carries, if it is a configuration entry.
    pub fn as_conf_change(&self) -> Option<&crate::ConfChange> {
        match &self.variant {
            EntryVariant::ConfChange(change) => Some(change),
            _ => None,
        }
    }

    /// The same entry with the node ids it names mapped through `f` (only
    /// configuration entries name nodes).
    pub fn relabel(&self, f: &dyn Fn(crate::NodeId) -> crate::NodeId) -> Entry {
        match &self.variant {
            EntryVariant::ConfChange(change) => Entry::conf_change(self.key, change.relabel(f)),
            _ => self.clone(),
        }
    }

    /// The entry's index.
    pub fn index(&self) -> Index {
        self.key.index
    }

    /// The entry's term.
    pub fn term(&self) -> Term {
        self.key.term
    }

    /// The size of its payload in bytes (0 for a leader's no-op): what the
    /// byte limits of [`crate::Config`] count.
    pub fn payload_len(&self) -> usize {
        match &self.variant {
            EntryVariant::Empty => 0,
            EntryVariant::Normal(payload) => payload.len(),
            EntryVariant::ConfChange(change) => change.encoded_len(),
        }
    }
}

/// Entries display as their keys only (`3@2`); payloads are the application's.
impl fmt::Display for Entry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.key)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn up_to_date_compares_last_term_first_then_index() {
        let k = |t, i| EntryKey::new(Term(t), Index(i));
        assert!(k(2, 1).is_up_to_date_with(k(1, 5)));
        assert!(k(2, 5).is_up_to_date_with(k(2, 5)));
        assert!(k(2, 6).is_up_to_date_with(k(2, 5)));
        assert!(!k(2, 4).is_up_to_date_with(k(2, 5)));
        assert!(!k(1, 9).is_up_to_date_with(k(2, 1)));
    }

    #[test]
    fn index_arithmetic_never_overflows() {
        assert_eq!(Index(u64::MAX).next(), Index(u64::MAX));
        assert_eq!(Index(u64::MAX).checked_add(1), None);
        assert_eq!(Index(2).checked_add(3), Some(Index(5)));
        assert_eq!(Index(5).distance_to(Index(2)), 0);
        assert_eq!(Index(2).distance_to(Index(5)), 3);
    }
}
