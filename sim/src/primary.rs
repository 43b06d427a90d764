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
//! not. With bounded retention the binlog keeps at most `binlog_retention_entries` entries beyond
//! the point every online replica has acknowledged; a replica that TrySyncs from a purged offset
//! gets a full sync.

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex, MutexGuard};

use replsim_model::binlog::{Binlog, BinlogEntry, Offset};
use replsim_model::check::SimTime;
use replsim_model::command::{Command, Db, Response};
use replsim_model::store::Store;
use tokio::sync::Notify;

use crate::behaviour::Behaviour;
use crate::bug::Bug;
use crate::config::ClusterConfig;
use crate::info::{LinkState, PikaPrimaryInfo, PikaReplicaLine, PrimaryInfo, ReplicaLine};
use crate::marks::Mark;
use crate::probe::{Event, InfoOffsets, Probe};
use crate::stall;
use crate::sut_assert;
use crate::time;
use crate::wire::{Connection, Listener, PrimaryMessage, Receiver, ReplicaMessage, Reply, Request, Sender};
use crate::wire::{CLIENT_PORT, REPLICATION_PORT};

/// Longest pause between a FLUSHDB's execution and its binlog append under
/// `flush-logged-after-unlock`.
const FLUSH_APPEND_GAP_MAX: std::time::Duration = std::time::Duration::from_millis(1);
/// At most 2^6 = 64 × `retransmit_after` between re-sends without progress.
const RETRANSMIT_BACKOFF_DOUBLINGS_MAX: u32 = 6;

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
    /// Planted bug `primary-stale-read` only: the store as of the last cache refresh, and the
    /// writes since.
    read_cache: Option<(Store, u64)>,
}

/// `primary-stale-read`: the read cache is refreshed every this many writes.
const STALE_READ_CACHE_WRITES: u64 = 8;

/// What the primary knows of one replica.
struct Link {
    ip: IpAddr,
    state: LinkState,
    /// Identifies the connection this state belongs to; messages of older connections are stale.
    connection: u64,
    /// Where the sender continues: the last offset sent (moves back on a retransmit).
    sent: Offset,
    /// The highest offset ever sent on this connection: acks never exceed it.
    sent_high: Offset,
    received: Offset,
    applied: Offset,
    /// When `received` last advanced (or the link started): the retransmit timer's origin.
    progress_at: SimTime,
    /// Re-sends since `received` last advanced: each doubles the wait before the next (up to
    /// [`RETRANSMIT_BACKOFF_DOUBLINGS_MAX`] times), so a stalled replica is not buried under
    /// copies of the same batches it must read through once it wakes.
    retransmits_without_progress: u32,
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
        let restarted = {
            let mut state = self.lock();
            state.links.clear();
            state.binlog.last_offset() > Offset::ZERO
        };
        if restarted {
            self.probe.mark(Mark::PrimaryRestarted);
        }
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
            let client_command = matches!(request, Request::Execute { .. });
            let reply = self.handle(request).await;
            // A stall holds the reply of a command that has already taken effect: a client that
            // gives up meanwhile records it as indeterminate. (Stalling before executing would
            // let a command take effect after its client, and the phase, had moved on; the
            // harness's own snapshots and INFO polls are not the system's work and never stall.)
            if client_command {
                if let Some(pause) = stall::draw(&self.config.stalls.primary) {
                    self.probe.mark(Mark::StallPrimary);
                    madsim::time::sleep(pause).await;
                }
            }
            if connection.sender.send(reply).await.is_err() {
                return;
            }
        }
    }

    async fn handle(&self, request: Request) -> Reply {
        match request {
            Request::Execute { command, operation } => Reply::Response(self.execute(&command, operation).await),
            Request::InfoReplication if self.config.behaviours.has(Behaviour::InfoAsPika) => {
                Reply::Info(self.info_as_pika().render())
            }
            Request::InfoReplication => {
                let info = self.info();
                self.report_info(&info);
                Reply::Info(info.render())
            }
            Request::Snapshot => {
                let state = self.lock();
                Reply::Snapshot { offset: state.binlog.last_offset(), store: state.store.clone() }
            }
        }
    }

    /// Runs one command atomically: no other command sees a state between its store update and its
    /// binlog entries — except, under Pika's behaviours, a FLUSHDB/FLUSHALL, which is logged after
    /// its lock is released (`flush-logged-after-unlock`) or not at all inside MULTI/EXEC
    /// (`multi-exec`).
    async fn execute(&self, command: &Command, operation: usize) -> Response {
        let behaviours = &self.config.behaviours;
        let logged = command.is_write() && !(command.is_global() && behaviours.has(Behaviour::MultiExec));
        let logged_after_unlock = command.is_global() && behaviours.has(Behaviour::FlushLoggedAfterUnlock);
        let response = {
            let mut state = self.lock();
            let response = match command {
                Command::Get { db, key } if Bug::PrimaryStaleRead.is(self.config.bug) => {
                    let cached = state.read_cache.as_ref().and_then(|(cache, _)| cache.get(*db, key).cloned());
                    Response::Value(cached)
                }
                _ => state.store.execute(command),
            };
            if command.is_write() && Bug::PrimaryStaleRead.is(self.config.bug) {
                let state = &mut *state;
                let writes = state.read_cache.as_ref().map_or(STALE_READ_CACHE_WRITES, |(_, writes)| writes + 1);
                state.read_cache = if writes >= STALE_READ_CACHE_WRITES {
                    Some((state.store.clone(), 0))
                } else {
                    state.read_cache.take().map(|(cache, _)| (cache, writes))
                };
            }
            // Under the lock, so the probe's order is the order commands took effect.
            self.probe.executed_by_primary(operation);
            if logged && !logged_after_unlock {
                self.log(&mut state, command);
            }
            response
        };
        if logged && logged_after_unlock {
            // Between `Do()` releasing the exclusive lock and the binlog append, another client's
            // write can run and be logged first (a thread preemption, modelled as a short pause).
            madsim::time::sleep(time::random_between(std::time::Duration::ZERO, FLUSH_APPEND_GAP_MAX)).await;
            self.log(&mut self.lock(), command);
        }
        response
    }

    /// Appends `command`'s binlog entries, wakes the replica senders, applies retention.
    fn log(&self, state: &mut PrimaryState, command: &Command) {
        let mut appended = Vec::new();
        for logged in binlog_commands_planted(command, self.config.databases, self.config.bug) {
            let offset = state.binlog.append(logged.clone());
            appended.push(BinlogEntry { offset, command: logged });
        }
        for link in state.links.values() {
            link.wake.notify_one();
        }
        let purged = self.apply_retention(state);
        for entry in &appended {
            self.probe.binlog_appended(&self.name, entry);
        }
        if let Some(through) = purged {
            self.probe.mark(Mark::BinlogPurged);
            self.probe.event(&self.name, Event::BinlogPurged { through });
        }
    }

    /// Bounded retention: purge beyond the bound, but never what an online replica still needs
    /// (Pika keeps binlog files a connected replica has not consumed). Offline replicas are not
    /// waited for: they come back to a full sync.
    fn apply_retention(&self, state: &mut PrimaryState) -> Option<Offset> {
        let retained = self.config.replication.binlog_retention_entries?;
        let last = state.binlog.last_offset();
        let needed = state
            .links
            .values()
            .filter(|link| link.state == LinkState::Online)
            .map(|link| link.received)
            .min()
            .unwrap_or(last);
        let through = Offset(last.0.saturating_sub(retained).min(needed.0));
        if through <= state.binlog.purged_through() {
            return None;
        }
        state.binlog.purge_through(through);
        Some(through)
    }

    /// Drops `replica`'s replication link, as a timed-out TCP connection would be dropped: the
    /// sender stops, the connection closes and the replica reconnects with TrySync.
    pub fn reset_link(&self, replica: &str) {
        let connection = self.lock().links.get(replica).map(|link| link.connection);
        if let Some(connection) = connection {
            self.link_down(replica, connection, "link reset (fault)");
        }
    }

    /// `INFO replication` as Pika shows it: connected replicas with the lag of what was *sent*.
    fn info_as_pika(&self) -> PikaPrimaryInfo {
        let state = self.lock();
        let binlog_offset = state.binlog.last_offset();
        PikaPrimaryInfo {
            binlog_offset,
            replicas: state
                .links
                .values()
                .filter(|link| link.state == LinkState::Online)
                .map(|link| PikaReplicaLine {
                    ip: link.ip.to_string(),
                    port: CLIENT_PORT,
                    lag: binlog_offset.0.saturating_sub(link.sent_high.0),
                })
                .collect(),
        }
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

    /// Puts the offsets an `INFO replication` answer shows into the trace.
    fn report_info(&self, info: &PrimaryInfo) {
        // `info()` listed the links in name order, and nothing ran in between.
        let names: Vec<String> = self.lock().links.keys().cloned().collect();
        let replicas = names
            .into_iter()
            .zip(&info.replicas)
            .map(|(replica, line)| InfoOffsets { replica, offset: line.offset, applied_offset: line.applied_offset })
            .collect();
        self.probe.event(&self.name, Event::InfoReplication { master_repl_offset: info.master_repl_offset, replicas });
    }

    async fn serve_replica(self, link: Connection<PrimaryMessage, ReplicaMessage>) {
        let Connection { sender, mut receiver, peer } = link;
        let Ok(ReplicaMessage::TrySync { replica, offset }) = receiver.recv().await else { return };
        let (connection, wake, start) = self.accept_sync(&replica, offset, peer.ip());
        let full_sync = matches!(start, PrimaryMessage::FullSync { .. });
        match &start {
            PrimaryMessage::FullSync { .. } => self.probe.mark(Mark::FullSync),
            PrimaryMessage::Continue { after } if *after > Offset::ZERO => self.probe.mark(Mark::IncrementalResync),
            _ => {}
        }
        let after = match &start {
            PrimaryMessage::FullSync { offset, .. } | PrimaryMessage::Continue { after: offset } => *offset,
            PrimaryMessage::SyncError { .. } => offset,
            PrimaryMessage::Entries(_) => unreachable!("accept_sync answers Continue, FullSync or SyncError"),
        };
        if let PrimaryMessage::SyncError { reason } = &start {
            self.probe.event(&self.name, Event::LinkDown { peer: replica.clone(), reason: reason.clone() });
            let _ = sender.send(start).await;
            self.link_down(&replica, connection, "TrySync refused");
            return;
        }
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
        let bug = self.config.bug;
        let ahead = offset > state.binlog.last_offset();
        let (after, start) = if ahead && self.config.behaviours.has(Behaviour::TsyncAheadError) {
            let reason = format!("TrySync at {offset} is ahead of the binlog's end {}", state.binlog.last_offset());
            (offset, PrimaryMessage::SyncError { reason })
        } else if state.binlog.can_resume_after(offset) {
            // Planted: the stream resumes one entry late; the replica never gets `offset + 1`.
            let resume = if Bug::TsyncOffByOne.is(bug) { offset.next() } else { offset };
            (resume, PrimaryMessage::Continue { after: offset })
        } else {
            let snapshot_offset = state.binlog.last_offset();
            // Planted: the store reflects `snapshot_offset`, the announcement says one less.
            let announced = match bug {
                Some(Bug::SnapshotOffsetMismatch) if snapshot_offset > state.binlog.purged_through() => {
                    Offset(snapshot_offset.0 - 1)
                }
                _ => snapshot_offset,
            };
            (announced, PrimaryMessage::FullSync { offset: announced, store: state.store.clone() })
        };
        let wake = Arc::new(Notify::new());
        let link = Link {
            ip,
            state: LinkState::Online,
            connection,
            sent: after,
            sent_high: after,
            received: after,
            applied: Offset::ZERO,
            progress_at: time::now(),
            retransmits_without_progress: 0,
            wake: wake.clone(),
        };
        state.links.insert(replica.to_string(), link);
        (connection, wake, start)
    }

    async fn send_binlog(&self, sender: &Sender<PrimaryMessage>, replica: &str, connection: u64, wake: &Notify) {
        let retransmit_after = self.config.replication.retransmit_after;
        loop {
            let (cursor, batch, retransmit_at) = {
                let mut state = self.lock();
                let state = &mut *state;
                let Some(link) = state.links.get_mut(replica).filter(|link| link.connection == connection) else {
                    return;
                };
                if link.state == LinkState::Offline {
                    return;
                }
                let mut retransmit_at = None;
                if let Some(after) = retransmit_after.filter(|_| link.sent_high > link.received) {
                    let doublings = link.retransmits_without_progress.min(RETRANSMIT_BACKOFF_DOUBLINGS_MAX);
                    let after = after * (1u32 << doublings);
                    let due = SimTime(link.progress_at.0 + after.as_nanos() as u64);
                    if time::now() >= due {
                        link.sent = link.received;
                        link.progress_at = time::now();
                        link.retransmits_without_progress += 1;
                        self.probe.mark(Mark::BatchResent);
                        self.probe
                            .event(&self.name, Event::Retransmit { replica: replica.to_string(), after: link.sent });
                    }
                    retransmit_at = Some(SimTime(link.progress_at.0 + after.as_nanos() as u64));
                }
                let unacknowledged = link.sent.0.saturating_sub(link.received.0);
                let room = self.config.replication.window_entries_max.saturating_sub(unacknowledged) as usize;
                if room == 0 && state.binlog.last_offset() > link.sent {
                    self.probe.mark(Mark::WindowFull);
                }
                let batch = state.binlog.entries_after(link.sent, room.min(self.config.replication.batch_entries_max));
                (link.sent, batch, retransmit_at)
            };
            let (Some(first), Some(last)) = (batch.first(), batch.last()) else {
                match retransmit_at {
                    Some(due) => {
                        let wait = std::time::Duration::from_nanos(due.0.saturating_sub(time::now().0));
                        time::within(wait, wake.notified()).await;
                    }
                    None => wake.notified().await,
                }
                continue;
            };
            let (first, last) = (first.offset, last.offset);
            sut_assert!(first == cursor.next(), "primary sends {first}..={last} after {cursor}");
            if let Some(pause) = stall::draw(&self.config.stalls.network) {
                self.probe.mark(Mark::StallNetwork);
                madsim::time::sleep(pause).await;
            }
            if sender.send(PrimaryMessage::Entries(batch)).await.is_err() {
                self.link_down(replica, connection, "binlog batch not delivered");
                return;
            }
            if let Some(link) = self.lock().links.get_mut(replica).filter(|link| link.connection == connection) {
                link.sent = link.sent.max(last);
                link.sent_high = link.sent_high.max(last);
            }
            self.probe.event(&self.name, Event::BatchSent { replica: replica.to_string(), first, last });
        }
    }

    async fn read_acks(self, mut receiver: Receiver<ReplicaMessage>, replica: String, connection: u64) {
        loop {
            match receiver.recv().await {
                Ok(ReplicaMessage::Ack { received, applied }) => {
                    let mut state = self.lock();
                    let Some(link) = state.links.get_mut(&replica).filter(|link| link.connection == connection) else {
                        drop(state);
                        self.probe.mark(Mark::AckStale);
                        return;
                    };
                    sut_assert!(
                        received >= link.received && applied >= link.applied && received <= link.sent_high,
                        "{replica} acked received={received} applied={applied} after received={} applied={} with sent={}",
                        link.received,
                        link.applied,
                        link.sent_high
                    );
                    // The primary already dropped this link: the ack was in flight (stale).
                    let stale = link.state == LinkState::Offline;
                    if received > link.received {
                        link.progress_at = time::now();
                        link.retransmits_without_progress = 0;
                    }
                    link.received = received;
                    link.applied = applied;
                    // A late ack can overtake a rewound cursor: nothing below it needs re-sending.
                    let overtook = received > link.sent;
                    link.sent = link.sent.max(received);
                    link.wake.notify_one();
                    drop(state);
                    if overtook {
                        self.probe.mark(Mark::AckOvertookResend);
                    }
                    if stale {
                        self.probe.mark(Mark::AckStale);
                    }
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
    binlog_commands_planted(command, databases, None)
}

/// [`binlog_commands`], or with a planted bug the way Pika logged before its fixes: multi-key DEL
/// as one entry (#1638), FLUSHALL as one entry in the selected database (#2846).
fn binlog_commands_planted(command: &Command, databases: u8, bug: Option<Bug>) -> Vec<Command> {
    match command {
        Command::Del { .. } if Bug::MultiKeyDelByFirstKey.is(bug) => vec![command.clone()],
        Command::FlushAll { .. } if Bug::FlushAllOneEntry.is(bug) => vec![command.clone()],
        Command::Del { db, keys } if keys.len() > 1 => {
            keys.iter().map(|key| Command::del(*db, [key.clone()])).collect()
        }
        Command::FlushAll { .. } => (0..databases).map(|db| Command::FlushDb { db: Db(db) }).collect(),
        _ => vec![command.clone()],
    }
}
