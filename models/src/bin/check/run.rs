//! The subcommands that explore: `bfs`/`dfs`, `simulate`, `hunt`, `serve`.

use crate::args::{HuntArgs, SearchArgs, ServeArgs, SimulateArgs};
use crate::refused;
use ruft_models::coverage;
use ruft_models::hunt::Hunt;
use ruft_models::interrupt;
use ruft_models::model::RuftModel;
use ruft_models::mutants;
use ruft_models::properties::{self, Expect};
use ruft_models::report::{self, Counterexample};
use ruft_models::search::{self, Budget, Engine};
use ruft_models::serve::{Explorer, ServeError};
use serde_json::json;
use std::path::Path;
use std::time::Duration;

pub(crate) fn search_command(engine: Engine, args: SearchArgs) -> u8 {
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
    let to_stdout = args.json.as_deref() == Some(Path::new("-"));
    let quiet = to_stdout;
    let engine_name = if engine == Engine::Bfs { "bfs" } else { "dfs" };
    if !quiet {
        println!(
            "ruft check {engine_name}: {}{}{} (threads {})",
            args.model.flags(),
            if args.symmetric() { " --symmetry" } else { "" },
            args.shard
                .map_or(String::new(), |s| format!(" --shard {s}")),
            args.threads
        );
    }
    let recording = args.coverage.then(coverage::start);
    let mut last = (0usize, Duration::ZERO);
    let outcome = search::explore(RuftModel::new(cfg.clone()), &opts, |p| {
        // The current rate (since the last line), not the run's average.
        let rate = (p.states - last.0) as f64 / (p.elapsed - last.1).as_secs_f64().max(1e-9);
        last = (p.states, p.elapsed);
        if !quiet && !args.quiet {
            // An exhaustive search's end cannot be foreseen; a timeout's can.
            let eta = opts.timeout.map_or(String::new(), |t| {
                format!(
                    "  (--timeout in {:.0}s)",
                    t.saturating_sub(p.elapsed).as_secs_f64()
                )
            });
            eprintln!(
                "  {:>6.1}s  states {:>11}  unique {:>11}  depth {:>3}  {:>9.0} states/s now  memory {}{eta}",
                p.elapsed.as_secs_f64(),
                p.states,
                p.unique,
                p.depth,
                rate,
                report::mib(p.memory)
            );
        }
    });
    let coverage = recording.map(coverage::Recording::finish);
    // Written before the JSON that names it, so a merge never reads a JSON
    // whose fingerprints are missing; a failure is reported after the
    // result, which it must not hide.
    let unwritten = args
        .fingerprints
        .as_ref()
        .zip(outcome.fingerprints.as_ref())
        .and_then(|(file, fps)| {
            let bytes: Vec<u8> = fps.iter().flat_map(|fp| fp.to_le_bytes()).collect();
            report::write_atomically(file, &bytes)
                .err()
                .map(|e| format!("cannot write {}: {e}", file.display()))
        });
    if !quiet {
        if let Some(s) = &outcome.shard {
            println!(
                "  part {} of a split search: split at depth {}; {} states before it (every part checks them); this part explores {} of the {} states there",
                s.shard, s.depth, s.prefix, s.mine, s.roots
            );
        }
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
    if let Some(code) = crate::emit_report(args.report.as_deref(), &cfg, counterexample.as_ref()) {
        return code;
    }
    if let Some(target) = &args.json {
        let search = json!({
            "engine": engine_name,
            "symmetry": args.symmetric(),
            "threads": args.threads,
        });
        let mut doc = report::json(&cfg, search, &outcome, counterexample.as_ref());
        if let Some(c) = &coverage {
            doc["coverage"] = c.json();
        }
        if let Some(s) = &outcome.shard {
            doc["shard"] = json!({
                "part": s.shard.index + 1,
                "parts": s.shard.count,
                "split_depth": s.depth,
                "prefix_states": s.prefix,
                "roots": s.roots,
                "roots_here": s.mine,
                "fingerprints": args
                    .fingerprints
                    .as_ref()
                    .filter(|_| unwritten.is_none())
                    .map(|f| f.display().to_string()),
            });
        }
        if let Some(code) = crate::emit_json(target, &doc) {
            return code;
        }
    }
    if let Some(why) = unwritten {
        eprintln!("check: {why}; the result above stands, but `check merge` cannot count this part's states");
        return 2;
    }
    outcome.exit_code() as u8
}

/// Exit code 2, with the reason, if the nodes would refuse the configuration
/// the flags describe (say, lease reads without check-quorum).
pub(crate) fn simulate_command(args: SimulateArgs) -> u8 {
    let cfg = args.model.config();
    if let Some(code) = refused(&cfg) {
        return code;
    }
    let quiet = args.json.as_deref() == Some(Path::new("-"));
    let say = |line: String| {
        if !quiet {
            println!("{line}");
        }
    };
    let model = RuftModel::new(cfg.clone());
    let time = args.time.map(Duration::from_secs);
    let (seed, share) = args.share();
    let runs = if time.is_some() { usize::MAX } else { share };
    say(format!(
        "ruft check simulate: seed {} {}{}",
        args.seed,
        args.model.flags(),
        args.shard.map_or(String::new(), |s| format!(
            " --shard {s} (this part's seed: {seed})"
        ))
    ));
    let recording = args.coverage.then(coverage::start);
    let walks = search::simulate(&model, seed, runs, time, args.steps);
    let coverage = recording.map(coverage::Recording::finish);
    say(format!("  {} walks, {} steps", walks.runs, walks.steps));
    let witnesses: Vec<(&str, &str)> = properties::enabled(cfg.features())
        .filter(|p| p.expect() == Expect::Sometimes)
        .map(|p| {
            let seen = walks.reached.contains(&p.name);
            (p.name, if seen { "reached" } else { "not reached" })
        })
        .collect();
    for (name, seen) in &witnesses {
        say(format!("  sometimes   {name:<40} {seen}"));
    }
    if let (Some(c), false) = (&coverage, quiet) {
        c.print();
    }
    let counterexample = walks.violation.as_ref().map(|(name, path)| {
        let budget = Budget {
            timeout: Some(Duration::from_secs(60)),
            memory_max: search::default_memory_max(),
            progress_every: Some(Duration::from_secs(3)),
        };
        Counterexample::settle(&cfg, name, path, false, &budget, quiet)
    });
    if let Some(code) = crate::emit_report(args.report.as_deref(), &cfg, counterexample.as_ref()) {
        return code;
    }
    let code = match (&counterexample, walks.interrupted) {
        (Some(_), _) => 1,
        (None, true) => {
            say(format!(
                "  INCOMPLETE: {}; nothing is proved (exit 3)",
                interrupt::REASON
            ));
            3
        }
        (None, false) => {
            say("  no violation in these walks (random walks prove nothing; use bfs/dfs)".into());
            0
        }
    };
    if let Some(target) = &args.json {
        let mut doc = json!({
            "schema_version": report::SCHEMA_VERSION,
            "command": "simulate",
            "model": cfg.json(),
            "seed": args.seed,
            "walks": walks.runs,
            "steps": walks.steps,
            "interrupted": walks.interrupted,
            "properties": witnesses.iter().map(|(name, seen)| {
                json!({"name": name, "kind": "sometimes", "result": seen})
            }).collect::<Vec<_>>(),
            "counterexample": counterexample.as_ref().map(|c| c.json(&cfg)),
            "exit_code": code,
        });
        if let Some(c) = &coverage {
            doc["coverage"] = c.json();
        }
        if let Some(s) = args.shard {
            doc["shard"] = json!({"part": s.index + 1, "parts": s.count, "part_seed": seed});
        }
        if let Some(code) = crate::emit_json(target, &doc) {
            return code;
        }
    }
    code
}

pub(crate) fn hunt_command(args: HuntArgs) -> u8 {
    let memory_max = args.max_memory.or_else(search::default_memory_max);
    let mut hunt = Hunt::new(Duration::from_secs(args.time), args.mutant, memory_max);
    hunt.report_to(args.report.clone());
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

pub(crate) fn serve_command(args: ServeArgs) -> u8 {
    if let Some(code) = refused(&args.model.config()) {
        return code;
    }
    let model = RuftModel::new(args.model.config());
    let addr = match std::net::ToSocketAddrs::to_socket_addrs(args.addr.as_str())
        .ok()
        .and_then(|mut addrs| addrs.next())
    {
        Some(addr) => addr,
        None => {
            eprintln!(
                "check: `{}` is not an address to listen on (like 127.0.0.1:3000)",
                args.addr
            );
            return 2;
        }
    };
    match Explorer::start(model, addr) {
        Ok(explorer) => {
            println!("ruft explorer on http://{addr} ({})", args.model.flags());
            explorer.run();
            0
        }
        Err(e @ ServeError::Listen { .. }) => {
            eprintln!(
                "check: {e} (another explorer running? pick another port with --addr \
                 127.0.0.1:3001)"
            );
            2
        }
        Err(e) => {
            eprintln!("check: {e}");
            2
        }
    }
}
