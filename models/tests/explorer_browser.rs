//! A counterexample seen as a user sees it: in a real browser (headless
//! Chromium). `check serve` on a mutant, opened at the link `check bfs`
//! printed, must show the model's flags, the violated property and its
//! reason; a link that does not resolve must say so; and the `--report`
//! page must show the reason and the sequence diagram. Screenshots are kept
//! under `target/browser/` (CI keeps them as artefacts).
//!
//! Needs Chromium (`apt-get install chromium`; `.ci/run` installs it). Set
//! `RUFT_NO_BROWSER=1` to skip these tests on a machine without one.

use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};

const MUTANT_FLAGS: &str =
    "--nodes 3 --max-term 2 --max-proposals 1 --max-crashes 1 --max-in-flight 3 \
     --mutant forget-vote-on-restart";

/// The browser, or `None` when the tests are to be skipped.
fn chromium() -> Option<PathBuf> {
    if std::env::var_os("RUFT_NO_BROWSER").is_some() {
        eprintln!("RUFT_NO_BROWSER is set: browser tests skipped");
        return None;
    }
    let found = ["chromium", "chromium-browser", "google-chrome"]
        .iter()
        .find_map(|name| {
            let out = Command::new("which").arg(name).output().ok()?;
            let path = String::from_utf8(out.stdout).ok()?;
            (out.status.success() && !path.trim().is_empty()).then(|| PathBuf::from(path.trim()))
        });
    Some(found.unwrap_or_else(|| {
        panic!(
            "headless Chromium is needed for these tests: apt-get install chromium \
             (or set RUFT_NO_BROWSER=1 to skip them)"
        )
    }))
}

/// Where screenshots are kept.
fn artefacts() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../target"));
    let dir = target.join("browser");
    std::fs::create_dir_all(&dir).expect("target/browser");
    dir
}

/// Runs headless Chromium on `url` with `args` (its own profile, so tests
/// may run at once), giving scripts 8 s of virtual time; returns stdout.
fn browse(browser: &Path, url: &str, args: &[&str]) -> String {
    static RUNS: AtomicUsize = AtomicUsize::new(0);
    let profile = std::env::temp_dir().join(format!(
        "ruft-chromium-{}-{}",
        std::process::id(),
        RUNS.fetch_add(1, Ordering::Relaxed)
    ));
    let out = Command::new(browser)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--hide-scrollbars",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(["--virtual-time-budget=8000", "--window-size=1400,1100"])
        .args(args)
        .arg(url)
        .output()
        .expect("chromium runs");
    let _ = std::fs::remove_dir_all(&profile);
    assert!(out.status.success(), "chromium failed on {url}");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// `check bfs` on the mutant: the explorer link it printed (the part after
/// `#/steps/`), having written its report to `report`.
fn counterexample_link(report: &Path) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_check"))
        .arg("bfs")
        .args(MUTANT_FLAGS.split_whitespace())
        .arg("--report")
        .arg(report)
        .output()
        .expect("check runs");
    assert_eq!(out.status.code(), Some(1), "the mutant is caught");
    let stdout = String::from_utf8_lossy(&out.stdout);
    stdout
        .lines()
        .rev()
        .find_map(|l| l.trim().strip_prefix("http://127.0.0.1:3000/#/steps/"))
        .expect("an explorer link")
        .to_string()
}

/// `check serve` on the mutant, killed when dropped.
struct Served(Child, String);

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn serve() -> Served {
    let addr = TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .to_string();
    let mut child = Command::new(env!("CARGO_BIN_EXE_check"))
        .arg("serve")
        .args(MUTANT_FLAGS.split_whitespace())
        .args(["--addr", &addr])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("check serve starts");
    let mut first = String::new();
    BufReader::new(child.stdout.take().expect("stdout"))
        .read_line(&mut first)
        .expect("its first line");
    assert!(first.starts_with("ruft explorer on http://"), "{first:?}");
    Served(child, format!("http://{addr}"))
}

#[test]
fn the_explorer_shows_the_violation_and_its_reason_in_a_browser() {
    let Some(browser) = chromium() else { return };
    let dir = artefacts();
    let link = counterexample_link(&dir.join("report-for-explorer.html"));
    let served = serve();
    let url = format!("{}/#/steps/{link}", served.1);

    let dom = browse(&browser, &url, &["--dump-dom"]);
    for needle in [
        &format!("ruft model: check serve {MUTANT_FLAGS}") as &str,
        "VIOLATED index order: one vote per term: n1's vote in t1 on disk was for n1, then for \
         n3 in the same term",
        "ghost: votes t1-&gt;n3; broke: one vote per term",
        "7 Always properties hold here",
    ] {
        assert!(dom.contains(needle), "the page lacks {needle:?}:\n{dom}");
    }
    let shot = dir.join("explorer-violation.png");
    browse(
        &browser,
        &url,
        &[&format!("--screenshot={}", shot.display())],
    );
    assert!(
        std::fs::metadata(&shot).is_ok_and(|m| m.len() > 10_000),
        "{shot:?}"
    );

    // A link made on another model (here: an action index no state has).
    let wrong = format!("{}/#/steps/0/0/99/4", served.1);
    let dom = browse(&browser, &wrong, &["--dump-dom"]);
    assert!(
        dom.contains("This link does not resolve on this model (check serve --nodes 3"),
        "{dom}"
    );
    let shot = dir.join("explorer-unresolved-link.png");
    browse(
        &browser,
        &wrong,
        &[&format!("--screenshot={}", shot.display())],
    );
}

#[test]
fn the_report_page_shows_the_reason_the_run_and_the_steps() {
    let Some(browser) = chromium() else { return };
    let dir = artefacts();
    let report = dir.join("report-forget-vote.html");
    counterexample_link(&report);
    let url = format!("file://{}", report.display());
    let dom = browse(&browser, &url, &["--dump-dom"]);
    for needle in [
        "Counterexample for “index order”",
        "Why \"index order\" fails: one vote per term: n1's vote in t1 on disk was for n1, \
         then for n3 in the same term",
        "n1 crashed at step 3, restarted at step 6",
        "<svg",
        "“index order” fails from here",
        "serve --nodes 3",
    ] {
        assert!(dom.contains(needle), "the report lacks {needle:?}:\n{dom}");
    }
    let shot = dir.join("report-forget-vote.png");
    browse(
        &browser,
        &url,
        &[
            &format!("--screenshot={}", shot.display()),
            "--window-size=1300,1400",
        ],
    );
    assert!(
        std::fs::metadata(&shot).is_ok_and(|m| m.len() > 10_000),
        "{shot:?}"
    );
}
