//! replsim's own history format: one JSON [`Operation`] per line, in any order.
//!
//! ```
//! use replsim_model::check::SimTime;
//! use replsim_model::command::{Command, Db, Response};
//! use replsim_model::history::{jsonl, Operation};
//! let history = vec![Operation {
//!     client: 1, call: SimTime(5), returned: Some(SimTime(9)),
//!     input: Command::set(Db(0), "a", "1"), output: Some(Response::Ok),
//! }];
//! let mut text = Vec::new();
//! jsonl::write(&mut text, &history).unwrap();
//! let read: Vec<Operation<Command, Response>> = jsonl::read("mem", std::str::from_utf8(&text).unwrap()).unwrap();
//! assert_eq!(read, history);
//! ```

use std::io::{self, Write};

use serde::de::DeserializeOwned;
use serde::Serialize;

use super::{Operation, ReadError, UnknownFields};
use crate::check::SimTime;

/// [`Operation`] with every field name checked: a misspelt `returned` must not turn a stale
/// read into an operation that never returned.
#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct StrictOperation<I, O> {
    client: u64,
    call: SimTime,
    returned: Option<SimTime>,
    input: I,
    output: Option<O>,
}

pub fn write<I: Serialize, O: Serialize>(writer: &mut impl Write, history: &[Operation<I, O>]) -> io::Result<()> {
    for op in history {
        serde_json::to_writer(&mut *writer, op)?;
        writer.write_all(b"\n")?;
    }
    Ok(())
}

/// Reads every line, rejecting fields an [`Operation`] does not have.
pub fn read<I: DeserializeOwned, O: DeserializeOwned>(
    file: &str,
    text: &str,
) -> Result<Vec<Operation<I, O>>, ReadError> {
    read_with(file, text, UnknownFields::Reject)
}

pub fn read_with<I: DeserializeOwned, O: DeserializeOwned>(
    file: &str,
    text: &str,
    unknown_fields: UnknownFields,
) -> Result<Vec<Operation<I, O>>, ReadError> {
    let mut history = Vec::new();
    for (index, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let problem = |problem: String| ReadError::new(file, index + 1, problem);
        let explain = |error: serde_json::Error| {
            let kind = if error.is_eof() { "truncated line" } else { "not a JSON operation" };
            problem(format!("{kind}: {error}"))
        };
        let op: Operation<I, O> = match unknown_fields {
            UnknownFields::Ignore => serde_json::from_str(line).map_err(explain)?,
            UnknownFields::Reject => {
                let StrictOperation { client, call, returned, input, output } =
                    serde_json::from_str(line).map_err(explain)?;
                Operation { client, call, returned, input, output }
            }
        };
        if op.returned.is_some() != op.output.is_some() {
            return Err(problem("an operation has an output exactly when it has a return time".to_string()));
        }
        if op.returned.is_some_and(|returned| returned < op.call) {
            return Err(problem("returns before it is called".to_string()));
        }
        history.push(op);
    }
    Ok(history)
}
