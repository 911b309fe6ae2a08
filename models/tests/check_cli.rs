//! Black-box tests of the `check` binary: exit codes, the JSON and table
//! output, counterexamples, `check list`, random walks and the web explorer.
//!
//! Run with `cargo test --release -p ruft-models --test check_cli`; the
//! exhaustive default search alone takes some 15-45 s on two cores.

use ruft::Mutant;
use ruft_models::display;
use ruft_models::model::{observe, ModelConfig, RuftModel, State};
use ruft_models::properties::{self, Expect, PROPERTIES};
use serde_json::Value;
use stateright::Model;
use std::collections::HashSet;
use std::io::Read;
use std::net::{SocketAddr, TcpListener};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

/// What one run of `check` left behind.
struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

fn check(args: &[&str]) -> Run {
    let Output {
        status,
        stdout,
        stderr,
    } = Command::new(env!("CARGO_BIN_EXE_check"))
        .args(args)
        .output()
        .expect("the check binary runs");
    Run {
        code: status
            .code()
            .expect("check exits by itself, not by a signal"),
        stdout: String::from_utf8(stdout).expect("stdout is UTF-8"),
        stderr: String::from_utf8(stderr).expect("stderr is UTF-8"),
    }
}

impl Run {
    /// Panics with the whole output unless the exit code is `code`.
    fn expect_code(&self, code: i32, what: &str) {
        assert_eq!(
            self.code, code,
            "{what}: expected exit {code}\n--- stdout\n{}\n--- stderr\n{}",
            self.stdout, self.stderr
        );
    }

    fn has_line(&self, line: &str) -> bool {
        self.stdout.lines().any(|l| l == line)
    }
}

/// The verdict line `check bfs` prints for a property.
fn verdict_line(name: &str, word: &str) -> String {
    let kind = match properties::property(name)
        .expect("a known property")
        .expect()
    {
        Expect::Always => "always",
        Expect::Sometimes => "sometimes",
    };
    format!("  {kind:<11} {name:<40} {word}")
}

/// The numbered counterexample steps (`  1. action  => node`), as (action, node).
fn numbered_steps(stdout: &str) -> Vec<(String, String)> {
    stdout
        .lines()
        .filter_map(|l| {
            let (number, rest) = l.trim_start().split_once(". ")?;
            number.parse::<usize>().ok()?;
            let (action, node) = rest.split_once("  => ")?;
            Some((action.to_string(), node.to_string()))
        })
        .collect()
}

/// The action indices of the explorer link printed with a counterexample.
fn explorer_link(stdout: &str) -> Vec<usize> {
    let prefix = "http://127.0.0.1:3000/#/steps/";
    let link = stdout
        .lines()
        .find_map(|l| l.trim().strip_prefix(prefix))
        .unwrap_or_else(|| panic!("no explorer link in\n{stdout}"));
    link.split('/')
        .map(|i| i.parse().expect("action indices"))
        .collect()
}

fn forget_vote_model() -> RuftModel {
    RuftModel::new(ModelConfig {
        mutant: Some(Mutant::ForgetVoteOnRestart),
        ..ModelConfig::default()
    })
}

#[test]
fn the_default_three_node_bounded_bfs_passes() {
    let run = check(&["bfs", "--nodes", "3", "--json"]);
    run.expect_code(0, "check bfs --nodes 3 --json");
    let doc: Value = serde_json::from_str(&run.stdout).expect("--json prints one JSON document");
    let schema = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../docs/check-output.schema.json"
    ))
    .expect("the schema");
    let schema: Value = serde_json::from_str(&schema).expect("the schema is JSON");
    let validator = jsonschema::validator_for(&schema).expect("a valid schema");
    let errors: Vec<String> = validator.iter_errors(&doc).map(|e| e.to_string()).collect();
    assert!(errors.is_empty(), "{errors:#?}");

    let model = &doc["model"];
    assert_eq!(model["nodes"], 3);
    assert_eq!(model["max_term"], 2);
    assert_eq!(model["max_proposals"], 1);
    assert_eq!(model["max_crashes"], 1);
    assert_eq!(model["max_in_flight"], 3);
    assert_eq!(
        model["flags"],
        "--nodes 3 --max-term 2 --max-proposals 1 --max-crashes 1 --max-in-flight 3",
        "the defaults have no heartbeats"
    );
    assert_eq!(doc["complete"], true);
    assert_eq!(doc["cut_short"], Value::Null);
    assert_eq!(doc["counterexample"], Value::Null);
    assert_eq!(doc["exit_code"], 0);

    let verdicts: Vec<(&str, &str)> = doc["properties"]
        .as_array()
        .expect("properties is a list")
        .iter()
        .map(|p| {
            (
                p["name"].as_str().expect("a name"),
                p["result"].as_str().expect("a result"),
            )
        })
        .collect();
    let names: Vec<&str> = verdicts.iter().map(|(n, _)| *n).collect();
    let default: Vec<_> = properties::enabled(properties::Features::default()).collect();
    let default_names: Vec<&str> = default.iter().map(|p| p.name).collect();
    assert_eq!(
        names, default_names,
        "every property of the default features, in order"
    );
    for (p, (_, result)) in default.iter().zip(&verdicts) {
        let want = match p.expect() {
            Expect::Always => "holds",
            Expect::Sometimes => "reached",
        };
        assert_eq!(*result, want, "{}", p.name);
    }

    let unique = doc["unique_states"].as_u64().expect("unique_states");
    let generated = doc["generated_states"].as_u64().expect("generated_states");
    let seconds = doc["seconds"].as_f64().expect("seconds");
    println!(
        "default bfs: {unique} unique states, {generated} generated, depth {}, {seconds:.1} s, \
         {:.0} states/s, peak memory {} MiB",
        doc["max_depth"],
        doc["states_per_second"].as_f64().unwrap_or(0.0),
        doc["peak_memory_bytes"].as_u64().unwrap_or(0) >> 20
    );
    assert!(
        unique > 100_000,
        "only {unique} unique states: the model is nearly vacuous"
    );
    assert!(generated >= unique);
    let record = recorded_run("bfs --nodes 3");
    assert_eq!(
        (unique, generated),
        record,
        "the default state space changed: update proofs/recorded-runs.tsv (and the figures in \
         proofs/ and docs/checking.md) and say why in the commit"
    );
}

/// The recorded client run (issue 15): two clients, a write and a ReadIndex
/// read each; the history is linearizable in every state, both client
/// witnesses are reached, and the state space is the recorded one.
#[test]
fn the_client_run_is_linearizable_and_reaches_every_witness() {
    let args = "bfs --nodes 3 --clients 2 --ops 1 --max-proposals 0 --max-crashes 0 --symmetry";
    let mut argv: Vec<&str> = args.split_whitespace().collect();
    argv.push("--json");
    let run = check(&argv);
    run.expect_code(0, args);
    let doc: Value = serde_json::from_str(&run.stdout).expect("one JSON document");
    let result = |name: &str| {
        doc["properties"]
            .as_array()
            .expect("properties is a list")
            .iter()
            .find(|p| p["name"] == name)
            .and_then(|p| p["result"].as_str())
            .unwrap_or_else(|| panic!("no verdict for {name}"))
            .to_string()
    };
    assert_eq!(result("linearizable"), "holds");
    assert_eq!(result("a read returns another client's write"), "reached");
    assert_eq!(result("a read is served after a leader change"), "reached");
    let unique = doc["unique_states"].as_u64().expect("unique_states");
    let generated = doc["generated_states"].as_u64().expect("generated_states");
    assert_eq!(
        (unique, generated),
        recorded_run(args),
        "the client state space changed: update proofs/recorded-runs.tsv and say why"
    );
}

/// `(unique, generated)` recorded for `args` in `proofs/recorded-runs.tsv`.
fn recorded_run(args: &str) -> (u64, u64) {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../proofs/recorded-runs.tsv");
    let text = std::fs::read_to_string(path).expect("proofs/recorded-runs.tsv exists");
    let line = text
        .lines()
        .filter(|l| !l.starts_with('#'))
        .find(|l| l.split('\t').next() == Some(args))
        .unwrap_or_else(|| panic!("no record for `{args}` in {path}"));
    let numbers: Vec<u64> = line
        .split('\t')
        .skip(1)
        .map(|n| n.parse().expect("a count"))
        .collect();
    (numbers[0], numbers[1])
}

/// The last counterexample printed (a search prints the one it found at
/// once, then a shorter one if shortening finds it).
fn last_counterexample(stdout: &str) -> &str {
    let at = stdout
        .rfind("Counterexample for ")
        .unwrap_or_else(|| panic!("no counterexample in\n{stdout}"));
    &stdout[at..]
}

#[test]
fn a_mutant_is_caught_with_a_shortest_counterexample() {
    let run = check(&["bfs", "--nodes", "3", "--mutant", "forget-vote-on-restart"]);
    run.expect_code(1, "a node that forgets its vote on restart");
    let out = &run.stdout;
    println!("{out}");

    // A node that forgets its vote grants a second one in the same term: the
    // one-vote-per-term part of "index order" fails before two leaders exist.
    assert!(run.has_line(&verdict_line("index order", "VIOLATED")));
    assert!(run.has_line(&verdict_line("election safety", "holds")));
    // The path the search found comes first, at once; then the shortest.
    let found = out
        .find(" steps, found, not yet shortest):")
        .unwrap_or_else(|| panic!("the found counterexample is printed first:\n{out}"));
    let last = last_counterexample(out);
    assert!(
        last.starts_with("Counterexample for \"index order\" (7 steps, shortest):")
            || (out[found - 1..].starts_with("7 steps, found")
                && out.contains("The counterexample above is the shortest.")),
        "{out}"
    );
    let steps = numbered_steps(last);
    assert_eq!(steps.len(), 7, "seven numbered steps:\n{out}");
    assert!(
        out.contains("\n  1. "),
        "steps are numbered `  1. `:\n{out}"
    );
    assert!(
        out.contains(
            "cargo run --release --bin check -- serve --nodes 3 --max-term 2 --max-proposals 1 \
             --max-crashes 1 --max-in-flight 3 --mutant forget-vote-on-restart"
        ),
        "the serve hint rebuilds the same (faulty) model:\n{out}"
    );

    // The reason names the clause, the node, the term and both votes, marks
    // the step from which the property fails, and recalls the restart.
    assert!(
        run.has_line(
            "Why \"index order\" fails: one vote per term: n1's vote in t1 on disk was for n1, \
             then for n3 in the same term"
        ),
        "{out}"
    );
    assert!(run.has_line("    it fails from step 7 on"), "{out}");
    assert!(
        run.has_line("    compared: nodes n1, n3; terms t1"),
        "{out}"
    );
    assert!(
        run.has_line("    n1 crashed at step 3, restarted at step 6"),
        "{out}"
    );
    let marked = last.lines().skip_while(|l| !l.starts_with("  7. ")).nth(1);
    assert_eq!(
        marked,
        Some("       ^ \"index order\" fails from here"),
        "{out}"
    );

    // The link replays, on the same model, to a state that breaks "index
    // order", through exactly the printed steps.
    replays_to_index_order(last);
    let model = forget_vote_model();

    // Shortest: an exhaustive level-by-level search (independent of the
    // binary's) finds no violation within six steps.
    let (states, bad) = violations_within(&model, 6);
    println!("{states} states within 6 steps of the initial state");
    assert_eq!(bad, None, "a violation within six steps");
}

/// Replays the explorer link printed in `text` on the forget-vote model:
/// every action must read as the numbered step printed for it, the node line
/// after it as printed, and the last state must break "index order" (and
/// nothing else).
fn replays_to_index_order(text: &str) {
    let model = forget_vote_model();
    let steps = numbered_steps(text);
    let link = explorer_link(text);
    assert_eq!(link.len(), 1 + steps.len(), "one action per step");
    let mut state = model.init_states().swap_remove(link[0]);
    for (k, &i) in link[1..].iter().enumerate() {
        let mut actions = Vec::new();
        model.actions(&state, &mut actions);
        let action = actions.swap_remove(i);
        let printed = [
            " (ignored)",
            " (answered, state unchanged)",
            " (lost: the node is down)",
        ]
        .iter()
        .fold(steps[k].0.as_str(), |s, note| {
            s.strip_suffix(note).unwrap_or(s)
        });
        assert_eq!(display::action(&action), printed, "step {}", k + 1);
        let at = display::actor_of(&action).unwrap_or(0);
        state = model
            .next_state(&state, action)
            .expect("the action is enabled");
        let mut line = display::node_string(&state.actor_states[at]);
        if state.crashed[at] {
            line.push_str(" (down)");
        }
        assert_eq!(line, steps[k].1, "the node after step {}", k + 1);
    }
    assert_eq!(
        properties::violations(&observe(&state)),
        ["index order"],
        "the link ends in the violation"
    );
}

/// What the README quotes is what `check` prints: the default run's figures
/// are the recorded ones, and its counterexample replays step for step.
#[test]
fn the_readme_quotes_real_output() {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../README.md"))
        .expect("README.md");
    let (unique, generated) = recorded_run("bfs --nodes 3");
    for line in [
        format!("  {:<24} {:>14}", "generated states", generated),
        format!("  {:<24} {:>14}", "unique states", unique),
        "ruft check bfs: --nodes 3 --max-term 2 --max-proposals 1 --max-crashes 1 \
         --max-in-flight 3 (threads 2)"
            .to_string(),
    ] {
        assert!(readme.lines().any(|l| l == line), "README lacks `{line}`");
    }
    let at = readme
        .find("Counterexample for \"index order\" (7 steps")
        .expect("the README shows the forget-vote counterexample");
    let block = &readme[at..];
    let block = &block[..block.find("```").unwrap_or(block.len())];
    replays_to_index_order(block);
}

/// Memory is a bound like any other: over the limit, the search stops with
/// its partial table and exit 3.
#[test]
fn a_search_over_its_memory_limit_stops_incomplete() {
    let run = check(&["bfs", "--nodes", "3", "--max-memory", "1M"]);
    run.expect_code(3, "a 1 MiB memory limit");
    assert!(
        run.stdout
            .contains("  INCOMPLETE: memory limit of 1 MiB reached ("),
        "{}",
        run.stdout
    );
    let bad = check(&["bfs", "--max-memory", "0"]);
    bad.expect_code(2, "a zero memory limit");
}

/// A violation is printed before any attempt to shorten it, so a shortening
/// that runs out of budget (here: no time at all) loses nothing.
#[test]
fn a_found_violation_is_printed_even_when_shortening_gives_up() {
    let run = check(&[
        "bfs",
        "--mutant",
        "forget-vote-on-restart",
        "--shorten-timeout",
        "0",
    ]);
    run.expect_code(1, "a violation, shortening out of time");
    let out = &run.stdout;
    assert!(out.contains(" steps, found, not yet shortest):"), "{out}");
    assert!(
        out.contains("Shortening stopped (timeout after 0 s): the counterexample above stands"),
        "{out}"
    );
    assert!(!numbered_steps(out).is_empty(), "{out}");
    assert!(out.contains("http://127.0.0.1:3000/#/steps/"), "{out}");

    let json = check(&[
        "bfs",
        "--mutant",
        "forget-vote-on-restart",
        "--shorten-timeout",
        "0",
        "--json",
    ]);
    json.expect_code(1, "the same, as JSON");
    let doc: Value = serde_json::from_str(&json.stdout).expect("one JSON document");
    let cx = &doc["counterexample"];
    assert_eq!(cx["property"], "index order");
    assert_eq!(cx["shortest"], false);
    assert_eq!(cx["shorten_cut_short"], "timeout after 0 s");
    let steps = cx["steps"].as_array().expect("steps are a list");
    assert!(!steps.is_empty());
    for (k, step) in steps.iter().enumerate() {
        assert_eq!(step["step"], k + 1, "{step}");
        for field in ["action", "outcome", "after"] {
            assert!(step[field].is_string(), "{field} in {step}");
        }
        assert!(step["sent"].is_array(), "{step}");
    }
    let why = &cx["reason"];
    assert_eq!(why["clause"], "one vote per term");
    assert_eq!(why["nodes"][0], 1, "{why}");
    assert_eq!(why["terms"], serde_json::json!([1]), "{why}");
    assert!(
        why["text"].as_str().is_some_and(|t| t.contains("in t1")),
        "{why}"
    );
    assert_eq!(
        cx["fails_from_step"],
        steps.len(),
        "it fails at the last step"
    );
}

/// Explores every state within `depth` actions; returns how many there are and
/// the first violation met, if any.
fn violations_within(
    model: &RuftModel,
    depth: usize,
) -> (usize, Option<(usize, Vec<&'static str>)>) {
    // A node state's kept fingerprint (a `OnceLock`) takes no part in its
    // hash or equality, so states are sound keys.
    #[allow(clippy::mutable_key_type)]
    let mut seen: HashSet<State> = HashSet::new();
    let mut level: Vec<State> = model.init_states();
    seen.extend(level.iter().cloned());
    for d in 0..=depth {
        for s in &level {
            let v = properties::violations(&observe(s));
            if !v.is_empty() {
                return (seen.len(), Some((d, v)));
            }
        }
        if d == depth {
            break;
        }
        let mut next = Vec::new();
        for s in &level {
            let mut actions = Vec::new();
            model.actions(s, &mut actions);
            for a in actions {
                let Some(n) = model.next_state(s, a) else {
                    continue;
                };
                if model.within_boundary(&n) && seen.insert(n.clone()) {
                    next.push(n);
                }
            }
        }
        level = next;
    }
    (seen.len(), None)
}

#[test]
fn exit_codes_tell_bad_arguments_cut_short_searches_and_unreached_witnesses_apart() {
    // 2: bad arguments, with clap's message on stderr and nothing on stdout.
    for (args, message) in [
        (
            &["bfs", "--nodes", "0"][..],
            "error: invalid value '0' for '--nodes <NODES>': 0 is not in 1..=7",
        ),
        (
            &["bfs", "--nodes", "3", "--bogus"][..],
            "error: unexpected argument '--bogus' found",
        ),
        (
            &["bfs", "--nodes", "3", "--network", "nonsense"][..],
            "error: invalid value 'nonsense' for '--network <NETWORK>'",
        ),
        (&["simulate", "--nodes", "8"][..], "8 is not in 1..=7"),
        (&["frobnicate"][..], "error: unrecognized subcommand"),
        (
            &["bfs", "--nodes", "3", "--clients", "2", "--reads", "lease"][..],
            "the nodes would refuse this configuration: invalid config: lease reads need check_quorum",
        ),
    ] {
        let run = check(args);
        run.expect_code(2, &args.join(" "));
        assert!(
            run.stderr.contains(message),
            "{args:?}: stderr lacks {message:?}:\n{}",
            run.stderr
        );
        assert!(run.stdout.is_empty(), "{args:?}: {}", run.stdout);
    }
    let run = check(&["bfs", "--nodes", "3", "--network", "nonsense"]);
    assert!(run
        .stderr
        .contains("[possible values: unordered, duplicating, ordered]"));

    // 3: a search cut short proves nothing, whatever it saw.
    let run = check(&[
        "bfs",
        "--nodes",
        "3",
        "--heartbeats",
        "--max-states",
        "2000",
    ]);
    run.expect_code(3, "state limit");
    assert!(
        run.stdout.contains("  INCOMPLETE: state limit of ")
            && run
                .stdout
                .contains(" unique states reached; nothing is proved (exit 3)"),
        "{}",
        run.stdout
    );
    assert!(!run.stdout.contains("complete: every state"));

    let run = check(&[
        "bfs",
        "--nodes",
        "3",
        "--heartbeats",
        "--max-states",
        "2000",
        "--json",
    ]);
    run.expect_code(3, "state limit, JSON");
    let doc: Value = serde_json::from_str(&run.stdout).expect("one JSON document");
    assert_eq!(doc["complete"], false);
    assert_eq!(doc["exit_code"], 3);
    assert!(doc["cut_short"]
        .as_str()
        .is_some_and(|s| s.starts_with("state limit of ")));

    // This space takes minutes (over 300 s seen); one second is not enough.
    let started = Instant::now();
    let run = check(&[
        "bfs",
        "--nodes",
        "3",
        "--heartbeats",
        "--max-proposals",
        "2",
        "--timeout",
        "1",
    ]);
    let took = started.elapsed();
    run.expect_code(3, "timeout");
    assert!(
        run.has_line("  INCOMPLETE: timeout after 1 s; nothing is proved (exit 3)"),
        "{}",
        run.stdout
    );
    assert!(took < Duration::from_secs(20), "the timeout took {took:?}");

    // 1: a complete search in which a witness is never reached. In one term
    // no later leader exists and no entry is overwritten.
    let run = check(&["bfs", "--nodes", "3", "--max-term", "1"]);
    run.expect_code(1, "one term, so nothing of a later one");
    let unreached = [
        "a conflicting entry is truncated",
        "a later leader holds a committed entry",
        "a node votes in two terms",
    ];
    for p in properties::enabled(properties::Features::default()) {
        let word = match p.expect() {
            Expect::Always => "holds",
            Expect::Sometimes if unreached.contains(&p.name) => "NOT REACHED",
            Expect::Sometimes => "reached",
        };
        assert!(
            run.has_line(&verdict_line(p.name, word)),
            "{} {word}:\n{}",
            p.name,
            run.stdout
        );
    }
    assert!(!run.stdout.contains("INCOMPLETE"));

    // Without crashes the restart properties are not checked at all (nothing
    // restarts), so their witness is not asked for.
    let run = check(&["bfs", "--nodes", "3", "--max-crashes", "0"]);
    run.expect_code(0, "no crashes: storage round trip is not checked");
    assert!(!run.stdout.contains("a committed entry survives a crash"));
    assert!(!run.stdout.contains("storage round trip"));

    // A single node has nobody to disagree or agree with.
    let run = check(&["bfs", "--nodes", "1"]);
    run.expect_code(1, "one node");
    assert!(run.has_line("  sometimes   a conflicting entry is truncated         NOT REACHED"));
    assert!(run.has_line("  sometimes   two nodes apply the same entry           NOT REACHED"));
    assert!(run.has_line(&verdict_line("a leader is elected", "reached")));
}

#[test]
fn check_list_prints_every_property_name_exactly_and_the_defaults() {
    let run = check(&["list"]);
    run.expect_code(0, "check list");
    let mut listed = Vec::new();
    for line in run.stdout.lines() {
        let line = line.trim_start();
        let Some((kind, rest)) = line.split_once(' ') else {
            continue;
        };
        let expect = match kind {
            "always" => Expect::Always,
            "sometimes" => Expect::Sometimes,
            _ => continue,
        };
        let p = PROPERTIES
            .iter()
            .find(|p| {
                rest.trim_start()
                    .strip_prefix(p.name)
                    .is_some_and(|about| about.trim_start() == p.about)
            })
            .unwrap_or_else(|| panic!("no property matches the listed line {line:?}"));
        assert_eq!(p.expect(), expect, "{}", p.name);
        listed.push(p.name);
    }
    assert_eq!(
        listed,
        properties::names(),
        "each property once, in order:\n{}",
        run.stdout
    );
    for p in PROPERTIES {
        let pair = format!("paired with: {}", p.pair);
        assert!(run.stdout.contains(&pair), "{pair}");
    }

    // Every mutant: its name and description, the property it breaks, and the
    // flags that catch it (the ones the mutant gate runs).
    for c in ruft_models::mutants::CATALOGUE {
        assert!(
            run.stdout
                .contains(&format!("{:<26} {}", c.mutant.name(), c.about)),
            "{}",
            c.mutant
        );
        let caught = format!("caught by: check bfs {}", c.config().flags());
        assert!(run.stdout.contains(&caught), "{caught}");
    }

    assert!(run.has_line(
        "Defaults by cluster size (check bfs --nodes N; recorded in proofs/recorded-runs.tsv):"
    ));
    for n in 1..=5 {
        let d = ModelConfig::for_nodes(n);
        let reductions = if d.drop_dead {
            "  --symmetry --drop-dead-messages"
        } else {
            ""
        };
        assert!(run.has_line(&format!(
            "  --nodes {n}:  --max-term {}  --max-proposals {}  --max-crashes {}  --max-in-flight {}{reductions}",
            d.term_max, d.proposals_max, d.crashes_max, d.in_flight_max
        )));
    }
    assert!(
        run.has_line(
            "  --nodes 3:  --max-term 2  --max-proposals 1  --max-crashes 1  --max-in-flight 3"
        ),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("no heartbeats"));
}

/// Kills the explorer when the test ends, whether it passes or not.
struct Explorer(Child);

impl Drop for Explorer {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A GET to the explorer: status code and body.
fn get(addr: SocketAddr, path: &str) -> std::io::Result<(u16, String)> {
    let (status, _, body) = ruft_models::serve::exchange(addr, "GET", path, &[])?;
    Ok((
        status,
        String::from_utf8(body).map_err(std::io::Error::other)?,
    ))
}

fn get_json(addr: SocketAddr, path: &str) -> Value {
    let (status, body) = get(addr, path).unwrap_or_else(|e| panic!("GET {path}: {e}"));
    assert_eq!(status, 200, "GET {path}: {body}");
    serde_json::from_str(&body).unwrap_or_else(|e| panic!("GET {path}: {e}: {body}"))
}

/// No raw struct dumps of ruft's types in what the explorer shows.
fn assert_readable(what: &str, text: &str) {
    for raw in [
        "Context {",
        "Node {",
        "MemStorage",
        "HardState {",
        "Ghost {",
        "Message {",
    ] {
        assert!(!text.contains(raw), "{what} shows a raw {raw:?}:\n{text}");
    }
}

fn actions_of(steps: &Value) -> Vec<&str> {
    steps
        .as_array()
        .expect("a list of steps")
        .iter()
        .map(|s| s["action"].as_str().expect("every step has an action"))
        .collect()
}

#[test]
fn the_explorer_serves_readable_states_and_steps() {
    let addr = TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port");
    let mut explorer = Explorer(
        Command::new(env!("CARGO_BIN_EXE_check"))
            .args(["serve", "--nodes", "3", "--addr", &addr.to_string()])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("check serve starts"),
    );

    let deadline = Instant::now() + Duration::from_secs(20);
    let status = loop {
        if let Ok((200, body)) = get(addr, "/.status") {
            break body;
        }
        if let Some(exit) = explorer.0.try_wait().expect("the child can be polled") {
            let mut out = String::new();
            let mut err = String::new();
            let _ = explorer
                .0
                .stdout
                .take()
                .map(|mut s| s.read_to_string(&mut out));
            let _ = explorer
                .0
                .stderr
                .take()
                .map(|mut s| s.read_to_string(&mut err));
            panic!("check serve exited ({exit}) before answering:\n{out}\n{err}");
        }
        assert!(
            Instant::now() < deadline,
            "check serve did not answer on {addr} within 20 s"
        );
        std::thread::sleep(Duration::from_millis(100));
    };

    let status: Value = serde_json::from_str(&status).expect("/.status is JSON");
    println!("/.status: {status}");
    assert!(status["unique_state_count"].is_u64(), "{status}");
    assert!(status["state_count"].is_u64(), "{status}");
    assert!(status["done"].is_boolean(), "{status}");
    assert_eq!(status["model"], "ruft_models::model::RuftModel");
    let names: Vec<&str> = status["properties"]
        .as_array()
        .expect("properties")
        .iter()
        .map(|p| p[1].as_str().expect("(expectation, name, path)"))
        .collect();
    let default: Vec<&str> = properties::enabled(properties::Features::default())
        .map(|p| p.name)
        .collect();
    assert_eq!(names, default, "the default model's properties");

    // `/.states`: the initial states, each a readable cluster.
    let init = get_json(addr, "/.states");
    let init = init.as_array().expect("a list of initial states");
    assert_eq!(init.len(), 1, "one initial state");
    let state = init[0]["state"].as_str().expect("a state");
    assert_readable("the initial state", state);
    for n in ["n1", "n2", "n3"] {
        assert!(
            state.contains(&format!("{n} Follower t0 log[] commit 0")),
            "{state}"
        );
    }

    // `/.states/0`: the steps out of initial state 0.
    let first = get_json(addr, "/.states/0");
    let text = first.to_string();
    assert_readable("the first steps", &text);
    assert!(
        text.contains("Follower t0") && text.contains("log[]"),
        "{text}"
    );
    let actions = actions_of(&first);
    println!("steps from the initial state: {actions:?}");
    for want in [
        "n1 election timeout (Hup)",
        "n2 election timeout (Hup)",
        "n3 election timeout (Hup)",
        "n1 crashes",
    ] {
        assert!(actions.contains(&want), "{want:?} in {actions:?}");
    }
    let hup = &first[0];
    assert_eq!(hup["action"], "n1 election timeout (Hup)");
    assert!(
        hup["state"]
            .as_str()
            .is_some_and(|s| s.contains("n1 Candidate t1 vote n1 log[] commit 0")),
        "{hup}"
    );

    // `/.states/0/0`: after n1's election timeout, deliveries read `dst <- src`.
    let second = get_json(addr, "/.states/0/0");
    assert_readable("the second steps", &second.to_string());
    let actions = actions_of(&second);
    println!("steps after n1's election timeout: {actions:?}");
    assert!(
        actions.contains(&"n2 <- n1 RequestVote{t1, last 0@0}"),
        "{actions:?}"
    );
    assert!(actions.iter().any(|a| a.contains("election timeout (Hup)")));

    let (code, _) = get(addr, "/.states/nonsense").expect("an answer");
    assert_eq!(code, 404, "unparsable paths are refused");
    drop(explorer);
}

#[test]
fn check_simulate_is_reproducible_and_finds_a_broken_application() {
    let args = ["simulate", "--nodes", "3", "--seed", "1", "--runs", "200"];
    let first = check(&args);
    first.expect_code(0, "200 walks of the correct cluster");
    let second = check(&args);
    second.expect_code(0, "the same walks again");
    assert_eq!(first.stdout, second.stdout, "same seed, same output");
    assert!(first.stdout.contains("  200 walks, "), "{}", first.stdout);
    assert!(first
        .stdout
        .contains("no violation in these walks (random walks prove nothing; use bfs/dfs)"));
    println!("{}", first.stdout);

    let args = [
        "simulate",
        "--nodes",
        "3",
        "--seed",
        "1",
        "--runs",
        "20000",
        "--mutant",
        "forget-vote-on-restart",
    ];
    let run = check(&args);
    run.expect_code(1, "random walks of a node that forgets its vote");
    println!("{}", run.stdout);
    assert!(
        run.stdout.contains("Counterexample for \"index order\" ("),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("\n  1. "));
    assert!(run.stdout.contains("http://127.0.0.1:3000/#/steps/"));
    let walks: usize = run
        .stdout
        .lines()
        .find_map(|l| l.trim().strip_suffix(" steps")?.split_once(" walks, "))
        .and_then(|(w, _)| w.parse().ok())
        .expect("a `N walks, M steps` line");
    assert!(walks < 20_000, "the walks stop at the first violation");

    // The walk found is a real path of the model that ends in the violation.
    let model = forget_vote_model();
    let link = explorer_link(&run.stdout);
    let mut state = model.init_states().swap_remove(link[0]);
    for &i in &link[1..] {
        let mut actions = Vec::new();
        model.actions(&state, &mut actions);
        state = model
            .next_state(&state, actions.swap_remove(i))
            .expect("enabled");
    }
    assert!(properties::violations(&observe(&state)).contains(&"index order"));

    let again = check(&args);
    assert_eq!(run.stdout, again.stdout, "the same counterexample again");
}
