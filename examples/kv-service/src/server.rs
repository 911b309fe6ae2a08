//! One ruft-kv node: a ruft [`Node`] on [`RedbStorage`], the KV state
//! machine, and TCP to its peers and clients.
//!
//! One task owns the node and the state machine and runs the application
//! loop of `docs/embedding.md`: it takes inputs (Raft messages, client
//! requests, ticks) from one channel, steps them, then carries out every
//! Ready: persist (one redb transaction), send, apply, serve reads,
//! advance. Inputs that arrive together are stepped before one Ready, so one
//! fsync covers them all. The other tasks only move bytes: one accepts
//! connections and reads frames, one per peer writes frames (dropping them
//! when the peer is down: Raft resends what matters).

use crate::storage::RedbStorage;
use crate::wire::{read_frame, write_frame, ClientRequest, ClientResponse, Frame};
use bytes::Bytes;
use ruft::{
    Config, EntryVariant, Error, Message, MessageVariant, Node, NodeId, ReadState, Role,
    SnapshotStatus, StepOutcome, StorageError, Tick,
};
use ruft_kv::{ClientId, Kv, RequestId};
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::io::{AsyncWriteExt, BufWriter};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, oneshot};

/// Inputs queued for the node task; beyond this, connections wait.
const INPUTS_MAX: usize = 4096;
/// Inputs stepped before one Ready (one fsync).
const BATCH_MAX: usize = 256;
/// Messages queued for one peer; beyond this they are dropped.
const PEER_QUEUE_MAX: usize = 4096;
/// Client writes and reads waiting for an answer.
const PENDING_MAX: usize = 10_000;
/// A waiting client request is given up after this (the client has retried).
const PENDING_TTL: Duration = Duration::from_secs(5);
/// The longest key a request may name, and the longest value: with
/// `PENDING_MAX`, what waiting requests hold is bounded in bytes too.
const KEY_BYTES_MAX: usize = 4 << 10;
const VALUE_BYTES_MAX: usize = 1 << 20;
/// Bytes of proposals appended but not yet committed (ruft's limit).
const UNCOMMITTED_BYTES_MAX: usize = 64 << 20;
/// Entries kept behind a snapshot, for followers a little behind.
const SNAPSHOT_KEEP: u64 = 64;

/// How to run one node.
#[derive(Clone, Debug)]
pub struct ServerConfig {
    /// This node: `cluster[id - 1]` is its address.
    pub id: NodeId,
    /// Every node's address, node `i + 1` at `cluster[i]`.
    pub cluster: Vec<SocketAddr>,
    /// Where its redb file lives.
    pub data: PathBuf,
    /// Whether each Ready's transaction is flushed to disk.
    pub fsync: bool,
    /// One ruft tick. Elections time out after 10 to 20 ticks; leaders
    /// send heartbeats every 2.
    pub tick: Duration,
    /// Applied entries between two snapshots of the store.
    pub snapshot_every: u64,
}

/// Why a node stopped.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// Its configuration is wrong.
    #[error("configuration: {0}")]
    Config(String),
    /// Its storage failed: it stops rather than acknowledge what it did not write.
    #[error("storage: {0}")]
    Storage(#[from] StorageError),
    /// ruft refused to start it.
    #[error("ruft: {0}")]
    Raft(#[from] Error),
    /// The network (binding its port).
    #[error("network: {0}")]
    Io(#[from] std::io::Error),
    /// The state machine refused the snapshot on disk.
    #[error("state machine: {0}")]
    Kv(#[from] ruft_kv::KvError),
}

/// What the node task receives.
enum Input {
    Raft(Message),
    /// A snapshot for this peer was not delivered: the leader must hear it
    /// (`Node::report_snapshot`) or it waits for that peer for good.
    SnapshotLost(NodeId),
    Client {
        request: ClientRequest,
        reply: oneshot::Sender<ClientResponse>,
    },
}

/// Until when this node drops all Raft traffic (fault injection), in
/// milliseconds since it started; shared with the network tasks.
#[derive(Debug)]
struct Isolation {
    start: Instant,
    until_ms: AtomicU64,
}

impl Isolation {
    fn now_ms(&self) -> u64 {
        self.start.elapsed().as_millis() as u64
    }

    fn isolate(&self, millis: u64) {
        self.until_ms
            .store(self.now_ms() + millis, Ordering::Relaxed);
    }

    fn active(&self) -> bool {
        self.now_ms() < self.until_ms.load(Ordering::Relaxed)
    }
}

/// The ruft configuration of a ruft-kv node: pre-vote and check-quorum on,
/// so a node cut off and back does not depose a working leader.
pub fn raft_config(id: NodeId, nodes: usize, applied: ruft::Index) -> Config {
    let voters = (1..=nodes as u64).map(NodeId);
    let mut config = Config::new(id, voters);
    config.election_tick = Tick(10);
    config.heartbeat_tick = Tick(2);
    config.pre_vote = true;
    config.check_quorum = true;
    config.applied = applied;
    config.seed = id.0;
    config.uncommitted_bytes_max = Some(UNCOMMITTED_BYTES_MAX);
    config
}

/// Runs node `config.id` until the process is killed.
pub async fn serve(config: ServerConfig) -> Result<(), ServeError> {
    let n = config.cluster.len();
    if config.id.0 == 0 || config.id.0 as usize > n {
        return Err(ServeError::Config(format!(
            "node {} is not in a cluster of {n}",
            config.id
        )));
    }
    std::fs::create_dir_all(&config.data)?;
    let storage = RedbStorage::open(&config.data.join("raft.redb"), config.fsync)?;
    let kv = match storage.stored_snapshot().is_empty() {
        true => Kv::default(),
        false => Kv::restore(&storage.stored_snapshot().data)?,
    };
    let node = Node::new(raft_config(config.id, n, kv.applied()), storage).await?;
    let listener = TcpListener::bind(config.cluster[config.id.0 as usize - 1]).await?;
    tracing::info!(node = %config.id, addr = %listener.local_addr()?, applied = %kv.applied(), "serving");
    let isolation = Arc::new(Isolation {
        start: Instant::now(),
        until_ms: AtomicU64::new(0),
    });
    let (inputs, rx) = mpsc::channel(INPUTS_MAX);
    tokio::spawn(accept(listener, inputs.clone(), isolation.clone()));
    let mut peers = BTreeMap::new();
    for (i, addr) in config.cluster.iter().enumerate() {
        let peer = NodeId(i as u64 + 1);
        if peer != config.id {
            let (tx, rx) = mpsc::channel(PEER_QUEUE_MAX);
            let link = PeerLink {
                me: config.id,
                peer,
                addr: *addr,
                inputs: inputs.clone(),
                isolation: isolation.clone(),
            };
            tokio::spawn(send_to_peer(link, rx));
            peers.insert(peer, tx);
        }
    }
    let mut server = Server {
        node,
        kv,
        peers,
        isolation,
        writes: BTreeMap::new(),
        reads: BTreeMap::new(),
        read_seq: 0,
        snapshot_every: config.snapshot_every.max(1),
    };
    server.run(rx, config.tick).await
}

/// A client request waiting for the log or a ReadState.
struct Waiting<T> {
    since: Instant,
    reply: oneshot::Sender<ClientResponse>,
    what: T,
}

/// A read waiting for its ReadState, then for the store to apply its index.
struct PendingRead {
    key: String,
    index: Option<ruft::Index>,
}

struct Server {
    node: Node<RedbStorage>,
    kv: Kv,
    peers: BTreeMap<NodeId, mpsc::Sender<Message>>,
    isolation: Arc<Isolation>,
    writes: BTreeMap<(ClientId, RequestId), Waiting<()>>,
    reads: BTreeMap<u64, Waiting<PendingRead>>,
    read_seq: u64,
    snapshot_every: u64,
}

impl Server {
    async fn run(
        &mut self,
        mut rx: mpsc::Receiver<Input>,
        tick: Duration,
    ) -> Result<(), ServeError> {
        let mut ticker = tokio::time::interval(tick);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = ticker.tick() => {
                    if let Err(e) = self.node.tick().await {
                        tracing::warn!(error = %e, "tick");
                    }
                    self.expire();
                }
                input = rx.recv() => {
                    let Some(input) = input else { return Ok(()) };
                    self.handle(input).await;
                    for _ in 1..BATCH_MAX {
                        let Ok(input) = rx.try_recv() else { break };
                        self.handle(input).await;
                    }
                }
            }
            self.carry_out_readies().await?;
        }
    }

    async fn handle(&mut self, input: Input) {
        match input {
            Input::Raft(msg) => {
                if let Err(e) = self.node.step(msg).await {
                    tracing::debug!(error = %e, "message refused");
                }
            }
            Input::Client { request, reply } => self.on_client(request, reply).await,
            Input::SnapshotLost(peer) => {
                let report = self
                    .node
                    .report_snapshot(peer, SnapshotStatus::Failed)
                    .await;
                tracing::info!(%peer, ?report, "snapshot not delivered");
            }
        }
    }

    async fn on_client(&mut self, request: ClientRequest, reply: oneshot::Sender<ClientResponse>) {
        let answer = match request {
            ClientRequest::Write(req) => {
                if let Some(too_long) = oversized(&req.op) {
                    ClientResponse::Refused(too_long)
                } else if self.writes.len() >= PENDING_MAX {
                    ClientResponse::Unavailable("too many writes waiting".into())
                } else {
                    match self.node.propose(req.encode()).await {
                        Ok(_) => {
                            let waiting = Waiting {
                                since: Instant::now(),
                                reply,
                                what: (),
                            };
                            self.writes.insert((req.client, req.id), waiting);
                            return;
                        }
                        Err(e) => refused(e),
                    }
                }
            }
            ClientRequest::Read { key } => {
                if key.len() > KEY_BYTES_MAX {
                    ClientResponse::Refused(format!("a key over {KEY_BYTES_MAX} bytes"))
                } else if self.reads.len() >= PENDING_MAX {
                    ClientResponse::Unavailable("too many reads waiting".into())
                } else {
                    self.read_seq += 1;
                    let seq = self.read_seq;
                    let ctx = Bytes::copy_from_slice(&seq.to_be_bytes());
                    match self.node.read_index(ctx).await {
                        Ok(StepOutcome::Handled) => {
                            let what = PendingRead { key, index: None };
                            let waiting = Waiting {
                                since: Instant::now(),
                                reply,
                                what,
                            };
                            self.reads.insert(seq, waiting);
                            return;
                        }
                        Ok(other) => {
                            ClientResponse::Unavailable(format!("read not taken: {other:?}"))
                        }
                        Err(e) => refused(e),
                    }
                }
            }
            ClientRequest::Isolate { millis } => {
                self.isolation.isolate(millis);
                tracing::warn!(node = %self.node.config().id, millis, "isolated from its peers");
                ClientResponse::Isolated
            }
            ClientRequest::Status => {
                let s = self.node.status();
                ClientResponse::Status {
                    id: s.id,
                    leader: s.role == Role::Leader,
                    term: s.term.0,
                    applied: s.applied.0,
                }
            }
        };
        let _ = reply.send(answer);
    }

    /// The application loop's inner part: every Ready, carried out in order.
    async fn carry_out_readies(&mut self) -> Result<(), ServeError> {
        while self.node.has_ready() {
            let rd = self.node.ready().await?;
            // 1. persist: one transaction. A failed write stops the node:
            //    carrying on would send acks for entries it does not hold.
            self.node.storage_mut().persist(&rd)?;
            // 2. send (dropped while isolated, or if the peer's queue is full).
            let mut lost = Vec::new();
            for msg in &rd.messages {
                let sent = !self.isolation.active()
                    && self
                        .peers
                        .get(&msg.dst)
                        .is_some_and(|p| p.try_send(msg.clone()).is_ok());
                if !sent && is_snapshot(msg) {
                    lost.push(msg.dst);
                }
            }
            // 3. apply.
            if let Some(snapshot) = &rd.snapshot {
                self.kv = Kv::restore(&snapshot.data)?;
            }
            if let Some(error) = &rd.committed_error {
                tracing::warn!(%error, "committed entries unreadable: applying later");
            }
            for entry in &rd.committed_entries {
                self.apply(entry);
            }
            // 4. reads: note their index, serve them once applied.
            for ReadState { index, ctx } in &rd.read_states {
                let seq = ctx.as_ref().try_into().map(u64::from_be_bytes).unwrap_or(0);
                if let Some(w) = self.reads.get_mut(&seq) {
                    w.what.index = Some(*index);
                }
            }
            // 5. advance.
            self.node.advance(rd);
            for peer in lost {
                let _ = self
                    .node
                    .report_snapshot(peer, SnapshotStatus::Failed)
                    .await;
            }
            self.serve_reads();
            self.maybe_snapshot()?;
        }
        Ok(())
    }

    fn apply(&mut self, entry: &ruft::Entry) {
        let result = match &entry.variant {
            EntryVariant::Normal(payload) => self.kv.apply(entry.index(), payload).map(Some),
            EntryVariant::Empty | EntryVariant::ConfChange(_) => {
                self.kv.apply_empty(entry.index()).map(|()| None)
            }
        };
        match result {
            Ok(Some(applied)) => {
                if let Some(w) = self.writes.remove(&(applied.client, applied.id)) {
                    let _ = w.reply.send(ClientResponse::Written(applied.outcome));
                }
            }
            Ok(None) => {}
            Err(e) => tracing::warn!(index = %entry.index(), error = %e, "entry not applied"),
        }
    }

    /// Answers every read whose ReadState index the store has applied.
    fn serve_reads(&mut self) {
        let applied = self.kv.applied();
        let ready: Vec<u64> = self
            .reads
            .iter()
            .filter(|(_, w)| w.what.index.is_some_and(|i| i <= applied))
            .map(|(seq, _)| *seq)
            .collect();
        for seq in ready {
            if let Some(w) = self.reads.remove(&seq) {
                let value = self.kv.get(&w.what.key).map(str::to_string);
                let _ = w.reply.send(ClientResponse::Value(value));
            }
        }
    }

    /// Every `snapshot_every` applied entries: snapshot the store, then
    /// drop the log up to `SNAPSHOT_KEEP` entries behind it.
    fn maybe_snapshot(&mut self) -> Result<(), ServeError> {
        let applied = self.kv.applied();
        let storage = self.node.storage();
        if applied.0 < storage.stored_snapshot().index().0 + self.snapshot_every {
            return Ok(());
        }
        let membership = self.node.membership().clone();
        let data = self.kv.snapshot();
        let storage = self.node.storage_mut();
        storage.create_snapshot(applied, &membership, data)?;
        let keep_from = applied.0.saturating_sub(SNAPSHOT_KEEP);
        if keep_from > storage.compacted().index.0 {
            storage.compact(ruft::Index(keep_from))?;
        }
        tracing::debug!(%applied, "snapshot taken");
        Ok(())
    }

    /// Gives up on client requests waiting too long (the client retried);
    /// dropping the reply tells the connection so.
    fn expire(&mut self) {
        let old = |since: &Instant| since.elapsed() > PENDING_TTL;
        self.writes.retain(|_, w| !old(&w.since));
        self.reads.retain(|_, w| !old(&w.since));
    }
}

/// Why a write is refused for its size, if it is.
fn oversized(op: &ruft_kv::Op) -> Option<String> {
    use ruft_kv::Op;
    let (key, values): (&str, Vec<&str>) = match op {
        Op::Put { key, value } => (key, vec![value]),
        Op::Delete { key } => (key, vec![]),
        Op::Cas { key, expected, new } => (
            key,
            expected
                .iter()
                .map(String::as_str)
                .chain([new.as_str()])
                .collect(),
        ),
    };
    if key.len() > KEY_BYTES_MAX {
        return Some(format!("a key over {KEY_BYTES_MAX} bytes"));
    }
    values
        .iter()
        .any(|v| v.len() > VALUE_BYTES_MAX)
        .then(|| format!("a value over {VALUE_BYTES_MAX} bytes"))
}

/// The answer to a request ruft refused.
fn refused(error: Error) -> ClientResponse {
    match error {
        Error::NotLeader { leader } => ClientResponse::NotLeader { leader },
        Error::TransferInProgress { .. } => ClientResponse::NotLeader { leader: None },
        other => ClientResponse::Unavailable(other.to_string()),
    }
}

/// Accepts connections; each gets a task reading its frames.
async fn accept(listener: TcpListener, inputs: mpsc::Sender<Input>, isolation: Arc<Isolation>) {
    loop {
        match listener.accept().await {
            Ok((stream, _)) => {
                let _ = stream.set_nodelay(true);
                tokio::spawn(connection(stream, inputs.clone(), isolation.clone()));
            }
            Err(e) => {
                tracing::warn!(error = %e, "accept");
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        }
    }
}

/// Reads one connection: a peer's Raft messages (after its `Hello`), or a
/// client's requests, answered one at a time in order.
async fn connection(stream: TcpStream, inputs: mpsc::Sender<Input>, isolation: Arc<Isolation>) {
    let (mut reader, writer) = stream.into_split();
    let mut writer = BufWriter::new(writer);
    loop {
        let frame = match read_frame(&mut reader).await {
            Ok(frame) => frame,
            Err(e) => {
                tracing::debug!(error = %e, "connection closed");
                return;
            }
        };
        match frame {
            // While isolated, peers' connections are refused: closed at
            // their first frame (they reconnect, and are closed again).
            Frame::Hello { .. } | Frame::Raft(_) if isolation.active() => return,
            Frame::Hello { .. } => {}
            Frame::Raft(msg) => {
                if inputs.send(Input::Raft(msg)).await.is_err() {
                    return;
                }
            }
            Frame::Request { tag, request } => {
                let (reply, answer) = oneshot::channel();
                if inputs.send(Input::Client { request, reply }).await.is_err() {
                    return;
                }
                let response = answer
                    .await
                    .unwrap_or_else(|_| ClientResponse::Unavailable("gave up waiting".into()));
                let frame = Frame::Response { tag, response };
                if write_frame(&mut writer, &frame).await.is_err() || writer.flush().await.is_err()
                {
                    return;
                }
            }
            Frame::Response { .. } => return, // not something a server is sent
        }
    }
}

/// What a peer's sender task needs.
struct PeerLink {
    me: NodeId,
    peer: NodeId,
    addr: SocketAddr,
    /// To report a snapshot that was not delivered.
    inputs: mpsc::Sender<Input>,
    isolation: Arc<Isolation>,
}

impl PeerLink {
    /// A message was dropped; if it carried a snapshot, the node is told.
    async fn dropped(&self, snapshot: bool) {
        if snapshot {
            let _ = self.inputs.send(Input::SnapshotLost(self.peer)).await;
        }
    }
}

fn is_snapshot(msg: &Message) -> bool {
    matches!(msg.variant, MessageVariant::InstallSnapshot { .. })
}

/// Keeps a connection to one peer and writes the messages queued for it,
/// reconnecting when it fails; what cannot be sent is dropped.
async fn send_to_peer(link: PeerLink, mut queue: mpsc::Receiver<Message>) {
    loop {
        let connected = match link.isolation.active() {
            true => Err(()), // isolated: no connection to anyone
            false => TcpStream::connect(link.addr).await.map_err(|_| ()),
        };
        let stream = match connected {
            Ok(stream) => stream,
            Err(()) => {
                tokio::time::sleep(Duration::from_millis(50)).await;
                while let Ok(msg) = queue.try_recv() {
                    link.dropped(is_snapshot(&msg)).await; // the peer is down
                }
                continue;
            }
        };
        let _ = stream.set_nodelay(true);
        let mut writer = BufWriter::new(stream);
        let hello = Frame::Hello { from: link.me };
        if write_frame(&mut writer, &hello).await.is_err() {
            continue;
        }
        loop {
            // The node task is gone (the process is ending): stop.
            let Some(first) = queue.recv().await else {
                return;
            };
            if !write_batch(&mut writer, first, &mut queue, &link).await {
                break; // the connection failed: reconnect
            }
        }
    }
}

/// Writes `first` and whatever else is queued, then flushes; false when
/// the connection failed.
async fn write_batch(
    writer: &mut BufWriter<TcpStream>,
    first: Message,
    queue: &mut mpsc::Receiver<Message>,
    link: &PeerLink,
) -> bool {
    let mut next = Some(first);
    let mut snapshots_written = false;
    while let Some(msg) = next {
        let snapshot = is_snapshot(&msg);
        // Isolated: drop and close the connection. A failed write: drop
        // and reconnect.
        if link.isolation.active() || write_frame(writer, &Frame::Raft(msg)).await.is_err() {
            link.dropped(snapshot || snapshots_written).await;
            return false;
        }
        snapshots_written |= snapshot;
        next = queue.try_recv().ok();
    }
    let flushed = writer.flush().await.is_ok();
    if !flushed {
        link.dropped(snapshots_written).await;
    }
    flushed
}
