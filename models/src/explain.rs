//! A counterexample that explains itself: each step as a structured record
//! (what happened, to which node, what it sent, how the node ended), the
//! reason the violated property gives on the last state, the first step
//! from which the property fails, and what happened to the nodes the reason
//! names (crashes and restarts) along the way.
//!
//! Shared by the CLI's printout, `--json` and the explorer's state view, so
//! the three always say the same thing.

use crate::config::ModelConfig;
use crate::display;
use crate::model::{observe, Action, State};
use crate::properties::{self, Reason};
use ruft::{Message, NodeId};
use serde_json::json;
use stateright::actor::ActorModelAction;
use stateright::Path;

/// What a step did to the node it acted on, beyond its new state.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// The node's state changed (or the step acted on the network).
    Changed,
    /// A delivered message left the node as it was, but it answered.
    Answered,
    /// A delivered message left the node as it was and it sent nothing:
    /// a stale or refused message, consumed as a real network does.
    Ignored,
    /// The message reached a node that is down and was lost.
    Lost,
}

impl Outcome {
    /// The note printed after the action (empty for a plain change).
    pub fn note(self) -> &'static str {
        match self {
            Outcome::Changed => "",
            Outcome::Answered => " (answered, state unchanged)",
            Outcome::Ignored => " (ignored)",
            Outcome::Lost => " (lost: the node is down)",
        }
    }

    /// The word used in JSON.
    pub fn word(self) -> &'static str {
        match self {
            Outcome::Changed => "changed",
            Outcome::Answered => "answered",
            Outcome::Ignored => "ignored",
            Outcome::Lost => "lost",
        }
    }
}

/// One step of a run.
#[derive(Clone, Debug)]
pub struct Step {
    /// 1-based.
    pub number: usize,
    /// The action as `check` prints it.
    pub action: String,
    /// The node it acted on (none for a message the network lost).
    pub node: Option<NodeId>,
    /// What it did to that node.
    pub outcome: Outcome,
    /// The messages the step put on the network.
    pub sent: Vec<String>,
    /// The node after the step, as one line (or "network changed").
    pub after: String,
}

impl Step {
    /// `  3. n1 crashes  => n1 Follower t1 log[] commit 0 (down)`
    pub fn line(&self) -> String {
        format!(
            "{:>3}. {}{}  => {}",
            self.number,
            self.action,
            self.outcome.note(),
            self.after
        )
    }

    /// The step as JSON fields.
    pub fn json(&self) -> serde_json::Value {
        json!({
            "step": self.number,
            "action": self.action,
            "node": self.node.map(|n| n.0),
            "outcome": self.outcome.word(),
            "sent": self.sent,
            "after": self.after,
        })
    }
}

/// The messages in `after`'s network beyond those in `before`'s (counted as
/// a multiset, so a resent duplicate counts).
pub fn sent(before: &State, after: &State) -> Vec<Message> {
    let mut old: Vec<&Message> = before
        .network
        .iter_deliverable()
        .map(|e| &**e.msg)
        .collect();
    let mut new = Vec::new();
    for env in after.network.iter_deliverable() {
        match old.iter().position(|m| **m == **env.msg) {
            Some(k) => {
                old.swap_remove(k);
            }
            None => new.push(Message::clone(env.msg)),
        }
    }
    new
}

/// The step `action` took from `before` to `after`.
pub fn step(number: usize, before: &State, action: &Action, after: &State) -> Step {
    let actor = display::actor_of(action);
    let sent = sent(before, after);
    let outcome = match (action, actor) {
        (ActorModelAction::Deliver { .. }, Some(i)) if after.crashed[i] => Outcome::Lost,
        (ActorModelAction::Deliver { .. }, Some(i))
            if before.actor_states[i] == after.actor_states[i] =>
        {
            if sent.is_empty() {
                Outcome::Ignored
            } else {
                Outcome::Answered
            }
        }
        _ => Outcome::Changed,
    };
    let after_line = match actor {
        Some(i) => {
            let mut s = display::node_string(&after.actor_states[i]);
            if after.crashed[i] {
                s.push_str(" (down)");
            }
            s
        }
        None => "network changed".into(),
    };
    Step {
        number,
        action: display::action(action),
        node: actor.map(|i| after.actor_states[i].node.status().id),
        outcome,
        sent: sent.iter().map(Message::to_string).collect(),
        after: after_line,
    }
}

/// Every step of `path`.
pub fn steps(path: &Path<State, Action>) -> Vec<Step> {
    let v = path.clone().into_vec();
    v.windows(2)
        .enumerate()
        .filter_map(|(k, w)| Some(step(k + 1, &w[0].0, w[0].1.as_ref()?, &w[1].0)))
        .collect()
}

/// Why a run breaks a property, and from where.
#[derive(Clone, Debug)]
pub struct Explanation {
    /// The property's reason on the last state.
    pub reason: Reason,
    /// The first step after which the property fails (0: the initial state).
    pub from_step: usize,
    /// For each node the reason names, the steps at which it crashed or
    /// restarted, e.g. `n1 crashed at step 3, restarted at step 6`.
    pub history: Vec<String>,
}

impl Explanation {
    /// The lines printed under a counterexample.
    pub fn lines(&self, property: &str) -> Vec<String> {
        let mut out = vec![
            format!("Why \"{property}\" fails: {}", self.reason),
            format!("    it fails from step {} on", self.from_step),
        ];
        let mut involved = vec![format!(
            "nodes {}",
            names(&self.reason.nodes).unwrap_or_else(|| "none named".into())
        )];
        if !self.reason.terms.is_empty() {
            involved.push(format!("terms {}", join(&self.reason.terms)));
        }
        if !self.reason.indexes.is_empty() {
            involved.push(format!("indexes {}", join(&self.reason.indexes)));
        }
        out.push(format!("    compared: {}", involved.join("; ")));
        out.extend(self.history.iter().map(|h| format!("    {h}")));
        out
    }
}

fn join<T: std::fmt::Display>(items: &[T]) -> String {
    items
        .iter()
        .map(T::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

fn names(nodes: &[NodeId]) -> Option<String> {
    (!nodes.is_empty()).then(|| join(nodes))
}

/// Explains why `path` breaks `property`: `None` if the property is not an
/// Always one or holds on the path's last state.
pub fn explain(property: &str, path: &Path<State, Action>) -> Option<Explanation> {
    let def = properties::property(property)?;
    let v = path.clone().into_vec();
    let reason = def.explain(&observe(&v.last()?.0))?;
    // The first state from which the property fails on every later one.
    let holds: Vec<bool> = v.iter().map(|(s, _)| def.holds(&observe(s))).collect();
    let from_step = holds.iter().rposition(|&h| h).map_or(0, |k| k + 1);
    let history = reason
        .nodes
        .iter()
        .filter_map(|&id| node_history(&v, id))
        .collect();
    Some(Explanation {
        reason,
        from_step,
        history,
    })
}

/// `n1 crashed at step 3, restarted at step 6`, or `None` if it never did.
fn node_history(v: &[(State, Option<Action>)], id: NodeId) -> Option<String> {
    let events: Vec<String> = v
        .windows(2)
        .enumerate()
        .filter_map(|(k, w)| match w[0].1.as_ref()? {
            ActorModelAction::Crash(a) if is(&w[1].0, usize::from(*a), id) => {
                Some(format!("crashed at step {}", k + 1))
            }
            ActorModelAction::Recover(a) if is(&w[1].0, usize::from(*a), id) => {
                Some(format!("restarted at step {}", k + 1))
            }
            _ => None,
        })
        .collect();
    (!events.is_empty()).then(|| format!("{id} {}", events.join(", ")))
}

fn is(state: &State, actor: usize, id: NodeId) -> bool {
    state.actor_states[actor].node.status().id == id
}

/// What the explorer shows for a step (its "Current State" panel): the
/// model's flags, the step and what it sent, every node with its disk and
/// ghost, and the Always properties judged on the state the step reached,
/// each violated one with its reason.
pub fn step_view(cfg: &ModelConfig, last: &State, action: &Action, next: &State) -> String {
    let step = step(0, last, action, next);
    let mut out = format!("model: check serve {}\n\n", cfg.flags());
    out += &format!("step: {}{}\n", step.action, step.outcome.note());
    out += &format!(
        "sent: {}\n\n",
        if step.sent.is_empty() {
            "nothing".to_string()
        } else {
            step.sent.join(", ")
        }
    );
    out += &display::cluster_detail(next);
    out += "\n\n";
    out += &verdicts(cfg, next);
    out
}

/// The Always properties on `state`: each violated one with its reason,
/// then how many hold.
pub fn verdicts(cfg: &ModelConfig, state: &State) -> String {
    let nodes = observe(state);
    let mut holding = 0;
    let mut out = String::from("properties on this state:\n");
    for p in properties::enabled(cfg.features()) {
        if p.expect() != properties::Expect::Always {
            continue;
        }
        match p.explain(&nodes) {
            Some(why) => out += &format!("  VIOLATED {}: {why}\n", p.name),
            None => holding += 1,
        }
    }
    out += &format!("  {holding} Always properties hold here");
    out
}
