//! `check`'s command line: subcommands, model flags and search options.

use clap::{Args, Parser, Subcommand, ValueEnum};
use ruft::{Mutant, ReadMode};
use ruft_models::model::{Durability, ModelConfig, NetworkKind};
use ruft_models::search::{self, Budget, Engine, SearchOptions};
use ruft_models::shard::Shard;
use std::path::PathBuf;
use std::time::Duration;

const AFTER_HELP: &str = "\
Examples:
  check bfs --nodes 3                          exhaustive search within the default bounds
  check bfs --nodes 3 --mutant forget-vote-on-restart
                                               see a known bug caught, with its reason
  check bfs --nodes 3 --json out.json          the result as a JSON document (schema:
                                               docs/check-output.schema.json)
  check simulate --nodes 5 --time 60           random walks for a minute
  check hunt --time 300                        the bug-hunting portfolio CI runs
  check serve --nodes 3                        stateright's explorer on 127.0.0.1:3000
  RUST_LOG=ruft=debug check simulate --runs 1  the engine's own tracing events

Exit codes:
  0  every Always property holds and every Sometimes witness is reached
  1  a property is violated (counterexample printed), or a witness is never reached
  2  bad arguments, or the explorer cannot listen on its address
  3  the search was cut short (--timeout, --max-states, --max-memory, Ctrl-C or
     SIGTERM): the partial figures are printed, and nothing is proved

Docs: docs/checking.md";

#[derive(Parser)]
#[command(
    name = "check",
    about = "Model-check a ruft cluster",
    version,
    after_help = AFTER_HELP
)]
pub(crate) struct Cli {
    #[command(subcommand)]
    pub(crate) command: Command,
}

#[derive(Subcommand)]
pub(crate) enum Command {
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
    /// List the properties, the default bounds and the mutants.
    List(ListArgs),
    /// Combine the `--json` results of the parts of a split search
    /// (`--shard I/N`) into one verdict.
    Merge(MergeArgs),
}

#[derive(Args, Clone)]
pub(crate) struct ModelArgs {
    /// Cluster size.
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u64).range(1..=7))]
    pub(crate) nodes: u64,
    /// Highest term explored [default: by cluster size, see `check list`].
    #[arg(long)]
    pub(crate) max_term: Option<u64>,
    /// Client proposals, cluster-wide [default: by cluster size].
    #[arg(long)]
    pub(crate) max_proposals: Option<usize>,
    /// Crashes over the whole run, each followed by a possible restart
    /// [default: by cluster size].
    #[arg(long)]
    pub(crate) max_crashes: Option<usize>,
    /// Messages in flight at once (on a duplicating network: distinct messages
    /// ever sent, since a delivered message stays deliverable) [default: by
    /// cluster size].
    #[arg(long)]
    pub(crate) max_in_flight: Option<usize>,
    /// Network semantics.
    #[arg(long, value_enum, default_value_t = Net::Unordered)]
    pub(crate) network: Net,
    /// Let the network lose messages.
    #[arg(long)]
    pub(crate) lossy: bool,
    /// Remove a message from the network as soon as its receiver would drop
    /// it for good (an older term, or an answer to a role the receiver has
    /// left in its term): a reduction that keeps every node state
    /// (proofs/README.md#dead-messages); on by default from 4 nodes.
    #[arg(long, conflicts_with = "keep_dead_messages")]
    pub(crate) drop_dead_messages: bool,
    /// Leave dead messages in the network until they are delivered and
    /// dropped (turns off the reduction 4 nodes and more get by default).
    #[arg(long)]
    pub(crate) keep_dead_messages: bool,
    /// When writes become durable.
    #[arg(long, value_enum, default_value_t = Dur::Sync)]
    pub(crate) durability: Dur,
    /// Let leaders' heartbeat timers fire (about four times more states).
    #[arg(long)]
    pub(crate) heartbeats: bool,
    /// Node steps kept to be handed out again when an equal node meets an
    /// equal event (0: none). The same states are explored either way; it
    /// trades some memory for speed (docs/performance.md).
    #[arg(long, value_name = "N", default_value_t = ruft_models::config::STEP_CACHE_DEFAULT)]
    pub(crate) step_cache: usize,
    /// Most entries per AppendEntries message (1 lets a follower take an
    /// older-term prefix without the newer entries behind it).
    #[arg(long, default_value_t = 64, value_parser = clap::value_parser!(u64).range(1..))]
    pub(crate) max_append_entries: u64,
    /// Switch on pre-vote in every node (thesis §9.6) and check its properties.
    #[arg(long)]
    pub(crate) pre_vote: bool,
    /// Pre-vote rounds over the whole run (a failed pre-vote does not move
    /// the term, so `--max-term` does not bound them) [default: unbounded].
    #[arg(long, requires = "pre_vote")]
    pub(crate) max_pre_votes: Option<usize>,
    /// Switch on check-quorum in every node (thesis §6.2): leaders' election
    /// periods end and followers' leader leases run out as timers.
    #[arg(long)]
    pub(crate) check_quorum: bool,
    /// Leader transfers the operator may ask for, cluster-wide (thesis §3.10).
    #[arg(long, default_value_t = 0)]
    pub(crate) transfers: usize,
    /// Log compactions, cluster-wide (§7): a node snapshots its state machine
    /// and drops its applied log; leaders send snapshots to followers that
    /// need compacted entries. Checks the snapshot properties.
    #[arg(long, default_value_t = 0)]
    pub(crate) max_compactions: usize,
    /// Nodes that host a client (the first N): clients write through the
    /// log and read with ReadIndex, and their history is checked for
    /// linearizability (thesis §6.4).
    #[arg(long, default_value_t = 0)]
    pub(crate) clients: usize,
    /// Operations each client runs.
    #[arg(long, default_value_t = 1, requires = "clients")]
    pub(crate) ops: u8,
    /// How leaders confirm reads: `index` (ReadIndex, a heartbeat round per
    /// read) or `lease` (needs --check-quorum; the model then keeps time: one
    /// action ticks every node's clock, and nodes run election_tick 3, heartbeat_tick 2).
    #[arg(long, value_enum, default_value_t = Reads::Index)]
    pub(crate) reads: Reads,
    /// The cluster's voters at its start: n1..=N (default: every node). The
    /// other nodes start outside and join when a membership change adds them.
    #[arg(long)]
    pub(crate) initial_voters: Option<usize>,
    /// Membership changes leaders may be asked for, cluster-wide (thesis
    /// ch. 4): add a node as voter, promote a learner, remove a node (the
    /// leader itself included). Checks the membership properties.
    #[arg(long, default_value_t = 0)]
    pub(crate) conf_changes: usize,
    /// Also offer adding nodes as learners.
    #[arg(long, requires = "conf_changes")]
    pub(crate) learners: bool,
    /// Make every change through a joint configuration (left on its own),
    /// and offer replacing a voter by an outside node in one change.
    #[arg(long, requires = "conf_changes")]
    pub(crate) joint: bool,
    /// Switch on a known Raft bug in every node (`check list` names them), to
    /// see the harness catch it.
    #[arg(long, value_parser = parse_mutant)]
    pub(crate) mutant: Option<Mutant>,
}

/// `--reads`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum Reads {
    Index,
    Lease,
}

pub(crate) fn parse_mutant(name: &str) -> Result<Mutant, String> {
    Mutant::from_name(name).ok_or_else(|| {
        let names: Vec<&str> = Mutant::ALL.iter().map(|m| m.name()).collect();
        format!("no mutant `{name}`; one of: {}", names.join(", "))
    })
}

#[derive(Clone, Copy, ValueEnum)]
pub(crate) enum Net {
    Unordered,
    Duplicating,
    Ordered,
}

#[derive(Clone, Copy, ValueEnum)]
pub(crate) enum Dur {
    Sync,
    Async,
}

#[derive(Args)]
pub(crate) struct MergeArgs {
    /// The parts' `--json` files, one per part, all of one split search.
    #[arg(required = true, value_name = "PART.json")]
    pub(crate) parts: Vec<PathBuf>,
    /// Print the merged result as JSON (or write it to FILE).
    #[arg(long, value_name = "FILE", num_args = 0..=1, default_missing_value = "-")]
    pub(crate) json: Option<PathBuf>,
}

#[derive(Args)]
pub(crate) struct SearchArgs {
    #[command(flatten)]
    pub(crate) model: ModelArgs,
    /// Explore states that differ only by node names once (BFS and DFS);
    /// on by default from 4 nodes.
    #[arg(long, conflicts_with = "no_symmetry")]
    pub(crate) symmetry: bool,
    /// Turn off the symmetry reduction that 4 nodes and more get by default.
    #[arg(long)]
    pub(crate) no_symmetry: bool,
    /// Worker threads.
    #[arg(long, default_value_t = 2, value_parser = clap::value_parser!(u64).range(1..=256))]
    pub(crate) threads: u64,
    /// Give up after this many seconds (exit 3).
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..))]
    pub(crate) timeout: Option<u64>,
    /// Give up after this many unique states (exit 3).
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..))]
    pub(crate) max_states: Option<u64>,
    /// Give up when the process holds this much memory (exit 3), e.g. `8G`,
    /// `500M`; default: three quarters of the memory available at the start.
    #[arg(long, value_parser = parse_size)]
    pub(crate) max_memory: Option<u64>,
    /// Seconds the search for a shorter counterexample may take after a
    /// violation was found and printed (it is printed again if shorter).
    #[arg(long, default_value_t = 60)]
    pub(crate) shorten_timeout: u64,
    /// Print the result as one JSON document (`docs/check-output.schema.json`)
    /// instead of the table; with a FILE, write it there (atomically: the file
    /// appears whole or not at all) and print the table as usual.
    #[arg(long, value_name = "FILE", num_args = 0..=1, default_missing_value = "-")]
    pub(crate) json: Option<PathBuf>,
    /// Report which engine branches (ruft's code probes) the search reached.
    #[arg(long)]
    pub(crate) coverage: bool,
    /// No progress lines on stderr.
    #[arg(long, short)]
    pub(crate) quiet: bool,
    /// Write a counterexample, if one is found, as a self-contained HTML page
    /// (steps, sequence diagram, states, the reason) to attach to a failure.
    #[arg(long, value_name = "FILE.html")]
    pub(crate) report: Option<PathBuf>,
    /// Explore only part I of N of the search (`--shard 2/4`), for parts
    /// run on different machines; `check merge` combines their `--json`
    /// files into one verdict (docs/checking.md, "Splitting a search").
    #[arg(long, value_name = "I/N")]
    pub(crate) shard: Option<Shard>,
    /// Write the fingerprint of every state checked to FILE (8 bytes each,
    /// little-endian, sorted), so that `check merge` counts the distinct
    /// states of all parts exactly.
    #[arg(long, value_name = "FILE")]
    pub(crate) fingerprints: Option<PathBuf>,
}

impl SearchArgs {
    pub(crate) fn options(&self, engine: Engine) -> SearchOptions {
        SearchOptions {
            engine,
            threads: usize::try_from(self.threads).unwrap_or(1),
            symmetry: self.symmetric(),
            timeout: self.timeout.map(Duration::from_secs),
            states_max: self.max_states.and_then(|n| usize::try_from(n).ok()),
            memory_max: self.memory_max(),
            shard: self.shard,
            record_fingerprints: self.fingerprints.is_some(),
            ..SearchOptions::default()
        }
    }

    /// Symmetry reduction: asked for, or by default from 4 nodes on (where it
    /// cuts the space 12x and more; counterexamples are printed plain anyway).
    pub(crate) fn symmetric(&self) -> bool {
        self.symmetry || (self.model.nodes >= 4 && !self.no_symmetry)
    }

    pub(crate) fn memory_max(&self) -> Option<u64> {
        self.max_memory.or_else(search::default_memory_max)
    }

    pub(crate) fn budget(&self) -> Budget {
        Budget {
            timeout: Some(Duration::from_secs(self.shorten_timeout)),
            memory_max: self.memory_max(),
            progress_every: Some(Duration::from_secs(3)),
        }
    }
}

/// A size in bytes: a number with an optional K, M or G suffix (powers of 1024).
pub(crate) fn parse_size(text: &str) -> Result<u64, String> {
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
pub(crate) struct SimulateArgs {
    #[command(flatten)]
    pub(crate) model: ModelArgs,
    /// Seed of the walks.
    #[arg(long, default_value_t = 0)]
    pub(crate) seed: u64,
    /// Number of walks.
    #[arg(long, default_value_t = 10_000, conflicts_with = "time")]
    pub(crate) runs: usize,
    /// Walk for this many seconds instead of a number of runs.
    #[arg(long)]
    pub(crate) time: Option<u64>,
    /// Longest walk.
    #[arg(long, default_value_t = 200)]
    pub(crate) steps: usize,
    /// Report which engine branches (ruft's code probes) the walks reached.
    #[arg(long)]
    pub(crate) coverage: bool,
    /// Print the result as one JSON document instead (or write it to FILE,
    /// atomically, and print the usual lines).
    #[arg(long, value_name = "FILE", num_args = 0..=1, default_missing_value = "-")]
    pub(crate) json: Option<PathBuf>,
    /// Write a counterexample, if one is found, as a self-contained HTML page.
    #[arg(long, value_name = "FILE.html")]
    pub(crate) report: Option<PathBuf>,
    /// Run only part I of N of the walks (`--shard 2/4`): its share of
    /// `--runs` (or all of `--time`), from a seed of its own derived from
    /// `--seed`; `check merge` combines the parts' `--json` files.
    #[arg(long, value_name = "I/N")]
    pub(crate) shard: Option<Shard>,
}

impl SimulateArgs {
    /// The seed and the number of walks of this part (all of them unsplit).
    pub(crate) fn share(&self) -> (u64, usize) {
        match self.shard {
            None => (self.seed, self.runs),
            Some(s) => {
                let runs = self.runs / s.count + usize::from(s.index < self.runs % s.count);
                // Part seeds are spread out so that they do not run into the
                // seeds of nearby unsplit runs.
                let seed = self
                    .seed
                    .wrapping_add((s.index as u64 + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15));
                (seed, runs)
            }
        }
    }
}

#[derive(Args)]
pub(crate) struct HuntArgs {
    /// The whole budget, in seconds: nine tenths for the portfolio's parts,
    /// the rest (and whatever they leave) for the swarm.
    #[arg(long, default_value_t = 300, value_parser = clap::value_parser!(u64).range(1..))]
    pub(crate) time: u64,
    /// Switch on a known Raft bug in every node of every part.
    #[arg(long, value_parser = parse_mutant)]
    pub(crate) mutant: Option<Mutant>,
    /// Seed of the swarm (its configurations and walks).
    #[arg(long, default_value_t = 0)]
    pub(crate) seed: u64,
    /// Give up a part when the process holds this much memory (`8G`, `500M`).
    #[arg(long, value_parser = parse_size)]
    pub(crate) max_memory: Option<u64>,
    /// Run only the exhaustive parts, each with the whole budget if it needs
    /// it: the parts that prove something, with no deep part and no swarm
    /// (which only hunt for bugs). CI runs this.
    #[arg(long)]
    pub(crate) exhaustive_only: bool,
    /// Write a counterexample, if one is found, as a self-contained HTML page.
    #[arg(long, value_name = "FILE.html")]
    pub(crate) report: Option<PathBuf>,
}

#[derive(Args)]
pub(crate) struct ServeArgs {
    #[command(flatten)]
    pub(crate) model: ModelArgs,
    /// Address to bind (loopback unless told otherwise).
    #[arg(long, default_value = "127.0.0.1:3000")]
    pub(crate) addr: String,
}

impl ModelArgs {
    pub(crate) fn config(&self) -> ModelConfig {
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
            drop_dead: self.drop_dead_messages || (d.drop_dead && !self.keep_dead_messages),
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
            step_cache: self.step_cache,
            ..d
        }
    }

    /// The flags that rebuild this model, for `check serve ...` hints.
    pub(crate) fn flags(&self) -> String {
        self.config().flags()
    }
}

#[derive(Args)]
pub(crate) struct ListArgs {
    /// Print the list as one JSON document instead (or write it to FILE).
    #[arg(long, value_name = "FILE", num_args = 0..=1, default_missing_value = "-")]
    pub(crate) json: Option<PathBuf>,
}
