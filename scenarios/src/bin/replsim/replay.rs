//! `replsim replay`: re-runs exactly one case, prints its ordered event trace (node, simulated
//! time, event) through tracing-subscriber, then the verdict with the diff of any violation.
//!
//! ```text
//! $ replsim replay --scenario flushdb-race --mode hash-by-key --seed 7 --log replsim=debug
//!  INFO 0.000000s client-1   client-1 invoke SET f v1
//!  DEBUG 0.002113s primary   binlog-append 1 SET f v1
//! …
//! FAIL [convergence] scenario=flushdb-race mode=hash-by-key seed=7 trace=…
//! ```
//!
//! This is the command every failure prints (`Case::repro_command`). A shrunk case is replayed
//! from its regression line: `replsim replay --regression tests/regressions/flushdb-race.txt:4`.
//! The trace filter is `--log`, else `RUST_LOG`, else `replsim=info` (client operations, syncs,
//! phases, faults); `--log off` prints the verdict alone.

use std::fs::File;
use std::io::{BufWriter, IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;
use replsim_sim::bug::Bug;

use replsim_scenarios::swarm::FaultKinds;
use replsim_sim::config::ApplyMode;
use tracing_subscriber::EnvFilter;

use crate::output;
use crate::{cluster_settings, scenario_of, UsageError, EXIT_FAILURE_FOUND, EXIT_UNKNOWN};
use replsim_scenarios::regression;
use replsim_scenarios::runner::{regression_repro_command, run_case, Case, Outcome, RunOptions, Verdict};

const DEFAULT_FILTER: &str = "replsim=info";

#[derive(Debug, Args)]
pub struct ReplayArgs {
    /// The scenario [default: flushdb-race].
    #[arg(long, conflicts_with_all = ["regression", "scenario_file"])]
    scenario: Option<String>,
    /// Run the scenario this file describes (see README, "Write your own scenario").
    #[arg(long, value_name = "FILE", conflicts_with = "regression")]
    scenario_file: Option<PathBuf>,
    /// The apply mode (with --regression: replay the entry under this mode instead of its own;
    /// with --scenario-file: default the file's `mode`).
    #[arg(long)]
    mode: Option<ApplyMode>,
    /// Cluster settings on top of the scenario's, as a scenario file's [cluster] keys:
    /// `apply_delay=1ms..9ms,replicas=2`.
    #[arg(long, value_name = "KEY=VALUE,…", conflicts_with = "regression")]
    cluster: Option<String>,
    #[arg(long, required_unless_present = "regression", conflicts_with = "regression")]
    seed: Option<u64>,
    /// Plant this bug (a wrong name lists the known ones).
    #[arg(long, conflicts_with = "regression")]
    bug: Option<Bug>,
    /// Fault kinds on (swarm scenarios), instead of the seed's draw: `all`, `none`, or a list of
    /// partition, kill-replica, restart-primary, reset-link.
    #[arg(long, conflicts_with = "regression", value_parser = str::parse::<FaultKinds>)]
    faults: Option<FaultKinds>,
    #[command(flatten)]
    behaviours: crate::BehaviourArgs,
    /// Guided fuzzing's mutations of the seed's swarm configuration, as `fuzz --guided` prints
    /// them: a comma-separated chain of mutation seeds.
    #[arg(long, conflicts_with = "regression", value_delimiter = ',')]
    mutations: Vec<u64>,
    /// Replay a regression entry (a shrunk case) instead: FILE:LINE.
    #[arg(long, value_name = "FILE:LINE")]
    regression: Option<String>,
    /// Which events to print, as a tracing filter: `replsim=debug` adds binlog appends, dispatch
    /// and applies; `replsim=trace` adds batches and acks; `off` prints none [default: RUST_LOG,
    /// else replsim=info].
    #[arg(long, value_name = "FILTER")]
    log: Option<String>,
    /// Write the whole ordered trace here, one JSON object per event.
    #[arg(long, value_name = "FILE.jsonl")]
    trace_out: Option<PathBuf>,
    /// Write the clients' operations on the primary here as JSON lines — the history the
    /// linearizability check judged; `replsim check FILE --model kv` checks it again.
    #[arg(long, value_name = "FILE.jsonl")]
    history_out: Option<PathBuf>,
    /// Write the run as one self-contained HTML page: its timeline, the entries that ran out of
    /// order highlighted, the diff beside it.
    #[arg(long, value_name = "FILE.html")]
    html: Option<PathBuf>,
    /// Run the case twice and compare trace hashes; exit 1 if they differ.
    #[arg(long)]
    check_determinism: bool,
}

pub fn replay(args: ReplayArgs) -> Result<ExitCode, UsageError> {
    output::distinct_outputs(&[
        ("--trace-out", args.trace_out.as_ref()),
        ("--history-out", args.history_out.as_ref()),
        ("--html", args.html.as_ref()),
    ])?;
    let (case, repro) = case_of(&args)?;
    let filter = trace_filter(args.log.as_deref())?;
    let mut trace_file =
        match &args.trace_out {
            Some(path) => Some(BufWriter::new(File::create(path).map_err(|error| {
                UsageError::Invalid(format!("cannot write trace file {}: {error}", path.display()))
            })?)),
            None => None,
        };
    // The probe's message already names the simulated time and the node: print it alone.
    let message_only = tracing_subscriber::fmt::format::debug_fn(|writer, field, value| {
        if field.name() == "message" {
            write!(writer, "{value:?}")
        } else {
            Ok(())
        }
    });
    let subscriber = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .without_time()
        .with_target(false)
        .with_ansi(std::io::stdout().is_terminal())
        .fmt_fields(message_only)
        .with_writer(|| output::Stdout)
        .finish();
    // Scoped to this thread (madsim runs the whole simulation on it): a determinism re-run is silent.
    let options = RunOptions {
        keep_trace: trace_file.is_some() || args.html.is_some(),
        keep_history: args.history_out.is_some(),
        ..RunOptions::default()
    };
    let verdict = tracing::subscriber::with_default(subscriber, || run_case(&case, options));
    if let (Some(file), Some(trace)) = (trace_file.as_mut(), &verdict.trace) {
        let written = trace.iter().try_for_each(|line| {
            serde_json::to_writer(&mut *file, line).map_err(std::io::Error::from)?;
            file.write_all(b"\n")
        });
        if let Err(error) = written.and_then(|()| file.flush()) {
            return Err(UsageError::Invalid(format!("cannot write trace file: {error}")));
        }
    }
    if let (Some(path), Some(history)) = (&args.history_out, &verdict.primary_history) {
        let written = File::create(path).and_then(|file| {
            let mut file = BufWriter::new(file);
            replsim_model::history::jsonl::write(&mut file, history)?;
            file.flush()
        });
        if let Err(error) = written {
            return Err(UsageError::Invalid(format!("cannot write history file {}: {error}", path.display())));
        }
    }
    if let Some(path) = &args.html {
        crate::html::write(&verdict, path)?;
    }
    print_verdict(&verdict, &repro);
    let mut deterministic = true;
    if args.check_determinism {
        let again = run_case(&case, RunOptions::default());
        deterministic = again.trace_hash == verdict.trace_hash && again.outcome == verdict.outcome;
        let line = format!(
            "determinism: {} (trace {:016x} then {:016x})\n",
            if deterministic { "same trace twice" } else { "NOT DETERMINISTIC: the two runs differ" },
            verdict.trace_hash,
            again.trace_hash
        );
        let _ = output::Stdout.write_all(line.as_bytes());
    }
    Ok(match (&verdict.outcome, deterministic) {
        (Outcome::Fail(_), _) | (_, false) => ExitCode::from(EXIT_FAILURE_FOUND),
        (Outcome::Unknown(_), true) => ExitCode::from(EXIT_UNKNOWN),
        (Outcome::Pass, true) => ExitCode::SUCCESS,
    })
}

/// The case to run and the command that reproduces it.
fn case_of(args: &ReplayArgs) -> Result<(Case, String), UsageError> {
    if let Some(location) = &args.regression {
        let located = regression::load_located(location).map_err(|error| UsageError::Invalid(error.to_string()))?;
        let entry = &located.entry;
        let mode = args.mode.unwrap_or(entry.mode);
        // The entry's bug belongs to the mode it was found with; another mode replays bug-free.
        let case = entry.case(mode, mode == entry.mode).map_err(UsageError::Invalid)?;
        // --profile/--behaviours change the entry's behaviours: `--behaviours=-NAME` replays its fix.
        let case = case.with_behaviours(args.behaviours.resolve_onto(entry.behaviours.clone())?);
        let repro = regression_repro_command(&located.location(), args.mode) + &args.behaviours.flags();
        return Ok((case, repro));
    }
    let scenario = scenario_of(args.scenario.as_deref(), args.scenario_file.as_deref())?;
    let Some(mode) = args.mode.or(scenario.default_mode) else {
        return Err(UsageError::Invalid("replay needs --mode (the scenario names no default mode)".to_string()));
    };
    // clap requires it without --regression.
    let Some(seed) = args.seed else {
        return Err(UsageError::Invalid("replay needs --seed (or --regression FILE:LINE)".to_string()));
    };
    let mut case = Case::new(&scenario, mode, seed);
    // --profile/--behaviours apply on top of what a scenario file switched on.
    case = case.clone().with_behaviours(args.behaviours.resolve_onto(case.cluster.behaviours.clone())?);
    if args.bug.is_some() {
        case.cluster.bug = args.bug;
    }
    if !args.mutations.is_empty() {
        case = case.with_mutations(&scenario, &args.mutations).map_err(UsageError::Invalid)?;
    }
    if let Some(kinds) = args.faults {
        case = case.with_fault_kinds(kinds).map_err(UsageError::Invalid)?;
    }
    if let Some(settings) = cluster_settings(args.cluster.as_deref())? {
        case = case.with_cluster_settings(&settings).map_err(UsageError::Invalid)?;
    }
    let repro = case.repro_command();
    Ok((case, repro))
}

fn trace_filter(log: Option<&str>) -> Result<EnvFilter, UsageError> {
    let directives = match log {
        Some(directives) => directives.to_string(),
        None => std::env::var("RUST_LOG").unwrap_or_else(|_| DEFAULT_FILTER.to_string()),
    };
    EnvFilter::try_new(&directives)
        .map_err(|error| UsageError::Invalid(format!("invalid log filter '{directives}': {error}")))
}

fn print_verdict(verdict: &Verdict, repro: &str) {
    let mut text = format!("{}\n", verdict.headline());
    for violation in verdict.violations() {
        text.push_str(&format!("{violation}\n"));
    }
    let stats = &verdict.stats;
    text.push_str(&format!(
        "{} client ops, {} binlog entries, {} idle points checked, {} checkpoints, {} trace events\n",
        stats.client_ops, stats.binlog_entries, stats.idle_points, stats.checkpoints, stats.trace_events
    ));
    if !verdict.is_pass() {
        text.push_str(&format!("reproduce: {repro}\n"));
    }
    let _ = output::Stdout.write_all(text.as_bytes());
}
