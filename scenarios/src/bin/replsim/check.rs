//! `replsim check FILE --model M`: is a recorded history linearizable? Exit 0 yes, 1 no (with
//! the failing window), 3 unknown within the timeout, 2 for a bad file or bad arguments.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use clap::{Args, ValueEnum};
use replsim_model::history::{read_kv_history, read_porcupine_kv_history, read_register_history, HistoryFormat};
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
    let options = Options { timeout: Some(args.timeout), ..Options::default() };
    let invalid = |error: replsim_model::history::ReadError| UsageError::Invalid(error.to_string());
    let started = Instant::now();
    let (verdict, op_count) = match args.model {
        CheckModel::Kv => {
            let history = read_kv_history(&file, &bytes, args.format).map_err(invalid)?;
            (check_history(&KvModel, &history, &options), history.len())
        }
        CheckModel::Register | CheckModel::CasRegister => {
            let allows_cas = matches!(args.model, CheckModel::CasRegister);
            let history = read_register_history(&file, &bytes, args.format, allows_cas).map_err(invalid)?;
            let model = if allows_cas { RegisterModel::with_cas() } else { RegisterModel::plain() };
            (check_history(&model, &history, &options), history.len())
        }
        CheckModel::PorcupineKv => {
            let history = read_porcupine_kv_history(&file, &bytes, args.format).map_err(invalid)?;
            (check_history(&PorcupineKvModel, &history, &options), history.len())
        }
    };
    outln!("{file}: {verdict}");
    outln!("{op_count} operations checked in {:.1} ms", started.elapsed().as_secs_f64() * 1e3);
    Ok(match verdict {
        Verdict::Linearizable(_) => ExitCode::SUCCESS,
        Verdict::NotLinearizable(_) => ExitCode::from(EXIT_FAILURE_FOUND),
        Verdict::Unknown(_) => ExitCode::from(EXIT_UNKNOWN),
    })
}
