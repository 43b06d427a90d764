//! A store diff that explains itself: for each differing key, both values and the binlog entries
//! that account for the difference.
//!
//! ```text
//! binlog:   3: SET a v3        5: FLUSHDB        (replica claims offset 5)
//! replica:  a = v3             reference after 5: a = nil
//! diff:     a=v3 (SET a v3 at offset 3) survives FLUSHDB at offset 5 on replica-1
//! ```
//!
//! "Offending" entry: the one whose effect is missing from the node's store. The first offending
//! entry of a diff is where the node stopped being a prefix of the primary.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::binlog::{BinlogEntry, Offset};
use crate::command::{Command, Db, Key, Value};
use crate::store::Store;

/// How the binlog accounts for one key's wrong value.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Explanation {
    /// The node kept a value that a later entry erased: the erasure ran before the write.
    Survived { write: Offset, erasure: Offset },
    /// The expected value is missing and earlier erasures exist: one of them ran after it. The
    /// candidates, most recent first: the nearest erasure of this key (DEL) and the nearest
    /// global one (FLUSHDB), when they exist — the store alone cannot say which ran late.
    ErasedLate { write: Offset, erasures: Vec<Offset> },
    /// The expected value is missing and nothing erased it: the write was never applied.
    NotApplied { write: Offset },
    /// The node holds an older value: the older write ran after the newer one.
    Stale { write_held: Offset, write_expected: Offset },
    /// The node holds a value written after the offset it claims to have applied.
    Ahead { write: Offset },
    /// The node holds a value no binlog entry wrote.
    NeverWritten,
}

impl Explanation {
    /// The entry whose effect the node is missing, if the binlog names one.
    pub fn offending_offset(&self) -> Option<Offset> {
        match self {
            Explanation::Survived { erasure, .. } => Some(*erasure),
            Explanation::ErasedLate { write, .. } | Explanation::NotApplied { write } => Some(*write),
            Explanation::Stale { write_expected, .. } => Some(*write_expected),
            Explanation::Ahead { write } => Some(*write),
            Explanation::NeverWritten => None,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyDiff {
    pub db: Db,
    pub key: Key,
    /// What the node holds.
    pub held: Option<Value>,
    /// What the reference replay holds.
    pub expected: Option<Value>,
    pub explanation: Explanation,
}

/// A node's store compared with the reference state after `offset` binlog entries.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoreDiff {
    pub node: String,
    pub offset: Offset,
    pub keys: Vec<KeyDiff>,
    /// The lowest offending entry over all keys: where the node stopped being a prefix.
    pub first_offending: Option<BinlogEntry>,
    /// The entries named by the key explanations, to render them without the binlog.
    pub cited: Vec<BinlogEntry>,
}

impl StoreDiff {
    /// Compares `held` with `expected` (the reference after `offset` entries of `binlog`).
    /// `None` when they are equal.
    pub fn between(
        node: &str,
        binlog: &[BinlogEntry],
        offset: Offset,
        held: &Store,
        expected: &Store,
    ) -> Option<StoreDiff> {
        // Equal stores are the common case at every idle point; skip the key-by-key walk.
        if held == expected {
            return None;
        }
        let differing = held.differing_keys(expected);
        if differing.is_empty() {
            return None;
        }
        let keys: Vec<KeyDiff> = differing
            .into_iter()
            .map(|(db, key)| {
                let held_value = held.get(db, &key).cloned();
                let expected_value = expected.get(db, &key).cloned();
                let explanation = explain(binlog, offset, db, &key, held_value.as_ref(), expected_value.as_ref());
                KeyDiff { db, key, held: held_value, expected: expected_value, explanation }
            })
            .collect();
        let mut cited: Vec<BinlogEntry> = keys
            .iter()
            .flat_map(|diff| cited_offsets(&diff.explanation))
            .filter_map(|offset| entry_at(binlog, offset).cloned())
            .collect();
        cited.sort_by_key(|entry| entry.offset);
        cited.dedup();
        let first_offending = keys
            .iter()
            .filter_map(|diff| diff.explanation.offending_offset())
            .min()
            .and_then(|offset| entry_at(binlog, offset).cloned());
        Some(StoreDiff { node: node.to_string(), offset, keys, first_offending, cited })
    }

    fn cited(&self, offset: Offset) -> String {
        match self.cited.iter().find(|entry| entry.offset == offset) {
            Some(entry) => entry.to_string(),
            None => format!("entry at offset {offset}"),
        }
    }

    /// One line per key, e.g. `a=v3 (SET a v3 at offset 3) survives FLUSHDB at offset 5 on replica-1`.
    pub fn describe_key(&self, diff: &KeyDiff) -> String {
        let node = &self.node;
        let key = qualified(diff.db, &diff.key);
        let held = diff.held.as_deref().unwrap_or("nil");
        let expected = diff.expected.as_deref().unwrap_or("nil");
        match &diff.explanation {
            Explanation::Survived { write, erasure } => {
                format!("{key}={held} ({}) survives {} on {node}", self.cited(*write), self.cited(*erasure))
            }
            Explanation::ErasedLate { write, erasures } => format!(
                "{key} missing on {node}, expected {expected} ({}): erased by {}, which {} it",
                self.cited(*write),
                erasures.iter().map(|erasure| self.cited(*erasure)).collect::<Vec<_>>().join(" or "),
                if erasures.len() == 1 { "precedes" } else { "precede" }
            ),
            Explanation::NotApplied { write } => {
                format!("{key} missing on {node}, expected {expected} ({}): never applied", self.cited(*write))
            }
            Explanation::Stale { write_held, write_expected } => format!(
                "{key}={held} ({}) on {node}, expected {expected} ({}): the older write won",
                self.cited(*write_held),
                self.cited(*write_expected)
            ),
            Explanation::Ahead { write } => {
                format!("{key}={held} ({}) on {node}, which claims only offset {}", self.cited(*write), self.offset)
            }
            Explanation::NeverWritten => {
                format!("{key}={held} on {node}, expected {expected}: no binlog entry writes {held}")
            }
        }
    }
}

impl fmt::Display for StoreDiff {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            formatter,
            "{} differs from the primary's binlog replayed to offset {} in {} key(s)",
            self.node,
            self.offset,
            self.keys.len()
        )?;
        if let Some(entry) = &self.first_offending {
            write!(formatter, "; first offending entry: {entry}")?;
        }
        for diff in &self.keys {
            write!(formatter, "\n  {}", self.describe_key(diff))?;
        }
        Ok(())
    }
}

fn qualified(db: Db, key: &str) -> String {
    if db == Db(0) {
        key.to_string()
    } else {
        format!("{db}:{key}")
    }
}

fn cited_offsets(explanation: &Explanation) -> Vec<Offset> {
    match explanation {
        Explanation::Survived { write, erasure } => vec![*write, *erasure],
        Explanation::ErasedLate { write, erasures } => {
            std::iter::once(*write).chain(erasures.iter().copied()).collect()
        }
        Explanation::NotApplied { write } | Explanation::Ahead { write } => vec![*write],
        Explanation::Stale { write_held, write_expected } => vec![*write_held, *write_expected],
        Explanation::NeverWritten => Vec::new(),
    }
}

fn entry_at(binlog: &[BinlogEntry], offset: Offset) -> Option<&BinlogEntry> {
    let index = usize::try_from(offset.0).ok()?.checked_sub(1)?;
    binlog.get(index).filter(|entry| entry.offset == offset)
}

fn writes_value(command: &Command, db: Db, key: &str, value: &str) -> bool {
    matches!(command, Command::Set { db: set_db, key: set_key, value: set_value }
        if *set_db == db && set_key == key && set_value == value)
}

fn erases(command: &Command, db: Db, key: &str) -> bool {
    command.touches(db, key) && !matches!(command, Command::Set { .. })
}

/// Accounts for one key's difference from the binlog's entries up to `through`.
fn explain(
    binlog: &[BinlogEntry],
    through: Offset,
    db: Db,
    key: &str,
    held: Option<&Value>,
    expected: Option<&Value>,
) -> Explanation {
    let upto = binlog.iter().take_while(|entry| entry.offset <= through);
    let touching: Vec<&BinlogEntry> = upto.filter(|entry| entry.command.touches(db, key)).collect();
    let last_write_of = |value: &str| {
        touching.iter().rev().find(|entry| writes_value(&entry.command, db, key, value)).map(|entry| entry.offset)
    };
    let held_write = held.and_then(|value| last_write_of(value));
    let expected_write = expected.and_then(|value| last_write_of(value));

    if let (Some(value), None) = (held, held_write) {
        // Not written up to `through`: written later, or never.
        return binlog
            .iter()
            .find(|entry| entry.offset > through && writes_value(&entry.command, db, key, value))
            .map_or(Explanation::NeverWritten, |entry| Explanation::Ahead { write: entry.offset });
    }
    match (held_write, expected_write) {
        (Some(write), None) => {
            let erasure = touching
                .iter()
                .find(|entry| entry.offset > write && erases(&entry.command, db, key))
                .map(|entry| entry.offset);
            match erasure {
                Some(erasure) => Explanation::Survived { write, erasure },
                // Unreachable for a reference replay: a write not followed by an erasure is held.
                None => Explanation::NeverWritten,
            }
        }
        (None, Some(write)) => {
            let nearest_erasure = |global: bool| {
                touching
                    .iter()
                    .rev()
                    .find(|entry| {
                        entry.offset < write && erases(&entry.command, db, key) && entry.command.is_global() == global
                    })
                    .map(|entry| entry.offset)
            };
            let mut erasures: Vec<Offset> =
                [nearest_erasure(false), nearest_erasure(true)].into_iter().flatten().collect();
            erasures.sort_by(|left, right| right.cmp(left));
            if erasures.is_empty() {
                Explanation::NotApplied { write }
            } else {
                Explanation::ErasedLate { write, erasures }
            }
        }
        // The expected value comes from the last write up to `through`, so a different held
        // value comes from an earlier one.
        (Some(write_held), Some(write_expected)) => Explanation::Stale { write_held, write_expected },
        (None, None) => Explanation::NeverWritten,
    }
}
