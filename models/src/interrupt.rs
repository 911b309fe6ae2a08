//! Stopping a search from outside. `check` installs a handler for SIGINT
//! (Ctrl-C) and SIGTERM (`timeout`, CI cancelling a job): the first signal
//! asks every running search to stop as if it had hit a limit, so the user
//! gets the partial table, the JSON document and exit 3 ("cut short, nothing
//! proved"), never a silent 130 or 124. A second signal exits at once (130).

use std::sync::atomic::{AtomicBool, Ordering};

static REQUESTED: AtomicBool = AtomicBool::new(false);

/// What a search reports as the reason it stopped.
pub const REASON: &str = "interrupted (SIGINT or SIGTERM)";

/// Installs the handler (once per process; `check` calls it first thing).
pub fn install() -> Result<(), ctrlc::Error> {
    ctrlc::set_handler(|| {
        if REQUESTED.swap(true, Ordering::SeqCst) {
            eprintln!("check: interrupted again, exiting at once (exit 130)");
            std::process::exit(130);
        }
        eprintln!(
            "check: interrupted; stopping and reporting what was searched (exit 3; \
             interrupt again to exit at once)"
        );
    })
}

/// Whether a stop was asked for.
pub fn requested() -> bool {
    REQUESTED.load(Ordering::Relaxed)
}
