//! Builds a simulated cluster for one run and drives it through a workload:
//!
//! ```text
//! for each phase:  start the phase's clients and the phase's fault timeline
//!                  ─► wait for the clients (phase deadline) ─► heal every fault still in force
//!                  ─► wait until INFO replication shows every replica caught up (catch-up deadline)
//!                  ─► snapshot primary and replicas (a checkpoint)
//! finally:         kill every node, so no task outlives the run (madsim would leak it)
//! ```
//!
//! Must be called inside a madsim runtime (`Runtime::block_on`).

use std::net::{IpAddr, Ipv4Addr};
use std::sync::Arc;

use madsim::runtime::Handle;
use madsim::task::NodeId;
use replsim_model::binlog::Offset;

use crate::client::{self, CatchUp, Directory, Ordering};
use crate::config::ClusterConfig;
use crate::injector::{FaultTargets, Injector};
use crate::primary::Primary;
use crate::probe::{Checkpoint, Ending, Event, Probe, Record};
use crate::replica::Replica;
use crate::time;
use crate::workload::Workload;

const HARNESS: &str = "harness";
/// The primary's node name in traces and client histories.
pub const PRIMARY_NODE: &str = "primary";
/// Yields after the kills, so madsim drops the killed nodes' tasks before the runtime goes away.
const YIELDS_AFTER_KILL: usize = 8;

pub fn primary_ip() -> IpAddr {
    IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1))
}

pub fn replica_name(index: usize) -> String {
    format!("replica-{}", index + 1)
}

fn replica_ip(index: usize) -> IpAddr {
    IpAddr::V4(Ipv4Addr::new(10, 0, 0, 2 + index as u8))
}

fn client_ip(phase: usize, index: usize) -> IpAddr {
    IpAddr::V4(Ipv4Addr::new(10, 1 + (phase / 250) as u8, (phase % 250) as u8, 1 + index as u8))
}

/// Runs `workload` on a fresh cluster. Returns what the probe recorded and how the run ended.
pub async fn run(config: &ClusterConfig, workload: &Workload, probe: Probe) -> (Record, Ending) {
    let config = Arc::new(config.clone());
    let handle = Handle::current();
    let mut nodes: Vec<NodeId> = Vec::new();

    let primary = Primary::new(PRIMARY_NODE, config.clone(), probe.clone());
    let primary_handle = primary.clone();
    let primary_node =
        handle.create_node().name(PRIMARY_NODE).ip(primary_ip()).init(move || primary.clone().serve()).build();
    nodes.push(primary_node.id());
    let mut targets = FaultTargets {
        primary: primary_handle,
        primary_node: primary_node.id(),
        replica_nodes: Vec::new(),
        replica_names: Vec::new(),
    };
    let mut directory = Directory { primary: (PRIMARY_NODE.to_string(), primary_ip()), replicas: Vec::new() };
    for index in 0..config.replicas {
        let name = replica_name(index);
        let replica = Replica::new(&name, primary_ip(), config.clone(), probe.clone());
        let node = handle.create_node().name(&name).ip(replica_ip(index)).init(move || replica.clone().serve()).build();
        nodes.push(node.id());
        targets.replica_nodes.push(node.id());
        targets.replica_names.push(name.clone());
        directory.replicas.push((name, replica_ip(index)));
    }
    let injector = Injector::new(targets, probe.clone());
    let admin = handle.create_node().name("admin").ip(IpAddr::V4(Ipv4Addr::new(10, 0, 0, 200))).build();
    nodes.push(admin.id());

    let mut ending = Ending::Completed;
    let mut next_client = 1u64;
    for (phase_index, phase) in workload.phases.iter().enumerate() {
        probe.event(HARNESS, Event::PhaseStarted { phase: phase_index + 1, clients: phase.clients.len() });
        let mut clients = Vec::new();
        // Only a phase whose operations wait for others shares an ordering; waits for labels no
        // operation of the phase carries (a shrunk workload may have dropped them) are dropped.
        let ordering = phase.has_ordering().then(Ordering::default);
        let labels = if ordering.is_some() { phase.labels() } else { Default::default() };
        for (index, script) in phase.clients.iter().enumerate() {
            let client = next_client;
            next_client += 1;
            let node = handle.create_node().name(format!("client-{client}")).ip(client_ip(phase_index, index)).build();
            nodes.push(node.id());
            let mut script = script.clone();
            if ordering.is_some() {
                for op in &mut script.ops {
                    op.after.retain(|label| labels.contains(label.as_str()));
                }
            }
            let task = client::run_client(
                client,
                script,
                directory.clone(),
                probe.clone(),
                config.deadlines.request,
                ordering.clone(),
            );
            clients.push(node.spawn(task));
        }
        let faults = (!config.faults.is_empty())
            .then(|| madsim::task::spawn(injector.clone().run_phase(config.faults.clone(), phase_index)));
        let deadline = time::now();
        let finished = madsim::time::timeout(config.deadlines.phase, async {
            for client in clients {
                let _ = client.await;
            }
        })
        .await;
        if let Some(faults) = faults {
            faults.abort();
            injector.heal_all();
        }
        if finished.is_err() {
            let deadline = replsim_model::check::SimTime(deadline.0 + config.deadlines.phase.as_nanos() as u64);
            ending = Ending::PhaseTimedOut { phase: phase_index + 1, deadline };
            break;
        }
        match checkpoint(&admin, &directory, &config, phase_index + 1, &probe).await {
            Ok(()) => {}
            Err(stopped) => {
                ending = stopped;
                break;
            }
        }
    }

    for node in nodes {
        handle.kill(node);
    }
    for _ in 0..YIELDS_AFTER_KILL {
        madsim::task::yield_now().await;
    }
    (probe.take_record(), ending)
}

/// Waits for catch-up, then snapshots every node through the admin.
async fn checkpoint(
    admin: &madsim::runtime::NodeHandle,
    directory: &Directory,
    config: &Arc<ClusterConfig>,
    phase: usize,
    probe: &Probe,
) -> Result<(), Ending> {
    let directory = directory.clone();
    let catch_up_deadline = config.deadlines.catch_up;
    let request_deadline = config.deadlines.request;
    let outcome = admin
        .spawn(async move {
            match client::wait_for_catch_up(&directory, catch_up_deadline).await {
                CatchUp::Stuck { replica, offset, primary_offset, since } => {
                    Err(Ending::Stuck { phase, replica, offset, primary_offset, since })
                }
                CatchUp::CaughtUp { offset } => {
                    let primary = client::snapshot(&directory.primary.0, directory.primary.1, request_deadline).await;
                    let mut replicas = Vec::new();
                    for (name, ip) in &directory.replicas {
                        replicas.push(client::snapshot(name, *ip, request_deadline).await);
                    }
                    Ok((offset, primary, replicas))
                }
            }
        })
        .await
        .expect("the admin node is never killed during a run");
    let (offset, primary, replicas) = outcome?;
    probe.event(HARNESS, Event::CaughtUp { offset });
    let unobserved = |node: &str| Ending::Unobservable { phase, node: node.to_string() };
    let primary = primary.ok_or_else(|| unobserved("primary"))?;
    let replicas = replicas
        .into_iter()
        .zip(&config_replica_names(config))
        .map(|(snapshot, name)| snapshot.ok_or_else(|| unobserved(name)))
        .collect::<Result<Vec<_>, _>>()?;
    let binlog_end: Offset = offset;
    probe.checkpoint(Checkpoint { phase, binlog_end, primary, replicas });
    Ok(())
}

fn config_replica_names(config: &ClusterConfig) -> Vec<String> {
    (0..config.replicas).map(replica_name).collect()
}
