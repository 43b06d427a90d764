//! The harness's view into the system under test: every node reports its events here.
//!
//! The probe keeps (1) a hash of the ordered event trace — same seed, same hash, or determinism is
//! broken; (2) the evidence the checkers need: the primary's binlog, each replica's idle points,
//! the client history and the checkpoints. Events also go to `tracing` (target `replsim`), which
//! is how `replsim replay` prints a trace; with no subscriber that costs nothing.
//!
//! Everything runs on madsim's single simulation thread; the mutex is never contended and exists
//! only because madsim's tasks must be `Send`.

use std::collections::BTreeMap;
use std::fmt;
use std::hash::{Hash, Hasher};
use std::sync::{Arc, Mutex, MutexGuard};

use replsim_model::binlog::{BinlogEntry, Offset};
use replsim_model::check::{NodeSnapshot, SimTime};
use replsim_model::command::{Command, Response};
use replsim_model::history::Operation;
use serde::Serialize;

use crate::fault::Fault;
use crate::hash::StableHasher;
use crate::marks::{Mark, MarkCounts};
use crate::time;
use crate::workload::Target;

/// Something a node did, in the order it did it.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(tag = "event", rename_all = "kebab-case")]
pub enum Event {
    Invoke {
        client: u64,
        command: Command,
        target: Target,
    },
    /// `response: None`: the client gave up waiting (connection lost or request deadline).
    Return {
        client: u64,
        response: Option<Response>,
    },
    /// The request never left the client (no connection) or the node refused it: it certainly
    /// did not take effect.
    NotExecuted {
        client: u64,
        reason: String,
    },
    BinlogAppend {
        offset: Offset,
        command: Command,
    },
    SyncRequested {
        offset: Offset,
    },
    SyncAccepted {
        replica: String,
        after: Offset,
        full_sync: bool,
    },
    FullSyncLoaded {
        offset: Offset,
        keys: usize,
    },
    BatchSent {
        replica: String,
        first: Offset,
        last: Offset,
    },
    BatchReceived {
        first: Offset,
        last: Offset,
    },
    Dispatched {
        offset: Offset,
        worker: usize,
    },
    /// A global command waits for `in_flight` earlier writes of its database to finish.
    BarrierWait {
        offset: Offset,
        in_flight: usize,
    },
    /// `worker: None`: applied by the dispatcher behind a barrier. `started`: when the apply
    /// began (the worker took the entry, or the barrier let it through), so a report can draw the
    /// apply's span without a second event per entry.
    Applied {
        offset: Offset,
        worker: Option<usize>,
        started: SimTime,
    },
    AckSent {
        received: Offset,
        applied: Offset,
    },
    AckReceived {
        replica: String,
        received: Offset,
        applied: Offset,
    },
    LinkDown {
        peer: String,
        reason: String,
    },
    PhaseStarted {
        phase: usize,
        clients: usize,
    },
    CaughtUp {
        offset: Offset,
    },
    FaultInjected {
        fault: Fault,
    },
    FaultHealed {
        fault: Fault,
    },
    /// No ack advanced within the retransmit timeout: the primary goes back to `after`.
    Retransmit {
        replica: String,
        after: Offset,
    },
    /// Binlog retention dropped entries up to `through`.
    BinlogPurged {
        through: Offset,
    },
    /// A replica (re)started from its durable state, which reflects `offset`.
    ReplicaStarted {
        offset: Offset,
        keys: usize,
    },
    /// The primary answered `INFO replication` with these offsets (what an operator sees).
    InfoReplication {
        master_repl_offset: Offset,
        replicas: Vec<InfoOffsets>,
    },
}

/// One replica's line of an `INFO replication` answer.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize)]
pub struct InfoOffsets {
    pub replica: String,
    /// What the replica acknowledged as received (`offset=`).
    pub offset: Offset,
    pub applied_offset: Offset,
}

impl Event {
    fn level(&self) -> tracing::Level {
        match self {
            Event::Invoke { .. }
            | Event::Return { .. }
            | Event::NotExecuted { .. }
            | Event::SyncRequested { .. }
            | Event::SyncAccepted { .. }
            | Event::FullSyncLoaded { .. }
            | Event::LinkDown { .. }
            | Event::PhaseStarted { .. }
            | Event::CaughtUp { .. }
            | Event::FaultInjected { .. }
            | Event::FaultHealed { .. }
            | Event::Retransmit { .. }
            | Event::ReplicaStarted { .. } => tracing::Level::INFO,
            Event::BinlogPurged { .. } | Event::InfoReplication { .. } => tracing::Level::DEBUG,
            Event::BinlogAppend { .. }
            | Event::Dispatched { .. }
            | Event::BarrierWait { .. }
            | Event::Applied { .. } => tracing::Level::DEBUG,
            Event::BatchSent { .. }
            | Event::BatchReceived { .. }
            | Event::AckSent { .. }
            | Event::AckReceived { .. } => tracing::Level::TRACE,
        }
    }
}

impl fmt::Display for Event {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Event::Invoke { client, command, target } => {
                let target = match target {
                    Target::Primary => String::new(),
                    Target::Replica(index) => format!(" (read from replica-{})", index + 1),
                };
                write!(formatter, "client-{client} invoke {command}{target}")
            }
            Event::Return { client, response: Some(response) } => {
                write!(formatter, "client-{client} return {response}")
            }
            Event::Return { client, response: None } => {
                write!(formatter, "client-{client} gave up (outcome unknown)")
            }
            Event::NotExecuted { client, reason } => write!(formatter, "client-{client} not executed: {reason}"),
            Event::BinlogAppend { offset, command } => write!(formatter, "binlog-append {offset} {command}"),
            Event::SyncRequested { offset } => write!(formatter, "try-sync after offset {offset}"),
            Event::SyncAccepted { replica, after, full_sync: false } => {
                write!(formatter, "incremental sync of {replica} after offset {after}")
            }
            Event::SyncAccepted { replica, after, full_sync: true } => {
                write!(formatter, "full sync of {replica} at offset {after}")
            }
            Event::FullSyncLoaded { offset, keys } => {
                write!(formatter, "full-sync snapshot loaded: offset {offset}, {keys} keys")
            }
            Event::BatchSent { replica, first, last } => write!(formatter, "send {first}..={last} to {replica}"),
            Event::BatchReceived { first, last } => write!(formatter, "receive {first}..={last}"),
            Event::Dispatched { offset, worker } => write!(formatter, "dispatch {offset} -> worker {worker}"),
            Event::BarrierWait { offset, in_flight } => {
                write!(formatter, "barrier before {offset}: waiting for {in_flight} in-flight write(s)")
            }
            Event::Applied { offset, worker: Some(worker), .. } => {
                write!(formatter, "apply {offset} on worker {worker}")
            }
            Event::Applied { offset, worker: None, .. } => write!(formatter, "apply {offset} alone (barrier)"),
            Event::AckSent { received, applied } => write!(formatter, "ack received={received} applied={applied}"),
            Event::AckReceived { replica, received, applied } => {
                write!(formatter, "ack from {replica}: received={received} applied={applied}")
            }
            Event::LinkDown { peer, reason } => write!(formatter, "link to {peer} down: {reason}"),
            Event::PhaseStarted { phase, clients } => {
                write!(formatter, "phase {phase} starts with {clients} client(s)")
            }
            Event::CaughtUp { offset } => write!(formatter, "all replicas caught up at offset {offset}"),
            Event::FaultInjected { fault } => write!(formatter, "fault: {fault}"),
            Event::FaultHealed { fault } => write!(formatter, "healed: {fault}"),
            Event::Retransmit { replica, after } => {
                write!(formatter, "no ack progress from {replica}: re-sending after offset {after}")
            }
            Event::BinlogPurged { through } => write!(formatter, "binlog purged through offset {through}"),
            Event::ReplicaStarted { offset, keys } => {
                write!(formatter, "started from durable state: offset {offset}, {keys} keys")
            }
            Event::InfoReplication { master_repl_offset, replicas } => {
                write!(formatter, "INFO replication: master_repl_offset={master_repl_offset}")?;
                for line in replicas {
                    write!(
                        formatter,
                        ", {} offset={} applied_offset={}",
                        line.replica, line.offset, line.applied_offset
                    )?;
                }
                Ok(())
            }
        }
    }
}

/// One line of a kept trace.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct TraceLine {
    pub at: SimTime,
    pub node: String,
    #[serde(flatten)]
    pub event: Event,
}

/// A client operation and the node that served it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ClientOperation {
    pub node: String,
    /// The client's connection to `node` this operation went over, counted from 0. A new
    /// connection is a new session: after a lost connection (say, the node crashed and came back
    /// with only its durable state) reads may legitimately go back in time.
    pub session: u64,
    pub operation: Operation<Command, Response>,
    /// Certainly without effect: never sent, or refused by the node. Such an operation is no
    /// evidence for any check; keeping it indeterminate instead would only make the
    /// linearizability search try it everywhere.
    pub not_executed: bool,
    /// Position in the order the primary executed operations, if it did. The linearizability
    /// check verifies this order first (cheap, exact when it holds) before searching.
    pub primary_order: Option<u64>,
}

/// The state of all replicas and the primary once a phase's writes have replicated.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Checkpoint {
    pub phase: usize,
    /// Length of the primary's binlog when the checkpoint was taken.
    pub binlog_end: Offset,
    pub primary: NodeSnapshot,
    pub replicas: Vec<NodeSnapshot>,
}

/// What a reader saw on a replica right after the harness decided, from Pika's own signals, that
/// it had caught up with the primary's binlog at `offset`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CaughtUpRead {
    pub phase: usize,
    /// The primary's binlog offset the replica was taken to have caught up with.
    pub offset: Offset,
    pub snapshot: NodeSnapshot,
}

/// How a run ended, short of the checkers' verdict.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Ending {
    Completed,
    /// The clients of `phase` did not finish by the phase deadline.
    PhaseTimedOut {
        phase: usize,
        deadline: SimTime,
    },
    /// A replica did not catch up by the catch-up deadline.
    Stuck {
        phase: usize,
        replica: String,
        offset: Offset,
        primary_offset: Offset,
        since: SimTime,
    },
    /// A caught-up node did not answer the snapshot request, so the checkpoint could not be taken.
    Unobservable {
        phase: usize,
        node: String,
    },
}

/// Everything a run leaves for the checkers.
#[derive(Clone, Debug, Default)]
pub struct Record {
    pub binlog: Vec<BinlogEntry>,
    pub idle_points: Vec<NodeSnapshot>,
    pub history: Vec<ClientOperation>,
    pub checkpoints: Vec<Checkpoint>,
    /// Reads right after a catch-up judged by Pika's signals (only when the behaviours that make
    /// those signals differ from the truth are on).
    pub caught_up_reads: Vec<CaughtUpRead>,
    pub trace_hash: u64,
    pub trace_events: u64,
    /// The ordered trace itself, when the probe was asked to keep it.
    pub trace: Option<Vec<TraceLine>>,
    /// How often the run hit each coverage mark.
    pub marks: MarkCounts,
}

#[derive(Clone)]
pub struct Probe {
    record: Arc<Mutex<ProbeState>>,
}

struct ProbeState {
    record: Record,
    hasher: StableHasher,
    /// Operations the primary has executed so far.
    executed_by_primary: u64,
    /// Trace names of the clients, made once: two events per operation name their client.
    client_names: BTreeMap<u64, Arc<str>>,
}

impl ProbeState {
    fn client_name(&mut self, client: u64) -> Arc<str> {
        self.client_names.entry(client).or_insert_with(|| Arc::from(format!("client-{client}"))).clone()
    }
}

impl Probe {
    pub fn new(keep_trace: bool) -> Probe {
        let record = Record { trace: keep_trace.then(Vec::new), ..Record::default() };
        Probe {
            record: Arc::new(Mutex::new(ProbeState {
                record,
                hasher: StableHasher::default(),
                executed_by_primary: 0,
                client_names: BTreeMap::new(),
            })),
        }
    }

    fn lock(&self) -> MutexGuard<'_, ProbeState> {
        // A panic elsewhere in the simulation (an invariant firing) must not hide the record.
        self.record.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    pub fn event(&self, node: &str, event: Event) {
        let at = time::now();
        match event.level() {
            tracing::Level::INFO => tracing::info!(target: "replsim", node, "{at} {node:<10} {event}"),
            tracing::Level::DEBUG => tracing::debug!(target: "replsim", node, "{at} {node:<10} {event}"),
            _ => tracing::trace!(target: "replsim", node, "{at} {node:<10} {event}"),
        }
        let mut state = self.lock();
        (at, node, &event).hash(&mut state.hasher);
        state.record.trace_events += 1;
        if let Some(trace) = state.record.trace.as_mut() {
            trace.push(TraceLine { at, node: node.to_string(), event });
        }
    }

    /// The run reached a coverage mark (a counter, not a trace line).
    pub fn mark(&self, mark: Mark) {
        self.lock().record.marks.hit(mark);
    }

    pub fn binlog_appended(&self, node: &str, entry: &BinlogEntry) {
        self.lock().record.binlog.push(entry.clone());
        self.event(node, Event::BinlogAppend { offset: entry.offset, command: entry.command.clone() });
    }

    pub fn idle_point(&self, snapshot: NodeSnapshot) {
        self.lock().record.idle_points.push(snapshot);
    }

    /// Records a call; returns the handle to complete it with [`Probe::returned`].
    pub fn invoked(&self, node: &str, session: u64, client: u64, command: &Command, target: Target) -> usize {
        let name = self.lock().client_name(client);
        self.event(&name, Event::Invoke { client, command: command.clone(), target });
        let mut state = self.lock();
        let operation = Operation { client, call: time::now(), returned: None, input: command.clone(), output: None };
        state.record.history.push(ClientOperation {
            node: node.to_string(),
            session,
            operation,
            not_executed: false,
            primary_order: None,
        });
        state.record.history.len() - 1
    }

    /// Completes a call. `response: None` leaves it indeterminate.
    pub fn returned(&self, handle: usize, response: Option<Response>) {
        let client = {
            let mut state = self.lock();
            let operation = &mut state.record.history[handle].operation;
            if response.is_some() {
                operation.returned = Some(time::now());
                operation.output = response.clone();
            }
            operation.client
        };
        let name = self.lock().client_name(client);
        self.event(&name, Event::Return { client, response });
    }

    /// The primary executed client operation `handle` (called under the primary's lock).
    pub fn executed_by_primary(&self, handle: usize) {
        let mut state = self.lock();
        let position = state.executed_by_primary;
        state.executed_by_primary += 1;
        if let Some(operation) = state.record.history.get_mut(handle) {
            operation.primary_order = Some(position);
        }
    }

    /// Completes a call that certainly had no effect.
    pub fn not_executed(&self, handle: usize, reason: String) {
        let client = {
            let mut state = self.lock();
            let operation = &mut state.record.history[handle];
            operation.not_executed = true;
            operation.operation.client
        };
        let name = self.lock().client_name(client);
        self.event(&name, Event::NotExecuted { client, reason });
    }

    pub fn checkpoint(&self, checkpoint: Checkpoint) {
        self.lock().record.checkpoints.push(checkpoint);
    }

    pub fn caught_up_read(&self, read: CaughtUpRead) {
        self.lock().record.caught_up_reads.push(read);
    }

    /// Takes the record, with the trace hash as of now. Later events start a new record.
    pub fn take_record(&self) -> Record {
        let mut state = self.lock();
        let mut record = std::mem::take(&mut state.record);
        record.trace_hash = state.hasher.finish();
        record
    }
}
