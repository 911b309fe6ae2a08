//! Three ruft nodes in one process, an in-memory network between them, and the
//! application loop of the design (persist, then send, then apply, then
//! advance), run by the shared cluster driver of `ruft-models`.
//!
//! Elects a leader, commits 10,000 proposals, and prints the leader, its term,
//! the commit index and the entries committed and applied per second.
//!
//! ```text
//! cargo run --release --example cluster
//! ```

use ruft::{Index, Tick};
use ruft_models::driver::Cluster;
use std::time::Instant;

const PROPOSALS: usize = 10_000;
/// Proposals the client keeps in flight before waiting for the network.
const WINDOW: usize = 64;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut cluster = Cluster::new(3, |cfg| {
        cfg.seed = 42;
        cfg.election_tick = Tick(10);
    });
    cluster.set_check_properties(false);

    // Tick every node until one wins an election (timeouts are randomized).
    let leader = cluster
        .elect(1000)
        .map_err(|e| format!("{e:?}"))?
        .ok_or("no leader after 1000 rounds of ticks")?;
    let term = cluster.node(leader).status().term;
    println!("leader {leader} elected in term {}", term.0);

    let start = Instant::now();
    let mut proposed = 0;
    while proposed < PROPOSALS {
        let window = proposed..PROPOSALS.min(proposed + WINDOW);
        proposed = window.end;
        let payloads = window.map(|i| format!("put k{i} v{i}").into());
        cluster
            .propose_window(leader, payloads)
            .map_err(|e| format!("{e:?}"))?;
    }
    // One heartbeat round carries the final commit index to the followers.
    cluster.heartbeat(leader).map_err(|e| format!("{e:?}"))?;
    cluster
        .deliver_all(usize::MAX)
        .map_err(|e| format!("{e:?}"))?;
    let elapsed = start.elapsed();

    let status = cluster.node(leader).status();
    let target = Index(status.committed.0);
    for id in cluster.ids() {
        let s = cluster.node(id).status();
        println!(
            "  {id}: {:?} term {} commit {} applied {}",
            s.role, s.term.0, s.committed.0, s.applied.0
        );
        assert_eq!(s.applied, target, "every node applied everything");
    }
    let rate = PROPOSALS as f64 / elapsed.as_secs_f64();
    println!(
        "leader {leader}, term {}, commit index {}: {PROPOSALS} proposals committed and applied on 3 nodes in {:.3} s = {rate:.0} entries/s",
        status.term.0,
        status.committed.0,
        elapsed.as_secs_f64()
    );
    Ok(())
}
