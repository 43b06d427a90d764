//! A fuzz campaign: which (scenario, mode, seed) runs make up a run of `replsim fuzz`, how shards
//! split them, and running them on several threads while handing results back in order.
//!
//! ```text
//! seed space:  start  start+1  start+2  start+3  ...        --shard I/N: seed s belongs to
//! shard 1/2:     0                2                 ...     shard (s mod N) + 1
//! shard 2/2:              1                3        ...
//! each seed:   every scenario x every mode, in that order: one "run" each
//! ```
//!
//! Runs are numbered seed-major, so a time-bounded campaign covers every scenario and mode
//! evenly. Each run is a whole madsim runtime on one worker thread, so it is as deterministic as
//! on one thread; results are delivered in run order whatever thread finished first, so the
//! output of a seed-bounded campaign is the same for any `--jobs`. Stopping at the first failure
//! is deterministic too: the first failure is the lowest-numbered failing run, and every run
//! before it is run.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use replsim_sim::bug::Bug;
use replsim_sim::config::ApplyMode;

use crate::file::ClusterSpec;
use crate::runner::{run_case, Case, RunOptions, Verdict};
use crate::scenario::Scenario;
use crate::swarm::FaultKinds;

/// `--shard I/N`: this machine runs the seeds `s` with `s mod N == I - 1`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Shard {
    /// 1-based.
    pub index: u64,
    pub count: u64,
}

impl Shard {
    pub const WHOLE: Shard = Shard { index: 1, count: 1 };

    pub fn owns(self, seed: u64) -> bool {
        seed % self.count == self.index - 1
    }

    /// The first seed at or after `seed` that this shard owns (`None` past `u64::MAX`).
    fn first_owned_from(self, seed: u64) -> Option<u64> {
        let wanted = self.index - 1;
        let offset = (wanted + self.count - seed % self.count) % self.count;
        seed.checked_add(offset)
    }
}

impl fmt::Display for Shard {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(formatter, "{}/{}", self.index, self.count)
    }
}

impl FromStr for Shard {
    type Err = String;

    fn from_str(text: &str) -> Result<Shard, String> {
        let bad = || format!("invalid shard '{text}' (expected I/N with 1 <= I <= N, e.g. 1/4)");
        let (index, count) = text.split_once('/').ok_or_else(bad)?;
        let index: u64 = index.trim().parse().map_err(|_| bad())?;
        let count: u64 = count.trim().parse().map_err(|_| bad())?;
        if count == 0 || index == 0 || index > count {
            return Err(bad());
        }
        Ok(Shard { index, count })
    }
}

/// When a campaign ends (besides a failure, when it stops at the first).
#[derive(Clone, Copy, Debug)]
pub enum Limit {
    /// The seeds `start_seed .. start_seed + n` of the whole campaign (every shard together).
    Seeds(u64),
    /// Keep taking seeds until this much wall-clock time has passed.
    Duration(Duration),
}

#[derive(Clone, Debug)]
pub struct Plan {
    pub scenarios: Vec<Scenario>,
    pub modes: Vec<ApplyMode>,
    /// Planted in every case (`None`: the system as designed).
    pub bug: Option<Bug>,
    /// Fault kinds on in every (swarm) case instead of the seed's draw.
    pub faults: Option<FaultKinds>,
    /// Cluster settings on top of every scenario's (`--cluster`), carried by repro lines.
    pub cluster: Option<ClusterSpec>,
    pub start_seed: u64,
    pub limit: Limit,
    pub shard: Shard,
    pub keep_going: bool,
    pub jobs: usize,
}

impl Plan {
    fn runs_per_seed(&self) -> u64 {
        (self.scenarios.len() * self.modes.len()) as u64
    }

    /// This shard's seeds when the campaign is seed-bounded.
    pub fn seed_count(&self) -> Option<u64> {
        let Limit::Seeds(seeds) = self.limit else { return None };
        let end = self.start_seed.saturating_add(seeds);
        let count = match self.shard.first_owned_from(self.start_seed) {
            Some(first) if first < end => (end - 1 - first) / self.shard.count + 1,
            _ => 0,
        };
        Some(count)
    }

    /// Runs in this shard when the campaign is seed-bounded.
    pub fn run_count(&self) -> Option<u64> {
        self.seed_count().map(|seeds| seeds * self.runs_per_seed())
    }

    /// The case of run number `run` of this shard, or `None` past the end.
    fn case(&self, run: u64) -> Option<Case> {
        let per_seed = self.runs_per_seed();
        let seed_index = run / per_seed;
        if self.seed_count().is_some_and(|seeds| seed_index >= seeds) {
            return None;
        }
        let first = self.shard.first_owned_from(self.start_seed)?;
        let seed = first.checked_add(seed_index.checked_mul(self.shard.count)?)?;
        let combination = (run % per_seed) as usize;
        let scenario = &self.scenarios[combination / self.modes.len()];
        let mode = self.modes[combination % self.modes.len()];
        let mut case = Case::new(scenario, mode, seed);
        case.cluster.bug = self.bug;
        if let Some(kinds) = self.faults {
            // plan_of accepts --faults only with swarm scenarios.
            case = case.with_fault_kinds(kinds).ok()?;
        }
        if let Some(settings) = &self.cluster {
            // plan_of checked the settings against every scenario.
            case = case.with_cluster_settings(settings).ok()?;
        }
        Some(case)
    }
}

/// One finished run, as delivered to the caller.
#[derive(Debug)]
pub struct Finished {
    pub run: u64,
    /// The verdict, without a trace.
    pub verdict: Verdict,
}

/// How a campaign ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ending {
    /// Every planned run ran (or the duration ran out).
    Completed,
    /// It stopped at its first failure.
    StoppedAtFailure,
    /// `interrupted` was raised (Ctrl-C).
    Interrupted,
}

/// Runs `plan` on `plan.jobs` threads. `deliver` gets every counted run in run order;
/// `tick` is called about every `tick_every` (for progress output) with the runs delivered so far.
pub fn run(
    plan: &Plan,
    interrupted: &AtomicBool,
    mut deliver: impl FnMut(Finished),
    tick_every: Duration,
    mut tick: impl FnMut(u64),
) -> Ending {
    let started = Instant::now();
    let next_run = AtomicU64::new(0);
    // The lowest failing run so far when stopping at the first failure: nothing after it counts.
    let stop_after = AtomicU64::new(u64::MAX);
    let run_count = plan.run_count();
    let out_of_time = || matches!(plan.limit, Limit::Duration(duration) if started.elapsed() >= duration);
    let (sender, receiver) = mpsc::channel::<Finished>();
    let mut delivered = 0u64;
    std::thread::scope(|scope| {
        for _ in 0..plan.jobs.max(1) {
            let sender = sender.clone();
            let (next_run, stop_after) = (&next_run, &stop_after);
            scope.spawn(move || loop {
                if interrupted.load(Ordering::Relaxed) || out_of_time() {
                    break;
                }
                let run = next_run.fetch_add(1, Ordering::Relaxed);
                if run > stop_after.load(Ordering::Relaxed) || run_count.is_some_and(|count| run >= count) {
                    break;
                }
                let Some(case) = plan.case(run) else { break };
                let verdict = run_case(&case, RunOptions::default());
                if verdict.is_fail() && !plan.keep_going {
                    stop_after.fetch_min(run, Ordering::Relaxed);
                }
                if sender.send(Finished { run, verdict }).is_err() {
                    break;
                }
            });
        }
        drop(sender);
        // Results arrive in any order; hand them on in run order.
        let mut waiting: BTreeMap<u64, Finished> = BTreeMap::new();
        let mut last_tick = Instant::now();
        loop {
            match receiver.recv_timeout(tick_every.min(Duration::from_millis(200))) {
                Ok(finished) => {
                    waiting.insert(finished.run, finished);
                }
                Err(mpsc::RecvTimeoutError::Timeout) => {}
                Err(mpsc::RecvTimeoutError::Disconnected) => break,
            }
            while let Some(finished) = waiting.remove(&delivered) {
                if finished.run <= stop_after.load(Ordering::Relaxed) {
                    deliver(finished);
                }
                delivered += 1;
            }
            if last_tick.elapsed() >= tick_every {
                tick(delivered);
                last_tick = Instant::now();
            }
        }
        // After an interrupt or a deadline some runs never started: deliver the rest in order.
        let stop = stop_after.load(Ordering::Relaxed);
        for (_, finished) in waiting.into_iter().filter(|(run, _)| *run <= stop) {
            deliver(finished);
        }
    });
    tick(delivered);
    if interrupted.load(Ordering::Relaxed) {
        Ending::Interrupted
    } else if stop_after.load(Ordering::Relaxed) != u64::MAX {
        Ending::StoppedAtFailure
    } else {
        Ending::Completed
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shards_split_the_seeds_without_overlap_or_gap() {
        let owned = |shard: Shard| (10..17u64).filter(move |seed| shard.owns(*seed)).collect::<Vec<_>>();
        let first: Shard = "1/3".parse().unwrap();
        let second: Shard = "2/3".parse().unwrap();
        let third: Shard = "3/3".parse().unwrap();
        let mut all = [owned(first), owned(second), owned(third)].concat();
        all.sort();
        assert_eq!(all, (10..17).collect::<Vec<_>>());
        assert_eq!(first.first_owned_from(10), Some(12));
        assert_eq!(third.first_owned_from(10), Some(11));
    }

    #[test]
    fn a_shard_outside_its_count_is_refused() {
        for bad in ["3/2", "0/2", "1/0", "1", "a/b", "1/2/3"] {
            assert!(bad.parse::<Shard>().is_err(), "{bad}");
        }
    }
}
