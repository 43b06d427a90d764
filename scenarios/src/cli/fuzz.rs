//! `replsim fuzz`: many seeds over scenarios and modes, a summary, exit 1 on any failure.

use std::process::ExitCode;
use std::time::Instant;

use clap::Args;

use super::{scenario_named, ModeSet, UsageError, EXIT_FAILURE_FOUND, EXIT_UNKNOWN};
use crate::runner::{self, Outcome};
use crate::scenario::Scenario;

#[derive(Debug, Args)]
pub struct FuzzArgs {
    /// A scenario name, or `all`.
    #[arg(long, default_value = "all")]
    scenario: String,
    /// A mode, `fixed` (barrier, serial), `all`, or a comma-separated list.
    #[arg(long, default_value = "fixed")]
    mode: ModeSet,
    /// Seeds per scenario and mode.
    #[arg(long, default_value_t = 1000)]
    seeds: u64,
    #[arg(long, default_value_t = 0)]
    start_seed: u64,
}

pub fn fuzz(args: FuzzArgs) -> Result<ExitCode, UsageError> {
    let scenarios = if args.scenario == "all" { Scenario::all() } else { vec![scenario_named(&args.scenario)?] };
    if args.seeds == 0 {
        return Err(UsageError::Invalid("--seeds must be at least 1".to_string()));
    }
    let end_seed = args
        .start_seed
        .checked_add(args.seeds)
        .ok_or_else(|| UsageError::Invalid("--start-seed + --seeds overflows u64".to_string()))?;
    let mut any_failed = false;
    let mut any_unknown = false;
    println!("{:<14} {:<12} {:>7} {:>7} {:>7} {:>9}", "scenario", "mode", "pass", "fail", "unknown", "seeds/s");
    for scenario in &scenarios {
        for mode in &args.mode.0 {
            let started = Instant::now();
            let (mut passed, mut failed, mut unknown) = (0u64, 0u64, 0u64);
            let mut first_failure = None;
            for seed in args.start_seed..end_seed {
                let verdict = runner::run(scenario, *mode, seed);
                match verdict.outcome {
                    Outcome::Pass => passed += 1,
                    Outcome::Fail(_) => {
                        failed += 1;
                        first_failure.get_or_insert(verdict);
                    }
                    Outcome::Unknown(_) => unknown += 1,
                }
            }
            let rate = args.seeds as f64 / started.elapsed().as_secs_f64();
            println!("{:<14} {:<12} {passed:>7} {failed:>7} {unknown:>7} {rate:>9.0}", scenario.name, mode.to_string());
            if let Some(verdict) = first_failure {
                println!("first failure:\n{verdict}");
            }
            any_failed |= failed > 0;
            any_unknown |= unknown > 0;
        }
    }
    Ok(if any_failed {
        ExitCode::from(EXIT_FAILURE_FOUND)
    } else if any_unknown {
        ExitCode::from(EXIT_UNKNOWN)
    } else {
        ExitCode::SUCCESS
    })
}
