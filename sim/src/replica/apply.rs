//! The replica's apply pipeline, modelled on Pika's: the binlog task appends each entry to the
//! replica's binlog, then hands it to one of `workers` apply workers; each apply takes a random
//! simulated time, so workers finish out of order.
//!
//! ```text
//!   offsets:  3:SET a v3 ─► hash("a") % 4 = 1 ─► worker 1 (busy until t+4ms) ┐
//!             5:FLUSHDB  ─► hash("flushdb") % 4 = 2 ─► worker 2 (idle)       ├─ HashByKey: FLUSHDB
//!                                                                            ┘  may run first
//!   Barrier:  5:FLUSHDB  ─► wait until db0 has no write in flight ─► apply alone ─► resume
//! ```
//!
//! The applied offset is a watermark: the highest `o` such that every entry up to `o` has been
//! applied. A replica whose workers are all idle reports an idle point for prefix checking.
//!
//! Durability model: an idle point is also the replica's sync point. Its store and its binlog up
//! to the idle point's offset are durable ([`Durable`]); the binlog tail received after it and any
//! apply in flight are lost when the node crashes. A restarted replica starts from its durable
//! state and resumes with TrySync from its offset.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use replsim_model::binlog::{Binlog, BinlogEntry, Offset};
use replsim_model::check::{NodeSnapshot, SimTime};
use replsim_model::command::Db;
use replsim_model::store::Store;
use tokio::sync::{mpsc, watch, Notify};

use crate::behaviour::{Behaviour, Behaviours};
use crate::bug::Bug;
use crate::config::{ApplyConfig, ApplyMode, Dispatch};
use crate::marks::Mark;
use crate::probe::{Event, Probe};
use crate::stall::{self, Stall};
use crate::sut_assert;
use crate::time;

/// What the replica acknowledges to the primary.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Progress {
    pub received: Offset,
    pub applied: Offset,
}

/// What survives a crash of the replica: its store as of its last idle point, which reflects
/// exactly `offset`.
#[derive(Clone, Debug, Default)]
pub struct Durable {
    pub offset: Offset,
    pub store: Store,
}

/// An entry queued for a worker, tagged with the replication session that delivered it and the
/// full-sync epoch it was dispatched in.
type Queued = (BinlogEntry, u64, u64);

/// The merged fix's poll of a database's in-flight count (`pika_consensus.cc:350-367`).
const POLL_BACKOFF_FIRST: std::time::Duration = std::time::Duration::from_millis(250);
const POLL_BACKOFF_MAX: std::time::Duration = std::time::Duration::from_secs(3);
/// Far above what any run needs (the in-flight count only falls while the binlog task polls).
const POLLS_MAX: usize = 10_000;

/// A replica's data: what it received (binlog) and what it applied (store, watermark).
#[derive(Default)]
pub struct ReplicaData {
    pub store: Store,
    pub binlog: Binlog,
    pub applied: Offset,
    /// Applied out of order, beyond the watermark.
    applied_ahead: BTreeSet<Offset>,
    in_flight_by_db: BTreeMap<Db, usize>,
    in_flight: usize,
    last_idle_point: Offset,
}

impl ReplicaData {
    fn idle(&self) -> bool {
        self.in_flight == 0
    }
}

/// Shared by the binlog task, the workers and the client-serving task of one replica.
pub struct Pipeline {
    node: String,
    config: ApplyConfig,
    probe: Probe,
    data: Mutex<ReplicaData>,
    /// Signalled whenever some database's in-flight count drops to zero.
    drained: Notify,
    progress: watch::Sender<Progress>,
    /// Publish the applied offset at least every this many entries while busy.
    ack_applied_every: u64,
    workers: Vec<mpsc::Sender<Queued>>,
    bug: Option<Bug>,
    behaviours: Behaviours,
    durable: Arc<Mutex<Durable>>,
    /// Counts replication sessions (connections to the primary).
    session: AtomicU64,
    /// Counts full syncs loaded while writes were still queued (`full-sync-no-drain`): an entry
    /// dispatched in an older epoch lands on top of the newer snapshot.
    epoch: AtomicU64,
    /// Stalls of the apply workers (and of the dispatcher applying behind a barrier).
    apply_stall: Stall,
}

impl Pipeline {
    /// Starts `config.workers` apply workers on the current node, from the durable state.
    pub fn start(
        node: &str,
        config: &ApplyConfig,
        ack_applied_every: u64,
        bug: Option<Bug>,
        behaviours: &Behaviours,
        durable: Arc<Mutex<Durable>>,
        probe: Probe,
        apply_stall: Stall,
    ) -> Arc<Pipeline> {
        let recovered = durable.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).clone();
        let data = ReplicaData {
            binlog: Binlog::starting_after(recovered.offset),
            applied: recovered.offset,
            last_idle_point: recovered.offset,
            store: recovered.store,
            ..ReplicaData::default()
        };
        let mut queues = Vec::with_capacity(config.workers);
        let mut workers = Vec::with_capacity(config.workers);
        for _ in 0..config.workers {
            let (sender, receiver) = mpsc::channel(config.queue_capacity);
            workers.push(sender);
            queues.push(receiver);
        }
        let pipeline = Arc::new(Pipeline {
            node: node.to_string(),
            config: config.clone(),
            probe,
            progress: watch::Sender::new(Progress { received: data.applied, applied: data.applied }),
            data: Mutex::new(data),
            drained: Notify::new(),
            ack_applied_every: ack_applied_every.max(1),
            workers,
            bug,
            behaviours: behaviours.clone(),
            durable,
            session: AtomicU64::new(0),
            epoch: AtomicU64::new(0),
            apply_stall,
        });
        for (worker, queue) in queues.into_iter().enumerate() {
            madsim::task::spawn(pipeline.clone().run_worker(worker, queue));
        }
        pipeline
    }

    pub fn lock(&self) -> MutexGuard<'_, ReplicaData> {
        self.data.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Entries dispatched and not yet applied.
    pub fn in_flight(&self) -> usize {
        self.lock().in_flight
    }

    pub fn progress(&self) -> watch::Receiver<Progress> {
        self.progress.subscribe()
    }

    /// A replication session ended. Entries already queued stay queued: they are in the binlog,
    /// so TrySync will not fetch them again.
    pub fn session_ended(&self) {
        self.session.fetch_add(1, Ordering::Relaxed);
    }

    /// The node's durable state as of now (for the idle point it was last written at).
    pub fn restart_point(&self) -> NodeSnapshot {
        self.snapshot(&self.lock())
    }

    /// Appends `entry` to the replica's binlog and dispatches it. Entries already held (a batch
    /// re-sent after a reconnect) are ignored. Waits while the chosen queue is full or a barrier
    /// drains.
    pub async fn submit(&self, entry: BinlogEntry) {
        let new = entry.offset > self.lock().binlog.last_offset();
        // A re-sent entry is already held. Planted bug: it is dispatched again anyway.
        if !new && !Bug::DuplicateApplyOnResend.is(self.bug) {
            self.probe.mark(Mark::DuplicateEntryIgnored);
            return;
        }
        let dispatch = if Bug::FlushDbByKey.is(self.bug) && entry.command.is_global() {
            ApplyMode::HashByKey.dispatch(&entry.command, self.workers.len())
        } else {
            self.config.mode.dispatch(&entry.command, self.workers.len())
        };
        if dispatch == Dispatch::PolledBarrier {
            // The merged fix waits before the entry reaches the replica's binlog.
            self.poll_until_drained(entry.command.db(), entry.offset).await;
        }
        if new {
            self.append(&entry);
        }
        match dispatch {
            Dispatch::Worker(worker) => {
                self.begin(&entry);
                self.probe.event(&self.node, Event::Dispatched { offset: entry.offset, worker });
                let session = self.session.load(Ordering::Relaxed);
                let epoch = self.epoch.load(Ordering::Relaxed);
                let queued = match self.workers[worker].try_send((entry, session, epoch)) {
                    Err(mpsc::error::TrySendError::Full(queued)) => {
                        self.probe.mark(Mark::ApplyQueueFull);
                        self.workers[worker].send(queued).await.is_ok()
                    }
                    sent => sent.is_ok(),
                };
                sut_assert!(queued, "{}: apply worker {worker} is gone", self.node);
            }
            Dispatch::Barrier | Dispatch::PolledBarrier => {
                if dispatch == Dispatch::Barrier {
                    self.drain(Some(entry.command.db()), entry.offset).await;
                }
                self.begin(&entry);
                let started = time::now();
                self.stall().await;
                madsim::time::sleep(self.apply_delay()).await;
                self.apply(&entry, None, started);
            }
        }
    }

    /// Appends a new entry to the replica's binlog and publishes the received offset.
    fn append(&self, entry: &BinlogEntry) {
        let mut data = self.lock();
        if let Err(error) = data.binlog.append_entry(entry.clone()) {
            sut_assert!(false, "{}: {error}", self.node);
        }
        let received = data.binlog.last_offset();
        if self.behaviours.has(Behaviour::DurabilityAsPika) {
            // Pika persists the binlog position on every append (`pika_binlog.cc:233-237`).
            self.durable_state().offset = received;
        }
        // Planted bug, or Pika's ack: acknowledge as applied what has only been received.
        let claims_applied = Bug::AckBeforeApply.is(self.bug) || self.behaviours.has(Behaviour::AckOnReceive);
        self.progress.send_modify(|progress| {
            progress.received = received;
            if claims_applied {
                progress.applied = received;
            }
        });
    }

    /// The merged fix: sleeps 250 ms, doubling up to 3 s, until no write of `db` is queued or
    /// running.
    async fn poll_until_drained(&self, db: Db, before: Offset) {
        let mut backoff = POLL_BACKOFF_FIRST;
        for poll in 0..POLLS_MAX {
            let in_flight = self.lock().in_flight_by_db.get(&db).copied().unwrap_or(0);
            if in_flight == 0 {
                return;
            }
            if poll == 0 {
                self.probe.event(&self.node, Event::BarrierWait { offset: before, in_flight });
            }
            madsim::time::sleep(backoff).await;
            backoff = (backoff * 2).min(POLL_BACKOFF_MAX);
        }
        sut_assert!(false, "{}: FLUSHDB at {before} polled {POLLS_MAX} times for {db:?} to drain", self.node);
    }

    fn durable_state(&self) -> MutexGuard<'_, Durable> {
        self.durable.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Waits until no write of `db` (or of any database, for `None`) is in flight.
    pub async fn drain(&self, db: Option<Db>, before: Offset) {
        let mut announced = false;
        loop {
            let in_flight = {
                let data = self.lock();
                match db {
                    Some(db) => data.in_flight_by_db.get(&db).copied().unwrap_or(0),
                    None => data.in_flight,
                }
            };
            if in_flight == 0 {
                return;
            }
            if !announced {
                if db.is_some() {
                    self.probe.mark(Mark::BarrierWaited);
                }
                self.probe.event(&self.node, Event::BarrierWait { offset: before, in_flight });
                announced = true;
            }
            self.drained.notified().await;
        }
    }

    /// Replaces everything with a full-sync snapshot that reflects exactly `offset`. The caller
    /// drains the pipeline first, unless Pika's `full-sync-no-drain` is on: then the writes still
    /// queued belong to an older epoch and land on top of the snapshot.
    pub fn load_snapshot(&self, offset: Offset, store: Store) {
        let keys = store.len();
        let snapshot = {
            let mut data = self.lock();
            if self.behaviours.has(Behaviour::FullSyncNoDrain) {
                self.epoch.fetch_add(1, Ordering::Relaxed);
            } else {
                sut_assert!(data.idle(), "{}: full sync loaded while writes are in flight", self.node);
            }
            data.store = store;
            data.binlog = Binlog::starting_after(offset);
            data.applied = offset;
            data.applied_ahead.clear();
            data.last_idle_point = offset;
            self.progress.send_replace(Progress { received: offset, applied: offset });
            self.snapshot(&data)
        };
        self.make_durable(&snapshot);
        self.probe.event(&self.node, Event::FullSyncLoaded { offset, keys });
        self.probe.idle_point(snapshot);
    }

    /// Makes the applied offset visible to the ack sender — when the pipeline drains, or after a
    /// batch's worth of progress. Acknowledging every single apply would double the replication
    /// traffic for no information the primary acts on (Pika acks once per batch).
    fn publish_applied(&self, data: &ReplicaData) {
        let published = self.progress.borrow().applied;
        let due = data.idle() || data.applied.0 >= published.0 + self.ack_applied_every;
        if due && data.applied > published {
            let applied = data.applied;
            self.progress.send_modify(|progress| progress.applied = applied);
        }
    }

    fn make_durable(&self, snapshot: &NodeSnapshot) {
        let mut durable = self.durable_state();
        durable.offset = snapshot.offset;
        durable.store.clone_from(&snapshot.store);
    }

    fn snapshot(&self, data: &ReplicaData) -> NodeSnapshot {
        NodeSnapshot { node: self.node.clone(), offset: data.applied, store: data.store.clone(), at: time::now() }
    }

    fn apply_delay(&self) -> std::time::Duration {
        time::random_between(self.config.delay_min, self.config.delay_max)
    }

    fn begin(&self, entry: &BinlogEntry) {
        let mut data = self.lock();
        *data.in_flight_by_db.entry(entry.command.db()).or_default() += 1;
        data.in_flight += 1;
        // Each worker holds a full queue plus the entry it is applying; one more is being
        // dispatched (counted before it waits for queue room), or applied behind a barrier.
        sut_assert!(
            data.in_flight <= self.workers.len() * (self.config.queue_capacity + 1) + 1,
            "{}: {} writes in flight exceed the queue bound",
            self.node,
            data.in_flight
        );
    }

    async fn run_worker(self: Arc<Pipeline>, worker: usize, mut queue: mpsc::Receiver<Queued>) {
        while let Some((entry, session, epoch)) = queue.recv().await {
            let started = time::now();
            self.stall().await;
            madsim::time::sleep(self.apply_delay()).await;
            // Planted bug: a reconnect "resets" the workers, throwing away what they still held.
            if Bug::DropEntriesOnReconnect.is(self.bug) && session != self.session.load(Ordering::Relaxed) {
                self.discard(&entry);
                continue;
            }
            if epoch != self.epoch.load(Ordering::Relaxed) {
                self.apply_over_snapshot(&entry, worker, started);
                continue;
            }
            self.apply(&entry, Some(worker), started);
        }
    }

    /// A rare long pause of this apply task (a RocksDB write stall), when stalls are on.
    async fn stall(&self) {
        if let Some(pause) = stall::draw(&self.apply_stall) {
            self.probe.mark(Mark::StallApplyWorker);
            madsim::time::sleep(pause).await;
        }
    }

    /// Forgets a dispatched entry without applying it (only the planted bug does this).
    fn discard(&self, entry: &BinlogEntry) {
        let mut data = self.lock();
        self.finish(&mut data, entry);
    }

    /// Bookkeeping when a dispatched entry leaves the pipeline.
    fn finish(&self, data: &mut ReplicaData, entry: &BinlogEntry) {
        let offset = entry.offset;
        let db = entry.command.db();
        let in_flight_db = data.in_flight_by_db.entry(db).or_default();
        sut_assert!(*in_flight_db > 0, "{}: applied {offset} that was never dispatched", self.node);
        *in_flight_db -= 1;
        if *in_flight_db == 0 {
            data.in_flight_by_db.remove(&db);
            self.drained.notify_one();
        }
        data.in_flight -= 1;
    }

    /// `full-sync-no-drain`: a write queued before a full sync runs after the snapshot replaced
    /// the store. It changes the store but not the watermark (the snapshot already covers its
    /// offset); an idle replica reports the result, so the prefix check sees what it did.
    fn apply_over_snapshot(&self, entry: &BinlogEntry, worker: usize, started: SimTime) {
        let idle_snapshot = {
            let mut data = self.lock();
            data.store.execute(&entry.command);
            self.persist_apply(entry);
            self.finish(&mut data, entry);
            data.idle().then(|| self.snapshot(&data))
        };
        self.probe.event(&self.node, Event::Applied { offset: entry.offset, worker: Some(worker), started });
        if let Some(snapshot) = idle_snapshot {
            if !self.behaviours.has(Behaviour::DurabilityAsPika) {
                self.make_durable(&snapshot);
            }
            self.probe.idle_point(snapshot);
        }
    }

    /// `durability-as-pika`: the store is durable write by write (RocksDB), not at idle points.
    fn persist_apply(&self, entry: &BinlogEntry) {
        if self.behaviours.has(Behaviour::DurabilityAsPika) {
            self.durable_state().store.execute(&entry.command);
        }
    }

    /// Applies one entry to the store and advances the watermark. `started`: when its apply began.
    fn apply(&self, entry: &BinlogEntry, worker: Option<usize>, started: SimTime) {
        let offset = entry.offset;
        let idle_snapshot = {
            let mut data = self.lock();
            sut_assert!(
                offset > data.applied && !data.applied_ahead.contains(&offset),
                "{}: entry {offset} applied twice (watermark {})",
                self.node,
                data.applied
            );
            // An earlier entry of this database is still unapplied, and a global command runs now.
            let db_in_flight = data.in_flight_by_db.get(&entry.command.db()).copied().unwrap_or(0);
            if entry.command.is_global() && db_in_flight > 1 && offset.0 > data.applied.0 + 1 {
                self.probe.mark(Mark::FlushOvertookWrite);
            }
            data.store.execute(&entry.command);
            self.persist_apply(entry);
            data.applied_ahead.insert(offset);
            loop {
                let next = data.applied.next();
                if !data.applied_ahead.remove(&next) {
                    break;
                }
                data.applied = next;
            }
            self.finish(&mut data, entry);
            self.publish_applied(&data);
            if data.idle() && data.applied > data.last_idle_point {
                data.last_idle_point = data.applied;
                Some(self.snapshot(&data))
            } else {
                None
            }
        };
        self.probe.event(&self.node, Event::Applied { offset, worker, started });
        if let Some(snapshot) = idle_snapshot {
            if !self.behaviours.has(Behaviour::DurabilityAsPika) {
                self.make_durable(&snapshot);
            }
            self.probe.idle_point(snapshot);
        }
    }
}
