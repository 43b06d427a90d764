//! The `replsim` binary: a thin command line over `replsim_scenarios`' public API. Every bad input ends in one line on stderr naming the problem and
//! exit code 2; a found bug is exit 1; a clean run exit 0.

mod bench;
mod check;
mod duration;
mod fuzz;
mod guided;
mod live;
mod marks;
mod replay;
mod shrink;

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::str::FromStr;

use clap::{Parser, Subcommand};
use replsim_sim::config::ApplyMode;

pub use duration::parse_duration;
use replsim_scenarios::file::ClusterSpec;
use replsim_scenarios::scenario::Scenario;

// Each seed builds and tears down a whole simulated cluster: allocation-heavy work where
// mimalloc measured faster than glibc's malloc (see README, "Numbers").
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Debug, Parser)]
#[command(
    name = "replsim",
    version,
    about = "Deterministic simulation testing of Pika-style primary/replica replication"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run many seeds and summarise; exit 1 if any seed fails, 3 if any ended unknown or Ctrl-C
    /// stopped it first.
    Fuzz(fuzz::FuzzArgs),
    /// Re-run one seed: its event trace, its verdict with the diff of any violation.
    #[command(alias = "run")]
    Replay(replay::ReplayArgs),
    /// Minimise a failing seed's workload and append it to a regression file.
    Shrink(shrink::ShrinkArgs),
    /// List the scenarios and apply modes (or check and describe one scenario file).
    List(ListArgs),
    /// Check a recorded history for linearizability; exit 0 yes, 1 no, 3 unknown.
    Check(check::CheckArgs),
    /// Run a scenario's client scripts and checks against a real primary/replica pair (not
    /// deterministic); exit 1 if a seed fails, 3 if one ends unknown.
    Live(live::LiveArgs),
    /// Measure seeds/s of a scenario against a bare madsim baseline (use --release).
    Bench(bench::BenchArgs),
}

/// A problem with how replsim was invoked (exit 2).
#[derive(Debug, thiserror::Error)]
pub enum UsageError {
    #[error("unknown scenario '{0}' (known: {known})", known = Scenario::names().join(", "))]
    UnknownScenario(String),
    #[error(transparent)]
    UnknownMode(#[from] replsim_sim::config::UnknownApplyMode),
    #[error(transparent)]
    Scenario(#[from] replsim_scenarios::file::ScenarioError),
    #[error("{0}")]
    Invalid(String),
}

pub const EXIT_FAILURE_FOUND: u8 = 1;
pub const EXIT_USAGE: u8 = 2;
pub const EXIT_UNKNOWN: u8 = 3;

fn main() -> ExitCode {
    // `replsim fuzz | head` must end quietly, as Unix tools do, not panic in `println!`: Rust
    // ignores SIGPIPE by default, so restore the default action (terminate) for this process.
    // SAFETY: called first thing in main, before any other thread exists.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(error) => return clap_exit(error),
    };
    let result = match cli.command {
        Command::Fuzz(args) => fuzz::fuzz(args),
        Command::Replay(args) => replay::replay(args),
        Command::Shrink(args) => shrink::shrink(args),
        Command::Bench(args) => bench::bench(args),
        Command::Check(args) => check::check(args),
        Command::Live(args) => live::live(args),
        Command::List(args) => list(args),
    };
    result.unwrap_or_else(|error| {
        eprintln!("error: {error}");
        ExitCode::from(EXIT_USAGE)
    })
}

/// Help and version go to stdout as clap renders them; errors become one line.
fn clap_exit(error: clap::Error) -> ExitCode {
    use clap::error::ErrorKind;
    match error.kind() {
        ErrorKind::DisplayHelp | ErrorKind::DisplayVersion | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand => {
            let _ = error.print();
            ExitCode::SUCCESS
        }
        _ => {
            let rendered = error.render().to_string();
            let line = rendered.lines().find(|line| !line.trim().is_empty()).unwrap_or("invalid arguments");
            eprintln!("{}", line.trim_end());
            ExitCode::from(EXIT_USAGE)
        }
    }
}

#[derive(Debug, clap::Args)]
struct ListArgs {
    /// Read and check this scenario file, and describe it instead.
    #[arg(long, value_name = "FILE")]
    scenario_file: Option<PathBuf>,
}

fn list(args: ListArgs) -> Result<ExitCode, UsageError> {
    if let Some(path) = &args.scenario_file {
        let scenario = replsim_scenarios::file::load(path)?;
        println!("{}: {}", scenario.name, scenario.summary);
        if let Some(script) = &scenario.script {
            for (index, phase) in script.phases.iter().enumerate() {
                let drawn = if phase.draw.is_some() { " + drawn clients" } else { "" };
                println!("  phase {}: {} client(s){drawn}, then a catch-up point", index + 1, phase.clients.len());
            }
            for expectation in &script.expectations {
                println!("  expect {}", expectation.name);
            }
        }
        let mode = scenario.default_mode.map_or("none (give --mode)".to_string(), |mode| mode.to_string());
        println!("  default mode: {mode}");
        return Ok(ExitCode::SUCCESS);
    }
    println!("scenarios:");
    for scenario in Scenario::all() {
        println!("  {:<14} {}", scenario.name, scenario.summary);
    }
    println!("modes:");
    for mode in ApplyMode::ALL {
        let note = if mode.is_fixed() { "fixed" } else { "faulty (Pika before PR #2808)" };
        println!("  {:<14} {note}", mode.to_string());
    }
    Ok(ExitCode::SUCCESS)
}

pub fn scenario_named(name: &str) -> Result<Scenario, UsageError> {
    Scenario::by_name(name).ok_or_else(|| UsageError::UnknownScenario(name.to_string()))
}

/// The scenario a command runs: a file (`--scenario-file`), else a built-in by name.
pub fn scenario_of(name: Option<&str>, file: Option<&Path>) -> Result<Scenario, UsageError> {
    match file {
        Some(path) => Ok(replsim_scenarios::file::load(path)?),
        None => scenario_named(name.unwrap_or("flushdb-race")),
    }
}

/// `--cluster KEY=VALUE,…`: settings on top of the scenario's cluster.
pub fn cluster_settings(text: Option<&str>) -> Result<Option<ClusterSpec>, UsageError> {
    text.map(|text| ClusterSpec::from_flag(text).map_err(UsageError::Invalid)).transpose()
}

/// `--mode` of fuzz: one mode, `fixed` (barrier and serial), `all`, or a comma-separated list.
#[derive(Clone, Debug)]
pub struct ModeSet(pub Vec<ApplyMode>);

impl FromStr for ModeSet {
    type Err = String;

    fn from_str(text: &str) -> Result<ModeSet, String> {
        match text {
            "all" => Ok(ModeSet(ApplyMode::ALL.to_vec())),
            "fixed" => Ok(ModeSet(ApplyMode::ALL.into_iter().filter(|mode| mode.is_fixed()).collect())),
            list => list
                .split(',')
                .map(|name| ApplyMode::from_str(name.trim()).map_err(|error| error.to_string()))
                .collect::<Result<Vec<_>, _>>()
                .map(ModeSet),
        }
    }
}
