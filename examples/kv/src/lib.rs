//! A key-value state machine for ruft: the application half of a replicated
//! KV store, with no I/O of its own.
//!
//! - **Writes go through the log.** A client's [`Request`] (put, delete,
//!   compare-and-swap) is encoded ([`Request::encode`]) and proposed; every
//!   replica applies the committed entry with [`Kv::apply`], in log order, and
//!   so holds the same map.
//! - **Retries are applied once.** Each client numbers its requests 1, 2, ...
//!   and sends one at a time; the machine remembers each client's last request
//!   and its [`Outcome`] (its *session*, thesis §6.3). A retried request that
//!   was already applied is answered from the session, not applied again; a
//!   request older than the session's is [`Outcome::Stale`]. At most
//!   [`Kv::sessions_max`] sessions are kept (the least recently used is
//!   evicted, the same way on every replica); a client whose session was
//!   evicted gets [`Outcome::SessionExpired`] for any request but its first,
//!   never a second application.
//! - **Reads do not go through the log.** A read asks ruft for a ReadIndex
//!   (`Node::read_index`) and is served by [`Kv::get`] once the replica has
//!   applied the index in the `ReadState` (see
//!   `reference/raft-etcd/docs/raft-kv-implementation-guide.md`).
//! - **Snapshots** are the whole map and the sessions ([`Kv::snapshot`],
//!   [`Kv::restore`]): a replica restored from one answers retries exactly as
//!   the replica that took it.
//!
//! ```
//! use ruft::Index;
//! use ruft_kv::{ClientId, Kv, Op, Outcome, Request, RequestId};
//!
//! let put = Request::new(ClientId(7), RequestId(1), Op::put("x", "1"));
//! let mut kv = Kv::default();
//! let applied = kv.apply(Index(1), &put.encode()).unwrap();
//! assert_eq!(applied.outcome, Outcome::Done);
//! // The same request again (a client retry that was committed twice).
//! let again = kv.apply(Index(2), &put.encode()).unwrap();
//! assert_eq!(again.outcome, Outcome::Done);
//! assert!(again.duplicate, "answered from the session, not applied twice");
//! assert_eq!(kv.get("x"), Some("1"));
//! ```

use bytes::Bytes;
use ruft::Index;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use thiserror::Error;

/// A client of the store.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct ClientId(pub u64);

/// A client's number for one request: 1, 2, ..., one request at a time.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct RequestId(pub u64);

/// A write.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Op {
    /// Sets `key` to `value`.
    Put {
        /// The key.
        key: String,
        /// The new value.
        value: String,
    },
    /// Removes `key`.
    Delete {
        /// The key.
        key: String,
    },
    /// Sets `key` to `new` if its value is `expected` (`None`: absent).
    Cas {
        /// The key.
        key: String,
        /// The value the key must hold for the swap.
        expected: Option<String>,
        /// The value it then holds.
        new: String,
    },
}

impl Op {
    /// `Put { key, value }`.
    pub fn put(key: &str, value: &str) -> Op {
        Op::Put {
            key: key.to_string(),
            value: value.to_string(),
        }
    }
}

/// A client's write, as proposed to the log.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Request {
    /// Who asks.
    pub client: ClientId,
    /// The client's number for it.
    pub id: RequestId,
    /// What to do.
    pub op: Op,
}

impl Request {
    /// A request.
    pub fn new(client: ClientId, id: RequestId, op: Op) -> Request {
        Request { client, id, op }
    }

    /// The entry payload to propose.
    pub fn encode(&self) -> Bytes {
        serde_json::to_vec(self)
            .expect("a request always serializes")
            .into()
    }

    /// The request an entry payload holds.
    pub fn decode(payload: &[u8]) -> Result<Request, KvError> {
        serde_json::from_slice(payload).map_err(|e| KvError::BadCommand(e.to_string()))
    }
}

/// What a write did.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Outcome {
    /// A put or delete took effect.
    Done,
    /// A compare-and-swap: whether it swapped, and the value it found.
    Cas {
        /// Whether the value was `expected` and is now `new`.
        swapped: bool,
        /// The value before.
        found: Option<String>,
    },
    /// Older than the client's last request: the client has moved on and
    /// will not read this answer; nothing was applied.
    Stale,
    /// The client's session was evicted and this is not its first request:
    /// it may have been applied before, so it is not applied now.
    SessionExpired,
}

/// One applied entry's result, for the replica to answer its client.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Applied {
    /// The client that asked.
    pub client: ClientId,
    /// Its request.
    pub id: RequestId,
    /// What happened.
    pub outcome: Outcome,
    /// The request had been applied before: `outcome` is the first one's.
    pub duplicate: bool,
}

/// Why the machine refused an entry or a snapshot.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
pub enum KvError {
    /// The entry is not an encoded [`Request`].
    #[error("undecodable command: {0}")]
    BadCommand(String),
    /// The entry does not come right after the last one applied.
    #[error("entry {index} applied out of order (expected {expected})")]
    OutOfOrder {
        /// The entry's index.
        index: Index,
        /// The index expected next.
        expected: Index,
    },
    /// The snapshot data is not an encoded [`Kv`].
    #[error("undecodable snapshot: {0}")]
    BadSnapshot(String),
}

/// A client's session: its last request, what it did, and when it was last used.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
struct Session {
    last: RequestId,
    outcome: Outcome,
    /// The index of the entry that last used it (an `Index`; serde form).
    used: u64,
}

/// The replicated map, its sessions and the index it has applied.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Kv {
    data: BTreeMap<String, String>,
    sessions: BTreeMap<ClientId, Session>,
    /// The index applied last (an `Index`; serde form).
    applied: u64,
    sessions_max: usize,
}

impl Default for Kv {
    fn default() -> Kv {
        Kv::with_sessions_max(Kv::SESSIONS_MAX)
    }
}

impl Kv {
    /// Sessions kept by default.
    pub const SESSIONS_MAX: usize = 10_000;

    /// An empty store that keeps at most `sessions_max` sessions (at least 1).
    pub fn with_sessions_max(sessions_max: usize) -> Kv {
        Kv {
            data: BTreeMap::new(),
            sessions: BTreeMap::new(),
            applied: 0,
            sessions_max: sessions_max.max(1),
        }
    }

    /// The most sessions kept.
    pub fn sessions_max(&self) -> usize {
        self.sessions_max
    }

    /// The index of the last entry applied (or restored from a snapshot).
    pub fn applied(&self) -> Index {
        Index(self.applied)
    }

    /// The value of `key`. Linearizable only when served for a ReadState
    /// whose index this replica has applied.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.data.get(key).map(String::as_str)
    }

    /// Every key and value, in key order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.data.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }

    /// Skips an entry that carries no command (a leader's no-op).
    pub fn apply_empty(&mut self, index: Index) -> Result<(), KvError> {
        self.advance_to(index)
    }

    /// Applies the committed entry at `index` carrying `payload`: decodes it,
    /// answers a retry from the client's session, or applies the write. An
    /// undecodable payload is [`KvError::BadCommand`] and is skipped (the
    /// applied index moves past it, on every replica alike).
    pub fn apply(&mut self, index: Index, payload: &[u8]) -> Result<Applied, KvError> {
        self.check_next(index)?;
        // A committed entry is consumed whatever it holds: every replica
        // skips an undecodable one alike, so none falls behind the others.
        self.applied = index.0;
        let request = Request::decode(payload)?;
        let (outcome, duplicate) = match self.sessions.get(&request.client) {
            Some(s) if request.id < s.last => (Outcome::Stale, false),
            Some(s) if request.id == s.last => (s.outcome.clone(), true),
            None if request.id != RequestId(1) => (Outcome::SessionExpired, false),
            _ => (self.write(&request.op), false),
        };
        if !matches!(outcome, Outcome::Stale | Outcome::SessionExpired) {
            self.remember(&request, outcome.clone(), index);
        }
        Ok(Applied {
            client: request.client,
            id: request.id,
            outcome,
            duplicate,
        })
    }

    /// The machine's whole state as snapshot data.
    pub fn snapshot(&self) -> Bytes {
        serde_json::to_vec(self)
            .expect("a store always serializes")
            .into()
    }

    /// The machine a snapshot holds.
    pub fn restore(data: &[u8]) -> Result<Kv, KvError> {
        serde_json::from_slice(data).map_err(|e| KvError::BadSnapshot(e.to_string()))
    }

    fn advance_to(&mut self, index: Index) -> Result<(), KvError> {
        self.check_next(index)?;
        self.applied = index.0;
        Ok(())
    }

    /// Entries are applied one after the other, from the index after the last.
    fn check_next(&self, index: Index) -> Result<(), KvError> {
        let expected = self.applied().next();
        if index != expected {
            return Err(KvError::OutOfOrder { index, expected });
        }
        Ok(())
    }

    fn write(&mut self, op: &Op) -> Outcome {
        match op {
            Op::Put { key, value } => {
                self.data.insert(key.clone(), value.clone());
                Outcome::Done
            }
            Op::Delete { key } => {
                self.data.remove(key);
                Outcome::Done
            }
            Op::Cas { key, expected, new } => {
                let found = self.data.get(key).cloned();
                let swapped = found == *expected;
                if swapped {
                    self.data.insert(key.clone(), new.clone());
                }
                Outcome::Cas { swapped, found }
            }
        }
    }

    /// Records the client's latest request, evicting the least recently used
    /// session beyond `sessions_max` (ties by client id, so every replica
    /// evicts the same one).
    fn remember(&mut self, request: &Request, outcome: Outcome, index: Index) {
        let session = Session {
            last: request.id,
            outcome,
            used: index.0,
        };
        self.sessions.insert(request.client, session);
        while self.sessions.len() > self.sessions_max {
            let oldest = self
                .sessions
                .iter()
                .min_by_key(|(id, s)| (s.used, **id))
                .map(|(id, _)| *id);
            match oldest {
                Some(id) => self.sessions.remove(&id),
                None => break,
            };
        }
        debug_assert!(self.sessions.len() <= self.sessions_max);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(client: u64, id: u64, op: Op) -> Bytes {
        Request::new(ClientId(client), RequestId(id), op).encode()
    }

    #[test]
    fn a_compare_and_swap_swaps_only_on_the_expected_value() {
        let mut kv = Kv::default();
        let cas = |expected: Option<&str>, new: &str| Op::Cas {
            key: "k".into(),
            expected: expected.map(str::to_string),
            new: new.into(),
        };
        let first = kv.apply(Index(1), &req(1, 1, cas(None, "a"))).unwrap();
        assert_eq!(
            first.outcome,
            Outcome::Cas {
                swapped: true,
                found: None
            }
        );
        let second = kv.apply(Index(2), &req(1, 2, cas(Some("b"), "c"))).unwrap();
        assert_eq!(
            second.outcome,
            Outcome::Cas {
                swapped: false,
                found: Some("a".into())
            }
        );
        kv.apply(Index(3), &req(1, 3, Op::Delete { key: "k".into() }))
            .unwrap();
        assert_eq!(kv.get("k"), None);
    }

    #[test]
    fn retries_are_answered_from_the_session_and_old_requests_are_stale() {
        let mut kv = Kv::default();
        kv.apply(Index(1), &req(1, 1, Op::put("x", "1"))).unwrap();
        kv.apply(Index(2), &req(1, 2, Op::put("x", "2"))).unwrap();
        let retry = kv.apply(Index(3), &req(1, 2, Op::put("x", "2"))).unwrap();
        assert!(retry.duplicate);
        let old = kv.apply(Index(4), &req(1, 1, Op::put("x", "1"))).unwrap();
        assert_eq!(old.outcome, Outcome::Stale);
        assert_eq!(kv.get("x"), Some("2"), "neither was applied again");
        assert_eq!(kv.applied(), Index(4));
    }

    #[test]
    fn an_evicted_session_never_applies_a_request_twice() {
        let mut kv = Kv::with_sessions_max(1);
        kv.apply(Index(1), &req(1, 1, Op::put("x", "1"))).unwrap();
        kv.apply(Index(2), &req(1, 2, Op::put("x", "2"))).unwrap();
        kv.apply(Index(3), &req(2, 1, Op::put("y", "1"))).unwrap();
        // Client 1's session is gone; its retry of request 2 is refused.
        let retry = kv.apply(Index(4), &req(1, 2, Op::put("x", "2"))).unwrap();
        assert_eq!(retry.outcome, Outcome::SessionExpired);
        assert_eq!(kv.get("x"), Some("2"));
    }

    #[test]
    fn entries_apply_in_order_and_snapshots_round_trip() {
        let mut kv = Kv::default();
        kv.apply_empty(Index(1)).unwrap();
        assert!(matches!(
            kv.apply(Index(3), &req(1, 1, Op::put("x", "1"))),
            Err(KvError::OutOfOrder { .. })
        ));
        assert!(matches!(
            kv.apply(Index(2), b"not json"),
            Err(KvError::BadCommand(_))
        ));
        assert_eq!(kv.applied(), Index(2), "skipped, not stuck");
        kv.apply(Index(3), &req(1, 1, Op::put("x", "1"))).unwrap();
        let back = Kv::restore(&kv.snapshot()).unwrap();
        assert_eq!(back, kv);
        assert!(Kv::restore(b"{").is_err());
    }
}
