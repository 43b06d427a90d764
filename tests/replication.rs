//! The foundation's promise, seed by seed: the faulty hash-by-key apply mode is caught, with a diff
//! that names the FLUSHDB and the write that survived it; the fixed modes never fail.
//!
//! Every failure message carries the seed and the command that reproduces it.

use replsim_model::command::Command;
use replsim_scenarios::runner::{self, Outcome, Verdict, Violation};
use replsim_scenarios::scenario::Scenario;
use replsim_scenarios::seeds::test_seeds;
use replsim_sim::config::ApplyMode;

fn scenario(name: &str) -> Scenario {
    Scenario::by_name(name).unwrap_or_else(|| panic!("scenario {name} exists"))
}

/// Whether a violation is a real divergence whose diff cites a FLUSHDB (directly, or through the
/// first offending entry).
fn divergence_cites_flushdb(violation: &Violation) -> bool {
    use replsim_model::check::convergence::ConvergenceFailure;
    use replsim_model::check::prefix::PrefixViolation;
    let diff = match violation {
        Violation::PrefixConsistency(PrefixViolation::Diverged { diff, .. }) => diff,
        Violation::Convergence { failure: ConvergenceFailure::Diverged(diff), .. } => diff,
        _ => return false,
    };
    !diff.keys.is_empty()
        && diff.cited.iter().chain(&diff.first_offending).any(|entry| matches!(entry.command, Command::FlushDb { .. }))
}

#[test]
fn hash_by_key_is_caught_on_most_seeds_with_a_diff_naming_the_flushdb() {
    let flushdb_race = scenario("flushdb-race");
    let seeds = test_seeds(200);
    let verdicts: Vec<Verdict> =
        seeds.iter().map(|seed| runner::run(&flushdb_race, ApplyMode::HashByKey, *seed)).collect();
    let caught: Vec<&Verdict> = verdicts.iter().filter(|verdict| verdict.is_fail()).collect();
    let rate = caught.len() as f64 / verdicts.len() as f64;
    println!("hash-by-key on flushdb-race: caught {} of {} seeds ({:.1}%)", caught.len(), verdicts.len(), rate * 100.0);
    if let Some(first) = caught.first() {
        println!("first catch:\n{first}");
    }
    for verdict in &verdicts {
        assert!(
            !matches!(verdict.outcome, Outcome::Unknown(_)),
            "no faults, so every run must get a verdict:\n{verdict}"
        );
    }
    for verdict in &caught {
        assert!(
            verdict.violations().iter().any(divergence_cites_flushdb),
            "a hash-by-key failure must be a divergence whose diff names a FLUSHDB:\n{verdict}"
        );
    }
    if seeds.len() >= 50 {
        assert!(rate >= 0.75, "catch rate {:.1}% is too low to be useful", rate * 100.0);
        let first_catch = verdicts.iter().position(Verdict::is_fail);
        assert!(
            matches!(first_catch, Some(index) if index < 3),
            "first catch at seed index {first_catch:?}, want within 3 seeds"
        );
    }
}

/// Runs `seeds` of every scenario under `mode` and asserts every one passes.
fn assert_mode_passes(mode: ApplyMode, seeds_per_scenario: &[(&str, u64)]) {
    for (name, count) in seeds_per_scenario {
        let scenario = scenario(name);
        let seeds = test_seeds(*count);
        let not_passed: Vec<Verdict> =
            seeds.iter().map(|seed| runner::run(&scenario, mode, *seed)).filter(|verdict| !verdict.is_pass()).collect();
        println!("{mode} on {name}: {} of {} seeds did not pass", not_passed.len(), seeds.len());
        if let Some(verdict) = not_passed.first() {
            panic!("{mode} must pass every seed; {} did not. First:\n{verdict}", not_passed.len());
        }
    }
}

#[test]
fn barrier_passes_every_seed() {
    assert_mode_passes(ApplyMode::Barrier, &[("flushdb-race", 200), ("pika-steps", 100), ("multi-db", 100)]);
}

#[test]
fn serial_passes_every_seed() {
    assert_mode_passes(ApplyMode::Serial, &[("flushdb-race", 200), ("pika-steps", 100), ("multi-db", 100)]);
}

#[test]
fn hash_by_key_is_caught_in_every_scenario() {
    for scenario in Scenario::all() {
        let seeds = test_seeds(30);
        let caught = seeds.iter().filter(|seed| runner::run(&scenario, ApplyMode::HashByKey, **seed).is_fail()).count();
        println!("hash-by-key on {}: caught {caught} of {} seeds", scenario.name, seeds.len());
        if seeds.len() >= 30 {
            assert!(caught > 0, "hash-by-key was never caught in scenario {}", scenario.name);
        }
    }
}
