//! The integration-test shape: what a new user writes first, after Pika's own
//! `replication_test.go` — one client, each command waiting for its reply.
//!
//! ```text
//! phase 1 (client-1):  SET b v1 → OK, SET e v2 → OK, …, SET a vN → OK, FLUSHDB → OK
//!                      (catch-up: wait until every replica reports the primary's offset)
//! phase 2 (client-2):  GET a @replica-1, GET b @replica-2, …   every key, round robin
//! ```
//!
//! With one command in flight at a time, a write reaches the replica a round trip after the
//! previous one; with uniform 1–4 ms applies no worker queue ever holds it long enough for the
//! FLUSHDB to overtake it. Only a stalled worker does.
//!
//! ```
//! use replsim_scenarios::sequential::sequential_workload;
//! use replsim_scenarios::swarm::SwarmConfig;
//! let swarm = SwarmConfig::for_seed(7);
//! let workload = sequential_workload(&swarm, 7);
//! assert_eq!(workload.phases.len(), 2);
//! assert_eq!(workload.phases[0].clients.len(), 1);
//! assert_eq!(workload.phases[0].clients[0].ops.len(), swarm.ops_per_client + 1);
//! assert_eq!(workload, sequential_workload(&swarm, 7));
//! ```

use std::time::Duration;

use replsim_model::command::{Command, Db};
use replsim_sim::workload::{ClientScript, Phase, ScriptedOp, Target, Workload};

use crate::generate::{key_name, splitmix64};
use crate::swarm::SwarmConfig;

/// Keeps the workload's keys apart from the swarm configuration's other draws.
const SEQUENTIAL_SALT: u64 = 0x5345_5155_454e_0004;

/// `swarm.ops_per_client` SETs on `swarm.keys` keys of database 0, then FLUSHDB; after catch-up,
/// a read of every key, round robin over the replicas.
pub fn sequential_workload(swarm: &SwarmConfig, seed: u64) -> Workload {
    let mut state = seed ^ SEQUENTIAL_SALT;
    let keys = swarm.keys.max(1);
    let op = |command: Command, target: Target| ScriptedOp::new(Duration::ZERO, command, target);
    let mut writes: Vec<ScriptedOp> = (1..=swarm.ops_per_client)
        .map(|value| {
            let key = (splitmix64(&mut state) % keys as u64) as usize;
            op(Command::set(Db(0), key_name(key), format!("v{value}")), Target::Primary)
        })
        .collect();
    writes.push(op(Command::FlushDb { db: Db(0) }, Target::Primary));
    let reads = (0..keys)
        .map(|key| op(Command::get(Db(0), key_name(key)), Target::Replica(key % swarm.replicas.max(1))))
        .collect();
    Workload {
        phases: vec![
            Phase { clients: vec![ClientScript { ops: writes }] },
            Phase { clients: vec![ClientScript { ops: reads }] },
        ],
    }
}
