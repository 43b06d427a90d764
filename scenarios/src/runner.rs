//! The runner: (scenario, mode, seed) → a [`Verdict`]. It generates the workload from the seed,
//! runs the cluster in a fresh madsim runtime seeded with the same seed, and applies every checker
//! in `replsim-model` to what the run recorded.
//!
//! ```no_run
//! use replsim_scenarios::{runner, scenario::Scenario};
//! use replsim_sim::config::ApplyMode;
//! let verdict = runner::run(&Scenario::by_name("flushdb-race").unwrap(), ApplyMode::HashByKey, 7);
//! println!("{verdict}");
//! ```

use std::cell::Cell;
use std::collections::BTreeMap;
use std::fmt;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::PathBuf;
use std::sync::Arc;

use proptest::strategy::ValueTree;
use replsim_model::binlog::Offset;
use replsim_model::check::caught_up::check_read_after_catch_up;
use replsim_model::check::convergence::{check_convergence, ConvergenceFailure};
use replsim_model::check::diff::StoreDiff;
use replsim_model::check::prefix::{check_prefix_consistency, PrefixViolation};
use replsim_model::check::replica_reads::{check_replica_reads, ReplicaReadViolation};
use replsim_model::check::SimTime;
use replsim_model::command::{Command, Response};
use replsim_model::history::Operation;
use replsim_model::linearizability;
use replsim_model::linearizability::order::check_kv_with_proposal;
use replsim_sim::behaviour::Behaviours;
use replsim_sim::cluster::PRIMARY_NODE;
use replsim_sim::config::{ApplyMode, ClusterConfig};
use replsim_sim::marks::MarkCounts;
use replsim_sim::probe::{ClientOperation, Ending, Probe, Record, TraceLine};
use replsim_sim::workload::{Target, Workload};
use replsim_sim::SUT_INVARIANT_PREFIX;

use crate::file::ClusterSpec;
use crate::generate::generate;
use crate::harness_bug::HarnessBug;
use crate::scenario::{Scenario, Swarm};
use crate::script::Expectation;
use crate::sequential::sequential_workload;
use crate::swarm::{FaultKinds, SwarmConfig};

/// A fault schedule of `kinds` drawn by `seed` for a written scenario (`fault_draw`): the swarm's
/// fault strategy over the scenario's own replicas and phases.
fn drawn_faults(kinds: FaultKinds, replicas: usize, phases: usize, seed: u64) -> replsim_sim::fault::FaultSchedule {
    let mut config = SwarmConfig::for_seed(seed);
    config.replicas = replicas;
    config.phases = phases.max(1);
    config.faults = kinds;
    config.faults_per_phase_max = config.faults_per_phase_max.max(1);
    config.fault_schedule(seed)
}

/// Everything that determines a run. Built from (scenario, mode, seed), or by shrinking.
#[derive(Clone, Debug)]
pub struct Case {
    pub scenario: String,
    pub mode: ApplyMode,
    pub seed: u64,
    pub cluster: ClusterConfig,
    pub workload: Workload,
    /// The seed's swarm configuration, for swarm scenarios (already applied to `cluster` and
    /// `workload`; kept to print with a failure).
    pub swarm: Option<SwarmConfig>,
    /// The fault kinds were chosen on the command line (`--faults`) instead of drawn by the seed.
    pub faults_chosen: bool,
    /// A written scenario's expectations, judged at its catch-up points.
    pub expectations: Vec<Expectation>,
    /// The scenario file the case comes from (`None`: a built-in scenario, named by `scenario`).
    pub scenario_file: Option<PathBuf>,
    /// The cluster as the scenario built it for this mode and seed: the repro line carries
    /// every setting `cluster` has changed since (`--cluster`), so the line reruns this case.
    pub cluster_as_built: Arc<ClusterConfig>,
    /// Guided fuzzing's mutations of the seed's swarm configuration, applied in order
    /// ([`crate::guided::mutate`]); empty for a plain seed.
    pub mutations: Vec<u64>,
}

impl Case {
    pub fn new(scenario: &Scenario, mode: ApplyMode, seed: u64) -> Case {
        Case::build(scenario, mode, seed, None)
    }

    /// The case of `seed`, with `swarm` instead of the seed's own swarm configuration if given.
    fn build(scenario: &Scenario, mode: ApplyMode, seed: u64, swarm_given: Option<SwarmConfig>) -> Case {
        let mut cluster = scenario.cluster_for(mode);
        let mut swarm = None;
        let (workload, expectations) = match (scenario.swarm, &scenario.script) {
            (Some(kind), _) => {
                let config = swarm_given.unwrap_or_else(|| SwarmConfig::for_scenario(seed, kind));
                let workload = match kind {
                    Swarm::Sequential => sequential_workload(&config, seed),
                    Swarm::Drawn | Swarm::EveryFault => generate(&config.profile().strategy(), seed).current(),
                };
                config.configure(&mut cluster, config.fault_schedule(seed));
                swarm = Some(config);
                (workload, Vec::new())
            }
            (None, Some(script)) if !script.phases.is_empty() => (script.workload(seed), script.expectations.clone()),
            (None, _) => (generate(&scenario.profile.strategy(), seed).current(), Vec::new()),
        };
        if let Some(kinds) = scenario.script.as_ref().and_then(|script| script.fault_draw) {
            cluster.faults = drawn_faults(kinds, cluster.replicas, workload.phases.len(), seed);
        }
        Case {
            scenario: scenario.name.clone(),
            mode,
            seed,
            cluster_as_built: Arc::new(cluster.clone()),
            cluster,
            workload,
            swarm,
            faults_chosen: false,
            expectations,
            scenario_file: scenario.source.clone(),
            mutations: Vec::new(),
        }
    }

    /// The same case with its swarm configuration mutated by `mutations`, in order (guided
    /// fuzzing); the seed then draws the workload and faults for the mutated configuration. Only
    /// swarm cases have a configuration to mutate. Apply before [`Case::with_fault_kinds`].
    pub fn with_mutations(self, scenario: &Scenario, mutations: &[u64]) -> Result<Case, String> {
        let Some(mut swarm) = self.swarm.clone() else {
            return Err(format!(
                "--mutations applies to the swarm scenarios (swarm, swarm-every-fault, sequential); {} has none",
                self.scenario
            ));
        };
        for mutation in mutations {
            swarm = crate::guided::mutate(&swarm, *mutation);
        }
        let mut case = Case::build(scenario, self.mode, self.seed, Some(swarm));
        case.cluster.bug = self.cluster.bug;
        case.mutations = mutations.to_vec();
        Ok(case)
    }

    /// The same case with these fault kinds on instead of the ones its seed drew; the seed still
    /// draws the schedule. Only swarm cases have faults.
    pub fn with_fault_kinds(mut self, kinds: FaultKinds) -> Result<Case, String> {
        let Some(swarm) = self.swarm.as_mut() else {
            return Err(format!(
                "--faults applies to the swarm scenarios (swarm, swarm-every-fault, sequential); {} has no faults",
                self.scenario
            ));
        };
        swarm.faults = kinds;
        let schedule = swarm.fault_schedule(self.seed);
        swarm.configure(&mut self.cluster, schedule);
        // `--faults` is its own flag: what it changes (the schedule, stalls) is part of the case as
        // built, not a `--cluster` setting. Apply it before `with_cluster_settings`.
        self.cluster_as_built = Arc::new(self.cluster.clone());
        self.faults_chosen = true;
        Ok(self)
    }

    /// The same case with a planted bug.
    pub fn with_bug(mut self, bug: Option<replsim_sim::bug::Bug>) -> Case {
        self.cluster.bug = bug;
        self
    }

    /// The same case with these behaviours of Pika on (`Behaviours::default()`: the ideal).
    pub fn with_behaviours(mut self, behaviours: Behaviours) -> Case {
        self.cluster.behaviours = behaviours;
        self
    }

    /// ` behaviours=…` for a headline, empty under the ideal profile.
    fn behaviours_field(&self) -> String {
        let behaviours = &self.cluster.behaviours;
        if behaviours.is_ideal() {
            String::new()
        } else {
            format!(" behaviours={behaviours}")
        }
    }

    /// The one command that reproduces this case (`replsim replay`, with `--bug` when one is
    /// planted, `--scenario-file` for a written scenario, `--cluster` for every cluster setting
    /// changed since the scenario built the case, `--behaviours` when Pika's are on). The one place
    /// repro lines are formatted.
    pub fn repro_command(&self) -> String {
        let bug = self.cluster.bug.map(|bug| format!(" --bug {bug}")).unwrap_or_default();
        let behaviours = &self.cluster.behaviours;
        let bug = if behaviours.is_ideal() { bug } else { format!("{bug} --behaviours {behaviours}") };
        let faults = match (&self.swarm, self.faults_chosen) {
            (Some(swarm), true) => format!(" --faults {}", swarm.faults),
            _ => String::new(),
        };
        let scenario = match &self.scenario_file {
            Some(path) => format!("--scenario-file {}", path.display()),
            None => format!("--scenario {}", self.scenario),
        };
        let mutations = if self.mutations.is_empty() {
            String::new()
        } else {
            format!(" --mutations {}", self.mutations.iter().map(u64::to_string).collect::<Vec<_>>().join(","))
        };
        let settings = ClusterSpec::difference(&self.cluster_as_built, &self.cluster).to_flag();
        let cluster = if settings.is_empty() { String::new() } else { format!(" --cluster '{settings}'") };
        format!(
            "{REPLAY_COMMAND} {scenario} --mode {} --seed {}{mutations}{bug}{faults}{cluster}",
            self.mode, self.seed
        )
    }

    /// Checks the case before it runs: the cluster's bounds, and that every operation goes to a
    /// replica and a database the cluster has (the sim would otherwise wrap the index round).
    pub fn validate(&self) -> Result<(), String> {
        self.cluster.validate().map_err(|problem| format!("cluster: {problem}"))?;
        for (phase_index, phase) in self.workload.phases.iter().enumerate() {
            for (client_index, client) in phase.clients.iter().enumerate() {
                for (op_index, op) in client.ops.iter().enumerate() {
                    let place = || format!("phase {} client {} op {}", phase_index + 1, client_index + 1, op_index + 1);
                    if let Target::Replica(replica) = op.target {
                        if replica >= self.cluster.replicas {
                            return Err(format!(
                                "{}: replica-{} does not exist (the cluster has {} replica(s))",
                                place(),
                                replica + 1,
                                self.cluster.replicas
                            ));
                        }
                    }
                    if op.command.db().0 >= self.cluster.databases {
                        return Err(format!(
                            "{}: database {} does not exist (the cluster has {} database(s))",
                            place(),
                            op.command.db().0,
                            self.cluster.databases
                        ));
                    }
                }
            }
        }
        Ok(())
    }

    /// Applies cluster settings (`--cluster`) on top of the scenario's.
    pub fn with_cluster_settings(mut self, settings: &ClusterSpec) -> Result<Case, String> {
        settings.apply(&mut self.cluster);
        self.cluster.validate().map_err(|problem| format!("--cluster: {problem}"))?;
        Ok(self)
    }
}

/// How every repro line starts: `replsim replay` as a user without the binary installed runs it.
pub const REPLAY_COMMAND: &str = "cargo run --release -- replay";

/// The command that replays regression entry `location` (`FILE:LINE`), under `mode` instead of
/// the entry's own when given.
pub fn regression_repro_command(location: &str, mode: Option<ApplyMode>) -> String {
    let mode = mode.map(|mode| format!(" --mode {mode}")).unwrap_or_default();
    format!("{REPLAY_COMMAND} --regression {location}{mode}")
}

/// Which check found a violation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Check {
    Convergence,
    PrefixConsistency,
    Liveness,
    SutInvariant,
    Linearizability,
    ReplicaReads,
    /// A read right after Pika's signals said "caught up" saw stale data.
    ReadAfterCatchUp,
    /// An expectation a written scenario states.
    Expectation,
}

impl fmt::Display for Check {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(match self {
            Check::Convergence => "convergence",
            Check::PrefixConsistency => "prefix-consistency",
            Check::Liveness => "liveness",
            Check::SutInvariant => "sut-invariant",
            Check::Linearizability => "linearizability",
            Check::ReplicaReads => "replica-reads",
            Check::ReadAfterCatchUp => "read-after-catch-up",
            Check::Expectation => "expectation",
        })
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Violation {
    /// A checkpoint's nodes disagree with the binlog (`phase` is 1-based).
    Convergence {
        phase: usize,
        failure: ConvergenceFailure,
    },
    PrefixConsistency(PrefixViolation),
    /// A replica did not catch up by the deadline.
    NoProgress {
        phase: usize,
        replica: String,
        offset: Offset,
        primary_offset: Offset,
        since: SimTime,
    },
    /// An assertion inside the system under test fired.
    SutInvariant {
        message: String,
    },
    /// The clients' operations on the primary have no linearization (the checker's report).
    Linearizability {
        report: String,
    },
    /// A replica read no binlog prefix explains, or one that went back in its session.
    ReplicaRead {
        node: String,
        session: u64,
        violation: ReplicaReadViolation,
    },
    /// After phase `phase` the replica looked caught up with `offset` by the system's own signals,
    /// yet a read from it saw another state.
    StaleAfterCatchUp {
        phase: usize,
        offset: Offset,
        diff: StoreDiff,
    },
    /// A written scenario's expectation did not hold at its catch-up point.
    Expectation {
        name: String,
        problem: String,
    },
}

impl Violation {
    pub fn check(&self) -> Check {
        match self {
            Violation::Convergence { .. } => Check::Convergence,
            Violation::PrefixConsistency(_) => Check::PrefixConsistency,
            Violation::NoProgress { .. } => Check::Liveness,
            Violation::SutInvariant { .. } => Check::SutInvariant,
            Violation::Linearizability { .. } => Check::Linearizability,
            Violation::ReplicaRead { .. } => Check::ReplicaReads,
            Violation::StaleAfterCatchUp { .. } => Check::ReadAfterCatchUp,
            Violation::Expectation { .. } => Check::Expectation,
        }
    }
}

impl fmt::Display for Violation {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(formatter, "[{}] ", self.check())?;
        match self {
            Violation::Convergence { phase, failure } => write!(formatter, "after phase {phase}: {failure}"),
            Violation::PrefixConsistency(violation) => write!(formatter, "{violation}"),
            Violation::NoProgress { phase, replica, offset, primary_offset, since } => write!(
                formatter,
                "no progress after phase {phase}: {replica} stuck at offset {offset} of {primary_offset} since {since}"
            ),
            Violation::SutInvariant { message } => write!(formatter, "{message}"),
            Violation::Linearizability { report } => write!(formatter, "client history on the primary: {report}"),
            Violation::ReplicaRead { node, session, violation } => {
                write!(formatter, "read from {node} (session {session}): {violation}")
            }
            Violation::StaleAfterCatchUp { phase, offset, diff } => write!(
                formatter,
                "after phase {phase}, INFO replication said {} caught up with offset {offset}, but a read saw: {diff}",
                diff.node
            ),
            Violation::Expectation { name, problem } => write!(formatter, "expected {name}: {problem}"),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    Pass,
    Fail(Vec<Violation>),
    /// No verdict: the run hit a bound before it could be judged. Never reported as a pass.
    Unknown(String),
}

/// Counts that describe a run.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RunStats {
    pub client_ops: usize,
    pub binlog_entries: usize,
    pub idle_points: usize,
    pub checkpoints: usize,
    pub trace_events: u64,
}

#[derive(Clone, Debug)]
pub struct Verdict {
    pub case: Case,
    pub outcome: Outcome,
    pub trace_hash: u64,
    pub stats: RunStats,
    pub trace: Option<Vec<TraceLine>>,
    /// The operations clients ran on the primary — the history the linearizability check judged —
    /// when asked for with [`RunOptions::keep_history`].
    pub primary_history: Option<Vec<Operation<Command, Response>>>,
    /// Every client operation on every node, in call order, when asked for with
    /// [`RunOptions::keep_replies`].
    pub replies: Option<Vec<ClientOperation>>,
    /// How often the run hit each coverage mark of the system under test.
    pub marks: MarkCounts,
}

impl Verdict {
    pub fn is_pass(&self) -> bool {
        self.outcome == Outcome::Pass
    }

    pub fn is_fail(&self) -> bool {
        matches!(self.outcome, Outcome::Fail(_))
    }

    pub fn violations(&self) -> &[Violation] {
        match &self.outcome {
            Outcome::Fail(violations) => violations,
            _ => &[],
        }
    }

    /// One line: `FAIL flushdb-race hash-by-key seed=7 [prefix-consistency] …`.
    pub fn headline(&self) -> String {
        let case = &self.case;
        let status = match &self.outcome {
            Outcome::Pass => "PASS".to_string(),
            Outcome::Fail(violations) => {
                let mut checks: Vec<String> =
                    violations.iter().map(|violation| violation.check().to_string()).collect();
                checks.dedup();
                format!("FAIL [{}]", checks.join(", "))
            }
            Outcome::Unknown(reason) => format!("UNKNOWN ({reason})"),
        };
        format!(
            "{status} scenario={} mode={}{} seed={} trace={:016x}",
            case.scenario,
            case.mode,
            case.behaviours_field(),
            case.seed,
            self.trace_hash
        )
    }
}

impl fmt::Display for Verdict {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(formatter, "{}", self.headline())?;
        for violation in self.violations() {
            write!(formatter, "\n{violation}")?;
        }
        if !self.is_pass() {
            if let Some(bug) = self.case.cluster.bug {
                write!(formatter, "\nplanted bug: {bug}")?;
            }
            if let Some(swarm) = &self.case.swarm {
                write!(formatter, "\n{swarm}")?;
            }
            write!(formatter, "\nreproduce: {}", self.case.repro_command())?;
        }
        Ok(())
    }
}

#[derive(Clone, Copy, Debug, Default)]
pub struct RunOptions {
    /// Keep the ordered event trace in the verdict (for `--trace-out`); the hash is always kept.
    pub keep_trace: bool,
    /// Keep the primary's client history in the verdict (for `--history-out`).
    pub keep_history: bool,
    /// A bug planted in the harness, to test that it survives it.
    pub harness_bug: Option<HarnessBug>,
    /// Keep every client operation with its reply, on the primary and the replicas.
    pub keep_replies: bool,
}

thread_local! {
    /// How many runs this thread is inside (0 or 1): a panic there becomes the run's verdict.
    static RUNS_IN_PROGRESS: Cell<u32> = const { Cell::new(0) };
}

/// Whether this thread is inside [`run_case`], whose panics (a SUT assertion, a harness bug while
/// simulating or judging) become the run's verdict. A panic hook that silences the expected panics
/// of many runs (`replsim shrink`) asks this, so that a panic anywhere else is still reported.
pub fn inside_a_run() -> bool {
    RUNS_IN_PROGRESS.with(|runs| runs.get() > 0)
}

/// Marks this thread as inside a run until dropped, unwinding included.
struct InsideARun;

impl InsideARun {
    fn enter() -> InsideARun {
        RUNS_IN_PROGRESS.with(|runs| runs.set(runs.get() + 1));
        InsideARun
    }
}

impl Drop for InsideARun {
    fn drop(&mut self) {
        RUNS_IN_PROGRESS.with(|runs| runs.set(runs.get() - 1));
    }
}

/// Runs `scenario` under `mode` with `seed`.
pub fn run(scenario: &Scenario, mode: ApplyMode, seed: u64) -> Verdict {
    run_case(&Case::new(scenario, mode, seed), RunOptions::default())
}

/// Runs one fully specified case.
pub fn run_case(case: &Case, options: RunOptions) -> Verdict {
    let _inside = InsideARun::enter();
    let probe = Probe::new(options.keep_trace);
    let simulation = catch_unwind(AssertUnwindSafe(|| simulate(case, probe.clone())));
    let (record, outcome) = match simulation {
        Ok((record, ending)) => {
            // A checker that panics is a bug of the harness, not of the system under test: the
            // run has no verdict, and a fuzz campaign goes on to the next seed.
            let judged = catch_unwind(AssertUnwindSafe(|| {
                if options.harness_bug.is_some_and(|bug| bug.panics_judging(case.seed)) {
                    panic!("planted harness bug: a checker panics on seed {}", case.seed);
                }
                judge(case, &record, &ending)
            }));
            let outcome = judged.unwrap_or_else(|panic| {
                Outcome::Unknown(format!("harness error while judging: {}", panic_message(panic.as_ref())))
            });
            (record, outcome)
        }
        Err(panic) => {
            let message = panic_message(panic.as_ref());
            let record = probe.take_record();
            let outcome = match message.strip_prefix(SUT_INVARIANT_PREFIX) {
                Some(invariant) => Outcome::Fail(vec![Violation::SutInvariant { message: invariant.to_string() }]),
                None => Outcome::Unknown(format!("harness error: {message}")),
            };
            (record, outcome)
        }
    };
    let stats = RunStats {
        client_ops: record.history.len(),
        binlog_entries: record.binlog.len(),
        idle_points: record.idle_points.len(),
        checkpoints: record.checkpoints.len(),
        trace_events: record.trace_events,
    };
    let primary_history = options.keep_history.then(|| primary_history(&record));
    let replies = options.keep_replies.then(|| record.history.clone());
    Verdict {
        case: case.clone(),
        outcome,
        trace_hash: record.trace_hash,
        stats,
        trace: record.trace,
        primary_history,
        replies,
        marks: record.marks,
    }
}

fn simulate(case: &Case, probe: Probe) -> (Record, Ending) {
    if let Err(problem) = case.validate() {
        panic!("invalid case: {problem}");
    }
    let mut config = madsim::Config::default();
    // madsim samples `send_latency` from a half-open range: keep it non-empty.
    let network = &case.cluster.network;
    config.net.send_latency =
        network.latency_min..network.latency_max.max(network.latency_min + std::time::Duration::from_nanos(1));
    config.net.packet_loss_rate = network.packet_loss_rate();
    let runtime = madsim::runtime::Runtime::with_seed_and_config(case.seed, config);
    runtime.block_on(replsim_sim::cluster::run(&case.cluster, &case.workload, probe))
}

fn panic_message(panic: &(dyn std::any::Any + Send)) -> String {
    if let Some(message) = panic.downcast_ref::<String>() {
        message.clone()
    } else if let Some(message) = panic.downcast_ref::<&str>() {
        (*message).to_string()
    } else {
        "panic with a non-text payload".to_string()
    }
}

/// Applies every checker to a completed (or stopped) run.
fn judge(case: &Case, record: &Record, ending: &Ending) -> Outcome {
    let mut violations: Vec<Violation> = check_prefix_consistency(&record.binlog, &record.idle_points)
        .into_iter()
        .map(Violation::PrefixConsistency)
        .collect();
    let linearizability_unknown = check_primary_history(record, &mut violations);
    check_reads_from_replicas(record, &mut violations);
    for read in &record.caught_up_reads {
        if let Some(diff) = check_read_after_catch_up(&record.binlog, read.offset, &read.snapshot) {
            violations.push(Violation::StaleAfterCatchUp { phase: read.phase, offset: read.offset, diff });
        }
    }
    for checkpoint in &record.checkpoints {
        let end = (checkpoint.binlog_end.0 as usize).min(record.binlog.len());
        let failures = check_convergence(&record.binlog[..end], &checkpoint.primary, &checkpoint.replicas);
        violations
            .extend(failures.into_iter().map(|failure| Violation::Convergence { phase: checkpoint.phase, failure }));
    }
    // An expectation whose catch-up point was not reached has no verdict; the run's ending says why.
    for expectation in &case.expectations {
        if let Some(Err(problem)) = expectation.judge(&record.checkpoints) {
            violations.push(Violation::Expectation { name: expectation.name.clone(), problem });
        }
    }
    let unknown = match ending {
        Ending::Completed => None,
        Ending::Stuck { phase, replica, offset, primary_offset, since } => {
            violations.push(Violation::NoProgress {
                phase: *phase,
                replica: replica.clone(),
                offset: *offset,
                primary_offset: *primary_offset,
                since: *since,
            });
            None
        }
        Ending::PhaseTimedOut { phase, deadline } => {
            Some(format!("timed out: the clients of phase {phase} had not finished at {deadline}"))
        }
        Ending::Unobservable { phase, node } => {
            Some(format!("unobservable: {node} did not answer the snapshot after phase {phase}"))
        }
    };
    let unknown = unknown.or(linearizability_unknown);
    match (violations.is_empty(), unknown) {
        (false, _) => Outcome::Fail(violations),
        (true, Some(reason)) => Outcome::Unknown(reason),
        (true, None) => Outcome::Pass,
    }
}

/// Search steps the linearizability check of one run may take. A step count, not a time limit:
/// the verdict of a seed must not depend on how busy the machine is. Runs of the shipped
/// scenarios need a few thousand steps.
const LINEARIZABILITY_STEPS_MAX: u64 = 5_000_000;

/// Checks the operations clients ran on the primary for linearizability. Returns why there is no
/// answer, when the step budget ran out.
fn check_primary_history(record: &Record, violations: &mut Vec<Violation>) -> Option<String> {
    let operations: Vec<&ClientOperation> = primary_operations(record).collect();
    let history: Vec<_> = operations.iter().map(|operation| operation.operation.clone()).collect();
    // The order the primary executed them in: verified in one pass, searched only if it fails.
    let mut proposal: Vec<(u64, usize)> = operations
        .iter()
        .enumerate()
        .filter_map(|(index, operation)| operation.primary_order.map(|position| (position, index)))
        .collect();
    proposal.sort_unstable();
    let proposal: Vec<usize> = proposal.into_iter().map(|(_, index)| index).collect();
    let options =
        linearizability::Options { timeout: None, steps_max: Some(LINEARIZABILITY_STEPS_MAX), ..Default::default() };
    match check_kv_with_proposal(&history, &proposal, &options) {
        linearizability::Verdict::Linearizable(_) => None,
        linearizability::Verdict::NotLinearizable(counterexample) => {
            violations.push(Violation::Linearizability { report: counterexample.to_string() });
            None
        }
        linearizability::Verdict::Unknown(reason) => Some(format!("linearizability undecided: {reason}")),
    }
}

/// The operations clients ran on the primary that may have taken effect, in call order.
fn primary_operations(record: &Record) -> impl Iterator<Item = &ClientOperation> {
    record.history.iter().filter(|operation| operation.node == PRIMARY_NODE && !operation.not_executed)
}

/// The history the linearizability check judges.
fn primary_history(record: &Record) -> Vec<Operation<Command, Response>> {
    primary_operations(record).map(|operation| operation.operation.clone()).collect()
}

/// Checks replica reads per (client, node, connection, key): Pika's replica applies different
/// keys on different workers, so only one key's values must move forward through the binlog.
fn check_reads_from_replicas(record: &Record, violations: &mut Vec<Violation>) {
    type Session<'run> = (u64, &'run str, u64, replsim_model::command::Db, &'run str);
    let mut sessions: BTreeMap<Session<'_>, Vec<_>> = BTreeMap::new();
    for operation in record.history.iter().filter(|operation| operation.node != PRIMARY_NODE) {
        if let Command::Get { db, key } = &operation.operation.input {
            let session = (operation.operation.client, operation.node.as_str(), operation.session, *db, key.as_str());
            sessions.entry(session).or_default().push(operation.operation.clone());
        }
    }
    for ((_, node, session, _, _), reads) in sessions {
        for violation in check_replica_reads(&record.binlog, &reads) {
            violations.push(Violation::ReplicaRead { node: node.to_string(), session, violation });
        }
    }
}
