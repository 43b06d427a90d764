//! The text form of a fault schedule, the last section of a regression line that carries one:
//!
//! ```text
//! FAULTS := "none" | STEP ("; " STEP)*
//! STEP   := "phase-" N " +" AT "ms " FAULT " for " DURATION "ms"
//! FAULT  := "partition replica-" R [" reset"] | "kill replica-" R | "restart primary" | "reset-link replica-" R
//! ```
//!
//! Phases and replicas are numbered from 1, as the printed workload numbers them; `+AT` is the
//! time after the phase starts, `for DURATION` how long the fault holds (a link reset is instant,
//! its duration is kept only so the line replays the schedule exactly).
//!
//! ```
//! use replsim_scenarios::regression::{faults_text, parse_faults};
//! let text = "phase-1 +20ms kill replica-1 for 100ms; phase-2 +0ms partition replica-2 reset for 5ms";
//! let faults = parse_faults(text).unwrap();
//! assert_eq!(faults.steps.len(), 2);
//! assert_eq!(faults_text(&faults).unwrap(), text);
//! assert!(parse_faults("none").unwrap().is_empty());
//! ```

use std::time::Duration;

use replsim_sim::fault::{Fault, FaultSchedule, FaultStep, FAULT_STEPS_MAX};

/// The text form of a whole schedule (see the module docs).
pub fn faults_text(faults: &FaultSchedule) -> Result<String, String> {
    if faults.is_empty() {
        return Ok("none".to_string());
    }
    let steps: Vec<String> = faults
        .steps
        .iter()
        .map(|step| Ok(format!("phase-{} {}", step.phase + 1, step_text(step)?)))
        .collect::<Result<_, String>>()?;
    Ok(steps.join("; "))
}

/// One step without its phase: `+20ms kill replica-1 for 100ms`.
pub fn step_text(step: &FaultStep) -> Result<String, String> {
    let at = whole_millis(step.at)?;
    let duration = whole_millis(step.duration)?;
    let fault = match &step.fault {
        Fault::Partition { replica, reset: false } => format!("partition replica-{}", replica + 1),
        Fault::Partition { replica, reset: true } => format!("partition replica-{} reset", replica + 1),
        Fault::KillReplica { replica } => format!("kill replica-{}", replica + 1),
        Fault::RestartPrimary => "restart primary".to_string(),
        Fault::ResetLink { replica } => format!("reset-link replica-{}", replica + 1),
    };
    Ok(format!("+{at}ms {fault} for {duration}ms"))
}

fn whole_millis(duration: Duration) -> Result<u128, String> {
    let millis = duration.as_millis();
    if Duration::from_millis(millis as u64) != duration {
        return Err(format!("fault time {duration:?} is not whole milliseconds"));
    }
    Ok(millis)
}

/// Parses the text form of a schedule (see the module docs).
pub fn parse_faults(text: &str) -> Result<FaultSchedule, String> {
    let text = text.trim();
    if text == "none" {
        return Ok(FaultSchedule::default());
    }
    let steps = text.split(';').map(parse_step).collect::<Result<Vec<_>, _>>()?;
    if steps.len() > FAULT_STEPS_MAX {
        return Err(format!("{} fault steps, at most {FAULT_STEPS_MAX}", steps.len()));
    }
    Ok(FaultSchedule { steps })
}

fn parse_step(text: &str) -> Result<FaultStep, String> {
    let bad = |what: &str| format!("cannot read fault '{}': {what}", text.trim());
    let words: Vec<&str> = text.split_whitespace().collect();
    let (phase, at, fault, duration) = match words.as_slice() {
        [phase, at, fault @ .., "for", duration] => (phase, at, fault, duration),
        _ => return Err(bad("expected 'phase-N +Tms FAULT for Dms'")),
    };
    let phase = number_after(phase, "phase-").ok_or_else(|| bad("expected phase-N"))?;
    let at = at.strip_prefix('+').and_then(millis).ok_or_else(|| bad("expected +Tms"))?;
    let duration = millis(duration).ok_or_else(|| bad("expected for Dms"))?;
    let replica = |word: &str| number_after(word, "replica-").ok_or_else(|| bad("expected replica-N"));
    let fault = match fault {
        ["partition", target] => Fault::Partition { replica: replica(target)?, reset: false },
        ["partition", target, "reset"] => Fault::Partition { replica: replica(target)?, reset: true },
        ["kill", target] => Fault::KillReplica { replica: replica(target)? },
        ["restart", "primary"] => Fault::RestartPrimary,
        ["reset-link", target] => Fault::ResetLink { replica: replica(target)? },
        _ => {
            return Err(bad(
                "expected partition replica-N [reset], kill replica-N, restart primary or reset-link replica-N",
            ))
        }
    };
    Ok(FaultStep { phase, at, duration, fault })
}

/// `replica-2` → 1: the text numbers from 1, the schedule from 0.
fn number_after(word: &str, prefix: &str) -> Option<usize> {
    word.strip_prefix(prefix)?.parse::<usize>().ok()?.checked_sub(1)
}

fn millis(word: &str) -> Option<Duration> {
    word.strip_suffix("ms")?.parse::<u64>().ok().map(Duration::from_millis)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_fault_kind_survives_writing_and_reading_back() {
        let text = "phase-1 +0ms partition replica-1 for 1ms; phase-1 +3ms partition replica-2 reset for 40ms; \
                    phase-2 +7ms kill replica-3 for 9ms; phase-3 +0ms restart primary for 300ms; \
                    phase-3 +1ms reset-link replica-1 for 5ms";
        let faults = parse_faults(text).unwrap();
        assert_eq!(faults.steps.len(), 5);
        assert_eq!(faults.steps[2].fault, Fault::KillReplica { replica: 2 });
        assert_eq!(faults_text(&faults).unwrap(), text);
    }

    #[test]
    fn a_malformed_fault_is_named_in_the_error() {
        for bad in
            ["phase-0 +1ms restart primary for 1ms", "phase-1 1ms kill replica-1 for 2ms", "phase-1 +1ms nap for 2ms"]
        {
            let problem = parse_faults(bad).unwrap_err();
            assert!(problem.contains(bad), "{problem}");
        }
    }
}
