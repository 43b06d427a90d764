//! Running a scenario from `cargo test`: one seed or a range under a mode, returning
//! `Result<Report, Failure>`. A [`Report`] holds every client's replies (primary and replicas)
//! for custom assertions; a [`Failure`] carries the seed, the failing checks, the diff and the
//! exact command that reproduces it.
//!
//! ```
//! use replsim_scenarios::builder::Builder;
//! use replsim_sim::config::ApplyMode;
//!
//! let scenario = Builder::new("set-then-read")
//!     .replicas(1)
//!     .phase(|phase| phase.client(|client| client.op("SET x 1")))
//!     .phase(|phase| phase.client(|client| client.op("GET x @replica-1")))
//!     .build()
//!     .unwrap();
//! let report = scenario.run(ApplyMode::Serial, 1).unwrap();
//! // Phase 2, client 1: its read from the replica, after the catch-up point of phase 1.
//! let read = &report.replies(2, 1)[0];
//! assert_eq!((read.node.as_str(), read.response.as_ref().map(ToString::to_string)), ("replica-1", Some("1".into())));
//! assert!(scenario.run_seeds(ApplyMode::Barrier, 0..5).is_ok());
//! ```
//!
//! A failure of a scenario built in code is saved as a scenario file under
//! `target/replsim-scenarios/` so that its repro line (`replsim replay --scenario-file …`)
//! reruns it byte for byte from the command line.

use std::fmt;
use std::path::PathBuf;

use replsim_model::command::{Command, Response};
use replsim_sim::config::ApplyMode;
use replsim_sim::hash::stable_hash;
use replsim_sim::probe::ClientOperation;
use replsim_sim::workload::Workload;

use crate::file::ClusterSpec;
use crate::regression::{self, Entry};
use crate::runner::{regression_repro_command, run_case, Case, Check, Outcome, RunOptions, Verdict};
use crate::scenario::Scenario;

/// Where failures of scenarios built in code are saved as files.
pub const SAVED_SCENARIOS_DIRECTORY: &str = "target/replsim-scenarios";

/// A passing run.
#[derive(Clone, Debug)]
pub struct Report {
    pub verdict: Verdict,
}

/// One client operation and what came back.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reply {
    /// The node that served it: `primary` or `replica-N`.
    pub node: String,
    pub command: Command,
    /// `None`: no reply (timed out: it may or may not have taken effect), or not executed.
    pub response: Option<Response>,
    /// Certainly without effect: never sent, refused, or its ordering wait gave up.
    pub not_executed: bool,
}

impl Report {
    pub fn seed(&self) -> u64 {
        self.verdict.case.seed
    }

    pub fn trace_hash(&self) -> u64 {
        self.verdict.trace_hash
    }

    /// Every client operation of the run, on every node, in call order.
    pub fn all_replies(&self) -> &[ClientOperation] {
        self.verdict.replies.as_deref().unwrap_or_default()
    }

    /// The operations of client `client` of phase `phase` (both 1-based; a phase's fixed
    /// clients come first, then the drawn ones), in order.
    pub fn replies(&self, phase: usize, client: usize) -> Vec<Reply> {
        let phases = &self.verdict.case.workload.phases;
        let before: usize = phases.iter().take(phase.saturating_sub(1)).map(|phase| phase.clients.len()).sum();
        let id = (before + client) as u64;
        self.all_replies()
            .iter()
            .filter(|operation| operation.operation.client == id)
            .map(|operation| Reply {
                node: operation.node.clone(),
                command: operation.operation.input.clone(),
                response: operation.operation.output.clone(),
                not_executed: operation.not_executed,
            })
            .collect()
    }
}

/// A run that did not pass: it failed a check, or ended unknown (a bound was hit).
#[derive(Clone, Debug)]
pub struct Failure {
    pub seed: u64,
    pub mode: ApplyMode,
    /// The checks that failed, in the order found (empty: unknown).
    pub checks: Vec<Check>,
    /// Why there is no verdict, for an unknown run.
    pub unknown: Option<String>,
    /// Every violation with its evidence, one per line.
    pub diff: String,
    /// The command that reproduces the run, trace hash for trace hash.
    pub repro: String,
    pub verdict: Box<Verdict>,
}

impl fmt::Display for Failure {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(formatter, "{}", self.verdict.headline())?;
        if !self.diff.is_empty() {
            write!(formatter, "\n{}", self.diff)?;
        }
        write!(formatter, "\nreproduce: {}", self.repro)
    }
}

impl std::error::Error for Failure {}

/// How many seeds passed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SeedsPassed(pub u64);

impl Scenario {
    /// Runs one seed under `mode`: every check, plus the scenario's expectations.
    pub fn run(&self, mode: ApplyMode, seed: u64) -> Result<Report, Failure> {
        check(self, Case::new(self, mode, seed))
    }

    /// Runs `seeds` in order under `mode`, stopping at the first that does not pass.
    pub fn run_seeds(&self, mode: ApplyMode, seeds: impl IntoIterator<Item = u64>) -> Result<SeedsPassed, Failure> {
        let mut passed = 0;
        for seed in seeds {
            check(self, Case::new(self, mode, seed))?;
            passed += 1;
        }
        Ok(SeedsPassed(passed))
    }

    /// Runs `workload` — drawn by your own proptest strategy, say — on this scenario's cluster
    /// under `mode`, `seed` seeding the simulation. A failure's repro line replays a regression
    /// line saved in `target/replsim-scenarios/workloads.txt`, since no seed draws this workload.
    ///
    /// ```
    /// use proptest::prelude::*;
    /// use replsim_scenarios::generate::WorkloadProfile;
    /// use replsim_scenarios::scenario::Scenario;
    /// use replsim_sim::config::ApplyMode;
    ///
    /// let profile = WorkloadProfile { clients: 2..=3, ops_per_client: 1..=8, ..WorkloadProfile::default() };
    /// let scenario = Scenario::by_name("flushdb-race").unwrap();
    /// proptest!(ProptestConfig::with_cases(8), |(workload in profile.strategy(), seed in 0u64..1000)| {
    ///     let verdict = scenario.run_workload(ApplyMode::Barrier, seed, workload);
    ///     prop_assert!(verdict.is_ok(), "{}", verdict.unwrap_err());
    /// });
    /// ```
    pub fn run_workload(&self, mode: ApplyMode, seed: u64, workload: Workload) -> Result<Report, Failure> {
        let mut case = Case::new(self, mode, seed);
        case.workload = workload;
        check(self, case)
    }

    /// Whether this is one of the named scenarios, unchanged.
    fn is_builtin(&self) -> bool {
        Scenario::by_name(&self.name).is_some_and(|builtin| builtin.spec == self.spec)
    }

    /// Writes a scenario built in code as a file, so a command line can run it; returns its path.
    pub fn save(&self) -> Result<PathBuf, String> {
        let spec = self.spec.as_ref().ok_or("the scenario has no spec to write")?;
        let text = spec.to_toml()?;
        let name: String = self
            .name
            .chars()
            .map(|char| if char.is_ascii_alphanumeric() || char == '-' { char } else { '_' })
            .collect();
        let path = PathBuf::from(SAVED_SCENARIOS_DIRECTORY)
            .join(format!("{name}-{:08x}.toml", stable_hash(text.as_bytes()) as u32));
        std::fs::create_dir_all(SAVED_SCENARIOS_DIRECTORY)
            .and_then(|()| std::fs::write(&path, format!("# Saved by replsim from a scenario built in code.\n{text}")))
            .map_err(|error| format!("cannot write {}: {error}", path.display()))?;
        Ok(path)
    }
}

/// Runs `case` (of `scenario`) and turns its verdict into a result.
pub fn check(scenario: &Scenario, mut case: Case) -> Result<Report, Failure> {
    let options = RunOptions { keep_replies: true, ..RunOptions::default() };
    let verdict = run_case(&case, options);
    if verdict.is_pass() {
        return Ok(Report { verdict });
    }
    if case.scenario_file.is_none() && !scenario.is_builtin() {
        match scenario.save() {
            Ok(path) => case.scenario_file = Some(path),
            Err(problem) => case.scenario = format!("{} (not saved: {problem})", case.scenario),
        }
    }
    let diff: Vec<String> = verdict.violations().iter().map(ToString::to_string).collect();
    let mut checks: Vec<Check> = verdict.violations().iter().map(|violation| violation.check()).collect();
    checks.dedup();
    let repro = match checks.first() {
        Some(check) if case.workload != Case::new(scenario, case.mode, case.seed).workload => {
            save_regression(&case, *check, &verdict.headline())
        }
        _ => case.repro_command(),
    };
    let unknown = match &verdict.outcome {
        Outcome::Unknown(reason) => Some(reason.clone()),
        _ => None,
    };
    Err(Failure {
        seed: case.seed,
        mode: case.mode,
        checks,
        unknown,
        diff: diff.join("\n"),
        repro,
        verdict: Box::new(verdict),
    })
}

/// A case whose workload no seed draws, written as a regression line; its replay command.
fn save_regression(case: &Case, fails: Check, headline: &str) -> String {
    let settings = ClusterSpec::difference(&case.cluster_as_built, &case.cluster);
    let entry = Entry {
        scenario: case.scenario_file.as_ref().map_or(case.scenario.clone(), |path| path.display().to_string()),
        mode: case.mode,
        seed: case.seed,
        schedule: None,
        bug: case.cluster.bug,
        fails,
        workload: case.workload.clone(),
        faults: (case.cluster.faults != case.cluster_as_built.faults).then(|| case.cluster.faults.clone()),
        cluster: (settings != ClusterSpec::default()).then_some(settings),
    };
    let path = PathBuf::from(SAVED_SCENARIOS_DIRECTORY).join("workloads.txt");
    match regression::append(&path, &[headline.to_string()], &entry) {
        Ok(line) => regression_repro_command(&format!("{}:{line}", path.display()), None),
        Err(problem) => format!("{} (with this workload; not saved: {problem})", case.repro_command()),
    }
}
