//! `--html FILE` (replay) and `--out-dir DIR` (fuzz): write a run's HTML report
//! ([`replsim_scenarios::html_report`]), turning every problem into the one-line usage error.

use std::path::{Path, PathBuf};

use replsim_scenarios::html_report;
use replsim_scenarios::runner::{run_case, Case, RunOptions, Verdict};

use crate::UsageError;

/// Writes the report of `verdict` (which must have kept its trace) to `path`.
pub fn write(verdict: &Verdict, path: &Path) -> Result<(), UsageError> {
    let html = html_report::render_html(verdict)
        .map_err(|error| UsageError::Invalid(format!("cannot draw the report: {error}")))?;
    std::fs::write(path, html)
        .map_err(|error| UsageError::Invalid(format!("cannot write report {}: {error}", path.display())))
}

/// Re-runs `case` keeping its trace (a run is a pure function of its case, so this is the same
/// run) and writes its report into `directory`, named by scenario, mode, bug and seed.
pub fn write_into(case: &Case, directory: &Path) -> Result<PathBuf, UsageError> {
    let verdict = run_case(case, RunOptions { keep_trace: true, ..RunOptions::default() });
    let path = directory.join(html_report::file_name(case));
    write(&verdict, &path)?;
    Ok(path)
}

/// Creates `directory` if needed: a bad `--out-dir` fails before the first run, not at the first failure.
pub fn prepare_directory(directory: &Path) -> Result<(), UsageError> {
    std::fs::create_dir_all(directory).map_err(|error| {
        UsageError::Invalid(format!("cannot create report directory {}: {error}", directory.display()))
    })
}
