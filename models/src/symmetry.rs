//! Symmetry reduction: node ids carry no behaviour, so states that differ
//! only by a renaming of the nodes are explored once. stateright sorts actor
//! states to pick a canonical renaming and rewrites every id with it; ruft's
//! [`Relabel`] does the rewriting inside the nodes.

use crate::intern::Interner;
use crate::model::{actor_id, node_id, Durable, ModelTimer, NodeData, NodeState, State, Wire};
use crate::properties::Ghost;
use crate::step_cache::Kept;
use ruft::{NodeId, Relabel};
use stateright::actor::Id;
use stateright::util::DenseNatMap;
use stateright::{Rewrite, RewritePlan};
use std::cmp::Ordering;
use std::hash::{Hash, Hasher};
use std::sync::Arc;

/// The renaming `plan` as a function on node ids.
fn rename<S>(plan: &RewritePlan<Id, S>) -> impl Fn(NodeId) -> NodeId + '_ {
    move |id| node_id(plan.rewrite(&actor_id(id)))
}

impl Rewrite<Id> for Wire {
    fn rewrite<S>(&self, plan: &RewritePlan<Id, S>) -> Self {
        Wire::new(self.relabel(&rename(plan)))
    }
}

impl Rewrite<Id> for crate::clients::History {
    fn rewrite<S>(&self, plan: &RewritePlan<Id, S>) -> Self {
        self.relabel(&rename(plan))
    }
}

impl Rewrite<Id> for ModelTimer {
    fn rewrite<S>(&self, plan: &RewritePlan<Id, S>) -> Self {
        match self {
            ModelTimer::Transfer(target) => ModelTimer::Transfer(rename(plan)(*target)),
            ModelTimer::SnapshotFailed(peer) => ModelTimer::SnapshotFailed(rename(plan)(*peer)),
            ModelTimer::ConfChange(offer) => ModelTimer::ConfChange(offer.relabel(&rename(plan))),
            other => *other,
        }
    }
}

/// Entries with the ids configuration entries name renamed (a copy only
/// when some entry names a node).
fn relabel_entries(entries: &[ruft::Entry], f: &dyn Fn(NodeId) -> NodeId) -> Vec<ruft::Entry> {
    entries.iter().map(|e| e.relabel(f)).collect()
}

fn rewrite_ghost(g: &Ghost, f: &dyn Fn(NodeId) -> NodeId) -> Ghost {
    Ghost {
        votes: g.votes.iter().map(|(&t, &c)| (t, f(c))).collect(),
        leadership: g.leadership.relabel(f),
        committed: relabel_entries(&g.committed, f),
        ..g.clone()
    }
}

impl Rewrite<Id> for Durable {
    fn rewrite<S>(&self, plan: &RewritePlan<Id, S>) -> Self {
        let f = rename(plan);
        Durable {
            storage: self.storage.relabel(&f),
            ghost: rewrite_ghost(&self.ghost, &f),
            ..self.clone()
        }
    }
}

impl Rewrite<Id> for NodeState {
    fn rewrite<S>(&self, plan: &RewritePlan<Id, S>) -> Self {
        let f = rename(plan);
        let pending = self.pending.clone().map(|mut rd| {
            rd.messages = rd.messages.iter().map(|m| m.relabel(&f)).collect();
            rd.hard_state = rd.hard_state.map(|hs| hs.relabel(&f));
            rd.snapshot = rd.snapshot.map(|snap| Box::new(snap.relabel(&f)));
            rd.entries = relabel_entries(&rd.entries, &f);
            rd.committed_entries = relabel_entries(&rd.committed_entries, &f);
            rd
        });
        NodeData {
            node: self.node.relabel(&f),
            pending,
            proposals: self.proposals,
            crashes: self.crashes,
            transfers: self.transfers,
            pre_votes: self.pre_votes,
            compactions: self.compactions,
            conf_changes: self.conf_changes,
            machine: self.machine.as_ref().map(|m| m.relabel(&f)),
            client: self.client.map(|c| c.relabel(&f)),
            register: self.register,
            events: self.events.iter().map(|e| e.relabel(&f)).collect(),
            ghost: rewrite_ghost(&self.ghost, &f),
            fingerprint: Default::default(),
        }
        .into()
    }
}

impl NodeState {
    /// Facts that do not mention node ids, compared first (the log's entry
    /// keys come after them, in [`NodeState::cmp`]).
    fn id_free_key(&self) -> impl Ord {
        let s = self.node.status();
        (
            (s.role, s.term, s.last, s.committed, s.applied),
            self.proposals,
            self.transfers,
            self.pre_votes,
            self.compactions,
            self.client.map(|c| c.issued),
        )
    }

    /// The keys of the log's entries, in order.
    fn log_keys(&self) -> impl Iterator<Item = ruft::EntryKey> + '_ {
        self.node.log().iter().map(|e| e.key)
    }
}

impl PartialOrd for NodeState {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// Id-free facts first; ties are broken by the full state (consistent with `Eq`).
impl Ord for NodeState {
    fn cmp(&self, other: &Self) -> Ordering {
        let id_free = self.id_free_key().cmp(&other.id_free_key());
        id_free
            .then_with(|| self.log_keys().cmp(other.log_keys()))
            .then_with(|| {
                (
                    &self.node,
                    &self.pending,
                    self.proposals,
                    self.crashes,
                    self.transfers,
                    self.pre_votes,
                    &self.machine,
                    (&self.client, &self.register, &self.events),
                    &self.ghost,
                )
                    .cmp(&(
                        &other.node,
                        &other.pending,
                        other.proposals,
                        other.crashes,
                        other.transfers,
                        other.pre_votes,
                        &other.machine,
                        (&other.client, &other.register, &other.events),
                        &other.ghost,
                    ))
            })
    }
}

/// The representative of `state` under renaming of the nodes: stateright's
/// `Representative` (nodes sorted by their state), except that timers that
/// name a node (`ModelTimer::Transfer`) are renamed too; stateright keeps a
/// timer set as it is, which offered a leader a transfer to itself.
///
/// Renamed node states are interned into `interner` and their renamings kept
/// in `renamings`, so the next time the same node state is renamed the same
/// way costs a lookup.
pub fn representative(state: &State, renamings: &Renamings, interner: &Interner) -> State {
    // Node states never tie (each holds its id), so sorted ones map to
    // themselves: the renaming would be the identity.
    if state.actor_states.windows(2).all(|w| w[0] < w[1]) {
        return state.clone();
    }
    let plan = RewritePlan::<Id, _>::from_values_to_sort(&state.actor_states);
    with_plan(state, &plan, Some((renamings, interner)))
}

/// `state` with its nodes renamed so that node `i` becomes node `order[i]`.
fn renamed(state: &State, order: &[usize]) -> State {
    let plan = RewritePlan::<Id, _>::from_values_to_sort(order);
    with_plan(state, &plan, None)
}

/// Where renamed node states are kept and made canonical.
type Keep<'a> = Option<(&'a Renamings, &'a Interner)>;

/// `state` rewritten by `plan`, timers included.
fn with_plan(state: &State, plan: &RewritePlan<Id, DenseNatMap<Id, Id>>, keep: Keep) -> State {
    State {
        actor_states: renamed_nodes(&state.actor_states, plan, keep),
        network: state.network.rewrite(plan),
        // stateright's rewrite keeps a timer set as it is; transfer timers
        // name a node, so each set is rebuilt with its timers renamed.
        timers_set: plan
            .reindex(&state.timers_set)
            .iter()
            .map(|timers| {
                let mut renamed = stateright::actor::Timers::new();
                for t in timers.iter() {
                    renamed.set(t.rewrite(plan));
                }
                renamed
            })
            .collect(),
        random_choices: plan.reindex(&state.random_choices),
        crashed: plan.reindex(&state.crashed),
        actor_storages: plan.reindex(&state.actor_storages),
        history: state.history.rewrite(plan),
    }
}

/// `plan.reindex(nodes)`: node `i`, renamed, becomes node `plan(i)`. A
/// renaming made before is handed out again.
fn renamed_nodes(
    nodes: &[Arc<NodeState>],
    plan: &RewritePlan<Id, DenseNatMap<Id, Id>>,
    keep: Keep,
) -> Vec<Arc<NodeState>> {
    let to: Vec<usize> = (0..nodes.len())
        .map(|i| usize::from(plan.rewrite(&Id::from(i))))
        .collect();
    let mut out: Vec<Option<Arc<NodeState>>> = vec![None; nodes.len()];
    for (st, &k) in nodes.iter().zip(&to) {
        let renamed = match keep {
            None => st.rewrite(plan),
            Some((renamings, interner)) => renamings.get(st, &to).unwrap_or_else(|| {
                let renamed = interner.intern(st.rewrite(plan));
                renamings.put(st, &to, &renamed);
                renamed
            }),
        };
        out[k] = Some(renamed);
    }
    out.into_iter()
        .map(|st| st.expect("a renaming is a permutation"))
        .collect()
}

/// Renamings kept per model.
const RENAMINGS_MAX: usize = 1 << 16;

type Renaming = (Arc<NodeState>, Vec<usize>, Arc<NodeState>);

/// Node states renamed before, by (state, renaming): a symmetric search
/// renames the same node state the same way over and over, and a renaming
/// is a pure function of the two. A hit is checked with `==` (pointers
/// first); the table is bounded like the step cache's ([`Kept`]).
pub struct Renamings(Kept<Renaming>);

impl Default for Renamings {
    fn default() -> Renamings {
        Renamings(Kept::new(RENAMINGS_MAX))
    }
}

impl Renamings {
    fn key(st: &NodeState, to: &[usize]) -> u64 {
        let mut h = crate::memo::hasher();
        h.write_u64(st.fingerprint());
        to.hash(&mut h);
        h.finish()
    }

    fn get(&self, st: &Arc<NodeState>, to: &[usize]) -> Option<Arc<NodeState>> {
        self.0.find(Self::key(st, to), |(before, order, after)| {
            (order == to && (Arc::ptr_eq(before, st) || **before == **st))
                .then(|| Arc::clone(after))
        })
    }

    fn put(&self, st: &Arc<NodeState>, to: &[usize], renamed: &Arc<NodeState>) {
        let entry = (Arc::clone(st), to.to_vec(), Arc::clone(renamed));
        self.0.put(Self::key(st, to), entry);
    }
}

/// Whether `a` and `b` are the same state up to a renaming of the nodes.
/// stateright's representative is not a canonical form (nodes whose states
/// tie are ordered as they come), so two renamings of one state may have
/// different representatives; this tries every renaming instead (at most
/// 5! = 120 for the clusters the model checks).
pub fn same_up_to_renaming(a: &State, b: &State) -> bool {
    let n = a.actor_states.len();
    if n != b.actor_states.len() || a.network.len() != b.network.len() {
        return false;
    }
    let mut order: Vec<usize> = (0..n).collect();
    let mut found = false;
    permute(&mut order, 0, &mut |order| {
        found = found || renamed(a, order) == *b;
    });
    found
}

/// Calls `f` with every permutation of `items[k..]` (Heap-like recursion).
fn permute(items: &mut Vec<usize>, k: usize, f: &mut dyn FnMut(&[usize])) {
    if k == items.len() {
        f(items);
        return;
    }
    for i in k..items.len() {
        items.swap(k, i);
        permute(items, k + 1, f);
        items.swap(k, i);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{ModelConfig, RuftModel};
    use stateright::{Model, Representative};

    /// Along pseudo-random walks of the plain model, the representative made
    /// with kept renamings (asked twice, so the second one hits) is the one
    /// made from scratch, and a kept renaming is handed out as one pointer.
    #[test]
    fn a_kept_renaming_is_the_renaming() {
        let model = RuftModel::new(ModelConfig::default());
        let (renamings, interner) = (Renamings::default(), Interner::default());
        let mut renamed = 0;
        crate::walk::visit_walks(&model, 0x9e37_79b9_7f4a_7c15, 100, 30, |_, next| {
            let first = representative(next, &renamings, &interner);
            let again = representative(next, &renamings, &interner);
            let plan = RewritePlan::<Id, _>::from_values_to_sort(&next.actor_states);
            assert!(first == with_plan(next, &plan, None) && again == first);
            let shared = first.actor_states.iter().zip(&again.actor_states);
            assert!(shared.clone().all(|(a, b)| Arc::ptr_eq(a, b)));
            renamed += usize::from(first != *next);
        });
        assert!(renamed > 500, "the walks renamed states ({renamed})");
    }

    #[test]
    fn every_permutation_is_visited_once() {
        let mut seen = Vec::new();
        permute(&mut vec![0, 1, 2], 0, &mut |p| seen.push(p.to_vec()));
        seen.sort();
        seen.dedup();
        assert_eq!(seen.len(), 6);
    }

    /// A state after n1 campaigns is n3's campaign renamed, and not n3's
    /// campaign with a vote delivered.
    #[test]
    fn a_campaign_is_the_same_up_to_renaming_whoever_runs_it() {
        let model = RuftModel::new(ModelConfig::default());
        let init = model.init_states().remove(0);
        let mut actions = Vec::new();
        model.actions(&init, &mut actions);
        let hups: Vec<State> = actions
            .iter()
            .filter(|a| crate::display::action(a).ends_with("(Hup)"))
            .filter_map(|a| model.next_state(&init, a.clone()))
            .collect();
        assert_eq!(hups.len(), 3);
        assert!(same_up_to_renaming(&hups[0], &hups[2]));
        assert!(same_up_to_renaming(
            &hups[0],
            &hups[0].clone().representative()
        ));
        assert!(!same_up_to_renaming(&hups[0], &init));
    }
}
