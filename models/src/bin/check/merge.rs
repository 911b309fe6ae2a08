//! `check merge`: one verdict from the parts of a split search (`--shard`).
//!
//! The verdict is the one the unsplit search would give: a property is
//! violated if a part violates it, holds only if every part is complete
//! and none violates it; a witness is reached if a part reached it, and
//! NOT REACHED only if every part is complete. A missing part makes the
//! result incomplete (exit 3), like a search cut short.

use crate::args::MergeArgs;
use ruft_models::search::{self, Verdict};
use serde_json::{json, Value};
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

pub(crate) fn merge_command(args: MergeArgs) -> u8 {
    match merge(&args.parts) {
        Ok(doc) => {
            let to_stdout = args.json.as_deref() == Some(Path::new("-"));
            if !to_stdout {
                print(&doc);
            }
            if let Some(target) = &args.json {
                if let Some(code) = crate::emit_json(target, &doc) {
                    return code;
                }
            }
            doc["exit_code"].as_u64().map_or(2, |c| c as u8)
        }
        Err(why) => {
            eprintln!("check merge: {why}");
            2
        }
    }
}

/// The parts' documents, read and checked to belong to one split search.
fn read_parts(files: &[std::path::PathBuf]) -> Result<Vec<Value>, String> {
    let mut parts = Vec::new();
    for f in files {
        let text = std::fs::read_to_string(f).map_err(|e| format!("{}: {e}", f.display()))?;
        let doc: Value = serde_json::from_str(&text)
            .map_err(|e| format!("{}: not a JSON result ({e})", f.display()))?;
        if doc["shard"].is_null() {
            return Err(format!(
                "{}: not a part of a split search (run with --shard I/N --json FILE)",
                f.display()
            ));
        }
        parts.push(doc);
    }
    let first = &parts[0];
    for (doc, f) in parts.iter().zip(files).skip(1) {
        // Parts may run with different thread counts; the rest must agree.
        for key in ["command", "model", "search/engine", "search/symmetry"] {
            let (a, b) = (
                doc.pointer(&format!("/{key}")),
                first.pointer(&format!("/{key}")),
            );
            if a != b {
                return Err(format!(
                    "{} and {} are parts of different searches (their `{key}` differs)",
                    files[0].display(),
                    f.display()
                ));
            }
        }
        for key in ["parts", "split_depth", "roots", "prefix_states"] {
            if doc["shard"][key] != first["shard"][key] {
                return Err(format!(
                    "{} and {} split the search differently (`shard.{key}` differs)",
                    files[0].display(),
                    f.display()
                ));
            }
        }
    }
    let mut seen = BTreeSet::new();
    for (doc, f) in parts.iter().zip(files) {
        if !seen.insert(doc["shard"]["part"].as_u64()) {
            return Err(format!("{}: a part given twice", f.display()));
        }
    }
    Ok(parts)
}

/// How many parts the search was split into, and which of them are missing.
fn missing_parts(parts: &[Value]) -> (u64, Vec<u64>) {
    let count = parts[0]["shard"]["parts"].as_u64().unwrap_or(0);
    let present: BTreeSet<u64> = parts
        .iter()
        .filter_map(|d| d["shard"]["part"].as_u64())
        .collect();
    (
        count,
        (1..=count).filter(|i| !present.contains(i)).collect(),
    )
}

/// The merged result, as a JSON document.
pub(crate) fn merge(files: &[std::path::PathBuf]) -> Result<Value, String> {
    let parts = read_parts(files)?;
    if parts[0]["command"] == "simulate" {
        return Ok(merge_walks(&parts));
    }
    let (count, missing) = missing_parts(&parts);
    let all_complete = parts.iter().all(|d| d["complete"] == json!(true));
    let complete = all_complete && missing.is_empty();
    let sum = |key: &str| parts.iter().filter_map(|d| d[key].as_u64()).sum::<u64>();
    let prefix = parts[0]["shard"]["prefix_states"].as_u64().unwrap_or(0);
    // Every part counts the prefix; the sum counts it once.
    let unique_sum = sum("unique_states").saturating_sub(prefix * (parts.len() as u64 - 1));
    let distinct = distinct_states(&parts, files)?;
    let merged = merged_properties(&parts, complete);
    let exit_code = search::exit_code(merged.iter().map(|(_, v)| *v), complete);
    let properties: Vec<Value> = merged.into_iter().map(|(p, _)| p).collect();
    let counterexample = first_counterexample(&parts);
    Ok(json!({
        "schema_version": ruft_models::report::SCHEMA_VERSION,
        "command": "merge",
        "search": parts[0]["search"],
        "model": parts[0]["model"],
        "parts": count,
        "parts_given": parts.len(),
        "parts_missing": missing,
        "split_depth": parts[0]["shard"]["split_depth"],
        "complete": complete,
        "generated_states": sum("generated_states"),
        "unique_states_sum": unique_sum,
        "unique_states": distinct,
        "seconds_max": parts.iter().filter_map(|d| d["seconds"].as_f64()).fold(0.0, f64::max),
        "seconds_sum": parts.iter().filter_map(|d| d["seconds"].as_f64()).sum::<f64>(),
        "properties": properties,
        "counterexample": counterexample,
        "exit_code": exit_code,
    }))
}

/// The parts of `check simulate --shard`: walks and witnesses add up; a
/// violation in any part fails the whole.
fn merge_walks(parts: &[Value]) -> Value {
    let (count, missing) = missing_parts(parts);
    let sum = |key: &str| parts.iter().filter_map(|d| d[key].as_u64()).sum::<u64>();
    let interrupted = parts.iter().any(|d| d["interrupted"] == json!(true));
    let mut properties: Vec<Value> = parts[0]["properties"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    for p in &mut properties {
        let reached = parts.iter().any(|d| {
            d["properties"]
                .as_array()
                .into_iter()
                .flatten()
                .any(|q| q["name"] == p["name"] && q["result"] == "reached")
        });
        p["result"] = json!(if reached { "reached" } else { "not reached" });
    }
    let counterexample = first_counterexample(parts);
    let exit_code = match (&counterexample, interrupted || !missing.is_empty()) {
        (Some(_), _) => 1,
        (None, true) => 3,
        (None, false) => 0,
    };
    json!({
        "schema_version": ruft_models::report::SCHEMA_VERSION,
        "command": "merge",
        "search": {"engine": "simulate"},
        "model": parts[0]["model"],
        "parts": count,
        "parts_given": parts.len(),
        "parts_missing": missing,
        "complete": exit_code == 0,
        "walks": sum("walks"),
        "steps": sum("steps"),
        "properties": properties,
        "counterexample": counterexample,
        "exit_code": exit_code,
    })
}

/// The distinct states of all parts, if every part wrote its fingerprints.
/// A fingerprint file is looked for where the part wrote it, then beside
/// the part's JSON file (parts gathered from other machines).
fn distinct_states(parts: &[Value], files: &[std::path::PathBuf]) -> Result<Option<u64>, String> {
    let mut all: Vec<u64> = Vec::new();
    for (d, json) in parts.iter().zip(files) {
        let Some(written) = d["shard"]["fingerprints"].as_str().map(Path::new) else {
            return Ok(None);
        };
        let beside = json.with_file_name(written.file_name().unwrap_or_default());
        let file = if written.exists() {
            written
        } else {
            beside.as_path()
        };
        let bytes = std::fs::read(file).map_err(|e| format!("{}: {e}", file.display()))?;
        if bytes.len() % 8 != 0 {
            return Err(format!(
                "{}: not a fingerprint file (length {})",
                file.display(),
                bytes.len()
            ));
        }
        all.extend(
            bytes
                .chunks_exact(8)
                .map(|c| u64::from_le_bytes(<[u8; 8]>::try_from(c).unwrap_or_default())),
        );
    }
    all.sort_unstable();
    all.dedup();
    Ok(Some(all.len() as u64))
}

/// Each property's verdict over all parts ([`Verdict::merged`]), in the
/// parts' order.
fn merged_properties(parts: &[Value], complete: bool) -> Vec<(Value, Verdict)> {
    let mut results: BTreeMap<usize, (Value, Vec<Verdict>)> = BTreeMap::new();
    for d in parts {
        for (i, p) in d["properties"].as_array().into_iter().flatten().enumerate() {
            let entry = results.entry(i).or_insert_with(|| (p.clone(), Vec::new()));
            if let Some(v) = p["result"].as_str().and_then(Verdict::from_word) {
                entry.1.push(v);
            }
        }
    }
    results
        .into_values()
        .map(|(mut p, seen)| {
            let verdict = Verdict::merged(&seen, complete);
            p["result"] = json!(verdict.word());
            (p, verdict)
        })
        .collect()
}

/// The first counterexample any part found, with its part.
fn first_counterexample(parts: &[Value]) -> Option<Value> {
    parts
        .iter()
        .find(|d| !d["counterexample"].is_null())
        .map(|d| json!({"part": d["shard"]["part"], "counterexample": d["counterexample"]}))
}

fn print(doc: &Value) {
    let walks = doc["search"]["engine"] == "simulate";
    println!(
        "ruft check merge: {} of {} parts{}",
        doc["parts_given"],
        doc["parts"],
        if walks {
            " of random walks".to_string()
        } else {
            format!(", split at depth {}", doc["split_depth"])
        }
    );
    let missing = doc["parts_missing"].as_array().map_or(0, Vec::len);
    if missing > 0 {
        println!("  parts missing: {}", doc["parts_missing"]);
    }
    if walks {
        print_walks(doc);
        return;
    }
    let unique = match doc["unique_states"].as_u64() {
        Some(n) => format!("{n} distinct (from the parts' fingerprints)"),
        None => format!(
            "{} (sum of the parts, prefix once; parts overlap, so this is at least the unsplit count)",
            doc["unique_states_sum"]
        ),
    };
    println!("  generated states {}", doc["generated_states"]);
    println!("  unique states    {unique}");
    println!(
        "  time             {:.1} s (slowest part), {:.1} s (all parts)",
        doc["seconds_max"].as_f64().unwrap_or(0.0),
        doc["seconds_sum"].as_f64().unwrap_or(0.0)
    );
    println!();
    for p in doc["properties"].as_array().into_iter().flatten() {
        println!(
            "  {:<11} {:<40} {}",
            p["kind"].as_str().unwrap_or_default(),
            p["name"].as_str().unwrap_or_default(),
            p["result"].as_str().unwrap_or_default()
        );
    }
    if let Some(cx) = doc["counterexample"].as_object() {
        let steps = cx["counterexample"]["steps"].as_array().map_or(0, Vec::len);
        println!(
            "\n  part {} found a counterexample to \"{}\" ({} steps){}",
            cx["part"],
            cx["counterexample"]["property"]
                .as_str()
                .unwrap_or_default(),
            steps,
            cx["counterexample"]["explorer"]
                .as_str()
                .map_or(String::new(), |l| format!(": {l}"))
        );
    }
    println!(
        "\n  {}",
        match doc["exit_code"].as_u64() {
            Some(0) => "COMPLETE: every part explored its share; every property holds, every witness reached (exit 0)",
            Some(3) => "INCOMPLETE: a part is missing or was cut short; nothing is proved (exit 3)",
            _ => "FAILED: a violation, or a witness no part reached (exit 1)",
        }
    );
}

fn print_walks(doc: &Value) {
    println!("  {} walks, {} steps", doc["walks"], doc["steps"]);
    for p in doc["properties"].as_array().into_iter().flatten() {
        println!(
            "  sometimes   {:<40} {}",
            p["name"].as_str().unwrap_or_default(),
            p["result"].as_str().unwrap_or_default()
        );
    }
    if let Some(cx) = doc["counterexample"].as_object() {
        println!(
            "\n  part {} found a counterexample to \"{}\"",
            cx["part"],
            cx["counterexample"]["property"]
                .as_str()
                .unwrap_or_default()
        );
    }
    println!(
        "\n  {}",
        match doc["exit_code"].as_u64() {
            Some(0) =>
                "no violation in these walks (random walks prove nothing; use bfs/dfs) (exit 0)",
            Some(3) => "INCOMPLETE: a part is missing or was interrupted (exit 3)",
            _ => "FAILED: a part found a violation (exit 1)",
        }
    );
}
