//! Swarm testing: each seed picks its own configuration — which fault kinds are on and how hard,
//! the op mix, the replica and database counts, the apply pipeline, binlog retention — so that
//! many seeds explore the fault space broadly instead of all probing the same mixture. The
//! configuration is a pure function of the seed (a proptest strategy, so it shrinks), part of the
//! run's [`Case`](crate::runner::Case), and printed with every failure.
//!
//! ```
//! use proptest::strategy::ValueTree;
//! use replsim_scenarios::swarm::SwarmConfig;
//! let swarm = SwarmConfig::for_seed(7);
//! assert_eq!(swarm, SwarmConfig::for_seed(7));
//! let faults = swarm.fault_schedule(7);
//! assert!(faults.steps.iter().all(|step| step.phase < swarm.phases));
//! println!("{swarm}");
//! ```

use std::fmt;
use std::time::Duration;

use proptest::prelude::*;
use proptest::strategy::ValueTree;
use replsim_sim::config::ClusterConfig;
use replsim_sim::fault::{Fault, FaultSchedule, FaultStep};
use replsim_sim::stall::{Stall, StallConfig};
use serde::{Deserialize, Serialize};

use crate::generate::{generate, OpMix, WorkloadProfile};
use crate::scenario::Swarm;

/// Which fault kinds a seed turns on.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FaultKinds {
    pub partition: bool,
    pub kill_replica: bool,
    pub restart_primary: bool,
    pub reset_link: bool,
    /// Rare long pauses (apply workers, binlog thread, link, primary): not scheduled steps but a
    /// per-task chance, so they strike anywhere in a run.
    #[serde(default)]
    pub stall: bool,
}

impl FaultKinds {
    /// Every kind on (the CLI's "every fault kind" runs, and the release fuzz numbers).
    pub const ALL: FaultKinds =
        FaultKinds { partition: true, kill_replica: true, restart_primary: true, reset_link: true, stall: true };

    /// Only stalls (the sequential scenario's default).
    pub const STALL: FaultKinds =
        FaultKinds { partition: false, kill_replica: false, restart_primary: false, reset_link: false, stall: true };

    /// Whether any kind that needs a fault schedule is on.
    fn any_scheduled(&self) -> bool {
        self.partition || self.kill_replica || self.restart_primary || self.reset_link
    }

    fn names(&self) -> Vec<&'static str> {
        [
            (self.partition, "partition"),
            (self.kill_replica, "kill-replica"),
            (self.restart_primary, "restart-primary"),
            (self.reset_link, "reset-link"),
            (self.stall, "stall"),
        ]
        .into_iter()
        .filter_map(|(on, name)| on.then_some(name))
        .collect()
    }
}

/// `--faults`: `all`, `none`, or a comma-separated list of kinds.
impl std::str::FromStr for FaultKinds {
    type Err = String;

    fn from_str(text: &str) -> Result<FaultKinds, String> {
        match text {
            "all" => return Ok(FaultKinds::ALL),
            "none" => return Ok(FaultKinds::default()),
            _ => {}
        }
        let mut kinds = FaultKinds::default();
        for name in text.split(',').map(str::trim) {
            let switch = match name {
                "partition" => &mut kinds.partition,
                "kill-replica" => &mut kinds.kill_replica,
                "restart-primary" => &mut kinds.restart_primary,
                "reset-link" => &mut kinds.reset_link,
                "stall" => &mut kinds.stall,
                _ => {
                    return Err(format!(
                        "unknown fault kind '{name}' (known: partition, kill-replica, restart-primary, reset-link, stall, or all, none)"
                    ))
                }
            };
            *switch = true;
        }
        Ok(kinds)
    }
}

impl fmt::Display for FaultKinds {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.names() {
            names if names.is_empty() => formatter.write_str("none"),
            names => formatter.write_str(&names.join(",")),
        }
    }
}

/// One seed's choice of everything the swarm varies.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SwarmConfig {
    pub replicas: usize,
    pub databases: u8,
    pub keys: usize,
    pub phases: usize,
    pub clients: usize,
    pub ops_per_client: usize,
    pub mix: OpMix,
    pub apply_workers: usize,
    pub apply_delay_max_ms: u64,
    pub latency_min_us: u64,
    pub latency_max_us: u64,
    pub packet_loss_per_million: u32,
    pub binlog_retention_entries: Option<u64>,
    pub retransmit_after_ms: Option<u64>,
    pub faults: FaultKinds,
    pub faults_per_phase_max: usize,
    /// The seed's stall magnitudes, in force when `faults.stall` is on (drawn either way, so
    /// `--faults stall` on any seed has them).
    #[serde(default)]
    pub stalls: StallConfig,
    /// The replication window and the apply queues: small on some seeds, so flow control (a
    /// full window, a full worker queue) is exercised too.
    #[serde(default = "default_window_entries_max")]
    pub window_entries_max: u64,
    #[serde(default = "default_apply_queue_capacity")]
    pub apply_queue_capacity: usize,
}

fn default_window_entries_max() -> u64 {
    ClusterConfig::default().replication.window_entries_max
}

fn default_apply_queue_capacity() -> usize {
    ClusterConfig::default().apply.queue_capacity
}

/// Seeds the swarm configuration and the fault schedule apart from the workload, so the three
/// are independent draws from one seed.
const SWARM_SALT: u64 = 0x5357_4152_4d00_0001;
const FAULTS_SALT: u64 = 0x4641_554c_5400_0002;
/// Stalls are drawn apart from the rest, so adding them left every other draw of a seed as it was.
const STALLS_SALT: u64 = 0x5354_414c_4c00_0003;
const BOUNDS_SALT: u64 = 0x424f_554e_4400_0005;

/// Stall durations: log-uniform from 50 ms up to a drawn maximum of 0.2–2 s (the issue's 1 % of
/// tasks taking 50 ms – 2 s).
const STALL_MIN_MS: u64 = 50;
const STALL_MAX_MS: std::ops::RangeInclusive<u64> = 200..=2_000;

/// When faults may start after a phase starts, and how long they may last: phases of the swarm's
/// workloads take a few hundred simulated milliseconds.
const FAULT_START_MAX_MS: u64 = 300;
const FAULT_DURATION_MS: std::ops::RangeInclusive<u64> = 5..=300;

fn on(probability: f64) -> proptest::bool::Weighted {
    proptest::bool::weighted(probability)
}

fn weight_if(enabled: bool, weight: u32) -> u32 {
    if enabled {
        weight
    } else {
        0
    }
}

impl SwarmConfig {
    /// The strategy every swarm configuration is drawn from. Probabilities are chosen so each
    /// planted bug's preconditions (several databases with FLUSHALL, multi-key DEL, re-sends, long
    /// outages with a short binlog) hold on a good share of seeds.
    pub fn strategy() -> impl Strategy<Value = SwarmConfig> {
        let shape = (1usize..=3, 1u8..=3, 3usize..=8, 1usize..=3, 2usize..=4, 15usize..=40);
        let mix = (on(0.6), on(0.6), on(0.7), on(0.8), on(0.7), on(0.6));
        let pipeline = (2usize..=6, 2u64..=8);
        let network = (0u64..=1_000, 500u64..=8_000, on(0.5), 1_000u32..=30_000);
        let protocol = (on(0.6), 4u64..=48, on(0.5), 5u64..=40);
        let faults = (on(0.6), on(0.6), on(0.5), on(0.6), 1usize..=4);
        (shape, mix, pipeline, network, protocol, faults).prop_map(
            |(shape, mix, pipeline, network, protocol, faults)| {
                let (replicas, databases, keys, phases, clients, ops_per_client) = shape;
                let (get, del, del_multi, flushdb, flushall, replica_get) = mix;
                let (latency_min_us, jitter_us, lossy, loss_ppm) = network;
                let (retention_on, retention, retransmit_on, retransmit_ms) = protocol;
                let (partition, kill_replica, restart_primary, reset_link, faults_per_phase_max) = faults;
                SwarmConfig {
                    replicas,
                    databases,
                    keys,
                    phases,
                    clients,
                    ops_per_client,
                    mix: OpMix {
                        set: 50,
                        get: weight_if(get, 10),
                        del: weight_if(del, 8),
                        del_multi: weight_if(del_multi, 10),
                        flushdb: weight_if(flushdb, 6),
                        flushall: weight_if(flushall, 5),
                        replica_get: weight_if(replica_get, 10),
                    },
                    apply_workers: pipeline.0,
                    apply_delay_max_ms: pipeline.1,
                    latency_min_us,
                    latency_max_us: latency_min_us + jitter_us,
                    packet_loss_per_million: if lossy { loss_ppm } else { 0 },
                    binlog_retention_entries: retention_on.then_some(retention),
                    retransmit_after_ms: retransmit_on.then_some(retransmit_ms),
                    faults: FaultKinds { partition, kill_replica, restart_primary, reset_link, stall: false },
                    faults_per_phase_max,
                    stalls: StallConfig::default(),
                    window_entries_max: default_window_entries_max(),
                    apply_queue_capacity: default_apply_queue_capacity(),
                }
            },
        )
    }

    /// Whether stalls are on, and how often and long each place stalls. Per task: apply workers
    /// 0.2–3 %, the binlog thread and the link 0.1–2 %, the primary 0.05–1 %.
    pub fn stall_strategy() -> impl Strategy<Value = (bool, StallConfig)> {
        let stall = |per_million: std::ops::RangeInclusive<u32>| {
            (per_million, STALL_MAX_MS).prop_map(|(per_million, max_ms)| Stall {
                per_million,
                min: Duration::from_millis(STALL_MIN_MS),
                max: Duration::from_millis(max_ms),
            })
        };
        (on(0.5), stall(2_000..=30_000), stall(1_000..=20_000), stall(1_000..=20_000), stall(500..=10_000)).prop_map(
            |(on, apply_worker, binlog_thread, network, primary)| {
                (on, StallConfig { apply_worker, binlog_thread, network, primary })
            },
        )
    }

    /// The replication window and apply queue capacity: on a third of seeds each is small.
    pub fn bounds_strategy() -> impl Strategy<Value = (u64, usize)> {
        let window = (on(0.3), 2u64..=32)
            .prop_map(|(small, entries)| if small { entries } else { default_window_entries_max() });
        let queue = (on(0.3), 1usize..=8)
            .prop_map(|(small, capacity)| if small { capacity } else { default_apply_queue_capacity() });
        (window, queue)
    }

    /// Drawn in three independent parts (each from its own salt), so that adding a part left the
    /// earlier parts of every seed as they were.
    pub fn for_seed(seed: u64) -> SwarmConfig {
        let mut config: SwarmConfig = generate(&SwarmConfig::strategy(), seed ^ SWARM_SALT).current();
        let (stall, stalls) = generate(&SwarmConfig::stall_strategy(), seed ^ STALLS_SALT).current();
        config.faults.stall = stall;
        config.stalls = stalls;
        let (window_entries_max, apply_queue_capacity) =
            generate(&SwarmConfig::bounds_strategy(), seed ^ BOUNDS_SALT).current();
        config.window_entries_max = window_entries_max;
        config.apply_queue_capacity = apply_queue_capacity;
        config
    }

    /// The configuration a swarm scenario runs `seed` with.
    pub fn for_scenario(seed: u64, swarm: Swarm) -> SwarmConfig {
        let mut config = SwarmConfig::for_seed(seed);
        match swarm {
            Swarm::Drawn => {}
            Swarm::EveryFault => config.faults = FaultKinds::ALL,
            Swarm::Sequential => config.faults = FaultKinds::STALL,
        }
        config
    }

    /// The workload shape this configuration asks for.
    pub fn profile(&self) -> WorkloadProfile {
        WorkloadProfile {
            phases: self.phases..=self.phases,
            clients: self.clients..=self.clients,
            ops_per_client: self.ops_per_client..=self.ops_per_client,
            keys: self.keys,
            databases: self.databases,
            replicas: self.replicas,
            mix: self.mix.clone(),
            think_max: Duration::from_millis(3),
        }
    }

    /// Applies this configuration to a cluster (the apply mode and bug are left as they are).
    pub fn configure(&self, cluster: &mut ClusterConfig, faults: FaultSchedule) {
        cluster.replicas = self.replicas;
        cluster.databases = self.databases;
        cluster.apply.workers = self.apply_workers;
        cluster.apply.queue_capacity = self.apply_queue_capacity;
        cluster.replication.window_entries_max = self.window_entries_max;
        cluster.apply.delay_max = Duration::from_millis(self.apply_delay_max_ms);
        cluster.network.latency_min = Duration::from_micros(self.latency_min_us);
        cluster.network.latency_max = Duration::from_micros(self.latency_max_us);
        cluster.network.packet_loss_per_million = self.packet_loss_per_million;
        cluster.replication.binlog_retention_entries = self.binlog_retention_entries;
        cluster.replication.retransmit_after = self.retransmit_after_ms.map(Duration::from_millis);
        // A client must not wait out a crashed node for long: its operations are indeterminate
        // either way, and the phase must finish.
        cluster.deadlines.request = Duration::from_secs(1);
        cluster.faults = faults;
        cluster.stalls = if self.faults.stall { self.stalls } else { StallConfig::default() };
    }

    /// The strategy of this configuration's fault schedules.
    pub fn fault_strategy(&self) -> BoxedStrategy<FaultSchedule> {
        let mut kinds: Vec<u8> = Vec::new();
        for (enabled, kind) in [
            (self.faults.reset_link, 0u8),
            (self.faults.partition, 1),
            (self.faults.kill_replica, 2),
            (self.faults.restart_primary, 3),
        ] {
            if enabled {
                kinds.push(kind);
            }
        }
        if !self.faults.any_scheduled() {
            return Just(FaultSchedule::default()).boxed();
        }
        let replicas = self.replicas;
        let step =
            (0..self.phases, 0..=FAULT_START_MAX_MS, FAULT_DURATION_MS, 0..kinds.len(), 0..replicas, any::<bool>())
                .prop_map(move |(phase, at_ms, duration_ms, kind, replica, reset)| FaultStep {
                    phase,
                    at: Duration::from_millis(at_ms),
                    duration: Duration::from_millis(duration_ms),
                    fault: match kinds[kind] {
                        0 => Fault::ResetLink { replica },
                        1 => Fault::Partition { replica, reset },
                        2 => Fault::KillReplica { replica },
                        _ => Fault::RestartPrimary,
                    },
                });
        let steps_max = self.faults_per_phase_max * self.phases;
        proptest::collection::vec(step, 1..=steps_max)
            .prop_map(|mut steps| {
                steps.sort_by_key(|step| (step.phase, step.at));
                FaultSchedule { steps }
            })
            .boxed()
    }

    pub fn fault_schedule(&self, seed: u64) -> FaultSchedule {
        generate(&self.fault_strategy(), seed ^ FAULTS_SALT).current()
    }
}

impl fmt::Display for SwarmConfig {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        let faults = self.faults.names();
        let faults = if faults.is_empty() { "none".to_string() } else { faults.join("+") };
        let mix = &self.mix;
        write!(
            formatter,
            "swarm: {} replica(s), {} db(s), {} keys, {} phase(s) x {} clients x {} ops; \
             mix set={} get={} del={} del-multi={} flushdb={} flushall={} replica-get={}; \
             {} workers, apply 1-{} ms; latency {}-{} us, loss {} ppm; retention {}; retransmit {}; \
             window {} entries, apply queues {}; faults {} (<= {} per phase){}",
            self.replicas,
            self.databases,
            self.keys,
            self.phases,
            self.clients,
            self.ops_per_client,
            mix.set,
            mix.get,
            mix.del,
            mix.del_multi,
            mix.flushdb,
            mix.flushall,
            mix.replica_get,
            self.apply_workers,
            self.apply_delay_max_ms,
            self.latency_min_us,
            self.latency_max_us,
            self.packet_loss_per_million,
            self.binlog_retention_entries.map_or("unbounded".to_string(), |entries| format!("{entries} entries")),
            self.retransmit_after_ms.map_or("off".to_string(), |ms| format!("after {ms} ms")),
            self.window_entries_max,
            self.apply_queue_capacity,
            faults,
            self.faults_per_phase_max,
            if self.faults.stall { stalls_text(&self.stalls) } else { String::new() },
        )
    }
}

/// `; stalls apply 1.2 % ≤ 900 ms, binlog …`: how often and how long each place stalls.
fn stalls_text(stalls: &StallConfig) -> String {
    let place = |name: &str, stall: &Stall| {
        format!("{name} {:.2} % <= {} ms", f64::from(stall.per_million) / 10_000.0, stall.max.as_millis())
    };
    format!(
        "; stalls {}, {}, {}, {}",
        place("apply", &stalls.apply_worker),
        place("binlog", &stalls.binlog_thread),
        place("link", &stalls.network),
        place("primary", &stalls.primary)
    )
}
