//! `replsim merge FILE...`: one summary from the `fuzz --json` summaries and `fuzz --out`
//! failures files of many shards (a CI matrix, a Kubernetes Indexed Job). The merging is
//! `replsim_scenarios::merge`; this prints it.
//!
//! ```text
//! $ replsim merge summary-*.json failures-*.jsonl
//! merged 3 summaries and 3 failures files (shards 1/3, 2/3, 3/3)
//! seeds: 30 (0..=29)
//! …
//! 30 runs: 3 passed, 27 failed, 0 unknown
//! failure signatures:
//!       27 × flushdb-race hash-by-key [prefix-consistency, convergence]  (first seed 0: cargo run …)
//! ```

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;
use replsim_scenarios::merge::merge_files;

use crate::output::outln;
use crate::UsageError;

#[derive(Debug, Args)]
pub struct MergeArgs {
    /// `fuzz --json` summaries and `fuzz --out` failures files, in any order.
    #[arg(required = true, value_name = "FILE")]
    files: Vec<PathBuf>,
    /// Print the merged summary as one JSON object.
    #[arg(long)]
    json: bool,
}

pub fn merge(args: MergeArgs) -> Result<ExitCode, UsageError> {
    let paths: Vec<&std::path::Path> = args.files.iter().map(PathBuf::as_path).collect();
    let merged = merge_files(&paths).map_err(|error| UsageError::Invalid(error.to_string()))?;
    if args.json {
        let json = serde_json::to_string(&merged)
            .map_err(|error| UsageError::Invalid(format!("cannot write the summary as JSON: {error}")))?;
        outln!("{json}");
    } else {
        outln!("{}", merged.to_string().trim_end());
    }
    Ok(ExitCode::from(merged.exit_code()))
}
