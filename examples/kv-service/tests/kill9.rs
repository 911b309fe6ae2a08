//! ruft-kv survives kill -9: three server processes on loopback, concurrent
//! clients, a dozen `kill -9`s and restarts (the leader among them), a node
//! cut off from its peers; at the end the recorded client history is
//! checked for linearizability with the checker the model uses
//! (stateright's `LinearizabilityTester` over a register, one per key), and
//! no acknowledged write is lost.
//!
//! Seeded (`RUFT_KV_SEED`), bounded in time (about 30 s) and in count.

use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use ruft::NodeId;
use ruft_kv::ClientId;
use ruft_kv_service::client::Client;
use ruft_kv_service::wire::{ClientRequest, ClientResponse};
use stateright::semantics::register::{Register, RegisterOp, RegisterRet};
use stateright::semantics::{ConsistencyTester, LinearizabilityTester};
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::{Child, Command};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const NODES: usize = 3;
const CLIENTS: u64 = 4;
const KEYS: usize = 3;
const KILLS: usize = 12;
/// How long a key is used before the clients move to new ones.
const EPOCH: Duration = Duration::from_secs(1);
/// Between two faults.
const FAULT_EVERY: Duration = Duration::from_millis(1500);

// ---------------------------------------------------------------- the cluster

/// The server processes; killed when dropped, whatever the test did.
struct Cluster {
    addrs: Vec<SocketAddr>,
    data: PathBuf,
    children: Vec<Option<Child>>,
}

impl Cluster {
    fn start(data: PathBuf) -> Cluster {
        let addrs = free_ports(NODES);
        let mut cluster = Cluster {
            addrs,
            data,
            children: (0..NODES).map(|_| None).collect(),
        };
        for id in 1..=NODES as u64 {
            cluster.restart(NodeId(id));
        }
        cluster
    }

    fn restart(&mut self, id: NodeId) {
        let cluster: Vec<String> = self.addrs.iter().map(ToString::to_string).collect();
        let child = Command::new(env!("CARGO_BIN_EXE_ruft-kv"))
            .args([
                "serve",
                "--id",
                &id.0.to_string(),
                "--cluster",
                &cluster.join(","),
            ])
            .arg("--data")
            .arg(&self.data)
            .args(["--tick-ms", "20", "--snapshot-every", "200"])
            .env("RUST_LOG", "error")
            .spawn()
            .expect("the ruft-kv binary starts");
        self.children[id.0 as usize - 1] = Some(child);
    }

    /// SIGKILL: no chance to flush or say goodbye.
    fn kill9(&mut self, id: NodeId) {
        if let Some(mut child) = self.children[id.0 as usize - 1].take() {
            child.kill().expect("kill -9");
            child.wait().expect("reaped");
        }
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        for id in 1..=NODES as u64 {
            self.kill9(NodeId(id));
        }
    }
}

/// Ports the OS says are free now (bound, then released).
fn free_ports(n: usize) -> Vec<SocketAddr> {
    let listeners: Vec<_> = (0..n)
        .map(|_| std::net::TcpListener::bind("127.0.0.1:0").expect("a free port"))
        .collect();
    listeners
        .iter()
        .map(|l| l.local_addr().expect("bound"))
        .collect()
}

/// The leader, as the nodes report it (the first that says it leads).
async fn leader(admin: &mut Client) -> Option<NodeId> {
    for i in 1..=NODES as u64 {
        if let Ok(ClientResponse::Status {
            leader: true, id, ..
        }) = admin.ask(NodeId(i), ClientRequest::Status).await
        {
            return Some(id);
        }
    }
    None
}

/// Cuts the leader off from its peers for 2 s, and returns whether the
/// others elected a leader of their own meanwhile (the partition is real).
async fn cut_off_the_leader(admin: &mut Client) -> bool {
    let start = Instant::now();
    let old = loop {
        if let Some(l) = leader(admin).await {
            break l;
        }
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "no leader to cut off"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let cut = admin
        .ask(old, ClientRequest::Isolate { millis: 2000 })
        .await;
    assert!(matches!(cut, Ok(ClientResponse::Isolated)), "{cut:?}");
    let start = Instant::now();
    while start.elapsed() < Duration::from_millis(1900) {
        for i in (1..=NODES as u64).map(NodeId).filter(|i| *i != old) {
            let status = admin.ask(i, ClientRequest::Status).await;
            if matches!(status, Ok(ClientResponse::Status { leader: true, .. })) {
                return true;
            }
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    false
}

// ---------------------------------------------------------------- the history

/// One client operation's thread for the checker: a client's operations
/// run one at a time, but one that timed out stays in flight for ever (it
/// may still take effect), so the next runs as a new thread.
type Thread = (u64, u64);

#[derive(Clone, Debug)]
enum Event {
    Invoke(Thread, String, RegisterOp<Option<String>>),
    Return(Thread, RegisterRet<Option<String>>),
}

#[derive(Default)]
struct History {
    events: Mutex<Vec<Event>>,
}

impl History {
    fn record(&self, event: Event) {
        self.events.lock().unwrap().push(event);
    }

    /// Checks each key's history on its own (linearizability is local: a
    /// history is linearizable if and only if each object's is).
    fn check(&self) -> Result<Report, String> {
        let events = self.events.lock().unwrap().clone();
        let mut key_of = BTreeMap::new();
        let mut per_key: BTreeMap<String, Vec<Event>> = BTreeMap::new();
        for e in &events {
            let key = match e {
                Event::Invoke(t, key, _) => {
                    key_of.insert(*t, key.clone());
                    key.clone()
                }
                Event::Return(t, _) => key_of[t].clone(),
            };
            per_key.entry(key).or_default().push(e.clone());
        }
        let mut report = Report::default();
        for (key, events) in per_key {
            report.absorb(&events);
            let mut tester = LinearizabilityTester::new(Register::<Option<String>>(None));
            for e in events.iter().filter(|e| observable(&events, e)) {
                let recorded = match e.clone() {
                    Event::Invoke(t, _, op) => tester.on_invoke(t, op),
                    Event::Return(t, ret) => tester.on_return(t, ret),
                };
                recorded.map_err(|e| format!("malformed history for {key}: {e}"))?;
            }
            if !tester.is_consistent() {
                return Err(format!(
                    "the history of {key} is not linearizable:\n{events:#?}"
                ));
            }
        }
        Ok(report)
    }
}

/// Whether `event` can change the verdict: an operation that never
/// returned may be placed anywhere after its invocation or nowhere, so a
/// read that never returned, and a write that never returned and whose
/// value nobody read, can be left out (as `ruft_models::clients` does).
fn observable(events: &[Event], event: &Event) -> bool {
    let Event::Invoke(thread, _, op) = event else {
        return true;
    };
    let returned = events
        .iter()
        .any(|e| matches!(e, Event::Return(t, _) if t == thread));
    match op {
        RegisterOp::Read => returned,
        RegisterOp::Write(v) => {
            returned
                || events
                    .iter()
                    .any(|e| matches!(e, Event::Return(_, RegisterRet::ReadOk(r)) if r == v))
        }
    }
}

#[derive(Debug, Default)]
struct Report {
    writes_acked: usize,
    reads_ok: usize,
    in_flight: usize,
}

impl Report {
    fn absorb(&mut self, events: &[Event]) {
        for e in events {
            match e {
                Event::Return(_, RegisterRet::WriteOk) => self.writes_acked += 1,
                Event::Return(_, RegisterRet::ReadOk(_)) => self.reads_ok += 1,
                Event::Invoke(t, ..) => {
                    let returned = events
                        .iter()
                        .any(|r| matches!(r, Event::Return(u, _) if u == t));
                    self.in_flight += usize::from(!returned);
                }
            }
        }
    }
}

/// The key a client uses: one of [`KEYS`], renamed every [`EPOCH`]. Each
/// key's history is checked on its own, and stateright's checker searches
/// a history's interleavings depth-first (its memory grows with the square
/// of the history's length), so every key is kept to a short history; the
/// whole run still has thousands of operations.
fn key(start: Instant, n: usize) -> String {
    let epoch = start.elapsed().as_millis() / EPOCH.as_millis();
    format!("e{epoch}.k{n}")
}

/// One client: random reads and writes of unique values until `stop`,
/// with a short random pause between two.
async fn client_loop(
    c: u64,
    addrs: Vec<SocketAddr>,
    history: Arc<History>,
    stop: Arc<AtomicBool>,
    seed: u64,
) {
    let start = Instant::now();
    let mut client = Client::new(addrs, ClientId(1000 + c));
    client.op_timeout = Duration::from_secs(4);
    let mut rng = ChaCha8Rng::seed_from_u64(seed ^ c);
    let mut generation = 0;
    let mut i = 0;
    while !stop.load(Ordering::Relaxed) {
        i += 1;
        let thread = (c, generation);
        tokio::time::sleep(Duration::from_millis(rng.random_range(5..30))).await;
        let key = key(start, rng.random_range(0..KEYS));
        let ok = if rng.random_bool(0.5) {
            let value = format!("c{c}.{i}");
            history.record(Event::Invoke(
                thread,
                key.clone(),
                RegisterOp::Write(Some(value.clone())),
            ));
            client.put(&key, &value).await.map(|_| RegisterRet::WriteOk)
        } else {
            history.record(Event::Invoke(thread, key.clone(), RegisterOp::Read));
            client.get(&key).await.map(RegisterRet::ReadOk)
        };
        match ok {
            Ok(ret) => history.record(Event::Return(thread, ret)),
            Err(_) => generation += 1, // in flight for ever
        }
    }
}

// ---------------------------------------------------------------- the test

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn survives_kill_9_and_a_partition_with_a_linearizable_history() {
    let seed: u64 = std::env::var("RUFT_KV_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(7);
    let data = std::env::temp_dir().join(format!("ruft-kv-kill9-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&data);
    let mut cluster = Cluster::start(data.clone());
    let mut admin = Client::new(cluster.addrs.clone(), ClientId(1));
    admin.attempt_timeout = Duration::from_millis(300);
    let start = Instant::now();
    while leader(&mut admin).await.is_none() {
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "no leader elected"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    let history = Arc::new(History::default());
    let stop = Arc::new(AtomicBool::new(false));
    let clients: Vec<_> = (0..CLIENTS)
        .map(|c| {
            tokio::spawn(client_loop(
                c,
                cluster.addrs.clone(),
                history.clone(),
                stop.clone(),
                seed,
            ))
        })
        .collect();

    // The faults: kill -9 (every third one the leader), restart after a
    // pause; half-way, the leader is cut off from its peers for 2 s.
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut leaders_killed = 0;
    for k in 0..KILLS {
        tokio::time::sleep(FAULT_EVERY).await;
        let victim = match (k % 3 == 0, leader(&mut admin).await) {
            (true, Some(l)) => {
                leaders_killed += 1;
                l
            }
            _ => NodeId(rng.random_range(1..=NODES as u64)),
        };
        cluster.kill9(victim);
        tokio::time::sleep(Duration::from_millis(rng.random_range(100..600))).await;
        cluster.restart(victim);
        if k == KILLS / 2 {
            tokio::time::sleep(FAULT_EVERY).await;
            let cut_off = cut_off_the_leader(&mut admin).await;
            assert!(
                cut_off,
                "the others elected no leader while the old one was cut off"
            );
        }
    }
    tokio::time::sleep(FAULT_EVERY).await;
    stop.store(true, Ordering::Relaxed);
    for c in clients {
        c.await.expect("a client panicked");
    }

    // Every key the clients used is read once more, with nothing else
    // running: each read must see the last acknowledged write of its key
    // (or a later one still in flight), so a lost acknowledged write fails
    // the check.
    let keys: std::collections::BTreeSet<String> = history
        .events
        .lock()
        .unwrap()
        .iter()
        .filter_map(|e| match e {
            Event::Invoke(_, key, _) => Some(key.clone()),
            Event::Return(..) => None,
        })
        .collect();
    let mut last = Client::new(cluster.addrs.clone(), ClientId(999));
    for (k, key) in keys.iter().enumerate() {
        let thread = (999, k as u64);
        history.record(Event::Invoke(thread, key.clone(), RegisterOp::Read));
        let value = last.get(key).await.expect("the healed cluster answers");
        history.record(Event::Return(thread, RegisterRet::ReadOk(value)));
    }
    let report = history.check().unwrap_or_else(|e| panic!("{e}"));
    eprintln!(
        "seed {seed}: {KILLS} kill -9s ({leaders_killed} of the leader) and one partition survived; \
         {} writes acknowledged, {} reads, {} operations left in flight, {} keys read back; linearizable",
        report.writes_acked, report.reads_ok, report.in_flight, keys.len()
    );
    assert!(
        leaders_killed >= 3,
        "the leader was killed {leaders_killed} times"
    );
    assert!(
        report.writes_acked >= 50,
        "too little work to mean anything: {report:?}"
    );
    assert!(
        report.reads_ok >= 50,
        "too little work to mean anything: {report:?}"
    );
    drop(cluster);
    let _ = std::fs::remove_dir_all(&data);
}

/// The check can fail: a read that returns a value overwritten before it
/// began (a stale read) is refused, and so is a lost acknowledged write.
#[test]
fn the_history_check_refuses_a_stale_read_and_a_lost_write() {
    let write = |v: &str| RegisterOp::Write(Some(v.to_string()));
    let read_ok = |v: Option<&str>| RegisterRet::ReadOk(v.map(str::to_string));
    let k = || "k".to_string();
    let stale = History::default();
    for e in [
        Event::Invoke((1, 0), k(), write("a")),
        Event::Return((1, 0), RegisterRet::WriteOk),
        Event::Invoke((1, 1), k(), write("b")),
        Event::Return((1, 1), RegisterRet::WriteOk),
        Event::Invoke((2, 0), k(), RegisterOp::Read),
        Event::Return((2, 0), read_ok(Some("a"))),
    ] {
        stale.record(e);
    }
    assert!(stale.check().is_err(), "a stale read passes");
    let lost = History::default();
    for e in [
        Event::Invoke((1, 0), k(), write("a")),
        Event::Return((1, 0), RegisterRet::WriteOk),
        Event::Invoke((2, 0), k(), RegisterOp::Read),
        Event::Return((2, 0), read_ok(None)),
    ] {
        lost.record(e);
    }
    assert!(lost.check().is_err(), "a lost write passes");
    let fine = History::default();
    for e in [
        Event::Invoke((1, 0), k(), write("a")),
        Event::Invoke((2, 0), k(), RegisterOp::Read),
        Event::Return((2, 0), read_ok(None)),
        Event::Return((1, 0), RegisterRet::WriteOk),
    ] {
        fine.record(e);
    }
    assert!(
        fine.check().is_ok(),
        "a read concurrent with a write may miss it"
    );
}
