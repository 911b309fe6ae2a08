//! The README's two commands work: `ruft-kv local` starts a 3-node cluster
//! and `ruft-kv bench` runs a workload against it, from the binary as a
//! user runs it (on free ports, with a smaller workload).

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Three consecutive loopback ports that are free now.
fn free_base_port() -> u16 {
    for base in (20_000..60_000u16)
        .step_by(97)
        .skip(std::process::id() as usize % 300)
    {
        let free = (base..base + 3).all(|p| std::net::TcpListener::bind(("127.0.0.1", p)).is_ok());
        if free {
            return base;
        }
    }
    panic!("no three consecutive free ports");
}

#[test]
fn local_starts_a_cluster_and_bench_runs_a_workload_on_it() {
    let exe = env!("CARGO_BIN_EXE_ruft-kv");
    let base = free_base_port();
    let data = std::env::temp_dir().join(format!("ruft-kv-readme-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&data);
    let mut local = Command::new(exe)
        .args(["local", "--base-port", &base.to_string(), "--data"])
        .arg(&data)
        .stdout(Stdio::null())
        .spawn()
        .expect("ruft-kv local starts");
    let cluster = (base..base + 3)
        .map(|p| format!("127.0.0.1:{p}"))
        .collect::<Vec<_>>()
        .join(",");
    let start = Instant::now();
    let bench = loop {
        let out = Command::new(exe)
            .args([
                "bench",
                "--clients",
                "4",
                "--ops",
                "50",
                "--cluster",
                &cluster,
            ])
            .output()
            .expect("ruft-kv bench runs");
        if out.status.success() || start.elapsed() > Duration::from_secs(20) {
            break out;
        }
        std::thread::sleep(Duration::from_millis(200)); // the nodes are still starting
    };
    // A key over the size limit is refused at once, not retried until a
    // timeout that would leave the client unsure whether it was applied.
    let long_key = "k".repeat(5000);
    let begin = Instant::now();
    let refused = Command::new(exe)
        .args(["put", &long_key, "v", "--cluster", &cluster])
        .output()
        .expect("ruft-kv put runs");
    let said = String::from_utf8_lossy(&refused.stderr);
    assert!(
        !refused.status.success() && said.contains("refused: a key over"),
        "{said}"
    );
    assert!(begin.elapsed() < Duration::from_secs(5), "refused at once");
    // SIGTERM: `local` stops its nodes and exits.
    let _ = Command::new("kill")
        .args(["-TERM", &local.id().to_string()])
        .status();
    let stopped = local.wait().expect("local exits");
    let stdout = String::from_utf8_lossy(&bench.stdout);
    assert!(
        bench.status.success(),
        "bench failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&bench.stderr)
    );
    assert!(
        stdout.contains("200 ops in") && stdout.contains("ops/s; latency p50"),
        "{stdout}"
    );
    assert!(stdout.contains("0 failed"), "{stdout}");
    assert!(
        stopped.success(),
        "local exits cleanly on SIGTERM: {stopped:?}"
    );
    let _ = std::fs::remove_dir_all(&data);
}
