//! The wire: length-prefixed postcard frames over TCP.
//!
//! A frame is a 4-byte little-endian length and that many bytes of a
//! postcard-encoded [`Frame`]. postcard is compact (varints, no field names)
//! and needs no schema compiler: ruft's `serde` feature gives `Message` and
//! everything it carries `Serialize`/`Deserialize`. A frame longer than
//! [`FRAME_BYTES_MAX`] or that does not decode closes the connection: the
//! peer is broken or hostile, and Raft treats the lost messages as lost.

use ruft::{Message, NodeId};
use ruft_kv::{Outcome, Request};
use serde::{Deserialize, Serialize};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// The longest frame read or written: a snapshot of a small store fits.
pub const FRAME_BYTES_MAX: usize = 64 << 20;

/// Everything that travels between processes.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Frame {
    /// The first frame of a connection from a peer: who it is.
    Hello {
        /// The connecting node.
        from: NodeId,
    },
    /// A Raft message between peers.
    Raft(Message),
    /// A client's request; the answer carries the same `tag`.
    Request {
        /// Chosen by the client to match the answer.
        tag: u64,
        /// What it asks.
        request: ClientRequest,
    },
    /// The answer to the request with this `tag`.
    Response {
        /// The request's tag.
        tag: u64,
        /// The answer.
        response: ClientResponse,
    },
}

/// What a client asks a server.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ClientRequest {
    /// A write through the log (retries carry the same client and id, and
    /// are applied once).
    Write(Request),
    /// A linearizable read of one key (ReadIndex).
    Read {
        /// The key.
        key: String,
    },
    /// Fault injection for tests: for `millis` milliseconds the node
    /// refuses its peers' connections and opens none (a network partition
    /// of the node; its clients are still served).
    Isolate {
        /// How long.
        millis: u64,
    },
    /// Which node this is, its role and term, its leader (for tests and
    /// `ruft-kv status`).
    Status,
}

/// A server's answer.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ClientResponse {
    /// The write was applied (once) with this outcome.
    Written(Outcome),
    /// The read's value.
    Value(Option<String>),
    /// This node cannot serve the request; try `leader` if known.
    NotLeader {
        /// The leader this node knows of.
        leader: Option<NodeId>,
    },
    /// The node refused for another reason (full, shutting down, a bad
    /// request); the client may retry elsewhere.
    Unavailable(String),
    /// The request can never be served (a key or value over the size
    /// limit): nothing was done, and retrying elsewhere does not help.
    Refused(String),
    /// The answer to [`ClientRequest::Isolate`].
    Isolated,
    /// The answer to [`ClientRequest::Status`].
    Status {
        /// The node.
        id: NodeId,
        /// Whether it leads.
        leader: bool,
        /// Its term.
        term: u64,
        /// Its applied index.
        applied: u64,
    },
}

/// Why a frame could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum WireError {
    /// The connection failed or closed.
    #[error("connection: {0}")]
    Io(#[from] std::io::Error),
    /// A frame beyond [`FRAME_BYTES_MAX`].
    #[error("a frame of {0} bytes is beyond the limit")]
    TooLong(usize),
    /// The bytes are not a frame.
    #[error("undecodable frame: {0}")]
    Decode(#[from] postcard::Error),
}

/// Reads one frame.
pub async fn read_frame<R: AsyncReadExt + Unpin>(reader: &mut R) -> Result<Frame, WireError> {
    let len = reader.read_u32_le().await? as usize;
    if len > FRAME_BYTES_MAX {
        return Err(WireError::TooLong(len));
    }
    let mut buf = vec![0; len];
    reader.read_exact(&mut buf).await?;
    Ok(postcard::from_bytes(&buf)?)
}

/// Encodes one frame, length prefix included.
pub fn encode_frame(frame: &Frame) -> Result<Vec<u8>, WireError> {
    let body = postcard::to_stdvec(frame)?;
    if body.len() > FRAME_BYTES_MAX {
        return Err(WireError::TooLong(body.len()));
    }
    let mut out = Vec::with_capacity(4 + body.len());
    out.extend_from_slice(&(body.len() as u32).to_le_bytes());
    out.extend_from_slice(&body);
    Ok(out)
}

/// Writes one frame.
pub async fn write_frame<W: AsyncWriteExt + Unpin>(
    writer: &mut W,
    frame: &Frame,
) -> Result<(), WireError> {
    writer.write_all(&encode_frame(frame)?).await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use ruft::{Entry, EntryKey, Index, MessageVariant, Term};

    #[test]
    fn a_raft_message_survives_the_wire_and_is_compact() {
        let append = MessageVariant::AppendEntries {
            prev: EntryKey::new(Term(1), Index(1)),
            entries: vec![Entry::normal(EntryKey::new(Term(2), Index(2)), "x=1")],
            commit: Index(1),
        };
        let frame = Frame::Raft(Message::new(NodeId(1), Term(2), NodeId(2), append));
        let bytes = encode_frame(&frame).unwrap();
        assert!(bytes.len() < 24, "{} bytes", bytes.len());
        let back = futures_lite_read(&bytes);
        assert_eq!(back, frame);
    }

    #[test]
    fn an_oversized_length_is_refused_before_reading() {
        let mut bytes = ((FRAME_BYTES_MAX + 1) as u32).to_le_bytes().to_vec();
        bytes.extend_from_slice(&[0; 8]);
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        let got = rt.block_on(read_frame(&mut bytes.as_slice()));
        assert!(matches!(got, Err(WireError::TooLong(_))), "{got:?}");
    }

    /// Every message variant, with every field set, comes back equal.
    #[test]
    fn every_message_variant_round_trips() {
        use ruft::{AppendOutcome, ConfChange, MemberChange, ReadSeq, Snapshot, SnapshotStatus};
        let key = EntryKey::new(Term(3), Index(7));
        let entries = vec![
            Entry::empty(key),
            Entry::normal(EntryKey::new(Term(3), Index(8)), "put x 1"),
            Entry {
                key: EntryKey::new(Term(3), Index(9)),
                variant: ruft::EntryVariant::ConfChange(ConfChange::Simple(
                    MemberChange::AddLearner(NodeId(4)),
                )),
            },
        ];
        let variants = vec![
            MessageVariant::Hup,
            MessageVariant::Beat,
            MessageVariant::Propose {
                payload: "p".into(),
            },
            MessageVariant::ProposeConfChange {
                change: ConfChange::Simple(MemberChange::Remove(NodeId(2))),
            },
            MessageVariant::CheckQuorum,
            MessageVariant::TransferLeader { target: NodeId(2) },
            MessageVariant::ReportSnapshot {
                peer: NodeId(2),
                status: SnapshotStatus::Failed,
            },
            MessageVariant::RequestVote {
                last: key,
                transfer: true,
            },
            MessageVariant::RequestVoteResponse { granted: true },
            MessageVariant::RequestPreVote { last: key },
            MessageVariant::RequestPreVoteResponse { granted: false },
            MessageVariant::TimeoutNow,
            MessageVariant::AppendEntries {
                prev: key,
                entries,
                commit: Index(6),
            },
            MessageVariant::InstallSnapshot {
                snapshot: Box::new(Snapshot::new(key, [NodeId(1), NodeId(2)], "state")),
            },
            MessageVariant::AppendEntriesResponse {
                outcome: AppendOutcome::Accepted { matched: Index(9) },
            },
            MessageVariant::AppendEntriesResponse {
                outcome: AppendOutcome::Rejected {
                    rejected: Index(9),
                    hint: key,
                },
            },
            MessageVariant::Heartbeat {
                commit: Index(9),
                read: Some(ReadSeq(5)),
            },
            MessageVariant::HeartbeatResponse { read: None },
            MessageVariant::ReadIndex { ctx: "c".into() },
            MessageVariant::ReadIndexForward { ctx: "c".into() },
            MessageVariant::ReadIndexResponse {
                index: Index(9),
                ctx: "c".into(),
            },
        ];
        for variant in variants {
            let frame = Frame::Raft(Message::new(NodeId(1), Term(3), NodeId(2), variant));
            assert_eq!(futures_lite_read(&encode_frame(&frame).unwrap()), frame);
        }
    }

    fn futures_lite_read(bytes: &[u8]) -> Frame {
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        rt.block_on(read_frame(&mut &bytes[..])).unwrap()
    }
}
