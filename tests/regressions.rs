//! Every case in `tests/regressions/*.txt` is replayed: it must still fail the check it was caught
//! with under the mode (and planted bug) it was found with — or the harness has lost its power to
//! see that bug — and pass under both fixed modes.

use std::path::Path;

use replsim_scenarios::regression::{load_directory, Located};
use replsim_scenarios::runner::{regression_repro_command, run_case, RunOptions, Verdict};
use replsim_sim::config::ApplyMode;

fn regressions() -> Vec<Located> {
    let directory = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/regressions");
    load_directory(&directory).unwrap_or_else(|error| panic!("{error}"))
}

fn replay(located: &Located, mode: ApplyMode, with_bug: bool) -> Verdict {
    let case = located.entry.case(mode, with_bug).unwrap_or_else(|problem| panic!("{}: {problem}", located.location()));
    run_case(&case, RunOptions::default())
}

/// The line a failing test prints to reproduce the case.
fn replay_line(located: &Located, mode: ApplyMode) -> String {
    let file = located.path.file_name().map(|name| name.to_string_lossy().into_owned()).unwrap_or_default();
    let location = format!("tests/regressions/{file}:{}", located.line);
    regression_repro_command(&location, (mode != located.entry.mode).then_some(mode))
}

#[test]
fn the_regression_files_hold_cases() {
    assert!(!regressions().is_empty(), "tests/regressions/*.txt should hold at least one case");
}

#[test]
fn every_regression_still_fails_its_check_where_it_was_found() {
    for located in regressions() {
        let entry = &located.entry;
        let verdict = replay(&located, entry.mode, true);
        let checks: Vec<_> = verdict.violations().iter().map(|violation| violation.check()).collect();
        assert!(
            checks.contains(&entry.fails),
            "{}: expected [{}] under {}, got {}\n(re-shrink it if the system under test changed its scheduling)\nreproduce: {}",
            located.location(),
            entry.fails,
            entry.mode,
            verdict.headline(),
            replay_line(&located, entry.mode)
        );
    }
}

#[test]
fn every_regression_passes_under_the_fixed_modes() {
    for located in regressions() {
        for mode in [ApplyMode::Barrier, ApplyMode::Serial] {
            let verdict = replay(&located, mode, false);
            let violations: Vec<String> = verdict.violations().iter().map(ToString::to_string).collect();
            assert!(
                verdict.is_pass(),
                "{}: {}\n{}\nreproduce: {}",
                located.location(),
                verdict.headline(),
                violations.join("\n"),
                replay_line(&located, mode)
            );
        }
    }
}
