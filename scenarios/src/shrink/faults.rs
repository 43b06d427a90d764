//! Fault-schedule reductions: fewer faults, shorter ones, earlier ones, plainer ones. A schedule
//! names phases by index, so removing a workload phase also removes its faults and moves the
//! later phases' faults down by one: every other fault keeps striking the operations it struck.
//!
//! ```text
//! phase-1 +120ms partition replica-2 reset for 260ms  ──►  phase-1 +0ms partition replica-2 for 1ms
//! ```

use std::time::Duration;

use replsim_sim::fault::{Fault, FaultSchedule};

/// One candidate reduction of a fault schedule. Indices are into the schedule being reduced.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) enum FaultReduction {
    Remove {
        start: usize,
        count: usize,
    },
    Duration {
        index: usize,
        duration: Duration,
    },
    At {
        index: usize,
        at: Duration,
    },
    /// A partition without the primary's immediate link reset.
    NoReset {
        index: usize,
    },
}

/// The shortest fault kept: a zero duration would heal before it applies (heals sort first at
/// the same instant), leaving the fault in force for the rest of its phase.
const DURATION_MIN: Duration = Duration::from_millis(1);

/// Removals, largest first.
pub(super) fn removals(faults: &FaultSchedule) -> Vec<FaultReduction> {
    let length = faults.steps.len();
    let mut list = Vec::new();
    let mut count = length;
    while count >= 1 {
        list.extend((0..length).step_by(count).map(|start| FaultReduction::Remove { start, count }));
        count /= 2;
    }
    list
}

/// Per fault: the shortest duration, then half of it; the phase's start, then half as late.
pub(super) fn simplifications(faults: &FaultSchedule) -> Vec<FaultReduction> {
    let mut list = Vec::new();
    for (index, step) in faults.steps.iter().enumerate() {
        for duration in [DURATION_MIN, half_millis(step.duration).max(DURATION_MIN)] {
            if duration < step.duration {
                list.push(FaultReduction::Duration { index, duration });
            }
        }
        for at in [Duration::ZERO, half_millis(step.at)] {
            if at < step.at {
                list.push(FaultReduction::At { index, at });
            }
        }
        if matches!(step.fault, Fault::Partition { reset: true, .. }) {
            list.push(FaultReduction::NoReset { index });
        }
    }
    list.dedup();
    list
}

/// Half, in whole milliseconds (regression lines write milliseconds).
fn half_millis(duration: Duration) -> Duration {
    Duration::from_millis((duration.as_millis() / 2) as u64)
}

pub(super) fn apply(faults: &mut FaultSchedule, reduction: &FaultReduction) {
    match reduction {
        FaultReduction::Remove { start, count } => {
            let end = (start + count).min(faults.steps.len());
            faults.steps.drain(*start..end);
        }
        FaultReduction::Duration { index, duration } => faults.steps[*index].duration = *duration,
        FaultReduction::At { index, at } => faults.steps[*index].at = *at,
        FaultReduction::NoReset { index } => {
            if let Fault::Partition { reset, .. } = &mut faults.steps[*index].fault {
                *reset = false;
            }
        }
    }
}

/// The workload lost phase `phase`: its faults go, later phases' faults move down by one.
pub(super) fn remove_phase(faults: &mut FaultSchedule, phase: usize) {
    faults.steps.retain(|step| step.phase != phase);
    for step in faults.steps.iter_mut().filter(|step| step.phase > phase) {
        step.phase -= 1;
    }
}

#[cfg(test)]
mod tests {
    use replsim_sim::fault::FaultStep;

    use super::*;

    fn step(phase: usize, at_ms: u64, duration_ms: u64, fault: Fault) -> FaultStep {
        FaultStep { phase, at: Duration::from_millis(at_ms), duration: Duration::from_millis(duration_ms), fault }
    }

    #[test]
    fn removing_a_phase_keeps_the_other_faults_on_their_phases() {
        let mut faults = FaultSchedule {
            steps: vec![
                step(0, 5, 10, Fault::RestartPrimary),
                step(1, 5, 10, Fault::KillReplica { replica: 0 }),
                step(2, 5, 10, Fault::ResetLink { replica: 0 }),
            ],
        };
        remove_phase(&mut faults, 1);
        let phases: Vec<(usize, Fault)> = faults.steps.iter().map(|step| (step.phase, step.fault.clone())).collect();
        assert_eq!(phases, vec![(0, Fault::RestartPrimary), (1, Fault::ResetLink { replica: 0 })]);
    }

    #[test]
    fn a_fault_is_shortened_moved_to_its_phase_start_and_loses_its_reset() {
        let faults = FaultSchedule { steps: vec![step(0, 120, 260, Fault::Partition { replica: 1, reset: true })] };
        let reductions = simplifications(&faults);
        assert_eq!(reductions[0], FaultReduction::Duration { index: 0, duration: DURATION_MIN });
        let mut simplest = faults.clone();
        for reduction in [&reductions[0], &reductions[2], reductions.last().unwrap()] {
            apply(&mut simplest, reduction);
        }
        assert_eq!(simplest.steps, vec![step(0, 0, 1, Fault::Partition { replica: 1, reset: false })]);
        assert!(simplifications(&simplest).is_empty(), "nothing simpler is left");
    }
}
