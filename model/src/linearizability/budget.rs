//! Limits on one check, so that a hard history ends in `Unknown` instead of a hang or an
//! out-of-memory kill. Every limit is an option; the defaults fit a laptop.

use std::time::{Duration, Instant};

/// How much a check may spend before it answers `Unknown`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Options {
    /// Wall-clock limit for the whole check. `None`: no limit.
    pub timeout: Option<Duration>,
    /// Search steps (operations tried) for the whole check. `None`: no limit.
    pub steps_max: Option<u64>,
    /// Estimated bytes of memoised search states held at once. Deterministic (the same history
    /// spends the same estimate), so a simulation's verdict never depends on the machine.
    pub memo_bytes_max: usize,
    /// The process's resident memory may not pass this: read from the operating system (Linux)
    /// as the search grows, and checked before any large allocation, so the real peak stays
    /// within a few percent of it. `None`: not watched. Not deterministic: for one process per
    /// history (`replsim check --memory`), not inside a simulation.
    pub resident_bytes_max: Option<usize>,
    /// Threads that search partitions at once. 1 (the default) starts no thread: a simulation
    /// must not, and one thread keeps which failing partition is reported deterministic. More
    /// change no verdict, only which of several failing partitions is shown and, near a
    /// budget, whether it runs out.
    pub threads: usize,
    /// What to do with operations the model can split into per-key parts (a DEL of several
    /// keys): see [`SplitOperations`].
    pub split_operations: SplitOperations,
}

/// Whether the checker splits multi-key operations ([`Model::split_into_parts`]) or joins their
/// keys' partitions. Both are exact; they differ in cost. Splitting keeps keys apart but adds a
/// global operation to place per split operation: it wins when few such operations couple
/// keys that long FLUSHDBs make hard to search together, and loses badly when many do in a
/// small history (a 292-op live history with 40 two-key DELs: 0.6 s split, 2 ms joined).
///
/// [`Model::split_into_parts`]: super::Model::split_into_parts
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum SplitOperations {
    /// Joined first, for up to [`WHOLE_FIRST_STEPS`] search steps; split if that does not decide.
    #[default]
    Adaptive,
    /// Always split (tests cross-check this path).
    Always,
    /// Never split: multi-key operations join their keys' partitions.
    Never,
}

/// Steps the joined attempt of [`SplitOperations::Adaptive`] may take: enough for small
/// histories, a few tens of milliseconds where splitting is needed.
pub const WHOLE_FIRST_STEPS: u64 = 200_000;

impl Default for Options {
    fn default() -> Options {
        Options {
            timeout: Some(Duration::from_secs(60)),
            steps_max: None,
            memo_bytes_max: 512 << 20,
            resident_bytes_max: None,
            threads: 1,
            split_operations: SplitOperations::Adaptive,
        }
    }
}

/// The process's resident set size in bytes, if the operating system says (Linux): `VmRSS` of
/// `/proc/self/status`. `/proc/self/statm`'s count was seen 4 MB behind it at 70 MB (read at the
/// same point of a check: 66 MB against 70 MB), which let a 64 MB limit be passed by 10 %.
pub fn resident_bytes() -> Option<usize> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|line| line.starts_with("VmRSS:"))?;
    let kilobytes: usize = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kilobytes * 1024)
}

/// How often the clock is read: an `Instant::now()` per step would cost more than the step.
const STEPS_PER_CLOCK_READ: u64 = 1024;

/// The running account of one check against its [`Options`].
pub(crate) struct Meter {
    deadline: Option<Instant>,
    steps_max: Option<u64>,
    pub(crate) steps_used: u64,
    /// For a thread's share: the steps the whole check had spent when it was made, so that
    /// what the share reports counts them too (the other threads' steps it cannot see).
    steps_before_share: Option<u64>,
    memo_bytes_max: usize,
    /// Estimated memo bytes held by all live searches (paused ones included).
    memo_bytes_held: usize,
    resident_bytes_max: Option<usize>,
    /// Memo bytes charged since the resident size was last read.
    bytes_since_resident_read: usize,
}

/// Read the resident size after this share of its limit was charged (and before big growth).
/// 512: a memo entry's charge counts its own bytes, not the heap its state keeps alive (a
/// key-value state derived by a SET is a few allocations, several times its entry), so at 64 a
/// 64 MB limit was passed by 6 MB between reads; a read costs a few microseconds.
const RESIDENT_READS_PER_LIMIT: usize = 512;

impl Meter {
    /// A meter for one of `parts` threads searching at once: the same deadline and resident
    /// limit, an equal share of the steps and memo still left. [`Meter::join`] accounts for
    /// what it spent.
    pub(crate) fn share(&self, parts: usize) -> Meter {
        let parts = parts.max(1);
        Meter {
            deadline: self.deadline,
            steps_max: self.steps_max.map(|steps_max| steps_max.saturating_sub(self.steps_used) / parts as u64),
            steps_used: 0,
            steps_before_share: Some(self.steps_used),
            memo_bytes_max: self.memo_bytes_max.saturating_sub(self.memo_bytes_held) / parts,
            memo_bytes_held: 0,
            resident_bytes_max: self.resident_bytes_max,
            bytes_since_resident_read: 0,
        }
    }

    /// A meter for a first attempt that may take at most `steps` of the steps left; the same
    /// deadline and limits otherwise. [`Meter::join`] accounts for what it spent.
    pub(crate) fn capped(&self, steps: u64) -> Meter {
        let mut capped = self.share(1);
        capped.steps_max = Some(capped.steps_max.map_or(steps, |left| left.min(steps)));
        capped
    }

    /// Takes back a share's spending: its steps, and the memo its searches still hold.
    pub(crate) fn join(&mut self, share: &Meter) {
        self.steps_used += share.steps_used;
        self.memo_bytes_held += share.memo_bytes_held;
    }

    pub(crate) fn new(options: &Options) -> Meter {
        Meter {
            deadline: options.timeout.map(|timeout| Instant::now() + timeout),
            steps_max: options.steps_max,
            steps_used: 0,
            steps_before_share: None,
            memo_bytes_max: options.memo_bytes_max,
            memo_bytes_held: 0,
            resident_bytes_max: options.resident_bytes_max,
            bytes_since_resident_read: 0,
        }
    }

    /// Whether `bytes` more may be allocated at once without the resident size passing its
    /// limit; `Err(reason)` if not.
    pub(crate) fn check_growth(&mut self, bytes: usize) -> Result<(), String> {
        let Some(limit) = self.resident_bytes_max else { return Ok(()) };
        self.bytes_since_resident_read = 0;
        let Some(resident) = resident_bytes() else { return Ok(()) };
        if resident.saturating_add(bytes) > limit {
            let needed =
                if bytes == 0 { String::new() } else { format!(", {} MB more needed", bytes.div_ceil(1 << 20)) };
            return Err(format!("memory limit of {} MB reached ({} MB resident{needed})", limit >> 20, resident >> 20));
        }
        Ok(())
    }

    /// Counts one step; `Err(reason)` once a limit is spent.
    #[inline]
    pub(crate) fn charge_step(&mut self) -> Result<(), String> {
        self.steps_used += 1;
        if let Some(steps_max) = self.steps_max {
            if self.steps_used > steps_max {
                return Err(match self.steps_before_share {
                    None => format!("step budget of {steps_max} spent"),
                    Some(before) => {
                        format!("step budget spent ({before} steps, then this thread's share of {steps_max})")
                    }
                });
            }
        }
        if self.steps_used.is_multiple_of(STEPS_PER_CLOCK_READ) {
            if let Some(deadline) = self.deadline {
                if Instant::now() >= deadline {
                    return Err(match self.steps_before_share {
                        None => format!("timed out after {} search steps", self.steps_used),
                        Some(before) => format!("timed out after more than {} search steps", before + self.steps_used),
                    });
                }
            }
        }
        Ok(())
    }

    /// Accounts for `bytes` more of memo; `Err(reason)` once the memo budget is spent.
    pub(crate) fn charge_memo(&mut self, bytes: usize) -> Result<(), String> {
        self.memo_bytes_held += bytes;
        if self.memo_bytes_held > self.memo_bytes_max {
            return Err(format!("memo budget of {} MB spent", self.memo_bytes_max >> 20));
        }
        if let Some(limit) = self.resident_bytes_max {
            self.bytes_since_resident_read += bytes;
            if self.bytes_since_resident_read >= limit / RESIDENT_READS_PER_LIMIT {
                self.check_growth(0)?;
            }
        }
        Ok(())
    }

    pub(crate) fn memo_bytes_max(&self) -> usize {
        self.memo_bytes_max
    }

    /// Gives back memo bytes a search charged, once the search is dropped.
    pub(crate) fn release_memo(&mut self, bytes: usize) {
        assert!(bytes <= self.memo_bytes_held, "released more memo than was charged");
        self.memo_bytes_held -= bytes;
    }
}
