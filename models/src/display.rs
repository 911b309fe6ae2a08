//! The compact, readable form shared by counterexamples, the explorer and
//! test transcripts: `n2 Follower t2 log[1@1 2@2] commit 1`.

use crate::model::{node_id, ModelTimer, NodeState, State, Wire};
use ruft::Entry;
use stateright::actor::ActorModelAction;
use std::fmt;

/// Writes entry keys separated by spaces (`1@1 2@2`).
pub fn keys<'a>(f: &mut impl fmt::Write, entries: impl Iterator<Item = &'a Entry>) -> fmt::Result {
    for (i, e) in entries.enumerate() {
        write!(f, "{}{}", if i == 0 { "" } else { " " }, e.key)?;
        if let Some(change) = e.as_conf_change() {
            write!(f, "({change})")?;
        }
    }
    Ok(())
}

/// `v{1,2,4} l{5} old{1,2,3} auto`: a membership, when it is not the
/// initial voters alone.
fn membership(f: &mut impl fmt::Write, st: &NodeState) -> fmt::Result {
    let m = st.node.membership();
    if !m.is_joint() && m.learners().is_empty() && m.incoming() == &st.node.config().voters {
        return Ok(());
    }
    let ids = |set: &std::collections::BTreeSet<ruft::NodeId>| {
        let all: Vec<String> = set.iter().map(|id| id.0.to_string()).collect();
        all.join(",")
    };
    write!(f, " members v{{{}}}", ids(m.incoming()))?;
    if !m.learners().is_empty() {
        write!(f, " l{{{}}}", ids(m.learners()))?;
    }
    if let Some(old) = m.outgoing() {
        write!(
            f,
            " old{{{}}}{}",
            ids(old),
            if m.auto_leave() { " auto" } else { "" }
        )?;
    }
    Ok(())
}

/// One node: role, term, vote, log, commit, applied, and a write in flight.
pub fn node_line(f: &mut impl fmt::Write, st: &NodeState) -> fmt::Result {
    let s = st.node.status();
    write!(f, "{} {:?} t{}", s.id, s.role, s.term.0)?;
    if let Some(v) = s.voted_node {
        write!(f, " vote {v}")?;
    }
    write!(f, " log[")?;
    let compacted = st.node.log().compacted();
    if compacted.index.0 > 0 {
        write!(f, "..{compacted}|")?;
    }
    keys(f, st.node.log().iter())?;
    write!(f, "] commit {}", s.committed.0)?;
    if s.applied.0 > 0 {
        write!(f, " applied {}", s.applied.0)?;
    }
    let snapshot = st.node.log().current_snapshot();
    if !snapshot.is_empty() {
        write!(f, " snapshot {}", snapshot.key())?;
    }
    membership(f, st)?;
    if let Some(rd) = &st.pending {
        write!(f, " (writing {} entries)", rd.entries.len())?;
        if let Some(snap) = &rd.snapshot {
            write!(f, " (installing snapshot {})", snap.key())?;
        }
    }
    if let Some(c) = &st.client {
        match c.op {
            Some(crate::clients::InFlight::Write { thread, key }) => {
                write!(f, " client: {thread} writes at {key}")?
            }
            Some(crate::clients::InFlight::Read { thread, index }) => match index {
                Some(i) => write!(f, " client: {thread} reads at {i}")?,
                None => write!(f, " client: {thread} reads")?,
            },
            None => {}
        }
    }
    Ok(())
}

/// A node line as a `String`.
pub fn node_string(st: &NodeState) -> String {
    let mut s = String::new();
    let _ = node_line(&mut s, st);
    s
}

/// The action, from the receiving node's point of view
/// (`n2 <- n1 Append{t2, prev 1@1, entries [2@2], commit 1}`).
pub fn action(a: &ActorModelAction<Wire, ModelTimer, ()>) -> String {
    match a {
        ActorModelAction::Deliver { msg, .. } => {
            format!("{} <- {} {}", msg.dst, msg.src, msg.body())
        }
        ActorModelAction::Drop(env) => format!("network loses {}", *env.msg),
        ActorModelAction::Timeout(_, ModelTimer::Clock) => {
            "a tick passes on every running node's clock".to_string()
        }
        ActorModelAction::Timeout(id, timer) => {
            let what = match timer {
                ModelTimer::Election => "election timeout (Hup)".to_string(),
                ModelTimer::Heartbeat => "heartbeat timeout (Beat)".to_string(),
                ModelTimer::Propose => "client proposes".to_string(),
                ModelTimer::Persist => "write completes".to_string(),
                ModelTimer::CheckQuorum => "election period ends (CheckQuorum)".to_string(),
                ModelTimer::LeaseExpiry => "hears no leader for election_tick ticks".to_string(),
                ModelTimer::Transfer(target) => {
                    format!("operator asks to transfer leadership to {target}")
                }
                ModelTimer::Compact => "snapshots its state machine and compacts".to_string(),
                ModelTimer::SnapshotFailed(peer) => {
                    format!("transport reports the snapshot to {peer} failed")
                }
                ModelTimer::ConfChange(offer) => {
                    format!("operator asks for membership change {offer}")
                }
                ModelTimer::ClientWrite => "its client writes".to_string(),
                ModelTimer::ClientRead => "its client reads".to_string(),
                ModelTimer::Clock => "its clock ticks".to_string(),
            };
            format!("{} {what}", node_id(*id))
        }
        ActorModelAction::Crash(id) => format!("{} crashes", node_id(*id)),
        ActorModelAction::Recover(id) => format!("{} restarts from storage", node_id(*id)),
        ActorModelAction::SelectRandom { actor, .. } => {
            format!("{} random choice", node_id(*actor))
        }
    }
}

/// The node an action acts on.
pub fn actor_of(a: &ActorModelAction<Wire, ModelTimer, ()>) -> Option<usize> {
    match a {
        ActorModelAction::Deliver { dst, .. } => Some(usize::from(*dst)),
        ActorModelAction::Timeout(id, _)
        | ActorModelAction::Crash(id)
        | ActorModelAction::Recover(id) => Some(usize::from(*id)),
        ActorModelAction::SelectRandom { actor, .. } => Some(usize::from(*actor)),
        ActorModelAction::Drop(_) => None,
    }
}

/// The whole cluster, one node per line, then the messages in flight.
pub fn cluster(state: &State) -> String {
    let mut out = String::new();
    for (st, &crashed) in state.actor_states.iter().zip(&state.crashed) {
        out.push_str(&node_string(st));
        if crashed {
            out.push_str(" (down)");
        }
        out.push('\n');
    }
    let msgs: Vec<String> = state
        .network
        .iter_deliverable()
        .map(|e| e.msg.to_string())
        .collect();
    out.push_str(&format!(
        "in flight: {}",
        if msgs.is_empty() {
            "none".into()
        } else {
            msgs.join(", ")
        }
    ));
    if !state.history.events.is_empty() {
        out.push_str(&format!("\nclients: {}", state.history));
    }
    out
}

/// What the node has on disk: `disk: t1 vote n1 commit 0 log[1@1]`, with
/// its snapshot when it holds one.
pub fn disk_line(st: &NodeState) -> String {
    let disk = st.node.storage();
    let mut out = format!("disk: {} log[", disk.hard_state());
    let _ = keys(&mut out, disk.stored_entries().iter());
    out.push(']');
    let snapshot = disk.stored_snapshot();
    if !snapshot.is_empty() {
        out.push_str(&format!(" snapshot {}", snapshot.key()));
    }
    out
}

/// What the properties recorded of the node over its whole history:
/// `ghost: led t1; votes t1->n1; committed [1@1]; broke: one vote per term`.
pub fn ghost_line(g: &crate::properties::Ghost) -> String {
    let mut parts = Vec::new();
    if !g.led.is_empty() {
        let led: Vec<String> = g.led.iter().map(|t| t.to_string()).collect();
        parts.push(format!("led {}", led.join(",")));
    }
    if !g.votes.is_empty() {
        let votes: Vec<String> = g.votes.iter().map(|(t, c)| format!("{t}->{c}")).collect();
        parts.push(format!("votes {}", votes.join(",")));
    }
    if !g.committed.is_empty() {
        let mut committed = String::from("committed [");
        let _ = keys(&mut committed, g.committed.iter());
        committed.push(']');
        parts.push(committed);
    }
    for (_, why) in g.flags.broken() {
        parts.push(format!("broke: {}", why.clause));
    }
    if parts.is_empty() {
        parts.push("nothing yet".into());
    }
    format!("ghost: {}", parts.join("; "))
}

/// The whole cluster, each node followed by its disk and its ghost, then
/// the messages in flight and the clients' history.
pub fn cluster_detail(state: &State) -> String {
    let mut out = String::new();
    for (st, &crashed) in state.actor_states.iter().zip(&state.crashed) {
        out.push_str(&node_string(st));
        if crashed {
            out.push_str(" (down)");
        }
        out.push_str(&format!(
            "\n    {}\n    {}\n",
            disk_line(st),
            ghost_line(&st.ghost)
        ));
    }
    let summary = cluster(state);
    // The last lines of the one-line view: in flight, and clients.
    let tail: Vec<&str> = summary.lines().skip(state.actor_states.len()).collect();
    out.push_str(&tail.join("\n"));
    out
}
