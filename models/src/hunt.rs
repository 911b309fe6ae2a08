//! `check hunt`: a portfolio of searches that catches more than any single one.
//!
//! No one bounded model finds every bug: a figure-8 bug needs four terms and a
//! FIFO network, a duplicated-vote bug needs four voters on a duplicating
//! network, a single-voter bug needs one voter (etcd-io/etcd#14370), and the
//! default 3-node search sees none of them. The hunt runs, within one time
//! budget:
//!
//! 1. [`PORTFOLIO`]: breadth-first searches with symmetry reduction of
//!    models each chosen for a class of bugs. The exhaustive parts are small
//!    enough to finish in their share of the budget on 2 cores (recorded in
//!    `proofs/recorded-runs.tsv`); the deep parts are not, and are searched
//!    for their share of the time for bugs only;
//! 2. a swarm of random walks in the remaining time, each batch of walks on a
//!    configuration drawn from its seed (cluster size, terms, network,
//!    durability, heartbeats, ...), as TigerBeetle's VOPR randomises its
//!    cluster per seed: configurations no one thought to write down.
//!
//! The first violation ends the hunt with a counterexample. Otherwise the
//! hunt passes only if every exhaustive part finished and every witness was
//! reached somewhere; the deep parts and the swarm never prove anything, they
//! only look.

use crate::model::{Durability, ModelConfig, NetworkKind, RuftModel};
use crate::mutants;
use crate::properties::{Expect, PROPERTIES};
use crate::report::Counterexample;
use crate::search::{self, Budget, Engine, SearchOptions, Verdict};
use rand::{RngExt, SeedableRng};
use ruft::Mutant;
use std::collections::BTreeSet;
use std::time::{Duration, Instant};

/// Whether a part must finish for the hunt to pass.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// Small enough to finish in its share on 2 cores: a part cut short makes
    /// the hunt incomplete (exit 3).
    Exhaustive,
    /// Too big to finish in a few minutes: searched breadth first for its
    /// share of the time, for bugs only (like the swarm, it proves nothing).
    Deep,
}

/// One part of the portfolio.
#[derive(Clone, Copy, Debug)]
pub struct Part {
    /// Short name printed in the summary.
    pub name: &'static str,
    /// The bug class it is there for.
    pub why: &'static str,
    /// Its model (the hunt adds `--mutant` if one is given).
    pub model: fn() -> ModelConfig,
    /// Exhaustive or deep.
    pub kind: Kind,
    /// A deep part's share of the time the exhaustive parts leave (0 for an
    /// exhaustive part, which runs until it finishes).
    pub share: u32,
}

/// The clients' model reading by lease (with check-quorum, which it needs).
fn lease_reads() -> ModelConfig {
    ModelConfig {
        read_mode: ruft::ReadMode::Lease,
        check_quorum: true,
        ..mutants::clients()
    }
}

/// Membership changes: three nodes, two of them the initial voters, two
/// changes through joint configurations, learners offered (87,356 states
/// with symmetry, about 7 s; every membership witness is reached).
fn membership() -> ModelConfig {
    ModelConfig {
        initial_voters: Some(2),
        conf_changes_max: 2,
        joint: true,
        learners: true,
        proposals_max: 0,
        crashes_max: 0,
        ..ModelConfig::default()
    }
}

fn default_3() -> ModelConfig {
    ModelConfig::default()
}

/// Four nodes at four messages in flight, without dead messages: every
/// witness in seconds (146,870 states; the `--nodes 4` default, five in
/// flight, takes a minute).
fn nodes_4() -> ModelConfig {
    ModelConfig {
        in_flight_max: 4,
        ..ModelConfig::for_nodes(4)
    }
}

/// Five nodes at five messages in flight, keeping dead messages: every
/// witness but a truncation and a committed entry surviving a crash, in
/// about 10 s (249,929 states). The `--nodes 5` default drops dead messages
/// and reaches them all, but takes about 50 s, which the deep parts after
/// it would lose.
fn nodes_5() -> ModelConfig {
    ModelConfig {
        drop_dead: false,
        ..ModelConfig::for_nodes(5)
    }
}

fn one_voter() -> ModelConfig {
    ModelConfig {
        nodes: 1,
        term_max: 3,
        proposals_max: 2,
        ..ModelConfig::default()
    }
}

fn two_voters() -> ModelConfig {
    ModelConfig {
        nodes: 2,
        term_max: 3,
        proposals_max: 1,
        in_flight_max: 4,
        ..ModelConfig::default()
    }
}

/// The catalogue's third-term model with four messages in flight: small
/// enough to finish.
fn third_term() -> ModelConfig {
    ModelConfig {
        in_flight_max: 4,
        ..mutants::third_term()
    }
}

/// The catalogue's heartbeat model with three messages in flight.
fn heartbeats() -> ModelConfig {
    ModelConfig {
        in_flight_max: 3,
        ..mutants::heartbeats()
    }
}

/// The catalogue's stale-snapshot model with three messages in flight
/// (47,142 states with symmetry, against 1.78 M with four).
fn snapshots() -> ModelConfig {
    ModelConfig {
        in_flight_max: 3,
        ..mutants::stale_snapshots()
    }
}

/// One compaction, no client proposal: the leader's no-op is applied,
/// maybe compacted, and the node restarts over it.
fn compaction_restart() -> ModelConfig {
    ModelConfig {
        proposals_max: 0,
        ..mutants::compaction()
    }
}

fn async_writes() -> ModelConfig {
    ModelConfig {
        proposals_max: 0,
        durability: Durability::Async,
        ..ModelConfig::default()
    }
}

/// The parts: the exhaustive ones run first, quickest first, so a shallow bug
/// is reported soon; the deep ones share the time left.
pub const PORTFOLIO: &[Part] = &[
    Part {
        name: "1 voter",
        why: "a single voter commits alone (etcd-io/etcd#14370)",
        model: one_voter,
        kind: Kind::Exhaustive,
        share: 0,
    },
    Part {
        name: "2 voters",
        why: "a quorum of two is everyone: off-by-one quorum bugs",
        model: two_voters,
        kind: Kind::Exhaustive,
        share: 0,
    },
    Part {
        name: "3 nodes (default)",
        why: "election, replication and a crash: the default search",
        model: default_3,
        kind: Kind::Exhaustive,
        share: 0,
    },
    Part {
        name: "4 nodes (4 in flight)",
        why: "an even cluster: quorums that overlap in two nodes",
        model: nodes_4,
        kind: Kind::Exhaustive,
        share: 0,
    },
    Part {
        name: "5 nodes (dead kept)",
        why: "a quorum of three among five",
        model: nodes_5,
        kind: Kind::Exhaustive,
        share: 0,
    },
    Part {
        name: "heartbeats",
        why: "empty appends and the commit index a heartbeat carries",
        model: heartbeats,
        kind: Kind::Exhaustive,
        share: 0,
    },
    Part {
        name: "three terms",
        why: "a third election over stale logs",
        model: third_term,
        kind: Kind::Exhaustive,
        share: 0,
    },
    Part {
        name: "pre-vote",
        why: "pre-candidates that must not move a term (etcd-io/etcd#8501, ClickHouse/NuRaft#134)",
        model: mutants::pre_vote,
        kind: Kind::Exhaustive,
        share: 0,
    },
    Part {
        name: "check-quorum",
        why: "leaders cut off from a quorum, and leases (etcd-io/etcd#13527)",
        model: mutants::check_quorum,
        kind: Kind::Exhaustive,
        share: 0,
    },
    Part {
        name: "leader transfer",
        why: "TimeoutNow to a target behind the leader (canonical/raft#477)",
        model: mutants::one_transfer,
        kind: Kind::Exhaustive,
        share: 0,
    },
    Part {
        name: "snapshots",
        why:
            "two snapshots of one leader out of order (databendlabs/openraft#560, eBay/NuRaft#407)",
        model: snapshots,
        kind: Kind::Exhaustive,
        share: 0,
    },
    Part {
        name: "compaction and restart",
        why: "a durable state machine and Config::applied across a restart (shaj13/raft#27)",
        model: compaction_restart,
        kind: Kind::Exhaustive,
        share: 0,
    },
    Part {
        name: "clients",
        why: "stale reads: a follower answering alone, a read quorum one short (etcd-io/etcd#7331's class)",
        model: mutants::clients,
        kind: Kind::Exhaustive,
        share: 0,
    },
    Part {
        name: "lease reads",
        why: "reads served from a lease, with the clock every node shares (tikv/tikv#1593's class)",
        model: lease_reads,
        kind: Kind::Exhaustive,
        share: 0,
    },
    Part {
        name: "membership",
        why: "a change stacked on an uncommitted one (Ongaro, raft-dev 2015), a removed leader",
        model: membership,
        kind: Kind::Exhaustive,
        share: 0,
    },
    Part {
        name: "async writes",
        why: "writes that complete after their Ready, and a crash before",
        model: async_writes,
        kind: Kind::Deep,
        share: 10,
    },
    Part {
        name: "duplicating, 4 nodes",
        why: "a vote delivered twice where one grant short of a quorum matters",
        model: mutants::duplicated_votes,
        kind: Kind::Exhaustive,
        share: 0,
    },
    Part {
        name: "heartbeats, deep",
        why: "stale entries meeting a heartbeat's commit index, more in flight",
        model: mutants::heartbeats,
        kind: Kind::Deep,
        share: 20,
    },
    Part {
        name: "three terms, deep",
        why: "stale-term and up-to-date bugs that need more in flight",
        model: mutants::third_term,
        kind: Kind::Deep,
        share: 20,
    },
    Part {
        name: "snapshots, deep",
        why: "a snapshot over a conflicting entry of an older term (scylladb/scylladb#9965)",
        model: mutants::conflicting_snapshot,
        kind: Kind::Deep,
        share: 10,
    },
    Part {
        name: "figure 8",
        why: "four terms on a FIFO network, one entry per append (§5.4.2)",
        model: mutants::figure_8,
        kind: Kind::Deep,
        share: 40,
    },
];

/// A configuration for a batch of swarm walks, drawn from `seed`: anything
/// from one to five nodes, two to four terms, any network and durability,
/// heartbeats or not, one or many entries per append, pre-vote,
/// check-quorum, a transfer and up to two compactions or not.
pub fn swarm_config(seed: u64) -> ModelConfig {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    let nodes = rng.random_range(1..=5usize);
    ModelConfig {
        nodes,
        term_max: rng.random_range(2..=4),
        proposals_max: rng.random_range(0..=2),
        crashes_max: rng.random_range(0..=2),
        in_flight_max: rng.random_range(3..=4 + 2 * nodes),
        network: match rng.random_range(0..3u8) {
            0 => NetworkKind::Unordered,
            1 => NetworkKind::Ordered,
            _ => NetworkKind::Duplicating,
        },
        lossy: rng.random_range(0..4u8) == 0,
        durability: if rng.random_range(0..3u8) == 0 {
            Durability::Async
        } else {
            Durability::Sync
        },
        heartbeats: rng.random_range(0..2u8) == 0,
        append_entries_max: if rng.random_range(0..3u8) == 0 { 1 } else { 64 },
        pre_vote: rng.random_range(0..2u8) == 0,
        check_quorum: rng.random_range(0..3u8) == 0,
        transfers_max: rng.random_range(0..=1),
        compactions_max: rng.random_range(0..=2),
        ..ModelConfig::default()
    }
}

/// Walks per swarm configuration, and steps per walk.
const SWARM_WALKS: usize = 200;
const SWARM_STEPS: usize = 120;

/// A hunt in progress: its budget, what it ran and what it saw.
pub struct Hunt {
    start: Instant,
    budget: Duration,
    mutant: Option<Mutant>,
    memory_max: Option<u64>,
    /// Parts cut short, by name, with the reason.
    cut_short: Vec<(&'static str, String)>,
    /// Where to write a counterexample as HTML (`--report`).
    report_path: Option<std::path::PathBuf>,
    /// Witnesses reached by any part or walk.
    reached: BTreeSet<&'static str>,
}

impl Hunt {
    /// A hunt of `budget` with `mutant` switched on everywhere.
    pub fn new(budget: Duration, mutant: Option<Mutant>, memory_max: Option<u64>) -> Hunt {
        Hunt {
            start: Instant::now(),
            budget,
            mutant,
            memory_max,
            cut_short: Vec::new(),
            report_path: None,
            reached: BTreeSet::new(),
        }
    }

    /// Writes the counterexample, if the hunt finds one, as HTML to `path`.
    pub fn report_to(&mut self, path: Option<std::path::PathBuf>) {
        self.report_path = path;
    }

    /// The time left; none once a signal asked to stop.
    fn left(&self) -> Duration {
        if crate::interrupt::requested() {
            return Duration::ZERO;
        }
        self.budget.saturating_sub(self.start.elapsed())
    }

    fn with_mutant(&self, cfg: ModelConfig) -> ModelConfig {
        ModelConfig {
            mutant: self.mutant,
            ..cfg
        }
    }

    /// Runs the exhaustive parts of [`PORTFOLIO`] first, each until it
    /// finishes (they are sized to take seconds) or the parts' pool of nine
    /// tenths of the budget runs out, then the deep parts, which share what
    /// is left of the pool by their shares; `Some(exit code)` if a violation
    /// ended the hunt.
    pub fn parts(&mut self) -> Option<u8> {
        let pool_end = self.budget * 9 / 10;
        let exhaustive = PORTFOLIO.iter().filter(|p| p.kind == Kind::Exhaustive);
        for part in exhaustive {
            let slot = pool_end.saturating_sub(self.start.elapsed());
            if let Some(code) = self.run_part(part, slot.max(Duration::from_secs(1))) {
                return Some(code);
            }
        }
        let deep: Vec<&Part> = PORTFOLIO.iter().filter(|p| p.kind == Kind::Deep).collect();
        let mut shares_left: u32 = deep.iter().map(|p| p.share).sum();
        for part in deep {
            let left = pool_end.saturating_sub(self.start.elapsed());
            let slot = left * part.share / shares_left.max(1);
            shares_left -= part.share;
            if let Some(code) = self.run_part(part, slot.max(Duration::from_secs(1))) {
                return Some(code);
            }
        }
        None
    }

    /// Only the exhaustive parts of [`PORTFOLIO`], each until it finishes or
    /// the whole budget runs out; `Some(exit code)` if a violation ended the
    /// hunt. With no deep part and no swarm, what it reports is proved.
    pub fn exhaustive_parts(&mut self) -> Option<u8> {
        let exhaustive = PORTFOLIO.iter().filter(|p| p.kind == Kind::Exhaustive);
        for part in exhaustive {
            let slot = self.left().max(Duration::from_secs(1));
            if let Some(code) = self.run_part(part, slot) {
                return Some(code);
            }
        }
        None
    }

    /// One part for at most `slot`; after a signal, the part is only
    /// recorded as cut short.
    fn run_part(&mut self, part: &Part, slot: Duration) -> Option<u8> {
        if crate::interrupt::requested() {
            if part.kind == Kind::Exhaustive {
                self.cut_short
                    .push((part.name, crate::interrupt::REASON.to_string()));
            }
            return None;
        }
        let cfg = self.with_mutant((part.model)());
        let opts = SearchOptions {
            engine: Engine::Bfs,
            symmetry: true,
            timeout: Some(slot),
            memory_max: self.memory_max,
            progress_every: Duration::from_secs(3600),
            ..SearchOptions::default()
        };
        let outcome = search::explore(RuftModel::new(cfg.clone()), &opts, |_| {});
        let result = match (&outcome.violations.first(), &outcome.cut_short, part.kind) {
            (Some((name, _)), _, _) => format!("VIOLATED: {name}"),
            (None, Some(why), Kind::Exhaustive) => format!("INCOMPLETE: {why}"),
            (None, Some(_), Kind::Deep) => format!(
                "no violation in {} states to depth {} (deep: searched, not complete)",
                outcome.unique, outcome.depth
            ),
            (None, None, _) => format!("complete, {} states", outcome.unique),
        };
        println!(
            "  {:<22} {:>6.1}s  {result}\n  {:<22} check bfs --symmetry {}",
            part.name,
            outcome.elapsed.as_secs_f64(),
            "",
            cfg.flags()
        );
        let _ = std::io::Write::flush(&mut std::io::stdout());
        for (name, verdict) in &outcome.verdicts {
            if *verdict == Verdict::Reached {
                self.reached.insert(name);
            }
        }
        if let Some((name, path)) = outcome.violations.first() {
            self.report(&cfg, name, path, true);
            return Some(1);
        }
        if let (Some(why), Kind::Exhaustive) = (outcome.cut_short, part.kind) {
            self.cut_short.push((part.name, why));
        }
        None
    }

    /// Random walks on random configurations until the budget is spent;
    /// `Some(exit code)` if a violation ended the hunt.
    pub fn swarm(&mut self, seed: u64) -> Option<u8> {
        let (mut configs, mut walks, mut steps) = (0usize, 0usize, 0usize);
        let mut sizes = BTreeSet::new();
        while !self.left().is_zero() {
            let cfg = self.with_mutant(swarm_config(seed.wrapping_add(configs as u64)));
            configs += 1;
            sizes.insert(cfg.nodes);
            let model = RuftModel::new(cfg.clone());
            let w = search::simulate(
                &model,
                seed.wrapping_add(configs as u64),
                SWARM_WALKS,
                Some(self.left()),
                SWARM_STEPS,
            );
            walks += w.runs;
            steps += w.steps;
            self.reached.extend(w.reached.iter().copied());
            if let Some((name, path)) = w.violation {
                println!(
                    "  {:<22} {configs} configurations, {walks} walks: VIOLATED: {name}",
                    "swarm"
                );
                self.report(&cfg, name, &path, false);
                return Some(1);
            }
        }
        println!(
            "  {:<22} {configs} configurations ({} to {} nodes), {walks} walks, {steps} steps: \
             no violation",
            "swarm",
            sizes.first().unwrap_or(&0),
            sizes.last().unwrap_or(&0),
        );
        None
    }

    fn report(
        &self,
        cfg: &ModelConfig,
        name: &'static str,
        path: &stateright::Path<crate::model::State, crate::model::Action>,
        symmetric: bool,
    ) {
        println!(
            "\n  hunt: \"{name}\" violated after {:.1} s",
            self.start.elapsed().as_secs_f64()
        );
        let budget = Budget {
            timeout: Some(self.left().max(Duration::from_secs(30))),
            memory_max: self.memory_max,
            progress_every: Some(Duration::from_secs(3)),
        };
        let cx = Counterexample::settle(cfg, name, path, symmetric, &budget, false);
        if let Some(target) = &self.report_path {
            let page = crate::html::report(cfg, &cx);
            match crate::report::write_atomically(target, page.as_bytes()) {
                Ok(()) => println!("  report written to {}", target.display()),
                Err(e) => println!("  cannot write the report to {}: {e}", target.display()),
            }
        }
    }

    /// The exit code once nothing was found: 3 if a part was cut short (the
    /// hunt proved less than it should), 1 if some witness was never reached
    /// anywhere, 0 otherwise.
    pub fn verdict(&mut self) -> u8 {
        if crate::interrupt::requested() {
            self.cut_short
                .push(("hunt", crate::interrupt::REASON.to_string()));
        }
        let unreached: Vec<&str> = PROPERTIES
            .iter()
            .filter(|p| p.expect() == Expect::Sometimes && !self.reached.contains(p.name))
            .map(|p| p.name)
            .collect();
        println!();
        for (part, why) in &self.cut_short {
            println!("  INCOMPLETE: {part}: {why}");
        }
        if !unreached.is_empty() {
            println!(
                "  NOT REACHED by any part or walk: {}",
                unreached.join(", ")
            );
        }
        let code = if !self.cut_short.is_empty() {
            3
        } else if !unreached.is_empty() {
            1
        } else {
            0
        };
        match code {
            0 => println!(
                "  no violation in {:.0} s: every exhaustive part complete, every witness reached",
                self.start.elapsed().as_secs_f64()
            ),
            3 => println!(
                "  no violation found, but the hunt was cut short: nothing is proved (exit 3)"
            ),
            _ => {}
        }
        code
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_deep_parts_share_the_time_and_their_shares_split_it() {
        for p in PORTFOLIO {
            assert_eq!(p.kind == Kind::Deep, p.share > 0, "{}", p.name);
        }
        let deep: u32 = PORTFOLIO.iter().map(|p| p.share).sum();
        assert_eq!(deep, 100);
    }

    #[test]
    fn a_swarm_seed_always_draws_the_same_configuration() {
        for seed in 0..50 {
            assert_eq!(swarm_config(seed).flags(), swarm_config(seed).flags());
        }
        let sizes: std::collections::BTreeSet<usize> =
            (0..200).map(|s| swarm_config(s).nodes).collect();
        assert_eq!(sizes.len(), 5, "every size from 1 to 5 is drawn");
    }
}
