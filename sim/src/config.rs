//! How a simulated cluster is set up: replica count, the replica's apply mode and pipeline, the
//! replication window, network latency and the deadlines that turn hangs into reported failures.

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use replsim_model::command::Command;
use serde::{Deserialize, Serialize};

use crate::behaviour::{Behaviour, Behaviours};
use crate::bug::Bug;
use crate::fault::FaultSchedule;
use crate::hash::stable_hash;
use crate::stall::StallConfig;

/// How a replica turns its received binlog into store writes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum ApplyMode {
    /// Pika before PR #2808: each entry goes to the worker picked by hashing its dispatch key
    /// (`argv[1]`, or the command name when there is none). FLUSHDB races earlier writes.
    HashByKey,
    /// The fix: keyed entries are dispatched by key, but a global command first waits until
    /// every write already dispatched to its database has been applied, is applied alone, and only
    /// then does dispatch resume (Pika's per-DB unfinished-task counter).
    Barrier,
    /// One worker applies everything in binlog order.
    Serial,
    /// The #2808 fix as merged (`pika_consensus.cc:350-367`): only a `flushdb` entry waits, by
    /// polling its database's count of queued and running writes with a 250 ms back-off that
    /// doubles up to 3 s; only then is it appended to the replica's binlog and applied on the
    /// binlog task itself. Keyed writes are dispatched by key, as in `hash-by-key`.
    MergedFix,
}

impl ApplyMode {
    pub const ALL: [ApplyMode; 4] = [ApplyMode::HashByKey, ApplyMode::Barrier, ApplyMode::Serial, ApplyMode::MergedFix];

    /// Where a replica sends `command`, given `workers` apply workers.
    pub fn dispatch(self, command: &Command, workers: usize) -> Dispatch {
        match self {
            ApplyMode::Serial => Dispatch::Worker(0),
            ApplyMode::Barrier if command.is_global() => Dispatch::Barrier,
            ApplyMode::MergedFix if matches!(command, Command::FlushDb { .. }) => Dispatch::PolledBarrier,
            ApplyMode::HashByKey | ApplyMode::Barrier | ApplyMode::MergedFix => {
                Dispatch::Worker((stable_hash(command.dispatch_key().as_bytes()) % workers as u64) as usize)
            }
        }
    }

    /// The modes that are meant to be correct.
    pub fn is_fixed(self) -> bool {
        self != ApplyMode::HashByKey
    }

    /// The modes `fuzz --mode fixed` runs: the ideal fixes (the merged fix is asked for by name).
    pub fn is_ideal_fix(self) -> bool {
        matches!(self, ApplyMode::Barrier | ApplyMode::Serial)
    }
}

/// Where one binlog entry is applied.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dispatch {
    Worker(usize),
    /// Drain the entry's database, apply it on the dispatching task, then resume.
    Barrier,
    /// The merged fix: poll the database's in-flight count with back-off until it is zero, then
    /// append the entry and apply it on the dispatching task.
    PolledBarrier,
}

impl fmt::Display for ApplyMode {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(match self {
            ApplyMode::HashByKey => "hash-by-key",
            ApplyMode::Barrier => "barrier",
            ApplyMode::Serial => "serial",
            ApplyMode::MergedFix => "merged-fix",
        })
    }
}

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("unknown apply mode '{0}' (expected one of: hash-by-key, barrier, serial, merged-fix)")]
pub struct UnknownApplyMode(pub String);

impl FromStr for ApplyMode {
    type Err = UnknownApplyMode;

    fn from_str(text: &str) -> Result<ApplyMode, UnknownApplyMode> {
        ApplyMode::ALL
            .into_iter()
            .find(|mode| mode.to_string() == text)
            .ok_or_else(|| UnknownApplyMode(text.to_string()))
    }
}

/// The replica's apply pipeline (Pika's WriteDB worker pool).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApplyConfig {
    pub mode: ApplyMode,
    pub workers: usize,
    /// Each apply takes a random time in this range: this is what makes workers interleave.
    pub delay_min: Duration,
    pub delay_max: Duration,
    /// Bound of each worker's queue; dispatch waits when it is full.
    pub queue_capacity: usize,
}

/// Pika's shipped `sync-thread-num` (`conf/pika.conf:58`).
pub const PIKA_APPLY_WORKERS: usize = 6;
/// Pika's bound of one worker's task queue (`src/net/include/bg_thread.h:70`).
pub const PIKA_APPLY_QUEUE_CAPACITY: usize = 1000;

impl ApplyConfig {
    /// The pipeline a replica runs: this one, or Pika's shipped shape under `pika-dispatch`.
    pub fn as_run(&self, behaviours: &Behaviours) -> ApplyConfig {
        let mut config = self.clone();
        if behaviours.has(Behaviour::PikaDispatch) {
            config.workers = PIKA_APPLY_WORKERS;
            config.queue_capacity = PIKA_APPLY_QUEUE_CAPACITY;
        }
        config
    }
}

/// The binlog stream from primary to replica.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReplicationConfig {
    pub batch_entries_max: usize,
    /// Entries sent but not yet acknowledged as written to the replica's binlog.
    pub window_entries_max: u64,
    /// Bounded binlog retention: the primary keeps at most this many entries beyond what every
    /// online replica has acknowledged; a replica that comes back behind the purged point gets a
    /// full sync. `None`: the binlog is never purged.
    pub binlog_retention_entries: Option<u64>,
    /// Go-back-N: when no ack has advanced for this long while entries are unacknowledged, the
    /// primary re-sends from the last acknowledged offset. The replica sees duplicate batches and
    /// must ignore them. `None`: never re-send (the connection is reliable).
    pub retransmit_after: Option<Duration>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NetworkConfig {
    pub latency_min: Duration,
    pub latency_max: Duration,
    /// madsim's packet loss, in parts per million of packets (an integer keeps the config `Eq`).
    /// On the reliable connections replication uses, a lost packet is re-tried with backoff: loss
    /// shows up as latency spikes, never as missing messages.
    pub packet_loss_per_million: u32,
}

impl NetworkConfig {
    pub fn packet_loss_rate(&self) -> f64 {
        f64::from(self.packet_loss_per_million) / 1_000_000.0
    }
}

/// Simulated-time bounds: missing one is a reported outcome, never a hang.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Deadlines {
    /// How long one workload phase may take before the run is declared timed out.
    pub phase: Duration,
    /// How long replicas have to catch up with the primary after a phase.
    pub catch_up: Duration,
    /// How long a client waits for one reply before it gives the operation up as indeterminate.
    pub request: Duration,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClusterConfig {
    pub replicas: usize,
    /// Logical databases (`SELECT 0..databases`).
    pub databases: u8,
    pub apply: ApplyConfig,
    pub replication: ReplicationConfig,
    pub network: NetworkConfig,
    pub deadlines: Deadlines,
    /// Faults the harness injects during the phases (empty: none).
    pub faults: FaultSchedule,
    /// A planted defect (`None`: the system as designed).
    pub bug: Option<Bug>,
    /// Which parts behave as Pika's code does instead of the ideal (empty: the ideal profile).
    #[serde(default)]
    pub behaviours: Behaviours,
    /// Rare long pauses of apply workers, the binlog thread, the link and the primary (all off
    /// by default; swarm draws them per seed with `--faults stall`).
    #[serde(default)]
    pub stalls: StallConfig,
}

impl ClusterConfig {
    /// Hard bounds that keep every queue and loop finite; checked before a run starts.
    pub fn validate(&self) -> Result<(), String> {
        let checks = [
            (1..=8).contains(&self.replicas).then_some(()).ok_or("replicas must be 1..=8"),
            (1..=16).contains(&self.databases).then_some(()).ok_or("databases must be 1..=16"),
            (1..=64).contains(&self.apply.workers).then_some(()).ok_or("workers must be 1..=64"),
            (self.apply.delay_min <= self.apply.delay_max)
                .then_some(())
                .ok_or("apply delay_min must not exceed delay_max"),
            (1..=4096).contains(&self.apply.queue_capacity).then_some(()).ok_or("queue_capacity must be 1..=4096"),
            (1..=4096)
                .contains(&self.replication.batch_entries_max)
                .then_some(())
                .ok_or("batch_entries_max must be 1..=4096"),
            (1..=65536)
                .contains(&self.replication.window_entries_max)
                .then_some(())
                .ok_or("window_entries_max must be 1..=65536"),
            (self.network.latency_min <= self.network.latency_max)
                .then_some(())
                .ok_or("latency_min must not exceed latency_max"),
            (self.network.packet_loss_per_million <= 500_000)
                .then_some(())
                .ok_or("packet_loss_per_million must be at most 500000"),
            self.replication
                .binlog_retention_entries
                .is_none_or(|entries| entries >= 1)
                .then_some(())
                .ok_or("binlog_retention_entries must be at least 1"),
            self.replication
                .retransmit_after
                .is_none_or(|after| after >= Duration::from_millis(1))
                .then_some(())
                .ok_or("retransmit_after must be at least 1 ms"),
            self.faults.validate(self.replicas),
            self.stalls.validate(),
        ];
        checks.into_iter().collect::<Result<(), &str>>().map_err(str::to_string)
    }
}

impl Default for ClusterConfig {
    fn default() -> ClusterConfig {
        ClusterConfig {
            replicas: 1,
            databases: 1,
            apply: ApplyConfig {
                mode: ApplyMode::Barrier,
                workers: 4,
                delay_min: Duration::from_millis(1),
                delay_max: Duration::from_millis(4),
                queue_capacity: 256,
            },
            replication: ReplicationConfig {
                batch_entries_max: 32,
                window_entries_max: 256,
                binlog_retention_entries: None,
                retransmit_after: None,
            },
            network: NetworkConfig {
                latency_min: Duration::from_millis(1),
                latency_max: Duration::from_millis(5),
                packet_loss_per_million: 0,
            },
            deadlines: Deadlines {
                phase: Duration::from_secs(60),
                catch_up: Duration::from_secs(10),
                request: Duration::from_secs(5),
            },
            faults: FaultSchedule::default(),
            bug: None,
            behaviours: Behaviours::default(),
            stalls: StallConfig::default(),
        }
    }
}
