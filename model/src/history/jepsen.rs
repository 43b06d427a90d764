//! Jepsen-style histories, where the order of the lines is the order of time: each operation is
//! an `:invoke` followed later by its process's `:ok`, `:fail` or `:info`.
//!
//! ```text
//! 0  :invoke  :write  3          client 0 calls write 3
//! 1  :invoke  :read   nil
//! 0  :ok      :write  3          ...and it returns: it took effect in between
//! 1  :info    :read   :timed-out client 1 never learns: indeterminate
//! ```
//!
//! `:fail` means the operation certainly did not take effect: it is dropped. `:info` (and an
//! invocation never completed) means it may or may not have: it gets no return time. Two forms
//! are read: Porcupine's etcd logs (`INFO  jepsen.util - 0\t:invoke\t:read\tnil`) and EDN
//! maps (`{:process 0, :type :invoke, :f :read, :value nil}`, one per line or in one vector).

use super::edn::{parse_forms, Edn};
use super::ReadError;
use crate::check::SimTime;
use crate::history::Operation;
use crate::linearizability::porcupine_kv::{KvInput, KvOutput};
use crate::linearizability::register::{RegisterInput, RegisterOutput};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EventKind {
    Invoke,
    Ok,
    Fail,
    Info,
}

/// One line of a Jepsen history.
#[derive(Clone, Debug, PartialEq)]
pub struct Event {
    pub line: usize,
    pub process: i64,
    pub kind: EventKind,
    pub f: String,
    pub key: Option<Edn>,
    pub value: Edn,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Completion {
    /// Returned at this position in the history with this value.
    Ok { at: u64, value: Edn },
    /// Certainly not applied.
    Failed,
    /// Maybe applied (`:info`, or never completed).
    Indeterminate,
}

/// An invocation paired with its completion.
#[derive(Clone, Debug, PartialEq)]
pub struct JepsenOp {
    pub line: usize,
    pub process: i64,
    pub f: String,
    pub key: Option<Edn>,
    pub value: Edn,
    /// Position of the invocation in the history (its time).
    pub call: u64,
    pub completion: Completion,
}

/// Reads Porcupine's etcd log lines: `... - PROCESS <tab> :TYPE <tab> :F <tab> VALUE`.
pub fn read_etcd_log(file: &str, text: &str) -> Result<Vec<Event>, ReadError> {
    let mut events = Vec::new();
    for (index, raw_line) in text.lines().enumerate() {
        let line = index + 1;
        let problem = |problem: String| ReadError::new(file, line, problem);
        if raw_line.trim().is_empty() {
            continue;
        }
        let body = raw_line.split_once(" - ").map_or(raw_line, |(_, body)| body);
        let mut fields = body.split_whitespace();
        let (Some(process), Some(kind), Some(f)) = (fields.next(), fields.next(), fields.next()) else {
            return Err(problem(format!("truncated line: expected 'PROCESS :TYPE :F VALUE', got '{raw_line}'")));
        };
        let value_text = fields.collect::<Vec<_>>().join(" ");
        if value_text.is_empty() {
            return Err(problem("truncated line: no value".to_string()));
        }
        let process = process.parse::<i64>().map_err(|_| problem(format!("bad process '{process}'")))?;
        let kind = event_kind(kind.strip_prefix(':').unwrap_or(kind))
            .ok_or_else(|| problem(format!("unknown type '{kind}'")))?;
        let f = f.strip_prefix(':').ok_or_else(|| problem(format!("expected an op keyword, got '{f}'")))?;
        let value = match parse_forms(&value_text) {
            Ok(forms) if forms.len() == 1 => forms.into_iter().next().expect("one form").value,
            Ok(_) => return Err(problem(format!("expected one value, got '{value_text}'"))),
            Err(error) => return Err(problem(error.problem)),
        };
        events.push(Event { line, process, kind, f: f.to_string(), key: None, value });
    }
    Ok(events)
}

/// Reads EDN op maps: one vector of maps, or maps one after another. Ops of non-numeric
/// processes (the nemesis) are skipped.
pub fn read_edn(file: &str, text: &str) -> Result<Vec<Event>, ReadError> {
    let forms = parse_forms(text).map_err(|error| ReadError::new(file, error.line, error.problem))?;
    let mut maps: Vec<(usize, Edn)> = Vec::new();
    for form in forms {
        match form.value {
            Edn::Vector(items) | Edn::List(items) => maps.extend(form.element_lines.into_iter().zip(items)),
            value => maps.push((form.line, value)),
        }
    }
    let mut events = Vec::with_capacity(maps.len());
    for (line, map) in maps {
        let problem = |problem: String| ReadError::new(file, line, problem);
        if !matches!(map, Edn::Map(_)) {
            return Err(problem(format!("expected an op map, got {map}")));
        }
        let process = match map.get_keyword("process") {
            Some(Edn::Integer(process)) => *process,
            Some(Edn::Keyword(_)) => continue,
            Some(other) => return Err(problem(format!("bad :process {other}"))),
            None => return Err(problem("op map without :process".to_string())),
        };
        let kind = match map.get_keyword("type") {
            Some(Edn::Keyword(kind)) => event_kind(kind).ok_or_else(|| problem(format!("unknown :type :{kind}")))?,
            Some(other) => return Err(problem(format!("bad :type {other}"))),
            None => return Err(problem("op map without :type".to_string())),
        };
        let f = match map.get_keyword("f") {
            Some(Edn::Keyword(f) | Edn::String(f) | Edn::Symbol(f)) => f.clone(),
            Some(other) => return Err(problem(format!("bad :f {other}"))),
            None => return Err(problem("op map without :f".to_string())),
        };
        let key = map.get_keyword("key").cloned();
        let value = map.get_keyword("value").cloned().unwrap_or(Edn::Nil);
        events.push(Event { line, process, kind, f, key, value });
    }
    Ok(events)
}

fn event_kind(name: &str) -> Option<EventKind> {
    match name {
        "invoke" => Some(EventKind::Invoke),
        "ok" => Some(EventKind::Ok),
        "fail" => Some(EventKind::Fail),
        "info" => Some(EventKind::Info),
        _ => None,
    }
}

/// Pairs each invocation with its process's next completion; the position in the history is
/// the time.
pub fn pair(file: &str, events: &[Event]) -> Result<Vec<JepsenOp>, ReadError> {
    let mut ops: Vec<JepsenOp> = Vec::new();
    // Per process: the index in `ops` of its open invocation.
    let mut open: std::collections::BTreeMap<i64, usize> = std::collections::BTreeMap::new();
    for (position, event) in events.iter().enumerate() {
        let problem = |problem: String| ReadError::new(file, event.line, problem);
        if event.kind == EventKind::Invoke {
            if let Some(&previous) = open.get(&event.process) {
                return Err(problem(format!(
                    "process {} invokes :{} before its :{} (line {}) completed",
                    event.process, event.f, ops[previous].f, ops[previous].line
                )));
            }
            open.insert(event.process, ops.len());
            ops.push(JepsenOp {
                line: event.line,
                process: event.process,
                f: event.f.clone(),
                key: event.key.clone(),
                value: event.value.clone(),
                call: position as u64,
                completion: Completion::Indeterminate,
            });
            continue;
        }
        let Some(index) = open.remove(&event.process) else {
            return Err(problem(format!(
                "unmatched return: process {} completes :{} with no open invocation",
                event.process, event.f
            )));
        };
        let op = &mut ops[index];
        if op.f != event.f {
            return Err(problem(format!(
                "process {} completes :{} but invoked :{} (line {})",
                event.process, event.f, op.f, op.line
            )));
        }
        op.completion = match event.kind {
            EventKind::Ok => Completion::Ok { at: position as u64, value: event.value.clone() },
            EventKind::Fail => Completion::Failed,
            EventKind::Info | EventKind::Invoke => Completion::Indeterminate,
        };
    }
    Ok(ops)
}

/// Register histories (Jepsen etcd): `:read`, `:write v`, and `:cas [expected new]` when
/// `allows_cas`.
pub fn to_register_history(
    file: &str,
    ops: &[JepsenOp],
    allows_cas: bool,
) -> Result<Vec<Operation<RegisterInput, RegisterOutput>>, ReadError> {
    let mut history = Vec::with_capacity(ops.len());
    for op in ops {
        let problem = |problem: String| ReadError::new(file, op.line, problem);
        let input = match (op.f.as_str(), &op.value) {
            ("read", _) => RegisterInput::Read,
            ("write", Edn::Integer(value)) => RegisterInput::Write(*value),
            ("cas", Edn::Vector(pair)) if allows_cas => match pair.as_slice() {
                [Edn::Integer(expected), Edn::Integer(new)] => RegisterInput::Cas { expected: *expected, new: *new },
                _ => return Err(problem(format!("bad :cas value {}", op.value))),
            },
            ("write", value) => return Err(problem(format!("bad :write value {value}"))),
            (f, _) => {
                let model = if allows_cas { "cas-register" } else { "register" };
                return Err(problem(format!("unknown op :{f} for model {model}")));
            }
        };
        let Some((returned, output)) = completed_output(op, |value| match (&input, value) {
            (RegisterInput::Read, Edn::Nil) => Ok(RegisterOutput::Read(None)),
            (RegisterInput::Read, Edn::Integer(read)) => Ok(RegisterOutput::Read(Some(*read))),
            (RegisterInput::Read, other) => Err(format!("bad :read result {other}")),
            _ => Ok(RegisterOutput::Ok),
        })
        .map_err(problem)?
        else {
            continue;
        };
        history.push(Operation { client: op.process as u64, call: SimTime(op.call), returned, input, output });
    }
    Ok(history)
}

/// Porcupine kv histories: `:get`, `:put`, `:append` with a `:key`; values are strings.
pub fn to_porcupine_kv_history(file: &str, ops: &[JepsenOp]) -> Result<Vec<Operation<KvInput, KvOutput>>, ReadError> {
    let mut history = Vec::with_capacity(ops.len());
    for op in ops {
        let problem = |problem: String| ReadError::new(file, op.line, problem);
        let key = match &op.key {
            Some(Edn::String(key)) => key.clone(),
            Some(Edn::Nil) | None => return Err(problem(format!(":{} without a :key", op.f))),
            Some(other) => other.to_string(),
        };
        let value = match &op.value {
            Edn::String(value) => value.clone(),
            Edn::Nil => String::new(),
            other => other.to_string(),
        };
        let input = match op.f.as_str() {
            "get" => KvInput::Get { key },
            "put" => KvInput::Put { key, value },
            "append" => KvInput::Append { key, value },
            f => return Err(problem(format!("unknown op :{f} for model porcupine-kv"))),
        };
        let Some((returned, output)) = completed_output(op, |value| match (&input, value) {
            (KvInput::Get { .. }, Edn::String(read)) => Ok(KvOutput::Value(read.clone())),
            (KvInput::Get { .. }, Edn::Nil) => Ok(KvOutput::Value(String::new())),
            (KvInput::Get { .. }, other) => Err(format!("bad :get result {other}")),
            _ => Ok(KvOutput::Ok),
        })
        .map_err(problem)?
        else {
            continue;
        };
        history.push(Operation { client: op.process as u64, call: SimTime(op.call), returned, input, output });
    }
    Ok(history)
}

/// `None`: the op failed and is dropped. Otherwise its return time and output, both absent for
/// an indeterminate op.
#[allow(clippy::type_complexity)]
fn completed_output<Output>(
    op: &JepsenOp,
    output_of: impl Fn(&Edn) -> Result<Output, String>,
) -> Result<Option<(Option<SimTime>, Option<Output>)>, String> {
    Ok(match &op.completion {
        Completion::Failed => None,
        Completion::Indeterminate => Some((None, None)),
        Completion::Ok { at, value } => Some((Some(SimTime(*at)), Some(output_of(value)?))),
    })
}
