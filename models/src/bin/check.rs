//! `check`: model-check a ruft cluster. See `docs/checking.md`.
//!
//! ```text
//! check bfs --nodes 3                 exhaustive search within the default bounds
//! check dfs --nodes 3 --symmetry      depth first, with symmetry reduction
//! check simulate --nodes 3 --seed 7   reproducible random walks
//! check serve --nodes 3               stateright's web explorer on 127.0.0.1:3000
//! check list                          properties and defaults
//! ```
//!
//! Exit codes: 0 every Always holds and every Sometimes is reached; 1 a
//! violation or an unreached Sometimes; 2 bad arguments; 3 the search was cut
//! short (timeout, state limit) and proves nothing.

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

use clap::{Args, Parser, Subcommand, ValueEnum};
use ruft::Mutant;
use ruft_models::coverage;
use ruft_models::display;
use ruft_models::model::{Durability, ModelConfig, NetworkKind, RuftModel, State};
use ruft_models::mutants::{self, CATALOGUE};
use ruft_models::properties::{self, Expect, PROPERTIES};
use ruft_models::search::{self, Engine, Outcome, SearchOptions};
use serde_json::json;
use stateright::{Model, Path};
use std::process::ExitCode;
use std::sync::atomic::Ordering;
use std::time::Duration;

#[derive(Parser)]
#[command(name = "check", about = "Model-check a ruft cluster", version)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Breadth-first exhaustive search (shortest counterexamples).
    Bfs(SearchArgs),
    /// Depth-first exhaustive search (little memory; symmetry reduction).
    Dfs(SearchArgs),
    /// Random walks, reproducible by seed.
    Simulate(SimulateArgs),
    /// Serve stateright's web explorer on the same model.
    Serve(ServeArgs),
    /// List the properties and the default bounds.
    List,
}

#[derive(Args, Clone)]
struct ModelArgs {
    /// Cluster size.
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u64).range(1..=7))]
    nodes: u64,
    /// Highest term explored.
    #[arg(long, default_value_t = 2)]
    max_term: u64,
    /// Client proposals, cluster-wide.
    #[arg(long, default_value_t = 1)]
    max_proposals: usize,
    /// Crashes over the whole run (each followed by a possible restart).
    #[arg(long, default_value_t = 1)]
    max_crashes: usize,
    /// Messages in flight at once (on a duplicating network: distinct messages
    /// ever sent, since a delivered message stays deliverable).
    #[arg(long, default_value_t = 4)]
    max_in_flight: usize,
    /// Network semantics.
    #[arg(long, value_enum, default_value_t = Net::Unordered)]
    network: Net,
    /// Let the network lose messages.
    #[arg(long)]
    lossy: bool,
    /// When writes become durable.
    #[arg(long, value_enum, default_value_t = Dur::Sync)]
    durability: Dur,
    /// Let leaders' heartbeat timers fire (about four times more states).
    #[arg(long)]
    heartbeats: bool,
    /// Most entries per AppendEntries message (1 lets a follower take an
    /// older-term prefix without the newer entries behind it).
    #[arg(long, default_value_t = 64, value_parser = clap::value_parser!(u64).range(1..))]
    max_append_entries: u64,
    /// Switch on a known Raft bug in every node (`check list` names them), to
    /// see the harness catch it.
    #[arg(long, value_parser = parse_mutant)]
    mutant: Option<Mutant>,
}

fn parse_mutant(name: &str) -> Result<Mutant, String> {
    Mutant::from_name(name).ok_or_else(|| {
        let names: Vec<&str> = Mutant::ALL.iter().map(|m| m.name()).collect();
        format!("no mutant `{name}`; one of: {}", names.join(", "))
    })
}

#[derive(Clone, Copy, ValueEnum)]
enum Net {
    Unordered,
    Duplicating,
    Ordered,
}

#[derive(Clone, Copy, ValueEnum)]
enum Dur {
    Sync,
    Async,
}

#[derive(Args)]
struct SearchArgs {
    #[command(flatten)]
    model: ModelArgs,
    /// Explore states that differ only by node names once (BFS and DFS).
    #[arg(long)]
    symmetry: bool,
    /// Worker threads.
    #[arg(long, default_value_t = 2)]
    threads: usize,
    /// Give up after this many seconds (exit 3).
    #[arg(long)]
    timeout: Option<u64>,
    /// Give up after this many unique states (exit 3).
    #[arg(long)]
    max_states: Option<usize>,
    /// Print the result as one JSON document.
    #[arg(long)]
    json: bool,
    /// Report which engine branches (ruft's code probes) the search reached.
    #[arg(long)]
    coverage: bool,
}

#[derive(Args)]
struct SimulateArgs {
    #[command(flatten)]
    model: ModelArgs,
    /// Seed of the walks.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Number of walks.
    #[arg(long, default_value_t = 10_000, conflicts_with = "time")]
    runs: usize,
    /// Walk for this many seconds instead of a number of runs.
    #[arg(long)]
    time: Option<u64>,
    /// Longest walk.
    #[arg(long, default_value_t = 200)]
    steps: usize,
    /// Report which engine branches (ruft's code probes) the walks reached.
    #[arg(long)]
    coverage: bool,
}

#[derive(Args)]
struct ServeArgs {
    #[command(flatten)]
    model: ModelArgs,
    /// Address to bind (loopback unless told otherwise).
    #[arg(long, default_value = "127.0.0.1:3000")]
    addr: String,
}

impl ModelArgs {
    fn config(&self) -> ModelConfig {
        ModelConfig {
            nodes: self.nodes as usize,
            term_max: self.max_term,
            proposals_max: self.max_proposals,
            crashes_max: self.max_crashes,
            in_flight_max: self.max_in_flight,
            network: match self.network {
                Net::Unordered => NetworkKind::Unordered,
                Net::Duplicating => NetworkKind::Duplicating,
                Net::Ordered => NetworkKind::Ordered,
            },
            lossy: self.lossy,
            durability: match self.durability {
                Dur::Sync => Durability::Sync,
                Dur::Async => Durability::Async,
            },
            heartbeats: self.heartbeats,
            append_entries_max: usize::try_from(self.max_append_entries).unwrap_or(usize::MAX),
            mutant: self.mutant,
            ..ModelConfig::default()
        }
    }

    /// The flags that rebuild this model, for `check serve ...` hints.
    fn flags(&self) -> String {
        self.config().flags()
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let code = match cli.command {
        Command::Bfs(args) => search_command(Engine::Bfs, args),
        Command::Dfs(args) => search_command(Engine::Dfs, args),
        Command::Simulate(args) => simulate_command(args),
        Command::Serve(args) => serve_command(args),
        Command::List => list_command(),
    };
    ExitCode::from(code)
}

fn search_command(engine: Engine, args: SearchArgs) -> u8 {
    let cfg = args.model.config();
    let opts = SearchOptions {
        engine,
        threads: args.threads,
        symmetry: args.symmetry,
        timeout: args.timeout.map(Duration::from_secs),
        states_max: args.max_states,
        ..SearchOptions::default()
    };
    let quiet = args.json;
    if !quiet {
        println!(
            "ruft check {}: {}{} (threads {})",
            if engine == Engine::Bfs { "bfs" } else { "dfs" },
            args.model.flags(),
            if args.symmetry { " --symmetry" } else { "" },
            args.threads
        );
    }
    let recording = args.coverage.then(coverage::start);
    let outcome = search::explore(RuftModel::new(cfg.clone()), &opts, |p| {
        if !quiet {
            let rate = p.states as f64 / p.elapsed.as_secs_f64().max(1e-9);
            println!(
                "  {:>6.1}s  states {:>11}  unique {:>11}  depth {:>3}  {:>9.0} states/s  memory {}",
                p.elapsed.as_secs_f64(),
                p.states,
                p.unique,
                p.depth,
                rate,
                mib(p.memory)
            );
        }
    });
    let coverage = recording.map(coverage::Recording::finish);
    let counterexample = outcome.violations.first().map(|(name, found)| {
        let model = RuftModel::new(cfg.clone());
        let holds = |s: &State| {
            (properties::property(name).expect("known property").check)(
                &ruft_models::model::observe(s),
            )
        };
        let depth = found.clone().into_actions().len();
        // The re-search runs on the plain model, so the path reads without
        // renamings even when the search used symmetry reduction.
        match search::shortest_path(&model, holds, depth) {
            Some(path) => (*name, path, true),
            None => (*name, found.clone(), false),
        }
    });
    let model = RuftModel::new(cfg.clone());
    if args.json {
        let search = json!({
            "engine": if engine == Engine::Bfs { "bfs" } else { "dfs" },
            "symmetry": args.symmetry,
            "threads": args.threads,
        });
        print_json(
            &args.model,
            search,
            &outcome,
            &cfg,
            counterexample.as_ref().map(|(n, p, _)| (*n, p, &model)),
            coverage.as_ref(),
        );
    } else {
        print_table(&outcome, &cfg);
        if let Some(c) = &coverage {
            c.print();
        }
        if let (Some(m), None) = (cfg.mutant, &counterexample) {
            println!(
                "\n  mutant {m} was not caught within these bounds; the catalogue catches it with:\n    check bfs {}",
                mutants::entry(m).config().flags()
            );
        }
        if let Some((name, path, shortest)) = &counterexample {
            if !shortest {
                println!("\n  (no plain path of this length was found: the path below is the search's own)");
            }
            print_counterexample(name, path, &model, &args.model, *shortest);
        }
    }
    outcome.exit_code() as u8
}

fn mib(bytes: Option<u64>) -> String {
    bytes.map_or("?".into(), |b| {
        format!("{:.0} MiB", b as f64 / (1 << 20) as f64)
    })
}

fn print_table(o: &Outcome, cfg: &ModelConfig) {
    println!();
    println!("  {:<24} {:>14}", "generated states", o.states);
    println!("  {:<24} {:>14}", "unique states", o.unique);
    println!("  {:<24} {:>14}", "max depth", o.depth);
    println!("  {:<24} {:>14.2}", "time (s)", o.elapsed.as_secs_f64());
    println!("  {:<24} {:>14.0}", "states/s", o.rate());
    println!("  {:<24} {:>14}", "peak memory", mib(o.peak_memory));
    println!(
        "  {:<24} {:>14}",
        "bytes/unique state",
        o.bytes_per_state().map_or("?".into(), |b| b.to_string())
    );
    println!();
    for (name, verdict) in &o.verdicts {
        let kind = match properties::property(name).map(|p| p.expect) {
            Some(Expect::Always) => "always",
            _ => "sometimes",
        };
        println!("  {:<11} {:<40} {}", kind, name, verdict.word());
    }
    println!();
    let cuts = [
        ("--max-term", cfg.cuts.term.load(Ordering::Relaxed)),
        (
            "--max-proposals",
            cfg.cuts.proposals.load(Ordering::Relaxed),
        ),
        (
            "--max-in-flight",
            cfg.cuts.in_flight.load(Ordering::Relaxed),
        ),
    ];
    let hit: Vec<String> = cuts
        .iter()
        .filter(|(_, n)| *n > 0)
        .map(|(f, n)| format!("{f} ({n} states)"))
        .collect();
    if !hit.is_empty() {
        println!("  bounds that kept states out: {}", hit.join(", "));
    }
    match &o.cut_short {
        Some(why) => println!("  INCOMPLETE: {why}; nothing is proved (exit 3)"),
        None if o.exit_code() == 0 => {
            println!("  complete: every state within the bounds was explored")
        }
        None => {}
    }
}

fn steps(path: &Path<State, ruft_models::model::Action>) -> Vec<String> {
    let v = path.clone().into_vec();
    let mut out = Vec::new();
    for (k, window) in v.windows(2).enumerate() {
        let action = window[0]
            .1
            .as_ref()
            .expect("every step but the last has an action");
        let after = &window[1].0;
        let line = match display::actor_of(action) {
            Some(i) => {
                let mut s = display::node_string(&after.actor_states[i]);
                if after.crashed[i] {
                    s.push_str(" (down)");
                }
                s
            }
            None => "network changed".into(),
        };
        out.push(format!(
            "{:>3}. {}  => {}",
            k + 1,
            display::action(action),
            line
        ));
    }
    out
}

fn print_counterexample(
    name: &str,
    path: &Path<State, ruft_models::model::Action>,
    model: &RuftModel,
    args: &ModelArgs,
    shortest: bool,
) {
    println!();
    let how = if shortest {
        "shortest"
    } else {
        "not known to be the shortest"
    };
    println!(
        "Counterexample for \"{name}\" ({} steps, {how}):",
        path.clone().into_actions().len()
    );
    for line in steps(path) {
        println!("{line}");
    }
    println!();
    println!("Final state:");
    for line in display::cluster(path.last_state()).lines() {
        println!("    {line}");
    }
    println!();
    println!("Open it in the explorer:");
    println!(
        "    cargo run --release --bin check -- serve {}",
        args.flags()
    );
    println!("    http://127.0.0.1:3000/#/steps/{}", path.encode(model));
}

fn print_json(
    args: &ModelArgs,
    search: serde_json::Value,
    o: &Outcome,
    cfg: &ModelConfig,
    cx: Option<(&str, &Path<State, ruft_models::model::Action>, &RuftModel)>,
    coverage: Option<&coverage::Report>,
) {
    let mut doc = json!({
        "model": {
            "nodes": cfg.nodes, "max_term": cfg.term_max, "max_proposals": cfg.proposals_max,
            "max_crashes": cfg.crashes_max, "max_in_flight": cfg.in_flight_max, "flags": args.flags(),
        },
        "search": search,
        "states_kept_out": {
            "max_term": cfg.cuts.term.load(Ordering::Relaxed),
            "max_proposals": cfg.cuts.proposals.load(Ordering::Relaxed),
            "max_in_flight": cfg.cuts.in_flight.load(Ordering::Relaxed),
        },
        "complete": o.complete,
        "cut_short": o.cut_short,
        "generated_states": o.states,
        "unique_states": o.unique,
        "max_depth": o.depth,
        "seconds": o.elapsed.as_secs_f64(),
        "states_per_second": o.rate(),
        "peak_memory_bytes": o.peak_memory,
        "bytes_per_unique_state": o.bytes_per_state(),
        "properties": o.verdicts.iter().map(|(n, v)| json!({"name": n, "result": v.word()})).collect::<Vec<_>>(),
        "counterexample": cx.map(|(name, path, model)| json!({
            "property": name,
            "steps": steps(path),
            "explorer": format!("http://127.0.0.1:3000/#/steps/{}", path.encode(model)),
        })),
        "exit_code": o.exit_code(),
    });
    if let Some(c) = coverage {
        doc["coverage"] = c.json();
    }
    println!(
        "{}",
        serde_json::to_string_pretty(&doc).expect("JSON of plain values")
    );
}

fn simulate_command(args: SimulateArgs) -> u8 {
    let model = RuftModel::new(args.model.config());
    let time = args.time.map(Duration::from_secs);
    let runs = if time.is_some() {
        usize::MAX
    } else {
        args.runs
    };
    println!(
        "ruft check simulate: seed {} {}",
        args.seed,
        args.model.flags()
    );
    let recording = args.coverage.then(coverage::start);
    let walks = search::simulate(&model, args.seed, runs, time, args.steps);
    let coverage = recording.map(coverage::Recording::finish);
    println!("  {} walks, {} steps", walks.runs, walks.steps);
    for p in PROPERTIES.iter().filter(|p| p.expect == Expect::Sometimes) {
        let seen = if walks.reached.contains(&p.name) {
            "reached"
        } else {
            "not reached"
        };
        println!("  sometimes   {:<40} {seen}", p.name);
    }
    if let Some(c) = &coverage {
        c.print();
    }
    match walks.violation {
        Some((name, path)) => {
            print_counterexample(name, &path, &model, &args.model, false);
            1
        }
        None => {
            println!("  no violation in these walks (random walks prove nothing; use bfs/dfs)");
            0
        }
    }
}

fn serve_command(args: ServeArgs) -> u8 {
    let model = RuftModel::new(args.model.config());
    println!(
        "ruft explorer on http://{} ({})",
        args.addr,
        args.model.flags()
    );
    model.checker().threads(2).serve(args.addr.as_str());
    0
}

fn list_command() -> u8 {
    println!("Properties (checked on every state):");
    for p in PROPERTIES {
        let kind = if p.expect == Expect::Always {
            "always"
        } else {
            "sometimes"
        };
        println!("  {kind:<10} {:<40} {}", p.name, p.about);
        println!("  {:<10} {:<40} paired with: {}", "", "", p.pair);
    }
    let d = ModelConfig::default();
    println!();
    println!("Defaults (check bfs --nodes 3):");
    println!(
        "  --max-term {}  --max-proposals {}  --max-crashes {}  --max-in-flight {}",
        d.term_max, d.proposals_max, d.crashes_max, d.in_flight_max
    );
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
