//! Workloads from seeds, through proptest strategies: the same seed always yields the same
//! workload, and a failing workload can be shrunk by proptest's value trees (fewer phases,
//! clients and operations, simpler commands, no think time).
//!
//! ```
//! use proptest::strategy::ValueTree;
//! use replsim_scenarios::generate::{generate, WorkloadProfile};
//! let profile = WorkloadProfile::default();
//! let first = generate(&profile.strategy(), 7).current();
//! let again = generate(&profile.strategy(), 7).current();
//! assert_eq!(first, again);
//! ```

use std::ops::RangeInclusive;
use std::time::Duration;

use proptest::prelude::*;
use proptest::strategy::BoxedStrategy;
use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};
use replsim_model::command::{Command, Db};
use replsim_sim::workload::{ClientScript, Phase, ScriptedOp, Target, Workload};
use serde::{Deserialize, Serialize};

/// Relative weights of the operations a client issues. Zero turns an operation off (and a
/// scenario file's `mix` leaves out what it turns off).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct OpMix {
    pub set: u32,
    pub get: u32,
    pub del: u32,
    /// `DEL k1 k2 [k3]`: logged by the primary as one entry per key.
    pub del_multi: u32,
    pub flushdb: u32,
    pub flushall: u32,
    /// `GET` served by a replica.
    pub replica_get: u32,
}

impl OpMix {
    /// Weights simplest first: shrinking a roll moves it towards the first enabled operation.
    fn weights(&self) -> [u32; 7] {
        [self.set, self.flushdb, self.get, self.del, self.del_multi, self.flushall, self.replica_get]
    }

    pub fn total_weight(&self) -> u32 {
        self.weights().iter().sum()
    }

    fn shape(&self, roll: u32, db: u8, key: usize, more_keys: Vec<usize>, replica: usize) -> OpShape {
        let mut remaining = roll;
        let mut kind = 0;
        for (index, weight) in self.weights().into_iter().enumerate() {
            if remaining < weight {
                kind = index;
                break;
            }
            remaining -= weight;
        }
        match kind {
            0 => OpShape::Set { db, key },
            1 => OpShape::FlushDb { db },
            2 => OpShape::Get { db, key, replica: None },
            3 => OpShape::Del { db, keys: vec![key] },
            4 => OpShape::Del { db, keys: std::iter::once(key).chain(more_keys).collect() },
            5 => OpShape::FlushAll { db },
            _ => OpShape::Get { db, key, replica: Some(replica) },
        }
    }
}

/// The shape of the workloads a scenario generates.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct WorkloadProfile {
    pub phases: RangeInclusive<usize>,
    pub clients: RangeInclusive<usize>,
    pub ops_per_client: RangeInclusive<usize>,
    /// Keys per database: `a`, `b`, … (`k26`, `k27`, … past `z`).
    pub keys: usize,
    pub databases: u8,
    pub replicas: usize,
    pub mix: OpMix,
    pub think_max: Duration,
}

impl Default for WorkloadProfile {
    fn default() -> WorkloadProfile {
        WorkloadProfile {
            phases: 1..=1,
            clients: 4..=4,
            ops_per_client: 50..=50,
            keys: 8,
            databases: 1,
            replicas: 1,
            mix: OpMix { set: 50, get: 15, del: 10, del_multi: 5, flushdb: 8, flushall: 0, replica_get: 0 },
            think_max: Duration::from_millis(3),
        }
    }
}

/// An operation before values are assigned (values are made unique per workload afterwards, so
/// shrinking never has to keep them distinct).
#[derive(Clone, Debug)]
enum OpShape {
    Set { db: u8, key: usize },
    Get { db: u8, key: usize, replica: Option<usize> },
    Del { db: u8, keys: Vec<usize> },
    FlushDb { db: u8 },
    FlushAll { db: u8 },
}

pub fn key_name(index: usize) -> String {
    if index < 26 {
        char::from(b'a' + index as u8).to_string()
    } else {
        format!("k{index}")
    }
}

impl WorkloadProfile {
    /// One operation as plain integers — a roll into the cumulative op-mix weights, a database,
    /// keys and a replica — decoded by [`OpMix::shape`]. A flat tuple rather than a boxed
    /// `Union` of strategies: generation cost a tenth of a run that way. Every integer shrinks
    /// towards 0, and the mix is ordered simplest first, so shrinking still simplifies commands.
    fn op_strategy(&self) -> impl Strategy<Value = OpShape> {
        let keys = self.keys.max(1);
        let dbs = self.databases.max(1);
        let replicas = self.replicas.max(1);
        let mix = self.mix.clone();
        let total = mix.total_weight();
        assert!(total > 0, "an op mix needs at least one operation with a positive weight");
        (0..total, 0..dbs, 0..keys, proptest::collection::vec(0..keys, 1..=2), 0..replicas)
            .prop_map(move |(roll, db, key, more_keys, replica)| mix.shape(roll, db, key, more_keys, replica))
    }

    /// The strategy for whole workloads of this profile.
    pub fn strategy(&self) -> BoxedStrategy<Workload> {
        let think_max_ms = self.think_max.as_millis() as u64;
        let op = (0..=think_max_ms, self.op_strategy());
        let client = proptest::collection::vec(op, self.ops_per_client.clone());
        let phase = proptest::collection::vec(client, self.clients.clone());
        proptest::collection::vec(phase, self.phases.clone()).prop_map(assign_values).boxed()
    }
}

/// Turns shapes into commands, giving every SET a workload-unique value (`v1`, `v2`, …) so a value
/// names the write that produced it.
fn assign_values(phases: Vec<Vec<Vec<(u64, OpShape)>>>) -> Workload {
    let mut next_value = 1u64;
    let phases = phases
        .into_iter()
        .map(|clients| Phase {
            clients: clients
                .into_iter()
                .map(|ops| ClientScript {
                    ops: ops
                        .into_iter()
                        .map(|(think_ms, shape)| {
                            let (command, target) = command_of(shape, &mut next_value);
                            ScriptedOp::new(Duration::from_millis(think_ms), command, target)
                        })
                        .collect(),
                })
                .collect(),
        })
        .collect();
    Workload { phases }
}

fn command_of(shape: OpShape, next_value: &mut u64) -> (Command, Target) {
    match shape {
        OpShape::Set { db, key } => {
            let value = format!("v{next_value}");
            *next_value += 1;
            (Command::set(Db(db), key_name(key), value), Target::Primary)
        }
        OpShape::Get { db, key, replica } => {
            let target = replica.map_or(Target::Primary, Target::Replica);
            (Command::get(Db(db), key_name(key)), target)
        }
        OpShape::Del { db, keys } => (Command::del(Db(db), keys.into_iter().map(key_name)), Target::Primary),
        OpShape::FlushDb { db } => (Command::FlushDb { db: Db(db) }, Target::Primary),
        OpShape::FlushAll { db } => (Command::FlushAll { db: Db(db) }, Target::Primary),
    }
}

/// proptest's runner for `seed`: its XorShift RNG seeded from the seed alone (proptest promises
/// the same sequence on every system and version for an algorithm-seed pair), no persistence
/// files. XorShift rather than ChaCha: generation was 7 % of a run with ChaCha.
pub fn runner_for_seed(seed: u64) -> TestRunner {
    let mut bytes = [0u8; 16];
    let mut state = seed;
    for chunk in bytes.chunks_mut(8) {
        chunk.copy_from_slice(&splitmix64(&mut state).to_le_bytes());
    }
    let config = Config { failure_persistence: None, ..Config::default() };
    TestRunner::new_with_rng(config, TestRng::from_seed(RngAlgorithm::XorShift, &bytes))
}

/// The value tree `strategy` generates from `seed`; `.current()` is the generated value, and
/// `simplify`/`complicate` shrink it.
pub fn generate<S: Strategy>(strategy: &S, seed: u64) -> S::Tree {
    let mut runner = runner_for_seed(seed);
    match strategy.new_tree(&mut runner) {
        Ok(tree) => tree,
        // Only filters can reject, and these strategies have none.
        Err(reason) => panic!("strategy rejected every value for seed {seed}: {reason}"),
    }
}

/// The one seeded mixer (splitmix64): advances `state` and returns the next draw.
pub fn splitmix64(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
    let mut mixed = *state;
    mixed = (mixed ^ (mixed >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    mixed = (mixed ^ (mixed >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    mixed ^ (mixed >> 31)
}
