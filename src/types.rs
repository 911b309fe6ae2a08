//! Identity and time newtypes: [`NodeId`] and [`Tick`].
//!
//! Raft numbers are never passed around as bare `u64`: a node id, a tick, a log
//! index ([`crate::Index`]) and a term ([`crate::Term`]) are four different types,
//! so the compiler rejects an index passed where a term is meant.

use std::fmt;

/// The identity of a Raft node. Ids carry no behaviour: any relabelling of the
/// ids of a cluster yields an equivalent cluster (the model checker relies on
/// this for symmetry reduction, see [`crate::Relabel`]).
///
/// ```
/// use ruft::NodeId;
/// assert_eq!(NodeId(3).to_string(), "n3");
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct NodeId(pub u64);

impl fmt::Display for NodeId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "n{}", self.0)
    }
}

/// A logical clock unit. The application calls [`crate::Node::tick`] at a steady
/// pace; election and heartbeat timeouts are measured in ticks.
///
/// ```
/// use ruft::Tick;
/// let mut t = Tick(4);
/// t.forward();
/// assert_eq!(t, Tick(5));
/// t.reset();
/// assert_eq!(t, Tick(0));
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Tick(pub u64);

impl Tick {
    /// Advances the clock by one tick (saturating: a clock never wraps).
    pub fn forward(&mut self) {
        self.0 = self.0.saturating_add(1);
    }

    /// Sets the clock back to zero.
    pub fn reset(&mut self) {
        self.0 = 0;
    }
}

impl fmt::Display for Tick {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}t", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::Tick;

    #[test]
    fn a_clock_saturates_resets_and_displays_in_ticks() {
        let mut clock = Tick(u64::MAX);
        clock.forward();
        assert_eq!(clock, Tick(u64::MAX), "a clock never wraps");
        clock.reset();
        clock.forward();
        assert_eq!(clock.to_string(), "1t");
    }
}
