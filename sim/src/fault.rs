//! Faults the harness injects while a phase's clients run, all through madsim: partitions are
//! clogged links ([`NetSim::clog_link`]), crashes are node kills and restarts
//! ([`Handle::kill`]/[`Handle::restart`]); latency, jitter and packet loss are madsim's network
//! configuration, set once per run (see `NetworkConfig`).
//!
//! ```text
//! phase start                                                        clients done
//!   |-- at --> partition replica-2 ------ duration ------> heal        |
//!   |------- at ------> kill replica-1 -- duration --> restart         |
//!   |--------------- at ---------------> restart primary ------------->| heal everything still
//!                                                                      | in force, then catch up
//! ```
//!
//! Every fault is healed by the end of its phase, so the catch-up that follows is a liveness
//! check: "after the faults heal, every replica catches up within the deadline".
//!
//! Not offered by madsim 0.2.34, so not injected: per-node clock skew or drift (the simulation has
//! one clock; nothing in this system under test reads a wall clock either), disk faults, TCP
//! reordering or duplication (duplicates come from the primary's own re-sends instead, see
//! `ReplicationConfig::retransmit_after`).

use std::fmt;
use std::time::Duration;

use serde::{Deserialize, Serialize};

/// One kind of fault, aimed at one target.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(tag = "fault", rename_all = "kebab-case")]
pub enum Fault {
    /// Both directions between the primary and replica `replica` (0-based) are clogged: messages
    /// wait and new connections are refused. `reset`: the primary also drops the replication link
    /// at once, as a TCP keepalive timing out would.
    Partition { replica: usize, reset: bool },
    /// The replica crashes; it restarts when the fault heals, with what its durability model kept.
    KillReplica { replica: usize },
    /// The primary crashes; it restarts (binlog and store durable) when the fault heals.
    RestartPrimary,
    /// The replication connection of replica `replica` is reset (a middlebox's RST). Instant.
    ResetLink { replica: usize },
}

impl Fault {
    /// Faults on the same target do not overlap: a second one is skipped while the first holds.
    pub(crate) fn target(&self) -> Option<usize> {
        match self {
            Fault::Partition { replica, .. } | Fault::KillReplica { replica } | Fault::ResetLink { replica } => {
                Some(*replica)
            }
            Fault::RestartPrimary => None,
        }
    }

    fn replica(&self) -> Option<usize> {
        self.target()
    }
}

impl fmt::Display for Fault {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Fault::Partition { replica, reset: false } => {
                write!(formatter, "partition primary | replica-{}", replica + 1)
            }
            Fault::Partition { replica, reset: true } => {
                write!(formatter, "partition primary | replica-{} (link reset)", replica + 1)
            }
            Fault::KillReplica { replica } => write!(formatter, "kill replica-{}", replica + 1),
            Fault::RestartPrimary => write!(formatter, "kill primary"),
            Fault::ResetLink { replica } => write!(formatter, "reset link of replica-{}", replica + 1),
        }
    }
}

/// One scheduled fault: applied `at` after its phase starts, healed `duration` later (or when the
/// phase's clients finish, whichever is first).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FaultStep {
    /// 0-based phase.
    pub phase: usize,
    pub at: Duration,
    pub duration: Duration,
    pub fault: Fault,
}

/// The faults of a run, generated from its seed.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FaultSchedule {
    pub steps: Vec<FaultStep>,
}

/// Keeps every wait of the injector finite.
pub const FAULT_STEPS_MAX: usize = 256;

impl FaultSchedule {
    pub fn is_empty(&self) -> bool {
        self.steps.is_empty()
    }

    pub fn validate(&self, replicas: usize) -> Result<(), &'static str> {
        if self.steps.len() > FAULT_STEPS_MAX {
            return Err("at most 256 fault steps");
        }
        if self.steps.iter().any(|step| step.fault.replica().is_some_and(|replica| replica >= replicas)) {
            return Err("a fault names a replica the cluster does not have");
        }
        Ok(())
    }

    pub(crate) fn in_phase(&self, phase: usize) -> Vec<(usize, &FaultStep)> {
        self.steps.iter().enumerate().filter(|(_, step)| step.phase == phase).collect()
    }
}
