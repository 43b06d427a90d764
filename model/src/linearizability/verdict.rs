//! What a check answers, with its evidence.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::check::SimTime;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Verdict {
    Linearizable(Witness),
    NotLinearizable(Counterexample),
    /// A budget ran out first; the reason says which.
    Unknown(String),
}

impl Verdict {
    pub fn is_linearizable(&self) -> bool {
        matches!(self, Verdict::Linearizable(_))
    }

    pub fn is_not_linearizable(&self) -> bool {
        matches!(self, Verdict::NotLinearizable(_))
    }
}

/// A linearization, partition by partition: operations of different partitions commute, so
/// any interleaving that keeps each partition's order and real time is one. Global operations
/// appear in every partition's order.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Witness {
    pub partitions: Vec<PartitionOrder>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PartitionOrder {
    pub name: String,
    /// History indices in linearization order.
    pub order: Vec<usize>,
}

/// Why there is no linearization, localised to one partition and one moment.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Counterexample {
    /// The partition (key or keys) with no linearization.
    pub partition: String,
    /// The longest sequence of its operations that could be linearized (history indices).
    pub longest_prefix: Vec<usize>,
    /// The operation whose return arrived before it could be placed after that prefix.
    pub blocked: usize,
    /// The operations that could have gone next there (the failing window), blocked included.
    pub pending: Vec<usize>,
    /// From the earliest call in the window to the blocked operation's return.
    pub window_start: SimTime,
    pub window_end: Option<SimTime>,
    /// Extra context, e.g. that FLUSHDB placements were searched exhaustively.
    pub note: Option<String>,
    /// The operations above, one per line, as the model describes them.
    pub report: String,
}

impl fmt::Display for Verdict {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Verdict::Linearizable(witness) => {
                let ops: usize = witness.partitions.iter().map(|partition| partition.order.len()).sum();
                write!(
                    formatter,
                    "linearizable ({} partition(s), {ops} operation placement(s) in the witness)",
                    witness.partitions.len()
                )
            }
            Verdict::NotLinearizable(counterexample) => write!(formatter, "not linearizable: {counterexample}"),
            Verdict::Unknown(reason) => write!(formatter, "unknown: {reason}"),
        }
    }
}

impl fmt::Display for Counterexample {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(formatter, "{}", self.report)?;
        if let Some(note) = &self.note {
            write!(formatter, "\n  note: {note}")?;
        }
        Ok(())
    }
}
