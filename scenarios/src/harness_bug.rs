//! Bugs planted in replsim itself rather than in the system under test: `--bug` measures whether
//! the harness finds bugs in Pika's replication; these check that the harness survives its own.
//! A panic while a run is judged must become an `unknown` run that names its seed and the panic
//! (a fuzz campaign goes on), and a panic in the shrinker must be reported, not swallowed.
//!
//! ```
//! use replsim_scenarios::harness_bug::HarnessBug;
//! let bug: HarnessBug = "panic-while-judging:7".parse().unwrap();
//! assert!(bug.panics_judging(7) && !bug.panics_judging(8));
//! assert_eq!(bug.to_string(), "panic-while-judging:7");
//! ```

use std::fmt;
use std::str::FromStr;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HarnessBug {
    /// The checks panic after the simulation of this seed has finished.
    PanicWhileJudging { seed: u64 },
    /// The shrinker panics (outside any run) when it is about to make this candidate run.
    PanicWhileShrinking { step: u64 },
}

impl HarnessBug {
    pub fn panics_judging(self, seed: u64) -> bool {
        self == HarnessBug::PanicWhileJudging { seed }
    }

    pub fn panics_shrinking(self, step: u64) -> bool {
        self == HarnessBug::PanicWhileShrinking { step }
    }
}

impl fmt::Display for HarnessBug {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HarnessBug::PanicWhileJudging { seed } => write!(formatter, "panic-while-judging:{seed}"),
            HarnessBug::PanicWhileShrinking { step } => write!(formatter, "panic-while-shrinking:{step}"),
        }
    }
}

impl FromStr for HarnessBug {
    type Err = String;

    fn from_str(text: &str) -> Result<HarnessBug, String> {
        let bad = || {
            format!("invalid harness bug '{text}' (expected panic-while-judging:SEED or panic-while-shrinking:STEP)")
        };
        let (kind, number) = text.split_once(':').ok_or_else(bad)?;
        let number: u64 = number.parse().map_err(|_| bad())?;
        match kind {
            "panic-while-judging" => Ok(HarnessBug::PanicWhileJudging { seed: number }),
            "panic-while-shrinking" => Ok(HarnessBug::PanicWhileShrinking { step: number }),
            _ => Err(bad()),
        }
    }
}
