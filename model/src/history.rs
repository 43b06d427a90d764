//! Client histories: what each client asked, when, and what it was told.
//!
//! ```text
//! client 1  |--SET a 1--|            |--GET a -> 1--|
//! client 2        |--FLUSHDB--|   |--GET a -> nil ... (never returned)
//!           call            return
//! ```
//!
//! An operation whose return never arrived (a crashed client, a timeout) has `returned: None`: it
//! may or may not have taken effect, at any time after its call.
//!
//! Histories are read from files by [`read_register_history`], [`read_porcupine_kv_history`]
//! and [`read_kv_history`]: Jepsen's line-ordered formats ([`jepsen`], [`edn`]) and replsim's
//! own JSON lines ([`jsonl`]).

pub mod edn;
pub mod jepsen;
pub mod jsonl;

use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::check::SimTime;
use crate::command::{Command, Response};
use crate::linearizability::porcupine_kv::{KvInput, KvOutput};
use crate::linearizability::register::{RegisterInput, RegisterOutput};

/// One client operation of a history with inputs `I` and outputs `O`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Operation<I, O> {
    pub client: u64,
    pub call: SimTime,
    /// `None`: no answer reached the client; the operation's effect is indeterminate.
    pub returned: Option<SimTime>,
    pub input: I,
    /// Present exactly when `returned` is.
    pub output: Option<O>,
}

impl<I, O> Operation<I, O> {
    pub fn is_complete(&self) -> bool {
        self.returned.is_some()
    }
}

/// A history file that cannot be read: which file, which line, what is wrong.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{file}:{line}: {problem}")]
pub struct ReadError {
    pub file: String,
    /// 1-based.
    pub line: usize,
    pub problem: String,
}

impl ReadError {
    pub fn new(file: &str, line: usize, problem: impl Into<String>) -> ReadError {
        ReadError { file: file.to_string(), line, problem: problem.into() }
    }
}

/// How a history file is written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HistoryFormat {
    /// Decide from the first non-blank line.
    Auto,
    /// Porcupine's etcd logs: `INFO  jepsen.util - 0\t:invoke\t:read\tnil`.
    EtcdLog,
    /// Jepsen EDN op maps (Porcupine's kv files are this).
    Edn,
    /// replsim's JSON lines.
    Jsonl,
}

impl FromStr for HistoryFormat {
    type Err = String;

    fn from_str(name: &str) -> Result<HistoryFormat, String> {
        match name {
            "auto" => Ok(HistoryFormat::Auto),
            "etcd" => Ok(HistoryFormat::EtcdLog),
            "edn" | "porcupine-kv" => Ok(HistoryFormat::Edn),
            "jsonl" => Ok(HistoryFormat::Jsonl),
            other => Err(format!("unknown format '{other}' (known: auto, etcd, edn, porcupine-kv, jsonl)")),
        }
    }
}

/// What to do with a field of a JSON operation that replsim does not know (JSON lines only:
/// Jepsen's EDN maps carry many fields the checker has no use for).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum UnknownFields {
    /// An error naming file and line: a misspelt field must not change the verdict silently.
    #[default]
    Reject,
    Ignore,
}

/// How to read a history file. A bare [`HistoryFormat`] converts into one that rejects unknown
/// fields.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ReadOptions {
    pub format: HistoryFormat,
    pub unknown_fields: UnknownFields,
}

impl From<HistoryFormat> for ReadOptions {
    fn from(format: HistoryFormat) -> ReadOptions {
        ReadOptions { format, unknown_fields: UnknownFields::Reject }
    }
}

/// The file's bytes as text, or the line of its first byte that is not UTF-8. A leading UTF-8
/// byte-order mark is skipped.
pub fn decode_utf8<'bytes>(file: &str, bytes: &'bytes [u8]) -> Result<&'bytes str, ReadError> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    std::str::from_utf8(bytes).map_err(|error| {
        let valid = &bytes[..error.valid_up_to()];
        let line = valid.iter().filter(|&&byte| byte == b'\n').count() + 1;
        ReadError::new(file, line, format!("not UTF-8 (byte offset {})", error.valid_up_to()))
    })
}

fn resolve(format: HistoryFormat, text: &str) -> HistoryFormat {
    if format != HistoryFormat::Auto {
        return format;
    }
    let first = text.lines().map(str::trim_start).find(|line| !line.is_empty()).unwrap_or("");
    if first.starts_with("{\"") {
        HistoryFormat::Jsonl
    } else if first.starts_with('{') || first.starts_with('[') || first.starts_with('(') || first.starts_with(';') {
        HistoryFormat::Edn
    } else {
        HistoryFormat::EtcdLog
    }
}

fn read_jepsen(file: &str, text: &str, format: HistoryFormat) -> Result<Vec<jepsen::JepsenOp>, ReadError> {
    let events = match format {
        HistoryFormat::Edn => jepsen::read_edn(file, text)?,
        _ => jepsen::read_etcd_log(file, text)?,
    };
    jepsen::pair(file, &events)
}

/// A register history (`allows_cas`: a CAS register, as in Jepsen's etcd test).
pub fn read_register_history(
    file: &str,
    bytes: &[u8],
    options: impl Into<ReadOptions>,
    allows_cas: bool,
) -> Result<Vec<Operation<RegisterInput, RegisterOutput>>, ReadError> {
    let options = options.into();
    let text = decode_utf8(file, bytes)?;
    match resolve(options.format, text) {
        HistoryFormat::Jsonl => jsonl::read_with(file, text, options.unknown_fields),
        format => jepsen::to_register_history(file, &read_jepsen(file, text, format)?, allows_cas),
    }
}

/// A Porcupine kv history (get / put / append).
pub fn read_porcupine_kv_history(
    file: &str,
    bytes: &[u8],
    options: impl Into<ReadOptions>,
) -> Result<Vec<Operation<KvInput, KvOutput>>, ReadError> {
    let options = options.into();
    let text = decode_utf8(file, bytes)?;
    match resolve(options.format, text) {
        HistoryFormat::Jsonl => jsonl::read_with(file, text, options.unknown_fields),
        format => jepsen::to_porcupine_kv_history(file, &read_jepsen(file, text, format)?),
    }
}

/// A replsim key-value history, written by [`jsonl::write`]. A file with no operations (empty
/// or blank) is the empty history, as under every model.
pub fn read_kv_history(
    file: &str,
    bytes: &[u8],
    options: impl Into<ReadOptions>,
) -> Result<Vec<Operation<Command, Response>>, ReadError> {
    let options = options.into();
    let text = decode_utf8(file, bytes)?;
    if text.trim().is_empty() {
        return Ok(Vec::new());
    }
    match resolve(options.format, text) {
        HistoryFormat::Jsonl => jsonl::read_with(file, text, options.unknown_fields),
        _ => Err(ReadError::new(file, 1, "replsim key-value histories are JSON lines (--format jsonl)")),
    }
}
