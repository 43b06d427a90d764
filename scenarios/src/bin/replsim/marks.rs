//! The coverage marks of a fuzz campaign: how many runs hit each mark of the system under test,
//! and which marks no run reached (a campaign that never reached a state proves nothing about it).
//!
//! ```text
//! marks (runs that hit each, of 2000):
//!   barrier-waited                    1243  62.2 %
//!   …
//! never hit: flush-overtook-write, ack-stale
//! ```

use replsim_scenarios::runner::Verdict;
use replsim_sim::marks::{Mark, MarkCounts};

use crate::output::outln;
use serde_json::{json, Value};

#[derive(Default)]
pub struct MarkTally {
    runs: u64,
    /// Per mark: runs that hit it at least once.
    runs_hitting: MarkCounts,
}

impl MarkTally {
    pub fn record(&mut self, verdict: &Verdict) {
        self.runs += 1;
        self.runs_hitting.add_run(&verdict.marks);
    }

    fn never_hit(&self) -> Vec<&'static str> {
        Mark::ALL.iter().filter(|mark| self.runs_hitting.get(**mark) == 0).map(|mark| mark.name()).collect()
    }

    pub fn print(&self) {
        outln!("marks (runs that hit each, of {}):", self.runs);
        for mark in Mark::ALL {
            let runs = self.runs_hitting.get(*mark);
            let share = 100.0 * runs as f64 / self.runs.max(1) as f64;
            outln!("  {:<30} {runs:>8} {share:>6.1} %", mark.name());
        }
        let never = self.never_hit();
        if !never.is_empty() {
            outln!("never hit: {}", never.join(", "));
        }
    }

    /// `{"runs_hitting": {"barrier-waited": 1243, …}, "never_hit": [...]}`.
    pub fn json(&self) -> Value {
        let runs_hitting: serde_json::Map<String, Value> =
            Mark::ALL.iter().map(|mark| (mark.name().to_string(), json!(self.runs_hitting.get(*mark)))).collect();
        json!({ "runs_hitting": runs_hitting, "never_hit": self.never_hit() })
    }
}
