//! Planted bugs: each [`Bug`] plants one known defect in the system under test, so the harness's
//! power can be measured (its mutation score). `None` — the default — is the correct system.
//!
//! ```
//! use replsim_sim::bug::Bug;
//! let bug: Bug = "flushall-one-entry".parse().unwrap();
//! assert_eq!(bug, Bug::FlushAllOneEntry);
//! assert_eq!(bug.to_string(), "flushall-one-entry");
//! assert_eq!(Bug::ALL.len(), 10);
//! ```
//!
//! Where each one lives:
//!
//! | bug | node | what goes wrong |
//! |---|---|---|
//! | flushdb-by-key | replica | a global command is hashed to one worker like a keyed write (Pika #2708) |
//! | multi-key-del-by-first-key | primary | `DEL k1 k2` logged as one entry, dispatched by `k1` only (Pika #1638) |
//! | flushall-one-entry | primary | FLUSHALL logged as one entry in the selected db, not one FLUSHDB per db (Pika #2846) |
//! | ack-before-apply | replica | the ack claims entries applied as soon as they are received |
//! | tsync-off-by-one | primary | TrySync continues after `offset + 1`, skipping one entry |
//! | duplicate-apply-on-resend | replica | an entry re-sent by the primary is applied again |
//! | snapshot-offset-mismatch | primary | a full sync announces `offset - 1` for a store that reflects `offset` |
//! | drop-entries-on-reconnect | replica | on reconnect, entries queued for the apply workers are discarded |
//! | primary-stale-read | primary | GET is answered from a read cache refreshed only every 8 writes |
//! | replica-read-ignores-select | replica | a read served by a replica looks in db 0, whatever the client SELECTed |
//!
//! The last two never touch replicated state: prefix consistency, convergence and the SUT
//! invariants cannot see them, only the checks that judge what clients were told
//! (linearizability of the primary's replies, and replica reads).

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Bug {
    FlushDbByKey,
    MultiKeyDelByFirstKey,
    FlushAllOneEntry,
    AckBeforeApply,
    TsyncOffByOne,
    DuplicateApplyOnResend,
    SnapshotOffsetMismatch,
    DropEntriesOnReconnect,
    PrimaryStaleRead,
    ReplicaReadIgnoresSelect,
}

impl Bug {
    pub const ALL: [Bug; 10] = [
        Bug::FlushDbByKey,
        Bug::MultiKeyDelByFirstKey,
        Bug::FlushAllOneEntry,
        Bug::AckBeforeApply,
        Bug::TsyncOffByOne,
        Bug::DuplicateApplyOnResend,
        Bug::SnapshotOffsetMismatch,
        Bug::DropEntriesOnReconnect,
        Bug::PrimaryStaleRead,
        Bug::ReplicaReadIgnoresSelect,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Bug::FlushDbByKey => "flushdb-by-key",
            Bug::MultiKeyDelByFirstKey => "multi-key-del-by-first-key",
            Bug::FlushAllOneEntry => "flushall-one-entry",
            Bug::AckBeforeApply => "ack-before-apply",
            Bug::TsyncOffByOne => "tsync-off-by-one",
            Bug::DuplicateApplyOnResend => "duplicate-apply-on-resend",
            Bug::SnapshotOffsetMismatch => "snapshot-offset-mismatch",
            Bug::DropEntriesOnReconnect => "drop-entries-on-reconnect",
            Bug::PrimaryStaleRead => "primary-stale-read",
            Bug::ReplicaReadIgnoresSelect => "replica-read-ignores-select",
        }
    }

    /// Whether `planted` (a cluster's setting) is this bug.
    pub fn is(self, planted: Option<Bug>) -> bool {
        planted == Some(self)
    }
}

impl fmt::Display for Bug {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(self.name())
    }
}

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("unknown bug '{0}' (expected one of: {known})", known = Bug::ALL.map(Bug::name).join(", "))]
pub struct UnknownBug(pub String);

impl FromStr for Bug {
    type Err = UnknownBug;

    fn from_str(text: &str) -> Result<Bug, UnknownBug> {
        Bug::ALL.into_iter().find(|bug| bug.name() == text).ok_or_else(|| UnknownBug(text.to_string()))
    }
}
