//! The replication checkers. Each takes the primary's binlog (the truth) and what nodes reported,
//! and returns evidence, never a bare boolean.
//!
//! - [`convergence`]: after quiescence, primary == every replica == replay of the whole binlog.
//! - [`prefix`]: whenever a replica was idle at applied offset `o`, its store == replay to `o`.
//! - [`replica_reads`]: every read a replica served is a value of some binlog prefix, and a
//!   session's prefixes never go backwards.
//! - [`black_box_reads`]: the same for a real pair, from the primary's client history alone (no
//!   binlog): only what every order the history admits rules out.

pub mod black_box_reads;
pub mod convergence;
pub mod diff;
pub mod prefix;
pub mod replica_reads;

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::binlog::Offset;
use crate::store::Store;

/// A node's store together with the binlog offset it claims the store reflects, as seen at a
/// moment of simulated time.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NodeSnapshot {
    pub node: String,
    pub offset: Offset,
    pub store: Store,
    pub at: SimTime,
}

/// Simulated time since the start of a run, in nanoseconds (the model knows no clocks).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct SimTime(pub u64);

impl SimTime {
    pub fn from_millis(millis: u64) -> SimTime {
        SimTime(millis * 1_000_000)
    }
}

impl fmt::Display for SimTime {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(formatter, "t={}.{:06}s", self.0 / 1_000_000_000, (self.0 % 1_000_000_000) / 1_000)
    }
}
