//! Values computed once per state and never part of its identity.
//!
//! stateright hashes every generated state in full and evaluates every
//! property on every unique state. A node state is shared (`Arc`) by every
//! state it is part of, so its hash is computed once, when it is first
//! needed, and kept beside it ([`Memo`]). A memo never survives a clone: the
//! clone is about to be changed (that is why a handler clones), so it
//! computes its own.

use std::hash::BuildHasher;
use std::sync::OnceLock;

/// The hasher of fingerprints: fast, keyed with fixed seeds, so a
/// fingerprint is the same in every run of the same build (sharded searches
/// compare them across processes).
pub fn hasher() -> ahash::AHasher {
    ahash::RandomState::with_seeds(0x5275_6674, 0x6368_6563, 0x6b20_6d6f, 0x64656c).build_hasher()
}

/// A value computed at most once from the state that holds it. Cloning gives
/// an empty memo, and it compares equal to every other memo, so it takes no
/// part in the equality of the state around it (whose `Hash` and `Ord` are
/// written by hand and leave it out).
#[derive(Default)]
pub struct Memo<T>(OnceLock<T>);

impl<T> Memo<T> {
    /// The memo's value, computed by `f` on first use.
    pub fn get_or_init(&self, f: impl FnOnce() -> T) -> &T {
        self.0.get_or_init(f)
    }
}

impl<T> Clone for Memo<T> {
    fn clone(&self) -> Self {
        Memo(OnceLock::new())
    }
}

impl<T> PartialEq for Memo<T> {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}

impl<T> Eq for Memo<T> {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_clone_forgets_and_equality_ignores_the_value() {
        let m: Memo<u64> = Memo::default();
        assert_eq!(*m.get_or_init(|| 7), 7);
        assert_eq!(*m.get_or_init(|| 8), 7, "computed once");
        let c = m.clone();
        assert_eq!(*c.get_or_init(|| 9), 9, "a clone computes its own");
        assert!(m == c, "and still compares equal");
    }
}
