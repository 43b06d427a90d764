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
    /// Ordering between clients: a name other operations of the same phase wait for (`None`:
    /// nothing waits for this one). Generated workloads have none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    /// Labels of operations of the same phase that must have ended (returned, timed out or been
    /// refused) before this one starts, after its think time. A label no operation of the phase
    /// carries is ignored (a shrunk workload may have dropped it).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub after: Vec<String>,
}

impl ScriptedOp {
    /// An operation with no ordering constraints.
    pub fn new(think: Duration, command: Command, target: Target) -> ScriptedOp {
        ScriptedOp { think, command, target, label: None, after: Vec::new() }
    }
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

impl Phase {
    /// Whether any operation of the phase waits for another (only then is an [`crate::client::Ordering`] needed).
    pub fn has_ordering(&self) -> bool {
        self.clients.iter().flat_map(|client| &client.ops).any(|op| !op.after.is_empty())
    }

    /// The labels the phase's operations carry.
    pub fn labels(&self) -> std::collections::BTreeSet<&str> {
        self.clients.iter().flat_map(|client| &client.ops).filter_map(|op| op.label.as_deref()).collect()
    }
}
