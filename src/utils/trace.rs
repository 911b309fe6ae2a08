//! One-line `tracing` events with fields, one helper per kind of event, so the
//! protocol code stays free of logging noise. Targets are `ruft::*`.

use crate::{DropReason, Index, Message, NodeId, Role, Term};

/// A node changed role (and possibly term).
pub fn role_changed(id: NodeId, term: Term, from: Role, to: Role) {
    tracing::info!(target: "ruft::role", node = %id, term = term.0, ?from, ?to, "role change");
}

/// A leader stepped down holding `count` unconfirmed reads: they are
/// dropped, and their clients retry (as after a lost message).
pub fn reads_dropped(id: NodeId, term: Term, count: usize) {
    if count > 0 {
        tracing::info!(target: "ruft::read", node = %id, term = term.0, count, "pending reads dropped");
    }
}

/// A node moved to a newer term.
pub fn term_changed(id: NodeId, from: Term, to: Term) {
    tracing::debug!(target: "ruft::term", node = %id, from = from.0, to = to.0, "term change");
}

/// A node granted or refused its vote (`transfer`: the candidate campaigns
/// on a leader transfer).
pub fn vote(id: NodeId, term: Term, candidate: NodeId, granted: bool, transfer: bool) {
    tracing::debug!(target: "ruft::vote", node = %id, term = term.0, %candidate, granted, transfer, "vote");
}

/// A node's commit index advanced.
pub fn committed(id: NodeId, term: Term, from: Index, to: Index) {
    tracing::debug!(target: "ruft::commit", node = %id, term = term.0, from = from.0, to = to.0, "commit");
}

/// A storage read failed where no error can be returned: what was being
/// done is left undone, like a lost message.
pub fn storage_failed(id: NodeId, what: &'static str, error: &crate::StorageError) {
    tracing::warn!(target: "ruft::storage", node = %id, what, %error, "storage read failed");
}

/// A message was dropped.
pub fn dropped(id: NodeId, msg: &Message, reason: DropReason) {
    tracing::debug!(target: "ruft::drop", node = %id, %msg, ?reason, "drop");
}

/// An outgoing message was dropped because the outbox is full.
pub fn outbox_full(id: NodeId, msg: &Message, outbox_max: usize) {
    tracing::warn!(target: "ruft::drop", node = %id, %msg, outbox_max, "outbox full, message dropped");
}

/// A message was refused with an error.
pub fn refused(id: NodeId, msg: &Message, error: &crate::Error) {
    tracing::debug!(target: "ruft::drop", node = %id, %msg, %error, "refused");
}

/// A leader transfer started, finished its catch-up, or was given up.
pub fn transfer(id: NodeId, target: NodeId, what: &'static str) {
    tracing::debug!(target: "ruft::transfer", node = %id, %target, what, "transfer");
}

/// A follower replaced its log with a leader's snapshot ending at `key`.
pub fn restored(id: NodeId, term: Term, key: crate::EntryKey) {
    tracing::info!(target: "ruft::snapshot", node = %id, term = term.0, %key, "restored snapshot");
}

/// A configuration entry took effect: the node's membership is now `next`.
pub fn membership_changed(
    id: NodeId,
    index: Index,
    change: &crate::ConfChange,
    next: &crate::Membership,
) {
    tracing::info!(target: "ruft::membership", node = %id, index = index.0, %change, ?next, "membership change");
}

/// A committed configuration entry that does not apply to the membership
/// was skipped (only a faulty leader appends one; every node skips it).
pub fn conf_change_skipped(
    id: NodeId,
    index: Index,
    change: &crate::ConfChange,
    error: &crate::MembershipError,
) {
    tracing::warn!(target: "ruft::drop", node = %id, index = index.0, %change, %error, "configuration entry skipped");
}
