//! `check list`: the properties, the defaults by cluster size and the
//! mutant catalogue.

use crate::args::ListArgs;
use ruft_models::model::ModelConfig;
use ruft_models::mutants::CATALOGUE;
use ruft_models::properties::{Expect, Needs, PROPERTIES};
use ruft_models::report;
use serde_json::{json, Value};

pub(crate) fn list_command(args: ListArgs) -> u8 {
    if let Some(target) = &args.json {
        if let Some(code) = crate::emit_json(target, &json()) {
            return code;
        }
        return 0;
    }
    println!("Properties (checked on every state):");
    for p in PROPERTIES {
        let kind = if p.expect() == Expect::Always {
            "always"
        } else {
            "sometimes"
        };
        println!("  {kind:<10} {:<40} {}", p.name, p.about);
        println!("  {:<10} {:<40} paired with: {}", "", "", p.pair);
        let flag = needs_flag(p.needs);
        if let Some(flag) = flag {
            println!("  {:<10} {:<40} checked only with: {flag}", "", "");
        }
    }
    println!();
    println!(
        "Defaults by cluster size (check bfs --nodes N; recorded in proofs/recorded-runs.tsv):"
    );
    for n in 1..=5 {
        let d = ModelConfig::for_nodes(n);
        let reductions = if n >= 4 {
            "  --symmetry --drop-dead-messages"
        } else {
            ""
        };
        println!(
            "  --nodes {n}:  --max-term {}  --max-proposals {}  --max-crashes {}  --max-in-flight {}{reductions}",
            d.term_max, d.proposals_max, d.crashes_max, d.in_flight_max
        );
        debug_assert_eq!(d.drop_dead, n >= 4, "ModelConfig::for_nodes decides");
    }
    println!(
        "  --network unordered (non-duplicating), not lossy, --durability sync, no heartbeats"
    );
    println!("  (add --heartbeats for leaders' heartbeat timers: about 4x the states)");
    println!();
    println!(
        "Mutants (known Raft bugs; `check bfs --mutant NAME` with the flags shown catches each):"
    );
    for c in CATALOGUE {
        println!("  {:<26} {}", c.mutant.name(), c.about);
        println!("  {:<26} breaks: {}", "", c.breaks);
        println!("  {:<26} caught by: check bfs {}", "", c.config().flags());
    }
    println!("  (docs/mutants.md: real-world bugs, shortest traces, times, proptest cases)");
    0
}

/// The flags without which a property is not checked.
fn needs_flag(needs: Needs) -> Option<&'static str> {
    match needs {
        Needs::Nothing => None,
        Needs::PreVote => Some("--pre-vote"),
        Needs::CheckQuorum => Some("--check-quorum"),
        Needs::Transfers => Some("--transfers N"),
        Needs::Snapshots => Some("--max-compactions N"),
        Needs::Clients => Some("--clients N"),
        Needs::Lease => Some("--clients N --reads lease"),
        Needs::Crashes => Some("--max-crashes N (N > 0)"),
        Needs::Membership => Some("--conf-changes N"),
        Needs::Joint => Some("--conf-changes N --joint"),
        Needs::Learners => Some("--conf-changes N --learners"),
    }
}

fn kind(expect: Expect) -> &'static str {
    match expect {
        Expect::Always => "always",
        Expect::Sometimes => "sometimes",
    }
}

/// `check list --json`.
fn json() -> Value {
    json!({
        "schema_version": report::SCHEMA_VERSION,
        "command": "list",
        "properties": PROPERTIES.iter().map(|p| json!({
            "name": p.name,
            "kind": kind(p.expect()),
            "about": p.about,
            "pair": p.pair,
            "checked_only_with": needs_flag(p.needs),
        })).collect::<Vec<_>>(),
        "defaults": (1..=5).map(|n| ModelConfig::for_nodes(n).json()).collect::<Vec<_>>(),
        "mutants": CATALOGUE.iter().map(|c| json!({
            "name": c.mutant.name(),
            "about": c.about,
            "seen_in": c.seen_in,
            "breaks": c.breaks,
            "flags": c.config().flags(),
        })).collect::<Vec<_>>(),
    })
}
