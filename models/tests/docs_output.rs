//! The transcripts in `docs/checking.md` are `check`'s real output: each
//! block that follows a `<!-- output: ARGS -->` marker is rerun and compared,
//! so the guide cannot go stale again. Figures that change from run to run
//! (time, rate, memory) are compared as `…`.
//!
//! After a change to what `check` prints, regenerate the blocks with
//! `RUFT_WRITE_DOCS=1 cargo test --release -p ruft-models --test docs_output`
//! and read the diff.
//!
//! A marker is `<!-- output: check ARGS -->` or, to keep the first N lines,
//! `<!-- output: check ARGS | head N -->`; the block after it starts with
//! `$ target/release/check ARGS` and ends with `$ echo $?` and the exit code.

use std::process::Command;

const GUIDE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/checking.md");

/// One marked block: where its body lies in the guide, and what to run.
struct Block {
    args: Vec<String>,
    head: Option<usize>,
    /// Byte range of the body, between the opening ```text line and the
    /// closing fence.
    body: std::ops::Range<usize>,
}

fn blocks(guide: &str) -> Vec<Block> {
    let mut out = Vec::new();
    let mut at = 0;
    while let Some(found) = guide[at..].find("<!-- output: check ") {
        let start = at + found;
        let end = start + guide[start..].find("-->").expect("a closed marker");
        let spec = guide[start + "<!-- output: check ".len()..end].trim();
        let (cmd, head) = match spec.split_once(" | head ") {
            Some((cmd, n)) => (cmd, Some(n.trim().parse().expect("head N"))),
            None => (spec, None),
        };
        let fence = end
            + guide[end..]
                .find("```text\n")
                .expect("a text block after the marker");
        let body_start = fence + "```text\n".len();
        let body_end = body_start + guide[body_start..].find("```").expect("a closed block");
        out.push(Block {
            args: cmd.split_whitespace().map(String::from).collect(),
            head,
            body: body_start..body_end,
        });
        at = body_end;
    }
    out
}

/// What the block should hold: the prompt, `check`'s stdout (the first
/// `head` lines of it), and the exit code.
fn transcript(block: &Block) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_check"))
        .args(&block.args)
        .output()
        .expect("check runs");
    let stdout = String::from_utf8(out.stdout).expect("UTF-8");
    let mut lines: Vec<&str> = stdout.lines().collect();
    let mut text = format!("$ target/release/check {}\n", block.args.join(" "));
    if let Some(n) = block.head.filter(|&n| n < lines.len()) {
        lines.truncate(n);
        for line in lines {
            text += line;
            text.push('\n');
        }
        text += "...\n";
    } else {
        for line in lines {
            text += line;
            text.push('\n');
        }
        let code = out.status.code().expect("check exits by itself");
        text += &format!("$ echo $?\n{code}\n");
    }
    text
}

/// The figures that differ between two runs of the same search, blanked.
fn steady(text: &str) -> String {
    const VOLATILE: [&str; 4] = ["time (s)", "states/s", "peak memory", "bytes/unique state"];
    text.lines()
        .map(|line| {
            let t = line.trim_start();
            match VOLATILE.iter().find(|v| t.starts_with(*v)) {
                Some(v) => format!("  {v} …"),
                None => line.to_string(),
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn the_guides_transcripts_are_what_check_prints() {
    let guide = std::fs::read_to_string(GUIDE).expect("docs/checking.md");
    let found = blocks(&guide);
    assert!(found.len() >= 3, "the guide marks its transcripts");
    let write = std::env::var_os("RUFT_WRITE_DOCS").is_some();
    let mut rewritten = String::new();
    let mut last = 0;
    let mut stale = Vec::new();
    for block in &found {
        let real = transcript(block);
        let shown = &guide[block.body.clone()];
        if steady(shown) != steady(&real) {
            stale.push(format!(
                "check {}:\n--- in the guide\n{shown}\n--- printed now\n{real}",
                block.args.join(" ")
            ));
        }
        rewritten += &guide[last..block.body.start];
        rewritten += &real;
        last = block.body.end;
    }
    rewritten += &guide[last..];
    if write {
        std::fs::write(GUIDE, rewritten).expect("docs/checking.md written");
        return;
    }
    assert!(
        stale.is_empty(),
        "docs/checking.md shows output `check` no longer prints; regenerate with \
         RUFT_WRITE_DOCS=1 cargo test --release -p ruft-models --test docs_output\n{}",
        stale.join("\n")
    );
}

#[test]
fn volatile_figures_are_blanked_and_nothing_else() {
    let a = "  unique states   10\n  time (s)   0.10\n  peak memory   21 MiB\n";
    let b = "  unique states   10\n  time (s)   0.31\n  peak memory   22 MiB\n";
    assert_eq!(steady(a), steady(b));
    assert_ne!(steady(a), steady(&a.replace("10", "11")));
}
