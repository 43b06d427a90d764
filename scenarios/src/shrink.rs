//! Shrinking a failing case to a minimal one that still fails the same check.
//!
//! ```text
//! seed 7, 4 clients x 50 ops, 5 faults ── remove a phase? the faults? a client? half a client's ops? ──┐
//!        ▲                                                                                             │
//!        └──── still fails [convergence]: keep it ◄── run ── else: undo, try the next one ◄────────────┘
//! then: merge clients, drop think times, faults shorter and earlier, DEL k1 k2 → DEL k1,
//!       FLUSHALL → FLUSHDB, fewer keys
//! ```
//!
//! What shrinks is a [`CaseInput`]: the workload and the fault schedule (a swarm case's; see
//! [`faults`]). The rest of the case — its cluster and swarm configuration — is kept as the seed
//! drew it, so the minimal case still runs with the case's own replicas, rates and fault kinds.
//!
//! [`CaseTree`] is a proptest [`ValueTree`]: `simplify` moves to a smaller input,
//! `complicate` rejects it (the reduction no longer failed) and moves to the next candidate, and
//! [`shrink`] drives it with the same loop as proptest's test runner. Its own tree rather than the
//! generator's: a scenario fixes its sizes (`flushdb-race` is always 4 clients x 50 ops), and
//! proptest's collection trees never shrink below a strategy's minimum size, so the generator's
//! tree could simplify commands but never remove one.
//!
//! Every candidate run is deterministic, but removing an operation changes what madsim's seeded
//! scheduler draws, so a smaller workload can lose the interleaving that made the bug visible. A
//! candidate is therefore run under the current schedule seed and, if that passes, under a few
//! more (`Budget::schedules_per_candidate`); the first schedule that still fails is kept with it.
//! The minimal case is a workload, a fault schedule *and* a schedule seed, and its regression line
//! records all three (see [`crate::regression`]).

use std::time::{Duration, Instant};

use proptest::strategy::ValueTree;
use replsim_model::command::{Command, Db};
use replsim_sim::fault::FaultSchedule;
use replsim_sim::workload::{Target, Workload};

use crate::generate::key_name;
use crate::harness_bug::HarnessBug;
use crate::runner::{run_case, Case, Check, RunOptions, Verdict};

mod faults;
use faults::FaultReduction;

/// What the shrinker reduces: the parts of a case a minimal case changes.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CaseInput {
    pub workload: Workload,
    pub faults: FaultSchedule,
}

impl CaseInput {
    pub fn of(case: &Case) -> CaseInput {
        CaseInput { workload: case.workload.clone(), faults: case.cluster.faults.clone() }
    }

    /// `case` with this input.
    pub fn in_case(&self, case: &Case, seed: u64) -> Case {
        let mut case = Case { workload: self.workload.clone(), seed, ..case.clone() };
        case.cluster.faults = self.faults.clone();
        case
    }
}

/// One candidate reduction of a workload. Indices are into the workload being reduced.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Reduction {
    RemovePhase {
        phase: usize,
    },
    RemoveClient {
        phase: usize,
        client: usize,
    },
    RemoveOps {
        phase: usize,
        client: usize,
        start: usize,
        count: usize,
    },
    /// Append client `client`'s operations to client `client - 1`: one fewer concurrent client.
    MergeClient {
        phase: usize,
        client: usize,
    },
    ZeroAllThink,
    RenumberValues,
    /// Keys renamed `a`, `b`, … in order of first use.
    CanonicalKeys,
    ZeroThink {
        phase: usize,
        client: usize,
        op: usize,
    },
    SimplifyCommand {
        phase: usize,
        client: usize,
        op: usize,
    },
    /// Rename every use of key `from` (in every database) to `to`.
    MergeKey {
        from: String,
        to: String,
    },
    Fault(FaultReduction),
}

/// How many times the candidate list is walked from the start after a pass that changed
/// something: each pass is bounded by the workload's size, so this bounds the whole shrink.
const PASSES_MAX: usize = 16;

/// A proptest value tree over a concrete workload and fault schedule that removes and simplifies
/// operations and faults.
#[derive(Clone, Debug)]
pub struct CaseTree {
    current: CaseInput,
    /// The input before the reduction now being tried; `None` before the first `simplify`.
    accepted: Option<CaseInput>,
    /// Index into the current candidate list of the next reduction to try.
    position: usize,
    pass: usize,
    changed_this_pass: bool,
}

impl CaseTree {
    pub fn new(input: CaseInput) -> CaseTree {
        CaseTree { current: input, accepted: None, position: 0, pass: 0, changed_this_pass: false }
    }

    /// Moves `current` to the next candidate after the last accepted workload. False when no
    /// candidate is left.
    fn try_next(&mut self) -> bool {
        let base = self.accepted.clone().unwrap_or_else(|| self.current.clone());
        loop {
            let candidates = candidates(&base);
            if let Some(reduction) = candidates.get(self.position) {
                self.position += 1;
                if let Some(reduced) = apply(&base, reduction) {
                    self.accepted = Some(base);
                    self.current = reduced;
                    return true;
                }
                continue;
            }
            if !self.changed_this_pass || self.pass + 1 >= PASSES_MAX {
                self.current = base;
                self.accepted = None;
                return false;
            }
            self.pass += 1;
            self.position = 0;
            self.changed_this_pass = false;
        }
    }
}

impl ValueTree for CaseTree {
    type Value = CaseInput;

    fn current(&self) -> CaseInput {
        self.current.clone()
    }

    /// The current workload still fails: keep it, and try a smaller one.
    fn simplify(&mut self) -> bool {
        if self.accepted.is_some() {
            self.changed_this_pass = true;
            // Reductions are indexed relative to the workload they apply to; after a removal the
            // same index names the next element, so the position stays.
            self.position = self.position.saturating_sub(1);
        }
        self.accepted = None;
        self.try_next()
    }

    /// The current workload passed: go back to the last failing one and try the next candidate.
    fn complicate(&mut self) -> bool {
        if let Some(accepted) = self.accepted.take() {
            self.current = accepted;
        }
        self.try_next()
    }
}

/// Candidates in the order tried: big structural cuts first, then cosmetic simplifications.
fn candidates(input: &CaseInput) -> Vec<Reduction> {
    let mut list = Vec::new();
    let workload = &input.workload;
    let phases = &workload.phases;
    if phases.len() > 1 {
        list.extend((0..phases.len()).map(|phase| Reduction::RemovePhase { phase }));
    }
    list.extend(faults::removals(&input.faults).into_iter().map(Reduction::Fault));
    for (phase, clients) in phases.iter().enumerate() {
        if clients.clients.len() > 1 {
            list.extend((0..clients.clients.len()).map(|client| Reduction::RemoveClient { phase, client }));
        }
    }
    for (phase, clients) in phases.iter().enumerate() {
        for (client, script) in clients.clients.iter().enumerate() {
            let length = script.ops.len();
            let mut count = length / 2;
            while count >= 1 {
                list.extend((0..length).step_by(count).map(|start| Reduction::RemoveOps {
                    phase,
                    client,
                    start,
                    count,
                }));
                count /= 2;
            }
        }
    }
    for (phase, clients) in phases.iter().enumerate() {
        list.extend((1..clients.clients.len()).map(|client| Reduction::MergeClient { phase, client }));
    }
    list.push(Reduction::ZeroAllThink);
    list.push(Reduction::RenumberValues);
    list.push(Reduction::CanonicalKeys);
    list.extend(faults::simplifications(&input.faults).into_iter().map(Reduction::Fault));
    for (phase, clients) in phases.iter().enumerate() {
        for (client, script) in clients.clients.iter().enumerate() {
            for op in 0..script.ops.len() {
                list.push(Reduction::ZeroThink { phase, client, op });
                list.push(Reduction::SimplifyCommand { phase, client, op });
            }
        }
    }
    let keys = keys_in_order(workload);
    for (index, from) in keys.iter().enumerate() {
        list.extend(keys[..index].iter().map(|to| Reduction::MergeKey { from: from.clone(), to: to.clone() }));
    }
    list
}

/// `None` when the reduction changes nothing (it would only waste a run).
fn apply(input: &CaseInput, reduction: &Reduction) -> Option<CaseInput> {
    let mut reduced_input = input.clone();
    let reduced = &mut reduced_input.workload;
    match reduction {
        Reduction::RemovePhase { phase } => {
            reduced.phases.remove(*phase);
            faults::remove_phase(&mut reduced_input.faults, *phase);
        }
        Reduction::RemoveClient { phase, client } => {
            reduced.phases[*phase].clients.remove(*client);
        }
        Reduction::RemoveOps { phase, client, start, count } => {
            let ops = &mut reduced.phases[*phase].clients[*client].ops;
            let end = (start + count).min(ops.len());
            ops.drain(*start..end);
            if ops.is_empty() {
                drop_empty(&mut reduced_input);
            }
        }
        Reduction::MergeClient { phase, client } => {
            let moved = reduced.phases[*phase].clients.remove(*client);
            reduced.phases[*phase].clients[client - 1].ops.extend(moved.ops);
        }
        Reduction::ZeroAllThink => reduced.phases.iter_mut().flat_map(|phase| &mut phase.clients).for_each(|client| {
            client.ops.iter_mut().for_each(|op| op.think = Duration::ZERO);
        }),
        Reduction::RenumberValues => renumber_values(reduced),
        Reduction::CanonicalKeys => canonical_keys(reduced),
        Reduction::ZeroThink { phase, client, op } => {
            reduced.phases[*phase].clients[*client].ops[*op].think = Duration::ZERO;
        }
        Reduction::SimplifyCommand { phase, client, op } => {
            let op = &mut reduced.phases[*phase].clients[*client].ops[*op];
            op.target = Target::Primary;
            op.command = simpler_command(&op.command);
        }
        Reduction::MergeKey { from, to } => {
            for op in reduced.phases.iter_mut().flat_map(|phase| &mut phase.clients).flat_map(|client| &mut client.ops)
            {
                rename_key(&mut op.command, from, to);
            }
        }
        Reduction::Fault(reduction) => faults::apply(&mut reduced_input.faults, reduction),
    }
    (reduced_input != *input).then_some(reduced_input)
}

/// Drops clients without operations, and phases without clients together with their faults.
fn drop_empty(input: &mut CaseInput) {
    for phase in &mut input.workload.phases {
        phase.clients.retain(|client| !client.ops.is_empty());
    }
    // From the back, so the indices of the phases still to look at stay put.
    for phase in (0..input.workload.phases.len()).rev() {
        if input.workload.phases[phase].clients.is_empty() {
            input.workload.phases.remove(phase);
            faults::remove_phase(&mut input.faults, phase);
        }
    }
}

fn simpler_command(command: &Command) -> Command {
    match command {
        Command::Del { db, keys } if keys.len() > 1 => Command::del(*db, keys[..1].iter().cloned()),
        Command::FlushAll { db } => Command::FlushDb { db: *db },
        Command::FlushDb { db } if *db != Db(0) => Command::FlushDb { db: Db(0) },
        Command::Get { db, key } if *db != Db(0) => Command::get(Db(0), key.clone()),
        Command::Set { db, key, value } if *db != Db(0) => Command::set(Db(0), key.clone(), value.clone()),
        Command::Del { db, keys } if *db != Db(0) => Command::del(Db(0), keys.iter().cloned()),
        other => other.clone(),
    }
}

fn rename_key(command: &mut Command, from: &str, to: &str) {
    match command {
        Command::Get { key, .. } | Command::Set { key, .. } if key == from => *key = to.to_string(),
        Command::Del { keys, .. } => {
            for key in keys.iter_mut().filter(|key| *key == from) {
                *key = to.to_string();
            }
        }
        _ => {}
    }
}

/// Every key named in the workload, in order of first use.
fn keys_in_order(workload: &Workload) -> Vec<String> {
    let mut keys: Vec<String> = Vec::new();
    for op in workload.ops() {
        for key in op.command.keys() {
            if !keys.contains(key) {
                keys.push(key.clone());
            }
        }
    }
    keys
}

/// Keys become `a`, `b`, … in order of first use (one renaming, applied to every database).
fn canonical_keys(workload: &mut Workload) {
    let renaming: Vec<(String, String)> =
        keys_in_order(workload).into_iter().enumerate().map(|(index, key)| (key, key_name(index))).collect();
    let rename = |key: &mut String| {
        if let Some((_, new)) = renaming.iter().find(|(old, _)| old == key) {
            *key = new.clone();
        }
    };
    for op in workload.phases.iter_mut().flat_map(|phase| &mut phase.clients).flat_map(|client| &mut client.ops) {
        match &mut op.command {
            Command::Get { key, .. } | Command::Set { key, .. } => rename(key),
            Command::Del { keys, .. } => keys.iter_mut().for_each(rename),
            Command::FlushDb { .. } | Command::FlushAll { .. } => {}
        }
    }
}

/// SET values become `v1`, `v2`, … in workload order, as the generator numbers them.
fn renumber_values(workload: &mut Workload) {
    let mut next_value = 1u64;
    for op in workload.phases.iter_mut().flat_map(|phase| &mut phase.clients).flat_map(|client| &mut client.ops) {
        if let Command::Set { value, .. } = &mut op.command {
            *value = format!("v{next_value}").into();
            next_value += 1;
        }
    }
}

/// Limits of one shrink: reaching one ends it with the smallest failure so far. Counted in
/// candidate runs, never in wall-clock time, so that a shrink ends at the same minimal case (and
/// writes the same regression line) on a fast machine and a slow one.
#[derive(Clone, Copy, Debug)]
pub struct Budget {
    /// Candidate runs, counting every schedule tried.
    pub steps_max: u64,
    /// Extra schedule seeds tried for a candidate that passes under the current one.
    pub schedules_per_candidate: u64,
    /// A bug planted in the harness itself (a test that the shrinker's panics are reported).
    pub harness_bug: Option<HarnessBug>,
}

impl Budget {
    fn spent(&self, steps: u64) -> bool {
        steps >= self.steps_max
    }
}

/// The `attempt`-th schedule seed for candidates of a case found with `seed` (0: none new).
fn schedule_seed(seed: u64, attempt: u64) -> u64 {
    seed.wrapping_add(attempt.wrapping_mul(0x9e37_79b9_7f4a_7c15))
}

/// Where a shrink is, for progress output.
#[derive(Clone, Copy, Debug)]
pub struct Progress {
    pub steps: u64,
    pub accepted: u64,
    pub ops: usize,
    pub faults: usize,
}

#[derive(Debug)]
pub struct Shrunk {
    /// The smallest case found that still fails `check`, and its verdict.
    pub minimal: Verdict,
    pub check: Check,
    pub ops_before: usize,
    pub faults_before: usize,
    /// Candidate runs made.
    pub steps: u64,
    /// Candidates kept (each still failed `check`).
    pub accepted: u64,
    pub elapsed: Duration,
    /// True when every candidate was tried; false when the budget ran out first.
    pub complete: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum ShrinkError {
    #[error("the case does not fail, so there is nothing to shrink: {0}")]
    DoesNotFail(String),
}

/// Shrinks `case`, which must fail, keeping only reductions that still fail the check its first
/// violation names. `report` is called after every step.
pub fn shrink(case: &Case, budget: Budget, mut report: impl FnMut(Progress)) -> Result<Shrunk, ShrinkError> {
    let started = Instant::now();
    let original = run_case(case, RunOptions::default());
    let check = match original.violations().first() {
        Some(violation) => violation.check(),
        None => return Err(ShrinkError::DoesNotFail(original.headline())),
    };
    let fails_same_check = |verdict: &Verdict| verdict.violations().iter().any(|violation| violation.check() == check);
    let ops_before = case.workload.op_count();
    let faults_before = case.cluster.faults.steps.len();
    let mut minimal = original;
    let mut tree = CaseTree::new(CaseInput::of(case));
    let (mut steps, mut accepted) = (0u64, 0u64);
    let mut more = tree.simplify();
    // Whether the search ran out of candidates (rather than out of budget).
    let mut complete = true;
    'search: while more {
        let input = tree.current();
        let mut still_failing = None;
        // The current schedule first, then fresh ones.
        let seeds = std::iter::once(minimal.case.seed)
            .chain((1..=budget.schedules_per_candidate).map(|attempt| schedule_seed(case.seed, attempt)));
        for seed in seeds {
            if budget.spent(steps) {
                complete = false;
                break 'search;
            }
            if budget.harness_bug.is_some_and(|bug| bug.panics_shrinking(steps + 1)) {
                panic!("planted harness bug: the shrinker panics before candidate run {}", steps + 1);
            }
            let verdict = run_case(&input.in_case(case, seed), RunOptions::default());
            steps += 1;
            if fails_same_check(&verdict) {
                still_failing = Some(verdict);
                break;
            }
        }
        match still_failing {
            Some(verdict) => {
                accepted += 1;
                minimal = verdict;
                more = tree.simplify();
            }
            None => more = tree.complicate(),
        }
        let minimal_case = &minimal.case;
        report(Progress {
            steps,
            accepted,
            ops: minimal_case.workload.op_count(),
            faults: minimal_case.cluster.faults.steps.len(),
        });
    }
    Ok(Shrunk { minimal, check, ops_before, faults_before, steps, accepted, elapsed: started.elapsed(), complete })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::regression::{faults_text, parse_faults, parse_workload, workload_text};

    /// Runs the tree against a predicate, as `shrink` does against the simulation.
    fn minimise(text: &str, fails: impl Fn(&Workload) -> bool) -> String {
        let input = CaseInput { workload: parse_workload(text).unwrap(), faults: FaultSchedule::default() };
        let minimal = minimise_input(input, |input| fails(&input.workload));
        workload_text(&minimal.workload).unwrap()
    }

    fn minimise_input(input: CaseInput, fails: impl Fn(&CaseInput) -> bool) -> CaseInput {
        let mut tree = CaseTree::new(input);
        let mut more = tree.simplify();
        let mut steps = 0;
        while more {
            steps += 1;
            assert!(steps < 10_000, "the tree must run out of candidates");
            more = if fails(&tree.current()) { tree.simplify() } else { tree.complicate() };
        }
        tree.current()
    }

    #[test]
    fn shrinks_to_the_two_operations_that_matter() {
        let has_set_then_flush = |workload: &Workload| {
            let ops: Vec<String> = workload.ops().map(|op| op.command.to_string()).collect();
            let set = ops.iter().position(|op| op.starts_with("SET"));
            let flush = ops.iter().rposition(|op| op.starts_with("FLUSH"));
            matches!((set, flush), (Some(set), Some(flush)) if set < flush)
        };
        let minimal = minimise(
            "+2ms SET c v1; GET a; DEL a b | SET b v2; +1ms FLUSHALL || SET a v3; FLUSHDB | GET c",
            has_set_then_flush,
        );
        assert_eq!(minimal, "SET a v1; FLUSHDB");
    }

    /// Stands in for a bug that needs one replica killed while a FLUSHDB is in flight.
    #[test]
    fn shrinks_to_the_one_fault_that_matters_as_short_and_early_as_it_goes() {
        let input = CaseInput {
            workload: parse_workload("SET a v1; GET b || SET b v2; FLUSHDB; SET c v3 || DEL a").unwrap(),
            faults: parse_faults(
                "phase-1 +40ms partition replica-1 reset for 200ms; phase-2 +12ms kill replica-2 for 90ms; \
                 phase-2 +30ms reset-link replica-1 for 5ms; phase-3 +0ms restart primary for 50ms",
            )
            .unwrap(),
        };
        let kill_during_flush = |input: &CaseInput| {
            input.workload.phases.iter().enumerate().any(|(phase, clients)| {
                let flushes =
                    clients.clients.iter().flat_map(|client| &client.ops).any(|op| op.command.to_string() == "FLUSHDB");
                let kills = input.faults.steps.iter().any(|step| {
                    step.phase == phase && matches!(step.fault, replsim_sim::fault::Fault::KillReplica { .. })
                });
                flushes && kills
            })
        };
        let minimal = minimise_input(input, kill_during_flush);
        assert_eq!(workload_text(&minimal.workload).unwrap(), "FLUSHDB");
        assert_eq!(faults_text(&minimal.faults).unwrap(), "phase-1 +0ms kill replica-2 for 1ms");
    }

    #[test]
    fn a_workload_that_stops_failing_is_left_as_it_was() {
        assert_eq!(minimise("SET a v1 | GET a", |_| false), "SET a v1 | GET a");
    }
}
