//! The actor that carries out a [`FaultSchedule`]: clogs and unclogs links, kills and restarts
//! nodes, resets replication links, and records each step in the trace. The schedule itself is
//! plain data ([`crate::fault`]); only this module touches madsim's network and nodes for it.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use madsim::net::NetSim;
use madsim::runtime::Handle;
use madsim::task::NodeId;

use crate::fault::{Fault, FaultSchedule};
use crate::primary::Primary;
use crate::probe::{Event, Probe};

/// What the injector can act on.
#[derive(Clone)]
pub struct FaultTargets {
    pub primary: Primary,
    pub primary_node: NodeId,
    pub replica_nodes: Vec<NodeId>,
    pub replica_names: Vec<String>,
}

/// Injects a schedule's faults and heals them. Shared between the task that runs a phase's
/// timeline and the harness, which heals whatever is still in force when the clients finish.
#[derive(Clone)]
pub struct Injector {
    targets: FaultTargets,
    probe: Probe,
    /// Faults in force, by step index.
    active: Arc<Mutex<BTreeMap<usize, Fault>>>,
}

const HARNESS: &str = "harness";

impl Injector {
    pub fn new(targets: FaultTargets, probe: Probe) -> Injector {
        Injector { targets, probe, active: Arc::default() }
    }

    /// Runs `phase`'s timeline from now; meant to be aborted when the phase's clients finish.
    pub async fn run_phase(self, schedule: FaultSchedule, phase: usize) {
        let started = madsim::time::Instant::now();
        let mut timeline: Vec<(Duration, bool, usize, Fault)> = Vec::new();
        for (index, step) in schedule.in_phase(phase) {
            timeline.push((step.at, true, index, step.fault.clone()));
            timeline.push((step.at + step.duration, false, index, step.fault.clone()));
        }
        // Heals before applies at the same instant; ties broken by step index: deterministic.
        timeline.sort_by_key(|(at, apply, index, _)| (*at, *apply, *index));
        for (at, apply, index, fault) in timeline {
            madsim::time::sleep_until(started + at).await;
            if apply {
                self.apply(index, fault);
            } else {
                self.heal(index);
            }
        }
    }

    fn apply(&self, index: usize, fault: Fault) {
        {
            let mut active = self.active.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
            if active.values().any(|held| held.target() == fault.target()) {
                return;
            }
            if !matches!(fault, Fault::ResetLink { .. }) {
                active.insert(index, fault.clone());
            }
        }
        let targets = &self.targets;
        match &fault {
            Fault::Partition { replica, reset } => {
                let net = NetSim::current();
                net.clog_link(targets.primary_node, targets.replica_nodes[*replica]);
                net.clog_link(targets.replica_nodes[*replica], targets.primary_node);
                if *reset {
                    targets.primary.reset_link(&targets.replica_names[*replica]);
                }
            }
            Fault::KillReplica { replica } => Handle::current().kill(targets.replica_nodes[*replica]),
            Fault::RestartPrimary => Handle::current().kill(targets.primary_node),
            Fault::ResetLink { replica } => targets.primary.reset_link(&targets.replica_names[*replica]),
        }
        self.probe.event(HARNESS, Event::FaultInjected { fault });
    }

    fn heal(&self, index: usize) {
        let fault = {
            let mut active = self.active.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
            active.remove(&index)
        };
        let Some(fault) = fault else { return };
        let targets = &self.targets;
        match &fault {
            Fault::Partition { replica, .. } => {
                let net = NetSim::current();
                net.unclog_link(targets.primary_node, targets.replica_nodes[*replica]);
                net.unclog_link(targets.replica_nodes[*replica], targets.primary_node);
            }
            Fault::KillReplica { replica } => Handle::current().restart(targets.replica_nodes[*replica]),
            Fault::RestartPrimary => Handle::current().restart(targets.primary_node),
            Fault::ResetLink { .. } => {}
        }
        self.probe.event(HARNESS, Event::FaultHealed { fault });
    }

    /// Heals every fault still in force (the phase's clients are done).
    pub fn heal_all(&self) {
        let indices: Vec<usize> = {
            let active = self.active.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
            active.keys().copied().collect()
        };
        for index in indices {
            self.heal(index);
        }
    }
}
