//! The primary: executes client commands one at a time, appends every write to its binlog, streams
//! the binlog to each replica that completed the TrySync handshake, and answers `INFO replication`.
//!
//! Per replica connection, two tasks:
//!
//! ```text
//!   sender:      wait for new entries and window room ─► Entries(batch) ─► replica
//!   ack reader:  replica ─► Ack{received, applied} ─► link state, wakes the sender
//! ```
//!
//! The binlog and the store are durable (they survive a restart of the node); replica links are
//! not.

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex, MutexGuard};

use replsim_model::binlog::{Binlog, BinlogEntry, Offset};
use replsim_model::command::{Command, Db, Response};
use replsim_model::store::Store;
use tokio::sync::Notify;

use crate::config::ClusterConfig;
use crate::info::{LinkState, PrimaryInfo, ReplicaLine};
use crate::probe::{Event, Probe};
use crate::sut_assert;
use crate::wire::{Connection, Listener, PrimaryMessage, ReplicaMessage, Reply, Request, Sender, Receiver};
use crate::wire::{CLIENT_PORT, REPLICATION_PORT};

#[derive(Clone)]
pub struct Primary {
    name: String,
    config: Arc<ClusterConfig>,
    probe: Probe,
    state: Arc<Mutex<PrimaryState>>,
}

#[derive(Default)]
struct PrimaryState {
    store: Store,
    binlog: Binlog,
    links: BTreeMap<String, Link>,
    connections_opened: u64,
}

/// What the primary knows of one replica.
struct Link {
    ip: IpAddr,
    state: LinkState,
    /// Identifies the connection this state belongs to; messages of older connections are stale.
    connection: u64,
    sent: Offset,
    received: Offset,
    applied: Offset,
    /// Wakes the sender: new entries, or window room after an ack.
    wake: Arc<Notify>,
}

impl Primary {
    pub fn new(name: &str, config: Arc<ClusterConfig>, probe: Probe) -> Primary {
        Primary { name: name.to_string(), config, probe, state: Arc::default() }
    }

    fn lock(&self) -> MutexGuard<'_, PrimaryState> {
        self.state.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// The node's main task: serve clients and replicas until the node is killed.
    pub async fn serve(self) {
        // Links do not survive a restart; the binlog and store do.
        self.lock().links.clear();
        let clients = Listener::bind(CLIENT_PORT).await.expect("bind client port");
        let replication = Listener::bind(REPLICATION_PORT).await.expect("bind replication port");
        let acceptor = self.clone();
        madsim::task::spawn(async move {
            while let Ok(connection) = replication.accept().await {
                madsim::task::spawn(acceptor.clone().serve_replica(connection));
            }
        });
        while let Ok(connection) = clients.accept().await {
            madsim::task::spawn(self.clone().serve_client(connection));
        }
    }

    async fn serve_client(self, mut connection: Connection<Reply, Request>) {
        while let Ok(request) = connection.receiver.recv().await {
            let reply = self.handle(request);
            if connection.sender.send(reply).await.is_err() {
                return;
            }
        }
    }

    fn handle(&self, request: Request) -> Reply {
        match request {
            Request::Execute(command) => Reply::Response(self.execute(&command)),
            Request::InfoReplication => Reply::Info(self.info().render()),
            Request::Snapshot => {
                let state = self.lock();
                Reply::Snapshot { offset: state.binlog.last_offset(), store: state.store.clone() }
            }
        }
    }

    /// Runs one command atomically: no other command sees a state between its store update and its
    /// binlog entries.
    fn execute(&self, command: &Command) -> Response {
        let mut appended = Vec::new();
        let response = {
            let mut state = self.lock();
            let response = state.store.execute(command);
            if command.is_write() {
                for logged in binlog_commands(command, self.config.databases) {
                    let offset = state.binlog.append(logged.clone());
                    appended.push(BinlogEntry { offset, command: logged });
                }
                for link in state.links.values() {
                    link.wake.notify_one();
                }
            }
            response
        };
        for entry in &appended {
            self.probe.binlog_appended(&self.name, entry);
        }
        response
    }

    fn info(&self) -> PrimaryInfo {
        let state = self.lock();
        PrimaryInfo {
            master_repl_offset: state.binlog.last_offset(),
            replicas: state
                .links
                .values()
                .map(|link| ReplicaLine {
                    ip: link.ip.to_string(),
                    port: CLIENT_PORT,
                    state: link.state,
                    offset: link.received,
                    applied_offset: link.applied,
                })
                .collect(),
        }
    }

    async fn serve_replica(self, link: Connection<PrimaryMessage, ReplicaMessage>) {
        let Connection { sender, mut receiver, peer } = link;
        let Ok(ReplicaMessage::TrySync { replica, offset }) = receiver.recv().await else { return };
        let (connection, wake, start) = self.accept_sync(&replica, offset, peer.ip());
        let full_sync = matches!(start, PrimaryMessage::FullSync { .. });
        let after = match &start {
            PrimaryMessage::FullSync { offset, .. } | PrimaryMessage::Continue { after: offset } => *offset,
            PrimaryMessage::Entries(_) => unreachable!("accept_sync answers Continue or FullSync"),
        };
        self.probe.event(&self.name, Event::SyncAccepted { replica: replica.clone(), after, full_sync });
        if sender.send(start).await.is_err() {
            self.link_down(&replica, connection, "handshake reply not delivered");
            return;
        }
        let ack_reader = madsim::task::spawn(self.clone().read_acks(receiver, replica.clone(), connection));
        self.send_binlog(&sender, &replica, connection, &wake).await;
        // Dropping the reader half too closes the connection, so the replica notices and resyncs.
        ack_reader.abort();
    }

    /// TrySync: continue after `offset` when the binlog still holds it, else a full sync.
    fn accept_sync(&self, replica: &str, offset: Offset, ip: IpAddr) -> (u64, Arc<Notify>, PrimaryMessage) {
        let mut state = self.lock();
        state.connections_opened += 1;
        let connection = state.connections_opened;
        let (after, start) = if state.binlog.can_resume_after(offset) {
            (offset, PrimaryMessage::Continue { after: offset })
        } else {
            let snapshot_offset = state.binlog.last_offset();
            (snapshot_offset, PrimaryMessage::FullSync { offset: snapshot_offset, store: state.store.clone() })
        };
        let wake = Arc::new(Notify::new());
        let link = Link {
            ip,
            state: LinkState::Online,
            connection,
            sent: after,
            received: after,
            applied: Offset::ZERO,
            wake: wake.clone(),
        };
        state.links.insert(replica.to_string(), link);
        (connection, wake, start)
    }

    async fn send_binlog(&self, sender: &Sender<PrimaryMessage>, replica: &str, connection: u64, wake: &Notify) {
        loop {
            let batch = {
                let state = self.lock();
                let Some(link) = state.links.get(replica).filter(|link| link.connection == connection) else {
                    return;
                };
                if link.state == LinkState::Offline {
                    return;
                }
                let unacknowledged = link.sent.0 - link.received.0;
                let room = self.config.replication.window_entries_max.saturating_sub(unacknowledged) as usize;
                state.binlog.entries_after(link.sent, room.min(self.config.replication.batch_entries_max))
            };
            let (Some(first), Some(last)) = (batch.first(), batch.last()) else {
                wake.notified().await;
                continue;
            };
            let (first, last) = (first.offset, last.offset);
            if sender.send(PrimaryMessage::Entries(batch)).await.is_err() {
                self.link_down(replica, connection, "binlog batch not delivered");
                return;
            }
            if let Some(link) = self.lock().links.get_mut(replica).filter(|link| link.connection == connection) {
                sut_assert!(first == link.sent.next(), "primary sent {first}..={last} after {}", link.sent);
                link.sent = last;
            }
            self.probe.event(&self.name, Event::BatchSent { replica: replica.to_string(), first, last });
        }
    }

    async fn read_acks(self, mut receiver: Receiver<ReplicaMessage>, replica: String, connection: u64) {
        loop {
            match receiver.recv().await {
                Ok(ReplicaMessage::Ack { received, applied }) => {
                    let mut state = self.lock();
                    let Some(link) = state.links.get_mut(&replica).filter(|link| link.connection == connection)
                    else {
                        return;
                    };
                    sut_assert!(
                        received >= link.received && applied >= link.applied && received <= link.sent,
                        "{replica} acked received={received} applied={applied} after received={} applied={} with sent={}",
                        link.received,
                        link.applied,
                        link.sent
                    );
                    link.received = received;
                    link.applied = applied;
                    link.wake.notify_one();
                    drop(state);
                    self.probe.event(&self.name, Event::AckReceived { replica: replica.clone(), received, applied });
                }
                Ok(ReplicaMessage::TrySync { .. }) => {
                    self.link_down(&replica, connection, "TrySync on an established link");
                    return;
                }
                Err(error) => {
                    self.link_down(&replica, connection, &error.to_string());
                    return;
                }
            }
        }
    }

    fn link_down(&self, replica: &str, connection: u64, reason: &str) {
        {
            let mut state = self.lock();
            let Some(link) = state.links.get_mut(replica).filter(|link| link.connection == connection) else {
                return;
            };
            if link.state == LinkState::Offline {
                return;
            }
            link.state = LinkState::Offline;
            link.wake.notify_one();
        }
        self.probe.event(&self.name, Event::LinkDown { peer: replica.to_string(), reason: reason.to_string() });
    }
}

/// How a write is logged. Multi-key DEL becomes one entry per key, so each entry has one dispatch
/// key (Pika #1638, fixed by PR #1658); FLUSHALL becomes one FLUSHDB per database, so each is
/// covered by that database's barrier (Pika PR #2846).
pub fn binlog_commands(command: &Command, databases: u8) -> Vec<Command> {
    match command {
        Command::Del { db, keys } if keys.len() > 1 => {
            keys.iter().map(|key| Command::del(*db, [key.clone()])).collect()
        }
        Command::FlushAll { .. } => (0..databases).map(|db| Command::FlushDb { db: Db(db) }).collect(),
        _ => vec![command.clone()],
    }
}
