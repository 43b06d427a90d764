//! Regression cases: failing cases (usually shrunk) written as one line of text each, so a file
//! under `tests/regressions/` reads as a list of bugs the harness once caught, and `cargo test`
//! replays every one of them.
//!
//! ```text
//! # flushdb-race hash-by-key seed 7: [convergence] replica-1 has a=v1, the primary has nothing
//! flushdb-race hash-by-key seed=7 fails=convergence :: SET a v1; FLUSHDB
//! ```
//!
//! A line is `SCENARIO MODE seed=S [schedule=T] [behaviours=LIST] [bug=B] [cluster=SETTINGS] fails=CHECK :: WORKLOAD [:: faults FAULTS]`.
//! `SCENARIO` is a built-in's name or a scenario file's path (`examples/flush-reorder.toml`);
//! `cluster=` carries settings the case ran with that its scenario does not give, in `--cluster`'s
//! `key=value,…` form, so a case found with a slower apply replays with it.
//! `behaviours=` (Pika's behaviours the case was found with, e.g. `pika,-multi-exec`) is left out
//! under the ideal profile.
//! The seed builds the case as `Case::new` does (the cluster, and a swarm scenario's configuration
//! and faults); the workload is given explicitly, because a shrunk workload is no longer the one
//! the seed generates; `schedule`, when the shrinker had to pick another one, seeds madsim's
//! scheduling instead of the seed. A case with faults (a swarm scenario's) ends in its shrunk
//! fault schedule, which replaces the seed's ([`faults_text`] has the syntax; without the section
//! the seed's schedule runs):
//!
//! ```text
//! swarm barrier seed=3 bug=drop-entries-on-reconnect fails=liveness :: SET a v1 :: faults phase-1 +2ms reset-link replica-1 for 1ms
//! ```
//!
//! The workload is written phase by phase, client by client:
//!
//! ```text
//! WORKLOAD := PHASE (" || " PHASE)*      phases run one after another, with a checkpoint after each
//! PHASE    := CLIENT (" | " CLIENT)*     clients of a phase run concurrently
//! CLIENT   := OP ("; " OP)*  |  "-"      one client's operations, in order ("-": none)
//! OP       := ["#" LABEL] ["+" MS "ms"] ["[db" N "]"] COMMAND ["@replica-" N] [" after=" LABEL ("," LABEL)*]
//! COMMAND  := "SET" KEY VALUE | "GET" KEY | "DEL" KEY+ | "FLUSHDB" | "FLUSHALL"
//! ```
//!
//! `+2ms` is the client's think time before the operation, `[db1]` the selected database (as
//! redis-cli shows it; db0 is left out), `@replica-1` a read served by the first replica;
//! `#c1.1` names an operation others of its phase wait for, `after=c1.1` makes one wait.
//!
//! ```
//! use replsim_scenarios::regression::{parse_workload, workload_text};
//! let text = "SET a v1; +2ms FLUSHDB | [db1] GET a @replica-1 || DEL a b";
//! let workload = parse_workload(text).unwrap();
//! assert_eq!(workload.op_count(), 4);
//! assert_eq!(workload_text(&workload).unwrap(), text);
//! ```

use std::fmt;
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

use replsim_model::command::{Command, Db, Value};
use replsim_sim::behaviour::Behaviours;
use replsim_sim::bug::Bug;
use replsim_sim::config::ApplyMode;
use replsim_sim::workload::{ClientScript, Phase, ScriptedOp, Target, Workload};

use replsim_sim::fault::FaultSchedule;

use crate::file::{self, file_of, ClusterSpec};
use crate::input::{read_text, InputError, REGRESSION_FILE_BYTES_MAX};
use crate::runner::{Case, Check};
use crate::scenario::Scenario;

mod faults;
pub use faults::{faults_text, parse_faults, step_text};

/// Separates the workload from the fault schedule in a line.
const FAULTS_SECTION: &str = " :: faults ";

/// One regression case: what to run, and which check it failed when it was caught.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    pub scenario: String,
    pub mode: ApplyMode,
    pub seed: u64,
    /// The seed of madsim's scheduler, when it is not `seed`.
    pub schedule: Option<u64>,
    /// The planted bug the case was found with, if any.
    pub bug: Option<Bug>,
    /// The behaviours of Pika the case was found with (ideal when none).
    pub behaviours: Behaviours,
    pub fails: Check,
    pub workload: Workload,
    /// The fault schedule, when it is not the seed's (a shrunk swarm case's).
    pub faults: Option<FaultSchedule>,
    /// Cluster settings the case ran with that its scenario does not give (`cluster=KEY=VALUE,…`).
    pub cluster: Option<ClusterSpec>,
}

/// An entry and where it was read from, for error messages and repro lines.
#[derive(Clone, Debug)]
pub struct Located {
    pub path: PathBuf,
    pub line: usize,
    /// The `#` comment lines just above the entry, without the `#`.
    pub comment: Vec<String>,
    pub entry: Entry,
}

impl Located {
    /// `tests/regressions/flushdb-race.txt:3`, as `replay --regression` takes it.
    pub fn location(&self) -> String {
        format!("{}:{}", self.path.display(), self.line)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum RegressionError {
    #[error(transparent)]
    Input(#[from] InputError),
    #[error("{location}: {problem}")]
    Parse { location: String, problem: String },
    #[error("cannot read {path}: {source}")]
    Read { path: String, source: std::io::Error },
    #[error("cannot write {path}: {source}")]
    Write { path: String, source: std::io::Error },
    #[error("{0}")]
    NotWritable(String),
}

impl Entry {
    /// The case to run: the scenario's case for (mode, seed) with this entry's workload.
    /// `mode` and `with_bug` let a test replay the same workload under a fixed mode, bug-free.
    pub fn case(&self, mode: ApplyMode, with_bug: bool) -> Result<Case, String> {
        let scenario = match file_of(&self.scenario) {
            Some(path) => file::load(&path).map_err(|error| error.to_string())?,
            None => Scenario::by_name(&self.scenario).ok_or_else(|| {
                format!("unknown scenario '{}' (known: {})", self.scenario, Scenario::names().join(", "))
            })?,
        };
        let mut case = Case::new(&scenario, mode, self.seed);
        if let Some(settings) = &self.cluster {
            case = case.with_cluster_settings(settings)?;
        }
        case.cluster.bug = if with_bug { self.bug } else { None };
        case.cluster.behaviours = self.behaviours.clone();
        case.workload = self.workload.clone();
        case.seed = self.schedule.unwrap_or(self.seed);
        if let Some(faults) = &self.faults {
            faults.validate(case.cluster.replicas).map_err(|problem| format!("faults: {problem}"))?;
            case.cluster.faults = faults.clone();
        }
        case.validate()?;
        Ok(case)
    }

    /// The line this entry is written as. Fails when a key or value cannot be written unambiguously.
    pub fn to_line(&self) -> Result<String, String> {
        let schedule = self.schedule.map(|schedule| format!(" schedule={schedule}")).unwrap_or_default();
        let bug = self.bug.as_ref().map(|bug| format!(" bug={bug}")).unwrap_or_default();
        let behaviours =
            if self.behaviours.is_ideal() { String::new() } else { format!(" behaviours={}", self.behaviours) };
        let bug = format!("{behaviours}{bug}");
        let cluster = self.cluster.as_ref().map(ClusterSpec::to_flag).unwrap_or_default();
        let cluster = if cluster.is_empty() { String::new() } else { format!(" cluster={cluster}") };
        let faults = match &self.faults {
            Some(faults) => format!("{FAULTS_SECTION}{}", faults_text(faults)?),
            None => String::new(),
        };
        Ok(format!(
            "{} {} seed={}{schedule}{bug}{cluster} fails={} :: {}{faults}",
            self.scenario,
            self.mode,
            self.seed,
            self.fails,
            workload_text(&self.workload)?
        ))
    }
}

impl FromStr for Entry {
    type Err = String;

    fn from_str(line: &str) -> Result<Entry, String> {
        let (head, rest) = line
            .split_once(" :: ")
            .ok_or("expected 'SCENARIO MODE seed=S [bug=B] fails=CHECK :: WORKLOAD [:: faults FAULTS]'")?;
        let (workload, faults) = match rest.split_once(FAULTS_SECTION) {
            Some((workload, faults)) => (workload, Some(parse_faults(faults)?)),
            None => (rest, None),
        };
        let mut words = head.split_whitespace();
        let scenario = words.next().ok_or("missing scenario")?.to_string();
        let mode = words.next().ok_or("missing mode")?.parse::<ApplyMode>().map_err(|error| error.to_string())?;
        let (mut seed, mut schedule, mut bug, mut fails, mut cluster) = (None, None, None, None, None);
        let mut behaviours = Behaviours::default();
        for word in words {
            match word.split_once('=') {
                Some(("seed", value)) => seed = Some(value.parse::<u64>().map_err(|_| format!("bad seed '{value}'"))?),
                Some(("schedule", value)) => {
                    schedule = Some(value.parse::<u64>().map_err(|_| format!("bad schedule '{value}'"))?)
                }
                Some(("bug", value)) => bug = Some(value.parse::<Bug>().map_err(|error| error.to_string())?),
                Some(("behaviours", value)) => {
                    behaviours = value.parse::<Behaviours>().map_err(|error| error.to_string())?
                }
                Some(("fails", value)) => fails = Some(value.parse::<Check>()?),
                Some(("cluster", value)) => cluster = Some(ClusterSpec::from_flag(value)?),
                _ => {
                    return Err(format!(
                        "unexpected '{word}' (expected seed=, schedule=, behaviours=, bug=, cluster= or fails=)"
                    ))
                }
            }
        }
        Ok(Entry {
            scenario,
            mode,
            seed: seed.ok_or("missing seed=S")?,
            schedule,
            bug,
            behaviours,
            fails: fails.ok_or("missing fails=CHECK")?,
            workload: parse_workload(workload)?,
            faults,
            cluster,
        })
    }
}

impl fmt::Display for Entry {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.to_line() {
            Ok(line) => formatter.write_str(&line),
            Err(problem) => write!(formatter, "<unwritable entry: {problem}>"),
        }
    }
}

/// Every check a regression line can name: whatever `shrink` can write, `load` must read back.
const CHECKS: [Check; 8] = [
    Check::Convergence,
    Check::PrefixConsistency,
    Check::Liveness,
    Check::SutInvariant,
    Check::Linearizability,
    Check::ReplicaReads,
    Check::ReadAfterCatchUp,
    Check::Expectation,
];

impl FromStr for Check {
    type Err = String;

    fn from_str(text: &str) -> Result<Check, String> {
        CHECKS.into_iter().find(|check| check.to_string() == text).ok_or_else(|| {
            let known: Vec<String> = CHECKS.iter().map(ToString::to_string).collect();
            format!("unknown check '{text}' (expected one of: {})", known.join(", "))
        })
    }
}

/// Every entry of one regression file, in file order.
pub fn load(path: &Path) -> Result<Vec<Located>, RegressionError> {
    let text = read_regression_file(path)?;
    let mut entries = Vec::new();
    let mut comment = Vec::new();
    for (index, line) in text.lines().enumerate() {
        let line_number = index + 1;
        let trimmed = line.trim();
        if trimmed.is_empty() {
            comment.clear();
        } else if let Some(text) = trimmed.strip_prefix('#') {
            comment.push(text.trim().to_string());
        } else {
            let entry = trimmed.parse::<Entry>().map_err(|problem| RegressionError::Parse {
                location: format!("{}:{line_number}", path.display()),
                problem,
            })?;
            entries.push(Located {
                path: path.to_path_buf(),
                line: line_number,
                comment: std::mem::take(&mut comment),
                entry,
            });
        }
    }
    Ok(entries)
}

/// Every entry of every `*.txt` file in `directory`, files in name order.
pub fn load_directory(directory: &Path) -> Result<Vec<Located>, RegressionError> {
    let listing = fs::read_dir(directory)
        .map_err(|source| RegressionError::Read { path: directory.display().to_string(), source })?;
    let mut paths: Vec<PathBuf> = listing
        .filter_map(|item| item.ok().map(|item| item.path()))
        .filter(|path| path.extension().is_some_and(|extension| extension == "txt"))
        .collect();
    paths.sort();
    let mut entries = Vec::new();
    for path in paths {
        entries.extend(load(&path)?);
    }
    Ok(entries)
}

/// Reads `tests/regressions/x.txt:3` (a path and a 1-based line number).
pub fn load_located(location: &str) -> Result<Located, RegressionError> {
    let bad = |problem: &str| RegressionError::Parse { location: location.to_string(), problem: problem.to_string() };
    let (path, line) = location.rsplit_once(':').ok_or_else(|| bad("expected FILE:LINE"))?;
    let line: usize = line.parse().map_err(|_| bad("expected FILE:LINE with a line number"))?;
    load(Path::new(path))?
        .into_iter()
        .find(|located| located.line == line)
        .ok_or_else(|| bad("no regression entry on that line"))
}

fn read_regression_file(path: &Path) -> Result<String, InputError> {
    read_text(path, REGRESSION_FILE_BYTES_MAX, "regression file")
}

/// Where [`append`] left an entry.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Appended {
    /// Written at this (1-based) line.
    New(usize),
    /// The same line was already in the file, at this line: nothing was written.
    AlreadyThere(usize),
}

impl Appended {
    /// The entry's line, new or not.
    pub fn line(self) -> usize {
        match self {
            Appended::New(line) | Appended::AlreadyThere(line) => line,
        }
    }
}

/// The existing text of a regression file that [`append`] is about to extend (empty when the file
/// does not exist yet): read first, so that an unreadable file is refused before a long shrink.
pub fn existing_text(path: &Path) -> Result<String, RegressionError> {
    match read_regression_file(path) {
        Ok(text) => Ok(text),
        Err(error) if error.is_not_found() => Ok(String::new()),
        Err(error) => Err(error.into()),
    }
}

/// Appends `entry` to `path` (created, with its directory, if missing) under `comment` lines,
/// unless the file already holds the same line: shrinking one seed twice records it once.
pub fn append(path: &Path, comment: &[String], entry: &Entry) -> Result<Appended, RegressionError> {
    let line = entry.to_line().map_err(RegressionError::NotWritable)?;
    let write_error = |source| RegressionError::Write { path: path.display().to_string(), source };
    let existing = existing_text(path)?;
    if let Some(index) = existing.lines().position(|existing_line| existing_line.trim() == line) {
        return Ok(Appended::AlreadyThere(index + 1));
    }
    if let Some(directory) = path.parent().filter(|directory| !directory.as_os_str().is_empty()) {
        fs::create_dir_all(directory).map_err(write_error)?;
    }
    let mut block = String::new();
    if !existing.is_empty() && !existing.ends_with('\n') {
        block.push('\n');
    }
    if !existing.trim().is_empty() {
        block.push('\n');
    }
    for comment_line in comment {
        block.push_str(&format!("# {comment_line}\n"));
    }
    block.push_str(&line);
    block.push('\n');
    let line_number = (existing + &block).lines().count();
    let mut file = fs::OpenOptions::new().create(true).append(true).open(path).map_err(write_error)?;
    file.write_all(block.as_bytes()).and_then(|()| file.flush()).map_err(write_error)?;
    Ok(Appended::New(line_number))
}

/// The text form of a workload (see the module docs).
pub fn workload_text(workload: &Workload) -> Result<String, String> {
    let mut phases = Vec::with_capacity(workload.phases.len());
    for phase in &workload.phases {
        let mut clients = Vec::with_capacity(phase.clients.len());
        for client in &phase.clients {
            let ops: Vec<String> = client.ops.iter().map(op_text).collect::<Result<_, _>>()?;
            clients.push(if ops.is_empty() { "-".to_string() } else { ops.join("; ") });
        }
        phases.push(clients.join(" | "));
    }
    Ok(phases.join(" || "))
}

/// One operation in the text form: `+2ms [db1] SET a v1`.
pub fn op_text(op: &ScriptedOp) -> Result<String, String> {
    for word in op.command.keys().iter().map(String::as_str).chain(set_value(&op.command).map(Value::as_str)) {
        // `::` alone would read as the separator of the line's sections.
        let allowed = |char: char| char.is_ascii_alphanumeric() || "_-.:".contains(char);
        if word.is_empty() || word == "::" || !word.chars().all(allowed) {
            return Err(format!("'{word}' cannot be written in a regression line (letters, digits, _-.: only)"));
        }
    }
    let mut text = String::new();
    if let Some(label) = &op.label {
        text.push_str(&format!("#{} ", label_text(label)?));
    }
    if !op.think.is_zero() {
        if Duration::from_millis(op.think.as_millis() as u64) != op.think {
            return Err(format!("think time {:?} is not whole milliseconds", op.think));
        }
        text.push_str(&format!("+{}ms ", op.think.as_millis()));
    }
    // Command's own Display: `[db1] SET a v1`, db0 left out.
    text.push_str(&op.command.to_string());
    if let Target::Replica(index) = op.target {
        text.push_str(&format!(" @replica-{}", index + 1));
    }
    if !op.after.is_empty() {
        let labels = op.after.iter().map(|label| label_text(label)).collect::<Result<Vec<_>, _>>()?;
        text.push_str(&format!(" after={}", labels.join(",")));
    }
    Ok(text)
}

/// An ordering label as a line writes it (`c1.2`).
fn label_text(label: &str) -> Result<&str, String> {
    let allowed = |char: char| char.is_ascii_alphanumeric() || "_-.".contains(char);
    if label.is_empty() || !label.chars().all(allowed) {
        return Err(format!("label '{label}' cannot be written in a regression line"));
    }
    Ok(label)
}

fn set_value(command: &Command) -> Option<&Value> {
    match command {
        Command::Set { value, .. } => Some(value),
        _ => None,
    }
}

/// Parses the text form of a workload (see the module docs).
pub fn parse_workload(text: &str) -> Result<Workload, String> {
    let mut phases = Vec::new();
    for phase in text.split("||") {
        let mut clients = Vec::new();
        for client in phase.split('|') {
            let client = client.trim();
            let ops = if client == "-" {
                Vec::new()
            } else {
                client.split(';').map(parse_op).collect::<Result<Vec<_>, _>>()?
            };
            clients.push(ClientScript { ops });
        }
        phases.push(Phase { clients });
    }
    Ok(Workload { phases })
}

/// Parses one operation: `+2ms [db1] SET a v1 @replica-1`, with ordering labels in a written
/// scenario's lines: `#c1.1 SET x 1` (a label others wait for), `FLUSHDB after=c1.1` (waits).
pub fn parse_op(text: &str) -> Result<ScriptedOp, String> {
    let mut words: Vec<&str> = text.split_whitespace().collect();
    let mut label = None;
    let mut after = Vec::new();
    if let Some(name) = words.first().and_then(|word| word.strip_prefix('#')) {
        label = Some(label_text(name)?.to_string());
        words.remove(0);
    }
    if let Some(names) = words.last().and_then(|word| word.strip_prefix("after=")) {
        after = names.split(',').map(|name| label_text(name).map(str::to_string)).collect::<Result<_, _>>()?;
        words.pop();
    }
    let mut think = Duration::ZERO;
    let mut db = Db(0);
    let mut target = Target::Primary;
    if let Some(millis) = words.first().and_then(|word| word.strip_prefix('+')) {
        let millis = millis.strip_suffix("ms").and_then(|number| number.parse::<u64>().ok());
        think = Duration::from_millis(millis.ok_or_else(|| format!("bad think time in '{text}' (expected +Nms)"))?);
        words.remove(0);
    }
    if let Some(number) =
        words.first().and_then(|word| word.strip_prefix("[db")).and_then(|rest| rest.strip_suffix(']'))
    {
        db = Db(number.parse().map_err(|_| format!("bad database in '{text}' (expected [dbN])"))?);
        words.remove(0);
    }
    if let Some(number) = words.last().and_then(|word| word.strip_prefix("@replica-")) {
        let replica: usize = number.parse().map_err(|_| format!("bad replica in '{text}' (expected @replica-N)"))?;
        target = Target::Replica(replica.checked_sub(1).ok_or("replicas are numbered from 1")?);
        words.pop();
    }
    let command = match words.as_slice() {
        ["SET", key, value] => Command::set(db, *key, *value),
        ["GET", key] => Command::get(db, *key),
        ["DEL", keys @ ..] if !keys.is_empty() => Command::del(db, keys.iter().copied()),
        ["FLUSHDB"] => Command::FlushDb { db },
        ["FLUSHALL"] => Command::FlushAll { db },
        _ => {
            return Err(format!(
                "cannot read operation '{}' (expected SET k v, GET k, DEL k.., FLUSHDB or FLUSHALL)",
                text.trim()
            ))
        }
    };
    if target != Target::Primary && !matches!(command, Command::Get { .. }) {
        return Err(format!("only GET can be served by a replica: '{}'", text.trim()));
    }
    Ok(ScriptedOp { label, after, ..ScriptedOp::new(think, command, target) })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_entry_survives_writing_and_reading_back() {
        let line = "flushdb-race hash-by-key seed=7 schedule=9 fails=convergence :: SET a v1 | +3ms FLUSHDB || - | [db2] DEL a k27";
        let entry: Entry = line.parse().unwrap();
        assert_eq!(entry.seed, 7);
        assert_eq!(entry.fails, Check::Convergence);
        assert_eq!(entry.workload.phases.len(), 2);
        assert_eq!(entry.to_line().unwrap(), line);
        assert_eq!(entry.faults, None, "a line without a faults section runs the seed's schedule");
    }

    #[test]
    fn an_entry_with_faults_survives_writing_and_reading_back() {
        let line = "swarm barrier seed=3 bug=drop-entries-on-reconnect fails=liveness :: SET a v1 || GET a \
                    :: faults phase-2 +4ms kill replica-1 for 10ms";
        let entry: Entry = line.parse().unwrap();
        assert_eq!(entry.workload.op_count(), 2);
        assert_eq!(entry.faults.as_ref().map(|faults| faults.steps.len()), Some(1));
        assert_eq!(entry.to_line().unwrap(), line);
        let none: Entry = "swarm serial seed=1 fails=convergence :: SET a v1 :: faults none".parse().unwrap();
        assert_eq!(none.faults, Some(FaultSchedule::default()));
    }

    #[test]
    fn an_entry_with_behaviours_survives_writing_and_reading_back_and_runs_with_them() {
        let line = "flushdb-race merged-fix seed=0 behaviours=pika,-multi-exec fails=read-after-catch-up :: SET a v1";
        let entry: Entry = line.parse().unwrap();
        assert_eq!(entry.to_line().unwrap(), line);
        let case = entry.case(ApplyMode::MergedFix, true).unwrap();
        assert_eq!(case.cluster.behaviours.to_string(), "pika,-multi-exec");
        let unknown = "flushdb-race barrier seed=0 behaviours=pika,-acks fails=convergence :: SET a v1";
        assert!(unknown.parse::<Entry>().unwrap_err().contains("unknown behaviour 'acks'"));
    }

    #[test]
    fn explicit_faults_replace_the_seeds_schedule() {
        let line = "swarm barrier seed=3 fails=liveness :: SET a v1 :: faults phase-1 +1ms restart primary for 2ms";
        let case = line.parse::<Entry>().unwrap().case(ApplyMode::Barrier, true).unwrap();
        assert_eq!(case.cluster.faults.steps.len(), 1);
        let beyond = "swarm barrier seed=3 fails=liveness :: SET a v1 :: faults phase-1 +1ms kill replica-9 for 2ms";
        assert!(beyond.parse::<Entry>().unwrap().case(ApplyMode::Barrier, true).unwrap_err().contains("faults"));
    }

    #[test]
    fn every_check_a_violation_names_can_be_read_back() {
        for check in CHECKS {
            assert_eq!(check.to_string().parse::<Check>(), Ok(check));
        }
        assert!("linearisability".parse::<Check>().unwrap_err().contains("replica-reads"));
    }

    #[test]
    fn a_malformed_operation_is_named_in_the_error() {
        let problem = parse_workload("SET a v1; INCR a").unwrap_err();
        assert!(problem.contains("INCR a"), "{problem}");
        assert!("flushdb-race barrier fails=convergence :: SET a v1".parse::<Entry>().unwrap_err().contains("seed"));
    }

    #[test]
    fn keys_that_would_break_the_line_are_refused() {
        let op = ScriptedOp::new(Duration::ZERO, Command::set(Db(0), "a|b", "v1"), Target::Primary);
        assert!(op_text(&op).is_err());
    }
}
