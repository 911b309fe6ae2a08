//! Criterion benchmark: the same 3-node replication workload through ruft and
//! through raft-rs, reported as entries committed and applied on all three
//! nodes per second (see `ruft_bench` for the workload).
//!
//! ```text
//! cargo bench -p ruft-bench
//! ```
//!
//! For a table with the ratio, run `cargo run --release -p ruft-bench --example compare`.

use criterion::{criterion_group, criterion_main, Criterion, SamplingMode, Throughput};
use ruft_bench::raft_rs_cluster::{RaftRsBcastCluster, RaftRsCluster};
use ruft_bench::ruft_cluster::RuftCluster;
use ruft_bench::{run_verified, Harness, Workload};
use std::time::Duration;

/// Times `iters` verified runs of `H`; election and payload generation are
/// left out of the time.
fn timed<H: Harness>(workload: &Workload, iters: u64) -> Duration {
    (0..iters)
        .map(|_| run_verified::<H>(workload).elapsed)
        .sum()
}

fn replicate(c: &mut Criterion) {
    let workload = Workload::default();
    let mut group = c.benchmark_group(format!(
        "replicate {} x {} B, 3 nodes",
        workload.proposals, workload.payload_len
    ));
    // One run takes about 0.15 s: ten samples of a few runs each per library
    // keep `cargo bench` to well under a minute on two cores.
    group
        .throughput(Throughput::Elements(workload.proposals as u64))
        .sampling_mode(SamplingMode::Flat)
        .sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(5));
    group.bench_function(RuftCluster::NAME, |b| {
        b.iter_custom(|iters| timed::<RuftCluster>(&workload, iters))
    });
    group.bench_function(RaftRsCluster::NAME, |b| {
        b.iter_custom(|iters| timed::<RaftRsCluster>(&workload, iters))
    });
    group.bench_function(RaftRsBcastCluster::NAME, |b| {
        b.iter_custom(|iters| timed::<RaftRsBcastCluster>(&workload, iters))
    });
    group.finish();
}

criterion_group!(benches, replicate);
criterion_main!(benches);
