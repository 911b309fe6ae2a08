//! A log that does not grow forever: three ruft nodes commit 1,000,000
//! proposals while each compacts its log every 10,000 applied entries, and
//! one follower, cut off for a while, is brought back by a snapshot.
//!
//! Prints the resident memory every 100,000 proposals: with compaction it
//! stays flat (without it, every node would hold every entry).
//!
//! ```text
//! cargo run --release --example compaction
//! cargo run --release --example compaction -- --no-compaction   # to compare
//! ```

use ruft::{Index, NodeId, Tick};
use ruft_models::driver::Cluster;
use std::time::Instant;

const PROPOSALS: usize = 1_000_000;
/// Proposals the client keeps in flight before waiting for the network.
const WINDOW: usize = 64;
/// Each node snapshots and compacts once it applied this many more entries.
const COMPACT_EVERY: u64 = 10_000;
/// n3 is cut off while these proposals are made, so it falls behind the
/// leader's first index and needs the snapshot.
const CUT_OFF: std::ops::Range<usize> = 300_000..400_000;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut cluster = Cluster::new(3, |cfg| {
        cfg.seed = 7;
        cfg.election_tick = Tick(10);
    });
    cluster.set_check_properties(false);
    let compaction = !std::env::args().any(|a| a == "--no-compaction");
    let leader = cluster
        .elect(1000)
        .map_err(|e| format!("{e:?}"))?
        .ok_or("no leader after 1000 rounds of ticks")?;
    let lagging = cluster.ids().find(|&id| id != leader).expect("a follower");
    println!("leader {leader}; {lagging} is cut off for proposals {CUT_OFF:?}");

    let start = Instant::now();
    let mut proposed = 0;
    let mut snapshots_installed = 0;
    let mut cut = false;
    let mut next_report = 100_000;
    while proposed < PROPOSALS {
        if !cut && CUT_OFF.contains(&proposed) {
            cluster.isolate(lagging);
            cut = true;
        }
        if cut && proposed >= CUT_OFF.end {
            cut = false;
            cluster.recover();
            let before = cluster.node(lagging).log().compacted().index;
            catch_up(&mut cluster, leader)?;
            if cluster.node(lagging).log().compacted().index > before {
                snapshots_installed += 1;
            }
        }
        let window = proposed..PROPOSALS.min(proposed + WINDOW);
        proposed = window.end;
        let payloads = window.map(|i| format!("put k{i} v{i}").into());
        cluster
            .propose_window(leader, payloads)
            .map_err(|e| format!("{e:?}"))?;
        if compaction {
            compact_all(&mut cluster)?;
        }
        if proposed >= next_report {
            next_report += 100_000;
            let s = cluster.node(leader).status();
            println!(
                "{proposed:>9} proposals  commit {:>9}  leader holds {:>6} entries  rss {:>4} MiB  peak {:>4} MiB",
                s.committed.0,
                cluster.node(leader).log().iter().count(),
                memory_kib("VmRSS:") / 1024,
                memory_kib("VmHWM:") / 1024
            );
        }
    }
    catch_up(&mut cluster, leader)?;
    let elapsed = start.elapsed();
    let target = cluster.node(leader).status().committed;
    for id in cluster.ids() {
        let s = cluster.node(id).status();
        println!(
            "  {id}: {:?} commit {} applied {} first index {}",
            s.role,
            s.committed.0,
            s.applied.0,
            cluster.node(id).log().compacted().index.0 + 1
        );
        assert_eq!(s.applied, target, "every node applied everything");
    }
    let expected = usize::from(compaction);
    assert_eq!(
        snapshots_installed, expected,
        "{lagging} came back through a snapshot (only with compaction)"
    );
    println!(
        "{PROPOSALS} proposals committed and applied on 3 nodes in {:.1} s ({:.0} entries/s); \
         {lagging} installed {snapshots_installed} snapshot(s); peak resident memory {} MiB",
        elapsed.as_secs_f64(),
        PROPOSALS as f64 / elapsed.as_secs_f64(),
        memory_kib("VmHWM:") / 1024
    );
    Ok(())
}

/// Heartbeats until every running node has applied what the leader committed.
fn catch_up(cluster: &mut Cluster, leader: NodeId) -> Result<(), String> {
    for _ in 0..100 {
        cluster.heartbeat(leader).map_err(|e| format!("{e:?}"))?;
        cluster
            .deliver_all(usize::MAX)
            .map_err(|e| format!("{e:?}"))?;
        let target = cluster.node(leader).status().committed;
        if cluster
            .ids()
            .all(|id| cluster.node(id).status().applied == target)
        {
            return Ok(());
        }
    }
    Err("the followers did not catch up".into())
}

/// Each node whose applied index moved `COMPACT_EVERY` past its snapshot
/// snapshots its state machine there and compacts its log. The state
/// machine here only counts; its snapshot data says how far it got.
fn compact_all(cluster: &mut Cluster) -> Result<(), String> {
    let ids: Vec<NodeId> = cluster.ids().collect();
    for id in ids {
        let node = &mut cluster.slot_mut(id).node;
        let applied = node.status().applied;
        let snapshot = node.storage().stored_snapshot().index();
        if applied.0 < snapshot.0 + COMPACT_EVERY {
            continue;
        }
        let membership = node.membership().clone();
        let data = format!("applied {}", applied.0);
        let storage = node.storage_mut();
        storage
            .create_snapshot(applied, &membership, data)
            .map_err(|e| format!("{e}"))?;
        storage
            .compact(Index(applied.0))
            .map_err(|e| format!("{e}"))?;
    }
    Ok(())
}

/// A line of `/proc/self/status` in KiB (0 where there is none).
fn memory_kib(field: &str) -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with(field))
                .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        })
        .unwrap_or(0)
}
