//! The client bench: `clients` concurrent clients, each running operations
//! one at a time (a share of them reads), on `keys` keys.

use crate::client::Client;
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use ruft_kv::ClientId;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

/// What to run.
#[derive(Clone, Debug)]
pub struct BenchConfig {
    /// The cluster.
    pub cluster: Vec<SocketAddr>,
    /// Concurrent clients.
    pub clients: usize,
    /// Operations per client.
    pub ops: usize,
    /// The share of reads, in `[0, 1]`.
    pub reads: f64,
    /// Distinct keys.
    pub keys: usize,
    /// Seeds the keys and the read/write choice.
    pub seed: u64,
}

/// What it measured.
#[derive(Clone, Debug)]
pub struct BenchReport {
    /// Operations that succeeded.
    pub ops: usize,
    /// Operations that failed (timeouts).
    pub failed: usize,
    /// Wall time.
    pub elapsed: Duration,
    /// Latencies of the successful operations, sorted.
    pub latencies: Vec<Duration>,
}

impl BenchReport {
    /// Successful operations per second.
    pub fn ops_per_sec(&self) -> f64 {
        self.ops as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }

    /// The latency at percentile `p` (0 to 100).
    pub fn percentile(&self, p: f64) -> Duration {
        if self.latencies.is_empty() {
            return Duration::ZERO;
        }
        let rank = ((p / 100.0) * (self.latencies.len() - 1) as f64).round() as usize;
        self.latencies[rank.min(self.latencies.len() - 1)]
    }
}

impl std::fmt::Display for BenchReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let ms = |d: Duration| d.as_secs_f64() * 1e3;
        write!(
            f,
            "{} ops in {:.2} s: {:.0} ops/s; latency p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms; {} failed",
            self.ops,
            self.elapsed.as_secs_f64(),
            self.ops_per_sec(),
            ms(self.percentile(50.0)),
            ms(self.percentile(99.0)),
            ms(self.latencies.last().copied().unwrap_or_default()),
            self.failed
        )
    }
}

/// Runs the bench and reports.
pub async fn run(config: BenchConfig) -> BenchReport {
    let start = Instant::now();
    // Client ids unique across runs: sessions live in the store.
    let base = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64)
        << 8;
    let tasks: Vec<_> = (0..config.clients)
        .map(|c| {
            let config = config.clone();
            tokio::spawn(async move {
                let mut client = Client::new(config.cluster.clone(), ClientId(base + c as u64));
                let mut rng = ChaCha8Rng::seed_from_u64(config.seed ^ (c as u64) << 32);
                let mut latencies = Vec::with_capacity(config.ops);
                let mut failed = 0;
                for i in 0..config.ops {
                    let key = format!("k{}", rng.random_range(0..config.keys.max(1)));
                    let begin = Instant::now();
                    let ok = if rng.random_bool(config.reads.clamp(0.0, 1.0)) {
                        client.get(&key).await.is_ok()
                    } else {
                        client.put(&key, &format!("{c}.{i}")).await.is_ok()
                    };
                    match ok {
                        true => latencies.push(begin.elapsed()),
                        false => failed += 1,
                    }
                }
                (latencies, failed)
            })
        })
        .collect();
    let mut report = BenchReport {
        ops: 0,
        failed: 0,
        elapsed: Duration::ZERO,
        latencies: Vec::new(),
    };
    for task in tasks {
        let (latencies, failed) = task.await.expect("a bench client panicked");
        report.ops += latencies.len();
        report.failed += failed;
        report.latencies.extend(latencies);
    }
    report.elapsed = start.elapsed();
    report.latencies.sort();
    report
}
