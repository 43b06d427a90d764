//! Necessary conditions checked before any search, in one pass over the history: answers no
//! order of the operations could produce. Each refutes in milliseconds at any size and names
//! the operations, where the search might spend its whole budget first.
//!
//! ```text
//! client 1  |--GET a -> 7--|                      a read returns 7 ...
//! client 2                    |--SET a 7--|       ... before anyone started writing 7
//! ```
//!
//! - a read of a value that no write (answered or not) could have produced before the read
//!   returned: every write of that value is called after the read returned, or there is none;
//! - a DEL answering that it deleted more keys than ever had a writer in its database.
//!
//! These only refute: passing them proves nothing, and the search decides.

use std::collections::{BTreeMap, BTreeSet};

use crate::check::SimTime;
use crate::command::{Command, Db, Response};
use crate::history::Operation;
use crate::linearizability::register::{RegisterInput, RegisterOutput};

/// Why a history is not linearizable, found without a search.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Refutation {
    /// The operation whose answer is impossible (history index).
    pub op: usize,
    /// Operations that explain it (e.g. the writes that came too late), history indices.
    pub related: Vec<usize>,
    pub reason: String,
}

/// The key-value model's conditions: reads of values not yet written, impossible DEL counts.
pub fn refute_kv(history: &[Operation<Command, Response>]) -> Option<Refutation> {
    // (db, key, value) -> (earliest call of a SET writing it, that SET's index).
    let mut first_write: BTreeMap<(Db, &str, &str), (SimTime, usize)> = BTreeMap::new();
    // (db, key) ever written by some SET.
    let mut written: BTreeSet<(Db, &str)> = BTreeSet::new();
    for (index, op) in history.iter().enumerate() {
        if let Command::Set { db, key, value } = &op.input {
            let earliest = first_write.entry((*db, key.as_str(), value.as_str())).or_insert((op.call, index));
            if op.call < earliest.0 {
                *earliest = (op.call, index);
            }
            written.insert((*db, key.as_str()));
        }
    }
    for (index, op) in history.iter().enumerate() {
        let (Some(output), Some(returned)) = (&op.output, op.returned) else { continue };
        match (&op.input, output) {
            (Command::Get { db, key }, Response::Value(Some(read))) => {
                let first = first_write.get(&(*db, key.as_str(), read.as_str())).copied();
                if let Some(refutation) = unexplained_read(index, returned, first, read, &format!(" to {key}")) {
                    return Some(refutation);
                }
            }
            (Command::Del { db, keys }, Response::Count(count)) => {
                let mut named: Vec<&str> = keys.iter().map(String::as_str).collect();
                named.sort_unstable();
                named.dedup();
                let deletable = named.iter().filter(|key| written.contains(&(*db, **key))).count() as u64;
                if *count > deletable {
                    return Some(Refutation {
                        op: index,
                        related: Vec::new(),
                        reason: format!(
                            "it deleted {count} key(s), but only {deletable} of the keys it names were ever written in {db}"
                        ),
                    });
                }
            }
            _ => {}
        }
    }
    None
}

/// The register models' condition: a read of a value no write or compare-and-set could have
/// produced before the read returned (the initial value aside).
pub fn refute_register(
    history: &[Operation<RegisterInput, RegisterOutput>],
    initial: Option<i64>,
) -> Option<Refutation> {
    let mut first_write: BTreeMap<i64, (SimTime, usize)> = BTreeMap::new();
    for (index, op) in history.iter().enumerate() {
        let written = match op.input {
            RegisterInput::Write(value) => value,
            RegisterInput::Cas { new, .. } => new,
            RegisterInput::Read => continue,
        };
        let earliest = first_write.entry(written).or_insert((op.call, index));
        if op.call < earliest.0 {
            *earliest = (op.call, index);
        }
    }
    for (index, op) in history.iter().enumerate() {
        let (Some(RegisterOutput::Read(read)), Some(returned)) = (&op.output, op.returned) else { continue };
        if initial == *read {
            continue;
        }
        let Some(read) = read else {
            return Some(Refutation {
                op: index,
                related: Vec::new(),
                reason: "it reads nil, but the register starts with a value and nothing can erase it".to_string(),
            });
        };
        if let Some(refutation) = unexplained_read(index, returned, first_write.get(read).copied(), read, "") {
            return Some(refutation);
        }
    }
    None
}

/// A read (operation `index`, returned at `returned`) of `read`, whose earliest writer is
/// `first_write` (its call and index): refuted if there is none, or if it was called only after
/// the read returned. `target` completes "wrote" in the reason (` to k2`).
fn unexplained_read(
    index: usize,
    returned: SimTime,
    first_write: Option<(SimTime, usize)>,
    read: &dyn std::fmt::Display,
    target: &str,
) -> Option<Refutation> {
    match first_write {
        None => Some(Refutation {
            op: index,
            related: Vec::new(),
            reason: format!("it reads {read}, a value no operation ever wrote{target}"),
        }),
        Some((call, write)) if call > returned => Some(Refutation {
            op: index,
            related: vec![write],
            reason: format!(
                "it returned {read} before any write of {read}{target} was called (the first, #{write}, at {})",
                call.0
            ),
        }),
        Some(_) => None,
    }
}
