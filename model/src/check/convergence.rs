//! Convergence: once the run has quiesced, the primary and every replica hold exactly the state
//! that replaying the primary's whole binlog produces.
//!
//! ```
//! use replsim_model::binlog::{BinlogEntry, Offset};
//! use replsim_model::check::{convergence::check_convergence, NodeSnapshot, SimTime};
//! use replsim_model::command::{Command, Db};
//! use replsim_model::store::Store;
//! let binlog = vec![
//!     BinlogEntry { offset: Offset(1), command: Command::set(Db(0), "a", "1") },
//!     BinlogEntry { offset: Offset(2), command: Command::FlushDb { db: Db(0) } },
//! ];
//! let empty = |node: &str| NodeSnapshot {
//!     node: node.into(), offset: Offset(2), store: Store::default(), at: SimTime(0),
//! };
//! assert!(check_convergence(&binlog, &empty("primary"), &[empty("replica-1")]).is_empty());
//! ```

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::binlog::{replay, BinlogEntry, Offset};
use crate::check::diff::StoreDiff;
use crate::check::NodeSnapshot;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ConvergenceFailure {
    /// The node's offset is not the end of the primary's binlog.
    OffsetMismatch { node: String, offset: Offset, binlog_end: Offset },
    /// The node's store is not the replay of the whole binlog.
    Diverged(StoreDiff),
}

impl fmt::Display for ConvergenceFailure {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ConvergenceFailure::OffsetMismatch { node, offset, binlog_end } => write!(
                formatter,
                "{node} reports offset {offset} after quiescence, but the primary's binlog ends at {binlog_end}"
            ),
            ConvergenceFailure::Diverged(diff) => write!(formatter, "{diff}"),
        }
    }
}

/// Checks the primary and each replica against the replay of the whole `binlog`.
pub fn check_convergence(
    binlog: &[BinlogEntry],
    primary: &NodeSnapshot,
    replicas: &[NodeSnapshot],
) -> Vec<ConvergenceFailure> {
    let binlog_end = Offset(binlog.len() as u64);
    let expected = replay(binlog, binlog_end);
    let mut failures = Vec::new();
    for snapshot in std::iter::once(primary).chain(replicas) {
        if snapshot.offset != binlog_end {
            failures.push(ConvergenceFailure::OffsetMismatch {
                node: snapshot.node.clone(),
                offset: snapshot.offset,
                binlog_end,
            });
        }
        if let Some(diff) = StoreDiff::between(&snapshot.node, binlog, binlog_end, &snapshot.store, &expected) {
            failures.push(ConvergenceFailure::Diverged(diff));
        }
    }
    failures
}
