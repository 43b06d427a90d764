//! Live mode: the simulation's workloads and checkers pointed at a real primary/replica pair
//! over RESP, the way Jepsen drives real databases. Real sockets, real threads and
//! `std::time::Instant` — it never runs inside a madsim runtime, and a live run is **not
//! deterministic**: a seed fixes the client scripts and the faults, not the timing.
//!
//! ```text
//! seed ──> Case::new(scenario, serial, seed).workload   (the simulation's generator)
//!      └─> draw_faults(seed, …)                          (stall, break-link, restart-replica)
//! per phase:  clients (one thread each) ──RESP──> primary / replicas, history stamped by Instant
//!             faults on their own thread
//!             catch-up: INFO replication until each replica reaches the primary's offset, or
//!                       the deadline ("replica-1 stuck at offset X of Y")
//!             SCAN + GET every database of every node: the primary's state becomes a floor
//! judge:      linearizability of the primary's operations, replica reads (black-box prefixes,
//!             sessions, floors), convergence after each catch-up
//! ```
//!
//! ```no_run
//! use std::sync::atomic::AtomicBool;
//! use replsim_scenarios::live::{LiveCase, LiveOptions, LivePair, Servers};
//! use replsim_scenarios::live::spawn::SpawnOptions;
//! use replsim_scenarios::scenario::Scenario;
//! let scenario = Scenario::by_name("flushdb-race").unwrap();
//! let servers = Servers::Spawn(SpawnOptions { program: "redis-server".into(), replicas: 1, replica_read_only: true });
//! let options = LiveOptions::default();
//! let mut pair = LivePair::connect(&servers, &options).unwrap();
//! let case = LiveCase::new(&scenario, 7, pair.fault_kinds_available());
//! let verdict = pair.run(&case, &options, &AtomicBool::new(false)).unwrap();
//! println!("{}", verdict.headline());
//! ```
//!
//! Nothing leaves loopback unless [`LiveOptions::allow_remote`] says so; every connect and every
//! request has a timeout, and a server that does not answer, refuses a command or does not
//! speak RESP is a [`LiveError`], never a hang.

pub mod client;
pub mod faults;
pub mod info;
mod judge;
mod run;
pub mod spawn;

use std::path::PathBuf;
use std::time::Duration;

use replsim_sim::workload::Workload;

pub use judge::{LiveOutcome, LiveVerdict, LiveViolation};
pub use run::LivePair;

use crate::scenario::Scenario;
use crate::script::Expectation;
use client::Address;
use faults::{draw_faults, LiveFault, LiveFaultKinds};
use spawn::SpawnOptions;

/// Which servers a live run drives.
#[derive(Clone, Debug)]
pub enum Servers {
    /// Start them: `replsim live --spawn redis-server`.
    Spawn(SpawnOptions),
    /// An existing pair: `--primary HOST:PORT --replica HOST:PORT …`.
    Existing { primary: Address, replicas: Vec<Address> },
}

impl Servers {
    /// The command-line arguments that name these servers, for repro lines.
    pub fn arguments(&self) -> String {
        match self {
            Servers::Spawn(options) => {
                let writable = if options.replica_read_only { "" } else { " --writable-replicas" };
                format!("--spawn {} --replicas {}{writable}", options.program, options.replicas)
            }
            Servers::Existing { primary, replicas } => {
                let replicas: Vec<String> = replicas.iter().map(|replica| format!(" --replica {replica}")).collect();
                format!("--primary {primary}{}", replicas.concat())
            }
        }
    }
}

#[derive(Clone, Debug)]
pub struct LiveOptions {
    /// Bound on connecting and on every request.
    pub request_timeout: Duration,
    /// How long replicas may take to reach the primary's offset after a phase. (Before a case
    /// the pair gets at least 10 s to be caught up, whatever this is.)
    pub catch_up_deadline: Duration,
    /// Talk to servers that are not on loopback.
    pub allow_remote: bool,
    /// Cap on the generated think times (the scripts' pauses between operations).
    pub think_max: Option<Duration>,
}

impl Default for LiveOptions {
    fn default() -> LiveOptions {
        LiveOptions {
            request_timeout: Duration::from_secs(2),
            catch_up_deadline: Duration::from_secs(10),
            allow_remote: false,
            think_max: None,
        }
    }
}

/// One live run: the scenario's workload for the seed and the faults drawn for it.
#[derive(Clone, Debug)]
pub struct LiveCase {
    pub scenario: String,
    pub seed: u64,
    pub workload: Workload,
    pub faults: Vec<LiveFault>,
    /// A written scenario's expectations, judged at its catch-up points as the simulation does.
    pub expectations: Vec<Expectation>,
    /// The scenario file the case comes from (`None`: a built-in scenario).
    pub scenario_file: Option<PathBuf>,
}

impl LiveCase {
    /// The same workload the simulation runs for (scenario, seed) — under any apply mode, the
    /// workload does not depend on it — and faults among `available` drawn from the seed.
    pub fn new(scenario: &Scenario, seed: u64, available: LiveFaultKinds) -> LiveCase {
        let case = crate::runner::Case::new(scenario, replsim_sim::config::ApplyMode::Serial, seed);
        let replicas = case.cluster.replicas.max(1);
        let faults = draw_faults(seed, case.workload.phases.len(), replicas, available);
        LiveCase {
            scenario: scenario.name.to_string(),
            seed,
            workload: case.workload,
            faults,
            expectations: case.expectations,
            scenario_file: case.scenario_file,
        }
    }

    /// The command that runs this case again. Live runs are not deterministic: it replays the
    /// scripts and faults, not the timing.
    pub fn repro_command(&self, servers: &Servers, faults: LiveFaultKinds) -> String {
        let scenario = match &self.scenario_file {
            Some(path) => format!("--scenario-file {}", path.display()),
            None => format!("--scenario {}", self.scenario),
        };
        format!("cargo run --release -- live {} {scenario} --seed {} --faults {faults}", servers.arguments(), self.seed)
    }
}

/// Replicas to start for a scenario: as many as its workloads address (swarm seeds draw up to 3).
pub fn replicas_for(scenario: &Scenario) -> usize {
    match scenario.swarm {
        Some(_) => 3,
        None => scenario.profile.replicas.max(1),
    }
}

/// Why a live run could not be carried out (the binary prints it as one line, exit 2).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum LiveError {
    #[error(
        "refusing {address}: not a loopback address (live mode writes and flushes every database; \
         pass --allow-remote to drive a server on another host)"
    )]
    NotLoopback { address: Address },
    #[error("{node} ({address}) does not answer: {problem}")]
    Unreachable { node: String, address: Address, problem: String },
    #[error("{node} ({address}) refused {command}: {reply}")]
    Refused { node: String, address: Address, command: String, reply: String },
    #[error("{node} ({address}) does not speak RESP as a Redis or Pika server does: {problem}")]
    Protocol { node: String, address: Address, problem: String },
    #[error("{node} ({address}) is not a {expected} (INFO replication says role {role})")]
    WrongRole { node: String, address: Address, expected: &'static str, role: String },
    #[error("{node} ({address}) did not catch up before the run: stuck at offset {offset} of {primary_offset}")]
    NotReady { node: String, address: Address, offset: String, primary_offset: u64 },
    #[error("cannot start {server}: {problem}")]
    Spawn { server: String, problem: String },
    #[error("the workload addresses {wanted} replica(s) but {given} were given")]
    NoReplicas { wanted: usize, given: usize },
    #[error("stopped")]
    Stopped,
}
