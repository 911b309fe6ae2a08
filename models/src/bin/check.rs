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
use ruft::{Mutant, ReadMode};
use ruft_models::coverage;
use ruft_models::hunt::Hunt;
use ruft_models::model::{Durability, ModelConfig, NetworkKind, RuftModel};
use ruft_models::mutants::{self, CATALOGUE};
use ruft_models::properties::{self, Expect, Needs, PROPERTIES};
use ruft_models::report::{self, Counterexample};
use ruft_models::search::{self, Budget, Engine, SearchOptions};
use serde_json::json;
use stateright::Model;
use std::process::ExitCode;
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
    /// A portfolio within a time budget: exhaustive searches of models chosen
    /// for known bug classes, then a swarm of random walks on random models.
    Hunt(HuntArgs),
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
    /// Highest term explored [default: by cluster size, see `check list`].
    #[arg(long)]
    max_term: Option<u64>,
    /// Client proposals, cluster-wide [default: by cluster size].
    #[arg(long)]
    max_proposals: Option<usize>,
    /// Crashes over the whole run, each followed by a possible restart
    /// [default: by cluster size].
    #[arg(long)]
    max_crashes: Option<usize>,
    /// Messages in flight at once (on a duplicating network: distinct messages
    /// ever sent, since a delivered message stays deliverable) [default: by
    /// cluster size].
    #[arg(long)]
    max_in_flight: Option<usize>,
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
    /// Switch on pre-vote in every node (thesis §9.6) and check its properties.
    #[arg(long)]
    pre_vote: bool,
    /// Pre-vote rounds over the whole run (a failed pre-vote does not move
    /// the term, so `--max-term` does not bound them) [default: unbounded].
    #[arg(long, requires = "pre_vote")]
    max_pre_votes: Option<usize>,
    /// Switch on check-quorum in every node (thesis §6.2): leaders' election
    /// periods end and followers' leader leases run out as timers.
    #[arg(long)]
    check_quorum: bool,
    /// Leader transfers the operator may ask for, cluster-wide (thesis §3.10).
    #[arg(long, default_value_t = 0)]
    transfers: usize,
    /// Log compactions, cluster-wide (§7): a node snapshots its state machine
    /// and drops its applied log; leaders send snapshots to followers that
    /// need compacted entries. Checks the snapshot properties.
    #[arg(long, default_value_t = 0)]
    max_compactions: usize,
    /// Nodes that host a client (the first N): clients write through the
    /// log and read with ReadIndex, and their history is checked for
    /// linearizability (thesis §6.4).
    #[arg(long, default_value_t = 0)]
    clients: usize,
    /// Operations each client runs.
    #[arg(long, default_value_t = 1, requires = "clients")]
    ops: u8,
    /// How leaders confirm reads: `index` (ReadIndex, a heartbeat round per
    /// read) or `lease` (needs --check-quorum; the model then keeps time: one
    /// action ticks every node's clock, and nodes run election_tick 3, heartbeat_tick 2).
    #[arg(long, value_enum, default_value_t = Reads::Index)]
    reads: Reads,
    /// The cluster's voters at its start: n1..=N (default: every node). The
    /// other nodes start outside and join when a membership change adds them.
    #[arg(long)]
    initial_voters: Option<usize>,
    /// Membership changes leaders may be asked for, cluster-wide (thesis
    /// ch. 4): add a node as voter, promote a learner, remove a node (the
    /// leader itself included). Checks the membership properties.
    #[arg(long, default_value_t = 0)]
    conf_changes: usize,
    /// Also offer adding nodes as learners.
    #[arg(long, requires = "conf_changes")]
    learners: bool,
    /// Make every change through a joint configuration (left on its own),
    /// and offer replacing a voter by an outside node in one change.
    #[arg(long, requires = "conf_changes")]
    joint: bool,
    /// Switch on a known Raft bug in every node (`check list` names them), to
    /// see the harness catch it.
    #[arg(long, value_parser = parse_mutant)]
    mutant: Option<Mutant>,
}

/// `--reads`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
enum Reads {
    Index,
    Lease,
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
    /// Explore states that differ only by node names once (BFS and DFS);
    /// on by default from 4 nodes.
    #[arg(long, conflicts_with = "no_symmetry")]
    symmetry: bool,
    /// Turn off the symmetry reduction that 4 nodes and more get by default.
    #[arg(long)]
    no_symmetry: bool,
    /// Worker threads.
    #[arg(long, default_value_t = 2, value_parser = clap::value_parser!(u64).range(1..=256))]
    threads: u64,
    /// Give up after this many seconds (exit 3).
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..))]
    timeout: Option<u64>,
    /// Give up after this many unique states (exit 3).
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..))]
    max_states: Option<u64>,
    /// Give up when the process holds this much memory (exit 3), e.g. `8G`,
    /// `500M`; default: three quarters of the memory available at the start.
    #[arg(long, value_parser = parse_size)]
    max_memory: Option<u64>,
    /// Seconds the search for a shorter counterexample may take after a
    /// violation was found and printed (it is printed again if shorter).
    #[arg(long, default_value_t = 60)]
    shorten_timeout: u64,
    /// Print the result as one JSON document.
    #[arg(long)]
    json: bool,
    /// Report which engine branches (ruft's code probes) the search reached.
    #[arg(long)]
    coverage: bool,
}

impl SearchArgs {
    fn options(&self, engine: Engine) -> SearchOptions {
        SearchOptions {
            engine,
            threads: usize::try_from(self.threads).unwrap_or(1),
            symmetry: self.symmetric(),
            timeout: self.timeout.map(Duration::from_secs),
            states_max: self.max_states.and_then(|n| usize::try_from(n).ok()),
            memory_max: self.memory_max(),
            ..SearchOptions::default()
        }
    }

    /// Symmetry reduction: asked for, or by default from 4 nodes on (where it
    /// cuts the space 12x and more; counterexamples are printed plain anyway).
    fn symmetric(&self) -> bool {
        self.symmetry || (self.model.nodes >= 4 && !self.no_symmetry)
    }

    fn memory_max(&self) -> Option<u64> {
        self.max_memory.or_else(search::default_memory_max)
    }

    fn budget(&self) -> Budget {
        Budget {
            timeout: Some(Duration::from_secs(self.shorten_timeout)),
            memory_max: self.memory_max(),
            progress_every: Some(Duration::from_secs(3)),
        }
    }
}

/// A size in bytes: a number with an optional K, M or G suffix (powers of 1024).
fn parse_size(text: &str) -> Result<u64, String> {
    let t = text.trim();
    let (digits, shift) = match t.chars().last().map(|c| c.to_ascii_uppercase()) {
        Some('K') => (&t[..t.len() - 1], 10),
        Some('M') => (&t[..t.len() - 1], 20),
        Some('G') => (&t[..t.len() - 1], 30),
        _ => (t, 0),
    };
    let n: u64 = digits
        .parse()
        .map_err(|_| format!("`{text}` is not a size such as 8G or 500M"))?;
    if n == 0 {
        return Err("the memory limit must be above zero".into());
    }
    n.checked_mul(1 << shift)
        .ok_or_else(|| format!("`{text}` is too large"))
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
struct HuntArgs {
    /// The whole budget, in seconds: nine tenths for the portfolio's parts,
    /// the rest (and whatever they leave) for the swarm.
    #[arg(long, default_value_t = 300, value_parser = clap::value_parser!(u64).range(1..))]
    time: u64,
    /// Switch on a known Raft bug in every node of every part.
    #[arg(long, value_parser = parse_mutant)]
    mutant: Option<Mutant>,
    /// Seed of the swarm (its configurations and walks).
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Give up a part when the process holds this much memory (`8G`, `500M`).
    #[arg(long, value_parser = parse_size)]
    max_memory: Option<u64>,
    /// Run only the exhaustive parts, each with the whole budget if it needs
    /// it: the parts that prove something, with no deep part and no swarm
    /// (which only hunt for bugs). CI runs this.
    #[arg(long)]
    exhaustive_only: bool,
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
        let d = ModelConfig::for_nodes(self.nodes as usize);
        ModelConfig {
            term_max: self.max_term.unwrap_or(d.term_max),
            proposals_max: self.max_proposals.unwrap_or(d.proposals_max),
            crashes_max: self.max_crashes.unwrap_or(d.crashes_max),
            in_flight_max: self.max_in_flight.unwrap_or(d.in_flight_max),
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
            pre_vote: self.pre_vote,
            check_quorum: self.check_quorum,
            transfers_max: self.transfers,
            pre_votes_max: self.max_pre_votes,
            compactions_max: self.max_compactions,
            clients: self.clients,
            ops_max: self.ops,
            read_mode: match self.reads {
                Reads::Index => ReadMode::Index,
                Reads::Lease => ReadMode::Lease,
            },
            initial_voters: self.initial_voters,
            conf_changes_max: self.conf_changes,
            learners: self.learners,
            joint: self.joint,
            mutant: self.mutant,
            ..d
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
        Command::Hunt(args) => hunt_command(args),
        Command::Serve(args) => serve_command(args),
        Command::List => list_command(),
    };
    ExitCode::from(code)
}

fn search_command(engine: Engine, args: SearchArgs) -> u8 {
    let cfg = args.model.config();
    if let Some(code) = refused(&cfg) {
        return code;
    }
    if args.symmetric() && cfg.conf_changes_max > 0 && cfg.compactions_max > 0 {
        // Renaming nodes would have to rename the ids inside snapshot data.
        eprintln!(
            "check: symmetry reduction with both --conf-changes and --max-compactions \
             is not supported: add --no-symmetry"
        );
        return 2;
    }
    let opts = args.options(engine);
    let quiet = args.json;
    let engine_name = if engine == Engine::Bfs { "bfs" } else { "dfs" };
    if !quiet {
        println!(
            "ruft check {engine_name}: {}{} (threads {})",
            args.model.flags(),
            if args.symmetric() { " --symmetry" } else { "" },
            args.threads
        );
    }
    let recording = args.coverage.then(coverage::start);
    let outcome = search::explore(RuftModel::new(cfg.clone()), &opts, |p| {
        if !quiet {
            eprintln!(
                "  {:>6.1}s  states {:>11}  unique {:>11}  depth {:>3}  {:>9.0} states/s  memory {}",
                p.elapsed.as_secs_f64(),
                p.states,
                p.unique,
                p.depth,
                p.states as f64 / p.elapsed.as_secs_f64().max(1e-9),
                report::mib(p.memory)
            );
        }
    });
    let coverage = recording.map(coverage::Recording::finish);
    if !quiet {
        report::print_table(&outcome, &cfg);
        if let Some(c) = &coverage {
            c.print();
        }
        if let (Some(m), true) = (cfg.mutant, outcome.violations.is_empty()) {
            println!(
                "\n  mutant {m} was not caught within these bounds; the catalogue catches it with:\n    check bfs {}",
                mutants::entry(m).config().flags()
            );
        }
    }
    let counterexample = outcome.violations.first().map(|(name, found)| {
        Counterexample::settle(&cfg, name, found, args.symmetric(), &args.budget(), quiet)
    });
    if args.json {
        let search = json!({
            "engine": engine_name,
            "symmetry": args.symmetric(),
            "threads": args.threads,
        });
        let mut doc = report::json(&cfg, search, &outcome, counterexample.as_ref());
        if let Some(c) = &coverage {
            doc["coverage"] = c.json();
        }
        println!(
            "{}",
            serde_json::to_string_pretty(&doc).expect("JSON of plain values")
        );
    }
    outcome.exit_code() as u8
}

/// Exit code 2, with the reason, if the nodes would refuse the configuration
/// the flags describe (say, lease reads without check-quorum).
fn refused(cfg: &ModelConfig) -> Option<u8> {
    let error = cfg.validate().err()?;
    eprintln!("check: the nodes would refuse this configuration: {error}");
    Some(2)
}

fn simulate_command(args: SimulateArgs) -> u8 {
    if let Some(code) = refused(&args.model.config()) {
        return code;
    }
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
    let features = args.model.config().features();
    for p in properties::enabled(features).filter(|p| p.expect == Expect::Sometimes) {
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
            let cfg = args.model.config();
            let budget = Budget {
                timeout: Some(Duration::from_secs(60)),
                memory_max: search::default_memory_max(),
                progress_every: Some(Duration::from_secs(3)),
            };
            Counterexample::settle(&cfg, name, &path, false, &budget, false);
            1
        }
        None => {
            println!("  no violation in these walks (random walks prove nothing; use bfs/dfs)");
            0
        }
    }
}

fn hunt_command(args: HuntArgs) -> u8 {
    let memory_max = args.max_memory.or_else(search::default_memory_max);
    let mut hunt = Hunt::new(Duration::from_secs(args.time), args.mutant, memory_max);
    println!(
        "ruft check hunt: {} s{}{}",
        args.time,
        args.mutant
            .map_or(String::new(), |m| format!(", mutant {m}")),
        if args.exhaustive_only {
            ", exhaustive parts only"
        } else {
            ""
        }
    );
    if args.exhaustive_only {
        return hunt.exhaustive_parts().unwrap_or_else(|| hunt.verdict());
    }
    if let Some(code) = hunt.parts() {
        return code;
    }
    if let Some(code) = hunt.swarm(args.seed) {
        return code;
    }
    hunt.verdict()
}

fn serve_command(args: ServeArgs) -> u8 {
    if let Some(code) = refused(&args.model.config()) {
        return code;
    }
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
        let flag = match p.needs {
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
        };
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
        println!(
            "  --nodes {n}:  --max-term {}  --max-proposals {}  --max-crashes {}  --max-in-flight {}",
            d.term_max, d.proposals_max, d.crashes_max, d.in_flight_max
        );
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
