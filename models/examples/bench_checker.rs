//! The checker benchmark (issue 7): runs `check` on a fixed set of
//! configurations, each in its own process (so each peak-memory figure is its
//! own), and prints one table: states, unique states, depth, time,
//! generated states per second, peak memory, bytes per unique state, and the
//! symmetry reduction factor of each pair of runs that differ only by
//! `--symmetry`. With `--reference`, it also builds and runs stateright's own
//! bundled Raft example (BFS, 3 servers, depth 10) from cargo's registry copy
//! of stateright, in the same run, and prints ruft's ratios against it.
//!
//! ```text
//! cargo run --release -p ruft-models --example bench_checker [-- --reference] [-- --quick]
//! ```
//!
//! `--quick` runs only the 3-node rows. A run that times out (300 s) is shown
//! as cut short, never as a result. The 4- and 5-node rows keep dead
//! messages (`--keep-dead-messages`), so that they measure the same work as
//! before that reduction became the default from 4 nodes.

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

/// (label, pair key for the symmetry factor, check arguments).
const RUNS: &[(&str, &str, &str)] = &[
    ("3 nodes BFS (default bounds)", "3", "bfs --nodes 3"),
    (
        "3 nodes BFS, no kept steps (--step-cache 0)",
        "",
        "bfs --nodes 3 --step-cache 0",
    ),
    ("3 nodes BFS --symmetry", "3", "bfs --nodes 3 --symmetry"),
    ("3 nodes DFS", "", "dfs --nodes 3"),
    ("3 nodes DFS --symmetry", "", "dfs --nodes 3 --symmetry"),
    (
        "4 nodes BFS",
        "4",
        "bfs --nodes 4 --max-in-flight 5 --max-proposals 0 --max-crashes 0 --keep-dead-messages --no-symmetry",
    ),
    (
        "4 nodes BFS --symmetry",
        "4",
        "bfs --nodes 4 --max-in-flight 5 --max-proposals 0 --max-crashes 0 --keep-dead-messages --symmetry",
    ),
    (
        "4 nodes BFS --symmetry (largest)",
        "",
        "bfs --nodes 4 --max-in-flight 5 --max-proposals 0 --max-crashes 1 --keep-dead-messages --symmetry",
    ),
    (
        "5 nodes BFS",
        "5",
        "bfs --nodes 5 --max-term 1 --max-in-flight 7 --max-proposals 0 --max-crashes 0 --keep-dead-messages --no-symmetry",
    ),
    (
        "5 nodes BFS --symmetry",
        "5",
        "bfs --nodes 5 --max-term 1 --max-in-flight 7 --max-proposals 0 --max-crashes 0 --keep-dead-messages --symmetry",
    ),
    (
        "5 nodes BFS --symmetry (largest)",
        "",
        "bfs --nodes 5 --max-term 1 --max-in-flight 8 --max-proposals 0 --max-crashes 0 --keep-dead-messages --symmetry",
    ),
];

/// stateright's figures for its bundled Raft example on this machine, as
/// given in issue 7, used when `--reference` is not asked for.
const REFERENCE_RATE: f64 = 377_000.0;
const REFERENCE_BYTES: f64 = 2_000.0;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let quick = args.iter().any(|a| a == "--quick");
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let built = Command::new(&cargo)
        .args(["build", "--release", "-p", "ruft-models", "--bin", "check"])
        .status()
        .expect("cargo runs");
    assert!(built.success(), "check builds");
    let check = target_dir().join("release/check");

    println!(
        "{:<36} {:>11} {:>10} {:>5} {:>8} {:>10} {:>8} {:>8} {:>6}",
        "run", "generated", "unique", "depth", "time s", "states/s", "MiB", "B/state", "sym x"
    );
    let mut unique_of: Vec<(&str, bool, u64)> = Vec::new();
    let mut default_row = None;
    for &(label, pair, flags) in RUNS {
        if quick && !label.starts_with('3') {
            continue;
        }
        let mut cmd = Command::new(&check);
        cmd.args(flags.split(' '))
            .args(["--json", "--timeout", "300"]);
        let out = cmd.output().expect("check runs");
        let doc: Value = match serde_json::from_slice(&out.stdout) {
            Ok(doc) => doc,
            Err(_) => {
                println!(
                    "{label:<36} (no result: {})",
                    String::from_utf8_lossy(&out.stderr)
                );
                continue;
            }
        };
        let r = &doc;
        let num = |k: &str| r[k].as_f64().unwrap_or(f64::NAN);
        if !r["complete"].as_bool().unwrap_or(false) {
            println!("{label:<36} cut short: {}", r["cut_short"]);
            continue;
        }
        let symmetric = flags.contains("--symmetry");
        let unique = num("unique_states") as u64;
        let factor = unique_of
            .iter()
            .find(|(p, s, _)| !pair.is_empty() && *p == pair && !s && symmetric)
            .map_or(String::new(), |(_, _, plain)| {
                format!("{:.2}", *plain as f64 / unique as f64)
            });
        if !pair.is_empty() {
            unique_of.push((pair, symmetric, unique));
        }
        println!(
            "{label:<36} {:>11} {:>10} {:>5} {:>8.1} {:>10.0} {:>8.0} {:>8.0} {:>6}",
            num("generated_states"),
            unique,
            num("max_depth"),
            num("seconds"),
            num("states_per_second"),
            num("peak_memory_bytes") / f64::from(1 << 20),
            num("bytes_per_unique_state"),
            factor
        );
        if default_row.is_none() {
            default_row = Some((num("states_per_second"), num("bytes_per_unique_state")));
        }
    }
    let (rate, bytes) = if args.iter().any(|a| a == "--reference") {
        reference(&cargo).unwrap_or((REFERENCE_RATE, REFERENCE_BYTES))
    } else {
        println!("\nstateright reference: the figures of issue 7 (run with --reference to measure them now)");
        (REFERENCE_RATE, REFERENCE_BYTES)
    };
    if let Some((ours, our_bytes)) = default_row {
        println!(
            "ruft default BFS vs stateright's Raft example: {:.2}x the generated states/s, {:.2}x the bytes per unique state",
            ours / rate,
            our_bytes / bytes
        );
    }
}

fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR").map_or_else(
        || Path::new(env!("CARGO_MANIFEST_DIR")).join("../target"),
        PathBuf::from,
    )
}

/// Builds stateright's bundled Raft example from the registry copy (in a
/// scratch directory) and runs `raft check 3 10`; returns its generated
/// states per second and peak-memory bytes per unique state.
fn reference(cargo: &str) -> Option<(f64, f64)> {
    let home = std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| Path::new(&h).join(".cargo")))?;
    let registry = std::fs::read_dir(home.join("registry/src")).ok()?;
    let src = registry
        .filter_map(Result::ok)
        .map(|d| d.path().join("stateright-0.31.0"))
        .find(|p| p.exists())?;
    let scratch = std::env::temp_dir().join("ruft-stateright-reference");
    let copied = Command::new("cp")
        .args(["-r", "-T"])
        .arg(&src)
        .arg(&scratch)
        .status()
        .ok()?;
    if !copied.success() {
        return None;
    }
    let built = Command::new(cargo)
        .current_dir(&scratch)
        .args(["build", "--release", "--example", "raft"])
        .status()
        .ok()?;
    if !built.success() {
        return None;
    }
    let start = Instant::now();
    let out = Command::new("/usr/bin/time")
        .arg("-v")
        .arg(scratch.join("target/release/examples/raft"))
        .args(["check", "3", "10"])
        .output()
        .ok()?;
    let elapsed = start.elapsed().as_secs_f64();
    let text = String::from_utf8_lossy(&out.stdout);
    let err = String::from_utf8_lossy(&out.stderr);
    println!("\nstateright's examples/raft.rs `check 3 10` (measured now):");
    let last = text.lines().rev().find(|l| l.contains("states="))?;
    println!("  {}", last.trim());
    let field = |name: &str| -> Option<f64> {
        let at = last.find(name)? + name.len();
        last[at..]
            .split(|c: char| !c.is_ascii_digit())
            .next()?
            .parse()
            .ok()
    };
    let (states, unique) = (field("states=")?, field("unique=")?);
    let peak_kib: f64 = err
        .lines()
        .find_map(|l| {
            l.trim()
                .strip_prefix("Maximum resident set size (kbytes): ")
        })?
        .parse()
        .ok()?;
    let (rate, bytes) = (states / elapsed, peak_kib * 1024.0 / unique);
    println!("  {rate:.0} generated states/s, {bytes:.0} bytes per unique state ({elapsed:.1} s)");
    Some((rate, bytes))
}
