//! A replica: connects to the primary's replication port, hands over its binlog offset (TrySync),
//! takes a full sync when the primary asks for one, then copies the binlog stream into its own
//! binlog and its [`apply::Pipeline`], acknowledging progress as it goes. It also serves reads,
//! `INFO replication` and snapshots on the client port.
//!
//! A lost connection is retried with bounded exponential backoff for as long as the node lives.
//! A crash loses everything but the [`apply::Durable`] state of the last idle point; the restarted
//! replica resumes from there with TrySync.

pub mod apply;

use std::io;
use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use replsim_model::command::{Db, Response};

use crate::behaviour::Behaviour;
use crate::bug::Bug;
use crate::config::ClusterConfig;
use crate::info::{render_replica_info, render_replica_info_as_pika};
use crate::marks::Mark;
use crate::probe::{Event, Probe};
use crate::replica::apply::{Durable, Pipeline, Progress};
use crate::stall;
use crate::sut_assert;
use crate::wire::{Connection, Listener, PrimaryMessage, ReplicaMessage, Reply, Request, Sender};
use crate::wire::{CLIENT_PORT, REPLICATION_PORT};

const RECONNECT_BACKOFF_MIN: Duration = Duration::from_millis(10);
const RECONNECT_BACKOFF_MAX: Duration = Duration::from_secs(1);

#[derive(Clone)]
pub struct Replica {
    name: String,
    primary_ip: IpAddr,
    config: Arc<ClusterConfig>,
    probe: Probe,
    /// Whether a replication session is established (`master_link_status`).
    link_up: Arc<AtomicBool>,
    /// Survives restarts of the node (the init closure holds this clone).
    durable: Arc<Mutex<Durable>>,
    /// The pipeline of the node's previous life, to tell whether a restart lost writes in flight.
    last_pipeline: Arc<Mutex<Option<Arc<Pipeline>>>>,
}

impl Replica {
    pub fn new(name: &str, primary_ip: IpAddr, config: Arc<ClusterConfig>, probe: Probe) -> Replica {
        Replica {
            name: name.to_string(),
            primary_ip,
            config,
            probe,
            link_up: Arc::default(),
            durable: Arc::default(),
            last_pipeline: Arc::default(),
        }
    }

    /// The node's main task, also after a restart: recover the durable state, then replicate.
    pub async fn serve(self) {
        self.link_up.store(false, Ordering::Relaxed);
        let ack_applied_every = self.config.replication.batch_entries_max as u64;
        let pipeline = Pipeline::start(
            &self.name,
            &self.config.apply.as_run(&self.config.behaviours),
            ack_applied_every,
            self.config.bug,
            &self.config.behaviours,
            self.durable.clone(),
            self.probe.clone(),
            self.config.stalls.apply_worker,
        );
        let previous =
            self.last_pipeline.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).replace(pipeline.clone());
        if previous.is_some_and(|previous| previous.in_flight() > 0) {
            self.probe.mark(Mark::ReplicaRestartedMidApply);
        }
        let recovered = pipeline.restart_point();
        self.probe.event(&self.name, Event::ReplicaStarted { offset: recovered.offset, keys: recovered.store.len() });
        self.probe.idle_point(recovered);
        let clients = Listener::bind(CLIENT_PORT).await.expect("bind client port");
        madsim::task::spawn(self.clone().serve_clients(clients, pipeline.clone()));
        let mut backoff = RECONNECT_BACKOFF_MIN;
        loop {
            let primary = SocketAddr::new(self.primary_ip, REPLICATION_PORT);
            let reason = match Connection::connect(primary).await {
                Ok(link) => {
                    backoff = RECONNECT_BACKOFF_MIN;
                    let reason = self.replicate(link, &pipeline).await;
                    pipeline.session_ended();
                    reason
                }
                Err(error) => error,
            };
            self.probe.event(&self.name, Event::LinkDown { peer: "primary".to_string(), reason: reason.to_string() });
            madsim::time::sleep(backoff).await;
            backoff = (backoff * 2).min(RECONNECT_BACKOFF_MAX);
        }
    }

    /// One replication session; returns why it ended.
    async fn replicate(&self, link: Connection<ReplicaMessage, PrimaryMessage>, pipeline: &Arc<Pipeline>) -> io::Error {
        let Connection { sender, mut receiver, .. } = link;
        let offset = pipeline.lock().binlog.last_offset();
        self.probe.event(&self.name, Event::SyncRequested { offset });
        let try_sync = ReplicaMessage::TrySync { replica: self.name.clone(), offset };
        if let Err(error) = sender.send(try_sync).await {
            return error;
        }
        match receiver.recv().await {
            Ok(PrimaryMessage::Continue { after }) => {
                sut_assert!(after == offset, "{}: asked to continue after {offset}, primary said {after}", self.name);
            }
            Ok(PrimaryMessage::FullSync { offset, store }) => {
                if pipeline.in_flight() > 0 {
                    self.probe.mark(Mark::FullSyncWithWritesQueued);
                }
                if !self.config.behaviours.has(Behaviour::FullSyncNoDrain) {
                    pipeline.drain(None, offset).await;
                }
                pipeline.load_snapshot(offset, store);
            }
            Ok(PrimaryMessage::SyncError { reason }) => return io::Error::other(reason),
            Ok(PrimaryMessage::Entries(_)) => sut_assert!(false, "{}: entries before the handshake", self.name),
            Err(error) => return error,
        }
        self.link_up.store(true, Ordering::Relaxed);
        let acks = madsim::task::spawn(self.clone().send_acks(sender, pipeline.progress()));
        let reason = loop {
            match receiver.recv().await {
                Ok(PrimaryMessage::Entries(batch)) => {
                    // Only a batch with new entries is written to the binlog (and can stall on it).
                    let has_new = batch.last().is_some_and(|last| last.offset > pipeline.lock().binlog.last_offset());
                    if let Some(pause) = has_new.then(|| stall::draw(&self.config.stalls.binlog_thread)).flatten() {
                        self.probe.mark(Mark::StallBinlogThread);
                        madsim::time::sleep(pause).await;
                    }
                    if let (Some(first), Some(last)) = (batch.first(), batch.last()) {
                        let (first, last) = (first.offset, last.offset);
                        self.probe.event(&self.name, Event::BatchReceived { first, last });
                    }
                    for entry in batch {
                        pipeline.submit(entry).await;
                    }
                }
                Ok(other) => sut_assert!(false, "{}: unexpected {other:?} mid-stream", self.name),
                Err(error) => break error,
            }
        };
        acks.abort();
        self.link_up.store(false, Ordering::Relaxed);
        reason
    }

    /// Acknowledges progress whenever it changes; coalesces changes that arrive while sending.
    async fn send_acks(self, sender: Sender<ReplicaMessage>, mut progress: tokio::sync::watch::Receiver<Progress>) {
        loop {
            let Progress { received, applied } = *progress.borrow_and_update();
            if let Some(pause) = stall::draw(&self.config.stalls.network) {
                self.probe.mark(Mark::StallNetwork);
                madsim::time::sleep(pause).await;
            }
            if sender.send(ReplicaMessage::Ack { received, applied }).await.is_err() {
                return;
            }
            self.probe.event(&self.name, Event::AckSent { received, applied });
            if progress.changed().await.is_err() {
                return;
            }
        }
    }

    async fn serve_clients(self, listener: Listener, pipeline: Arc<Pipeline>) {
        while let Ok(connection) = listener.accept::<Reply, Request>().await {
            let replica = self.clone();
            let pipeline = pipeline.clone();
            madsim::task::spawn(async move {
                let Connection { sender, mut receiver, .. } = connection;
                while let Ok(request) = receiver.recv().await {
                    let reply = replica.handle(request, &pipeline);
                    if sender.send(reply).await.is_err() {
                        return;
                    }
                }
            });
        }
    }

    fn handle(&self, request: Request, pipeline: &Pipeline) -> Reply {
        let data = pipeline.lock();
        match request {
            Request::Execute { command, .. } if command.is_write() => {
                Reply::Error("READONLY You can't write against a read only replica.".to_string())
            }
            Request::Execute { command, .. } => {
                if data.binlog.last_offset() > data.applied {
                    self.probe.mark(Mark::ReplicaReadWhileBehind);
                }
                // Planted bug: the replica's read path forgets the connection's SELECT.
                let db = if Bug::ReplicaReadIgnoresSelect.is(self.config.bug) { Db(0) } else { command.db() };
                let value = command.keys().first().and_then(|key| data.store.get(db, key).cloned());
                Reply::Response(Response::Value(value))
            }
            Request::InfoReplication => {
                let link_up = self.link_up.load(Ordering::Relaxed);
                let primary_ip = self.primary_ip.to_string();
                Reply::Info(if self.config.behaviours.has(Behaviour::InfoAsPika) {
                    render_replica_info_as_pika(&primary_ip, link_up, data.binlog.last_offset())
                } else {
                    render_replica_info(&primary_ip, link_up, data.binlog.last_offset(), data.applied)
                })
            }
            Request::Snapshot => Reply::Snapshot { offset: data.applied, store: data.store.clone() },
        }
    }
}
