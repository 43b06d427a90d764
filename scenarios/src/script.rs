//! A written scenario's workload, validated: fixed client scripts with ordering between clients,
//! the parts drawn per seed (think times, extra clients), and the expectations judged after
//! each catch-up point. [`crate::file`] reads one from TOML, [`crate::builder`] builds one in
//! code; [`Script::workload`] turns it and a seed into the concrete workload a run executes.
//!
//! ```text
//! phase 1:  client 1  SET x 1 ───────────────┐ returned
//!           client 2  (after client 1 op 1) ─┴─► FLUSHDB
//!           drawn     0..=2 extra clients from a profile, per seed
//!           ── catch-up point ── expect: GET x on replica-1 returns nil
//! ```

use std::fmt;
use std::time::Duration;

use proptest::strategy::ValueTree;
use replsim_model::command::{Db, Value};
use replsim_sim::probe::Checkpoint;
use replsim_sim::workload::{ClientScript, Phase, ScriptedOp, Target, Workload};

use crate::file::text::TargetText;
use crate::generate::{generate, splitmix64, WorkloadProfile};
use crate::swarm::FaultKinds;

/// Everything of a written scenario's workload that is not the cluster.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Script {
    pub phases: Vec<ScriptPhase>,
    pub expectations: Vec<Expectation>,
    /// Fault kinds whose schedule each seed draws (`None`: the cluster's fixed faults, if any).
    pub fault_draw: Option<FaultKinds>,
}

/// One phase: clients that run concurrently, then a catch-up point.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ScriptPhase {
    /// The fixed clients, in order (client 1 first). Operations carry their ordering labels.
    pub clients: Vec<Vec<ScriptOp>>,
    /// Extra clients drawn per seed from this profile (its `phases` is ignored: one phase).
    pub draw: Option<WorkloadProfile>,
}

/// A fixed operation whose think time may be drawn per seed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScriptOp {
    /// The operation, its think time the least it may be.
    pub op: ScriptedOp,
    /// The most the think time may be: a seed draws a whole number of milliseconds in
    /// `op.think..=think_max` (equal: fixed).
    pub think_max: Duration,
}

/// The label of a phase's client `client`'s operation `op` (both 1-based), as ordering uses it.
pub fn op_label(client: usize, op: usize) -> String {
    format!("c{client}.{op}")
}

/// Draws of think times and of extra clients are salted apart from the workload generator's and
/// madsim's use of the seed.
const THINK_SALT: u64 = 0x5448_494e_4b00_0003;
const DRAW_SALT: u64 = 0x4452_4157_0000_0004;

impl Script {
    /// The workload this script runs under `seed`: fixed clients first in each phase (so client
    /// `N` of the file is client `N` of the phase), then the drawn ones.
    pub fn workload(&self, seed: u64) -> Workload {
        let mut think_state = seed ^ THINK_SALT;
        let phases = self
            .phases
            .iter()
            .enumerate()
            .map(|(phase_index, phase)| {
                let mut clients: Vec<ClientScript> = phase
                    .clients
                    .iter()
                    .map(|ops| ClientScript { ops: ops.iter().map(|op| op.draw(&mut think_state)).collect() })
                    .collect();
                if let Some(profile) = &phase.draw {
                    let profile = WorkloadProfile { phases: 1..=1, ..profile.clone() };
                    let mut draw_state = seed ^ DRAW_SALT ^ phase_index as u64;
                    let drawn = generate(&profile.strategy(), splitmix64(&mut draw_state)).current();
                    clients.extend(drawn.phases.into_iter().flat_map(|phase| phase.clients));
                }
                Phase { clients }
            })
            .collect();
        Workload { phases }
    }
}

impl ScriptOp {
    fn draw(&self, state: &mut u64) -> ScriptedOp {
        let mut op = self.op.clone();
        let (min_ms, max_ms) = (self.op.think.as_millis() as u64, self.think_max.as_millis() as u64);
        if max_ms > min_ms {
            op.think = Duration::from_millis(min_ms + splitmix64(state) % (max_ms - min_ms + 1));
        }
        op
    }
}

/// What must hold at a catch-up point, named so a failure says which expectation broke.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Expectation {
    /// How a failure names it: the user's name, or its text and where it was written.
    pub name: String,
    /// The catch-up point after this phase (1-based).
    pub phase: usize,
    pub expected: Expected,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Expected {
    /// `GET key` on `node`'s store at the catch-up point returns `value` (`None`: nil).
    Get { node: Target, db: Db, key: String, value: Option<String> },
    /// Every replica's store equals the primary's at the catch-up point.
    Converge,
}

impl fmt::Display for Expected {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Expected::Get { node, db, key, value } => {
                let db = if db.0 == 0 { String::new() } else { format!("[db{}] ", db.0) };
                let value = value.as_deref().unwrap_or("nil");
                write!(formatter, "{db}GET {key} on {} returns {value}", TargetText(*node))
            }
            Expected::Converge => formatter.write_str("primary and replicas converge"),
        }
    }
}

impl Expectation {
    /// Judges the expectation on the run's checkpoints: `None` when its catch-up point was never
    /// reached (the run stopped earlier, and says why), else what was wrong, if anything.
    pub fn judge(&self, checkpoints: &[Checkpoint]) -> Option<Result<(), String>> {
        let checkpoint = checkpoints.iter().find(|checkpoint| checkpoint.phase == self.phase)?;
        Some(match &self.expected {
            Expected::Get { node, db, key, value } => {
                let snapshot = match node {
                    Target::Primary => Some(&checkpoint.primary),
                    Target::Replica(index) => checkpoint.replicas.get(*index),
                };
                let Some(snapshot) = snapshot else {
                    return Some(Err(format!("{} is not in the cluster", TargetText(*node))));
                };
                let actual = snapshot.store.get(*db, key);
                if actual.map(Value::as_str) == value.as_deref() {
                    Ok(())
                } else {
                    Err(format!("got {}", actual.map_or("nil", Value::as_str)))
                }
            }
            Expected::Converge => {
                let differing: Vec<String> = checkpoint
                    .replicas
                    .iter()
                    .filter_map(|replica| {
                        let keys = checkpoint.primary.store.differing_keys(&replica.store);
                        (!keys.is_empty()).then(|| {
                            let shown: Vec<String> = keys
                                .iter()
                                .take(4)
                                .map(|(db, key)| {
                                    let on = |store: &replsim_model::store::Store| {
                                        store.get(*db, key).map_or("nil", Value::as_str).to_string()
                                    };
                                    format!(
                                        "{key}: primary {} vs {}",
                                        on(&checkpoint.primary.store),
                                        on(&replica.store)
                                    )
                                })
                                .collect();
                            format!("{} differs in {} key(s) ({})", replica.node, keys.len(), shown.join(", "))
                        })
                    })
                    .collect();
                if differing.is_empty() {
                    Ok(())
                } else {
                    Err(differing.join("; "))
                }
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use replsim_model::binlog::Offset;
    use replsim_model::check::{NodeSnapshot, SimTime};
    use replsim_model::command::Command;
    use replsim_model::store::Store;

    use super::*;

    fn snapshot(node: &str, writes: &[&str]) -> NodeSnapshot {
        let mut store = Store::default();
        for key in writes {
            store.execute(&Command::set(Db(0), *key, "1"));
        }
        NodeSnapshot { node: node.to_string(), offset: Offset(0), store, at: SimTime(0) }
    }

    fn checkpoint(primary: &[&str], replica: &[&str]) -> Vec<Checkpoint> {
        vec![Checkpoint {
            phase: 1,
            binlog_end: Offset(0),
            primary: snapshot("primary", primary),
            replicas: vec![snapshot("replica-1", replica)],
        }]
    }

    fn expect(expected: Expected) -> Expectation {
        Expectation { name: expected.to_string(), phase: 1, expected }
    }

    #[test]
    fn a_get_expectation_holds_only_for_the_value_the_node_has() {
        let nil_on_replica =
            expect(Expected::Get { node: Target::Replica(0), db: Db(0), key: "x".into(), value: None });
        assert_eq!(nil_on_replica.judge(&checkpoint(&[], &[])), Some(Ok(())));
        assert_eq!(nil_on_replica.judge(&checkpoint(&[], &["x"])), Some(Err("got 1".to_string())));
        assert_eq!(nil_on_replica.judge(&[]), None, "no catch-up point, no verdict");
    }

    #[test]
    fn a_converge_expectation_names_the_replica_and_key_that_differ() {
        let converge = expect(Expected::Converge);
        assert_eq!(converge.judge(&checkpoint(&["a"], &["a"])), Some(Ok(())));
        let problem = converge.judge(&checkpoint(&[], &["a"])).unwrap().unwrap_err();
        assert!(problem.contains("replica-1") && problem.contains("a: primary nil vs 1"), "{problem}");
    }
}
