//! `check --json` is an interface: every document `check` prints validates
//! against `docs/check-output.schema.json`, and the schema is strict enough
//! to catch a document that drifts from it.
//!
//! Run with `cargo test --release -p ruft-models --test check_json`.

use serde_json::{json, Value};
use std::process::Command;

fn schema() -> jsonschema::Validator {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../docs/check-output.schema.json"
    );
    let text = std::fs::read_to_string(path).expect("docs/check-output.schema.json");
    let schema: Value = serde_json::from_str(&text).expect("the schema is JSON");
    jsonschema::validator_for(&schema).expect("a valid JSON Schema")
}

/// Runs `check` with `args` and returns its JSON document and exit code.
fn document(args: &[&str]) -> (Value, i32) {
    let out = Command::new(env!("CARGO_BIN_EXE_check"))
        .args(args)
        .output()
        .expect("check runs");
    let doc = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "check {args:?} printed no JSON document ({e}):\n{}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    });
    (doc, out.status.code().expect("check exits by itself"))
}

fn assert_valid(validator: &jsonschema::Validator, doc: &Value, what: &str) {
    let errors: Vec<String> = validator
        .iter_errors(doc)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "{what}: {errors:#?}\n{doc:#}");
}

#[test]
fn every_kind_of_document_validates_against_the_schema() {
    let validator = schema();
    // One or two nodes leave witnesses unreached (exit 1, with `not_reached`);
    // the default three-node run (exit 0) is validated in `check_cli`.
    let runs: [(&[&str], i32); 6] = [
        (&["bfs", "--nodes", "2", "--json"], 1),
        (
            &[
                "bfs",
                "--nodes",
                "3",
                "--mutant",
                "forget-vote-on-restart",
                "--json",
            ],
            1,
        ),
        (&["dfs", "--nodes", "1", "--coverage", "--json"], 1),
        (
            &["bfs", "--nodes", "3", "--max-states", "1000", "--json"],
            3,
        ),
        (&["simulate", "--nodes", "3", "--runs", "20", "--json"], 0),
        (&["list", "--json"], 0),
    ];
    for (args, code) in runs {
        let (doc, exit) = document(args);
        assert_eq!(exit, code, "check {args:?}");
        assert_valid(&validator, &doc, &format!("check {args:?}"));
        assert_eq!(doc["schema_version"], 1);
        if doc.get("exit_code").is_some() {
            assert_eq!(doc["exit_code"], code, "the document tells the exit code");
        }
        if args[..2] == ["bfs", "--nodes"] && args[2] == "2" {
            assert!(doc["not_reached"].is_string(), "{doc:#}");
        }
    }
}

/// The parts of a split search, and their merge, are documents too.
#[test]
fn split_search_documents_validate() {
    let validator = schema();
    let dir = std::env::temp_dir().join(format!("ruft-json-shard-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("a scratch directory");
    let mut files = Vec::new();
    for (i, command) in [(1, "bfs"), (2, "bfs"), (1, "simulate"), (2, "simulate")] {
        let file = dir.join(format!("{command}{i}.json"));
        let shard = format!("{i}/2");
        let mut args = vec![command, "--nodes", "2", "--shard", &shard, "--json"];
        args.push(file.to_str().expect("a UTF-8 path"));
        let out = Command::new(env!("CARGO_BIN_EXE_check"))
            .args(&args)
            .output();
        assert!(
            out.is_ok_and(|o| o.status.code().is_some()),
            "check {args:?}"
        );
        let doc: Value =
            serde_json::from_str(&std::fs::read_to_string(&file).expect("written")).expect("JSON");
        assert_valid(&validator, &doc, &format!("check {args:?}"));
        files.push(file);
    }
    for pair in files.chunks(2) {
        let mut args = vec!["merge"];
        args.extend(pair.iter().map(|f| f.to_str().expect("a UTF-8 path")));
        args.push("--json");
        let (doc, exit) = document(&args);
        assert_valid(&validator, &doc, &format!("check {args:?}"));
        assert_eq!(doc["exit_code"], exit);
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn complete_means_the_whole_space_was_explored() {
    let (done, _) = document(&["bfs", "--nodes", "2", "--json"]);
    assert_eq!(done["complete"], true, "explored whole, witnesses or not");
    let (violated, _) = document(&["bfs", "--mutant", "forget-vote-on-restart", "--json"]);
    assert_eq!(
        violated["complete"], false,
        "a search that stopped at a violation did not explore everything"
    );
    let (cut, _) = document(&["bfs", "--max-states", "1000", "--json"]);
    assert_eq!(cut["complete"], false);
    let holds: Vec<&Value> = cut["properties"]
        .as_array()
        .expect("properties")
        .iter()
        .filter(|p| p["kind"] == "always")
        .map(|p| &p["result"])
        .collect();
    assert!(
        holds
            .iter()
            .all(|r| *r == "holds so far (search cut short)"),
        "a cut-short search proves no Always property: {holds:?}"
    );
}

/// A change to a document that a reader of schema version 1 would trip over.
type Drift = fn(&mut Value);

#[test]
fn the_schema_refuses_documents_that_drift() {
    let validator = schema();
    let (good, _) = document(&["bfs", "--mutant", "forget-vote-on-restart", "--json"]);
    assert_valid(&validator, &good, "the real document");
    let drifts: [(&str, Drift); 6] = [
        ("a missing field", |d| {
            d.as_object_mut().unwrap().remove("complete");
        }),
        ("an unknown field", |d| d["surprise"] = json!(1)),
        ("another version", |d| d["schema_version"] = json!(2)),
        ("steps as text", |d| {
            d["counterexample"]["steps"] = json!(["  1. n1 election timeout (Hup)"])
        }),
        ("a reason without its clause", |d| {
            d["counterexample"]["reason"]
                .as_object_mut()
                .unwrap()
                .remove("clause");
        }),
        ("an exit code that does not exist", |d| {
            d["exit_code"] = json!(7)
        }),
    ];
    for (what, drift) in drifts {
        let mut bad = good.clone();
        drift(&mut bad);
        assert!(!validator.is_valid(&bad), "the schema accepts {what}");
    }
}
