//! What the clients do: phases of concurrent client scripts. After each phase the cluster waits
//! for every replica to catch up and takes a checkpoint (Pika's integration tests do the same:
//! write, wait for the replica, compare).

use std::time::Duration;

use replsim_model::command::Command;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Workload {
    pub phases: Vec<Phase>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Phase {
    /// Scripts run concurrently, one client each.
    pub clients: Vec<ClientScript>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClientScript {
    pub ops: Vec<ScriptedOp>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScriptedOp {
    /// Pause before the operation is sent.
    pub think: Duration,
    pub command: Command,
    pub target: Target,
}

/// Which node a client operation goes to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Target {
    Primary,
    /// A read served by replica `n` (0-based).
    Replica(usize),
}

impl Workload {
    pub fn op_count(&self) -> usize {
        self.phases.iter().flat_map(|phase| &phase.clients).map(|client| client.ops.len()).sum()
    }

    pub fn ops(&self) -> impl Iterator<Item = &ScriptedOp> {
        self.phases.iter().flat_map(|phase| &phase.clients).flat_map(|client| &client.ops)
    }
}
