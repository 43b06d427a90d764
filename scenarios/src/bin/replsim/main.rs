//! The `replsim` binary: a thin command line over `replsim_scenarios`' public API. Every bad input ends in one line on stderr naming the problem and
//! exit code 2; a found bug is exit 1; a clean run exit 0.

mod bench;
mod check;
mod fuzz;
mod guided;
mod html;
mod live;
mod marks;
mod merge;
mod output;
mod replay;
mod shrink;

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::str::FromStr;

use clap::{Args, CommandFactory, Parser, Subcommand};
use replsim_sim::behaviour::{Behaviour, BehaviourError, Behaviours, Profile};
use replsim_sim::config::ApplyMode;

// One duration syntax for flags and scenario files alike.
use output::outln;
pub use replsim_scenarios::file::text::parse_duration;
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
    /// Merge the summaries (`fuzz --json`) and failures files (`fuzz --out`) of many shards into
    /// one summary; exit 1 if any run failed, 3 if none failed but some ended unknown.
    Merge(merge::MergeArgs),
    /// List the scenarios, apply modes, profiles and Pika's behaviours (or check and describe one
    /// scenario file).
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
    Behaviours(#[from] BehaviourError),
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
        Command::Merge(args) => merge::merge(args),
        Command::Live(args) => live::live(args),
        Command::List(args) => list(args),
    };
    // Output that could not be written is the command's failure, whatever it found.
    let result = match output::finish() {
        Some(error) => Err(error),
        None => result,
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
        ErrorKind::DisplayHelp | ErrorKind::DisplayVersion => {
            let _ = error.print();
            ExitCode::SUCCESS
        }
        ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand => {
            let names: Vec<String> =
                Cli::command().get_subcommands().map(|command| command.get_name().to_string()).collect();
            eprintln!("error: no subcommand: replsim {{{}}} …; replsim --help explains each", names.join(","));
            ExitCode::from(EXIT_USAGE)
        }
        _ => {
            eprintln!("{}", first_paragraph(&error.render().to_string()));
            ExitCode::from(EXIT_USAGE)
        }
    }
}

/// clap's message up to its first blank line, as one line: its first line alone would cut off
/// the arguments that were missing or the values that are allowed, which follow on their own
/// indented lines.
fn first_paragraph(rendered: &str) -> String {
    let words: Vec<&str> = rendered
        .lines()
        .skip_while(|line| line.trim().is_empty())
        .take_while(|line| !line.trim().is_empty())
        .map(str::trim)
        .collect();
    if words.is_empty() {
        "error: invalid arguments".to_string()
    } else {
        words.join(" ")
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
        outln!("{}: {}", scenario.name, scenario.summary);
        if let Some(script) = &scenario.script {
            for (index, phase) in script.phases.iter().enumerate() {
                let drawn = if phase.draw.is_some() { " + drawn clients" } else { "" };
                outln!("  phase {}: {} client(s){drawn}, then a catch-up point", index + 1, phase.clients.len());
            }
            for expectation in &script.expectations {
                outln!("  expect {}", expectation.name);
            }
        }
        let mode = scenario.default_mode.map_or("none (give --mode)".to_string(), |mode| mode.to_string());
        outln!("  default mode: {mode}");
        return Ok(ExitCode::SUCCESS);
    }
    outln!("scenarios:");
    for scenario in Scenario::all() {
        outln!("  {:<14} {}", scenario.name, scenario.summary);
    }
    outln!("modes:");
    for mode in ApplyMode::ALL {
        let note = match mode {
            ApplyMode::MergedFix => "Pika's fix as merged (PR #2808: polled counter, flushdb only)",
            _ if mode.is_fixed() => "fixed",
            _ => "faulty (Pika before PR #2808)",
        };
        outln!("  {:<14} {note}", mode.to_string());
    }
    outln!("profiles (--profile):");
    for profile in Profile::ALL {
        let note = match profile {
            Profile::Ideal => "replsim's idealised replication: no behaviour on (the default)",
            Profile::Pika => "Pika as merged: every behaviour on",
        };
        outln!("  {:<14} {note}", profile.name());
    }
    outln!("behaviours (--behaviours NAME,-NAME,...; -NAME turns one off: the fix for its race):");
    for behaviour in Behaviour::ALL {
        outln!("  {:<26} {}", behaviour.name(), behaviour.summary());
    }
    Ok(ExitCode::SUCCESS)
}

/// `--profile` and `--behaviours` of fuzz, replay and shrink.
#[derive(Debug, Args)]
pub struct BehaviourArgs {
    /// Start from this profile: `ideal` (default) or `pika` (every behaviour of Pika as merged).
    #[arg(long, value_name = "NAME")]
    profile: Option<String>,
    /// Behaviours to turn on (`NAME`) or off (`-NAME`, the fix for that behaviour's race), on top of
    /// the profile, comma-separated: e.g. `pika,-ack-on-receive` or `--profile pika --behaviours=-multi-exec`.
    #[arg(long, value_name = "LIST", allow_hyphen_values = true)]
    behaviours: Option<String>,
}

impl BehaviourArgs {
    pub fn resolve(&self) -> Result<Behaviours, UsageError> {
        self.resolve_onto(Behaviours::default())
    }

    /// The profile's behaviours (or `base` without `--profile`), changed by `--behaviours`.
    pub fn resolve_onto(&self, base: Behaviours) -> Result<Behaviours, UsageError> {
        let base = match &self.profile {
            Some(name) => name.parse::<Profile>()?.behaviours(),
            None => base,
        };
        Ok(Behaviours::parse_onto(base, self.behaviours.as_deref().unwrap_or(""))?)
    }

    /// The flags as given, to repeat in a repro line.
    pub fn flags(&self) -> String {
        let profile = self.profile.as_ref().map(|name| format!(" --profile {name}")).unwrap_or_default();
        let behaviours = self.behaviours.as_ref().map(|list| format!(" --behaviours={list}")).unwrap_or_default();
        format!("{profile}{behaviours}")
    }
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
            "fixed" => Ok(ModeSet(ApplyMode::ALL.into_iter().filter(|mode| mode.is_ideal_fix()).collect())),
            list => list
                .split(',')
                .map(|name| ApplyMode::from_str(name.trim()).map_err(|error| error.to_string()))
                .collect::<Result<Vec<_>, _>>()
                .map(ModeSet),
        }
    }
}
