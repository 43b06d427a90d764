//! Same scenario + seed ⇒ the same ordered event trace. Each seed runs twice and the trace hashes
//! must match; a mismatch prints the seed and the command that shows it.

use replsim_scenarios::runner;
use replsim_scenarios::scenario::Scenario;
use replsim_scenarios::seeds::test_seeds;
use replsim_sim::config::ApplyMode;

#[test]
fn every_seed_gives_the_same_trace_twice() {
    for scenario in Scenario::all() {
        for mode in [ApplyMode::HashByKey, ApplyMode::Barrier] {
            let seeds = test_seeds(if scenario.name == "flushdb-race" { 50 } else { 10 });
            let mut distinct = std::collections::BTreeSet::new();
            for seed in seeds.iter().copied() {
                let first = runner::run(&scenario, mode, seed);
                let second = runner::run(&scenario, mode, seed);
                assert_eq!(
                    first.trace_hash,
                    second.trace_hash,
                    "non-deterministic: scenario={} mode={mode} seed={seed} gave two traces; see them with: \
                     {} --check-determinism",
                    scenario.name,
                    first.case.repro_command()
                );
                assert_eq!(first.stats, second.stats, "seed {seed}: same hash but different run statistics");
                distinct.insert(first.trace_hash);
            }
            // A hash that ignored the run would pass the check above trivially.
            assert_eq!(
                distinct.len(),
                seeds.len(),
                "{} {mode}: different seeds must give different traces",
                scenario.name
            );
        }
    }
}
