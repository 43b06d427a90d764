//! Faults a real pair allows, chosen per seed as swarm testing chooses them: which kinds are on,
//! then when (after a phase starts) and where each one strikes.
//!
//! | kind | how | needs |
//! |---|---|---|
//! | `stall` | `DEBUG SLEEP s` on a replica: it answers nothing, applies nothing | the server permits DEBUG |
//! | `break-link` | `CLIENT KILL TYPE master` on a replica: it reconnects and resumes by itself | — |
//! | `restart-replica` | `SHUTDOWN SAVE` and the same command line again | replsim started the servers |
//!
//! ```
//! use replsim_scenarios::live::faults::{LiveFaultKinds, draw_faults};
//! let faults = draw_faults(7, 2, 1, LiveFaultKinds::ALL);
//! assert_eq!(faults, draw_faults(7, 2, 1, LiveFaultKinds::ALL));
//! assert!(faults.iter().all(|fault| fault.phase < 2 && fault.replica < 1));
//! ```

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use proptest::prelude::*;
use proptest::strategy::ValueTree;

use crate::generate::generate;

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LiveFaultKinds {
    pub stall: bool,
    pub break_link: bool,
    pub restart_replica: bool,
}

impl LiveFaultKinds {
    pub const ALL: LiveFaultKinds = LiveFaultKinds { stall: true, break_link: true, restart_replica: true };

    fn names(&self) -> Vec<&'static str> {
        [(self.stall, "stall"), (self.break_link, "break-link"), (self.restart_replica, "restart-replica")]
            .into_iter()
            .filter_map(|(on, name)| on.then_some(name))
            .collect()
    }

    /// The kinds on in both.
    pub fn and(self, other: LiveFaultKinds) -> LiveFaultKinds {
        LiveFaultKinds {
            stall: self.stall && other.stall,
            break_link: self.break_link && other.break_link,
            restart_replica: self.restart_replica && other.restart_replica,
        }
    }
}

/// `--faults`: `all`, `none`, or a comma-separated list of kinds.
impl FromStr for LiveFaultKinds {
    type Err = String;

    fn from_str(text: &str) -> Result<LiveFaultKinds, String> {
        match text {
            "all" => return Ok(LiveFaultKinds::ALL),
            "none" => return Ok(LiveFaultKinds::default()),
            _ => {}
        }
        let mut kinds = LiveFaultKinds::default();
        for name in text.split(',').map(str::trim) {
            match name {
                "stall" => kinds.stall = true,
                "break-link" => kinds.break_link = true,
                "restart-replica" => kinds.restart_replica = true,
                _ => {
                    return Err(format!(
                        "unknown live fault kind '{name}' (known: stall, break-link, restart-replica, or all, none)"
                    ))
                }
            }
        }
        Ok(kinds)
    }
}

impl fmt::Display for LiveFaultKinds {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.names() {
            names if names.is_empty() => formatter.write_str("none"),
            names => formatter.write_str(&names.join(",")),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FaultAction {
    /// `DEBUG SLEEP` for this long.
    Stall {
        duration: Duration,
    },
    /// `CLIENT KILL TYPE master`. `hold_down`: also point the replica's `masterauth` at a wrong
    /// password first, so it cannot reconnect until the seed ends (used by tests to keep a
    /// replica behind on purpose; never drawn).
    BreakLink {
        hold_down: bool,
    },
    RestartReplica,
}

/// One fault: `after` the start of `phase` (0-based), on replica `replica` (0-based).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LiveFault {
    pub phase: usize,
    pub after: Duration,
    pub replica: usize,
    pub action: FaultAction,
}

impl fmt::Display for LiveFault {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        let action = match &self.action {
            FaultAction::Stall { duration } => format!("stall {} ms", duration.as_millis()),
            FaultAction::BreakLink { hold_down: false } => "break link".to_string(),
            FaultAction::BreakLink { hold_down: true } => "break link and hold it down".to_string(),
            FaultAction::RestartReplica => "restart".to_string(),
        };
        write!(
            formatter,
            "phase {} +{} ms: {action} replica-{}",
            self.phase + 1,
            self.after.as_millis(),
            self.replica + 1
        )
    }
}

/// Seeds the live fault draw apart from the workload's and the simulation's swarm draws.
const LIVE_FAULTS_SALT: u64 = 0x4c49_5645_4641_0003;
/// Faults strike early in a phase: live phases of the shipped scenarios last tens of milliseconds.
const FAULT_AFTER_MS_MAX: u64 = 40;
const STALL_MS: std::ops::RangeInclusive<u64> = 20..=200;
const FAULTS_PER_PHASE_MAX: usize = 2;

/// The faults of `seed`: each kind that `available` allows is on with probability one half,
/// then up to two faults per phase among the kinds on.
pub fn draw_faults(seed: u64, phases: usize, replicas: usize, available: LiveFaultKinds) -> Vec<LiveFault> {
    if phases == 0 || replicas == 0 {
        return Vec::new();
    }
    let kinds_on = (any::<bool>(), any::<bool>(), any::<bool>());
    let step = (0..phases, 0..=FAULT_AFTER_MS_MAX, 0..replicas, 0usize..3, STALL_MS);
    let strategy = (kinds_on, proptest::collection::vec(step, 0..=FAULTS_PER_PHASE_MAX * phases));
    let ((stall, break_link, restart_replica), steps) = generate(&strategy, seed ^ LIVE_FAULTS_SALT).current();
    let on = LiveFaultKinds { stall, break_link, restart_replica }.and(available);
    let mut faults: Vec<LiveFault> = steps
        .into_iter()
        .filter_map(|(phase, after_ms, replica, kind, stall_ms)| {
            let action = match kind {
                0 if on.stall => FaultAction::Stall { duration: Duration::from_millis(stall_ms) },
                1 if on.break_link => FaultAction::BreakLink { hold_down: false },
                2 if on.restart_replica => FaultAction::RestartReplica,
                _ => return None,
            };
            Some(LiveFault { phase, after: Duration::from_millis(after_ms), replica, action })
        })
        .collect();
    faults.sort_by_key(|fault| (fault.phase, fault.after));
    faults
}
