//! `check` behaves like the command-line tools Rust users trust: a signal
//! stops a search with its partial figures and exit 3, `--json FILE` appears
//! whole or not at all, a busy port or a bad address is a message and exit 2,
//! a closed pipe ends it quietly, and `--help` names the exit codes.
//!
//! Run with `cargo test --release -p ruft-models --test check_conventions`.

use serde_json::Value;
use std::io::{BufRead, BufReader, Read};
use std::net::TcpListener;
use std::process::{Command, Stdio};

fn check() -> Command {
    Command::new(env!("CARGO_BIN_EXE_check"))
}

/// Sends `signal` (a `kill` option such as `-INT`) to process `pid`.
fn kill(signal: &str, pid: u32) {
    let status = Command::new("kill")
        .args([signal, &pid.to_string()])
        .status()
        .expect("kill runs");
    assert!(status.success(), "kill {signal} {pid}");
}

/// A search far longer than the test (heartbeats: minutes), interrupted once
/// its first progress line shows it is under way.
fn interrupted_search(signal: &str, json: &std::path::Path) -> (i32, String, String) {
    let mut child = check()
        .args([
            "bfs",
            "--nodes",
            "3",
            "--heartbeats",
            "--max-term",
            "3",
            "--json",
        ])
        .arg(json)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("check starts");
    let mut stderr = BufReader::new(child.stderr.take().expect("stderr"));
    let mut first = String::new();
    stderr.read_line(&mut first).expect("a progress line");
    assert!(first.contains("states"), "progress comes first: {first:?}");
    kill(signal, child.id());
    let mut rest = String::new();
    stderr.read_to_string(&mut rest).expect("stderr");
    let mut stdout = String::new();
    child
        .stdout
        .take()
        .expect("stdout")
        .read_to_string(&mut stdout)
        .expect("stdout");
    let status = child.wait().expect("check ends");
    let code = status.code().expect("check exits by itself, not killed");
    (code, stdout, first + &rest)
}

#[test]
fn a_signal_stops_the_search_with_its_partial_table_and_exit_3() {
    let dir = std::env::temp_dir().join(format!("ruft-check-signal-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("a scratch directory");
    for signal in ["-INT", "-TERM"] {
        let json = dir.join(format!("result{signal}.json"));
        let (code, stdout, stderr) = interrupted_search(signal, &json);
        assert_eq!(code, 3, "{signal}: exit 3\n{stdout}\n{stderr}");
        assert!(stderr.contains("check: interrupted;"), "{stderr}");
        assert!(stdout.contains("  unique states "), "the table: {stdout}");
        assert!(
            stdout.contains(
                "election safety                          holds so far (search cut short)"
            ),
            "an Always property is not said to hold: {stdout}"
        );
        assert!(
            stdout.contains(
                "  INCOMPLETE: interrupted (SIGINT or SIGTERM); nothing is proved (exit 3)"
            ),
            "{stdout}"
        );
        let doc: Value =
            serde_json::from_str(&std::fs::read_to_string(&json).expect("the JSON file"))
                .expect("a whole JSON document");
        assert_eq!(doc["complete"], false);
        assert_eq!(doc["exit_code"], 3);
        assert_eq!(doc["cut_short"], "interrupted (SIGINT or SIGTERM)");
        assert!(doc["unique_states"].as_u64().is_some_and(|n| n > 0));
    }
    let left: Vec<_> = std::fs::read_dir(&dir)
        .expect("the scratch directory")
        .map(|e| e.expect("an entry").file_name())
        .collect();
    assert_eq!(left.len(), 2, "no partial file is left behind: {left:?}");
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn serve_refuses_a_busy_port_and_a_bad_address_with_exit_2() {
    let busy = TcpListener::bind("127.0.0.1:0").expect("a free port");
    let addr = busy.local_addr().expect("its address").to_string();
    let out = check()
        .args(["serve", "--addr", &addr])
        .output()
        .expect("check runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains(&format!("cannot listen on {addr}")),
        "{stderr}"
    );
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(
        !String::from_utf8_lossy(&out.stdout).contains("http://"),
        "no URL is printed for a server that is not there"
    );

    let out = check()
        .args(["serve", "--addr", "no-such-address"])
        .output()
        .expect("check runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("is not an address to listen on"),
        "{stderr}"
    );
}

#[test]
fn a_closed_pipe_ends_check_quietly() {
    let mut child = check()
        .args(["simulate", "--nodes", "3", "--runs", "300"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("check starts");
    let mut stdout = BufReader::new(child.stdout.take().expect("stdout"));
    let mut first = String::new();
    stdout.read_line(&mut first).expect("the first line");
    assert!(first.starts_with("ruft check simulate"), "{first:?}");
    // As `check ... | head -1` does: the walks' results meet a closed pipe.
    drop(stdout);
    let out = child.wait_with_output().expect("check ends");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert_ne!(out.status.code(), Some(101), "no panic exit: {stderr}");
}

#[test]
fn help_names_the_exit_codes_and_version_prints_one_line() {
    let out = check().arg("--help").output().expect("check runs");
    assert_eq!(out.status.code(), Some(0));
    let help = String::from_utf8_lossy(&out.stdout);
    for needle in [
        "Examples:",
        "Exit codes:",
        "  3  the search was cut short",
        "RUST_LOG",
    ] {
        assert!(help.contains(needle), "--help lacks {needle:?}:\n{help}");
    }
    let out = check().arg("--version").output().expect("check runs");
    assert_eq!(out.status.code(), Some(0));
    let version = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        version.trim(),
        format!("check {}", env!("CARGO_PKG_VERSION"))
    );
}

#[test]
fn rust_log_shows_the_engines_tracing_events() {
    let out = check()
        .args(["simulate", "--nodes", "3", "--runs", "1", "--steps", "20"])
        .env("RUST_LOG", "ruft=trace")
        .env("NO_COLOR", "1")
        .output()
        .expect("check runs");
    assert_eq!(out.status.code(), Some(0));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.lines().any(|l| l.contains(" ruft::")),
        "ruft's events on stderr:\n{stderr}"
    );
    assert!(!stderr.contains('\u{1b}'), "no colour with NO_COLOR");

    let quiet = check()
        .args(["simulate", "--nodes", "3", "--runs", "1", "--steps", "20"])
        .env_remove("RUST_LOG")
        .output()
        .expect("check runs");
    assert!(
        !String::from_utf8_lossy(&quiet.stderr).contains(" ruft::"),
        "no events unless asked"
    );
}

#[test]
fn the_github_workflow_runs_the_ci_script_and_keeps_the_artefacts() {
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/..");
    let workflow = std::fs::read_to_string(format!("{root}/.github/workflows/ci.yml"))
        .expect(".github/workflows/ci.yml");
    let script = std::fs::read_to_string(format!("{root}/.ci/run")).expect(".ci/run");
    // One source of truth: the workflow runs .ci/run whole.
    assert!(workflow.contains("run: bash .ci/run"), "{workflow}");
    assert!(workflow.contains("actions/cache@"), "cargo is cached");
    assert!(
        workflow.contains("actions/upload-artifact@") && workflow.contains("target/browser/"),
        "screenshots and reports are kept"
    );
    // .ci/run installs what the browser tests need and names the report.
    assert!(
        script.contains("apt-get install -y -qq chromium"),
        "{script}"
    );
    assert!(script.contains("--report"), "{script}");
}
