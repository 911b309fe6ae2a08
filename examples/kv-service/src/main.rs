//! `ruft-kv`: run a node, a local cluster, a client command or the bench.

use clap::{Parser, Subcommand};
use ruft::NodeId;
use ruft_kv::ClientId;
use ruft_kv_service::bench::{self, BenchConfig};
use ruft_kv_service::client::Client;
use ruft_kv_service::server::{serve, ServerConfig};
use ruft_kv_service::wire::ClientRequest;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

const LOCAL: &str = "127.0.0.1:7001,127.0.0.1:7002,127.0.0.1:7003";

/// A replicated key-value store on ruft: one process per node, durable on
/// redb, linearizable reads.
#[derive(Parser)]
#[command(
    name = "ruft-kv",
    after_help = "Examples:\n  ruft-kv local --data /tmp/ruft-kv          # 3 nodes on 127.0.0.1:7001-7003\n  ruft-kv bench --clients 16 --ops 500      # against them\n  ruft-kv put x 1 && ruft-kv get x"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run one node until killed.
    Serve {
        /// This node (1-based position in --cluster).
        #[arg(long)]
        id: u64,
        #[command(flatten)]
        node: NodeArgs,
    },
    /// Run a cluster of --nodes processes on loopback, until Ctrl-C (or SIGTERM).
    Local {
        /// How many nodes.
        #[arg(long, default_value_t = 3)]
        nodes: usize,
        /// The first node's port; the others follow.
        #[arg(long, default_value_t = 7001)]
        base_port: u16,
        #[command(flatten)]
        node: NodeArgs,
    },
    /// Set a key.
    Put {
        key: String,
        value: String,
        #[command(flatten)]
        at: At,
    },
    /// Read a key (linearizable).
    Get {
        key: String,
        #[command(flatten)]
        at: At,
    },
    /// Remove a key.
    Del {
        key: String,
        #[command(flatten)]
        at: At,
    },
    /// Each node's role, term and applied index.
    Status {
        #[command(flatten)]
        at: At,
    },
    /// Concurrent clients; prints throughput and latency percentiles.
    Bench {
        /// Concurrent clients.
        #[arg(long, default_value_t = 16)]
        clients: usize,
        /// Operations per client.
        #[arg(long, default_value_t = 500)]
        ops: usize,
        /// Share of reads.
        #[arg(long, default_value_t = 0.5)]
        reads: f64,
        /// Distinct keys.
        #[arg(long, default_value_t = 100)]
        keys: usize,
        #[command(flatten)]
        at: At,
    },
}

#[derive(clap::Args, Clone)]
struct NodeArgs {
    /// Every node's address, node 1 first.
    #[arg(long, default_value = LOCAL, value_delimiter = ',')]
    cluster: Vec<SocketAddr>,
    /// The data directory (a node's redb file goes in <data>/<id>/).
    #[arg(long, default_value = "ruft-kv-data")]
    data: PathBuf,
    /// Do not flush each Ready to disk (fast; lost on a machine crash).
    #[arg(long)]
    no_fsync: bool,
    /// One ruft tick, in milliseconds.
    #[arg(long, default_value_t = 20)]
    tick_ms: u64,
    /// Applied entries between snapshots.
    #[arg(long, default_value_t = 1000)]
    snapshot_every: u64,
}

#[derive(clap::Args)]
struct At {
    /// Every node's address, node 1 first.
    #[arg(long, default_value = LOCAL, value_delimiter = ',')]
    cluster: Vec<SocketAddr>,
}

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime");
    match runtime.block_on(run(cli.command)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("ruft-kv: {message}");
            ExitCode::from(1)
        }
    }
}

async fn run(command: Command) -> Result<(), String> {
    match command {
        Command::Serve { id, node } => serve(server_config(NodeId(id), &node))
            .await
            .map_err(|e| e.to_string()),
        Command::Local {
            nodes,
            base_port,
            mut node,
        } => {
            node.cluster = ruft_kv_service::local_cluster(nodes, base_port);
            local(nodes, node).await
        }
        Command::Put { key, value, at } => {
            let outcome = client(&at)
                .put(&key, &value)
                .await
                .map_err(|e| e.to_string())?;
            println!("{outcome:?}");
            Ok(())
        }
        Command::Del { key, at } => {
            let outcome = client(&at).delete(&key).await.map_err(|e| e.to_string())?;
            println!("{outcome:?}");
            Ok(())
        }
        Command::Get { key, at } => {
            let value = client(&at).get(&key).await.map_err(|e| e.to_string())?;
            println!("{}", value.as_deref().unwrap_or("(none)"));
            Ok(())
        }
        Command::Status { at } => {
            let mut c = client(&at);
            for i in 1..=at.cluster.len() as u64 {
                match c.ask(NodeId(i), ClientRequest::Status).await {
                    Ok(answer) => println!("n{i}: {answer:?}"),
                    Err(e) => println!("n{i}: {e}"),
                }
            }
            Ok(())
        }
        Command::Bench {
            clients,
            ops,
            reads,
            keys,
            at,
        } => {
            let config = BenchConfig {
                cluster: at.cluster,
                clients,
                ops,
                reads,
                keys,
                seed: 1,
            };
            println!(
                "{} clients x {ops} ops, {:.0}% reads, {keys} keys",
                clients,
                reads * 100.0
            );
            let report = bench::run(config).await;
            println!("{report}");
            match report.failed {
                0 => Ok(()),
                n => Err(format!("{n} operations failed")),
            }
        }
    }
}

fn server_config(id: NodeId, node: &NodeArgs) -> ServerConfig {
    ServerConfig {
        id,
        cluster: node.cluster.clone(),
        data: node.data.join(id.0.to_string()),
        fsync: !node.no_fsync,
        tick: Duration::from_millis(node.tick_ms.max(1)),
        snapshot_every: node.snapshot_every,
    }
}

fn client(at: &At) -> Client {
    let id = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(1, |d| d.as_nanos() as u64);
    Client::new(at.cluster.clone(), ClientId(id))
}

/// Starts `nodes` `serve` processes (this binary) and waits for Ctrl-C.
async fn local(nodes: usize, node: NodeArgs) -> Result<(), String> {
    let exe = std::env::current_exe().map_err(|e| e.to_string())?;
    let cluster: Vec<String> = node.cluster.iter().map(ToString::to_string).collect();
    let mut children = Vec::new();
    for id in 1..=nodes {
        let mut cmd = tokio::process::Command::new(&exe);
        cmd.arg("serve")
            .args(["--id", &id.to_string(), "--cluster", &cluster.join(",")])
            .arg("--data")
            .arg(&node.data)
            .args(["--tick-ms", &node.tick_ms.to_string()])
            .args(["--snapshot-every", &node.snapshot_every.to_string()])
            .kill_on_drop(true);
        if node.no_fsync {
            cmd.arg("--no-fsync");
        }
        children.push(cmd.spawn().map_err(|e| e.to_string())?);
        println!(
            "n{id} on {} (data in {})",
            cluster[id - 1],
            node.data.join(id.to_string()).display()
        );
    }
    println!("Ctrl-C stops the cluster.");
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .map_err(|e| e.to_string())?;
    tokio::select! {
        stop = tokio::signal::ctrl_c() => stop.map_err(|e| e.to_string())?,
        _ = term.recv() => {}
    }
    for child in &mut children {
        let _ = child.kill().await;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn the_command_line_is_well_formed() {
        Cli::command().debug_assert();
    }

    /// Every command the README quotes parses (the README stays true).
    #[test]
    fn every_command_in_the_readme_parses() {
        let prefix = "cargo run --release -p ruft-kv-service -- ";
        let commands: Vec<&str> = include_str!("../README.md")
            .lines()
            .filter_map(|l| l.strip_prefix(prefix))
            .collect();
        assert!(commands.len() >= 6, "{commands:?}");
        for args in commands {
            let argv = std::iter::once("ruft-kv").chain(args.split_whitespace());
            if let Err(e) = Cli::try_parse_from(argv) {
                panic!("README command `{args}` does not parse: {e}");
            }
        }
    }
}
