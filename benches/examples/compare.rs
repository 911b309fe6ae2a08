//! Runs the replication workload through ruft and raft-rs several times,
//! interleaved (ruft, raft-rs, raft-rs with commit broadcast, ruft, ...) so
//! that load on the machine hits all alike, checks every run, and prints the
//! median, minimum and maximum entries per second of each and the ratios of
//! the medians.
//!
//! ```text
//! cargo run --release -p ruft-bench --example compare            # 5 runs each
//! cargo run --release -p ruft-bench --example compare -- --runs 9 --proposals 20000
//! cargo run --release -p ruft-bench --example compare -- --only ruft --runs 1   # for a profiler
//! ```

use ruft_bench::raft_rs_cluster::{RaftRsBatchCluster, RaftRsBcastCluster, RaftRsCluster};
use ruft_bench::ruft_cluster::RuftCluster;
use ruft_bench::{run_verified, Harness, Outcome, Workload};

/// One library set-up: its name and a verified run of it.
struct Contender {
    name: &'static str,
    run: fn(&Workload) -> Outcome,
    outcomes: Vec<Outcome>,
}

fn contender<H: Harness>() -> Contender {
    Contender {
        name: H::NAME,
        run: run_verified::<H>,
        outcomes: Vec::new(),
    }
}

struct Args {
    runs: usize,
    workload: Workload,
    only: Option<String>,
}

fn main() {
    let args = match parse_args(std::env::args().skip(1)) {
        Ok(args) => args,
        Err(e) => {
            eprintln!("compare: {e}\nusage: compare [--runs N] [--proposals N] [--only LIBRARY]");
            std::process::exit(2);
        }
    };
    let w = args.workload;
    let mut contenders: Vec<Contender> = vec![
        contender::<RuftCluster>(),
        contender::<RaftRsCluster>(),
        contender::<RaftRsBcastCluster>(),
        contender::<RaftRsBatchCluster>(),
    ];
    contenders.retain(|c| args.only.as_ref().is_none_or(|only| c.name == only));
    if contenders.is_empty() {
        eprintln!("compare: --only takes one of: ruft, raft-rs, \"raft-rs (bcast commit)\", \"raft-rs (batch_append)\"");
        std::process::exit(2);
    }
    println!(
        "workload: {} proposals x {} B, 3 nodes, window {}, inflight max {}, {} entries per append max; {} runs each, interleaved",
        w.proposals, w.payload_len, w.window, w.inflight_max, w.append_entries_max, args.runs
    );
    for i in 1..=args.runs {
        for c in &mut contenders {
            let outcome = (c.run)(&w);
            println!("  run {i}: {outcome} (verified on 3 nodes)");
            c.outcomes.push(outcome);
        }
    }
    print_table(&contenders);
}

fn print_table(contenders: &[Contender]) {
    println!();
    println!(
        "{:<24} {:>16} {:>14} {:>14} {:>10}",
        "library", "median entries/s", "min", "max", "messages"
    );
    let summaries: Vec<(&str, Summary)> = contenders
        .iter()
        .map(|c| (c.name, Summary::of(&c.outcomes)))
        .collect();
    for (name, s) in &summaries {
        println!(
            "{name:<24} {:>16.0} {:>14.0} {:>14.0} {:>10}",
            s.median, s.min, s.max, s.messages
        );
    }
    if let Some((ruft, rest)) = summaries.split_first().filter(|(r, _)| r.0 == "ruft") {
        println!();
        for (name, s) in rest {
            println!(
                "ratio ruft / {name} (medians): {:.2}",
                ruft.1.median / s.median
            );
        }
    }
}

#[derive(Clone, Copy)]
struct Summary {
    median: f64,
    min: f64,
    max: f64,
    /// Messages delivered in the median run.
    messages: usize,
}

impl Summary {
    fn of(outcomes: &[Outcome]) -> Summary {
        let mut sorted: Vec<&Outcome> = outcomes.iter().collect();
        sorted.sort_by(|a, b| a.entries_per_second().total_cmp(&b.entries_per_second()));
        let rate = |i: usize| sorted[i].entries_per_second();
        let mid = sorted.len() / 2;
        let median = if sorted.len() % 2 == 1 {
            rate(mid)
        } else {
            (rate(mid - 1) + rate(mid)) / 2.0
        };
        Summary {
            median,
            min: rate(0),
            max: rate(sorted.len() - 1),
            messages: sorted[mid].messages,
        }
    }
}

fn parse_args(mut args: impl Iterator<Item = String>) -> Result<Args, String> {
    let mut parsed = Args {
        runs: 5,
        workload: Workload::default(),
        only: None,
    };
    while let Some(flag) = args.next() {
        let value = args.next().ok_or(format!("{flag} needs a value"))?;
        if flag == "--only" {
            parsed.only = Some(value);
            continue;
        }
        let n: usize = value
            .parse()
            .map_err(|_| format!("{flag}: not a number: {value}"))?;
        match flag.as_str() {
            "--runs" if n > 0 => parsed.runs = n,
            "--proposals" if n > 0 => parsed.workload.proposals = n,
            _ => return Err(format!("unknown flag or zero value: {flag} {value}")),
        }
    }
    Ok(parsed)
}
