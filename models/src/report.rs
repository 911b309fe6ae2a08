//! What `check` prints: the figures table, the verdicts, counterexamples as
//! readable steps, and the JSON document. Shared by every subcommand
//! (`bfs`, `dfs`, `simulate`, `hunt`), so a result reads the same wherever it
//! comes from.
//!
//! A violation is never lost: [`Counterexample::settle`] first turns the path
//! the search found into a plain one (no renamings) and prints it at once,
//! labelled "found, not yet shortest"; only then does it look for a shorter
//! one, under a [`Budget`], and print that if the search finishes.

use crate::display;
use crate::explain;
use crate::model::{Action, ModelConfig, RuftModel, State};
use crate::properties::{self, Expect};
use crate::search::{self, Budget, Outcome, Verdict};
use serde_json::json;
use stateright::Path;
use std::io::Write;
use std::sync::atomic::Ordering;

static COLOUR: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Turns colour on or off for the table's verdict words (`check` turns it on
/// only when stdout is a terminal and `NO_COLOR` is unset).
pub fn set_colour(on: bool) {
    COLOUR.store(on, Ordering::Relaxed);
}

/// A verdict's word, in red (failures), yellow (nothing proved) or green
/// when colour is on.
fn paint(v: Verdict) -> String {
    if !COLOUR.load(Ordering::Relaxed) {
        return v.word().to_string();
    }
    let code = match v {
        Verdict::Violated | Verdict::NotReached => "31",
        Verdict::HoldsSoFar | Verdict::Unknown => "33",
        Verdict::Holds | Verdict::Reached => "32",
    };
    format!("\u{1b}[{code}m{}\u{1b}[0m", v.word())
}

/// Bytes as MiB, or `?`.
pub fn mib(bytes: Option<u64>) -> String {
    bytes.map_or("?".into(), |b| {
        format!("{:.0} MiB", b as f64 / (1 << 20) as f64)
    })
}

/// The figures, one line per property, the bounds that cut states, and the
/// closing verdict line.
pub fn print_table(o: &Outcome, cfg: &ModelConfig) {
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
        let kind = match properties::property(name).map(|p| p.expect()) {
            Some(Expect::Always) => "always",
            _ => "sometimes",
        };
        println!("  {:<11} {:<40} {}", kind, name, paint(*verdict));
    }
    println!();
    let hit: Vec<String> = cuts(cfg)
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
    if let Some(why) = unreached_line(o, cfg) {
        println!("  {why}");
    }
}

/// The states each bound kept out, by flag.
fn cuts(cfg: &ModelConfig) -> [(&'static str, usize); 5] {
    [
        ("--max-term", cfg.cuts.term.load(Ordering::Relaxed)),
        (
            "--max-proposals",
            cfg.cuts.proposals.load(Ordering::Relaxed),
        ),
        (
            "--max-pre-votes",
            cfg.cuts.pre_votes.load(Ordering::Relaxed),
        ),
        (
            "--max-compactions",
            cfg.cuts.compactions.load(Ordering::Relaxed),
        ),
        (
            "--max-in-flight",
            cfg.cuts.in_flight.load(Ordering::Relaxed),
        ),
    ]
}

/// When a complete search left a witness unreached: which one first, what the
/// search did reach, and which bound to raise.
pub fn unreached_line(o: &Outcome, cfg: &ModelConfig) -> Option<String> {
    let first = o.verdicts.iter().find(|(_, v)| *v == Verdict::NotReached)?;
    let reached: Vec<&str> = o
        .verdicts
        .iter()
        .filter(|(_, v)| *v == Verdict::Reached)
        .map(|(n, _)| *n)
        .collect();
    let hint = match cuts(cfg).iter().max_by_key(|(_, n)| *n) {
        Some((flag, n)) if *n > 0 => format!(
            "The bound that kept the most states out is {flag} ({n} states): raise it \
             (`check list` shows what each witness needs)"
        ),
        _ => "No bound kept a state out: the witness needs a feature flag (`check list` \
              shows which), or the engine cannot get there"
            .to_string(),
    };
    Some(format!(
        "NOT REACHED: \"{}\" was never reached in {} states (reached: {}). The Always \
         properties it pairs with were checked on a space that never gets there: widen \
         the bounds, or look for a liveness bug (exit 1). {hint}.",
        first.0,
        o.unique,
        if reached.is_empty() {
            "nothing".to_string()
        } else {
            reached.join(", ")
        }
    ))
}

/// A violation, as a plain path, and how sure we are that it is the shortest.
pub struct Counterexample {
    /// The violated property.
    pub property: &'static str,
    /// The run, with one naming of the nodes throughout.
    pub path: Path<State, Action>,
    /// Whether a complete level-by-level search showed no shorter path.
    pub shortest: bool,
    /// Steps of the path the search first found.
    pub found_steps: usize,
    /// Why shortening stopped early, if it did.
    pub shorten_cut: Option<String>,
    /// Whether the path uses one naming of the nodes throughout (false only
    /// if a symmetry-reduced path had no plain twin).
    pub plain_names: bool,
}

impl Counterexample {
    /// Turns the path a search `found` (on the symmetry-reduced model if
    /// `symmetric`) into a plain counterexample, prints it at once unless
    /// `quiet`, then searches for a shorter one within `budget`, with progress
    /// on stderr, and prints that if it is shorter.
    pub fn settle(
        cfg: &ModelConfig,
        property: &'static str,
        found: &Path<State, Action>,
        symmetric: bool,
        budget: &Budget,
        quiet: bool,
    ) -> Counterexample {
        let plain = RuftModel::new(cfg.clone());
        // A reduced path with no plain twin would mean an unsound reduction;
        // it is still printed, marked, and without a link that would replay
        // something else on the plain model.
        let (path, plain_names) = match symmetric.then(|| search::plain_path(&plain, found)) {
            Some(Some(path)) => (path, true),
            Some(None) => (found.clone(), false),
            None => (found.clone(), true),
        };
        let found_steps = path.clone().into_actions().len();
        let mut cx = Counterexample {
            property,
            path,
            shortest: false,
            found_steps,
            shorten_cut: None,
            plain_names,
        };
        if !quiet {
            cx.print(cfg, "found, not yet shortest");
            eprintln!("  looking for a shorter counterexample (--shorten-timeout to change the budget)...");
        }
        let def = properties::property(property);
        let holds = |s: &State| def.is_none_or(|p| p.holds(&crate::model::observe(s)));
        // Shortening runs on the reduced model (paths keep their length under
        // renaming) and the result is made plain again.
        let reduced = RuftModel::new(cfg.clone()).with_symmetry();
        let progress = |p: search::Progress| {
            if !quiet {
                eprintln!(
                    "  shortening: depth {:>3}  states {:>10}  {:>5.0}s  memory {}",
                    p.depth,
                    p.unique,
                    p.elapsed.as_secs_f64(),
                    mib(p.memory)
                );
            }
        };
        match search::shortest_path_within(&reduced, holds, found_steps, budget, progress) {
            Ok(Some(short)) => {
                if let Some(short) = search::plain_path(&plain, &short) {
                    let shorter = short.clone().into_actions().len() < found_steps;
                    if shorter || !cx.plain_names {
                        cx.path = short;
                        cx.plain_names = true;
                    }
                    cx.shortest = true;
                    if !quiet {
                        if shorter {
                            cx.print(cfg, "shortest");
                        } else {
                            println!("\n  The counterexample above is the shortest.");
                        }
                    }
                }
            }
            Ok(None) => {}
            Err(why) => {
                if !quiet {
                    println!(
                        "\n  Shortening stopped ({why}): the counterexample above stands, \
                         not known to be the shortest."
                    );
                }
                cx.shorten_cut = Some(why);
            }
        }
        cx
    }

    /// The steps, the final state and the explorer link.
    pub fn print(&self, cfg: &ModelConfig, label: &str) {
        println!();
        println!(
            "Counterexample for \"{}\" ({} steps, {label}):",
            self.property,
            self.path.clone().into_actions().len()
        );
        let why = explain::explain(self.property, &self.path);
        for step in explain::steps(&self.path) {
            println!("{}", step.line());
            if why.as_ref().is_some_and(|w| w.from_step == step.number) {
                println!("       ^ \"{}\" fails from here", self.property);
            }
        }
        println!();
        if let Some(why) = &why {
            for line in why.lines(self.property) {
                println!("{line}");
            }
            println!();
        }
        println!("Final state:");
        for line in display::cluster(self.path.last_state()).lines() {
            println!("    {line}");
        }
        println!();
        match self.link(cfg) {
            Some(link) => {
                println!("Open it in the explorer:");
                println!(
                    "    cargo run --release --bin check -- serve {}",
                    cfg.flags()
                );
                println!("    {link}");
            }
            None => println!(
                "(a path of the symmetry-reduced model with no plain twin: node names may \
                 change between steps, and no explorer link can replay it; please report it)"
            ),
        }
        let _ = std::io::stdout().flush();
    }

    /// The explorer link of the path (none for a path that is not plain).
    pub fn link(&self, cfg: &ModelConfig) -> Option<String> {
        self.plain_names.then(|| {
            format!(
                "http://127.0.0.1:3000/#/steps/{}",
                self.path.encode(&RuftModel::new(cfg.clone()))
            )
        })
    }

    /// The counterexample as JSON fields.
    pub fn json(&self, cfg: &ModelConfig) -> serde_json::Value {
        let why = explain::explain(self.property, &self.path);
        json!({
            "property": self.property,
            "reason": why.as_ref().map(|w| w.reason.json()),
            "fails_from_step": why.as_ref().map(|w| w.from_step),
            "node_history": why.as_ref().map(|w| w.history.clone()),
            "steps": explain::steps(&self.path).iter().map(explain::Step::json).collect::<Vec<_>>(),
            "shortest": self.shortest,
            "found_steps": self.found_steps,
            "shorten_cut_short": self.shorten_cut,
            "explorer": self.link(cfg),
        })
    }
}

/// The version of the JSON documents `check` prints, described by
/// `docs/check-output.schema.json`; raised on any change a reader could
/// trip over (a field removed, renamed or changing meaning).
pub const SCHEMA_VERSION: u32 = 1;

/// The whole result as one JSON document.
pub fn json(
    cfg: &ModelConfig,
    search: serde_json::Value,
    o: &Outcome,
    cx: Option<&Counterexample>,
) -> serde_json::Value {
    let [term, proposals, pre_votes, compactions, in_flight] = cuts(cfg).map(|(_, n)| n);
    json!({
        "schema_version": SCHEMA_VERSION,
        "command": search["engine"],
        "model": cfg.json(),
        "search": search,
        "states_kept_out": {
            "max_term": term, "max_proposals": proposals, "max_pre_votes": pre_votes,
            "max_compactions": compactions, "max_in_flight": in_flight,
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
        "step_cache": o.step_cache.map(|c| json!({
            "capacity": cfg.step_cache, "hits": c.hits, "misses": c.misses,
        })),
        "properties": o.verdicts.iter().map(|(n, v)| json!({
            "name": n,
            "kind": if properties::property(n).is_some_and(|p| p.expect() == Expect::Always) {
                "always"
            } else {
                "sometimes"
            },
            "result": v.word(),
        })).collect::<Vec<_>>(),
        "not_reached": unreached_line(o, cfg),
        "counterexample": cx.map(|c| c.json(cfg)),
        "exit_code": o.exit_code(),
    })
}

/// Writes `doc` to `target`: `-` is standard output, in one write; any other
/// path is written atomically ([`write_atomically`]).
pub fn write_json(target: &std::path::Path, doc: &serde_json::Value) -> std::io::Result<()> {
    let mut text = serde_json::to_string_pretty(doc).map_err(std::io::Error::other)?;
    text.push('\n');
    if target == std::path::Path::new("-") {
        let mut out = std::io::stdout().lock();
        out.write_all(text.as_bytes())?;
        return out.flush();
    }
    write_atomically(target, text.as_bytes())
}

/// Writes `bytes` beside `target` and renames the file into place, so a
/// reader never sees half a file, whatever ends the process.
pub fn write_atomically(target: &std::path::Path, bytes: &[u8]) -> std::io::Result<()> {
    let name = target
        .file_name()
        .ok_or_else(|| std::io::Error::other("the path names no file"))?;
    let mut partial = name.to_os_string();
    partial.push(format!(".partial-{}", std::process::id()));
    let partial = target.with_file_name(partial);
    let written = std::fs::File::create(&partial).and_then(|mut f| {
        f.write_all(bytes)?;
        f.sync_all()
    });
    match written.and_then(|()| std::fs::rename(&partial, target)) {
        Ok(()) => Ok(()),
        Err(e) => {
            let _ = std::fs::remove_file(&partial);
            Err(e)
        }
    }
}
