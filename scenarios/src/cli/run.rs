//! `replsim run`: one seed, its verdict, and on failure the diff and the repro line.

use std::process::ExitCode;

use clap::Args;
use replsim_sim::config::ApplyMode;

use super::{scenario_named, UsageError, EXIT_FAILURE_FOUND, EXIT_UNKNOWN};
use crate::runner::{self, Outcome};

#[derive(Debug, Args)]
pub struct RunArgs {
    #[arg(long, default_value = "flushdb-race")]
    scenario: String,
    #[arg(long)]
    mode: ApplyMode,
    #[arg(long)]
    seed: u64,
}

pub fn run(args: RunArgs) -> Result<ExitCode, UsageError> {
    let scenario = scenario_named(&args.scenario)?;
    if std::env::var_os("RUST_LOG").is_some() {
        tracing_subscriber::fmt().with_env_filter(tracing_subscriber::EnvFilter::from_default_env()).without_time().with_target(false).init();
    }
    let verdict = runner::run(&scenario, args.mode, args.seed);
    println!("{verdict}");
    println!(
        "{} client ops, {} binlog entries, {} idle points checked, {} checkpoints, {} trace events",
        verdict.stats.client_ops,
        verdict.stats.binlog_entries,
        verdict.stats.idle_points,
        verdict.stats.checkpoints,
        verdict.stats.trace_events
    );
    Ok(match verdict.outcome {
        Outcome::Pass => ExitCode::SUCCESS,
        Outcome::Fail(_) => ExitCode::from(EXIT_FAILURE_FOUND),
        Outcome::Unknown(_) => ExitCode::from(EXIT_UNKNOWN),
    })
}
