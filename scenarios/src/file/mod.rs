//! Scenario files: a scenario written in TOML — the cluster, the clients' scripts, ordering
//! between clients, catch-up points, expectations, and what each seed draws.
//!
//! ```toml
//! name = "flush-after-set"
//! summary = "FLUSHDB starts after a SET returned; the replica must not keep the SET"
//!
//! [cluster]
//! replicas = 1
//! apply_workers = 4
//! apply_delay = "1ms..4ms"      # each apply takes a time drawn from this range
//!
//! [[phase]]                     # phases run in order; each ends in a catch-up point
//! [[phase.client]]              # client 1
//! ops = ["SET x 1"]
//! [[phase.client]]              # client 2
//! ops = [{ op = "FLUSHDB", after = "client 1 op 1" }]
//!
//! [[expect]]                    # judged at the catch-up point after the last phase
//! node = "replica-1"
//! get = "x"
//! returns = "nil"
//! ```
//!
//! [`load`] reads and validates a file into a [`Scenario`]; every problem is one
//! [`ScenarioError`] naming the file and line (`flush.toml:12: unknown command 'INCR' …`). The
//! README's "Write your own scenario" documents every key. [`ScenarioSpec`] is the file as data:
//! [`crate::builder`] builds the same structure in code, and [`ScenarioSpec::to_toml`] writes it
//! back, so a scenario built in a test can be replayed from the command line.

pub mod text;

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use replsim_model::command::Command;
use replsim_sim::behaviour::Behaviours;
use replsim_sim::bug::Bug;
use replsim_sim::config::{ApplyMode, ClusterConfig};
use replsim_sim::fault::FaultSchedule;
use replsim_sim::workload::Target;
use serde::{Deserialize, Serialize};
use toml::Spanned;

use crate::generate::{OpMix, WorkloadProfile};
use crate::regression::{faults_text, parse_faults};
use crate::scenario::{Scenario, Swarm};
use crate::script::{op_label, Expectation, Expected, Script, ScriptOp, ScriptPhase};
use crate::swarm::FaultKinds;
use text::{CountRange, DurationRange, DurationText, OpLine, OpRef, OpRefs, StallText, TargetText, Text};

/// A scenario file as written.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScenarioSpec {
    /// The scenario's name in verdicts and regression comments [default: the file's stem].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub summary: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cluster: Option<Spanned<ClusterSpec>>,
    /// The whole workload drawn per seed from a profile (as the built-in scenarios do), instead
    /// of `[[phase]]` scripts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub generate: Option<Spanned<DrawSpec>>,
    /// Swarm testing on a `[generate]` workload: `"drawn"` (each seed draws the cluster, the
    /// mix and which fault kinds are on), `"every-fault"` (every kind on for every seed) or
    /// `"sequential"` (one client, one command at a time, stalls on).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub swarm: Option<Spanned<String>>,
    #[serde(default, rename = "phase", skip_serializing_if = "Vec::is_empty")]
    pub phases: Vec<Spanned<PhaseSpec>>,
    #[serde(default, rename = "expect", skip_serializing_if = "Vec::is_empty")]
    pub expectations: Vec<Spanned<ExpectSpec>>,
}

/// `[cluster]`: a thin layer over [`ClusterConfig`]; every key is optional and defaults to
/// `ClusterConfig::default()`. A new cluster setting is one field here and one line in
/// [`ClusterSpec::apply`].
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClusterSpec {
    /// The apply mode `replay` and `shrink` use when the command line names none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mode: Option<Text<ApplyMode>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replicas: Option<usize>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub databases: Option<u8>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub apply_workers: Option<usize>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub apply_delay: Option<Text<DurationRange>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub apply_queue_capacity: Option<usize>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub latency: Option<Text<DurationRange>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub packet_loss_per_million: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub batch_entries_max: Option<usize>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub window_entries_max: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub binlog_retention_entries: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retransmit_after: Option<Text<DurationText>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phase_deadline: Option<Text<DurationText>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub catch_up_deadline: Option<Text<DurationText>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_deadline: Option<Text<DurationText>>,
    /// Fixed faults, in the syntax of regression lines: `"phase-1 +20ms kill replica-1 for 100ms"`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub faults: Option<Text<FaultsText>>,
    /// Fault kinds whose schedule each seed draws: `"partition,kill-replica"`, `"all"`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fault_draw: Option<Text<FaultKinds>>,
    /// A planted bug (`--bug` on the command line overrides it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bug: Option<Text<Bug>>,
    /// Behaviours of Pika as merged, in the syntax of `--behaviours`: `"pika"`,
    /// `"pika,-multi-exec"`, `"ack-on-receive,info-as-pika"` (`--profile`/`--behaviours` on the
    /// command line apply on top of it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub behaviours: Option<Text<Behaviours>>,
    /// Stalls (see `replsim_sim::stall`), per place: `"1% 50ms..2s"`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stall_apply_worker: Option<Text<StallText>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stall_binlog_thread: Option<Text<StallText>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stall_network: Option<Text<StallText>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stall_primary: Option<Text<StallText>>,
}

/// A fault schedule as text (see [`crate::regression::faults_text`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FaultsText(pub FaultSchedule);

impl std::str::FromStr for FaultsText {
    type Err = String;
    fn from_str(text: &str) -> Result<FaultsText, String> {
        parse_faults(text).map(FaultsText)
    }
}

impl fmt::Display for FaultsText {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        match faults_text(&self.0) {
            Ok(text) => formatter.write_str(&text),
            Err(problem) => write!(formatter, "<unwritable faults: {problem}>"),
        }
    }
}

impl ClusterSpec {
    /// Sets every key this section names on `cluster`.
    pub fn apply(&self, cluster: &mut ClusterConfig) {
        let set = |target: &mut Duration, value: &Option<Text<DurationText>>| {
            if let Some(Text(DurationText(duration))) = value {
                *target = *duration;
            }
        };
        if let Some(replicas) = self.replicas {
            cluster.replicas = replicas;
        }
        if let Some(databases) = self.databases {
            cluster.databases = databases;
        }
        if let Some(workers) = self.apply_workers {
            cluster.apply.workers = workers;
        }
        if let Some(Text(range)) = self.apply_delay {
            (cluster.apply.delay_min, cluster.apply.delay_max) = (range.min, range.max);
        }
        if let Some(capacity) = self.apply_queue_capacity {
            cluster.apply.queue_capacity = capacity;
        }
        if let Some(Text(range)) = self.latency {
            (cluster.network.latency_min, cluster.network.latency_max) = (range.min, range.max);
        }
        if let Some(loss) = self.packet_loss_per_million {
            cluster.network.packet_loss_per_million = loss;
        }
        if let Some(entries) = self.batch_entries_max {
            cluster.replication.batch_entries_max = entries;
        }
        if let Some(entries) = self.window_entries_max {
            cluster.replication.window_entries_max = entries;
        }
        if let Some(entries) = self.binlog_retention_entries {
            cluster.replication.binlog_retention_entries = Some(entries);
        }
        if let Some(Text(DurationText(after))) = self.retransmit_after {
            cluster.replication.retransmit_after = Some(after);
        }
        set(&mut cluster.deadlines.phase, &self.phase_deadline);
        set(&mut cluster.deadlines.catch_up, &self.catch_up_deadline);
        set(&mut cluster.deadlines.request, &self.request_deadline);
        if let Some(Text(FaultsText(faults))) = &self.faults {
            cluster.faults = faults.clone();
        }
        if let Some(Text(bug)) = self.bug {
            cluster.bug = Some(bug);
        }
        if let Some(Text(behaviours)) = &self.behaviours {
            cluster.behaviours = behaviours.clone();
        }
        let stalls = &mut cluster.stalls;
        for (place, setting) in [
            (&mut stalls.apply_worker, &self.stall_apply_worker),
            (&mut stalls.binlog_thread, &self.stall_binlog_thread),
            (&mut stalls.network, &self.stall_network),
            (&mut stalls.primary, &self.stall_primary),
        ] {
            if let Some(Text(StallText(stall))) = setting {
                *place = *stall;
            }
        }
    }

    /// The keys whose values differ between `from` and `to` (faults and bug aside: they have
    /// their own flags), as a section that turns `from` into `to` — how a repro line or a
    /// regression line carries the cluster settings a case ran with.
    pub fn difference(from: &ClusterConfig, to: &ClusterConfig) -> ClusterSpec {
        let duration = |a: Duration, b: Duration| (a != b).then_some(Text(DurationText(b)));
        let range = |a: (Duration, Duration), b: (Duration, Duration)| {
            (a != b).then_some(Text(DurationRange { min: b.0, max: b.1 }))
        };
        let value = |a, b| (a != b).then_some(b);
        let stall = |a, b| (a != b).then_some(Text(StallText(b)));
        ClusterSpec {
            replicas: value(from.replicas, to.replicas),
            databases: (from.databases != to.databases).then_some(to.databases),
            apply_workers: value(from.apply.workers, to.apply.workers),
            apply_delay: range((from.apply.delay_min, from.apply.delay_max), (to.apply.delay_min, to.apply.delay_max)),
            apply_queue_capacity: value(from.apply.queue_capacity, to.apply.queue_capacity),
            latency: range(
                (from.network.latency_min, from.network.latency_max),
                (to.network.latency_min, to.network.latency_max),
            ),
            packet_loss_per_million: (from.network.packet_loss_per_million != to.network.packet_loss_per_million)
                .then_some(to.network.packet_loss_per_million),
            batch_entries_max: value(from.replication.batch_entries_max, to.replication.batch_entries_max),
            window_entries_max: (from.replication.window_entries_max != to.replication.window_entries_max)
                .then_some(to.replication.window_entries_max),
            binlog_retention_entries: (from.replication.binlog_retention_entries
                != to.replication.binlog_retention_entries)
                .then_some(to.replication.binlog_retention_entries)
                .flatten(),
            retransmit_after: (from.replication.retransmit_after != to.replication.retransmit_after)
                .then_some(to.replication.retransmit_after.map(|after| Text(DurationText(after))))
                .flatten(),
            phase_deadline: duration(from.deadlines.phase, to.deadlines.phase),
            catch_up_deadline: duration(from.deadlines.catch_up, to.deadlines.catch_up),
            request_deadline: duration(from.deadlines.request, to.deadlines.request),
            stall_apply_worker: stall(from.stalls.apply_worker, to.stalls.apply_worker),
            stall_binlog_thread: stall(from.stalls.binlog_thread, to.stalls.binlog_thread),
            stall_network: stall(from.stalls.network, to.stalls.network),
            stall_primary: stall(from.stalls.primary, to.stalls.primary),
            ..ClusterSpec::default()
        }
    }

    /// `key=value,key=value` (TOML values), the form `--cluster` takes; empty when no key is set.
    pub fn to_flag(&self) -> String {
        let text = toml::to_string(self).unwrap_or_default();
        text.lines().map(|line| line.replace(" = ", "=")).collect::<Vec<_>>().join(",")
    }

    /// Reads `key=value,key=value`: a value is TOML (`replicas=2`, `apply_delay="1ms..9ms"`) or,
    /// when it does not read as TOML, a bare string (`apply_delay=1ms..9ms`).
    pub fn from_flag(text: &str) -> Result<ClusterSpec, String> {
        let mut document = String::new();
        for pair in text.split(',').filter(|pair| !pair.trim().is_empty()) {
            let (key, value) =
                pair.split_once('=').ok_or_else(|| format!("invalid cluster setting '{pair}' (expected KEY=VALUE)"))?;
            let value = value.trim();
            let value = if value.parse::<toml::Value>().is_ok() || value.starts_with('"') {
                value.to_string()
            } else {
                format!("{value:?}")
            };
            document.push_str(&format!("{} = {value}\n", key.trim()));
        }
        toml::from_str(&document)
            .map_err(|error| format!("invalid cluster setting: {}", error.message().trim().replace('\n', " ")))
    }
}

/// `[generate]` or a phase's `[phase.draw]`: clients drawn per seed from a profile.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DrawSpec {
    /// Phases (`[generate]` only) [default: 1].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phases: Option<CountRange>,
    /// Clients per phase.
    pub clients: CountRange,
    /// Operations per client [default: 1..=10].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ops: Option<CountRange>,
    /// Keys per database: `a`, `b`, … [default: 8].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub keys: Option<usize>,
    /// Relative weights of the operations, a missing one 0 [default: the built-in scenarios' mix].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mix: Option<OpMix>,
    /// Each operation's think time is drawn from 0 to this [default: 3ms].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub think_max: Option<Text<DurationText>>,
}

impl DrawSpec {
    /// The same draw as a spec (how the builder writes a profile).
    pub fn of_profile(profile: &WorkloadProfile) -> DrawSpec {
        DrawSpec {
            phases: Some(CountRange(profile.phases.clone())),
            clients: CountRange(profile.clients.clone()),
            ops: Some(CountRange(profile.ops_per_client.clone())),
            keys: Some(profile.keys),
            mix: Some(profile.mix.clone()),
            think_max: Some(Text(DurationText(profile.think_max))),
        }
    }

    fn profile(&self, cluster: &ClusterConfig) -> WorkloadProfile {
        let default = WorkloadProfile::default();
        WorkloadProfile {
            phases: self.phases.clone().map_or(1..=1, |phases| phases.0),
            clients: self.clients.0.clone(),
            ops_per_client: self.ops.clone().map_or(1..=10, |ops| ops.0),
            keys: self.keys.unwrap_or(default.keys),
            databases: cluster.databases,
            replicas: cluster.replicas,
            mix: self.mix.clone().unwrap_or(default.mix),
            think_max: self.think_max.as_ref().map_or(default.think_max, |think| think.0 .0),
        }
    }
}

/// `[[phase]]`: concurrent clients, then a catch-up point.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PhaseSpec {
    #[serde(default, rename = "client", skip_serializing_if = "Vec::is_empty")]
    pub clients: Vec<Spanned<ClientSpec>>,
    /// Extra clients drawn per seed, after the fixed ones.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub draw: Option<Spanned<DrawSpec>>,
}

/// `[[phase.client]]`: one client's operations, in order.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClientSpec {
    /// Where its operations go unless an operation says otherwise [default: primary]. Only GET
    /// can go to a replica.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<Text<TargetText>>,
    /// Think time before each operation: fixed (`2ms`) or drawn per seed (`0ms..3ms`), whole
    /// milliseconds [default: 0].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub think: Option<Text<DurationRange>>,
    pub ops: Vec<Spanned<OpEntry>>,
}

/// One operation: a string (`"SET x 1"`), or a table with ordering and overrides
/// (`{ op = "FLUSHDB", after = "client 1 op 1", think = "1ms..3ms", target = "replica-1" }`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OpSpec {
    pub op: Text<OpLine>,
    /// Operations of the same phase that must have returned before this one starts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub after: Option<Spanned<OpRefs>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub think: Option<Text<DurationRange>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<Text<TargetText>>,
}

/// `[[expect]]`: what must hold at a catch-up point. Exactly one of `get` (with `returns`) or
/// `converge = true`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExpectSpec {
    /// How a failure names it [default: its text and line].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The catch-up point after this phase (1-based) [default: the last phase].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub after_phase: Option<usize>,
    /// The node whose store is read [default: primary].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub node: Option<Text<TargetText>>,
    /// `GET` this key ...
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub get: Option<String>,
    /// ... in this database [default: 0] ...
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub db: Option<u8>,
    /// ... returns this value (`"nil"`: the key is absent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub returns: Option<String>,
    /// The primary and every replica hold the same data.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub converge: Option<bool>,
}

/// An entry of `ops`: a string, or an [`OpSpec`] table.
#[derive(Clone, Debug, PartialEq)]
pub struct OpEntry(pub OpSpec);

impl From<OpLine> for OpEntry {
    fn from(line: OpLine) -> OpEntry {
        OpEntry(OpSpec { op: Text(line), after: None, think: None, target: None })
    }
}

impl Serialize for OpEntry {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let spec = &self.0;
        if spec.after.is_none() && spec.think.is_none() && spec.target.is_none() {
            spec.op.serialize(serializer)
        } else {
            spec.serialize(serializer)
        }
    }
}

impl<'de> Deserialize<'de> for OpEntry {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<OpEntry, D::Error> {
        struct EntryVisitor;
        impl<'de> serde::de::Visitor<'de> for EntryVisitor {
            type Value = OpEntry;
            fn expecting(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
                formatter.write_str(
                    "an operation (\"SET x 1\") or a table ({ op = \"FLUSHDB\", after = \"client 1 op 1\" })",
                )
            }
            fn visit_str<E: serde::de::Error>(self, text: &str) -> Result<OpEntry, E> {
                text.parse::<OpLine>().map(OpEntry::from).map_err(E::custom)
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(self, map: A) -> Result<OpEntry, A::Error> {
                OpSpec::deserialize(serde::de::value::MapAccessDeserializer::new(map)).map(OpEntry)
            }
        }
        deserializer.deserialize_any(EntryVisitor)
    }
}

/// A problem in a scenario: one line, `FILE:LINE: problem` for a file.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ScenarioError {
    #[error("{path}:{line}: {problem}")]
    InFile { path: String, line: usize, problem: String },
    #[error("cannot read scenario file {path}: {problem}")]
    Read { path: String, problem: String },
    #[error("scenario {scenario}: {problem}")]
    Built { scenario: String, problem: String },
}

/// Where problems are reported: a file's text (to turn spans into lines), or a built scenario.
struct Reporter<'a> {
    path: Option<&'a Path>,
    text: &'a str,
    scenario: &'a str,
}

impl Reporter<'_> {
    fn at(&self, span: std::ops::Range<usize>, problem: impl Into<String>) -> ScenarioError {
        match self.path {
            Some(path) => ScenarioError::InFile {
                path: path.display().to_string(),
                line: line_of(self.text, span.start),
                problem: problem.into(),
            },
            None => ScenarioError::Built { scenario: self.scenario.to_string(), problem: problem.into() },
        }
    }
}

fn line_of(text: &str, offset: usize) -> usize {
    text.get(..offset.min(text.len())).map_or(1, |before| before.matches('\n').count() + 1)
}

/// Reads and validates the scenario file at `path`.
pub fn load(path: &Path) -> Result<Scenario, ScenarioError> {
    // Bounded: `--scenario-file /dev/urandom` is one error, not memory without end.
    let text = crate::input::read_text(path, crate::input::SCENARIO_FILE_BYTES_MAX, "scenario file")
        .map_err(|error| ScenarioError::Read { path: path.display().to_string(), problem: error.to_string() })?;
    parse(&text, path)
}

/// Reads and validates a scenario file's `text`; `path` names it in errors, repro lines and as
/// the default scenario name.
pub fn parse(text: &str, path: &Path) -> Result<Scenario, ScenarioError> {
    let spec: ScenarioSpec = toml::from_str(text).map_err(|error| ScenarioError::InFile {
        path: path.display().to_string(),
        line: error.span().map_or(1, |span| line_of(text, span.start)),
        problem: error.message().trim().replace('\n', " "),
    })?;
    let name = spec.name.clone().unwrap_or_else(|| {
        path.file_stem().map_or_else(|| "scenario".to_string(), |stem| stem.to_string_lossy().into_owned())
    });
    let reporter = Reporter { path: Some(path), text, scenario: &name };
    let mut scenario = compile(&spec, &name, &reporter)?;
    scenario.source = Some(path.to_path_buf());
    Ok(scenario)
}

impl ScenarioSpec {
    /// Validates a spec built in code (errors name the scenario instead of a line).
    pub fn compile(&self) -> Result<Scenario, ScenarioError> {
        let name = self.name.clone().unwrap_or_else(|| "scenario".to_string());
        let reporter = Reporter { path: None, text: "", scenario: &name };
        compile(self, &name, &reporter)
    }

    /// The spec as a scenario file.
    pub fn to_toml(&self) -> Result<String, String> {
        toml::to_string(self).map_err(|error| error.to_string())
    }
}

fn compile(spec: &ScenarioSpec, name: &str, reporter: &Reporter<'_>) -> Result<Scenario, ScenarioError> {
    let mut cluster = ClusterConfig::default();
    let mut default_mode = None;
    let mut fault_draw = None;
    if let Some(section) = &spec.cluster {
        section.get_ref().apply(&mut cluster);
        default_mode = section.get_ref().mode.as_ref().map(|mode| mode.0);
        fault_draw = section.get_ref().fault_draw.as_ref().map(|kinds| kinds.0);
        if fault_draw.is_some() && section.get_ref().faults.is_some() {
            return Err(reporter.at(section.span(), "give either faults or fault_draw, not both"));
        }
        cluster.validate().map_err(|problem| reporter.at(section.span(), format!("[cluster]: {problem}")))?;
    }
    let summary = spec.summary.clone().unwrap_or_else(|| format!("scenario {name}"));
    let mut scenario = Scenario {
        name: name.to_string(),
        summary,
        profile: WorkloadProfile { replicas: cluster.replicas, databases: cluster.databases, ..Default::default() },
        cluster,
        swarm: None,
        script: None,
        source: None,
        default_mode,
        spec: Some(Arc::new(spec.clone())),
    };
    match (&spec.generate, spec.phases.is_empty()) {
        (Some(generate), true) => {
            if !spec.expectations.is_empty() {
                return Err(reporter.at(spec.expectations[0].span(), "expectations need [[phase]] scripts"));
            }
            scenario.profile = generate.get_ref().profile(&scenario.cluster);
            if let Some(swarm) = &spec.swarm {
                scenario.swarm = Some(match swarm.get_ref().as_str() {
                    "drawn" => Swarm::Drawn,
                    "every-fault" => Swarm::EveryFault,
                    "sequential" => Swarm::Sequential,
                    other => {
                        return Err(reporter.at(
                            swarm.span(),
                            format!("unknown swarm '{other}' (expected drawn, every-fault or sequential)"),
                        ))
                    }
                });
            }
            if fault_draw.is_some() {
                scenario.script = Some(Arc::new(Script { fault_draw, ..Script::default() }));
            }
            check_profile(&scenario.profile, generate.span(), reporter)?;
        }
        (None, _) if spec.swarm.is_some() => {
            return Err(
                reporter.at(spec.swarm.as_ref().map_or(0..0, Spanned::span), "swarm needs a [generate] workload")
            )
        }
        (Some(generate), false) => {
            return Err(reporter.at(generate.span(), "give either [generate] or [[phase]] scripts, not both"))
        }
        (None, true) => {
            return Err(reporter.at(0..0, "a scenario needs at least one [[phase]] (or a [generate] section)"))
        }
        (None, false) => {
            let mut script = compile_phases(spec, &scenario.cluster, reporter)?;
            script.fault_draw = fault_draw;
            scenario.script = Some(Arc::new(script));
        }
    }
    Ok(scenario)
}

/// Bounds of a written scenario, so a typo cannot ask for a run that never ends.
const PHASES_MAX: usize = 100;
const CLIENTS_MAX: usize = 64;
const OPS_PER_CLIENT_MAX: usize = 10_000;

fn check_profile(
    profile: &WorkloadProfile,
    span: std::ops::Range<usize>,
    reporter: &Reporter<'_>,
) -> Result<(), ScenarioError> {
    let problem = if *profile.phases.end() > PHASES_MAX {
        Some(format!("at most {PHASES_MAX} phases"))
    } else if *profile.clients.end() > CLIENTS_MAX {
        Some(format!("at most {CLIENTS_MAX} clients per phase"))
    } else if *profile.ops_per_client.end() > OPS_PER_CLIENT_MAX {
        Some(format!("at most {OPS_PER_CLIENT_MAX} operations per client"))
    } else if profile.keys == 0 || profile.keys > 1000 {
        Some("keys must be 1..=1000".to_string())
    } else if profile.mix.total_weight() == 0 {
        Some("the mix needs at least one operation with a positive weight".to_string())
    } else if profile.mix.replica_get > 0 && profile.replicas == 0 {
        Some("replica_get needs a replica".to_string())
    } else {
        None
    };
    problem.map_or(Ok(()), |problem| Err(reporter.at(span, problem)))
}

/// The phases of a script, every reference checked.
fn compile_phases(
    spec: &ScenarioSpec,
    cluster: &ClusterConfig,
    reporter: &Reporter<'_>,
) -> Result<Script, ScenarioError> {
    if spec.phases.len() > PHASES_MAX {
        return Err(reporter.at(spec.phases[PHASES_MAX].span(), format!("at most {PHASES_MAX} phases")));
    }
    let mut phases = Vec::new();
    for phase_spec in &spec.phases {
        let phase = phase_spec.get_ref();
        if phase.clients.is_empty() && phase.draw.is_none() {
            return Err(reporter.at(phase_spec.span(), "a phase needs a [[phase.client]] or a [phase.draw]"));
        }
        if phase.clients.len() > CLIENTS_MAX {
            return Err(reporter.at(phase.clients[CLIENTS_MAX].span(), format!("at most {CLIENTS_MAX} clients")));
        }
        // Which operations others wait for: they get labels.
        let mut waited_for: BTreeMap<OpRef, std::ops::Range<usize>> = BTreeMap::new();
        for client in &phase.clients {
            for op in &client.get_ref().ops {
                if let Some(after) = &op.get_ref().0.after {
                    for reference in &after.get_ref().0 {
                        waited_for.entry(*reference).or_insert(after.span());
                    }
                }
            }
        }
        for (reference, span) in &waited_for {
            let exists = phase
                .clients
                .get(reference.client - 1)
                .is_some_and(|client| reference.op <= client.get_ref().ops.len());
            if !exists {
                return Err(reporter
                    .at(span.clone(), format!("ordering refers to {reference}, which this phase does not have")));
            }
        }
        let mut clients = Vec::new();
        for (client_index, client_spec) in phase.clients.iter().enumerate() {
            let client = client_spec.get_ref();
            if client.ops.len() > OPS_PER_CLIENT_MAX {
                return Err(reporter.at(client_spec.span(), format!("at most {OPS_PER_CLIENT_MAX} operations")));
            }
            let mut ops = Vec::new();
            for (op_index, op_spec) in client.ops.iter().enumerate() {
                let this = OpRef { client: client_index + 1, op: op_index + 1 };
                ops.push(compile_op(op_spec, client, this, waited_for.contains_key(&this), cluster, reporter)?);
            }
            clients.push(ops);
        }
        check_acyclic(phase, reporter)?;
        let draw = match &phase.draw {
            Some(draw) => {
                let profile = draw.get_ref().profile(cluster);
                check_profile(&profile, draw.span(), reporter)?;
                Some(profile)
            }
            None => None,
        };
        phases.push(ScriptPhase { clients, draw });
    }
    let expectations = spec
        .expectations
        .iter()
        .map(|expect| compile_expectation(expect, spec.phases.len(), cluster, reporter))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Script { phases, expectations, fault_draw: None })
}

fn compile_op(
    op_spec: &Spanned<OpEntry>,
    client: &ClientSpec,
    this: OpRef,
    waited_for: bool,
    cluster: &ClusterConfig,
    reporter: &Reporter<'_>,
) -> Result<ScriptOp, ScenarioError> {
    let spec = &op_spec.get_ref().0;
    let at = |problem: String| reporter.at(op_spec.span(), problem);
    let mut op = spec.op.0 .0.clone();
    let written_think = op.think;
    let think = spec.think.as_ref().or(client.think.as_ref()).map(|think| think.0);
    let think = match think {
        Some(_) if !written_think.is_zero() => return Err(at("give the think time once (+Nms or think)".into())),
        Some(range) => range,
        None => DurationRange::fixed(written_think),
    };
    for duration in [think.min, think.max] {
        if duration.as_nanos() % 1_000_000 != 0 {
            return Err(at(format!("think times are whole milliseconds, not {}", text::duration_text(duration))));
        }
    }
    op.think = think.min;
    let target = spec.target.as_ref().or(client.target.as_ref()).map(|target| target.0 .0);
    if let (Some(target), Target::Primary) = (target, op.target) {
        op.target = target;
    }
    if let Target::Replica(index) = op.target {
        if !matches!(op.command, Command::Get { .. }) {
            return Err(at(format!("only GET can be served by a replica: \"{}\"", spec.op.0)));
        }
        if index >= cluster.replicas {
            return Err(at(format!(
                "replica-{} does not exist (the cluster has {} replica(s))",
                index + 1,
                cluster.replicas
            )));
        }
    }
    if op.command.db().0 >= cluster.databases {
        return Err(at(format!(
            "database {} does not exist (the cluster has {} database(s))",
            op.command.db().0,
            cluster.databases
        )));
    }
    if let Some(after) = &spec.after {
        if after.get_ref().0.contains(&this) {
            return Err(reporter.at(after.span(), format!("ordering cycle: {this} waits for itself")));
        }
        op.after = after.get_ref().0.iter().map(|reference| op_label(reference.client, reference.op)).collect();
    }
    if waited_for {
        op.label = Some(op_label(this.client, this.op));
    }
    Ok(ScriptOp { op, think_max: think.max })
}

/// Refuses orderings that can never be satisfied: an operation that waits, directly or through
/// others (a client runs its operations in order), for itself. Kahn's algorithm over the
/// phase's operations, without recursion.
fn check_acyclic(phase: &PhaseSpec, reporter: &Reporter<'_>) -> Result<(), ScenarioError> {
    // Edges point from an operation to the ones that wait for it.
    let mut waiting: BTreeMap<OpRef, Vec<OpRef>> = BTreeMap::new();
    let mut waits_for: BTreeMap<OpRef, usize> = BTreeMap::new();
    for (client_index, client) in phase.clients.iter().enumerate() {
        for (op_index, op) in client.get_ref().ops.iter().enumerate() {
            let this = OpRef { client: client_index + 1, op: op_index + 1 };
            let mut predecessors: Vec<OpRef> =
                op.get_ref().0.after.as_ref().map(|after| after.get_ref().0.clone()).unwrap_or_default();
            if op_index > 0 {
                predecessors.push(OpRef { client: this.client, op: op_index });
            }
            waits_for.insert(this, predecessors.len());
            for predecessor in predecessors {
                waiting.entry(predecessor).or_default().push(this);
            }
        }
    }
    let mut ready: Vec<OpRef> = waits_for.iter().filter(|(_, count)| **count == 0).map(|(op, _)| *op).collect();
    while let Some(done) = ready.pop() {
        waits_for.remove(&done);
        for next in waiting.remove(&done).unwrap_or_default() {
            if let Some(count) = waits_for.get_mut(&next) {
                *count -= 1;
                if *count == 0 {
                    ready.push(next);
                }
            }
        }
    }
    // What is left waits on a cycle: report its first operation with an explicit `after`.
    for (client_index, client) in phase.clients.iter().enumerate() {
        for (op_index, op) in client.get_ref().ops.iter().enumerate() {
            let this = OpRef { client: client_index + 1, op: op_index + 1 };
            if let (true, Some(after)) = (waits_for.contains_key(&this), &op.get_ref().0.after) {
                let names: Vec<String> = after.get_ref().0.iter().map(ToString::to_string).collect();
                return Err(reporter.at(
                    after.span(),
                    format!("ordering cycle: {this} waits for {}, which waits for it", names.join(", ")),
                ));
            }
        }
    }
    Ok(())
}

fn compile_expectation(
    expect: &Spanned<ExpectSpec>,
    phases: usize,
    cluster: &ClusterConfig,
    reporter: &Reporter<'_>,
) -> Result<Expectation, ScenarioError> {
    let spec = expect.get_ref();
    let at = |problem: String| reporter.at(expect.span(), problem);
    let phase = spec.after_phase.unwrap_or(phases);
    if phase == 0 || phase > phases {
        return Err(at(format!("after_phase = {phase}, but the scenario has {phases} phase(s)")));
    }
    let node = spec.node.as_ref().map_or(Target::Primary, |node| node.0 .0);
    if let Target::Replica(index) = node {
        if index >= cluster.replicas {
            return Err(at(format!(
                "expectation on replica-{}, which does not exist (the cluster has {} replica(s))",
                index + 1,
                cluster.replicas
            )));
        }
    }
    let expected = match (&spec.get, spec.converge) {
        (Some(key), None | Some(false)) => {
            let db = spec.db.unwrap_or(0);
            if db >= cluster.databases {
                return Err(at(format!(
                    "database {db} does not exist (the cluster has {} database(s))",
                    cluster.databases
                )));
            }
            let returns =
                spec.returns.as_ref().ok_or_else(|| at("`get` needs `returns` (a value, or \"nil\")".into()))?;
            let value = (returns != "nil").then(|| returns.clone());
            Expected::Get { node, db: replsim_model::command::Db(db), key: key.clone(), value }
        }
        (None, Some(true)) => {
            if spec.node.is_some() || spec.returns.is_some() || spec.db.is_some() {
                return Err(at("`converge` takes no node, db or returns".into()));
            }
            Expected::Converge
        }
        _ => return Err(at("an expectation needs either `get` (with `returns`) or `converge = true`".into())),
    };
    let location = match reporter.path {
        Some(path) => format!(" ({}:{})", path.display(), line_of(reporter.text, expect.span().start)),
        None => String::new(),
    };
    let name = match &spec.name {
        Some(name) => format!("\"{name}\": {expected} after phase {phase}{location}"),
        None => format!("{expected} after phase {phase}{location}"),
    };
    Ok(Expectation { name, phase, expected })
}

/// The scenario file a regression line's scenario field names, if it names one.
pub fn file_of(scenario: &str) -> Option<PathBuf> {
    scenario.ends_with(".toml").then(|| PathBuf::from(scenario))
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use replsim_sim::config::ApplyMode;

    use super::parse;
    use crate::runner::Case;

    const DRAWN: &str = r#"
[cluster]
replicas = 2
fault_draw = "partition,kill-replica"

[[phase]]
[[phase.client]]
think = "0ms..5ms"
ops = ["SET x 1", "SET y 1"]
[phase.draw]
clients = "0..=3"
ops = "1..=4"
keys = 3
mix = { set = 5, flushdb = 1 }
"#;

    #[test]
    fn drawn_parts_are_a_function_of_the_seed() {
        let scenario = parse(DRAWN, Path::new("drawn.toml")).unwrap();
        let cases: Vec<Case> = (0..20).map(|seed| Case::new(&scenario, ApplyMode::Barrier, seed)).collect();
        let again = Case::new(&scenario, ApplyMode::Barrier, 7);
        assert_eq!(again.workload, cases[7].workload);
        assert_eq!(again.cluster.faults, cases[7].cluster.faults);
        let client_counts: std::collections::BTreeSet<usize> =
            cases.iter().map(|case| case.workload.phases[0].clients.len()).collect();
        assert!(client_counts.len() > 1, "the extra clients vary: {client_counts:?}");
        assert!(cases.iter().all(|case| case.workload.phases[0].clients[0].ops[0].command.to_string() == "SET x 1"));
        let thinks: std::collections::BTreeSet<u128> =
            cases.iter().map(|case| case.workload.phases[0].clients[0].ops[0].think.as_millis()).collect();
        assert!(thinks.len() > 1 && thinks.iter().all(|think| *think <= 5), "{thinks:?}");
        assert!(cases.iter().any(|case| !case.cluster.faults.is_empty()), "some seed draws a fault");
        assert!(cases.iter().all(|case| case.cluster.validate().is_ok()));
    }

    #[test]
    fn cluster_settings_read_back_from_their_flag() {
        let scenario = parse(DRAWN, Path::new("drawn.toml")).unwrap();
        let mut slower = scenario.cluster.clone();
        let settings = super::ClusterSpec::from_flag("apply_delay=3ms..9ms,apply_workers=2").unwrap();
        settings.apply(&mut slower);
        let difference = super::ClusterSpec::difference(&scenario.cluster, &slower);
        assert_eq!(difference, settings);
        assert_eq!(super::ClusterSpec::from_flag(&difference.to_flag()).unwrap(), settings);
        assert!(super::ClusterSpec::from_flag("apply_wrokers=2").unwrap_err().contains("apply_wrokers"));
    }
}
