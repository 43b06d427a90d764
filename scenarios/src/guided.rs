//! Guided fuzzing: keep the swarm configurations whose runs reached rare coverage marks, and
//! spend part of the campaign on mutations of them, the way coverage-guided fuzzers treat their
//! inputs. Every run stays reproducible from one line: a case is a base seed plus a chain of
//! mutation seeds, and `replay --seed S --mutations M1,M2` rebuilds it exactly.
//!
//! ```text
//! batch of 8:  fresh seed 40 ─────────────────────────► run ─┐ hit a rare mark? keep (40, [])
//!              corpus (12, [7731]) + mutation 90210 ──► run ─┤ failed? report the line
//!              …                                             ┘ update the marks' hit counts
//! mutation m:  donor = swarm configuration of seed m; 1–3 of the parent's genes (replicas,
//!              op mix, stalls, retention, …) are replaced by the donor's
//! ```
//!
//! The campaign is deterministic for a start seed, whatever `jobs`: candidates are chosen a
//! batch at a time from the state before the batch, and results are taken in batch order.
//!
//! ```
//! use replsim_scenarios::guided::mutate;
//! use replsim_scenarios::swarm::SwarmConfig;
//! let parent = SwarmConfig::for_seed(3);
//! let child = mutate(&parent, 77);
//! assert_eq!(child, mutate(&parent, 77), "a mutation is a pure function of its seed");
//! ```

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use replsim_sim::bug::Bug;
use replsim_sim::config::ApplyMode;
use replsim_sim::marks::{Mark, MarkCounts};

use crate::generate::splitmix64;
use crate::runner::{run_case, Case, RunOptions, Verdict};
use crate::scenario::Scenario;
use crate::swarm::{FaultKinds, SwarmConfig};

const MUTATION_SALT: u64 = 0x4d55_5441_5445_0006;
const GUIDED_SALT: u64 = 0x4755_4944_4544_0007;

/// Candidates chosen per batch: fixed, so the campaign does not depend on the thread count.
const BATCH: usize = 8;
/// Bounds of the corpus and of a mutation chain (and so of a repro line).
const CORPUS_MAX: usize = 128;
const CHAIN_MAX: usize = 8;
/// One candidate in this many is a fresh seed once the corpus is not empty.
const FRESH_ONE_IN: u64 = 4;
/// A mark is rare while at most this fraction of runs so far hit it (1/20 = 5 %).
const RARE_ONE_IN: u64 = 20;

/// The parts of a swarm configuration a mutation swaps, each as a whole.
const GENES: usize = 14;

fn copy_gene(child: &mut SwarmConfig, donor: &SwarmConfig, gene: usize) {
    match gene {
        0 => child.replicas = donor.replicas,
        1 => child.databases = donor.databases,
        2 => child.keys = donor.keys,
        3 => child.phases = donor.phases,
        4 => child.clients = donor.clients,
        5 => child.ops_per_client = donor.ops_per_client,
        6 => child.mix = donor.mix.clone(),
        7 => (child.apply_workers, child.apply_delay_max_ms) = (donor.apply_workers, donor.apply_delay_max_ms),
        8 => {
            child.latency_min_us = donor.latency_min_us;
            child.latency_max_us = donor.latency_max_us;
            child.packet_loss_per_million = donor.packet_loss_per_million;
        }
        9 => child.binlog_retention_entries = donor.binlog_retention_entries,
        10 => child.retransmit_after_ms = donor.retransmit_after_ms,
        11 => {
            let stall = child.faults.stall;
            child.faults = FaultKinds { stall, ..donor.faults };
            child.faults_per_phase_max = donor.faults_per_phase_max;
        }
        12 => (child.faults.stall, child.stalls) = (donor.faults.stall, donor.stalls),
        _ => {
            (child.window_entries_max, child.apply_queue_capacity) =
                (donor.window_entries_max, donor.apply_queue_capacity)
        }
    }
}

/// `parent` with 1–3 of its genes replaced by those of seed `mutation`'s configuration: every
/// value stays one the swarm could have drawn.
pub fn mutate(parent: &SwarmConfig, mutation: u64) -> SwarmConfig {
    let donor = SwarmConfig::for_seed(mutation);
    let mut state = mutation ^ MUTATION_SALT;
    let genes = 1 + splitmix64(&mut state) % 3;
    let mut child = parent.clone();
    for _ in 0..genes {
        copy_gene(&mut child, &donor, (splitmix64(&mut state) % GENES as u64) as usize);
    }
    child
}

/// A guided campaign.
#[derive(Clone, Debug)]
pub struct GuidedPlan {
    /// A swarm scenario (the configuration is what gets mutated).
    pub scenario: Scenario,
    pub mode: ApplyMode,
    pub bug: Option<Bug>,
    pub faults: Option<FaultKinds>,
    /// Fresh seeds are taken from here upwards; it also seeds the campaign's own choices.
    pub start_seed: u64,
    /// Runs to make at most.
    pub runs_max: u64,
    /// Wall-clock bound, if any.
    pub duration: Option<Duration>,
    pub keep_going: bool,
    pub jobs: usize,
}

/// A configuration worth mutating: a base seed, its chain, and the marks its run hit.
#[derive(Clone, Debug)]
struct Entry {
    seed: u64,
    chain: Vec<u64>,
    marks: Vec<Mark>,
}

/// How a guided campaign ended.
#[derive(Clone, Debug, Default)]
pub struct GuidedSummary {
    pub runs: u64,
    pub failed: u64,
    pub unknown: u64,
    /// Runs that were mutations of a corpus entry (the rest were fresh seeds).
    pub mutated_runs: u64,
    pub corpus: usize,
    /// Per mark, runs that hit it.
    pub runs_hitting: MarkCounts,
    /// The 1-based run that failed first.
    pub first_failure_run: Option<u64>,
    pub stopped_at_failure: bool,
    pub interrupted: bool,
}

/// Runs a guided campaign; `deliver` sees every run in order (1-based run number, verdict).
pub fn run(
    plan: &GuidedPlan,
    interrupted: &AtomicBool,
    mut deliver: impl FnMut(u64, &Verdict),
) -> Result<GuidedSummary, String> {
    if plan.scenario.swarm.is_none() {
        return Err(format!(
            "--guided mutates swarm configurations: use a swarm scenario (swarm, swarm-every-fault, sequential), not {}",
            plan.scenario.name
        ));
    }
    let started = Instant::now();
    let mut choices = plan.start_seed ^ GUIDED_SALT;
    let mut next_fresh = plan.start_seed;
    let mut corpus: Vec<Entry> = Vec::new();
    let mut summary = GuidedSummary::default();
    while summary.runs < plan.runs_max {
        if interrupted.load(Ordering::Relaxed) {
            summary.interrupted = true;
            break;
        }
        if plan.duration.is_some_and(|duration| started.elapsed() >= duration) {
            break;
        }
        let batch = (plan.runs_max - summary.runs).min(BATCH as u64) as usize;
        let candidates: Vec<(u64, Vec<u64>)> =
            (0..batch).map(|_| choose(&corpus, &summary, &mut choices, &mut next_fresh)).collect();
        let cases = candidates
            .iter()
            .map(|(seed, chain)| case_of(plan, *seed, chain))
            .collect::<Result<Vec<Case>, String>>()?;
        // On one thread the batch runs lazily, so a campaign that stops at a failure does not run
        // the rest of its batch (the choices were made before the batch either way).
        let mut verdicts = if plan.jobs > 1 { run_all(&cases, plan.jobs) } else { Vec::new() }.into_iter();
        for case in &cases {
            let verdict = verdicts.next().unwrap_or_else(|| run_case(case, RunOptions::default()));
            summary.runs += 1;
            summary.mutated_runs += u64::from(!case.mutations.is_empty());
            deliver(summary.runs, &verdict);
            if verdict.is_fail() {
                summary.failed += 1;
                summary.first_failure_run.get_or_insert(summary.runs);
            } else if !verdict.is_pass() {
                summary.unknown += 1;
            }
            if is_interesting(&verdict.marks, &summary) {
                let marks = verdict.marks.hit_marks().collect();
                let entry = Entry { seed: case.seed, chain: case.mutations.clone(), marks };
                if corpus.len() < CORPUS_MAX {
                    corpus.push(entry);
                } else {
                    let weakest = weakest(&corpus, &summary.runs_hitting);
                    corpus[weakest] = entry;
                }
            }
            summary.runs_hitting.add_run(&verdict.marks);
            if verdict.is_fail() && !plan.keep_going {
                summary.stopped_at_failure = true;
                summary.corpus = corpus.len();
                return Ok(summary);
            }
        }
    }
    summary.corpus = corpus.len();
    Ok(summary)
}

/// The case of base `seed` mutated by `chain`, with the plan's bug and fault kinds.
pub fn case_of(plan: &GuidedPlan, seed: u64, chain: &[u64]) -> Result<Case, String> {
    let mut case = Case::new(&plan.scenario, plan.mode, seed).with_bug(plan.bug);
    if !chain.is_empty() {
        case = case.with_mutations(&plan.scenario, chain)?;
    }
    if let Some(kinds) = plan.faults {
        case = case.with_fault_kinds(kinds)?;
    }
    Ok(case)
}

/// A fresh seed, or a mutation of a corpus entry picked by the rarity of the marks it hit.
fn choose(corpus: &[Entry], summary: &GuidedSummary, choices: &mut u64, next_fresh: &mut u64) -> (u64, Vec<u64>) {
    if corpus.is_empty() || splitmix64(choices).is_multiple_of(FRESH_ONE_IN) {
        let seed = *next_fresh;
        *next_fresh += 1;
        return (seed, Vec::new());
    }
    // Weight: the sum over the entry's marks of 1 / (1 + runs that hit the mark), in millionths.
    let weights: Vec<u64> = corpus.iter().map(|entry| score(entry, &summary.runs_hitting)).collect();
    let total: u64 = weights.iter().sum::<u64>().max(1);
    let mut roll = splitmix64(choices) % total;
    let parent = weights
        .iter()
        .position(|weight| {
            if roll < *weight {
                return true;
            }
            roll -= weight;
            false
        })
        .unwrap_or(0);
    let entry = &corpus[parent];
    let mut chain = entry.chain.clone();
    if chain.len() >= CHAIN_MAX {
        chain.pop();
    }
    chain.push(splitmix64(choices));
    (entry.seed, chain)
}

fn score(entry: &Entry, runs_hitting: &MarkCounts) -> u64 {
    entry.marks.iter().map(|mark| 1_000_000 / (1 + runs_hitting.get(*mark))).sum::<u64>().max(1)
}

fn weakest(corpus: &[Entry], runs_hitting: &MarkCounts) -> usize {
    (0..corpus.len()).min_by_key(|index| score(&corpus[*index], runs_hitting)).unwrap_or(0)
}

/// Whether a run hit a mark that at most one run in [`RARE_ONE_IN`] has hit so far.
fn is_interesting(marks: &MarkCounts, summary: &GuidedSummary) -> bool {
    marks.hit_marks().any(|mark| summary.runs_hitting.get(mark) * RARE_ONE_IN <= summary.runs)
}

/// Runs a batch on up to `jobs` threads; verdicts in batch order.
fn run_all(cases: &[Case], jobs: usize) -> Vec<Verdict> {
    let jobs = jobs.clamp(1, cases.len().max(1));
    let mut verdicts: Vec<Option<Verdict>> = vec![None; cases.len()];
    std::thread::scope(|scope| {
        let chunks: Vec<_> = verdicts
            .chunks_mut(cases.len().div_ceil(jobs))
            .zip(cases.chunks(cases.len().div_ceil(jobs)))
            .map(|(slots, cases)| {
                scope.spawn(move || {
                    for (slot, case) in slots.iter_mut().zip(cases) {
                        *slot = Some(run_case(case, RunOptions::default()));
                    }
                })
            })
            .collect();
        for chunk in chunks {
            let _ = chunk.join();
        }
    });
    verdicts.into_iter().map(|verdict| verdict.expect("every case of the batch ran")).collect()
}
