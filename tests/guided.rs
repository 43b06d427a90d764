//! Guided fuzzing: every run it makes is reproducible from its printed line (a base seed plus a
//! chain of mutation seeds), the campaign is deterministic whatever the thread count, and — in
//! the ignored comparison below — how it fares against plain seeds on the hardest planted bugs.

use std::sync::atomic::AtomicBool;
use std::time::{Duration, Instant};

use replsim_scenarios::guided::{self, GuidedPlan};
use replsim_scenarios::runner::{run_case, Case, RunOptions};
use replsim_scenarios::scenario::Scenario;
use replsim_sim::bug::Bug;
use replsim_sim::config::ApplyMode;
use replsim_sim::marks::Mark;

fn plan(bug: Option<Bug>, start_seed: u64, runs_max: u64, jobs: usize) -> GuidedPlan {
    GuidedPlan {
        scenario: Scenario::by_name("swarm").expect("the swarm scenario exists"),
        mode: ApplyMode::Barrier,
        bug,
        faults: None,
        start_seed,
        runs_max,
        duration: None,
        keep_going: true,
        jobs,
    }
}

/// (base seed, mutations, trace hash) of every run of a campaign.
fn runs_of(plan: &GuidedPlan) -> Vec<(u64, Vec<u64>, u64)> {
    let mut runs = Vec::new();
    guided::run(plan, &AtomicBool::new(false), |_, verdict| {
        runs.push((verdict.case.seed, verdict.case.mutations.clone(), verdict.trace_hash));
    })
    .expect("a swarm scenario");
    runs
}

#[test]
fn a_guided_campaign_is_the_same_on_one_thread_or_two_and_every_run_replays_from_its_line() {
    let one = runs_of(&plan(None, 5, 32, 1));
    assert_eq!(one, runs_of(&plan(None, 5, 32, 2)), "the thread count changed the campaign");
    let mutated: Vec<_> = one.iter().filter(|(_, mutations, _)| !mutations.is_empty()).collect();
    assert!(mutated.len() >= 8, "a 32-run campaign should mutate its corpus: {one:?}");
    let scenario = Scenario::by_name("swarm").expect("the swarm scenario exists");
    for (seed, mutations, trace_hash) in mutated {
        let case =
            Case::new(&scenario, ApplyMode::Barrier, *seed).with_mutations(&scenario, mutations).expect("a swarm case");
        assert!(case.repro_command().contains(" --mutations "), "{}", case.repro_command());
        let replayed = run_case(&case, RunOptions::default());
        assert_eq!(replayed.trace_hash, *trace_hash, "seed {seed} mutations {mutations:?} did not replay");
    }
}

#[test]
fn mutations_apply_only_to_swarm_scenarios() {
    let scenario = Scenario::by_name("flushdb-race").expect("the default scenario exists");
    let refused = Case::new(&scenario, ApplyMode::Barrier, 1).with_mutations(&scenario, &[7]);
    assert!(refused.is_err_and(|problem| problem.contains("swarm")));
}

/// Runs until `bug` is caught: (runs, wall time), or `None` within `runs_max`.
fn plain_to_catch(bug: Bug, start: u64, runs_max: u64) -> (Option<u64>, Duration) {
    let scenario = Scenario::by_name("swarm").expect("the swarm scenario exists");
    let started = Instant::now();
    let caught = (start..start + runs_max).position(|seed| {
        let case = Case::new(&scenario, ApplyMode::Barrier, seed).with_bug(Some(bug));
        run_case(&case, RunOptions::default()).is_fail()
    });
    (caught.map(|index| index as u64 + 1), started.elapsed())
}

fn guided_to_catch(bug: Bug, start: u64, runs_max: u64) -> (Option<u64>, Duration) {
    let started = Instant::now();
    let plan = GuidedPlan { keep_going: false, ..plan(Some(bug), start, runs_max, 1) };
    let summary = guided::run(&plan, &AtomicBool::new(false), |_, _| {}).expect("a swarm scenario");
    (summary.first_failure_run, started.elapsed())
}

/// Start seeds of the comparisons: 0, 1000, …, 19000.
const STARTS: u64 = 20;

/// One row of a comparison: from every start, runs until `plain` and `guided` reach the goal
/// (alternating, so both see the same host), as median / max runs and total wall time.
fn compare_row(
    name: &str,
    plain: impl Fn(u64) -> (Option<u64>, Duration),
    guided: impl Fn(u64) -> (Option<u64>, Duration),
) {
    let (mut plain_runs, mut guided_runs) = (Vec::new(), Vec::new());
    let (mut plain_time, mut guided_time) = (Duration::ZERO, Duration::ZERO);
    for start in (0..STARTS).map(|index| index * 1_000) {
        let (runs, time) = plain(start);
        plain_runs.push(runs.unwrap_or(u64::MAX));
        plain_time += time;
        let (runs, time) = guided(start);
        guided_runs.push(runs.unwrap_or(u64::MAX));
        guided_time += time;
    }
    plain_runs.sort_unstable();
    guided_runs.sort_unstable();
    let cell = |runs: &[u64]| format!("{} / {}", runs[runs.len() / 2], runs[runs.len() - 1]);
    println!(
        "| {name} | {} | {} | {:.2} s | {:.2} s |",
        cell(&plain_runs),
        cell(&guided_runs),
        plain_time.as_secs_f64(),
        guided_time.as_secs_f64()
    );
    println!("<!-- {name}: plain {plain_runs:?}, guided {guided_runs:?} -->");
}

/// `docs/guided-fuzzing.md`'s table: plain seeds against `--guided` on the three planted bugs that
/// take the most seeds, from the same 20 start seeds, one thread each, side by side. Run with
/// `cargo test --release --test guided guided_against_plain -- --ignored --nocapture`.
#[test]
#[ignore]
fn guided_against_plain_on_the_hardest_planted_bugs() {
    const RUNS_MAX: u64 = 500;
    println!("| bug | plain: median / max runs | guided: median / max runs | plain time | guided time |");
    println!("|---|---|---|---|---|");
    for bug in [Bug::SnapshotOffsetMismatch, Bug::AckBeforeApply, Bug::FlushAllOneEntry] {
        compare_row(
            bug.name(),
            |start| plain_to_catch(bug, start, RUNS_MAX),
            |start| guided_to_catch(bug, start, RUNS_MAX),
        );
    }
}

/// Runs until a run hits `mark` (no bug planted): plain seeds from `start`.
fn plain_to_mark(mark: Mark, start: u64, runs_max: u64) -> (Option<u64>, Duration) {
    let scenario = Scenario::by_name("swarm").expect("the swarm scenario exists");
    let started = Instant::now();
    let hit = (start..start + runs_max).position(|seed| {
        let case = Case::new(&scenario, ApplyMode::Barrier, seed);
        run_case(&case, RunOptions::default()).marks.get(mark) > 0
    });
    (hit.map(|index| index as u64 + 1), started.elapsed())
}

/// The same with `--guided` from start seed `start` (it stops at the end of the batch that hit).
fn guided_to_mark(mark: Mark, start: u64, runs_max: u64) -> (Option<u64>, Duration) {
    let started = Instant::now();
    let stop = AtomicBool::new(false);
    let mut first = None;
    guided::run(&plan(None, start, runs_max, 1), &stop, |run, verdict| {
        if first.is_none() && verdict.marks.get(mark) > 0 {
            first = Some(run);
            stop.store(true, std::sync::atomic::Ordering::Relaxed);
        }
    })
    .expect("a swarm scenario");
    (first, started.elapsed())
}

/// The doc's second table: runs to reach the two rarest marks, plain against guided. Run with
/// `cargo test --release --test guided guided_against_plain_on_rare -- --ignored --nocapture`.
#[test]
#[ignore]
fn guided_against_plain_on_rare_marks() {
    const RUNS_MAX: u64 = 2_000;
    println!("| mark | plain: median / max runs | guided: median / max runs | plain time | guided time |");
    println!("|---|---|---|---|---|");
    for mark in [Mark::FullSyncWithWritesQueued, Mark::AckStale] {
        compare_row(
            mark.name(),
            |start| plain_to_mark(mark, start, RUNS_MAX),
            |start| guided_to_mark(mark, start, RUNS_MAX),
        );
    }
}
