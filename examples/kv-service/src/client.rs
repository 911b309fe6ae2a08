//! [`Client`]: a ruft-kv client that finds the leader and retries.
//!
//! A write is one [`Request`] with the client's next request id; every
//! attempt (after a timeout, a refused connection, a `NotLeader`) sends the
//! same request, so the store applies it once (its session remembers the
//! client's last request). A read is retried freely: it changes nothing. An
//! operation that has not succeeded within [`Client::op_timeout`] fails with
//! [`ClientError::Timeout`]: a write may then have been applied or not.

use crate::wire::{read_frame, write_frame, ClientRequest, ClientResponse, Frame, WireError};
use ruft::NodeId;
use ruft_kv::{ClientId, Op, Outcome, Request, RequestId};
use std::net::SocketAddr;
use std::time::{Duration, Instant};
use tokio::io::{AsyncWriteExt, BufReader, BufWriter};
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::TcpStream;

/// Why an operation failed.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// No node answered in time: a write may or may not have been applied.
    #[error("no answer within {0:?}")]
    Timeout(Duration),
    /// A server refused the request for good.
    #[error("refused: {0}")]
    Refused(String),
}

type Connection = (BufReader<OwnedReadHalf>, BufWriter<OwnedWriteHalf>);

/// A client of a ruft-kv cluster.
pub struct Client {
    cluster: Vec<SocketAddr>,
    id: ClientId,
    next: u64,
    tag: u64,
    /// The node tried first (an index into `cluster`).
    leader: usize,
    connections: Vec<Option<Connection>>,
    /// How long one attempt at one node may take.
    pub attempt_timeout: Duration,
    /// How long an operation may take, retries included.
    pub op_timeout: Duration,
}

impl Client {
    /// A client of the cluster at `cluster` (node `i + 1` at `cluster[i]`)
    /// named `id`: ids must be unique among the store's clients, and a
    /// client's requests are numbered from 1 (the store applies each once).
    pub fn new(cluster: Vec<SocketAddr>, id: ClientId) -> Client {
        let n = cluster.len();
        Client {
            cluster,
            id,
            next: 1,
            tag: 0,
            leader: (id.0 as usize) % n.max(1),
            connections: (0..n).map(|_| None).collect(),
            attempt_timeout: Duration::from_millis(500),
            op_timeout: Duration::from_secs(10),
        }
    }

    /// This client's id.
    pub fn id(&self) -> ClientId {
        self.id
    }

    /// Sets `key` to `value`.
    pub async fn put(&mut self, key: &str, value: &str) -> Result<Outcome, ClientError> {
        self.write(Op::put(key, value)).await
    }

    /// Removes `key`.
    pub async fn delete(&mut self, key: &str) -> Result<Outcome, ClientError> {
        self.write(Op::Delete {
            key: key.to_string(),
        })
        .await
    }

    /// Applies `op` once, retrying it (same request id) until a node that
    /// leads answers.
    pub async fn write(&mut self, op: Op) -> Result<Outcome, ClientError> {
        let request = Request::new(self.id, RequestId(self.next), op);
        self.next += 1;
        match self.call_leader(ClientRequest::Write(request)).await? {
            ClientResponse::Written(outcome) => Ok(outcome),
            other => Err(ClientError::Refused(format!("{other:?}"))),
        }
    }

    /// Reads `key` linearizably (ReadIndex on the leader).
    pub async fn get(&mut self, key: &str) -> Result<Option<String>, ClientError> {
        let request = ClientRequest::Read {
            key: key.to_string(),
        };
        match self.call_leader(request).await? {
            ClientResponse::Value(value) => Ok(value),
            other => Err(ClientError::Refused(format!("{other:?}"))),
        }
    }

    /// Asks node `node` for one request, once (no retry elsewhere).
    pub async fn ask(
        &mut self,
        node: NodeId,
        request: ClientRequest,
    ) -> Result<ClientResponse, ClientError> {
        let i = (node.0 as usize).wrapping_sub(1);
        if i >= self.cluster.len() {
            return Err(ClientError::Refused(format!("no node {node}")));
        }
        self.attempt(i, &request)
            .await
            .map_err(|e| ClientError::Refused(e.to_string()))
    }

    /// Sends `request` to the node believed to lead, following `NotLeader`
    /// hints and moving on after failures, until an answer that is not a
    /// refusal or `op_timeout`.
    async fn call_leader(&mut self, request: ClientRequest) -> Result<ClientResponse, ClientError> {
        let start = Instant::now();
        while start.elapsed() < self.op_timeout {
            let answer = self.attempt(self.leader, &request).await;
            match answer {
                Ok(ClientResponse::NotLeader { leader: Some(l) })
                    if (l.0 as usize).wrapping_sub(1) < self.cluster.len()
                        && l.0 as usize - 1 != self.leader =>
                {
                    self.leader = l.0 as usize - 1;
                    continue;
                }
                Ok(ClientResponse::NotLeader { .. } | ClientResponse::Unavailable(_)) | Err(_) => {
                    self.leader = (self.leader + 1) % self.cluster.len();
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
                Ok(ClientResponse::Refused(why)) => return Err(ClientError::Refused(why)),
                Ok(answer) => return Ok(answer),
            }
        }
        Err(ClientError::Timeout(self.op_timeout))
    }

    /// One request to node `i` and its answer, within `attempt_timeout`. A
    /// failed connection is dropped (and opened again next time).
    async fn attempt(
        &mut self,
        i: usize,
        request: &ClientRequest,
    ) -> Result<ClientResponse, WireError> {
        self.tag += 1;
        let tag = self.tag;
        let frame = Frame::Request {
            tag,
            request: request.clone(),
        };
        let addr = self.cluster[i];
        let timeout = self.attempt_timeout;
        let slot = &mut self.connections[i];
        let result = tokio::time::timeout(timeout, async {
            if slot.is_none() {
                let stream = TcpStream::connect(addr).await?;
                stream.set_nodelay(true)?;
                let (r, w) = stream.into_split();
                *slot = Some((BufReader::new(r), BufWriter::new(w)));
            }
            let (reader, writer) = slot.as_mut().expect("connected above");
            write_frame(writer, &frame).await?;
            writer.flush().await?;
            loop {
                match read_frame(reader).await? {
                    Frame::Response { tag: t, response } if t == tag => return Ok(response),
                    _ => continue, // the answer to an attempt that timed out
                }
            }
        })
        .await;
        match result {
            Ok(Ok(response)) => Ok(response),
            Ok(Err(e)) => {
                self.connections[i] = None;
                Err(e)
            }
            Err(_) => {
                // The connection may still deliver the late answer: keep it
                // only if nothing is half-read. Simplest and safe: reopen.
                self.connections[i] = None;
                Err(WireError::Io(std::io::Error::new(
                    std::io::ErrorKind::TimedOut,
                    "attempt timed out",
                )))
            }
        }
    }
}
