//! Carrying out a live case: clients on threads, faults on another, catch-up and snapshots
//! between phases. What it records goes to [`super::judge`].

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Condvar, Mutex};
use std::time::{Duration, Instant};

use redis::Value;
use replsim_model::check::black_box_reads::Floor;
use replsim_model::check::SimTime;
use replsim_model::command::{Command, Db, Response};
use replsim_model::history::Operation;
use replsim_model::store::Store;
use replsim_sim::workload::{ClientScript, Phase, ScriptedOp, Target};

use super::client::{Address, Connection, RequestError};
use super::faults::{FaultAction, LiveFault, LiveFaultKinds};
use super::info::{ReplicationInfo, ReplicationOffset, Role};
use super::judge::{judge, LiveVerdict, PhaseRecord, Recorded, Stuck};
use super::spawn::SpawnedServers;
use super::{LiveCase, LiveError, LiveOptions, Servers};

/// The least time a pair gets to be caught up before a case starts (see `LivePair::reset`).
const READY_DEADLINE_MIN: Duration = Duration::from_secs(10);

/// What a replica's `masterauth` is set to while a test holds its link down.
const WRONG_MASTERAUTH: &str = "replsim-holds-this-link-down";
/// How often catch-up polls `INFO replication`.
const CATCH_UP_POLL: Duration = Duration::from_millis(5);
/// Bound on SCAN round trips per database (each returns up to 1000 keys).
const SCAN_ROUNDS_MAX: usize = 100_000;

#[derive(Clone, Debug)]
pub(crate) struct Node {
    pub name: String,
    pub address: Address,
}

impl Node {
    fn error(&self, command: &str, error: RequestError) -> LiveError {
        let (node, address) = (self.name.clone(), self.address.clone());
        match error {
            RequestError::Connect(problem) | RequestError::Io(problem) => {
                LiveError::Unreachable { node, address, problem }
            }
            RequestError::Timeout(after) => {
                LiveError::Unreachable { node, address, problem: format!("no reply to {command} within {after:?}") }
            }
            RequestError::Refused(reply) => LiveError::Refused { node, address, command: command.to_string(), reply },
            RequestError::Unexpected(problem) => LiveError::Protocol { node, address, problem },
        }
    }

    fn open(&self, timeout: Duration) -> Result<Connection, LiveError> {
        Connection::open(&self.address, timeout).map_err(|error| self.error("PING", error))
    }

    fn replication(&self, connection: &mut Connection) -> Result<ReplicationInfo, LiveError> {
        let text =
            connection.request_text(&["INFO", "replication"]).map_err(|error| self.error("INFO replication", error))?;
        ReplicationInfo::parse(&text).map_err(|error| LiveError::Protocol {
            node: self.name.clone(),
            address: self.address.clone(),
            problem: error.to_string(),
        })
    }
}

/// A primary and its replicas, connected and checked (roles, what they permit); started by
/// replsim when asked, and then torn down when this drops.
pub struct LivePair {
    primary: Node,
    replicas: Vec<Node>,
    spawned: Option<SpawnedServers>,
    debug_permitted: bool,
}

impl LivePair {
    pub fn connect(servers: &Servers, options: &LiveOptions) -> Result<LivePair, LiveError> {
        let (spawned, primary, replicas) = match servers {
            Servers::Spawn(spawn) => {
                let spawned = SpawnedServers::start(spawn)?;
                let (primary, replicas) = (spawned.primary(), spawned.replicas());
                (Some(spawned), primary, replicas)
            }
            Servers::Existing { primary, replicas } => {
                if !options.allow_remote {
                    if let Some(address) =
                        std::iter::once(primary).chain(replicas).find(|address| !address.is_loopback())
                    {
                        return Err(LiveError::NotLoopback { address: address.clone() });
                    }
                }
                (None, primary.clone(), replicas.clone())
            }
        };
        let primary = Node { name: "primary".to_string(), address: primary };
        let replicas: Vec<Node> = replicas
            .into_iter()
            .enumerate()
            .map(|(index, address)| Node { name: format!("replica-{}", index + 1), address })
            .collect();
        let mut pair = LivePair { primary, replicas, spawned, debug_permitted: true };
        pair.check_roles(options)?;
        Ok(pair)
    }

    fn check_roles(&mut self, options: &LiveOptions) -> Result<(), LiveError> {
        let mut connection = self.primary.open(options.request_timeout)?;
        let info = self.primary.replication(&mut connection)?;
        if info.role != Role::Primary {
            return Err(self.wrong_role(&self.primary, "primary", "slave"));
        }
        for replica in &self.replicas {
            let mut connection = replica.open(options.request_timeout)?;
            if replica.replication(&mut connection)?.role != Role::Replica {
                return Err(self.wrong_role(replica, "replica", "master"));
            }
            match connection.request(&["DEBUG", "SLEEP", "0"]) {
                Ok(_) => {}
                Err(RequestError::Refused(_)) => self.debug_permitted = false,
                Err(error) => return Err(replica.error("DEBUG SLEEP 0", error)),
            }
        }
        Ok(())
    }

    fn wrong_role(&self, node: &Node, expected: &'static str, role: &str) -> LiveError {
        LiveError::WrongRole {
            node: node.name.clone(),
            address: node.address.clone(),
            expected,
            role: role.to_string(),
        }
    }

    /// The fault kinds these servers allow: stalls where DEBUG is permitted, restarts where
    /// replsim started the servers, broken links wherever there is a replica.
    pub fn fault_kinds_available(&self) -> LiveFaultKinds {
        if self.replicas.is_empty() {
            return LiveFaultKinds::default();
        }
        LiveFaultKinds { stall: self.debug_permitted, break_link: true, restart_replica: self.spawned.is_some() }
    }

    pub fn primary(&self) -> &Address {
        &self.primary.address
    }

    pub fn replicas(&self) -> Vec<Address> {
        self.replicas.iter().map(|replica| replica.address.clone()).collect()
    }

    /// Process ids of the servers replsim started (empty for an existing pair).
    pub fn pids(&self) -> Vec<u32> {
        self.spawned.as_ref().map(SpawnedServers::pids).unwrap_or_default()
    }

    /// The temporary directory of the servers replsim started: every one of them has it on its
    /// command line, so a test can look for stragglers by it.
    pub fn spawned_dir(&self) -> Option<std::path::PathBuf> {
        self.spawned.as_ref().map(|spawned| spawned.root().to_path_buf())
    }

    /// Runs one case: empties every database, runs the phases, judges.
    pub fn run(&mut self, case: &LiveCase, options: &LiveOptions, stop: &AtomicBool) -> Result<LiveVerdict, LiveError> {
        let addresses_replicas = case
            .workload
            .phases
            .iter()
            .flat_map(|phase| &phase.clients)
            .any(|client| client.ops.iter().any(|op| matches!(op.target, Target::Replica(_))));
        if self.replicas.is_empty() && (addresses_replicas || !case.faults.is_empty()) {
            return Err(LiveError::NoReplicas { wanted: 1, given: 0 });
        }
        let databases: BTreeSet<u8> = case
            .workload
            .phases
            .iter()
            .flat_map(|phase| &phase.clients)
            .flat_map(|client| &client.ops)
            .map(|op| op.command.db().0)
            .collect();
        self.reset(options)?;
        let started = Instant::now();
        let mut history: Vec<Recorded> = Vec::new();
        let mut phases: Vec<PhaseRecord> = Vec::new();
        let mut held_links: Vec<(usize, String)> = Vec::new();
        let mut next_client = 0u64;
        let mut result = Ok(());
        for (phase_index, phase) in case.workload.phases.iter().enumerate() {
            let faults: Vec<LiveFault> =
                case.faults.iter().filter(|fault| fault.phase == phase_index).cloned().collect();
            let first_client = next_client;
            next_client += phase.clients.len() as u64;
            let outcome = self.run_phase(phase, first_client, &faults, started, options, stop);
            match outcome {
                Ok((recorded, held)) => {
                    history.extend(recorded);
                    held_links.extend(held);
                }
                Err(error) => {
                    result = Err(error);
                    break;
                }
            }
            match self.settle(phase_index, &databases, started, options) {
                Ok(record) => phases.push(record),
                Err(error) => {
                    result = Err(error);
                    break;
                }
            }
        }
        let restored = self.restore_links(&held_links, options);
        result?;
        restored?;
        Ok(judge(case, &self.node_names(), history, phases))
    }

    fn node_names(&self) -> Vec<String> {
        std::iter::once(&self.primary).chain(&self.replicas).map(|node| node.name.clone()).collect()
    }

    /// FLUSHALL on the primary, and every replica caught up with it. Readiness before a case
    /// waits at least [`READY_DEADLINE_MIN`]: a short `catch_up_deadline`, chosen to see a replica
    /// stuck during the case, must not fail its start on a loaded machine (a freshly spawned
    /// replica's first sync took over 0.5 s while `cargo test` ran the live tests in parallel).
    fn reset(&self, options: &LiveOptions) -> Result<(), LiveError> {
        let mut primary = self.primary.open(options.request_timeout)?;
        primary.request(&["FLUSHALL"]).map_err(|error| self.primary.error("FLUSHALL", error))?;
        let patient =
            LiveOptions { catch_up_deadline: options.catch_up_deadline.max(READY_DEADLINE_MIN), ..options.clone() };
        let (stuck, _) = self.catch_up(&patient)?;
        match stuck.into_iter().next() {
            None => Ok(()),
            Some(stuck) => {
                let replica =
                    self.replicas.iter().find(|replica| replica.name == stuck.replica).unwrap_or(&self.primary);
                Err(LiveError::NotReady {
                    node: stuck.replica,
                    address: replica.address.clone(),
                    offset: stuck.offset.unwrap_or_else(|| "unknown (no answer)".to_string()),
                    primary_offset: stuck.primary_offset,
                })
            }
        }
    }

    #[allow(clippy::type_complexity)]
    fn run_phase(
        &mut self,
        phase: &Phase,
        first_client: u64,
        faults: &[LiveFault],
        started: Instant,
        options: &LiveOptions,
        stop: &AtomicBool,
    ) -> Result<(Vec<Recorded>, Vec<(usize, String)>), LiveError> {
        let nodes: Vec<Node> = std::iter::once(self.primary.clone()).chain(self.replicas.iter().cloned()).collect();
        let replicas = self.replicas.clone();
        let spawned = &mut self.spawned;
        let order = PhaseOrder::new(phase);
        let phase_started = Instant::now();
        std::thread::scope(|scope| {
            let injector = scope.spawn(|| inject(faults, &replicas, spawned, phase_started, options, stop));
            let workers: Vec<_> = phase
                .clients
                .iter()
                .enumerate()
                .map(|(index, script)| {
                    let (nodes, order) = (&nodes, &order);
                    let client = first_client + index as u64;
                    scope.spawn(move || run_client(client, script, nodes, order, started, options, stop))
                })
                .collect();
            let mut recorded = Vec::new();
            let mut first_error = None;
            for worker in workers {
                // A panic on a client thread is a harness bug: carry it on (the guard still tears down).
                match worker.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic)) {
                    Ok(operations) => recorded.extend(operations),
                    Err(error) => first_error = first_error.or(Some(error)),
                }
            }
            let held = injector.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic));
            match (first_error, held) {
                (Some(error), _) | (None, Err(error)) => Err(error),
                (None, Ok(held)) => Ok((recorded, held)),
            }
        })
    }

    /// After a phase: catch-up, snapshots of every node, the primary's state as the next floor.
    fn settle(
        &self,
        phase: usize,
        databases: &BTreeSet<u8>,
        started: Instant,
        options: &LiveOptions,
    ) -> Result<PhaseRecord, LiveError> {
        let (stuck, _) = self.catch_up(options)?;
        let mut primary = self.primary.open(options.request_timeout)?;
        let primary_store = snapshot(&mut primary, databases).map_err(|error| self.primary.error("SCAN", error))?;
        let mut replicas = Vec::new();
        for replica in &self.replicas {
            // A replica that missed the deadline is reported as such; its keyspace is not judged.
            if stuck.iter().any(|stuck| stuck.replica == replica.name) {
                replicas.push((replica.name.clone(), None));
                continue;
            }
            let store = replica.open(options.request_timeout).and_then(|mut connection| {
                snapshot(&mut connection, databases).map_err(|error| replica.error("SCAN", error))
            })?;
            replicas.push((replica.name.clone(), Some(store)));
        }
        let floor =
            Floor { at: since(started), label: format!("end of phase {}", phase + 1), store: primary_store.clone() };
        Ok(PhaseRecord { phase, stuck, primary: primary_store, replicas, floor })
    }

    /// Waits until every replica's offset reaches the primary's, or the deadline. Returns the
    /// replicas that did not, and the primary's offset.
    fn catch_up(&self, options: &LiveOptions) -> Result<(Vec<Stuck>, ReplicationOffset), LiveError> {
        let mut primary = self.primary.open(options.request_timeout)?;
        let target = self.primary.replication(&mut primary)?.offset;
        let deadline = Instant::now() + options.catch_up_deadline;
        let mut stuck = Vec::new();
        for replica in &self.replicas {
            let mut last_seen: Option<ReplicationOffset> = None;
            let mut connection: Option<Connection> = None;
            let reached = loop {
                if connection.is_none() {
                    connection = Connection::open(&replica.address, options.request_timeout).ok();
                }
                if let Some(open) = connection.as_mut() {
                    match open.request_text(&["INFO", "replication"]) {
                        Ok(text) => {
                            let info = ReplicationInfo::parse(&text).map_err(|error| LiveError::Protocol {
                                node: replica.name.clone(),
                                address: replica.address.clone(),
                                problem: error.to_string(),
                            })?;
                            if info.offset.reached(&target) {
                                break true;
                            }
                            last_seen = Some(info.offset);
                        }
                        Err(RequestError::Refused(reply)) if !reply.starts_with("LOADING") => {
                            return Err(replica.error("INFO replication", RequestError::Refused(reply)));
                        }
                        Err(_) => connection = None,
                    }
                }
                if Instant::now() >= deadline {
                    break false;
                }
                std::thread::sleep(CATCH_UP_POLL);
            };
            if !reached {
                stuck.push(Stuck {
                    replica: replica.name.clone(),
                    offset: last_seen.map(|offset| offset.to_string()),
                    primary_offset: target.total(),
                    deadline: options.catch_up_deadline,
                });
            }
        }
        Ok((stuck, target))
    }

    fn restore_links(&self, held: &[(usize, String)], options: &LiveOptions) -> Result<(), LiveError> {
        for (index, masterauth) in held {
            let replica = &self.replicas[*index];
            let mut connection = replica.open(options.request_timeout)?;
            connection
                .request(&["CONFIG", "SET", "masterauth", masterauth])
                .map_err(|error| replica.error("CONFIG SET masterauth", error))?;
        }
        Ok(())
    }
}

fn since(started: Instant) -> SimTime {
    SimTime(started.elapsed().as_nanos() as u64)
}

/// Ordering between the clients of a phase: a written scenario's operations may wait for
/// labelled operations of other clients to end (`after = "client 1 op 1"`).
struct PhaseOrder {
    labels: BTreeSet<String>,
    ended: Mutex<BTreeSet<String>>,
    changed: Condvar,
}

impl PhaseOrder {
    fn new(phase: &Phase) -> PhaseOrder {
        let labels = phase.labels().into_iter().map(str::to_string).collect();
        PhaseOrder { labels, ended: Mutex::new(BTreeSet::new()), changed: Condvar::new() }
    }

    /// Waits until every label of `after` that the phase carries has ended, at most `limit`
    /// (each labelled operation is bounded by the request timeout, so only a client that
    /// stopped early makes it run out).
    fn wait_for(&self, after: &[String], limit: Duration) {
        let waiting: Vec<&String> = after.iter().filter(|label| self.labels.contains(*label)).collect();
        if waiting.is_empty() {
            return;
        }
        let deadline = Instant::now() + limit;
        let mut ended = self.ended.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        while !waiting.iter().all(|label| ended.contains(*label)) {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return;
            }
            ended = self.changed.wait_timeout(ended, left).unwrap_or_else(|poisoned| poisoned.into_inner()).0;
        }
    }

    fn end(&self, label: Option<&str>) {
        if let Some(label) = label {
            self.ended.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).insert(label.to_string());
            self.changed.notify_all();
        }
    }
}

/// A client's connections, sessions (one per connection) and record while it runs its script.
struct ClientRun<'run> {
    client: u64,
    nodes: &'run [Node],
    started: Instant,
    options: &'run LiveOptions,
    connections: Vec<Option<Connection>>,
    sessions: Vec<u64>,
    recorded: Vec<Recorded>,
}

/// One client's script, in order, each operation stamped with monotonic time since the start.
fn run_client(
    client: u64,
    script: &ClientScript,
    nodes: &[Node],
    order: &PhaseOrder,
    started: Instant,
    options: &LiveOptions,
    stop: &AtomicBool,
) -> Result<Vec<Recorded>, LiveError> {
    let mut run = ClientRun {
        client,
        nodes,
        started,
        options,
        connections: nodes.iter().map(|_| None).collect(),
        sessions: vec![0; nodes.len()],
        recorded: Vec::with_capacity(script.ops.len()),
    };
    for op in &script.ops {
        if stop.load(Ordering::Relaxed) {
            return Err(LiveError::Stopped);
        }
        let think = options.think_max.map_or(op.think, |max| op.think.min(max));
        if !think.is_zero() {
            std::thread::sleep(think);
        }
        order.wait_for(&op.after, options.catch_up_deadline + options.request_timeout);
        let result = run.operation(op);
        // Ended, whatever the outcome: operations waiting for it may go.
        order.end(op.label.as_deref());
        result?;
    }
    Ok(run.recorded)
}

impl ClientRun<'_> {
    fn operation(&mut self, op: &ScriptedOp) -> Result<(), LiveError> {
        let (client, nodes, started, options) = (self.client, self.nodes, self.started, self.options);
        let (connections, sessions, recorded) = (&mut self.connections, &mut self.sessions, &mut self.recorded);
        let node = match op.target {
            Target::Primary => 0,
            Target::Replica(index) => 1 + index % (nodes.len() - 1).max(1),
        };
        let node = node.min(nodes.len() - 1);
        let is_replica = node != 0;
        if connections[node].is_none() {
            match Connection::open(&nodes[node].address, options.request_timeout) {
                Ok(connection) => connections[node] = Some(connection),
                Err(error) if is_replica && error.is_replica_unavailable() => {
                    recorded.push(Recorded::not_executed(client, node, sessions[node], &op.command, since(started)));
                    return Ok(());
                }
                Err(error) => return Err(nodes[node].error("PING", error)),
            }
        }
        let Some(connection) = connections[node].as_mut() else { return Ok(()) };
        let call = since(started);
        let result = connection.execute(&op.command);
        let returned = since(started);
        let operation = |output: Option<Response>| Operation {
            client,
            call,
            returned: output.as_ref().map(|_| returned),
            input: op.command.clone(),
            output,
        };
        match result {
            Ok(response) => recorded.push(Recorded {
                node,
                session: sessions[node],
                operation: operation(Some(response)),
                executed: true,
            }),
            Err(error) if is_replica && error.is_replica_unavailable() => {
                recorded.push(Recorded { node, session: sessions[node], operation: operation(None), executed: false });
                connections[node] = None;
                sessions[node] += 1;
            }
            Err(error) if error.is_indeterminate() => {
                recorded.push(Recorded { node, session: sessions[node], operation: operation(None), executed: true });
                connections[node] = None;
                sessions[node] += 1;
            }
            Err(error) => return Err(nodes[node].error(&op.command.to_string(), error)),
        }
        Ok(())
    }
}

/// Carries out a phase's faults at their times. Returns the links held down (replica index,
/// its `masterauth` before), to restore when the case ends.
fn inject(
    faults: &[LiveFault],
    replicas: &[Node],
    spawned: &mut Option<SpawnedServers>,
    phase_started: Instant,
    options: &LiveOptions,
    stop: &AtomicBool,
) -> Result<Vec<(usize, String)>, LiveError> {
    let mut held = Vec::new();
    for fault in faults {
        let due = phase_started + fault.after;
        let wait = due.saturating_duration_since(Instant::now());
        std::thread::sleep(wait);
        if stop.load(Ordering::Relaxed) {
            return Err(LiveError::Stopped);
        }
        let index = fault.replica % replicas.len();
        let replica = &replicas[index];
        match &fault.action {
            FaultAction::Stall { duration } => {
                let mut connection = replica.open(options.request_timeout + *duration)?;
                let seconds = format!("{:.3}", duration.as_secs_f64());
                connection
                    .request(&["DEBUG", "SLEEP", &seconds])
                    .map_err(|error| replica.error("DEBUG SLEEP", error))?;
            }
            FaultAction::BreakLink { hold_down } => {
                let mut connection = replica.open(options.request_timeout)?;
                if *hold_down {
                    let before = config_get(&mut connection, "masterauth")
                        .map_err(|error| replica.error("CONFIG GET masterauth", error))?;
                    connection
                        .request(&["CONFIG", "SET", "masterauth", WRONG_MASTERAUTH])
                        .map_err(|error| replica.error("CONFIG SET masterauth", error))?;
                    held.push((index, before));
                }
                connection
                    .request(&["CLIENT", "KILL", "TYPE", "master"])
                    .map_err(|error| replica.error("CLIENT KILL TYPE master", error))?;
            }
            FaultAction::RestartReplica => match spawned.as_mut() {
                Some(servers) => servers.restart_replica(index)?,
                None => {
                    return Err(LiveError::Spawn {
                        server: replica.name.clone(),
                        problem: "a replica restart needs servers replsim started (--spawn)".to_string(),
                    })
                }
            },
        }
    }
    Ok(held)
}

fn config_get(connection: &mut Connection, parameter: &str) -> Result<String, RequestError> {
    match connection.request(&["CONFIG", "GET", parameter])? {
        Value::Array(items) => match items.get(1) {
            Some(Value::BulkString(bytes)) => Ok(String::from_utf8_lossy(bytes).into_owned()),
            _ => Ok(String::new()),
        },
        Value::Map(pairs) => match pairs.first() {
            Some((_, Value::BulkString(bytes))) => Ok(String::from_utf8_lossy(bytes).into_owned()),
            _ => Ok(String::new()),
        },
        other => Err(RequestError::Unexpected(format!("CONFIG GET answered {other:?}"))),
    }
}

/// Every key of every database the workload used or the node reports in `INFO keyspace`
/// (Redis writes `db0:keys=…`, Pika `db0 Strings_keys=…`), with its value (a key of another type
/// than string shows as `<type>`).
fn snapshot(connection: &mut Connection, used: &BTreeSet<u8>) -> Result<Store, RequestError> {
    let keyspace = connection.request_text(&["INFO", "keyspace"])?;
    let mut databases = used.clone();
    databases.extend(keyspace.lines().filter_map(|line| {
        let digits = line.trim().strip_prefix("db")?;
        let end = digits.find(|char: char| !char.is_ascii_digit())?;
        digits[..end].parse::<u8>().ok()
    }));
    let mut store = Store::default();
    for db in databases {
        connection.select(db)?;
        for key in scan_keys(connection)? {
            let value = match connection.execute(&Command::get(Db(db), key.clone())) {
                Ok(Response::Value(Some(value))) => value,
                Ok(_) => continue,
                Err(RequestError::Refused(reply)) if reply.starts_with("WRONGTYPE") => {
                    format!("<{}>", connection.request_text(&["TYPE", &key])?).into()
                }
                Err(error) => return Err(error),
            };
            store.execute(&Command::set(Db(db), key, value));
        }
    }
    Ok(store)
}

fn scan_keys(connection: &mut Connection) -> Result<BTreeSet<String>, RequestError> {
    let mut keys = BTreeSet::new();
    let mut cursor = "0".to_string();
    for _ in 0..SCAN_ROUNDS_MAX {
        let reply = connection.request(&["SCAN", &cursor, "COUNT", "1000"])?;
        let Value::Array(parts) = reply else {
            return Err(RequestError::Unexpected(format!("SCAN answered {reply:?}")));
        };
        let (Some(Value::BulkString(next)), Some(Value::Array(batch))) = (parts.first(), parts.get(1)) else {
            return Err(RequestError::Unexpected(format!("SCAN answered {parts:?}")));
        };
        for key in batch {
            if let Value::BulkString(bytes) = key {
                keys.insert(String::from_utf8_lossy(bytes).into_owned());
            }
        }
        cursor = String::from_utf8_lossy(next).into_owned();
        if cursor == "0" {
            return Ok(keys);
        }
    }
    Err(RequestError::Unexpected(format!("SCAN did not finish in {SCAN_ROUNDS_MAX} rounds")))
}
