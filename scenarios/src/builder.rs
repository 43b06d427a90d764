//! Scenarios in code: a [`Builder`] in the spirit of turmoil's, building the same
//! [`ScenarioSpec`] a scenario file holds, validated by the same code.
//!
//! ```
//! use replsim_scenarios::builder::Builder;
//! use replsim_sim::config::ApplyMode;
//!
//! let scenario = Builder::new("flush-after-set")
//!     .replicas(1)
//!     .apply_workers(4)
//!     .phase(|phase| {
//!         phase
//!             .client(|client| client.op("SET x 1"))
//!             .client(|client| client.op_after("FLUSHDB", "client 1 op 1"))
//!     })
//!     .expect_get("replica-1", "x", None)
//!     .build()
//!     .unwrap();
//!
//! // The fixed apply mode passes; the report holds every client's replies.
//! let report = scenario.run(ApplyMode::Barrier, 7).unwrap();
//! let flush = report.replies(1, 2);
//! assert_eq!(flush[0].command.to_string(), "FLUSHDB");
//! ```
//!
//! Written scenarios and the built-in ones are built the same way: the built-ins are
//! `Builder::new(name).generate(profile)` (see [`crate::scenario`]).

use std::time::Duration;

use replsim_sim::bug::Bug;
use replsim_sim::config::ApplyMode;
use toml::Spanned;

use crate::file::text::{CountRange, DurationRange, OpLine, OpRefs, TargetText, Text};
use crate::file::{
    ClientSpec, ClusterSpec, DrawSpec, ExpectSpec, OpEntry, OpSpec, PhaseSpec, ScenarioError, ScenarioSpec,
};
use crate::generate::WorkloadProfile;
use crate::scenario::{Scenario, Swarm};
use crate::swarm::FaultKinds;

/// Values built in code have no place in a file.
fn unplaced<T>(value: T) -> Spanned<T> {
    Spanned::new(0..0, value)
}

/// Builds a [`Scenario`]. Text arguments (operations, node names, references) use the syntax of
/// scenario files; the first one that does not read is the error [`Builder::build`] returns.
#[derive(Clone, Debug)]
pub struct Builder {
    spec: ScenarioSpec,
    cluster: ClusterSpec,
    problem: Option<String>,
}

impl Builder {
    pub fn new(name: &str) -> Builder {
        let spec = ScenarioSpec { name: Some(name.to_string()), ..ScenarioSpec::default() };
        Builder { spec, cluster: ClusterSpec::default(), problem: None }
    }

    pub fn summary(mut self, summary: &str) -> Builder {
        self.spec.summary = Some(summary.to_string());
        self
    }

    /// The mode `replay` and `shrink` use for this scenario when given none.
    pub fn mode(mut self, mode: ApplyMode) -> Builder {
        self.cluster.mode = Some(Text(mode));
        self
    }

    pub fn replicas(mut self, replicas: usize) -> Builder {
        self.cluster.replicas = Some(replicas);
        self
    }

    pub fn databases(mut self, databases: u8) -> Builder {
        self.cluster.databases = Some(databases);
        self
    }

    pub fn apply_workers(mut self, workers: usize) -> Builder {
        self.cluster.apply_workers = Some(workers);
        self
    }

    /// Each apply takes a time drawn from `min..=max`.
    pub fn apply_delay(mut self, min: Duration, max: Duration) -> Builder {
        self.cluster.apply_delay = Some(Text(DurationRange { min, max }));
        self
    }

    /// Each message's network latency is drawn from `min..=max`.
    pub fn latency(mut self, min: Duration, max: Duration) -> Builder {
        self.cluster.latency = Some(Text(DurationRange { min, max }));
        self
    }

    pub fn bug(mut self, bug: Bug) -> Builder {
        self.cluster.bug = Some(Text(bug));
        self
    }

    /// Fixed faults, as a scenario file writes them: `"phase-1 +20ms kill replica-1 for 100ms"`.
    pub fn faults(mut self, faults: &str) -> Builder {
        match faults.parse() {
            Ok(faults) => self.cluster.faults = Some(Text(faults)),
            Err(problem) => self.fail(format!("faults: {problem}")),
        }
        self
    }

    /// Each seed draws a schedule of these fault kinds.
    pub fn fault_draw(mut self, kinds: FaultKinds) -> Builder {
        self.cluster.fault_draw = Some(Text(kinds));
        self
    }

    /// Any other cluster setting: every key of a file's `[cluster]` section is a field here.
    pub fn cluster(mut self, configure: impl FnOnce(&mut ClusterSpec)) -> Builder {
        configure(&mut self.cluster);
        self
    }

    /// A phase: concurrent clients, then a catch-up point.
    pub fn phase(mut self, build: impl FnOnce(PhaseBuilder) -> PhaseBuilder) -> Builder {
        let phase = build(PhaseBuilder { spec: PhaseSpec::default(), problem: None });
        if let Some(problem) = phase.problem {
            self.fail(problem);
        }
        self.spec.phases.push(unplaced(phase.spec));
        self
    }

    /// The whole workload drawn per seed from `profile`, instead of phases (the built-ins).
    pub fn generate(mut self, profile: &WorkloadProfile) -> Builder {
        self.cluster.replicas = Some(profile.replicas);
        self.cluster.databases = Some(profile.databases);
        self.spec.generate = Some(unplaced(DrawSpec::of_profile(profile)));
        self
    }

    /// Swarm testing on a [`Builder::generate`] workload.
    pub fn swarm(mut self, swarm: Swarm) -> Builder {
        self.spec.swarm = Some(unplaced(swarm.name().to_string()));
        self
    }

    /// At the catch-up point after the last phase, `GET key` on `node` (`"primary"`,
    /// `"replica-1"`, …) returns `value` (`None`: nil).
    pub fn expect_get(self, node: &str, key: &str, value: Option<&str>) -> Builder {
        let node = node.parse::<TargetText>();
        let mut builder = self;
        match node {
            Ok(node) => builder.spec.expectations.push(unplaced(ExpectSpec {
                node: Some(Text(node)),
                get: Some(key.to_string()),
                returns: Some(value.unwrap_or("nil").to_string()),
                ..ExpectSpec::default()
            })),
            Err(problem) => builder.fail(problem),
        }
        builder
    }

    /// At the catch-up point after the last phase, every replica holds what the primary holds.
    pub fn expect_converge(mut self) -> Builder {
        self.spec.expectations.push(unplaced(ExpectSpec { converge: Some(true), ..ExpectSpec::default() }));
        self
    }

    /// Any expectation a file can state (`after_phase`, `db`, `name`).
    pub fn expect(mut self, expectation: ExpectSpec) -> Builder {
        self.spec.expectations.push(unplaced(expectation));
        self
    }

    /// The scenario as data (what [`ScenarioSpec::to_toml`] writes as a file).
    pub fn spec(&self) -> ScenarioSpec {
        let mut spec = self.spec.clone();
        spec.cluster = (self.cluster != ClusterSpec::default()).then(|| unplaced(self.cluster.clone()));
        spec
    }

    /// Validates the scenario: the same checks as a file's, errors naming the scenario.
    pub fn build(self) -> Result<Scenario, ScenarioError> {
        if let Some(problem) = &self.problem {
            return Err(ScenarioError::Built {
                scenario: self.spec.name.clone().unwrap_or_default(),
                problem: problem.clone(),
            });
        }
        self.spec().compile()
    }

    fn fail(&mut self, problem: String) {
        self.problem.get_or_insert(problem);
    }
}

/// Builds one phase.
#[derive(Clone, Debug)]
pub struct PhaseBuilder {
    spec: PhaseSpec,
    problem: Option<String>,
}

impl PhaseBuilder {
    /// The next client (client 1 first).
    pub fn client(mut self, build: impl FnOnce(ClientBuilder) -> ClientBuilder) -> PhaseBuilder {
        let client = build(ClientBuilder { spec: ClientSpec::default(), problem: None });
        if let Some(problem) = client.problem {
            self.problem.get_or_insert(problem);
        }
        self.spec.clients.push(unplaced(client.spec));
        self
    }

    /// Extra clients drawn per seed: `clients` of them (a range), each with `ops` operations of
    /// `profile`'s mix, keys and think times.
    pub fn draw(
        mut self,
        clients: std::ops::RangeInclusive<usize>,
        ops: std::ops::RangeInclusive<usize>,
        profile: &WorkloadProfile,
    ) -> PhaseBuilder {
        let mut draw = DrawSpec::of_profile(profile);
        draw.phases = None;
        draw.clients = CountRange(clients);
        draw.ops = Some(CountRange(ops));
        self.spec.draw = Some(unplaced(draw));
        self
    }
}

/// Builds one client's script.
#[derive(Clone, Debug)]
pub struct ClientBuilder {
    spec: ClientSpec,
    problem: Option<String>,
}

impl ClientBuilder {
    /// The next operation: `"SET x 1"`, `"DEL a b"`, `"GET x @replica-1"`, `"+2ms FLUSHDB"`.
    pub fn op(self, op: &str) -> ClientBuilder {
        self.op_with(op, None)
    }

    /// The next operation, started only after `after` (`"client 1 op 2"`, same phase) returned.
    pub fn op_after(self, op: &str, after: &str) -> ClientBuilder {
        self.op_with(op, Some(after))
    }

    /// Where this client's operations go (`"primary"` or `"replica-N"`; only GETs go to a replica).
    pub fn target(mut self, target: &str) -> ClientBuilder {
        match target.parse::<TargetText>() {
            Ok(target) => self.spec.target = Some(Text(target)),
            Err(problem) => {
                self.problem.get_or_insert(problem);
            }
        }
        self
    }

    /// Think time before each operation, drawn per seed from `min..=max` (whole milliseconds).
    pub fn think(mut self, min: Duration, max: Duration) -> ClientBuilder {
        self.spec.think = Some(Text(DurationRange { min, max }));
        self
    }

    fn op_with(mut self, op: &str, after: Option<&str>) -> ClientBuilder {
        let line = match op.parse::<OpLine>() {
            Ok(line) => line,
            Err(problem) => {
                self.problem.get_or_insert(problem);
                return self;
            }
        };
        let after = match after.map(str::parse) {
            None => None,
            Some(Ok(reference)) => Some(unplaced(OpRefs(vec![reference]))),
            Some(Err(problem)) => {
                self.problem.get_or_insert(problem);
                return self;
            }
        };
        let spec = OpSpec { op: Text(line), after, think: None, target: None };
        self.spec.ops.push(unplaced(OpEntry(spec)));
        self
    }
}
