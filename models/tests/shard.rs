//! A search split into parts (`check bfs --shard I/N`) and merged (`check
//! merge`) is the unsplit search (issue 18): four parts run as separate
//! processes, like machines that share nothing, and their merged verdict
//! and distinct-state count equal those of one whole run.

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;

/// `check args...`: its exit code and stdout.
fn check(args: &[&str]) -> (i32, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_check"))
        .args(args)
        .output()
        .expect("check runs");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

fn read(path: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(path).expect("the JSON file is there"))
        .expect("it is JSON")
}

fn results(doc: &Value) -> Vec<(String, String)> {
    doc["properties"]
        .as_array()
        .expect("properties")
        .iter()
        .map(|p| (p["name"].to_string(), p["result"].to_string()))
        .collect()
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("ruft-shard-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("a scratch directory");
    dir
}

/// Runs `parts` of `search` (all of them, or those listed), each with its
/// JSON file and fingerprints; returns the JSON files.
fn run_parts(dir: &Path, search: &[&str], count: usize, only: &[usize]) -> Vec<PathBuf> {
    std::fs::create_dir_all(dir).expect("a scratch directory");
    let mut files = Vec::new();
    for i in 1..=count {
        if !only.is_empty() && !only.contains(&i) {
            continue;
        }
        let (json, fp) = (dir.join(format!("p{i}.json")), dir.join(format!("p{i}.fp")));
        let shard = format!("{i}/{count}");
        let mut args = search.to_vec();
        args.extend([
            "--shard",
            &shard,
            "--json",
            json.to_str().unwrap(),
            "--fingerprints",
            fp.to_str().unwrap(),
            "-q",
            "--shorten-timeout",
            "5",
        ]);
        check(&args);
        files.push(json);
    }
    files
}

fn merge(files: &[PathBuf]) -> (i32, Value) {
    let mut args = vec!["merge"];
    args.extend(files.iter().map(|f| f.to_str().unwrap()));
    args.push("--json");
    let (code, out) = check(&args);
    (code, serde_json::from_str(&out).expect("merge prints JSON"))
}

const SEARCH: &[&str] = &["bfs", "--nodes", "3", "--max-proposals", "0"];

#[test]
fn four_parts_make_the_whole_search() {
    let dir = scratch("whole");
    let whole = dir.join("whole.json");
    let mut args = SEARCH.to_vec();
    args.extend(["--json", whole.to_str().unwrap(), "-q"]);
    let (whole_code, _) = check(&args);
    let whole = read(&whole);
    // Machines differ: part 4 runs on one thread.
    let mut files = run_parts(&dir, SEARCH, 4, &[1, 2, 3]);
    let one_thread = [SEARCH, &["--threads", "1"]].concat();
    files.extend(run_parts(&dir, &one_thread, 4, &[4]));
    let parts: Vec<Value> = files.iter().map(|f| read(f)).collect();
    for p in &parts {
        let here = p["shard"]["roots_here"].as_u64().unwrap();
        assert!(here > 0, "every part has roots: {p}");
        assert!(
            p["unique_states"].as_u64() < whole["unique_states"].as_u64(),
            "a part is less than the whole"
        );
    }
    let (code, merged) = merge(&files);
    assert_eq!(code, whole_code);
    assert_eq!(merged["complete"], Value::Bool(true));
    assert_eq!(
        merged["unique_states"], whole["unique_states"],
        "the parts' distinct states are exactly the whole search's"
    );
    assert!(merged["unique_states_sum"].as_u64() >= whole["unique_states"].as_u64());
    assert_eq!(
        results(&merged),
        results(&whole),
        "the same verdict, property by property"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_part_that_finds_a_violation_fails_the_merge_with_a_path_from_the_start() {
    let dir = scratch("mutant");
    let search = ["bfs", "--nodes", "3", "--mutant", "vote-without-log-check"];
    let files = run_parts(&dir, &search, 4, &[]);
    let (code, merged) = merge(&files);
    assert_eq!(code, 1);
    let property = merged["properties"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["result"] == "VIOLATED")
        .expect("a violated property");
    assert_eq!(property["name"], "leader completeness");
    let cx = &merged["counterexample"]["counterexample"];
    let steps = cx["steps"].as_array().expect("the counterexample's steps");
    let depth = merged["split_depth"].as_u64().unwrap() as usize;
    assert!(
        steps.len() > depth,
        "the path runs from the initial state, through a root"
    );
    let link = cx["explorer"].as_str().expect("an explorer link");
    assert_eq!(
        link.matches('/').count(),
        5 + steps.len(),
        "one hop per step from the start: {link}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_missing_part_leaves_the_merge_incomplete() {
    let dir = scratch("missing");
    let files = run_parts(&dir, SEARCH, 4, &[1, 2, 4]);
    let (code, merged) = merge(&files);
    assert_eq!(code, 3, "nothing is proved without part 3");
    assert_eq!(merged["parts_missing"], serde_json::json!([3]));
    assert!(results(&merged)
        .iter()
        .all(|(_, r)| !r.contains("\"holds\"")));
    let (code, _) = check(&[
        "merge",
        files[0].to_str().unwrap(),
        files[0].to_str().unwrap(),
    ]);
    assert_eq!(code, 2, "a part given twice is refused");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn parts_of_random_walks_add_up() {
    let dir = scratch("walks");
    let mut files = Vec::new();
    for i in 1..=3 {
        let json = dir.join(format!("w{i}.json"));
        let shard = format!("{i}/3");
        let (code, _) = check(&[
            "simulate",
            "--runs",
            "100",
            "--steps",
            "30",
            "--shard",
            &shard,
            "--json",
            json.to_str().unwrap(),
        ]);
        assert_eq!(code, 0);
        files.push(json);
    }
    let seeds: Vec<Value> = files
        .iter()
        .map(|f| read(f)["shard"]["part_seed"].clone())
        .collect();
    assert!(
        seeds[0] != seeds[1] && seeds[1] != seeds[2],
        "each part walks its own way"
    );
    let (code, merged) = merge(&files);
    assert_eq!(code, 0);
    assert_eq!(
        merged["walks"], 100,
        "the parts share out the runs: 34 + 33 + 33"
    );
    let _ = std::fs::remove_dir_all(&dir);
}
