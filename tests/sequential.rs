//! The integration-test shape a new user writes first — one client, each command waiting for its
//! reply: writes, FLUSHDB, then reads on the replicas after catch-up (scenario `sequential`).
//! Uniform short applies almost never let the FLUSHDB overtake a write in this shape; the seed's
//! stalls (a worker paused for 50 ms – 2 s) do.
//!
//! Measured (release, seeds 0–1999): caught under hash-by-key on 695 of 2,000 seeds (34.8 %) with
//! stalls, 108 (5.4 %) with `--faults none`; barrier and serial pass all 2,000.

use replsim_scenarios::runner::{run_case, Case, Outcome, RunOptions};
use replsim_scenarios::scenario::Scenario;
use replsim_scenarios::seeds::test_seeds;
use replsim_scenarios::swarm::FaultKinds;
use replsim_sim::config::ApplyMode;

/// Seeds per test: enough for a rate, cheap in a debug build (the script is ~40 operations).
const SEEDS: u64 = 200;

fn sequential() -> Scenario {
    Scenario::by_name("sequential").expect("the sequential scenario exists")
}

/// How many of `seeds` fail under `mode`, with the seed's stalls or with no faults at all.
fn failures(mode: ApplyMode, seeds: &[u64], stalls: bool) -> Vec<u64> {
    seeds
        .iter()
        .copied()
        .filter(|seed| {
            let mut case = Case::new(&sequential(), mode, *seed);
            if !stalls {
                case = case.with_fault_kinds(FaultKinds::default()).expect("a swarm scenario");
            }
            run_case(&case, RunOptions::default()).is_fail()
        })
        .collect()
}

#[test]
fn the_sequential_script_is_caught_under_hash_by_key_in_a_fifth_of_seeds_with_stalls() {
    let seeds = test_seeds(SEEDS);
    let with_stalls = failures(ApplyMode::HashByKey, &seeds, true).len();
    let without = failures(ApplyMode::HashByKey, &seeds, false).len();
    let rate = with_stalls as f64 / seeds.len() as f64;
    println!("hash-by-key caught {with_stalls}/{} with stalls ({:.1} %), {without} without", seeds.len(), rate * 100.0);
    // Seeds 0-199: 64 with stalls (32 %), 10 without.
    assert!(rate >= 0.20, "caught on {with_stalls} of {} seeds: below the 20 % bar", seeds.len());
    assert!(with_stalls >= 3 * without, "stalls should be what catches it: {with_stalls} with, {without} without");
}

#[test]
fn the_fixed_modes_pass_every_seed_of_the_sequential_script() {
    let seeds = test_seeds(SEEDS);
    for mode in [ApplyMode::Barrier, ApplyMode::Serial] {
        for seed in &seeds {
            let verdict = run_case(&Case::new(&sequential(), mode, *seed), RunOptions::default());
            assert!(verdict.outcome == Outcome::Pass, "{verdict}");
        }
    }
}
