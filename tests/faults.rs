//! Faults, swarm testing and planted bugs: the fixed apply modes survive every fault the swarm
//! throws at them — under the ideal profile, and under Pika's behaviours with every race fixed
//! (`docs/findings.md`) —, every planted bug is caught within 50 seeds, and a faulty run is as
//! deterministic as a clean one.
//!
//! `REPLSIM_SEEDS=N` widens the fixed-mode soak; `REPLSIM_SEED=S` narrows it to one seed.

use replsim_scenarios::runner::{run_case, Case, Check, Outcome, RunOptions, Verdict};
use replsim_scenarios::scenario::Scenario;
use replsim_scenarios::seeds::test_seeds;
use replsim_sim::behaviour::{Behaviour, Behaviours, Profile};
use replsim_sim::bug::Bug;
use replsim_sim::config::ApplyMode;

/// The bar: every planted bug is caught within this many seeds of the default swarm.
const SEEDS_TO_CATCH_MAX: u64 = 50;

fn swarm() -> Scenario {
    Scenario::by_name("swarm").expect("the swarm scenario exists")
}

fn run_swarm(mode: ApplyMode, seed: u64, bug: Option<Bug>) -> Verdict {
    let case = Case::new(&swarm(), mode, seed).with_bug(bug);
    run_case(&case, RunOptions::default())
}

/// Runs seeds from `start` until `bug` is caught; returns (seeds run, the checks that fired).
fn seeds_to_catch(bug: Bug, start: u64) -> Option<(u64, Vec<Check>)> {
    (start..start + SEEDS_TO_CATCH_MAX).find_map(|seed| {
        let verdict = run_swarm(ApplyMode::Barrier, seed, Some(bug));
        match &verdict.outcome {
            Outcome::Fail(violations) => {
                let mut checks: Vec<Check> = violations.iter().map(|violation| violation.check()).collect();
                checks.sort();
                checks.dedup();
                Some((seed - start + 1, checks))
            }
            _ => None,
        }
    })
}

fn fixed_modes_pass_swarm_faults(mode: ApplyMode, default_seeds: u64) {
    fixed_modes_pass_swarm_faults_with(mode, &Behaviours::default(), default_seeds);
}

fn fixed_modes_pass_swarm_faults_with(mode: ApplyMode, behaviours: &Behaviours, default_seeds: u64) {
    let mut unknown = Vec::new();
    for seed in test_seeds(default_seeds) {
        let case = Case::new(&swarm(), mode, seed).with_behaviours(behaviours.clone());
        let verdict = run_case(&case, RunOptions::default());
        assert!(!verdict.is_fail(), "a fixed mode failed under swarm faults:\n{verdict}");
        if let Outcome::Unknown(reason) = &verdict.outcome {
            unknown.push(format!("seed {seed}: {reason}"));
        }
    }
    assert!(unknown.is_empty(), "{mode} ({behaviours}): runs without a verdict:\n{}", unknown.join("\n"));
}

/// `--profile pika` without the behaviours that open one of the five races.
fn pika_with_every_race_fixed() -> Behaviours {
    Profile::Pika.behaviours().with_races_fixed()
}

#[test]
fn pika_with_every_race_fixed_keeps_only_the_behaviours_that_open_no_race() {
    let fixed = pika_with_every_race_fixed();
    assert_eq!(fixed.to_string(), "pika-dispatch,tsync-ahead-error");
    for behaviour in Behaviour::ALL {
        assert_eq!(fixed.has(behaviour), behaviour.race().is_none(), "{behaviour}");
    }
}

#[test]
fn barrier_survives_every_swarm_fault_under_pika_with_every_race_fixed() {
    fixed_modes_pass_swarm_faults_with(ApplyMode::Barrier, &pika_with_every_race_fixed(), 500);
}

#[test]
fn serial_survives_every_swarm_fault_under_pika_with_every_race_fixed() {
    fixed_modes_pass_swarm_faults_with(ApplyMode::Serial, &pika_with_every_race_fixed(), 500);
}

#[test]
fn the_merged_fix_survives_every_swarm_fault_under_pika_with_every_race_fixed() {
    fixed_modes_pass_swarm_faults_with(ApplyMode::MergedFix, &pika_with_every_race_fixed(), 200);
}

#[test]
fn barrier_survives_every_swarm_fault() {
    fixed_modes_pass_swarm_faults(ApplyMode::Barrier, 500);
}

#[test]
fn serial_survives_every_swarm_fault() {
    fixed_modes_pass_swarm_faults(ApplyMode::Serial, 500);
}

#[test]
fn every_planted_bug_is_caught_within_50_swarm_seeds() {
    let mut missed = Vec::new();
    for bug in Bug::ALL {
        match seeds_to_catch(bug, 0) {
            Some((seeds, checks)) => {
                let checks: Vec<String> = checks.iter().map(Check::to_string).collect();
                println!("{bug:<28} caught after {seeds:>2} seed(s) by {}", checks.join(", "));
            }
            None => missed.push(bug.to_string()),
        }
    }
    assert!(missed.is_empty(), "not caught within {SEEDS_TO_CATCH_MAX} seeds: {}", missed.join(", "));
}

#[test]
fn a_faulty_run_is_deterministic() {
    for seed in 0..20 {
        let first = run_swarm(ApplyMode::Barrier, seed, None);
        let again = run_swarm(ApplyMode::Barrier, seed, None);
        assert_eq!(first.trace_hash, again.trace_hash, "seed {seed}: same seed, different trace");
        assert_eq!(first.stats, again.stats, "seed {seed}: same seed, different run");
    }
}

#[test]
fn swarm_configuration_is_part_of_the_case_and_printed_with_a_failure() {
    let case = Case::new(&swarm(), ApplyMode::Barrier, 3);
    let swarm_config = case.swarm.clone().expect("a swarm case carries its configuration");
    assert_eq!(Case::new(&swarm(), ApplyMode::Barrier, 3).cluster, case.cluster, "derived from the seed alone");
    let verdict = run_case(&case.with_bug(Some(Bug::TsyncOffByOne)), RunOptions::default());
    assert!(verdict.is_fail(), "{verdict}");
    let printed = verdict.to_string();
    assert!(printed.contains(&swarm_config.to_string()), "{printed}");
    assert!(printed.contains("planted bug: tsync-off-by-one"), "{printed}");
}

/// The README's table: seeds-to-catch of every planted bug from 20 start offsets (median and
/// max) and the checks that fired. Slow in debug; run with
/// `cargo test --release --test faults planted_bug_table -- --ignored --nocapture`.
#[test]
#[ignore]
fn planted_bug_table() {
    const STARTS: u64 = 20;
    println!("| bug | seeds to catch (median) | max | caught by |");
    println!("|---|---|---|---|");
    for bug in Bug::ALL {
        let mut seeds = Vec::new();
        let mut checks_seen = std::collections::BTreeMap::<String, usize>::new();
        for start in (0..STARTS).map(|index| index * 1_000) {
            let (count, checks) = seeds_to_catch(bug, start)
                .unwrap_or_else(|| panic!("{bug} not caught within {SEEDS_TO_CATCH_MAX} seeds from {start}"));
            seeds.push(count);
            for check in checks {
                *checks_seen.entry(check.to_string()).or_default() += 1;
            }
        }
        seeds.sort_unstable();
        let checks: Vec<String> =
            checks_seen.iter().map(|(check, runs)| format!("{check} ({runs}/{STARTS})")).collect();
        println!("| {bug} | {} | {} | {} |", seeds[seeds.len() / 2], seeds[seeds.len() - 1], checks.join(", "));
    }
}
