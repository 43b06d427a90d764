//! `replsim bench`: seeds/s of the default scenario (release, one core) against the bare madsim
//! baseline. Run it on an otherwise idle machine.

use std::process::ExitCode;

use clap::Args;
use replsim_sim::behaviour::Profile;
use replsim_sim::config::ApplyMode;

use crate::output::outln;
use crate::{scenario_named, UsageError};
use replsim_scenarios::bench::{baseline_rate, scenario_rate, BASELINE_DATAGRAMS};

#[derive(Debug, Args)]
pub struct BenchArgs {
    #[arg(long, default_value = "flushdb-race")]
    scenario: String,
    /// Seeds per measurement.
    #[arg(long, default_value_t = 2000)]
    seeds: u64,
}

pub fn bench(args: BenchArgs) -> Result<ExitCode, UsageError> {
    let scenario = scenario_named(&args.scenario)?;
    if args.seeds == 0 {
        return Err(UsageError::Invalid("--seeds must be at least 1".to_string()));
    }
    if cfg!(debug_assertions) {
        outln!("note: a debug build; numbers are only meaningful with --release");
    }
    let baseline = baseline_rate(args.seeds);
    outln!(
        "{:<44} {:>9.0} seeds/s  ({} seeds in {:.2}s)",
        format!("bare madsim: 2 nodes, {BASELINE_DATAGRAMS} datagrams applied"),
        baseline.per_second(),
        baseline.seeds,
        baseline.elapsed.as_secs_f64()
    );
    // The ideal profile under its fix and the bug, then Pika as merged: its fix, every behaviour.
    let pika = Profile::Pika.behaviours();
    let rows = [
        (ApplyMode::Barrier, Profile::Ideal.behaviours()),
        (ApplyMode::HashByKey, Profile::Ideal.behaviours()),
        (ApplyMode::MergedFix, pika.clone()),
        (ApplyMode::MergedFix, pika.with_races_fixed()),
    ];
    for (mode, behaviours) in rows {
        let rate = scenario_rate(&scenario, mode, &behaviours, args.seeds);
        let profile_flag = if behaviours.is_ideal() { String::new() } else { format!(" --behaviours {behaviours}") };
        outln!(
            "{:<44} {:>9.0} seeds/s  ({} seeds in {:.2}s, {:.0}% of the baseline, {} not passed)",
            format!("{} --mode {mode}{profile_flag}", scenario.name),
            rate.per_second(),
            rate.seeds,
            rate.elapsed.as_secs_f64(),
            100.0 * rate.per_second() / baseline.per_second(),
            rate.failed
        );
    }
    Ok(ExitCode::SUCCESS)
}
