//! Partitions plus global operations: the exact decomposition described in the module docs of
//! [`crate::linearizability`]. First every partition is searched with every global operation
//! free in its interval (a relaxation: failure there is final). If the partitions' witnesses
//! agree on a point for each global operation, that is a linearization of the whole history.
//! Otherwise the points are searched: global operations are pinned one at a time to each gap
//! between keyed events (and each order among globals pinned to the same gap), and every
//! partition is re-checked with the pins, memoised on what the pins look like from that
//! partition.

use std::collections::HashMap;

use super::budget::Meter;
use super::prepare::{Partition, Prepared, NEVER};
use super::search::{Scratch, Search, SearchOp, SearchOutcome, Stuck};
use super::verdict::{Counterexample, PartitionOrder, Verdict, Witness};
use super::Model;
use crate::history::Operation;

/// Where a global operation's point may lie: the search narrows these domains.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Pin {
    /// In any gap from `lo` to `hi`, in any order with other globals there.
    Range { lo: u32, hi: u32 },
    /// After `gap` keyed events; `rank` orders globals pinned to the same gap.
    At { gap: u32, rank: u32 },
}

const RANK_LOW: u32 = 0;
const RANK_HIGH: u32 = u32::MAX;

/// Memoised partition checks are a cache: past this many, or past this share of the memo
/// budget, it is emptied, not grown.
const PARTITION_MEMO_ENTRIES_MAX: usize = 200_000;
const PARTITION_MEMO_BUDGET_SHARE: usize = 8;

/// Storage of finished searches kept for reuse; more would only hold memory.
const SCRATCH_KEPT_MAX: usize = 2;

#[derive(Clone)]
enum PartitionResult {
    /// History indices in linearization order.
    Pass(Vec<usize>),
    /// The stuck search, in history indices.
    Fail(Stuck),
}

/// A partition's search not yet decided, with the key its result will be memoised under.
struct PendingSearch<'check, M: Model> {
    /// (partition index, global positions): see [`Checker::global_positions`].
    memo_key: (usize, Vec<(u64, u64)>),
    /// `None` until its first turn.
    search: Option<Search<'check, M>>,
}

enum AllPartitions {
    Pass(Vec<Vec<usize>>),
    Fail { partition: usize, stuck: Stuck },
    OutOfBudget(String),
}

struct Checker<'check, M: Model> {
    model: &'check M,
    ops: &'check [Operation<M::Input, M::Output>],
    prepared: &'check Prepared,
    meter: &'check mut Meter,
    /// Per partition: its keyed operations' (call, return) positions on its own timeline.
    keyed_positions: Vec<Vec<(u64, u64)>>,
    memo: HashMap<(usize, Vec<(u64, u64)>), PartitionResult>,
    /// Estimated bytes held by `memo`.
    memo_bytes: usize,
    /// Storage of finished searches, reused by the next ones (see [`Checker::retire`]).
    scratch: Vec<Scratch<M::State>>,
    /// The first partition failure under narrowed domains: the evidence if all fail.
    first_failure: Option<(usize, Stuck)>,
}

fn position(major: u32, minor: u32) -> u64 {
    (u64::from(major) << 32) | u64::from(minor)
}

pub(crate) fn check_prepared<M: Model>(
    model: &M,
    ops: &[Operation<M::Input, M::Output>],
    prepared: &Prepared,
    meter: &mut Meter,
) -> Verdict {
    // A global whose answer no state gives fails everywhere, even with no keyed operations.
    for global in &prepared.globals {
        let op = &ops[global.op];
        if model.step(&model.initial_state(), &op.input, op.output.as_ref()).is_none() {
            let stuck = Stuck { longest_prefix: Vec::new(), blocked: global.op, pending: vec![global.op] };
            let note = Some("a global operation's answer is impossible in every state".to_string());
            return Verdict::NotLinearizable(counterexample(model, ops, "all keys", &stuck, note));
        }
    }
    let keyed_positions = prepared.partitions.iter().map(|partition| keyed_positions(prepared, partition)).collect();
    let mut checker = Checker {
        model,
        ops,
        prepared,
        meter,
        keyed_positions,
        memo: HashMap::new(),
        memo_bytes: 0,
        scratch: Vec::new(),
        first_failure: None,
    };
    let mut pins: Vec<Pin> =
        prepared.globals.iter().map(|global| Pin::Range { lo: global.lo, hi: global.hi }).collect();
    let witnesses = match checker.check_all(&pins) {
        AllPartitions::Pass(witnesses) => witnesses,
        AllPartitions::Fail { partition, stuck } => return checker.not_linearizable(partition, &stuck, None),
        AllPartitions::OutOfBudget(reason) => return Verdict::Unknown(reason),
    };
    let conflict = match compatible_points(prepared, &witnesses, &pins) {
        Ok(()) => return checker.linearizable(witnesses),
        Err(conflict) => conflict,
    };
    checker.search_pins(&mut pins, conflict)
}

/// A partition's keyed operations on its own timeline: its k-th event sits at major `2k + 1`,
/// leaving the even majors for the gaps where global operations can be pinned.
fn keyed_positions(prepared: &Prepared, partition: &Partition) -> Vec<(u64, u64)> {
    partition
        .ops
        .iter()
        .map(|&op| {
            let call = position(2 * partition.events_before(prepared.call_event[op]) + 1, 0);
            let returned = match prepared.return_event[op] {
                NEVER => u64::MAX,
                event => position(2 * partition.events_before(event) + 1, 0),
            };
            (call, returned)
        })
        .collect()
}

impl<'check, M: Model> Checker<'check, M> {
    /// Checks every partition. A failing partition decides the whole history, so no partition
    /// may starve the others: they take turns under a step allowance that grows fourfold per
    /// round. A paused search resumes where it stopped, so the turns cost no repeated work.
    fn check_all(&mut self, pins: &[Pin]) -> AllPartitions {
        let ranks = pinned_ranks(pins);
        let partition_count = self.prepared.partitions.len();
        let mut witnesses: Vec<Option<Vec<usize>>> = vec![None; partition_count];
        let mut pending: Vec<PendingSearch<'check, M>> = Vec::new();
        for partition_index in 0..partition_count {
            let memo_key = (partition_index, self.global_positions(partition_index, pins, &ranks));
            match self.memo.get(&memo_key) {
                Some(PartitionResult::Pass(order)) => witnesses[partition_index] = Some(order.clone()),
                Some(PartitionResult::Fail(stuck)) => {
                    return AllPartitions::Fail { partition: partition_index, stuck: stuck.clone() }
                }
                None => pending.push(PendingSearch { memo_key, search: None }),
            }
        }
        let outcome = self.take_turns(&mut pending, &mut witnesses);
        // Searches still paused (another partition decided first) give their memo back.
        for paused in pending {
            self.retire(paused.search);
        }
        match outcome {
            Ok(()) => AllPartitions::Pass(witnesses.into_iter().map(|order| order.expect("decided")).collect()),
            Err(failed) => failed,
        }
    }

    /// Runs the pending searches in turns until all pass (`Ok`, `witnesses` filled in) or one
    /// fails or runs out of budget. Decided searches leave `pending`.
    fn take_turns(
        &mut self,
        pending: &mut Vec<PendingSearch<'check, M>>,
        witnesses: &mut [Option<Vec<usize>>],
    ) -> Result<(), AllPartitions> {
        const FIRST_ROUND_STEPS: u64 = 20_000;
        const ROUNDS_MAX: u32 = 24;
        let mut steps_max = FIRST_ROUND_STEPS;
        for round in 0..ROUNDS_MAX {
            if round == ROUNDS_MAX - 1 {
                steps_max = u64::MAX;
            }
            let mut index = 0;
            while index < pending.len() {
                let PendingSearch { memo_key, search } = &mut pending[index];
                // Built at its first turn: a partition failing earlier makes it unnecessary.
                let search = search.get_or_insert_with(|| {
                    Search::new(self.model, self.search_ops(memo_key.0, &memo_key.1), self.scratch.pop())
                });
                let outcome = search.run(self.model, self.meter, steps_max);
                if outcome == SearchOutcome::Undecided {
                    index += 1;
                    continue;
                }
                let decided = pending.remove(index);
                self.retire(decided.search);
                let partition_index = decided.memo_key.0;
                let result = match outcome {
                    SearchOutcome::Linearizable(order) => PartitionResult::Pass(
                        order.into_iter().map(|local| self.history_index(partition_index, local)).collect(),
                    ),
                    SearchOutcome::NotLinearizable(stuck) => PartitionResult::Fail(Stuck {
                        longest_prefix: stuck
                            .longest_prefix
                            .into_iter()
                            .map(|local| self.history_index(partition_index, local))
                            .collect(),
                        blocked: self.history_index(partition_index, stuck.blocked),
                        pending: stuck
                            .pending
                            .into_iter()
                            .map(|local| self.history_index(partition_index, local))
                            .collect(),
                    }),
                    SearchOutcome::OutOfBudget(reason) => return Err(AllPartitions::OutOfBudget(reason)),
                    SearchOutcome::Undecided => unreachable!("handled above"),
                };
                let entry_bytes = 64
                    + 16 * decided.memo_key.1.len()
                    + match &result {
                        PartitionResult::Pass(order) => 8 * order.len(),
                        PartitionResult::Fail(stuck) => 8 * (stuck.longest_prefix.len() + stuck.pending.len()),
                    };
                if self.memo.len() >= PARTITION_MEMO_ENTRIES_MAX
                    || self.memo_bytes + entry_bytes > self.meter.memo_bytes_max() / PARTITION_MEMO_BUDGET_SHARE
                {
                    self.memo.clear();
                    self.memo_bytes = 0;
                }
                self.memo_bytes += entry_bytes;
                self.memo.insert(decided.memo_key, result.clone());
                match result {
                    PartitionResult::Pass(order) => witnesses[partition_index] = Some(order),
                    PartitionResult::Fail(stuck) => {
                        return Err(AllPartitions::Fail { partition: partition_index, stuck })
                    }
                }
            }
            if pending.is_empty() {
                return Ok(());
            }
            steps_max = steps_max.saturating_mul(4);
        }
        unreachable!("the last round has no step limit")
    }

    /// Gives a search's memo back to the meter and keeps its storage for the next search.
    fn retire(&mut self, search: Option<Search<'check, M>>) {
        let Some(search) = search else { return };
        self.meter.release_memo(search.memo_bytes());
        if self.scratch.len() < SCRATCH_KEPT_MAX {
            self.scratch.push(search.into_scratch());
        }
    }

    /// Where each global operation may lie on the partition's timeline: its whole interval when
    /// free, one point when pinned. With the partition, the key of the memoised checks.
    fn global_positions(&self, partition_index: usize, pins: &[Pin], ranks: &[u32]) -> Vec<(u64, u64)> {
        let partition = &self.prepared.partitions[partition_index];
        self.prepared
            .globals
            .iter()
            .zip(pins)
            .zip(ranks)
            .map(|((global, pin), &rank)| match pin {
                Pin::Range { lo, hi } => {
                    let call = position(2 * partition.events_before(*lo), RANK_LOW);
                    // A global that never returned may also never have taken effect.
                    let returned = if global.returned || *hi < global.hi {
                        position(2 * partition.events_before(*hi), RANK_HIGH)
                    } else {
                        u64::MAX
                    };
                    (call, returned)
                }
                Pin::At { gap, .. } => {
                    let point = position(2 * partition.events_before(*gap), rank + 1);
                    (point, point)
                }
            })
            .collect()
    }

    /// The partition's keyed operations, then every global operation, at their positions.
    fn search_ops(
        &self,
        partition_index: usize,
        global_positions: &[(u64, u64)],
    ) -> Vec<SearchOp<'check, M::Input, M::Output>> {
        let ops: &'check [Operation<M::Input, M::Output>] = self.ops;
        self.keyed_positions[partition_index]
            .iter()
            .chain(global_positions)
            .enumerate()
            .map(|(local, &(call_position, return_position))| {
                let op = &ops[self.history_index(partition_index, local)];
                let effect_class = if local < self.keyed_positions[partition_index].len() {
                    None
                } else {
                    self.model.global_effect_class(&op.input)
                };
                SearchOp { input: &op.input, output: op.output.as_ref(), call_position, return_position, effect_class }
            })
            .collect()
    }

    /// The history index of a partition search's operation `local`.
    fn history_index(&self, partition_index: usize, local: usize) -> usize {
        let partition = &self.prepared.partitions[partition_index];
        if local < partition.ops.len() {
            partition.ops[local]
        } else {
            self.prepared.globals[local - partition.ops.len()].op
        }
    }

    /// Depth-first over the globals' domains. While the partitions' witnesses disagree, one
    /// global in conflict has its domain split in two (the half the witnesses point to first),
    /// and every partition is re-checked with the narrower domain: a partition failing refutes
    /// the whole half at once. A global down to one gap whose order with others there is in
    /// dispute is pinned to each slot among the globals already pinned there. With every
    /// global pinned the partitions' witnesses always agree, so the search is complete.
    fn search_pins(&mut self, pins: &mut [Pin], first_conflict: Conflict) -> Verdict {
        let globals = &self.prepared.globals;
        let mut order: Vec<usize> = (0..globals.len()).collect();
        order.sort_by_key(|&global| (globals[global].lo, globals[global].hi, global));
        let mut frames: Vec<SplitFrame> = Vec::new();
        let mut conflict = Some(first_conflict);
        loop {
            if let Err(reason) = self.meter.charge_step() {
                return Verdict::Unknown(reason);
            }
            if let Some(found) = conflict.take() {
                let mut frame = match self.split(&order, pins, &found) {
                    Ok(frame) => frame,
                    Err(reason) => return Verdict::Unknown(reason),
                };
                let Some(&first) = frame.alternatives.first() else {
                    frames.push(frame);
                    continue;
                };
                pins[frame.global] = first;
                frame.next = 1;
                frames.push(frame);
                match self.check_pins(pins) {
                    Ok(verdict) => return verdict,
                    Err(next_conflict) => conflict = next_conflict,
                }
                continue;
            }
            let Some(frame) = frames.last_mut() else {
                let (partition, stuck) =
                    self.first_failure.clone().expect("the relaxed check passed, so a narrower check failed");
                let note = format!(
                    "every partition is linearizable with the {} global operation(s) free, but no single point for each \
                     satisfies all partitions at once (searched exhaustively); shown: the first placement's failure",
                    globals.len()
                );
                return self.not_linearizable(partition, &stuck, Some(note));
            };
            if frame.next == frame.alternatives.len() {
                pins[frame.global] = frame.before;
                frames.pop();
                continue;
            }
            let global = frame.global;
            pins[global] = frame.alternatives[frame.next];
            frame.next += 1;
            match self.check_pins(pins) {
                Ok(verdict) => return verdict,
                Err(next_conflict) => conflict = next_conflict,
            }
        }
    }

    /// Checks every partition under `pins`: `Ok` with a final verdict (linearizable, or out of
    /// budget), `Err(Some)` when they pass but disagree, `Err(None)` when one fails (the first
    /// failure is kept as evidence).
    fn check_pins(&mut self, pins: &[Pin]) -> Result<Verdict, Option<Conflict>> {
        match self.check_all(pins) {
            AllPartitions::Pass(witnesses) => match compatible_points(self.prepared, &witnesses, pins) {
                Ok(()) => Ok(self.linearizable(witnesses)),
                Err(conflict) => Err(Some(conflict)),
            },
            AllPartitions::Fail { partition, stuck } => {
                self.first_failure.get_or_insert((partition, stuck));
                Err(None)
            }
            AllPartitions::OutOfBudget(reason) => Ok(Verdict::Unknown(reason)),
        }
    }

    /// Chooses a global in conflict that is not pinned and splits its domain. Only globals
    /// whose point is not fixed can be in conflict (the witnesses respect pinned points), so
    /// there is one while the witnesses disagree.
    fn split(&self, order: &[usize], pins: &[Pin], conflict: &Conflict) -> Result<SplitFrame, String> {
        let unpinned = |global: &&usize| matches!(pins[**global], Pin::Range { .. });
        let bounds_crossed =
            order.iter().filter(unpinned).find(|&&global| conflict.lower[global] > conflict.upper[global]);
        let chosen = bounds_crossed
            .or_else(|| order.iter().filter(unpinned).find(|&&global| conflict.cyclic[global]))
            .or_else(|| order.iter().find(unpinned));
        let Some(&global) = chosen else {
            return Err("the witnesses disagree with every global operation pinned".to_string());
        };
        self.split_one(global, pins, conflict)
    }

    /// The two halves of an unpinned global's range, or its slots when it is down to one gap.
    fn split_one(&self, global: usize, pins: &[Pin], conflict: &Conflict) -> Result<SplitFrame, String> {
        let Pin::Range { lo, hi } = pins[global] else { unreachable!("chosen among ranges") };
        let alternatives = if lo < hi {
            // Some witness needs the point at `lower` or later, another by `upper`: try the
            // first's half first, so that every other partition jumps there at once. Without
            // crossed bounds, halve.
            let cut = if conflict.lower[global] > conflict.upper[global] {
                conflict.lower[global].saturating_sub(1).clamp(lo, hi - 1)
            } else {
                lo + (hi - lo) / 2
            };
            let (early, late) = (Pin::Range { lo, hi: cut }, Pin::Range { lo: cut + 1, hi });
            if conflict.lower[global] > cut {
                vec![late, early]
            } else {
                vec![early, late]
            }
        } else {
            self.slots_in_gap(global, lo, pins)?
        };
        Ok(SplitFrame { global, before: pins[global], alternatives, next: 0 })
    }

    /// Every slot for the global among the globals already pinned to `gap`, except that globals
    /// of one effect class keep their index order: swapping two of them changes nothing.
    fn slots_in_gap(&self, global: usize, gap: u32, pins: &[Pin]) -> Result<Vec<Pin>, String> {
        let class = self.model.global_effect_class(&self.ops[self.prepared.globals[global].op].input);
        let mut pinned_here: Vec<(u32, usize)> = pins
            .iter()
            .enumerate()
            .filter_map(|(other, pin)| match pin {
                Pin::At { gap: pinned_gap, rank } if *pinned_gap == gap => Some((*rank, other)),
                _ => None,
            })
            .collect();
        pinned_here.sort_unstable();
        let same_class = |other: usize| {
            class.is_some() && self.model.global_effect_class(&self.ops[self.prepared.globals[other].op].input) == class
        };
        let mut slots = Vec::new();
        for slot in 0..=pinned_here.len() {
            let low = if slot == 0 { RANK_LOW } else { pinned_here[slot - 1].0 };
            let high = if slot == pinned_here.len() { RANK_HIGH } else { pinned_here[slot].0 };
            let canonical = pinned_here[..slot].iter().all(|&(_, other)| !same_class(other) || other < global)
                && pinned_here[slot..].iter().all(|&(_, other)| !same_class(other) || other > global);
            if !canonical {
                continue;
            }
            if high - low < 2 {
                return Err("too many global operations pinned to one gap".to_string());
            }
            slots.push(Pin::At { gap, rank: low + (high - low) / 2 });
        }
        Ok(slots)
    }

    fn linearizable(&self, witnesses: Vec<Vec<usize>>) -> Verdict {
        Verdict::Linearizable(Witness {
            partitions: self
                .prepared
                .partitions
                .iter()
                .zip(witnesses)
                .map(|(partition, order)| PartitionOrder { name: partition.name.clone(), order })
                .collect(),
        })
    }

    fn not_linearizable(&self, partition: usize, stuck: &Stuck, note: Option<String>) -> Verdict {
        let name = &self.prepared.partitions[partition].name;
        Verdict::NotLinearizable(counterexample(self.model, self.ops, name, stuck, note))
    }
}

/// A global whose domain was split: the alternatives are tried in turn, and the domain is
/// restored when all have failed.
struct SplitFrame {
    global: usize,
    before: Pin,
    alternatives: Vec<Pin>,
    next: usize,
}

/// Why the witnesses do not agree: per global, the lowest gap they allow (pushed along the
/// order they impose), the highest, and whether it sits on or after a cycle of that order.
struct Conflict {
    lower: Vec<u32>,
    upper: Vec<u32>,
    cyclic: Vec<bool>,
}

/// For each global, its position among all pinned globals ordered by (gap, rank): what decides
/// the order of two globals pinned to the same gap, whatever the partition.
fn pinned_ranks(pins: &[Pin]) -> Vec<u32> {
    let mut pinned: Vec<(u32, u32, usize)> = pins
        .iter()
        .enumerate()
        .filter_map(|(global, pin)| match pin {
            Pin::At { gap, rank } => Some((*gap, *rank, global)),
            Pin::Range { .. } => None,
        })
        .collect();
    pinned.sort_unstable();
    let mut ranks = vec![0; pins.len()];
    for (ordinal, (_, _, global)) in pinned.into_iter().enumerate() {
        ranks[global] = ordinal as u32;
    }
    ranks
}

/// Whether one point per global operation agrees with every partition's witness. `Err` says
/// where they disagree.
///
/// In gap units (a point after `m` keyed events): a keyed operation before the global in some
/// witness needs its call before the point (`m >= call + 1`); one after it needs its return
/// after the point (`m <= return`). Two globals with a keyed operation between them in some
/// witness must keep that order (`m_a <= m_b`, and `a` first within a shared gap); adjacent
/// globals commute, so they constrain nothing. The constraints are met iff the order graph is
/// acyclic and the lower bounds, pushed along it, stay within the upper bounds.
fn compatible_points(prepared: &Prepared, witnesses: &[Vec<usize>], pins: &[Pin]) -> Result<(), Conflict> {
    let global_count = prepared.globals.len();
    if global_count == 0 {
        return Ok(());
    }
    let mut global_of_op: HashMap<usize, usize> = HashMap::with_capacity(global_count);
    let mut lower: Vec<u32> = Vec::with_capacity(global_count);
    let mut upper: Vec<u32> = Vec::with_capacity(global_count);
    for (global, op) in prepared.globals.iter().enumerate() {
        global_of_op.insert(op.op, global);
        match pins[global] {
            Pin::Range { lo, hi } => {
                lower.push(lo);
                upper.push(hi);
            }
            Pin::At { gap, .. } => {
                lower.push(gap);
                upper.push(gap);
            }
        }
    }
    let mut successors: Vec<Vec<usize>> = vec![Vec::new(); global_count];
    for order in witnesses {
        let mut call_bound = 0u32;
        let mut closed_block: Vec<usize> = Vec::new();
        let mut open_block: Vec<usize> = Vec::new();
        for &op in order {
            match global_of_op.get(&op) {
                Some(&global) => {
                    lower[global] = lower[global].max(call_bound);
                    for &before in &closed_block {
                        successors[before].push(global);
                    }
                    open_block.push(global);
                }
                None => {
                    call_bound = call_bound.max(prepared.call_event[op] + 1);
                    if !open_block.is_empty() {
                        closed_block = std::mem::take(&mut open_block);
                    }
                }
            }
        }
        let mut return_bound = prepared.event_count;
        for &op in order.iter().rev() {
            match global_of_op.get(&op) {
                Some(&global) => upper[global] = upper[global].min(return_bound),
                None => {
                    if prepared.return_event[op] != NEVER {
                        return_bound = return_bound.min(prepared.return_event[op]);
                    }
                }
            }
        }
    }
    // Globals pinned to one gap keep their pinned order.
    let ranks = pinned_ranks(pins);
    let mut pinned: Vec<usize> = (0..global_count).filter(|&global| matches!(pins[global], Pin::At { .. })).collect();
    pinned.sort_by_key(|&global| ranks[global]);
    for pair in pinned.windows(2) {
        successors[pair[0]].push(pair[1]);
    }
    // Kahn's algorithm: a topological order, pushing lower bounds forward.
    let mut predecessors_left = vec![0usize; global_count];
    for targets in &successors {
        for &target in targets {
            predecessors_left[target] += 1;
        }
    }
    let mut ready: Vec<usize> = (0..global_count).filter(|&global| predecessors_left[global] == 0).collect();
    let mut visited = 0;
    let mut cyclic = vec![true; global_count];
    while let Some(global) = ready.pop() {
        visited += 1;
        cyclic[global] = false;
        for &target in &successors[global] {
            lower[target] = lower[target].max(lower[global]);
            predecessors_left[target] -= 1;
            if predecessors_left[target] == 0 {
                ready.push(target);
            }
        }
    }
    let agrees = visited == global_count && lower.iter().zip(&upper).all(|(low, high)| low <= high);
    if agrees {
        Ok(())
    } else {
        Err(Conflict { lower, upper, cyclic })
    }
}

/// The evidence for a refutation found without a search.
pub(crate) fn refuted<M: Model>(
    model: &M,
    ops: &[Operation<M::Input, M::Output>],
    refutation: &super::refute::Refutation,
) -> Counterexample {
    let mut report = format!("no order can explain {}: {}", describe_op(model, ops, refutation.op), refutation.reason);
    for &index in &refutation.related {
        report.push_str(&format!("\n    {}", describe_op(model, ops, index)));
    }
    let mut pending = vec![refutation.op];
    pending.extend(&refutation.related);
    Counterexample {
        partition: "the history".to_string(),
        longest_prefix: Vec::new(),
        blocked: refutation.op,
        window_start: pending.iter().map(|&index| ops[index].call).min().unwrap_or(ops[refutation.op].call),
        pending,
        window_end: ops[refutation.op].returned,
        note: Some("refuted without a search".to_string()),
        report,
    }
}

/// One operation for reports: index, client, raw times (nanoseconds for replsim, line
/// positions for Jepsen files) and the model's description.
fn describe_op<M: Model>(model: &M, ops: &[Operation<M::Input, M::Output>], index: usize) -> String {
    let op = &ops[index];
    let returned = op.returned.map_or_else(|| "never".to_string(), |time| time.0.to_string());
    format!(
        "#{index} client {} [{} .. {returned}] {}",
        op.client,
        op.call.0,
        model.describe(&op.input, op.output.as_ref())
    )
}

/// The evidence for one stuck partition, rendered with the model's descriptions.
fn counterexample<M: Model>(
    model: &M,
    ops: &[Operation<M::Input, M::Output>],
    partition: &str,
    stuck: &Stuck,
    note: Option<String>,
) -> Counterexample {
    const PREFIX_SHOWN_MAX: usize = 8;
    let describe = |index: usize| describe_op(model, ops, index);
    let mut report = format!(
        "{partition} has no linearization; the longest linearizable prefix has {} operation(s)",
        stuck.longest_prefix.len()
    );
    let shown_from = stuck.longest_prefix.len().saturating_sub(PREFIX_SHOWN_MAX);
    if shown_from > 0 {
        report.push_str(&format!(", ending (last {PREFIX_SHOWN_MAX}):"));
    } else if !stuck.longest_prefix.is_empty() {
        report.push(':');
    }
    for &index in &stuck.longest_prefix[shown_from..] {
        report.push_str(&format!("\n    {}", describe(index)));
    }
    report.push_str(&format!(
        "\n  then {} must take effect before it returns, but no order of these pending operations allows it:",
        describe(stuck.blocked)
    ));
    for &index in &stuck.pending {
        report.push_str(&format!("\n    {}", describe(index)));
    }
    let window_start = stuck.pending.iter().map(|&index| ops[index].call).min().unwrap_or(ops[stuck.blocked].call);
    Counterexample {
        partition: partition.to_string(),
        longest_prefix: stuck.longest_prefix.clone(),
        blocked: stuck.blocked,
        pending: stuck.pending.clone(),
        window_start,
        window_end: ops[stuck.blocked].returned,
        note,
        report,
    }
}
