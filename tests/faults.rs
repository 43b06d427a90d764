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

/// Start seeds of the planted-bug table: 0, 1000, …, 19000.
const TABLE_STARTS: u64 = 20;

/// One row of the README's planted-bug table, as measured: seeds to catch from each start
/// (median and max), and how many starts each check fired at.
fn measure_row(bug: Bug) -> (String, Vec<String>) {
    let mut seeds = Vec::new();
    let mut checks_seen = std::collections::BTreeMap::<Check, usize>::new();
    let mut missed = Vec::new();
    for start in (0..TABLE_STARTS).map(|index| index * 1_000) {
        match seeds_to_catch(bug, start) {
            Some((count, checks)) => {
                seeds.push(count);
                for check in checks {
                    *checks_seen.entry(check).or_default() += 1;
                }
            }
            None => missed.push(format!("{bug}: not caught within {SEEDS_TO_CATCH_MAX} seeds from {start}")),
        }
    }
    seeds.sort_unstable();
    // Most often first, so the check that catches a bug leads its row.
    let mut checks: Vec<(Check, usize)> = checks_seen.into_iter().collect();
    checks.sort_by_key(|(check, starts)| (std::cmp::Reverse(*starts), *check));
    let checks: Vec<String> =
        checks.iter().map(|(check, starts)| format!("{check} ({starts}/{TABLE_STARTS})")).collect();
    let (median, max) = (seeds.get(seeds.len() / 2).copied().unwrap_or(0), seeds.last().copied().unwrap_or(0));
    (format!("{median} / {max} | {}", checks.join(", ")), missed)
}

/// The README's planted-bug rows: bug name → "median / max | caught by".
fn readme_rows() -> std::collections::BTreeMap<String, String> {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).expect("README.md");
    let section = readme.split("## Planted bugs").nth(1).expect("a Planted bugs section");
    section
        .lines()
        .filter(|line| line.starts_with("| `"))
        .filter_map(|line| {
            let cells: Vec<&str> = line.trim_matches('|').split(" | ").map(str::trim).collect();
            let name = cells.first()?.trim_matches('`').to_string();
            Some((name, format!("{} | {}", cells.get(2)?, cells.get(3)?)))
        })
        .collect()
}

/// Every planted bug is caught within 50 seeds of the swarm from each of 20 start offsets, and
/// the README's table says so with the numbers measured here: seeds to catch (median / max) and
/// the checks that fired. Deterministic, so the README must match exactly; when the system under
/// test changes, the failure prints the rows to paste.
#[test]
fn every_planted_bug_is_caught_within_50_seeds_as_the_readme_table_says() {
    let readme = readme_rows();
    let mut missed = Vec::new();
    let mut stale = Vec::new();
    let mut measured_rows = Vec::new();
    for bug in Bug::ALL {
        let (measured, bug_missed) = measure_row(bug);
        missed.extend(bug_missed);
        if readme.get(bug.name()) != Some(&measured) {
            stale.push(format!("{bug}: README says {:?}, measured {measured:?}", readme.get(bug.name())));
        }
        measured_rows.push(format!("| `{bug}` | … | {measured} |"));
    }
    assert!(missed.is_empty(), "{}", missed.join("\n"));
    assert!(
        stale.is_empty(),
        "the README's planted-bug table is stale:\n{}\nmeasured rows:\n{}",
        stale.join("\n"),
        measured_rows.join("\n")
    );
}
