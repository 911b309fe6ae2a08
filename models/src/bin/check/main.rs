//! `check`: model-check a ruft cluster. See `docs/checking.md`.
//!
//! ```text
//! check bfs --nodes 3                 exhaustive search within the default bounds
//! check dfs --nodes 3 --symmetry      depth first, with symmetry reduction
//! check simulate --nodes 3 --seed 7   reproducible random walks
//! check serve --nodes 3               stateright's web explorer on 127.0.0.1:3000
//! check list                          properties and defaults
//! ```
//!
//! Exit codes: 0 every Always holds and every Sometimes is reached; 1 a
//! violation or an unreached Sometimes; 2 bad arguments, or the explorer
//! cannot listen; 3 the search was cut short (timeout, state or memory limit,
//! SIGINT/SIGTERM) and proves nothing.

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

mod args;
mod list;
mod merge;
mod run;

use args::{Cli, Command};
use clap::Parser;
use ruft_models::interrupt;
use ruft_models::model::ModelConfig;
use ruft_models::search::Engine;
use std::process::ExitCode;

fn main() -> ExitCode {
    // `check list | head -1` ends quietly, as Unix tools do, instead of
    // panicking on the closed pipe.
    // SAFETY: resetting a signal's disposition to its default before any
    // other thread exists.
    #[cfg(unix)]
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
    let cli = Cli::parse();
    init_tracing();
    {
        use std::io::IsTerminal;
        let colour = std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none();
        ruft_models::report::set_colour(colour);
    }
    if let Err(e) = interrupt::install() {
        eprintln!("check: cannot handle SIGINT/SIGTERM ({e}); a signal will end it at once");
    }
    let code = match cli.command {
        Command::Bfs(args) => run::search_command(Engine::Bfs, args),
        Command::Dfs(args) => run::search_command(Engine::Dfs, args),
        Command::Simulate(args) => run::simulate_command(args),
        Command::Hunt(args) => run::hunt_command(args),
        Command::Serve(args) => run::serve_command(args),
        Command::List(args) => list::list_command(args),
        Command::Merge(args) => merge::merge_command(args),
    };
    ExitCode::from(code)
}

/// ruft's tracing events on stderr, filtered by `RUST_LOG` (nothing unless
/// asked: the default filter shows errors only); colour only on a terminal
/// and never with `NO_COLOR`.
fn init_tracing() {
    use std::io::IsTerminal;
    let colour = std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none();
    let _ = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_writer(std::io::stderr)
        .with_ansi(colour)
        .try_init();
}

pub(crate) fn refused(cfg: &ModelConfig) -> Option<u8> {
    let error = cfg.validate().err()?;
    eprintln!("check: the nodes would refuse this configuration: {error}");
    Some(2)
}

/// Writes a JSON document where `--json` asked (`-`: stdout); `Some(2)`,
/// with the reason on stderr, when it cannot be written.
pub(crate) fn emit_json(target: &std::path::Path, doc: &serde_json::Value) -> Option<u8> {
    let e = ruft_models::report::write_json(target, doc).err()?;
    eprintln!(
        "check: cannot write the JSON document to {}: {e}",
        target.display()
    );
    Some(2)
}

/// Writes the HTML report of `cx` where `--report` asked; `Some(2)` when it
/// cannot be written. Without a counterexample there is nothing to write.
pub(crate) fn emit_report(
    target: Option<&std::path::Path>,
    cfg: &ModelConfig,
    cx: Option<&ruft_models::report::Counterexample>,
) -> Option<u8> {
    let (target, cx) = (target?, cx?);
    let page = ruft_models::html::report(cfg, cx);
    match ruft_models::report::write_atomically(target, page.as_bytes()) {
        Ok(()) => {
            eprintln!(
                "check: counterexample report written to {}",
                target.display()
            );
            None
        }
        Err(e) => {
            eprintln!(
                "check: cannot write the report to {}: {e}",
                target.display()
            );
            Some(2)
        }
    }
}
