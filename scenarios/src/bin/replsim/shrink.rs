//! `replsim shrink`: minimises a failing seed's workload and fault schedule, keeping only
//! reductions that still fail the same check, prints the minimal case and appends it to a
//! regression file.
//!
//! ```text
//! $ replsim shrink --scenario swarm --mode barrier --seed 3 --bug drop-entries-on-reconnect
//! shrinking swarm barrier seed 3 bug drop-entries-on-reconnect: 261 client ops, 6 faults
//! minimal case: 3 client ops (from 261), 1 fault (from 6), 812 steps (40 kept) in 1.2s; still fails [liveness]
//!   phase 1  client-1: SET a v1; SET b v2
//!   phase 1  fault:    +0ms kill replica-1 for 1ms
//! [liveness] no progress after phase 1: …
//! regression: tests/regressions/swarm.txt:4
//! replay it:  cargo run --release -- replay --regression tests/regressions/swarm.txt:4
//! ```

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};
use replsim_sim::bug::Bug;
use replsim_sim::config::ApplyMode;

use crate::output::outln;
use crate::{cluster_settings, scenario_of, UsageError};
use replsim_scenarios::file::ClusterSpec;
use replsim_scenarios::harness_bug::HarnessBug;
use replsim_scenarios::regression::{self, op_text, step_text, Appended, Entry};
use replsim_scenarios::runner::{self, regression_repro_command, Case};
use replsim_scenarios::shrink::{self, Budget, Progress, Shrunk};

#[derive(Debug, Args)]
pub struct ShrinkArgs {
    /// A built-in scenario [default: flushdb-race].
    #[arg(long, conflicts_with = "scenario_file")]
    scenario: Option<String>,
    /// Shrink a case of the scenario this file describes; the regression line names the file.
    #[arg(long, value_name = "FILE")]
    scenario_file: Option<PathBuf>,
    /// The apply mode [default with --scenario-file: the file's `mode`].
    #[arg(long)]
    mode: Option<ApplyMode>,
    /// Cluster settings on top of the scenario's (`apply_delay=1ms..9ms`); the regression line
    /// carries them.
    #[arg(long, value_name = "KEY=VALUE,…")]
    cluster: Option<String>,
    #[arg(long)]
    seed: u64,
    /// Plant this bug (a wrong name lists the known ones).
    #[arg(long)]
    bug: Option<Bug>,
    #[command(flatten)]
    behaviours: crate::BehaviourArgs,
    /// Stop after this many candidate runs, keeping the smallest failure so far. A count, not a
    /// time: the minimal case and its regression line are the same on every machine.
    #[arg(long, default_value_t = 20_000)]
    max_steps: u64,
    /// Extra schedule seeds to try when a smaller workload passes under the current one.
    #[arg(long, default_value_t = 32)]
    schedules: u64,
    /// Where the regression entry is appended [default: tests/regressions/SCENARIO.txt]; an
    /// entry already in the file is not appended again.
    #[arg(long, value_name = "FILE", conflicts_with = "no_regression")]
    regression_file: Option<PathBuf>,
    /// Print the minimal case without writing a regression entry.
    #[arg(long)]
    no_regression: bool,
    /// Plant a bug in replsim itself (`panic-while-shrinking:STEP`): a test that the shrinker's
    /// own panics are reported, not silenced.
    #[arg(long, hide = true, value_parser = str::parse::<HarnessBug>)]
    harness_bug: Option<HarnessBug>,
}

pub fn shrink(args: ShrinkArgs) -> Result<ExitCode, UsageError> {
    let scenario = scenario_of(args.scenario.as_deref(), args.scenario_file.as_deref())?;
    if args.max_steps == 0 {
        return Err(UsageError::Invalid("--max-steps must be at least 1".to_string()));
    }
    let Some(mode) = args.mode.or(scenario.default_mode) else {
        return Err(UsageError::Invalid("shrink needs --mode (the scenario names no default mode)".to_string()));
    };
    let mut case = Case::new(&scenario, mode, args.seed);
    // --profile/--behaviours apply on top of what a scenario file switched on.
    case = case.clone().with_behaviours(args.behaviours.resolve_onto(case.cluster.behaviours.clone())?);
    if args.bug.is_some() {
        case.cluster.bug = args.bug;
    }
    if let Some(settings) = cluster_settings(args.cluster.as_deref())? {
        case = case.with_cluster_settings(&settings).map_err(UsageError::Invalid)?;
    }
    let bug_planted = case.cluster.bug;
    let path = (!args.no_regression).then(|| {
        args.regression_file
            .clone()
            .unwrap_or_else(|| PathBuf::from(format!("tests/regressions/{}.txt", case.scenario)))
    });
    // An unreadable regression file is refused before the shrink, not after it.
    if let Some(path) = &path {
        regression::existing_text(path).map_err(|error| UsageError::Invalid(error.to_string()))?;
    }
    let bug = bug_planted.map(|bug| format!(" bug {bug}")).unwrap_or_default();
    let bug =
        if case.cluster.behaviours.is_ideal() { bug } else { format!(" behaviours {}{bug}", case.cluster.behaviours) };
    outln!(
        "shrinking {} {} seed {}{bug}: {} client ops, {}",
        case.scenario,
        case.mode,
        case.seed,
        case.workload.op_count(),
        faults_count(case.cluster.faults.steps.len())
    );
    let budget =
        Budget { steps_max: args.max_steps, schedules_per_candidate: args.schedules, harness_bug: args.harness_bug };
    let reporter = Reporter::new();
    let shrunk = QuietRunPanics::around(|| shrink::shrink(&case, budget, |progress| reporter.report(progress)));
    let shrunk = shrunk.map_err(|error| UsageError::Invalid(error.to_string()))?;
    reporter.finish();
    print_minimal(&shrunk);
    let Some(path) = path else {
        return Ok(ExitCode::SUCCESS);
    };
    let settings = ClusterSpec::difference(&case.cluster_as_built, &case.cluster);
    let entry = Entry {
        // A written scenario's line names its file, so replaying it reads the same script.
        scenario: case.scenario_file.as_ref().map_or(case.scenario.clone(), |path| path.display().to_string()),
        mode: case.mode,
        seed: case.seed,
        schedule: Some(shrunk.minimal.case.seed).filter(|schedule| *schedule != case.seed),
        bug: bug_planted,
        cluster: (settings != ClusterSpec::default()).then_some(settings),
        behaviours: case.cluster.behaviours.clone(),
        fails: shrunk.check,
        workload: shrunk.minimal.case.workload.clone(),
        // A case that had faults carries its shrunk schedule, even an empty one: the seed's
        // schedule is no longer the one that fails with this workload.
        faults: (shrunk.faults_before > 0).then(|| shrunk.minimal.case.cluster.faults.clone()),
    };
    // The comment names the check and its most telling line: the evidence under the headline.
    let first_violation = shrunk.minimal.violations().first().map(ToString::to_string).unwrap_or_default();
    let evidence = first_violation.lines().nth(1).or(first_violation.lines().next()).unwrap_or("").trim();
    let evidence = evidence.strip_prefix(&format!("[{}] ", shrunk.check)).unwrap_or(evidence);
    let comment = vec![
        format!("{} {} seed {}{bug}: [{}] {evidence}", case.scenario, case.mode, case.seed, shrunk.check),
        format!(
            "shrunk from {} to {} client ops{} by `replsim shrink`",
            shrunk.ops_before,
            shrunk.minimal.case.workload.op_count(),
            if shrunk.faults_before > 0 {
                format!(
                    " and from {} to {}",
                    shrunk.faults_before,
                    faults_count(shrunk.minimal.case.cluster.faults.steps.len())
                )
            } else {
                String::new()
            }
        ),
    ];
    let appended =
        regression::append(&path, &comment, &entry).map_err(|error| UsageError::Invalid(error.to_string()))?;
    let line = match appended {
        Appended::New(line) => {
            outln!("regression: {}:{line}", path.display());
            line
        }
        Appended::AlreadyThere(line) => {
            outln!("regression: already in {}:{line}, not appended again", path.display());
            line
        }
    };
    outln!("replay it:  {}", regression_repro_command(&format!("{}:{line}", path.display()), None));
    Ok(ExitCode::SUCCESS)
}

/// The panic hook while shrinking: thousands of candidate runs may each trip a SUT assertion
/// (the runner turns it into a verdict), and without this every one would print its message and
/// backtrace. Only panics inside a run are silenced: a bug of the shrinker itself still reaches
/// the previous hook, which prints it.
struct QuietRunPanics {
    previous: Arc<PanicHook>,
}

type PanicHook = Box<dyn Fn(&std::panic::PanicHookInfo<'_>) + Sync + Send + 'static>;

impl QuietRunPanics {
    /// Runs `work` under the quiet hook and puts the previous hook back afterwards, also when
    /// `work` panics: the hook cannot be changed while a thread unwinds, so the panic is caught,
    /// the hook restored, and the panic resumed.
    fn around<R>(work: impl FnOnce() -> R) -> R {
        let quiet = QuietRunPanics::install();
        let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(work));
        drop(quiet);
        result.unwrap_or_else(|panic| std::panic::resume_unwind(panic))
    }

    fn install() -> QuietRunPanics {
        let previous: Arc<PanicHook> = Arc::new(std::panic::take_hook());
        let forward = Arc::clone(&previous);
        std::panic::set_hook(Box::new(move |info| {
            if !runner::inside_a_run() {
                forward(info);
            }
        }));
        QuietRunPanics { previous }
    }
}

impl Drop for QuietRunPanics {
    fn drop(&mut self) {
        if std::thread::panicking() {
            return;
        }
        let previous = Arc::clone(&self.previous);
        // Dropping the quiet hook releases its copy of `previous`.
        drop(std::panic::take_hook());
        std::panic::set_hook(match Arc::try_unwrap(previous) {
            Ok(hook) => hook,
            Err(shared) => Box::new(move |info| shared(info)),
        });
    }
}

fn faults_count(count: usize) -> String {
    format!("{count} fault{}", if count == 1 { "" } else { "s" })
}

/// The minimal case phase by phase: each client's operations, then the faults that strike while
/// they run.
fn print_minimal(shrunk: &Shrunk) {
    let workload = &shrunk.minimal.case.workload;
    let faults = &shrunk.minimal.case.cluster.faults;
    outln!(
        "minimal case: {} client ops (from {}), {} (from {}), {} steps ({} kept) in {:.1}s{}; still fails [{}]",
        workload.op_count(),
        shrunk.ops_before,
        faults_count(faults.steps.len()),
        shrunk.faults_before,
        shrunk.steps,
        shrunk.accepted,
        shrunk.elapsed.as_secs_f64(),
        if shrunk.complete { "" } else { ", budget reached" },
        shrunk.check
    );
    for (phase_index, phase) in workload.phases.iter().enumerate() {
        for (client_index, client) in phase.clients.iter().enumerate() {
            let ops: Vec<String> =
                client.ops.iter().map(|op| op_text(op).unwrap_or_else(|_| op.command.to_string())).collect();
            outln!("  phase {}  client-{}: {}", phase_index + 1, client_index + 1, ops.join("; "));
        }
        for step in faults.steps.iter().filter(|step| step.phase == phase_index) {
            let text =
                step_text(step).unwrap_or_else(|_| format!("+{:?} {} for {:?}", step.at, step.fault, step.duration));
            outln!("  phase {}  fault:    {text}", phase_index + 1);
        }
    }
    for violation in shrunk.minimal.violations() {
        outln!("{violation}");
    }
}

/// A spinner on a terminal; a line every few seconds otherwise.
struct Reporter {
    bar: Option<ProgressBar>,
    last_line: std::cell::Cell<Instant>,
}

impl Reporter {
    fn new() -> Reporter {
        let bar = std::io::stderr().is_terminal().then(|| {
            let bar = ProgressBar::new_spinner();
            bar.set_style(
                ProgressStyle::with_template("{spinner} {elapsed} {msg}")
                    .unwrap_or_else(|_| ProgressStyle::default_spinner()),
            );
            bar
        });
        Reporter { bar, last_line: std::cell::Cell::new(Instant::now()) }
    }

    fn report(&self, progress: Progress) {
        let message = format!(
            "step {}: {} kept, smallest failing case {} client ops, {}",
            progress.steps,
            progress.accepted,
            progress.ops,
            faults_count(progress.faults)
        );
        match &self.bar {
            Some(bar) => bar.set_message(message),
            None if self.last_line.get().elapsed() >= Duration::from_secs(5) => {
                eprintln!("shrink: {message}");
                self.last_line.set(Instant::now());
            }
            None => {}
        }
    }

    fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicU64, Ordering};

    use replsim_scenarios::runner::{run_case, RunOptions};
    use replsim_scenarios::scenario::Scenario;
    use replsim_sim::bug::Bug;

    use super::*;

    /// Panics on this test's thread that reached the hook installed before `around`.
    static PANICS_SEEN: AtomicU64 = AtomicU64::new(0);

    #[test]
    fn the_previous_panic_hook_is_back_after_a_panic_while_shrinking() {
        let test_thread = std::thread::current().id();
        std::panic::set_hook(Box::new(move |_| {
            if std::thread::current().id() == test_thread {
                PANICS_SEEN.fetch_add(1, Ordering::Relaxed);
            }
        }));
        let unwound = std::panic::catch_unwind(|| QuietRunPanics::around(|| panic!("a bug in the shrinker")));
        assert!(unwound.is_err(), "the shrinker's panic goes on unwinding");
        assert_eq!(PANICS_SEEN.load(Ordering::Relaxed), 1, "the shrinker's own panic was reported, not silenced");
        // Under the quiet hook a panic inside a run is silent; under the restored hook it is seen.
        let swarm = Scenario::by_name("swarm").expect("the swarm scenario");
        let case = Case::new(&swarm, ApplyMode::Barrier, 0).with_bug(Some(Bug::TsyncOffByOne));
        let verdict = run_case(&case, RunOptions::default());
        assert!(verdict.is_fail(), "the planted bug trips a SUT assertion: {verdict}");
        assert!(PANICS_SEEN.load(Ordering::Relaxed) >= 2, "the hook before the shrink is back");
        let _ = std::panic::take_hook();
    }
}
