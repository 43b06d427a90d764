//! Coverage marks: named points in the system under test that a good campaign must *sometimes*
//! reach (TigerBeetle's marks, Antithesis' `sometimes`). A fuzz campaign that never waited at a
//! barrier proves nothing about barriers; the marks say which interesting branches the runs
//! actually took.
//!
//! ```
//! use replsim_sim::marks::{Mark, MarkCounts};
//! let mut counts = MarkCounts::default();
//! counts.hit(Mark::BarrierWaited);
//! counts.hit(Mark::BarrierWaited);
//! assert_eq!(counts.get(Mark::BarrierWaited), 2);
//! assert_eq!(counts.hit_marks().collect::<Vec<_>>(), vec![Mark::BarrierWaited]);
//! assert_eq!(Mark::BarrierWaited.name(), "barrier-waited");
//! assert_eq!("barrier-waited".parse::<Mark>(), Ok(Mark::BarrierWaited));
//! ```
//!
//! A mark is a counter in the probe, not a trace line: hitting one costs a lock and an add, and
//! a run's trace (and its hash) is the same with or without them.

use std::fmt;
use std::str::FromStr;

macro_rules! marks {
    ($($(#[doc = $doc:literal])* $variant:ident => $name:literal,)+) => {
        /// A named point in the system under test.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub enum Mark {
            $($(#[doc = $doc])* $variant,)+
        }

        impl Mark {
            /// Every mark, in the order reports list them.
            pub const ALL: &'static [Mark] = &[$(Mark::$variant,)+];

            /// The one name table: reports, `--json` and the README use these names.
            pub fn name(self) -> &'static str {
                match self {
                    $(Mark::$variant => $name,)+
                }
            }
        }
    };
}

marks! {
    /// A barrier (global command under `barrier`) waited for writes of its database in flight.
    BarrierWaited => "barrier-waited",
    /// A global command was applied while an earlier entry was still unapplied (the race itself).
    FlushOvertookWrite => "flush-overtook-write",
    /// A full sync reached a replica whose apply workers still held writes.
    FullSyncWithWritesQueued => "full-sync-with-writes-queued",
    /// The primary answered a TrySync with a full sync (the replica's offset was purged).
    FullSync => "full-sync",
    /// A replica reconnected and the primary continued its stream from a non-zero offset.
    IncrementalResync => "incremental-resync",
    /// The primary's retransmit timer fired: a batch was re-sent.
    BatchResent => "batch-resent",
    /// A replica received an entry it already held and ignored it.
    DuplicateEntryIgnored => "duplicate-entry-ignored",
    /// An ack arrived for a connection the primary had already replaced or dropped.
    AckStale => "ack-stale",
    /// A late ack acknowledged more than the rewound send cursor (it overtook a re-send).
    AckOvertookResend => "ack-overtook-resend",
    /// The send window was full: the primary waited for acks with entries to send.
    WindowFull => "window-full",
    /// An apply worker's queue was full: dispatch waited.
    ApplyQueueFull => "apply-queue-full",
    /// A replica restarted while writes were in flight in its apply workers (they were lost).
    ReplicaRestartedMidApply => "replica-restarted-mid-apply",
    /// The primary restarted with a non-empty binlog.
    PrimaryRestarted => "primary-restarted",
    /// Binlog retention purged entries.
    BinlogPurged => "binlog-purged",
    /// A replica served a read while it held received but unapplied entries.
    ReplicaReadWhileBehind => "replica-read-while-behind",
    /// A client gave an operation up as indeterminate (no reply in time, or the connection died).
    ClientGaveUp => "client-gave-up",
    /// An apply worker stalled.
    StallApplyWorker => "stall-apply-worker",
    /// A replica's binlog thread stalled.
    StallBinlogThread => "stall-binlog-thread",
    /// The replication link stalled a batch or an ack.
    StallNetwork => "stall-network",
    /// The primary stalled before executing a command.
    StallPrimary => "stall-primary",
}

impl Mark {
    pub const COUNT: usize = Mark::ALL.len();

    fn index(self) -> usize {
        self as usize
    }
}

impl fmt::Display for Mark {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(self.name())
    }
}

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("unknown mark '{0}'")]
pub struct UnknownMark(pub String);

impl FromStr for Mark {
    type Err = UnknownMark;

    fn from_str(text: &str) -> Result<Mark, UnknownMark> {
        Mark::ALL.iter().copied().find(|mark| mark.name() == text).ok_or_else(|| UnknownMark(text.to_string()))
    }
}

/// How often each mark was hit (in one run, or summed over a campaign).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MarkCounts([u64; Mark::COUNT]);

impl Default for MarkCounts {
    fn default() -> MarkCounts {
        MarkCounts([0; Mark::COUNT])
    }
}

impl MarkCounts {
    pub fn hit(&mut self, mark: Mark) {
        self.0[mark.index()] += 1;
    }

    pub fn get(&self, mark: Mark) -> u64 {
        self.0[mark.index()]
    }

    /// The marks hit at least once, in [`Mark::ALL`] order.
    pub fn hit_marks(&self) -> impl Iterator<Item = Mark> + '_ {
        Mark::ALL.iter().copied().filter(|mark| self.get(*mark) > 0)
    }

    /// Adds one run's marks as "runs that hit each mark" (1 per mark hit, however often).
    pub fn add_run(&mut self, run: &MarkCounts) {
        for mark in run.hit_marks() {
            self.hit(mark);
        }
    }
}
