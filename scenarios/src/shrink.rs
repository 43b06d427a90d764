//! Shrinking a failing case to a minimal one that still fails the same check.
//!
//! ```text
//! seed 7, 4 clients x 50 ops ── remove a phase? a client? half a client's ops? ... one op? ──┐
//!        ▲                                                                                  │
//!        └── still fails [convergence]: keep it ◄── run ── else: undo, try the next one ◄──┘
//! then: merge clients, drop think times, DEL k1 k2 → DEL k1, FLUSHALL → FLUSHDB, fewer keys
//! ```
//!
//! [`WorkloadTree`] is a proptest [`ValueTree`]: `simplify` moves to a smaller workload,
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
//! The minimal case is a workload *and* a schedule seed, and its regression line records both (see
//! [`crate::regression`]).

use std::time::{Duration, Instant};

use proptest::strategy::ValueTree;
use replsim_model::command::{Command, Db};
use replsim_sim::workload::{ClientScript, Target, Workload};

use crate::generate::key_name;
use crate::runner::{run_case, Case, Check, RunOptions, Verdict};

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
}

/// How many times the candidate list is walked from the start after a pass that changed
/// something: each pass is bounded by the workload's size, so this bounds the whole shrink.
const PASSES_MAX: usize = 16;

/// A proptest value tree over a concrete workload that removes and simplifies operations.
#[derive(Clone, Debug)]
pub struct WorkloadTree {
    current: Workload,
    /// The workload before the reduction now being tried; `None` before the first `simplify`.
    accepted: Option<Workload>,
    /// Index into the current candidate list of the next reduction to try.
    position: usize,
    pass: usize,
    changed_this_pass: bool,
}

impl WorkloadTree {
    pub fn new(workload: Workload) -> WorkloadTree {
        WorkloadTree { current: workload, accepted: None, position: 0, pass: 0, changed_this_pass: false }
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

impl ValueTree for WorkloadTree {
    type Value = Workload;

    fn current(&self) -> Workload {
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
fn candidates(workload: &Workload) -> Vec<Reduction> {
    let mut list = Vec::new();
    let phases = &workload.phases;
    if phases.len() > 1 {
        list.extend((0..phases.len()).map(|phase| Reduction::RemovePhase { phase }));
    }
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
fn apply(workload: &Workload, reduction: &Reduction) -> Option<Workload> {
    let mut reduced = workload.clone();
    match reduction {
        Reduction::RemovePhase { phase } => {
            reduced.phases.remove(*phase);
        }
        Reduction::RemoveClient { phase, client } => {
            reduced.phases[*phase].clients.remove(*client);
        }
        Reduction::RemoveOps { phase, client, start, count } => {
            let ops = &mut reduced.phases[*phase].clients[*client].ops;
            let end = (start + count).min(ops.len());
            ops.drain(*start..end);
            if ops.is_empty() {
                drop_empty(&mut reduced);
            }
        }
        Reduction::MergeClient { phase, client } => {
            let moved = reduced.phases[*phase].clients.remove(*client);
            reduced.phases[*phase].clients[client - 1].ops.extend(moved.ops);
        }
        Reduction::ZeroAllThink => reduced.phases.iter_mut().flat_map(|phase| &mut phase.clients).for_each(|client| {
            client.ops.iter_mut().for_each(|op| op.think = Duration::ZERO);
        }),
        Reduction::RenumberValues => renumber_values(&mut reduced),
        Reduction::CanonicalKeys => canonical_keys(&mut reduced),
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
    }
    (reduced != *workload).then_some(reduced)
}

/// Drops clients without operations and phases without clients.
fn drop_empty(workload: &mut Workload) {
    for phase in &mut workload.phases {
        phase.clients.retain(|client: &ClientScript| !client.ops.is_empty());
    }
    workload.phases.retain(|phase| !phase.clients.is_empty());
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
            *value = format!("v{next_value}");
            next_value += 1;
        }
    }
}

/// Limits of one shrink: whichever is reached first ends it with the smallest failure so far.
#[derive(Clone, Copy, Debug)]
pub struct Budget {
    /// Candidate runs, counting every schedule tried.
    pub steps_max: u64,
    pub duration_max: Duration,
    /// Extra schedule seeds tried for a candidate that passes under the current one.
    pub schedules_per_candidate: u64,
}

impl Budget {
    fn spent(&self, steps: u64, started: Instant) -> bool {
        steps >= self.steps_max || started.elapsed() >= self.duration_max
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
}

#[derive(Debug)]
pub struct Shrunk {
    /// The smallest case found that still fails `check`, and its verdict.
    pub minimal: Verdict,
    pub check: Check,
    pub ops_before: usize,
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
    let mut minimal = original;
    let mut tree = WorkloadTree::new(case.workload.clone());
    let (mut steps, mut accepted) = (0u64, 0u64);
    let mut more = tree.simplify();
    while more {
        let workload = tree.current();
        let mut still_failing = None;
        // The current schedule first, then fresh ones.
        let seeds = std::iter::once(minimal.case.seed)
            .chain((1..=budget.schedules_per_candidate).map(|attempt| schedule_seed(case.seed, attempt)));
        for seed in seeds {
            if budget.spent(steps, started) {
                return Ok(Shrunk {
                    minimal,
                    check,
                    ops_before,
                    steps,
                    accepted,
                    elapsed: started.elapsed(),
                    complete: false,
                });
            }
            let verdict = run_case(&Case { workload: workload.clone(), seed, ..case.clone() }, RunOptions::default());
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
        report(Progress { steps, accepted, ops: minimal.case.workload.op_count() });
    }
    Ok(Shrunk { minimal, check, ops_before, steps, accepted, elapsed: started.elapsed(), complete: true })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::regression::{parse_workload, workload_text};

    /// Runs the tree against a predicate, as `shrink` does against the simulation.
    fn minimise(text: &str, fails: impl Fn(&Workload) -> bool) -> String {
        let mut tree = WorkloadTree::new(parse_workload(text).unwrap());
        let mut more = tree.simplify();
        let mut steps = 0;
        while more {
            steps += 1;
            assert!(steps < 10_000, "the tree must run out of candidates");
            more = if fails(&tree.current()) { tree.simplify() } else { tree.complicate() };
        }
        workload_text(&tree.current()).unwrap()
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

    #[test]
    fn a_workload_that_stops_failing_is_left_as_it_was() {
        assert_eq!(minimise("SET a v1 | GET a", |_| false), "SET a v1 | GET a");
    }
}
