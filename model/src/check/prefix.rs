//! Prefix consistency: a replica that reports applied offset `o` while every apply worker is idle
//! must hold exactly the state after the primary's first `o` binlog entries. Checked at every
//! such point, so a reorder is caught even when later writes would hide it by the end.
//!
//! ```text
//! primary binlog:  1:SET a 1   2:SET b 2   3:FLUSHDB   4:SET c 4
//! replica idle at 3 holding {b=2}  ->  violation: b=2 (SET b 2 at offset 2) survives FLUSHDB at offset 3
//! replica idle at 4 holding {c=4}  ->  fine (but the violation at 3 is already reported)
//! ```

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};

use crate::binlog::{BinlogEntry, Offset, Replay};
use crate::check::diff::StoreDiff;
use crate::check::{NodeSnapshot, SimTime};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum PrefixViolation {
    /// The first idle point of a node whose store is not the binlog prefix.
    Diverged {
        diff: StoreDiff,
        at: SimTime,
        /// How many of the node's idle points violated the property in all.
        violating_points: usize,
    },
    /// The node claims an offset the primary never wrote.
    BeyondBinlog { node: String, offset: Offset, binlog_end: Offset, at: SimTime },
}

impl fmt::Display for PrefixViolation {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PrefixViolation::Diverged { diff, at, violating_points } => write!(
                formatter,
                "at {at}, idle at offset {}: {diff}\n  ({violating_points} idle point(s) of {} violated prefix consistency)",
                diff.offset, diff.node
            ),
            PrefixViolation::BeyondBinlog { node, offset, binlog_end, at } => write!(
                formatter,
                "at {at}, {node} claims applied offset {offset} but the primary's binlog ends at {binlog_end}"
            ),
        }
    }
}

/// Checks every idle point. `points` may interleave nodes; each node's points must be in the
/// order the node reported them. One violation per node is reported: later ones are usually the
/// same fault seen again.
pub fn check_prefix_consistency(binlog: &[BinlogEntry], points: &[NodeSnapshot]) -> Vec<PrefixViolation> {
    let binlog_end = Offset(binlog.len() as u64);
    let mut by_node: BTreeMap<&str, Vec<&NodeSnapshot>> = BTreeMap::new();
    for point in points {
        by_node.entry(point.node.as_str()).or_default().push(point);
    }
    let mut violations = Vec::new();
    for (node, node_points) in by_node {
        let mut replay = Replay::new(binlog);
        let mut first: Option<PrefixViolation> = None;
        let mut violating_points = 0;
        for point in node_points {
            if point.offset > binlog_end {
                violations.push(PrefixViolation::BeyondBinlog {
                    node: node.to_string(),
                    offset: point.offset,
                    binlog_end,
                    at: point.at,
                });
                break;
            }
            // A restarted or fully resynced replica may legitimately report a lower offset.
            if point.offset < replay.offset() {
                replay = Replay::new(binlog);
            }
            let expected = replay.advance_to(point.offset);
            if let Some(diff) = StoreDiff::between(node, binlog, point.offset, &point.store, expected) {
                violating_points += 1;
                first.get_or_insert(PrefixViolation::Diverged { diff, at: point.at, violating_points: 0 });
            }
        }
        if let Some(PrefixViolation::Diverged { diff, at, .. }) = first {
            violations.push(PrefixViolation::Diverged { diff, at, violating_points });
        }
    }
    violations
}
