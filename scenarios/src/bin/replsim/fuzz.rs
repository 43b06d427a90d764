//! `replsim fuzz`: many seeds over scenarios and modes on every core, progress while it runs, a
//! summary table at the end, and exit 1 on any failure.
//!
//! ```text
//! $ replsim fuzz --scenario flushdb-race --mode hash-by-key --seeds 200 --keep-going --out failures.jsonl
//! FAIL [convergence] scenario=flushdb-race mode=hash-by-key seed=7 trace=…
//! reproduce: cargo run --release -- replay --scenario flushdb-race --mode hash-by-key --seed 7
//! …
//! scenario       mode          seeds    pass    fail unknown  first failing seed
//! flushdb-race   hash-by-key     200     151      49       0  7
//! ```
//!
//! Runs that end *unknown* (a bound hit before a verdict: a phase deadline, the linearizability
//! budget, a harness error) are neither passes nor failures: they are printed, written to `--out`
//! with `"outcome": "unknown"` and their reason, listed in `--json`, and make the exit code 3
//! when nothing failed.
//!
//! Without `--keep-going` the run stops at its first failure (the lowest failing run in seed
//! order, whatever `--jobs`). Ctrl-C stops taking new seeds and prints the summary so far (exit 3
//! unless a failure was already found); a second Ctrl-C exits at once.

use std::cell::RefCell;
use std::fs::File;
use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};
use replsim_sim::bug::Bug;

use replsim_scenarios::swarm::FaultKinds;
use serde_json::{json, Value};

use crate::marks::MarkTally;
use crate::output::{self, outln};
use crate::{cluster_settings, parse_duration, scenario_named, ModeSet, UsageError, EXIT_FAILURE_FOUND, EXIT_UNKNOWN};
use replsim_scenarios::fuzz::{
    self, Ending, Finished, Limit, Plan, Shard, JOBS_MAX, SHARD_COUNT_VARIABLE, SHARD_INDEX_VARIABLE,
};
use replsim_scenarios::harness_bug::HarnessBug;
use replsim_scenarios::runner::{Outcome, Verdict};
use replsim_scenarios::scenario::Scenario;

#[derive(Debug, Args)]
pub struct FuzzArgs {
    /// A scenario name, or `all`.
    #[arg(long, default_value = "all", conflicts_with = "scenario_file")]
    scenario: String,
    /// Fuzz the scenario this file describes instead (see README, "Write your own scenario").
    #[arg(long, value_name = "FILE")]
    scenario_file: Option<PathBuf>,
    /// Cluster settings on top of every scenario's, as a scenario file's [cluster] keys:
    /// `apply_delay=1ms..9ms,replicas=2`.
    #[arg(long, value_name = "KEY=VALUE,…")]
    cluster: Option<String>,
    /// A mode, `fixed` (barrier, serial), `all`, or a comma-separated list.
    #[arg(long, default_value = "fixed")]
    mode: ModeSet,
    /// Plant this bug in every run (a wrong name lists the known ones).
    #[arg(long)]
    bug: Option<Bug>,
    /// Fault kinds on in every seed of a swarm scenario, instead of each seed's draw:
    /// `all`, `none`, or a list of partition, kill-replica, restart-primary, reset-link.
    #[arg(long, value_parser = str::parse::<FaultKinds>)]
    faults: Option<FaultKinds>,
    #[command(flatten)]
    behaviours: crate::BehaviourArgs,
    /// Seeds of the whole run (every shard together): `start-seed .. start-seed + N` [default: 1000].
    #[arg(long, conflicts_with = "duration")]
    seeds: Option<u64>,
    /// Instead of a seed count, take seeds until this much time has passed (`90s`, `10m`, `1h`).
    #[arg(long, value_parser = parse_duration)]
    duration: Option<Duration>,
    #[arg(long, default_value_t = 0)]
    start_seed: u64,
    /// Worker threads, each running whole seeds [default: every core]; at most the runs planned
    /// and at most 256.
    #[arg(long)]
    jobs: Option<usize>,
    /// Run only shard I of N: the seeds s with s mod N = I - 1, so N machines share one run.
    /// Without the flag, the environment: REPLSIM_SHARD_INDEX=K (0-based, as Kubernetes'
    /// JOB_COMPLETION_INDEX) with REPLSIM_SHARD_COUNT=N means --shard K+1/N.
    #[arg(long, value_parser = str::parse::<Shard>)]
    shard: Option<Shard>,
    /// Write one JSON line per failing or unknown run to this file (created or truncated at the
    /// start); `"outcome"` tells them apart.
    #[arg(long)]
    out: Option<PathBuf>,
    /// Write an HTML report of each failing run into this directory (created if missing), named
    /// by scenario, mode and seed: `flushdb-race-hash-by-key-seed-7.html`.
    #[arg(long, value_name = "DIR")]
    out_dir: Option<PathBuf>,
    /// Run every seed and report every failure, instead of stopping at the first.
    #[arg(long)]
    keep_going: bool,
    /// Print the summary as one JSON object on stdout (failures and progress go to stderr).
    #[arg(long)]
    json: bool,
    /// Plant a bug in replsim itself (`panic-while-judging:SEED`): a test that a harness bug
    /// becomes an unknown run and the campaign goes on.
    #[arg(long, hide = true, value_parser = str::parse::<HarnessBug>)]
    harness_bug: Option<HarnessBug>,
    /// Guided fuzzing: keep swarm configurations that reach rare coverage marks and mutate them
    /// (one swarm scenario, one mode; each failure prints `--seed S --mutations M1,…`).
    #[arg(long, conflicts_with_all = ["shard", "out"])]
    guided: bool,
}

/// Raised by Ctrl-C; the workers stop taking runs when they see it.
static INTERRUPTED: AtomicBool = AtomicBool::new(false);

const DEFAULT_SEEDS: u64 = 1000;

pub fn fuzz(args: FuzzArgs) -> Result<ExitCode, UsageError> {
    let plan = plan_of(&args)?;
    if args.guided {
        install_interrupt_handler();
        return crate::guided::fuzz_guided(&plan, args.json, &INTERRUPTED);
    }
    let mut failures_file =
        match &args.out {
            Some(path) => Some(File::create(path).map_err(|error| {
                UsageError::Invalid(format!("cannot write failures file {}: {error}", path.display()))
            })?),
            None => None,
        };
    if let Some(directory) = &args.out_dir {
        crate::html::prepare_directory(directory)?;
    }
    install_interrupt_handler();
    let tally = RefCell::new(Tally::new(&plan));
    let marks = RefCell::new(MarkTally::default());
    let progress = Progress::start(&plan);
    let started = Instant::now();
    // The first error appending to the failures file: it ends the campaign, whose failures
    // could no longer be recorded.
    let mut failures_file_error = None;
    let ending = fuzz::run(
        &plan,
        &INTERRUPTED,
        |finished| {
            marks.borrow_mut().record(&finished.verdict);
            let mut tally = tally.borrow_mut();
            let report_case = args
                .out_dir
                .as_ref()
                .filter(|_| finished.verdict.is_fail())
                .map(|directory| (directory.clone(), finished.verdict.case.clone()));
            if let Some(line) = tally.record(&plan, finished) {
                progress.print(&line.text, args.json);
                if let (Some(file), Some(json), None) = (failures_file.as_mut(), &line.json, &failures_file_error) {
                    if let Err(error) = writeln!(file, "{json}").and_then(|()| file.flush()) {
                        failures_file_error = Some(error);
                        INTERRUPTED.store(true, Ordering::Relaxed);
                    }
                }
            }
            // Nobody can read the rest: stop (main reports the error).
            if output::failed() {
                INTERRUPTED.store(true, Ordering::Relaxed);
            }
            if let Some((directory, case)) = report_case {
                match crate::html::write_into(&case, &directory) {
                    Ok(path) => progress.print(&format!("report: {}", path.display()), args.json),
                    Err(error) => progress.print(&format!("warning: {error}"), true),
                }
            }
        },
        progress.interval(),
        |delivered| progress.update(delivered, tally.borrow().failed, started),
    );
    progress.finish();
    if let (Some(error), Some(path)) = (failures_file_error, &args.out) {
        return Err(UsageError::Invalid(format!("cannot write failures file {}: {error}", path.display())));
    }
    let tally = tally.into_inner();
    let elapsed = started.elapsed();
    let marks = marks.into_inner();
    if args.json {
        let mut summary = tally.json(&plan, ending, elapsed);
        summary["marks"] = marks.json();
        outln!("{summary}");
    } else {
        tally.print_table(&plan, ending, elapsed);
        marks.print();
    }
    Ok(if tally.failed > 0 {
        ExitCode::from(EXIT_FAILURE_FOUND)
    } else if tally.unknown > 0 || ending == Ending::Interrupted {
        ExitCode::from(EXIT_UNKNOWN)
    } else {
        ExitCode::SUCCESS
    })
}

fn plan_of(args: &FuzzArgs) -> Result<Plan, UsageError> {
    let scenarios = match (&args.scenario_file, args.scenario.as_str()) {
        (Some(path), _) => vec![replsim_scenarios::file::load(path)?],
        (None, "all") => Scenario::all(),
        (None, name) => vec![scenario_named(name)?],
    };
    let cluster = cluster_settings(args.cluster.as_deref())?;
    if let Some(settings) = &cluster {
        for scenario in &scenarios {
            let mut config = scenario.cluster.clone();
            settings.apply(&mut config);
            config
                .validate()
                .map_err(|problem| UsageError::Invalid(format!("--cluster on {}: {problem}", scenario.name)))?;
        }
    }
    if args.faults.is_some() {
        if let Some(scenario) = scenarios.iter().find(|scenario| scenario.swarm.is_none()) {
            return Err(UsageError::Invalid(format!(
                "--faults applies to the swarm scenarios (swarm, swarm-every-fault, sequential); {} has no faults{}",
                scenario.name,
                if args.scenario == "all" { ": add --scenario swarm" } else { "" }
            )));
        }
    }
    let limit = match (args.seeds, args.duration) {
        (_, Some(duration)) if duration.is_zero() => {
            return Err(UsageError::Invalid("--duration must be positive".into()))
        }
        (_, Some(duration)) => Limit::Duration(duration),
        (Some(0), None) => return Err(UsageError::Invalid("--seeds must be at least 1".to_string())),
        (seeds, None) => Limit::Seeds(seeds.unwrap_or(DEFAULT_SEEDS)),
    };
    if let Limit::Seeds(seeds) = limit {
        // The last seed may be u64::MAX itself.
        if args.start_seed.checked_add(seeds - 1).is_none() {
            return Err(UsageError::Invalid(format!(
                "--start-seed {} with --seeds {seeds} goes past the last seed, {}",
                args.start_seed,
                u64::MAX
            )));
        }
    }
    let shard = shard_of(args.shard)?;
    // --profile/--behaviours apply on top of what a scenario file switched on (one scenario).
    let behaviours_base = match scenarios.as_slice() {
        [scenario] => scenario.cluster.behaviours.clone(),
        _ => Default::default(),
    };
    let mut plan = Plan {
        scenarios,
        modes: args.mode.0.clone(),
        bug: args.bug,
        faults: args.faults,
        behaviours: args.behaviours.resolve_onto(behaviours_base)?,
        cluster,
        start_seed: args.start_seed,
        limit,
        shard,
        keep_going: args.keep_going,
        jobs: 1,
        harness_bug: args.harness_bug,
    };
    plan.jobs = jobs_of(args.jobs, &plan)?;
    Ok(plan)
}

/// `--shard`, else the shard the environment names (see `FuzzArgs::shard`), else the whole run.
fn shard_of(flag: Option<Shard>) -> Result<Shard, UsageError> {
    let variable = |name: &str| std::env::var(name).ok();
    let from_environment =
        Shard::from_environment(variable(SHARD_INDEX_VARIABLE).as_deref(), variable(SHARD_COUNT_VARIABLE).as_deref())
            .map_err(UsageError::Invalid)?;
    match (flag, from_environment) {
        (Some(flag), Some(environment)) if flag != environment => Err(UsageError::Invalid(format!(
            "--shard {flag} contradicts the environment's shard {environment} \
             ({SHARD_INDEX_VARIABLE}, {SHARD_COUNT_VARIABLE}): give one of them"
        ))),
        (flag, environment) => Ok(flag.or(environment).unwrap_or(Shard::WHOLE)),
    }
}

/// `--jobs`, or every core, capped at the runs planned and at `JOBS_MAX`: more threads would
/// only wait (with `--jobs 100000` thread start-up alone took seconds).
fn jobs_of(requested: Option<usize>, plan: &Plan) -> Result<usize, UsageError> {
    let jobs = match requested {
        Some(0) => return Err(UsageError::Invalid("--jobs must be at least 1".to_string())),
        Some(jobs) => jobs,
        None => std::thread::available_parallelism().map_or(1, usize::from),
    };
    let runs = plan.run_count().map_or(usize::MAX, |runs| usize::try_from(runs).unwrap_or(usize::MAX));
    let capped = jobs.min(JOBS_MAX).min(runs).max(1);
    if capped < jobs && requested.is_some() {
        let why =
            if capped == runs { format!("the {runs} runs planned") } else { "the most replsim starts".to_string() };
        eprintln!("note: --jobs {jobs} capped at {capped} ({why})");
    }
    Ok(capped)
}

fn install_interrupt_handler() {
    let installed = ctrlc::set_handler(|| {
        if INTERRUPTED.swap(true, Ordering::Relaxed) {
            std::process::exit(130);
        }
    });
    // Without a handler Ctrl-C still stops the run, only without a summary.
    if let Err(error) = installed {
        eprintln!("warning: Ctrl-C will not print a summary: {error}");
    }
}

/// Counts for one (scenario, mode) row of the summary.
#[derive(Clone, Debug, Default)]
struct Row {
    passed: u64,
    failed: u64,
    unknown: u64,
    first_failing_seed: Option<u64>,
}

/// What the delivered runs add up to.
struct Tally {
    /// Indexed `scenario * modes + mode`, the plan's order.
    rows: Vec<Row>,
    runs: u64,
    failed: u64,
    unknown: u64,
    /// The seeds run, as arithmetic progressions `(first, last, step)`: runs arrive in seed order.
    seed_ranges: Vec<(u64, u64, u64)>,
    failures: Vec<Value>,
    unknowns: Vec<Value>,
}

/// A failing or unknown run as printed and as written to the failures file.
struct FailureLine {
    text: String,
    json: Option<Value>,
}

impl Tally {
    fn new(plan: &Plan) -> Tally {
        let rows = vec![Row::default(); plan.scenarios.len() * plan.modes.len()];
        Tally {
            rows,
            runs: 0,
            failed: 0,
            unknown: 0,
            seed_ranges: Vec::new(),
            failures: Vec::new(),
            unknowns: Vec::new(),
        }
    }

    fn record(&mut self, plan: &Plan, finished: Finished) -> Option<FailureLine> {
        let verdict = finished.verdict;
        let case = &verdict.case;
        let scenario = plan.scenarios.iter().position(|scenario| scenario.name == case.scenario).unwrap_or(0);
        let mode = plan.modes.iter().position(|mode| *mode == case.mode).unwrap_or(0);
        self.runs += 1;
        self.note_seed(case.seed);
        let row = &mut self.rows[scenario * plan.modes.len() + mode];
        match &verdict.outcome {
            Outcome::Pass => {
                row.passed += 1;
                None
            }
            Outcome::Unknown(_) => {
                row.unknown += 1;
                self.unknown += 1;
                // No verdict is not a failure, but must not go unseen: a bound that is always hit
                // hides bugs as surely as a check that is never run.
                let json = run_json(&verdict);
                self.unknowns.push(json.clone());
                Some(FailureLine {
                    text: format!("{}\nreproduce: {}", verdict.headline(), case.repro_command()),
                    json: Some(json),
                })
            }
            Outcome::Fail(_) => {
                row.failed += 1;
                row.first_failing_seed.get_or_insert(case.seed);
                self.failed += 1;
                // The first failure in full (with its diff); later ones as headline and repro line.
                let text = if self.failed == 1 {
                    verdict.to_string()
                } else {
                    format!("{}\nreproduce: {}", verdict.headline(), case.repro_command())
                };
                let json = run_json(&verdict);
                self.failures.push(json.clone());
                Some(FailureLine { text, json: Some(json) })
            }
        }
    }

    fn note_seed(&mut self, seed: u64) {
        match self.seed_ranges.last_mut() {
            Some((_, last, _)) if *last == seed => {}
            Some((first, last, step)) if *first == *last && seed > *last => {
                *step = seed - *last;
                *last = seed;
            }
            Some((_, last, step)) if seed > *last && seed - *last == *step => *last = seed,
            _ => self.seed_ranges.push((seed, seed, 1)),
        }
    }

    fn print_table(&self, plan: &Plan, ending: Ending, elapsed: Duration) {
        outln!(
            "{:<18} {:<12} {:>8} {:>8} {:>8} {:>8}  first failing seed",
            "scenario",
            "mode",
            "seeds",
            "pass",
            "fail",
            "unknown"
        );
        for (index, row) in self.rows.iter().enumerate() {
            let scenario = plan.scenarios[index / plan.modes.len()].name.as_str();
            let mode = plan.modes[index % plan.modes.len()].to_string();
            let seeds = row.passed + row.failed + row.unknown;
            let first = row.first_failing_seed.map_or("-".to_string(), |seed| seed.to_string());
            outln!(
                "{scenario:<18} {mode:<12} {seeds:>8} {:>8} {:>8} {:>8}  {first}",
                row.passed,
                row.failed,
                row.unknown
            );
        }
        let rate = self.runs as f64 / elapsed.as_secs_f64().max(1e-9);
        let shard = if plan.shard == Shard::WHOLE { String::new() } else { format!(", shard {}", plan.shard) };
        let bug = plan.bug.map(|bug| format!(", planted bug {bug}")).unwrap_or_default();
        let bug = if plan.behaviours.is_ideal() { bug } else { format!(", behaviours {}{bug}", plan.behaviours) };
        outln!(
            "{} runs in {:.1}s ({rate:.0} runs/s on {} jobs{shard}{bug}){}",
            self.runs,
            elapsed.as_secs_f64(),
            plan.jobs,
            match ending {
                Ending::Completed => "",
                Ending::StoppedAtFailure => "; stopped at the first failure (--keep-going runs every seed)",
                Ending::Interrupted => "; interrupted: the summary so far",
            }
        );
    }

    fn json(&self, plan: &Plan, ending: Ending, elapsed: Duration) -> Value {
        let groups: Vec<Value> = self
            .rows
            .iter()
            .enumerate()
            .map(|(index, row)| {
                json!({
                    "scenario": plan.scenarios[index / plan.modes.len()].name,
                    "mode": plan.modes[index % plan.modes.len()].to_string(),
                    "passed": row.passed,
                    "failed": row.failed,
                    "unknown": row.unknown,
                    "first_failing_seed": row.first_failing_seed,
                })
            })
            .collect();
        json!({
            "runs": self.runs,
            "passed": self.runs - self.failed - self.unknown,
            "failed": self.failed,
            "unknown": self.unknown,
            "ending": match ending {
                Ending::Completed => "completed",
                Ending::StoppedAtFailure => "stopped-at-first-failure",
                Ending::Interrupted => "interrupted",
            },
            "elapsed_seconds": elapsed.as_secs_f64(),
            "runs_per_second": self.runs as f64 / elapsed.as_secs_f64().max(1e-9),
            "jobs": plan.jobs,
            "shard": plan.shard.to_string(),
            "bug": plan.bug.map(|bug| bug.to_string()),
            "behaviours": plan.behaviours.to_string(),
            "seed_ranges": self.seed_ranges.iter().map(|(first, last, step)| json!({"first": first, "last": last, "step": step})).collect::<Vec<_>>(),
            "groups": groups,
            "failing_seeds": seeds_of(&self.failures),
            "unknown_seeds": seeds_of(&self.unknowns),
            "failures": self.failures,
            "unknowns": self.unknowns,
        })
    }
}

/// The distinct seeds of some runs' JSON lines, in order.
fn seeds_of(runs: &[Value]) -> Vec<u64> {
    let seeds: std::collections::BTreeSet<u64> = runs.iter().filter_map(|run| run["seed"].as_u64()).collect();
    seeds.into_iter().collect()
}

/// One line of the failures file, for a failing or unknown run: enough to understand it and to
/// reproduce it. A failure has `checks` and `violations`, an unknown run its `reason`.
fn run_json(verdict: &Verdict) -> Value {
    let case = &verdict.case;
    let mut checks: Vec<String> = verdict.violations().iter().map(|violation| violation.check().to_string()).collect();
    checks.dedup();
    let (outcome, reason) = match &verdict.outcome {
        Outcome::Pass => ("pass", None),
        Outcome::Fail(_) => ("fail", None),
        Outcome::Unknown(reason) => ("unknown", Some(reason.clone())),
    };
    let mut line = json!({
        "outcome": outcome,
        "scenario": case.scenario,
        "mode": case.mode.to_string(),
        "bug": case.cluster.bug.map(|bug| bug.to_string()),
        "behaviours": case.cluster.behaviours.to_string(),
        "seed": case.seed,
        "checks": checks,
        "violations": verdict.violations().iter().map(ToString::to_string).collect::<Vec<_>>(),
        "trace_hash": format!("{:016x}", verdict.trace_hash),
        "client_ops": case.workload.op_count(),
        "swarm": case.swarm.as_ref().and_then(|swarm| serde_json::to_value(swarm).ok()),
        "configuration": serde_json::to_value(&case.cluster).unwrap_or(Value::Null),
        "repro": case.repro_command(),
    });
    if let Some(reason) = reason {
        line["reason"] = Value::String(reason);
    }
    line
}

/// A progress bar on a terminal, a plain line every few seconds otherwise (CI logs).
struct Progress {
    bar: Option<ProgressBar>,
    plan_runs: Option<u64>,
    duration: Option<Duration>,
}

impl Progress {
    fn start(plan: &Plan) -> Progress {
        let duration = match plan.limit {
            Limit::Duration(duration) => Some(duration),
            Limit::Seeds(_) => None,
        };
        let plan_runs = plan.run_count();
        let bar = std::io::stderr().is_terminal().then(|| {
            let length = plan_runs.unwrap_or_else(|| duration.map_or(0, |duration| duration.as_secs()));
            let bar = ProgressBar::new(length);
            // The rate is in the message, with no decimals: indicatif's {per_sec} prints three or four.
            let template = if plan_runs.is_some() {
                "{elapsed_precise} [{wide_bar}] {pos}/{len} runs, {msg}, ETA {eta}"
            } else {
                "{elapsed_precise} [{wide_bar}] {pos}/{len}s, {msg}"
            };
            bar.set_style(ProgressStyle::with_template(template).unwrap_or_else(|_| ProgressStyle::default_bar()));
            bar
        });
        Progress { bar, plan_runs, duration }
    }

    fn interval(&self) -> Duration {
        if self.bar.is_some() {
            Duration::from_millis(200)
        } else {
            Duration::from_secs(10)
        }
    }

    fn update(&self, delivered: u64, failures: u64, started: Instant) {
        let elapsed = started.elapsed();
        let rate = delivered as f64 / elapsed.as_secs_f64().max(1e-9);
        match &self.bar {
            Some(bar) if self.plan_runs.is_some() => {
                bar.set_position(delivered);
                bar.set_message(format!("{rate:.0} runs/s, {failures} failures"));
            }
            Some(bar) => {
                bar.set_position(elapsed.as_secs());
                bar.set_message(format!("{delivered} runs, {rate:.0} runs/s, {failures} failures"));
            }
            // A line when the log would otherwise be silent for a while: not at the end of a
            // complete run (the summary follows) nor after the run was stopped by Ctrl-C or an
            // output error (a summary or the error follows).
            None if self.plan_runs == Some(delivered) || INTERRUPTED.load(Ordering::Relaxed) => {}
            None => {
                let remaining = match (self.plan_runs, self.duration) {
                    (Some(total), _) if rate > 0.0 => {
                        format!(", ETA {:.0}s", total.saturating_sub(delivered) as f64 / rate)
                    }
                    (_, Some(duration)) => format!(", {:.0}s left", duration.saturating_sub(elapsed).as_secs_f64()),
                    _ => String::new(),
                };
                let of_total = self.plan_runs.map_or(String::new(), |total| format!("/{total}"));
                eprintln!("progress: {delivered}{of_total} runs, {rate:.0} runs/s, {failures} failures{remaining}");
            }
        }
    }

    /// Prints above the bar (stdout, or stderr when stdout carries JSON).
    fn print(&self, text: &str, to_stderr: bool) {
        let print = || {
            if to_stderr {
                eprintln!("{text}");
            } else {
                outln!("{text}");
            }
        };
        match &self.bar {
            Some(bar) => bar.suspend(print),
            None => print(),
        }
    }

    /// Draws the last frame (the final count, which the rate-limited bar may not have shown
    /// yet) and leaves it above the summary.
    fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish();
            // indicatif leaves the cursor at the end of the frame: the summary starts below it.
            eprintln!();
        }
    }
}

#[cfg(test)]
mod tests {
    use replsim_sim::config::ApplyMode;

    use super::*;
    use replsim_scenarios::runner::{run_case, Case, RunOptions, Violation};

    fn plan() -> Plan {
        Plan {
            scenarios: vec![scenario_named("flushdb-race").unwrap()],
            modes: vec![ApplyMode::Barrier],
            bug: None,
            faults: None,
            behaviours: Default::default(),
            cluster: None,
            start_seed: 1,
            limit: Limit::Seeds(3),
            shard: Shard::WHOLE,
            keep_going: true,
            jobs: 1,
            harness_bug: None,
        }
    }

    /// A real run of `seed`, its outcome replaced by `outcome` (no seed of the shipped scenarios
    /// is known to end unknown).
    fn finished(plan: &Plan, seed: u64, outcome: Option<Outcome>) -> Finished {
        let mut verdict = run_case(&Case::new(&plan.scenarios[0], plan.modes[0], seed), RunOptions::default());
        if let Some(outcome) = outcome {
            verdict.outcome = outcome;
        }
        Finished { run: seed - plan.start_seed, verdict }
    }

    #[test]
    fn an_unknown_run_is_written_to_the_failures_file_and_listed_in_the_summary() {
        let plan = plan();
        let mut tally = Tally::new(&plan);
        assert!(tally.record(&plan, finished(&plan, 1, None)).is_none(), "a pass is not written");
        let reason = "timed out: the clients of phase 1 had not finished at t=30s";
        let unknown = tally.record(&plan, finished(&plan, 2, Some(Outcome::Unknown(reason.to_string())))).unwrap();
        let unknown = unknown.json.expect("an unknown run has a line in the failures file");
        assert_eq!(unknown["outcome"], "unknown");
        assert_eq!(unknown["reason"], reason);
        assert!(unknown["repro"].as_str().unwrap().ends_with("--seed 2"), "{unknown}");
        let violation = Violation::SutInvariant { message: "entry 3 applied twice".to_string() };
        let failure = tally.record(&plan, finished(&plan, 3, Some(Outcome::Fail(vec![violation])))).unwrap();
        let failure = failure.json.unwrap();
        assert_eq!(failure["outcome"], "fail");
        assert_eq!(failure["checks"], json!(["sut-invariant"]));
        assert!(failure.get("reason").is_none(), "{failure}");

        let summary = tally.json(&plan, Ending::Completed, Duration::from_secs(1));
        assert_eq!(
            (summary["passed"].as_u64(), summary["failed"].as_u64(), summary["unknown"].as_u64()),
            (Some(1), Some(1), Some(1))
        );
        assert_eq!(summary["failing_seeds"], json!([3]));
        assert_eq!(summary["unknown_seeds"], json!([2]));
        assert_eq!(summary["unknowns"][0]["reason"], reason);
    }
}
