//! `replsim fuzz --guided`: the guided campaign of `replsim_scenarios::guided`, printed the way
//! plain `fuzz` prints — each failure with its one-line repro, then a summary and the marks.
//!
//! ```text
//! $ replsim fuzz --guided --scenario swarm --mode barrier --bug ack-before-apply
//! FAIL [convergence] scenario=swarm mode=barrier seed=12 trace=…
//! reproduce: cargo run --release -- replay --scenario swarm --mode barrier --seed 12 --mutations 8841,77 --bug ack-before-apply
//! guided: 9 runs (4 mutated) in 0.1s, 1 failed, 0 unknown, corpus 3; first failure at run 9
//! ```

use std::process::ExitCode;
use std::sync::atomic::AtomicBool;
use std::time::Instant;

use replsim_scenarios::fuzz::{Limit, Plan};
use replsim_scenarios::guided::{self, GuidedPlan};
use serde_json::json;

use crate::marks::MarkTally;
use crate::output::outln;
use crate::{UsageError, EXIT_FAILURE_FOUND, EXIT_UNKNOWN};

pub fn fuzz_guided(plan: &Plan, json: bool, interrupted: &AtomicBool) -> Result<ExitCode, UsageError> {
    let ([scenario], [mode]) = (plan.scenarios.as_slice(), plan.modes.as_slice()) else {
        return Err(UsageError::Invalid(
            "--guided runs one swarm scenario under one mode: give --scenario NAME and --mode MODE".to_string(),
        ));
    };
    let (runs_max, duration) = match plan.limit {
        Limit::Seeds(runs) => (runs, None),
        Limit::Duration(duration) => (u64::MAX, Some(duration)),
    };
    let guided_plan = GuidedPlan {
        scenario: scenario.clone(),
        mode: *mode,
        bug: plan.bug,
        faults: plan.faults,
        start_seed: plan.start_seed,
        runs_max,
        duration,
        keep_going: plan.keep_going,
        jobs: plan.jobs,
    };
    let started = Instant::now();
    let mut marks = MarkTally::default();
    let mut failures = Vec::new();
    let summary = guided::run(&guided_plan, interrupted, |run, verdict| {
        marks.record(verdict);
        if verdict.is_pass() {
            return;
        }
        let text = format!("{}\nreproduce: {}", verdict.headline(), verdict.case.repro_command());
        if json {
            eprintln!("{text}");
        } else {
            outln!("{text}");
        }
        failures.push(json!({
            "run": run,
            "outcome": if verdict.is_fail() { "fail" } else { "unknown" },
            "seed": verdict.case.seed,
            "mutations": verdict.case.mutations,
            "checks": verdict.violations().iter().map(|violation| violation.check().to_string()).collect::<Vec<_>>(),
            "repro": verdict.case.repro_command(),
        }));
    })
    .map_err(UsageError::Invalid)?;
    let elapsed = started.elapsed();
    if json {
        outln!(
            "{}",
            json!({
                "guided": true,
                "runs": summary.runs,
                "mutated_runs": summary.mutated_runs,
                "failed": summary.failed,
                "unknown": summary.unknown,
                "corpus": summary.corpus,
                "first_failure_run": summary.first_failure_run,
                "elapsed_seconds": elapsed.as_secs_f64(),
                "failures": failures,
                "marks": marks.json(),
            })
        );
    } else {
        let first = summary.first_failure_run.map(|run| format!("; first failure at run {run}")).unwrap_or_default();
        outln!(
            "guided: {} runs ({} mutated) in {:.1}s, {} failed, {} unknown, corpus {}{first}{}",
            summary.runs,
            summary.mutated_runs,
            elapsed.as_secs_f64(),
            summary.failed,
            summary.unknown,
            summary.corpus,
            if summary.interrupted { "; interrupted: the summary so far" } else { "" }
        );
        marks.print();
    }
    Ok(if summary.failed > 0 {
        ExitCode::from(EXIT_FAILURE_FOUND)
    } else if summary.unknown > 0 || summary.interrupted {
        ExitCode::from(EXIT_UNKNOWN)
    } else {
        ExitCode::SUCCESS
    })
}
