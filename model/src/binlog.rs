//! The binlog: every write the primary executed, numbered by offset. Replicas copy it in order
//! and a replica that has applied offset `o` should hold exactly "the state after the first `o`
//! entries" — [`replay`] computes that.
//!
//! ```
//! use replsim_model::binlog::{replay, BinlogEntry, Offset};
//! use replsim_model::command::{Command, Db};
//! let binlog = vec![
//!     BinlogEntry { offset: Offset(1), command: Command::set(Db(0), "a", "1") },
//!     BinlogEntry { offset: Offset(2), command: Command::FlushDb { db: Db(0) } },
//! ];
//! assert_eq!(replay(&binlog, Offset(1)).len(), 1);
//! assert!(replay(&binlog, Offset(2)).is_empty());
//! ```

use std::collections::VecDeque;
use std::fmt;

use serde::{Deserialize, Serialize};

use crate::command::Command;
use crate::store::Store;

/// Position in the binlog: the number of entries up to and including this one. Offset 0 means
/// "nothing yet"; the first entry has offset 1.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Offset(pub u64);

impl Offset {
    pub const ZERO: Offset = Offset(0);

    pub fn next(self) -> Offset {
        Offset(self.0 + 1)
    }
}

impl fmt::Display for Offset {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(formatter, "{}", self.0)
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct BinlogEntry {
    pub offset: Offset,
    pub command: Command,
}

impl fmt::Display for BinlogEntry {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(formatter, "{} at offset {}", self.command, self.offset)
    }
}

/// Why an entry could not be appended: the binlog would get a gap or a repeat.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("binlog append out of order: expected offset {expected}, got {got}")]
pub struct OutOfOrder {
    pub expected: Offset,
    pub got: Offset,
}

/// A binlog with contiguous offsets, from which a prefix may have been purged (bounded
/// retention on the primary).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Binlog {
    /// Offset of the last entry purged (or of the snapshot the log starts after).
    purged_through: Offset,
    entries: VecDeque<BinlogEntry>,
}

impl Binlog {
    /// An empty binlog that continues after `offset`, as a replica's does after a full sync.
    pub fn starting_after(offset: Offset) -> Binlog {
        Binlog { purged_through: offset, entries: VecDeque::new() }
    }

    pub fn last_offset(&self) -> Offset {
        Offset(self.purged_through.0 + self.entries.len() as u64)
    }

    /// Offset of the last entry no longer held: entries after it can still be streamed.
    pub fn purged_through(&self) -> Offset {
        self.purged_through
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Appends a new write and returns the offset it was given (the primary's path).
    pub fn append(&mut self, command: Command) -> Offset {
        let offset = self.last_offset().next();
        self.entries.push_back(BinlogEntry { offset, command });
        offset
    }

    /// Appends an entry copied from another binlog (the replica's path); its offset must follow.
    pub fn append_entry(&mut self, entry: BinlogEntry) -> Result<(), OutOfOrder> {
        let expected = self.last_offset().next();
        if entry.offset != expected {
            return Err(OutOfOrder { expected, got: entry.offset });
        }
        self.entries.push_back(entry);
        Ok(())
    }

    /// Whether a reader that has everything up to `offset` can continue from this binlog.
    pub fn can_resume_after(&self, offset: Offset) -> bool {
        self.purged_through <= offset && offset <= self.last_offset()
    }

    /// Up to `count_max` entries following `offset`. Empty when `offset` is not resumable.
    pub fn entries_after(&self, offset: Offset, count_max: usize) -> Vec<BinlogEntry> {
        if !self.can_resume_after(offset) {
            return Vec::new();
        }
        let start = (offset.0 - self.purged_through.0) as usize;
        self.entries.range(start..).take(count_max).cloned().collect()
    }

    /// Forgets entries up to and including `offset` (bounded retention).
    pub fn purge_through(&mut self, offset: Offset) {
        while self.purged_through < offset && !self.entries.is_empty() {
            self.entries.pop_front();
            self.purged_through = self.purged_through.next();
        }
    }

    /// Forgets entries after `offset` (a replica losing its unsynced tail on restart).
    pub fn truncate_after(&mut self, offset: Offset) {
        let keep = offset.0.saturating_sub(self.purged_through.0) as usize;
        self.entries.truncate(keep);
    }

    pub fn iter(&self) -> impl Iterator<Item = &BinlogEntry> {
        self.entries.iter()
    }
}

/// The state after the first `offset` entries of a complete binlog (one starting at offset 1).
pub fn replay(binlog: &[BinlogEntry], offset: Offset) -> Store {
    let mut replay = Replay::new(binlog);
    replay.advance_to(offset);
    replay.into_store()
}

/// Incremental replay of a complete binlog: "the state after n entries" for increasing n without
/// starting over each time.
pub struct Replay<'binlog> {
    binlog: &'binlog [BinlogEntry],
    applied: usize,
    store: Store,
}

impl<'binlog> Replay<'binlog> {
    pub fn new(binlog: &'binlog [BinlogEntry]) -> Replay<'binlog> {
        debug_assert!(
            binlog.iter().enumerate().all(|(index, entry)| entry.offset.0 == index as u64 + 1),
            "a replayed binlog must be complete and contiguous from offset 1"
        );
        Replay { binlog, applied: 0, store: Store::default() }
    }

    pub fn offset(&self) -> Offset {
        Offset(self.applied as u64)
    }

    /// Replays forward to `offset` (clamped to the binlog's end). Never goes back.
    pub fn advance_to(&mut self, offset: Offset) -> &Store {
        let target = (offset.0 as usize).min(self.binlog.len());
        while self.applied < target {
            self.store.execute(&self.binlog[self.applied].command);
            self.applied += 1;
        }
        &self.store
    }

    pub fn store(&self) -> &Store {
        &self.store
    }

    pub fn into_store(self) -> Store {
        self.store
    }
}
