//! Scenarios: a workload (drawn from a profile, or a written script) plus the cluster it runs on.
//! A scenario and a seed fix a run completely; the apply mode is chosen separately, so one
//! scenario checks every mode. The five named ones are built with [`crate::builder::Builder`],
//! as users build theirs (or read them from a file, [`crate::file`]).

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use replsim_sim::config::{ApplyMode, ClusterConfig};

use crate::builder::Builder;
use crate::file::ScenarioSpec;
use crate::generate::{OpMix, WorkloadProfile};
use crate::script::Script;

/// A built-in scenario, through the same builder users write theirs with.
fn builtin(name: &str, summary: &str, profile: WorkloadProfile, swarm: Option<Swarm>) -> Scenario {
    let builder = Builder::new(name).summary(summary).generate(&profile);
    let builder = match swarm {
        Some(swarm) => builder.swarm(swarm),
        None => builder,
    };
    builder.build().unwrap_or_else(|error| panic!("built-in scenario {name}: {error}"))
}

/// A scenario: how each seed's workload is made, and the cluster it runs on. Built-in ones are
/// named here; written ones come from a file ([`crate::file::load`]) or a
/// [`crate::builder::Builder`].
#[derive(Clone, Debug)]
pub struct Scenario {
    pub name: String,
    pub summary: String,
    /// The workload drawn per seed when there is no `script`.
    pub profile: WorkloadProfile,
    pub cluster: ClusterConfig,
    /// Swarm testing: each seed draws its own configuration and fault schedule
    /// ([`crate::swarm::SwarmConfig`]), overriding `profile` and parts of `cluster`.
    pub swarm: Option<Swarm>,
    /// A written scenario's clients, ordering, expectations and drawn parts.
    pub script: Option<Arc<Script>>,
    /// The file it was read from: repro and regression lines name it.
    pub source: Option<PathBuf>,
    /// The mode `replay` and `shrink` use when the command line gives none.
    pub default_mode: Option<ApplyMode>,
    /// What it was built from, to write it back as a file.
    pub spec: Option<Arc<ScenarioSpec>>,
}

/// How a swarm scenario picks its fault kinds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Swarm {
    /// Each seed turns each fault kind on or off.
    Drawn,
    /// Every fault kind is on for every seed; the rest is drawn as usual.
    EveryFault,
    /// Pika's integration-test shape: one client, each command waiting for its reply — writes,
    /// then FLUSHDB, then (after catch-up) reads on the replicas. Stalls on, the rest drawn.
    Sequential,
}

impl Scenario {
    /// Every scenario, in the order `fuzz --scenario all` runs them.
    pub fn all() -> Vec<Scenario> {
        vec![flushdb_race(), pika_steps(), multi_db(), swarm(), swarm_every_fault(), sequential()]
    }

    pub fn names() -> Vec<String> {
        Scenario::all().into_iter().map(|scenario| scenario.name).collect()
    }

    pub fn by_name(name: &str) -> Option<Scenario> {
        Scenario::all().into_iter().find(|scenario| scenario.name == name)
    }

    /// The cluster configuration for `mode`.
    pub fn cluster_for(&self, mode: ApplyMode) -> ClusterConfig {
        let mut cluster = self.cluster.clone();
        cluster.apply.mode = mode;
        cluster.replicas = self.profile.replicas;
        cluster.databases = self.profile.databases;
        cluster
    }
}

/// The default: four clients hammer eight keys with writes and the occasional FLUSHDB while one
/// replica applies on four workers.
fn flushdb_race() -> Scenario {
    builtin(
        "flushdb-race",
        "4 clients x 50 ops on 8 keys with FLUSHDB, 1 replica with 4 apply workers",
        WorkloadProfile::default(),
        None,
    )
}

/// Shaped after Pika's `tests/integration/replication_test.go`: short bursts of writes and a
/// FLUSHDB, each followed by waiting for the replica and comparing — many checkpoints per seed.
fn pika_steps() -> Scenario {
    let profile = WorkloadProfile {
        phases: 6..=6,
        clients: 2..=2,
        ops_per_client: 8..=8,
        keys: 4,
        mix: OpMix { set: 50, get: 10, del: 10, del_multi: 10, flushdb: 12, flushall: 0, replica_get: 0 },
        think_max: Duration::from_millis(2),
        ..WorkloadProfile::default()
    };
    builtin(
        "pika-steps",
        "6 phases of 2 clients x 8 ops, catch-up and compare after each (Pika's integration test)",
        profile,
        None,
    )
}

/// Several databases (SELECT) and FLUSHALL, two replicas: FLUSHALL must reach every database of
/// every replica in order with the writes around it (Pika PR #2846).
fn multi_db() -> Scenario {
    let profile = WorkloadProfile {
        clients: 3..=3,
        databases: 3,
        replicas: 2,
        keys: 6,
        mix: OpMix { set: 50, get: 10, del: 10, del_multi: 5, flushdb: 6, flushall: 4, replica_get: 0 },
        ..WorkloadProfile::default()
    };
    builtin("multi-db", "3 databases with FLUSHDB and FLUSHALL, 2 replicas, 3 clients x 50 ops", profile, None)
}

/// Faults and swarm testing: every seed picks its replica count (1-3), databases, op mix, apply
/// pipeline, latency and packet loss, binlog retention, re-sends and which fault kinds (partition,
/// replica kill, primary restart, link reset) strike when. The default configuration for planted
/// bugs: every bug's preconditions hold on a good share of seeds.
fn swarm() -> Scenario {
    builtin(
        "swarm",
        "per seed: 1-3 replicas, op mix, latency/loss, retention, partitions, kills, restarts, resets",
        WorkloadProfile::default(),
        Some(Swarm::Drawn),
    )
}

/// The swarm with every fault kind on for every seed: the release soak of the fixed modes.
fn swarm_every_fault() -> Scenario {
    builtin(
        "swarm-every-fault",
        "swarm with partitions, replica kills, primary restarts and link resets on every seed",
        WorkloadProfile::default(),
        Some(Swarm::EveryFault),
    )
}

impl Swarm {
    /// The name a scenario file gives it (`swarm = "drawn"`).
    pub fn name(self) -> &'static str {
        match self {
            Swarm::Drawn => "drawn",
            Swarm::EveryFault => "every-fault",
            Swarm::Sequential => "sequential",
        }
    }
}

/// The shape a new user writes first: one client, each command waits for its reply — writes,
/// then FLUSHDB, then, after the replicas catch up, a read of every key on a replica. Uniform
/// 1–4 ms applies almost never let FLUSHDB overtake a write here (about 1 seed in 10,000 under
/// hash-by-key); the seed's stalls do. The rest of the cluster (replicas, workers, latency) is
/// drawn per seed as in `swarm`.
fn sequential() -> Scenario {
    builtin(
        "sequential",
        "1 client, one command at a time: writes, FLUSHDB, then replica reads after catch-up; stalls on",
        WorkloadProfile::default(),
        Some(Swarm::Sequential),
    )
}
