//! Stalls: rare, long pauses of one task, the way real replicas stall for hundreds of
//! milliseconds (RocksDB write stalls, compactions, a slow disk, a congested link, a GC pause).
//! Uniform 1–4 ms apply delays never let a write sit long in a worker queue; a stalled worker is
//! exactly what lets a FLUSHDB on another worker overtake it.
//!
//! ```
//! use std::time::Duration;
//! use replsim_sim::stall::{Stall, StallConfig};
//! let stalls = StallConfig {
//!     apply_worker: Stall { per_million: 10_000, min: Duration::from_millis(50), max: Duration::from_secs(2) },
//!     ..StallConfig::default()
//! };
//! assert!(stalls.validate().is_ok());
//! assert!(StallConfig::default().is_off());
//! // A roll of the seeded RNG: 1 % of apply tasks stall, for a log-uniform 50 ms – 2 s.
//! // Halfway through the log range is the geometric mean, sqrt(50 ms × 2 s) ≈ 316 ms.
//! let middle = stalls.apply_worker.duration_for(0.5, 9_999).unwrap();
//! assert_eq!(middle.as_millis(), 316);
//! assert_eq!(stalls.apply_worker.duration_for(0.5, 10_000), None);
//! ```
//!
//! Each place draws once per task from the simulation's seeded RNG, and only when its stall is
//! on: a configuration without stalls makes no extra draws, so its runs are exactly what they
//! were before stalls existed. Durations are log-uniform between `min` and `max` — most stalls
//! are short, a few are 40× longer (a heavy tail within a bounded range, so every wait stays
//! finite). Simulated time only: a stall is a `madsim::time::sleep`.

use std::time::Duration;

use serde::{Deserialize, Serialize};

/// One place's stalls: `per_million` of its tasks pause for a log-uniform time in `[min, max]`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Stall {
    pub per_million: u32,
    pub min: Duration,
    pub max: Duration,
}

/// Longest stall a configuration may ask for: bounded so the catch-up deadline stays meaningful.
pub const STALL_MAX: Duration = Duration::from_secs(5);

impl Stall {
    pub fn is_off(&self) -> bool {
        self.per_million == 0
    }

    /// The stall for a task, given a uniform `fraction` in `[0, 1)` (where in the range) and a
    /// `roll` in `0..1_000_000` (whether it stalls at all).
    pub fn duration_for(&self, fraction: f64, roll: u32) -> Option<Duration> {
        if roll >= self.per_million {
            return None;
        }
        let (min, max) = (self.min.as_secs_f64().max(1e-6), self.max.as_secs_f64().max(1e-6));
        let log_uniform = (min.ln() + fraction * (max.ln() - min.ln())).exp();
        Some(Duration::from_nanos((log_uniform * 1e9) as u64).clamp(self.min, self.max.max(self.min)))
    }

    fn validate(&self, place: &'static str) -> Result<(), &'static str> {
        if self.per_million > 1_000_000 {
            return Err(place);
        }
        if !self.is_off() && (self.min > self.max || self.max > STALL_MAX) {
            return Err(place);
        }
        Ok(())
    }
}

/// Where stalls strike. Every place is off by default.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct StallConfig {
    /// An apply worker pauses before applying an entry (a RocksDB write stall).
    pub apply_worker: Stall,
    /// The replica's binlog thread pauses before taking in a batch (a slow binlog disk).
    pub binlog_thread: Stall,
    /// The replication link holds a batch or an ack (a congested or retransmitting link).
    pub network: Stall,
    /// The primary pauses before executing a client's command (a GC pause, a slow disk).
    pub primary: Stall,
}

impl StallConfig {
    pub fn is_off(&self) -> bool {
        [self.apply_worker, self.binlog_thread, self.network, self.primary].iter().all(Stall::is_off)
    }

    pub fn validate(&self) -> Result<(), &'static str> {
        const PROBLEM: [&str; 4] = [
            "apply_worker stall: per_million <= 1000000, min <= max <= 5s",
            "binlog_thread stall: per_million <= 1000000, min <= max <= 5s",
            "network stall: per_million <= 1000000, min <= max <= 5s",
            "primary stall: per_million <= 1000000, min <= max <= 5s",
        ];
        self.apply_worker.validate(PROBLEM[0])?;
        self.binlog_thread.validate(PROBLEM[1])?;
        self.network.validate(PROBLEM[2])?;
        self.primary.validate(PROBLEM[3])
    }
}

/// Draws whether this task stalls (from the simulation's seeded RNG), and if so for how long.
/// No draw at all when the stall is off.
pub fn draw(stall: &Stall) -> Option<Duration> {
    use madsim::rand::Rng;
    if stall.is_off() {
        return None;
    }
    let mut rng = madsim::rand::thread_rng();
    let roll = rng.gen_range(0..1_000_000u32);
    if roll >= stall.per_million {
        return None;
    }
    stall.duration_for(rng.gen::<f64>(), roll)
}
