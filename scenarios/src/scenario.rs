//! Named scenarios: a workload profile plus the cluster it runs on. A scenario and a seed fix a
//! run completely; the apply mode is chosen separately, so one scenario checks every mode.

use std::time::Duration;

use replsim_sim::config::{ApplyMode, ClusterConfig};

use crate::generate::{OpMix, WorkloadProfile};

#[derive(Clone, Debug)]
pub struct Scenario {
    pub name: &'static str,
    pub summary: &'static str,
    pub profile: WorkloadProfile,
    pub cluster: ClusterConfig,
    /// Swarm testing: each seed draws its own configuration and fault schedule
    /// ([`crate::swarm::SwarmConfig`]), overriding `profile` and parts of `cluster`.
    pub swarm: Option<Swarm>,
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

    pub fn names() -> Vec<&'static str> {
        Scenario::all().iter().map(|scenario| scenario.name).collect()
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
    Scenario {
        name: "flushdb-race",
        summary: "4 clients x 50 ops on 8 keys with FLUSHDB, 1 replica with 4 apply workers",
        profile: WorkloadProfile::default(),
        cluster: ClusterConfig::default(),
        swarm: None,
    }
}

/// Shaped after Pika's `tests/integration/replication_test.go`: short bursts of writes and a
/// FLUSHDB, each followed by waiting for the replica and comparing — many checkpoints per seed.
fn pika_steps() -> Scenario {
    Scenario {
        name: "pika-steps",
        summary: "6 phases of 2 clients x 8 ops, catch-up and compare after each (Pika's integration test)",
        profile: WorkloadProfile {
            phases: 6..=6,
            clients: 2..=2,
            ops_per_client: 8..=8,
            keys: 4,
            mix: OpMix { set: 50, get: 10, del: 10, del_multi: 10, flushdb: 12, flushall: 0, replica_get: 0 },
            think_max: Duration::from_millis(2),
            ..WorkloadProfile::default()
        },
        cluster: ClusterConfig::default(),
        swarm: None,
    }
}

/// Several databases (SELECT) and FLUSHALL, two replicas: FLUSHALL must reach every database of
/// every replica in order with the writes around it (Pika PR #2846).
fn multi_db() -> Scenario {
    Scenario {
        name: "multi-db",
        summary: "3 databases with FLUSHDB and FLUSHALL, 2 replicas, 3 clients x 50 ops",
        profile: WorkloadProfile {
            clients: 3..=3,
            databases: 3,
            replicas: 2,
            keys: 6,
            mix: OpMix { set: 50, get: 10, del: 10, del_multi: 5, flushdb: 6, flushall: 4, replica_get: 0 },
            ..WorkloadProfile::default()
        },
        cluster: ClusterConfig::default(),
        swarm: None,
    }
}

/// Faults and swarm testing: every seed picks its replica count (1-3), databases, op mix, apply
/// pipeline, latency and packet loss, binlog retention, re-sends and which fault kinds (partition,
/// replica kill, primary restart, link reset) strike when. The default configuration for planted
/// bugs: every bug's preconditions hold on a good share of seeds.
fn swarm() -> Scenario {
    Scenario {
        name: "swarm",
        summary: "per seed: 1-3 replicas, op mix, latency/loss, retention, partitions, kills, restarts, resets",
        profile: WorkloadProfile::default(),
        cluster: ClusterConfig::default(),
        swarm: Some(Swarm::Drawn),
    }
}

/// The swarm with every fault kind on for every seed: the release soak of the fixed modes.
fn swarm_every_fault() -> Scenario {
    Scenario {
        name: "swarm-every-fault",
        summary: "swarm with partitions, replica kills, primary restarts and link resets on every seed",
        profile: WorkloadProfile::default(),
        cluster: ClusterConfig::default(),
        swarm: Some(Swarm::EveryFault),
    }
}

/// The shape a new user writes first: one client, each command waits for its reply — writes,
/// then FLUSHDB, then, after the replicas catch up, a read of every key on a replica. Uniform
/// 1–4 ms applies almost never let FLUSHDB overtake a write here (about 1 seed in 10,000 under
/// hash-by-key); the seed's stalls do. The rest of the cluster (replicas, workers, latency) is
/// drawn per seed as in `swarm`.
fn sequential() -> Scenario {
    Scenario {
        name: "sequential",
        summary: "1 client, one command at a time: writes, FLUSHDB, then replica reads after catch-up; stalls on",
        profile: WorkloadProfile::default(),
        cluster: ClusterConfig::default(),
        swarm: Some(Swarm::Sequential),
    }
}
