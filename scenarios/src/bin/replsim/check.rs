//! `replsim check FILE --model M`: is a recorded history linearizable? Exit 0 yes, 1 no (with
//! the failing window), 3 unknown within the timeout, 2 for a bad file or bad arguments.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use clap::{Args, ValueEnum};
use replsim_model::history::{
    read_kv_history, read_porcupine_kv_history, read_register_history, HistoryFormat, ReadOptions, UnknownFields,
};
use replsim_model::linearizability::kv::KvModel;
use replsim_model::linearizability::porcupine_kv::PorcupineKvModel;
use replsim_model::linearizability::register::RegisterModel;
use replsim_model::linearizability::{check as check_history, Options, Verdict};

use crate::output::outln;
use crate::{parse_duration, UsageError, EXIT_FAILURE_FOUND, EXIT_UNKNOWN};
use replsim_scenarios::input::{read_bytes, HISTORY_FILE_BYTES_MAX};

#[derive(Debug, Args)]
pub struct CheckArgs {
    /// The history: a Porcupine etcd log, Jepsen EDN, Porcupine kv file or replsim JSON lines.
    file: PathBuf,
    /// The sequential specification the history must follow.
    #[arg(long, value_enum)]
    model: CheckModel,
    /// How the file is written: auto, etcd, edn, porcupine-kv or jsonl.
    #[arg(long, default_value = "auto")]
    format: HistoryFormat,
    /// Give up with exit 3 after this long: e.g. 500ms, 10s, 2m.
    #[arg(long, default_value = "10s", value_parser = parse_duration)]
    timeout: Duration,
    /// Give up with exit 3 before the process's resident memory passes this: e.g. 512MB, 2GB.
    #[arg(long, default_value = "512MB", value_parser = parse_bytes)]
    memory: usize,
    /// The value a register holds before any write (register models only; Knossos assumes 0).
    /// Without it a register starts nil.
    #[arg(long, allow_negative_numbers = true)]
    initial_value: Option<i64>,
    /// Ignore JSON fields replsim does not know instead of refusing the file.
    #[arg(long)]
    allow_unknown_fields: bool,
    /// Threads searching keys at once; the default is one per core. With more than one, a
    /// history with several failing keys may show a different one from run to run (the
    /// verdict does not change).
    #[arg(long, value_parser = clap::value_parser!(u16).range(1..=256))]
    threads: Option<u16>,
}

/// `512MB`, `2GB`, `300KB` or a plain number of bytes.
fn parse_bytes(text: &str) -> Result<usize, String> {
    let bad = || format!("invalid size '{text}' (expected a number and a unit: 300KB, 512MB, 2GB)");
    let split = text.find(|char: char| !char.is_ascii_digit()).unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let number: usize = number.parse().map_err(|_| bad())?;
    let unit_bytes: usize = match unit.to_ascii_uppercase().as_str() {
        "" | "B" => 1,
        "KB" | "K" => 1 << 10,
        "MB" | "M" => 1 << 20,
        "GB" | "G" => 1 << 30,
        _ => return Err(bad()),
    };
    match number.checked_mul(unit_bytes) {
        Some(0) => Err(format!("--memory {text}: must be more than 0")),
        Some(bytes) => Ok(bytes),
        None => Err(bad()),
    }
}

#[derive(Clone, Copy, Debug, ValueEnum)]
enum CheckModel {
    /// replsim's key-value store (GET, SET, DEL, FLUSHDB, FLUSHALL).
    Kv,
    /// A read/write register.
    Register,
    /// A register with compare-and-set (Jepsen's etcd test).
    CasRegister,
    /// Porcupine's get/put/append store.
    PorcupineKv,
}

pub fn check(args: CheckArgs) -> Result<ExitCode, UsageError> {
    let file = args.file.display().to_string();
    let bytes = read_bytes(&args.file, HISTORY_FILE_BYTES_MAX, "history file")
        .map_err(|error| UsageError::Invalid(error.to_string()))?;
    // The memo estimate may use the whole limit; the resident size is what is really bounded.
    let options = Options {
        timeout: Some(args.timeout),
        memo_bytes_max: args.memory,
        resident_bytes_max: Some(args.memory),
        threads: args
            .threads
            .map_or_else(|| std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get), usize::from),
        ..Options::default()
    };
    if args.initial_value.is_some() && !matches!(args.model, CheckModel::Register | CheckModel::CasRegister) {
        return Err(UsageError::Invalid("--initial-value applies to --model register and cas-register only".into()));
    }
    let unknown_fields = if args.allow_unknown_fields { UnknownFields::Ignore } else { UnknownFields::Reject };
    let read_options = ReadOptions { format: args.format, unknown_fields };
    let invalid = |error: replsim_model::history::ReadError| UsageError::Invalid(error.to_string());
    let started = Instant::now();
    // Reading and checking are timed apart: the check's own time is what the README quotes.
    let mut read_ms = 0.0;
    let mut timed_check = |checked: &dyn Fn() -> Verdict| {
        read_ms = started.elapsed().as_secs_f64() * 1e3;
        checked()
    };
    let (verdict, op_count) = match args.model {
        CheckModel::Kv => {
            let history = read_kv_history(&file, &bytes, read_options).map_err(invalid)?;
            (timed_check(&|| check_history(&KvModel, &history, &options)), history.len())
        }
        CheckModel::Register | CheckModel::CasRegister => {
            let allows_cas = matches!(args.model, CheckModel::CasRegister);
            let history = read_register_history(&file, &bytes, read_options, allows_cas).map_err(invalid)?;
            let mut model = if allows_cas { RegisterModel::with_cas() } else { RegisterModel::plain() };
            if let Some(initial) = args.initial_value {
                model = model.starting_at(initial);
            }
            (timed_check(&|| check_history(&model, &history, &options)), history.len())
        }
        CheckModel::PorcupineKv => {
            let history = read_porcupine_kv_history(&file, &bytes, read_options).map_err(invalid)?;
            (timed_check(&|| check_history(&PorcupineKvModel, &history, &options)), history.len())
        }
    };
    outln!("{file}: {verdict}");
    let total_ms = started.elapsed().as_secs_f64() * 1e3;
    outln!("{op_count} operations read in {read_ms:.1} ms, checked in {:.1} ms", total_ms - read_ms);
    Ok(match verdict {
        Verdict::Linearizable(_) => ExitCode::SUCCESS,
        Verdict::NotLinearizable(_) => ExitCode::from(EXIT_FAILURE_FOUND),
        Verdict::Unknown(_) => ExitCode::from(EXIT_UNKNOWN),
    })
}
