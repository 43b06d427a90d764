//! Judging a live run with the checks that apply to a black box: the primary's operations must
//! be linearizable ([`replsim_model::linearizability`]); replica reads must fit an order the
//! primary's history admits, per session, and never fall below a catch-up floor
//! ([`replsim_model::check::black_box_reads`]); after each catch-up every replica's whole
//! keyspace must equal the primary's; a replica that misses the catch-up deadline is a liveness
//! failure.

use std::collections::BTreeMap;
use std::fmt;
use std::time::Duration;

use replsim_model::binlog::Offset;
use replsim_model::check::black_box_reads::{check_black_box_reads, BlackBoxReadViolation, Floor, ReplicaSession};
use replsim_model::check::{NodeSnapshot, SimTime};
use replsim_model::command::{Command, Db, Key, Response, Value};
use replsim_model::history::Operation;
use replsim_model::linearizability::{self, check_client_history};
use replsim_model::store::Store;

use replsim_sim::probe::Checkpoint;

use super::faults::LiveFault;
use super::LiveCase;
use crate::runner::Check;

/// One operation as a client saw it.
#[derive(Clone, Debug)]
pub(crate) struct Recorded {
    /// 0: the primary; `i`: replica `i`.
    pub node: usize,
    /// Which connection of this client to this node (a new one after each failure).
    pub session: u64,
    pub operation: Operation<Command, Response>,
    /// `false`: certainly never reached the server (no connection).
    pub executed: bool,
}

impl Recorded {
    pub fn not_executed(client: u64, node: usize, session: u64, command: &Command, at: SimTime) -> Recorded {
        let operation = Operation { client, call: at, returned: None, input: command.clone(), output: None };
        Recorded { node, session, operation, executed: false }
    }
}

/// A replica that had not reached the primary's offset by the deadline.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Stuck {
    pub replica: String,
    /// Its last reported offset (`None`: it never answered).
    pub offset: Option<String>,
    pub primary_offset: u64,
    pub deadline: Duration,
}

/// What the harness saw after a phase.
#[derive(Clone, Debug)]
pub(crate) struct PhaseRecord {
    /// 0-based.
    pub phase: usize,
    pub stuck: Vec<Stuck>,
    pub primary: Store,
    /// Every replica in order, with its keyspace if it caught up.
    pub replicas: Vec<(String, Option<Store>)>,
    pub floor: Floor,
}

/// One key on which a replica and the primary disagree.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeyDifference {
    pub db: Db,
    pub key: Key,
    pub primary: Option<Value>,
    pub replica: Option<Value>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LiveViolation {
    /// The primary's operations have no linearization.
    Linearizability {
        report: String,
    },
    ReplicaRead(BlackBoxReadViolation),
    /// After catch-up (`phase` 1-based), a replica's keyspace differs from the primary's.
    Convergence {
        phase: usize,
        replica: String,
        differences: Vec<KeyDifference>,
    },
    /// A written scenario's expectation did not hold at its catch-up point.
    Expectation {
        name: String,
        problem: String,
    },
    /// A replica missed the catch-up deadline after phase `phase` (1-based).
    NoProgress {
        phase: usize,
        replica: String,
        offset: Option<String>,
        primary_offset: u64,
        deadline: Duration,
    },
}

impl LiveViolation {
    pub fn check(&self) -> Check {
        match self {
            LiveViolation::Linearizability { .. } => Check::Linearizability,
            LiveViolation::ReplicaRead(_) => Check::ReplicaReads,
            LiveViolation::Convergence { .. } => Check::Convergence,
            LiveViolation::NoProgress { .. } => Check::Liveness,
            LiveViolation::Expectation { .. } => Check::Expectation,
        }
    }
}

/// Differences listed in full up to this many; the rest are counted.
const DIFFERENCES_SHOWN_MAX: usize = 10;

impl fmt::Display for LiveViolation {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(formatter, "[{}] ", self.check())?;
        match self {
            LiveViolation::Linearizability { report } => write!(formatter, "client history on the primary: {report}"),
            LiveViolation::ReplicaRead(violation) => write!(formatter, "{violation}"),
            LiveViolation::Convergence { phase, replica, differences } => {
                write!(
                    formatter,
                    "after phase {phase} and catch-up, {replica} differs from the primary in {} key(s)",
                    differences.len()
                )?;
                for difference in differences.iter().take(DIFFERENCES_SHOWN_MAX) {
                    let value = |value: &Option<Value>| value.as_deref().unwrap_or("nil").to_string();
                    let db = if difference.db == Db(0) { String::new() } else { format!("[{}] ", difference.db) };
                    write!(
                        formatter,
                        "\n  {db}{}: primary={} {replica}={}",
                        difference.key,
                        value(&difference.primary),
                        value(&difference.replica)
                    )?;
                }
                if differences.len() > DIFFERENCES_SHOWN_MAX {
                    write!(formatter, "\n  … and {} more", differences.len() - DIFFERENCES_SHOWN_MAX)?;
                }
                Ok(())
            }
            LiveViolation::Expectation { name, problem } => write!(formatter, "expected {name}: {problem}"),
            LiveViolation::NoProgress { phase, replica, offset, primary_offset, deadline } => write!(
                formatter,
                "no progress after phase {phase}: {replica} stuck at offset {} of {primary_offset} after {deadline:?}",
                offset.as_deref().unwrap_or("unknown (no answer)")
            ),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LiveOutcome {
    Pass,
    Fail(Vec<LiveViolation>),
    /// No verdict (the linearizability budget ran out): never a pass.
    Unknown(String),
}

#[derive(Clone, Debug)]
pub struct LiveVerdict {
    pub scenario: String,
    pub seed: u64,
    pub outcome: LiveOutcome,
    pub faults: Vec<LiveFault>,
    /// The operations clients ran on the primary that may have taken effect: the history the
    /// linearizability check judged, for `--history-out` and `replsim check`.
    pub primary_history: Vec<Operation<Command, Response>>,
    pub primary_operations: usize,
    pub replica_reads: usize,
    pub phases: usize,
    /// Monotonic time from the first operation to the last catch-up.
    pub elapsed: Duration,
}

impl LiveVerdict {
    pub fn is_pass(&self) -> bool {
        self.outcome == LiveOutcome::Pass
    }

    pub fn violations(&self) -> &[LiveViolation] {
        match &self.outcome {
            LiveOutcome::Fail(violations) => violations,
            _ => &[],
        }
    }

    pub fn checks(&self) -> Vec<Check> {
        let mut checks: Vec<Check> = self.violations().iter().map(LiveViolation::check).collect();
        checks.sort();
        checks.dedup();
        checks
    }

    /// `FAIL [convergence] scenario=… seed=… (live)`.
    pub fn headline(&self) -> String {
        let status = match &self.outcome {
            LiveOutcome::Pass => "PASS".to_string(),
            LiveOutcome::Fail(_) => {
                let checks: Vec<String> = self.checks().iter().map(Check::to_string).collect();
                format!("FAIL [{}]", checks.join(", "))
            }
            LiveOutcome::Unknown(reason) => format!("UNKNOWN ({reason})"),
        };
        format!(
            "{status} scenario={} seed={} live: {} primary ops, {} replica reads, {} phase(s), {} fault(s), {} ms",
            self.scenario,
            self.seed,
            self.primary_operations,
            self.replica_reads,
            self.phases,
            self.faults.len(),
            self.elapsed.as_millis()
        )
    }
}

impl fmt::Display for LiveVerdict {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(formatter, "{}", self.headline())?;
        for violation in self.violations() {
            write!(formatter, "\n{violation}")?;
        }
        if !self.is_pass() && !self.faults.is_empty() {
            let faults: Vec<String> = self.faults.iter().map(LiveFault::to_string).collect();
            write!(formatter, "\nfaults: {}", faults.join("; "))?;
        }
        Ok(())
    }
}

/// Search steps the linearizability check may take (as in the simulation's runner: a step count,
/// so the verdict does not depend on how busy the machine is).
const LINEARIZABILITY_STEPS_MAX: u64 = 5_000_000;

pub(crate) fn judge(
    case: &LiveCase,
    nodes: &[String],
    history: Vec<Recorded>,
    phases: Vec<PhaseRecord>,
) -> LiveVerdict {
    let elapsed = Duration::from_nanos(phases.last().map_or(0, |phase| phase.floor.at.0));
    let primary_history: Vec<Operation<Command, Response>> = history
        .iter()
        .filter(|recorded| recorded.node == 0 && recorded.executed)
        .map(|recorded| recorded.operation.clone())
        .collect();
    let mut violations = Vec::new();
    let options =
        linearizability::Options { timeout: None, steps_max: Some(LINEARIZABILITY_STEPS_MAX), ..Default::default() };
    let unknown = match check_client_history(&primary_history, &options) {
        linearizability::Verdict::Linearizable(_) => None,
        linearizability::Verdict::NotLinearizable(counterexample) => {
            violations.push(LiveViolation::Linearizability { report: counterexample.to_string() });
            None
        }
        linearizability::Verdict::Unknown(reason) => Some(format!("linearizability undecided: {reason}")),
    };
    let sessions = replica_sessions(nodes, &history);
    let replica_reads = sessions.iter().map(|session| session.reads.len()).sum();
    let floors: Vec<Floor> = phases.iter().map(|phase| phase.floor.clone()).collect();
    violations.extend(
        check_black_box_reads(&primary_history, &floors, &sessions).into_iter().map(LiveViolation::ReplicaRead),
    );
    for phase in &phases {
        for stuck in &phase.stuck {
            violations.push(LiveViolation::NoProgress {
                phase: phase.phase + 1,
                replica: stuck.replica.clone(),
                offset: stuck.offset.clone(),
                primary_offset: stuck.primary_offset,
                deadline: stuck.deadline,
            });
        }
        for (replica, store) in phase.replicas.iter().filter_map(|(name, store)| Some((name, store.as_ref()?))) {
            let differences: Vec<KeyDifference> = phase
                .primary
                .differing_keys(store)
                .into_iter()
                .map(|(db, key)| KeyDifference {
                    primary: phase.primary.get(db, &key).cloned(),
                    replica: store.get(db, &key).cloned(),
                    db,
                    key,
                })
                .collect();
            if !differences.is_empty() {
                violations.push(LiveViolation::Convergence {
                    phase: phase.phase + 1,
                    replica: replica.clone(),
                    differences,
                });
            }
        }
    }
    let checkpoints = checkpoints(&phases);
    for expectation in &case.expectations {
        // No verdict for a catch-up point a replica missed: liveness reports that.
        if let Some(Err(problem)) = expectation.judge(&checkpoints) {
            violations.push(LiveViolation::Expectation { name: expectation.name.clone(), problem });
        }
    }
    let outcome = match (violations.is_empty(), unknown) {
        (false, _) => LiveOutcome::Fail(violations),
        (true, Some(reason)) => LiveOutcome::Unknown(reason),
        (true, None) => LiveOutcome::Pass,
    };
    LiveVerdict {
        scenario: case.scenario.clone(),
        seed: case.seed,
        outcome,
        faults: case.faults.clone(),
        primary_operations: primary_history.len(),
        primary_history,
        replica_reads,
        phases: phases.len(),
        elapsed,
    }
}

/// The catch-up points every replica reached, in the simulation's shape, for a written
/// scenario's expectations. Offsets are not comparable across a black box's nodes: they are 0.
fn checkpoints(phases: &[PhaseRecord]) -> Vec<Checkpoint> {
    let snapshot = |node: &str, store: &Store, at: SimTime| NodeSnapshot {
        node: node.to_string(),
        offset: Offset::ZERO,
        store: store.clone(),
        at,
    };
    phases
        .iter()
        .filter_map(|phase| {
            let at = phase.floor.at;
            let replicas: Option<Vec<NodeSnapshot>> = phase
                .replicas
                .iter()
                .map(|(name, store)| store.as_ref().map(|store| snapshot(name, store, at)))
                .collect();
            Some(Checkpoint {
                phase: phase.phase + 1,
                binlog_end: Offset::ZERO,
                primary: snapshot("primary", &phase.primary, at),
                replicas: replicas?,
            })
        })
        .collect()
}

/// Replica reads grouped by (replica, client, connection): a session ends with its connection.
fn replica_sessions(nodes: &[String], history: &[Recorded]) -> Vec<ReplicaSession> {
    let mut sessions: BTreeMap<(usize, u64, u64), Vec<Operation<Command, Response>>> = BTreeMap::new();
    for recorded in history.iter().filter(|recorded| recorded.node != 0 && recorded.operation.output.is_some()) {
        let session = (recorded.node, recorded.operation.client, recorded.session);
        sessions.entry(session).or_default().push(recorded.operation.clone());
    }
    sessions
        .into_iter()
        .map(|((node, client, connection), mut reads)| {
            reads.sort_by_key(|read| read.call);
            let name = nodes.get(node).cloned().unwrap_or_else(|| format!("node-{node}"));
            ReplicaSession { name: format!("{name} client {client} connection {connection}"), reads }
        })
        .collect()
}
