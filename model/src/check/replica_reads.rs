//! Reads served by replicas: each must return the key's value after *some* prefix of the
//! primary's binlog, and the prefixes one client session sees must never go backwards.
//!
//! ```text
//! binlog:   1:SET a 1   2:SET a 2   3:FLUSHDB   4:SET a 4
//! a after:      1           2          nil          4
//! session:  GET a -> 2 (prefix >= 2)  GET a -> nil (>= 3)  GET a -> 2   <- backwards: violation
//! ```
//!
//! Each session is checked greedily: a read takes the *earliest* prefix at or after the
//! previous read's that explains it. Taking the earliest never hurts later reads (any later
//! prefix stays available), so a violation found this way is real.
//!
//! ```
//! use replsim_model::binlog::{BinlogEntry, Offset};
//! use replsim_model::check::SimTime;
//! use replsim_model::command::{Command, Db, Response, Value};
//! use replsim_model::history::Operation;
//! use replsim_model::check::replica_reads::check_replica_reads;
//! let binlog = vec![
//!     BinlogEntry { offset: Offset(1), command: Command::set(Db(0), "a", "1") },
//!     BinlogEntry { offset: Offset(2), command: Command::FlushDb { db: Db(0) } },
//! ];
//! let read = |call, value: Option<&str>| Operation {
//!     client: 7, call: SimTime(call), returned: Some(SimTime(call + 1)),
//!     input: Command::get(Db(0), "a"), output: Some(Response::Value(value.map(Value::from))),
//! };
//! assert!(check_replica_reads(&binlog, &[read(0, Some("1")), read(5, None)]).is_empty());
//! assert_eq!(check_replica_reads(&binlog, &[read(0, None), read(5, Some("1"))]).len(), 0, "nil before offset 1 is fine");
//! assert_eq!(check_replica_reads(&binlog, &[read(0, Some("1")), read(5, None), read(9, Some("1"))]).len(), 1);
//! ```

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};

use crate::binlog::{BinlogEntry, Offset};
use crate::command::{Command, Db, Key, Response, Value};
use crate::history::Operation;

/// A replica read no binlog prefix (at or after the session's last) explains.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReplicaReadViolation {
    /// Index of the read in the checked slice.
    pub read: usize,
    pub client: u64,
    pub db: Db,
    pub key: Key,
    pub value: Option<Value>,
    /// The earliest prefix the session could still be at.
    pub session_offset: Offset,
    /// Whether some earlier prefix has the value: the session went backwards.
    pub seen_at_earlier_offset: Option<Offset>,
}

impl fmt::Display for ReplicaReadViolation {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        let value = self.value.as_deref().unwrap_or("nil");
        write!(
            formatter,
            "client {} read {} -> {value} (read #{}), which no binlog prefix at or after offset {} gives",
            self.client,
            Command::get(self.db, self.key.clone()),
            self.read,
            self.session_offset
        )?;
        match self.seen_at_earlier_offset {
            Some(offset) => write!(formatter, "; it was the value at offset {offset}: the session went backwards"),
            None => write!(formatter, "; no prefix of the binlog ever held it"),
        }
    }
}

/// Per key: the offsets where its value changed and the value from there on, starting with
/// `(0, nil)`.
type Changes = Vec<(Offset, Option<Value>)>;

fn changes_by_key(binlog: &[BinlogEntry]) -> BTreeMap<(Db, Key), Changes> {
    let mut changes: BTreeMap<(Db, Key), Changes> = BTreeMap::new();
    let mut present: BTreeMap<(Db, Key), ()> = BTreeMap::new();
    let record = |changes: &mut BTreeMap<(Db, Key), Changes>, key: (Db, Key), offset: Offset, value: Option<Value>| {
        changes.entry(key).or_insert_with(|| vec![(Offset::ZERO, None)]).push((offset, value));
    };
    for entry in binlog {
        match &entry.command {
            Command::Get { .. } => {}
            Command::Set { db, key, value } => {
                present.insert((*db, key.clone()), ());
                record(&mut changes, (*db, key.clone()), entry.offset, Some(value.clone()));
            }
            Command::Del { db, keys } => {
                for key in keys {
                    if present.remove(&(*db, key.clone())).is_some() {
                        record(&mut changes, (*db, key.clone()), entry.offset, None);
                    }
                }
            }
            Command::FlushDb { .. } | Command::FlushAll { .. } => {
                let flushed: Vec<(Db, Key)> =
                    present.keys().filter(|(db, key)| entry.command.touches(*db, key)).cloned().collect();
                for key in flushed {
                    present.remove(&key);
                    record(&mut changes, key, entry.offset, None);
                }
            }
        }
    }
    changes
}

/// Checks every answered GET in `reads` (other operations are ignored). Sessions are clients;
/// a session's reads are taken in call order.
pub fn check_replica_reads(
    binlog: &[BinlogEntry],
    reads: &[Operation<Command, Response>],
) -> Vec<ReplicaReadViolation> {
    let changes = changes_by_key(binlog);
    let never_changed: Changes = vec![(Offset::ZERO, None)];
    let mut sessions: BTreeMap<u64, Vec<usize>> = BTreeMap::new();
    for (index, op) in reads.iter().enumerate() {
        if matches!(op.input, Command::Get { .. }) && op.output.is_some() {
            sessions.entry(op.client).or_default().push(index);
        }
    }
    let mut violations = Vec::new();
    for (client, mut indices) in sessions {
        indices.sort_by_key(|&index| (reads[index].call, index));
        let mut session_offset = Offset::ZERO;
        for index in indices {
            let op = &reads[index];
            let (Command::Get { db, key }, Some(Response::Value(value))) = (&op.input, &op.output) else { continue };
            let key_changes = changes.get(&(*db, key.clone())).unwrap_or(&never_changed);
            // The change in force at the session's offset, then every later one.
            let in_force = key_changes.partition_point(|(offset, _)| *offset <= session_offset) - 1;
            let explained = key_changes[in_force..].iter().find(|(_, held)| held == value);
            match explained {
                Some((offset, _)) => session_offset = session_offset.max(*offset),
                None => violations.push(ReplicaReadViolation {
                    read: index,
                    client,
                    db: *db,
                    key: key.clone(),
                    value: value.clone(),
                    session_offset,
                    seen_at_earlier_offset: key_changes[..in_force]
                        .iter()
                        .rev()
                        .find(|(_, held)| held == value)
                        .map(|(offset, _)| *offset),
                }),
            }
        }
    }
    violations
}
