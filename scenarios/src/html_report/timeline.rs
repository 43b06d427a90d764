//! A run's kept trace as lanes of items on one simulated-time axis: the data the HTML report
//! draws. Pure: trace lines in, a [`Timeline`] out; the page only lays it out.
//!
//! ```text
//! faults     ░░░ partition replica-1 ░░░░                 (bands across every lane)
//! client-3   [SET h v43 → OK]
//! primary    |44 SET h v43   |46 FLUSHDB                  (binlog appends)
//! replica-1  ·recv ·dispatch ·ack  [barrier wait]        (binlog thread)
//! worker 1     ....[apply 44 ──────────]                  (queued from dispatch, then applying)
//! worker 2          ..[apply 46 ─]                        46 overtakes 44
//! offsets    ▁▂▃▅▆  primary end, acked received/applied, INFO replication
//! ```

use std::collections::BTreeMap;

use replsim_model::binlog::Offset;
use replsim_model::check::overtaking::{find_overtakings, Apply, Overtaking};
use replsim_model::check::SimTime;
use replsim_model::command::Command;
use replsim_sim::fault::Fault;
use replsim_sim::probe::{Event, TraceLine};
use replsim_sim::workload::Target;
use serde::Serialize;

use crate::runner::{Verdict, Violation};

/// Item flags: drawn highlighted, whatever the zoom.
pub const FLAG_OVERTAKER: u8 = 1;
pub const FLAG_OVERTAKEN: u8 = 2;

#[derive(Clone, Debug, Serialize)]
pub struct Lane {
    pub name: String,
    /// `ops`, `binlog`, `thread`, `worker`, `offsets` or `harness`: how the page draws the lane.
    pub kind: &'static str,
}

/// Something that happened on a lane from `start` to `end` (equal for an instant).
#[derive(Clone, Debug, Serialize)]
pub struct Item {
    pub lane: usize,
    pub start: u64,
    pub end: u64,
    /// For an apply: when it was dispatched to its worker (the wait before `start`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub queued: Option<u64>,
    /// CSS class: `op`, `op-unknown`, `op-refused`, `read`, `append`, `apply`, `receive`, …
    pub kind: &'static str,
    pub label: String,
    pub detail: String,
    /// The binlog offset the item is about, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub offset: Option<u64>,
    #[serde(skip_serializing_if = "is_zero")]
    pub flags: u8,
}

fn is_zero(flags: &u8) -> bool {
    *flags == 0
}

/// A fault in force from `start` to `end`, drawn across every lane.
#[derive(Clone, Debug, Serialize)]
pub struct Band {
    pub start: u64,
    pub end: u64,
    pub label: String,
}

/// A moment drawn as a vertical line across every lane.
#[derive(Clone, Debug, Serialize)]
pub struct Mark {
    pub at: u64,
    pub label: String,
    /// `violation`, `phase`, `caught-up` or `reset`.
    pub kind: &'static str,
}

/// A step line on an offsets lane: `(time, offset)` in time order.
#[derive(Clone, Debug, Serialize)]
pub struct Series {
    pub lane: usize,
    pub name: String,
    pub kind: &'static str,
    pub points: Vec<(u64, u64)>,
}

/// One side of the overtaking, as the page describes it.
#[derive(Clone, Debug, Serialize)]
pub struct OvertakingEntry {
    pub offset: u64,
    pub command: String,
    pub worker: Option<usize>,
    pub started: Option<u64>,
    pub applied: u64,
}

#[derive(Clone, Debug, Serialize)]
pub struct OvertakingView {
    pub node: String,
    pub key: String,
    pub overtaker: OvertakingEntry,
    pub overtaken: OvertakingEntry,
    pub sentence: String,
}

#[derive(Clone, Debug, Serialize)]
pub struct Timeline {
    pub headline: String,
    pub verdict: String,
    pub repro: String,
    pub end: u64,
    pub lanes: Vec<Lane>,
    pub items: Vec<Item>,
    pub bands: Vec<Band>,
    pub marks: Vec<Mark>,
    pub series: Vec<Series>,
    pub overtaking: Option<OvertakingView>,
}

/// Builds the timeline of a verdict's kept trace.
pub fn build(verdict: &Verdict, trace: &[TraceLine]) -> Timeline {
    let mut builder = Builder::new(verdict, trace);
    let overtaking = overtaking_of(verdict, trace);
    for line in trace {
        builder.add(line);
    }
    builder.finish(verdict, overtaking)
}

/// The first overtaking that explains the first diverged store among the violations.
fn overtaking_of(verdict: &Verdict, trace: &[TraceLine]) -> Option<Overtaking> {
    verdict.violations().iter().find_map(|violation| {
        let (diff, until) = match violation {
            Violation::PrefixConsistency(replsim_model::check::prefix::PrefixViolation::Diverged {
                diff, at, ..
            }) => (diff, *at),
            Violation::Convergence {
                phase,
                failure: replsim_model::check::convergence::ConvergenceFailure::Diverged(diff),
            } => (diff, checkpoint_time(trace, *phase)),
            _ => return None,
        };
        let applies: Vec<Apply> = trace
            .iter()
            .filter(|line| line.node == diff.node)
            .filter_map(|line| match line.event {
                Event::Applied { offset, .. } => Some(Apply { offset, at: line.at }),
                _ => None,
            })
            .collect();
        let found = find_overtakings(diff, &applies, until);
        let first_offending = diff.first_offending.as_ref().map(|entry| entry.offset);
        found
            .iter()
            .find(|overtaking| {
                Some(overtaking.overtaker) == first_offending || Some(overtaking.overtaken) == first_offending
            })
            .or(found.first())
            .cloned()
    })
}

/// When the checkpoint of `phase` (1-based) was taken: its catch-up event, else the end.
fn checkpoint_time(trace: &[TraceLine], phase: usize) -> SimTime {
    trace
        .iter()
        .filter(|line| matches!(line.event, Event::CaughtUp { .. }))
        .nth(phase.saturating_sub(1))
        .or(trace.last())
        .map_or(SimTime(u64::MAX), |line| line.at)
}

/// A client operation still waiting for its reply.
struct OpenOperation {
    item: usize,
    command: Command,
    target: Target,
    /// Binlog entries it produced.
    produced: Vec<u64>,
}

struct Builder {
    lanes: Vec<Lane>,
    lane_of: BTreeMap<String, usize>,
    items: Vec<Item>,
    bands: Vec<Band>,
    marks: Vec<Mark>,
    series: Vec<Series>,
    series_of: BTreeMap<(String, &'static str), usize>,
    open_operations: BTreeMap<u64, OpenOperation>,
    /// Binlog offset → its command, as the primary appended it.
    binlog: BTreeMap<u64, Command>,
    /// (replica, offset) → when it was dispatched to a worker, until it is applied.
    dispatched: BTreeMap<(String, u64), u64>,
    /// (replica, offset) of a barrier wait → when the wait began.
    barrier_waits: BTreeMap<(String, u64), u64>,
    open_faults: Vec<(Fault, u64)>,
    end: u64,
}

impl Builder {
    fn new(verdict: &Verdict, trace: &[TraceLine]) -> Builder {
        let mut builder = Builder {
            lanes: Vec::new(),
            lane_of: BTreeMap::new(),
            items: Vec::new(),
            bands: Vec::new(),
            marks: Vec::new(),
            series: Vec::new(),
            series_of: BTreeMap::new(),
            open_operations: BTreeMap::new(),
            binlog: BTreeMap::new(),
            dispatched: BTreeMap::new(),
            barrier_waits: BTreeMap::new(),
            open_faults: Vec::new(),
            end: trace.last().map_or(0, |line| line.at.0),
        };
        // Lanes in reading order: faults, clients, the primary, then each replica top to bottom.
        builder.lane("harness", "faults & phases", "harness");
        let mut clients: Vec<u64> = trace
            .iter()
            .filter_map(|line| match line.event {
                Event::Invoke { client, .. } => Some(client),
                _ => None,
            })
            .collect();
        clients.sort_unstable();
        clients.dedup();
        for client in clients {
            builder.lane(&client_lane(client), &format!("client-{client}"), "ops");
        }
        builder.lane("primary", "primary binlog", "binlog");
        let cluster = &verdict.case.cluster;
        let mut workers: BTreeMap<String, Vec<Option<usize>>> = (0..cluster.replicas)
            .map(|index| {
                (replsim_sim::cluster::replica_name(index), (0..cluster.apply.workers).map(Some).collect::<Vec<_>>())
            })
            .collect();
        for line in trace {
            // `None`: the barrier lane (entries applied alone).
            let worker = match line.event {
                Event::Dispatched { worker, .. } => Some(worker),
                Event::Applied { worker, .. } => worker,
                _ => continue,
            };
            let lanes = workers.entry(line.node.clone()).or_default();
            if !lanes.contains(&worker) {
                lanes.push(worker);
            }
        }
        for (replica, worker_lanes) in &mut workers {
            worker_lanes.sort();
            builder.lane(&thread_lane(replica), &format!("{replica} binlog thread"), "thread");
            // Barrier applies (worker None) sort first: the lane right under the binlog thread.
            for worker in worker_lanes.iter() {
                let name = match worker {
                    Some(worker) => format!("{replica} worker {worker}"),
                    None => format!("{replica} barrier (alone)"),
                };
                builder.lane(&worker_lane(replica, *worker), &name, "worker");
            }
            builder.lane(&offsets_lane(replica), &format!("{replica} offsets"), "offsets");
        }
        builder
    }

    fn lane(&mut self, key: &str, name: &str, kind: &'static str) -> usize {
        if let Some(index) = self.lane_of.get(key) {
            return *index;
        }
        self.lanes.push(Lane { name: name.to_string(), kind });
        self.lane_of.insert(key.to_string(), self.lanes.len() - 1);
        self.lanes.len() - 1
    }

    fn item(&mut self, lane: usize, start: u64, end: u64, kind: &'static str, label: String, detail: String) -> usize {
        self.items.push(Item { lane, start, end, queued: None, kind, label, detail, offset: None, flags: 0 });
        self.items.len() - 1
    }

    fn instant(&mut self, lane: usize, at: u64, kind: &'static str, label: String, detail: String) -> usize {
        self.item(lane, at, at, kind, label, detail)
    }

    fn point(&mut self, replica: &str, name: &'static str, at: u64, offset: u64) {
        let lane = self.lane(&offsets_lane(replica), &format!("{replica} offsets"), "offsets");
        let index = *self.series_of.entry((replica.to_string(), name)).or_insert_with(|| {
            self.series.push(Series { lane, name: name.to_string(), kind: name, points: Vec::new() });
            self.series.len() - 1
        });
        let points = &mut self.series[index].points;
        if points.last().is_none_or(|(_, last)| *last != offset) {
            points.push((at, offset));
        }
    }

    fn add(&mut self, line: &TraceLine) {
        let at = line.at.0;
        let node = line.node.as_str();
        match &line.event {
            Event::Invoke { client, command, target } => {
                let lane = self.lane(&client_lane(*client), &format!("client-{client}"), "ops");
                let kind = if *target == Target::Primary { "op" } else { "read" };
                let label = command.to_string();
                let item = self.instant(lane, at, kind, label, String::new());
                self.open_operations.insert(
                    *client,
                    OpenOperation { item, command: command.clone(), target: *target, produced: Vec::new() },
                );
            }
            Event::Return { client, response } => {
                self.close_operation(*client, at, response.as_ref().map(ToString::to_string), None)
            }
            Event::NotExecuted { client, reason } => self.close_operation(*client, at, None, Some(reason.clone())),
            Event::BinlogAppend { offset, command } => {
                let source = self.producer_of(command);
                let lane = self.lane("primary", "primary binlog", "binlog");
                let mut detail = format!("primary appended {command} at offset {offset}, {}", SimTime(at));
                if let Some(client) = source {
                    let operation = &mut self.open_operations.get_mut(&client).expect("found open above");
                    operation.produced.push(offset.0);
                    detail.push_str(&format!(", for client-{client}'s {}", operation.command));
                }
                let item = self.instant(lane, at, "append", format!("{offset} {command}"), detail);
                self.items[item].offset = Some(offset.0);
                self.binlog.insert(offset.0, command.clone());
                for replica in self.replica_names() {
                    self.point(&replica, "primary", at, offset.0);
                }
            }
            Event::BinlogPurged { through } => {
                let lane = self.lane("primary", "primary binlog", "binlog");
                self.instant(
                    lane,
                    at,
                    "purge",
                    format!("purged ≤{through}"),
                    format!("binlog purged through offset {through}, {}", SimTime(at)),
                );
            }
            Event::SyncAccepted { replica, after, full_sync } => {
                let lane = self.thread(replica);
                let what = if *full_sync { "full sync" } else { "incremental sync" };
                self.instant(
                    lane,
                    at,
                    "sync",
                    what.to_string(),
                    format!("primary accepts {what} of {replica} after offset {after}, {}", SimTime(at)),
                );
            }
            Event::SyncRequested { offset } => {
                let lane = self.thread(node);
                self.instant(
                    lane,
                    at,
                    "sync",
                    format!("try-sync {offset}"),
                    format!("{node} asks to continue after offset {offset}, {}", SimTime(at)),
                );
            }
            Event::FullSyncLoaded { offset, keys } => {
                let lane = self.thread(node);
                // A full sync drains the workers first; that wait was announced under its offset.
                if let Some(wait_began) = self.barrier_waits.remove(&(node.to_string(), offset.0)) {
                    let detail = format!(
                        "{node} waits for its writes in flight before loading the full sync, {} to {}",
                        SimTime(wait_began),
                        SimTime(at)
                    );
                    self.item(lane, wait_began, at, "barrier", "drain for full sync".to_string(), detail);
                }
                self.instant(
                    lane,
                    at,
                    "sync",
                    format!("snapshot {offset}"),
                    format!("{node} loaded a full-sync snapshot at offset {offset} ({keys} keys), {}", SimTime(at)),
                );
                self.point(node, "applied", at, offset.0);
            }
            Event::BatchReceived { first, last } => {
                let lane = self.thread(node);
                self.instant(
                    lane,
                    at,
                    "receive",
                    format!("recv {first}..{last}"),
                    format!("{node} received entries {first}..={last}, {}", SimTime(at)),
                );
                self.point(node, "received", at, last.0);
            }
            Event::Dispatched { offset, .. } => {
                self.dispatched.insert((node.to_string(), offset.0), at);
            }
            Event::BarrierWait { offset, .. } => {
                self.barrier_waits.insert((node.to_string(), offset.0), at);
            }
            Event::Applied { offset, worker, started } => self.applied(node, *offset, *worker, started.0, at),
            Event::AckSent { received, applied } => {
                let lane = self.thread(node);
                self.instant(
                    lane,
                    at,
                    "ack",
                    format!("ack {applied}"),
                    format!("{node} acks received={received} applied={applied}, {}", SimTime(at)),
                );
            }
            Event::AckReceived { replica, received, applied } => {
                self.point(replica, "acked received", at, received.0);
                self.point(replica, "acked applied", at, applied.0);
            }
            Event::InfoReplication { master_repl_offset, replicas } => {
                for line in replicas {
                    let lane = self.lane(&offsets_lane(&line.replica), &format!("{} offsets", line.replica), "offsets");
                    let detail = format!(
                        "INFO replication at {}: master_repl_offset={master_repl_offset}, {} offset={} applied_offset={}",
                        SimTime(at),
                        line.replica,
                        line.offset,
                        line.applied_offset
                    );
                    let item = self.instant(lane, at, "info", format!("INFO {}", line.applied_offset), detail);
                    self.items[item].offset = Some(line.applied_offset.0);
                }
            }
            Event::LinkDown { peer, reason } => {
                let lane = if node == "primary" {
                    self.lane("primary", "primary binlog", "binlog")
                } else {
                    self.thread(node)
                };
                self.instant(
                    lane,
                    at,
                    "link-down",
                    "link down".to_string(),
                    format!("{node}: link to {peer} down ({reason}), {}", SimTime(at)),
                );
            }
            Event::Retransmit { replica, after } => {
                let lane = self.thread(replica);
                self.instant(
                    lane,
                    at,
                    "retransmit",
                    format!("resend >{after}"),
                    format!("primary re-sends to {replica} after offset {after}: no ack progress, {}", SimTime(at)),
                );
            }
            Event::ReplicaStarted { offset, keys } => {
                let lane = self.thread(node);
                self.instant(
                    lane,
                    at,
                    "started",
                    format!("start @{offset}"),
                    format!("{node} started from durable state at offset {offset} ({keys} keys), {}", SimTime(at)),
                );
                // Apply spans of a killed incarnation never finish.
                self.dispatched.retain(|(replica, _), _| replica != node);
                self.barrier_waits.retain(|(replica, _), _| replica != node);
            }
            Event::PhaseStarted { phase, clients } => {
                self.marks.push(Mark { at, label: format!("phase {phase} ({clients} clients)"), kind: "phase" });
            }
            Event::CaughtUp { offset } => {
                self.marks.push(Mark { at, label: format!("caught up at {offset}"), kind: "caught-up" });
            }
            Event::FaultInjected { fault } => {
                if matches!(fault, Fault::ResetLink { .. }) {
                    self.marks.push(Mark { at, label: fault.to_string(), kind: "reset" });
                } else {
                    self.open_faults.push((fault.clone(), at));
                }
            }
            Event::FaultHealed { fault } => {
                if let Some(position) = self.open_faults.iter().position(|(open, _)| open == fault) {
                    let (fault, start) = self.open_faults.remove(position);
                    self.fault_band(&fault, start, at);
                }
            }
            Event::BatchSent { .. } => {}
        }
    }

    fn fault_band(&mut self, fault: &Fault, start: u64, end: u64) {
        let lane = self.lane("harness", "faults & phases", "harness");
        let label = fault.to_string();
        let detail = format!("{label} from {} to {}", SimTime(start), SimTime(end));
        self.item(lane, start, end, "fault", label.clone(), detail);
        self.bands.push(Band { start, end, label });
    }

    fn replica_names(&self) -> Vec<String> {
        self.lane_of.keys().filter_map(|key| key.strip_prefix("offsets:").map(str::to_string)).collect()
    }

    fn thread(&mut self, replica: &str) -> usize {
        self.lane(&thread_lane(replica), &format!("{replica} binlog thread"), "thread")
    }

    /// The open client operation on the primary that an appended command comes from: the same
    /// command (or the multi-key DEL or FLUSHALL it was split from), the earliest invoked.
    fn producer_of(&self, command: &Command) -> Option<u64> {
        let produces = |operation: &OpenOperation| {
            // Only a multi-key DEL or a FLUSHALL is logged as several entries.
            let splits = matches!(&operation.command, Command::Del { keys, .. } if keys.len() > 1)
                || matches!(operation.command, Command::FlushAll { .. });
            operation.target == Target::Primary
                && (operation.produced.is_empty() || splits)
                && (operation.command == *command
                    || match (&operation.command, command) {
                        (Command::Del { db, keys }, Command::Del { db: entry_db, keys: entry_keys }) => {
                            db == entry_db && entry_keys.iter().all(|key| keys.contains(key))
                        }
                        (Command::FlushAll { .. }, Command::FlushDb { .. } | Command::FlushAll { .. }) => true,
                        _ => false,
                    })
        };
        self.open_operations
            .iter()
            .filter(|(_, operation)| produces(operation))
            .min_by_key(|(_, operation)| self.items[operation.item].start)
            .map(|(client, _)| *client)
    }

    fn close_operation(&mut self, client: u64, at: u64, response: Option<String>, refused: Option<String>) {
        let Some(operation) = self.open_operations.remove(&client) else { return };
        let item = &mut self.items[operation.item];
        item.end = at;
        let took = SimTime(at.saturating_sub(item.start));
        let produced = match operation.produced.as_slice() {
            [] => String::new(),
            offsets => format!(", binlog offset {}", offsets.iter().map(u64::to_string).collect::<Vec<_>>().join(", ")),
        };
        item.offset = operation.produced.first().copied();
        let target = match operation.target {
            Target::Primary => "primary".to_string(),
            Target::Replica(index) => replsim_sim::cluster::replica_name(index),
        };
        let (outcome, kind) = match (response, refused) {
            (Some(response), _) => {
                item.label = format!("{} → {response}", operation.command);
                (format!("→ {response}"), item.kind)
            }
            (None, Some(reason)) => (format!("not executed: {reason}"), "op-refused"),
            (None, None) => ("gave up: outcome unknown".to_string(), "op-unknown"),
        };
        item.kind = kind;
        item.detail = format!(
            "client-{client}: {} on {target} {outcome}; {} to {} (took {:.3} ms){produced}",
            operation.command,
            SimTime(item.start),
            SimTime(at),
            took.0 as f64 / 1e6,
        );
    }

    fn applied(&mut self, node: &str, offset: Offset, worker: Option<usize>, started: u64, at: u64) {
        let lane = self.lane(&worker_lane(node, worker), &worker_name(node, worker), "worker");
        let queued = self.dispatched.remove(&(node.to_string(), offset.0));
        let command = self.binlog.get(&offset.0).map_or_else(|| format!("entry {offset}"), ToString::to_string);
        let place = match worker {
            Some(worker) => format!("worker {worker}"),
            None => "the binlog thread, alone behind a barrier".to_string(),
        };
        let waited = queued.map_or(String::new(), |queued| {
            format!(
                ", dispatched at {} (queued {:.3} ms)",
                SimTime(queued),
                started.saturating_sub(queued) as f64 / 1e6
            )
        });
        let detail = format!(
            "{node} applied {offset} {command} on {place}: {} to {} ({:.3} ms){waited}",
            SimTime(started),
            SimTime(at),
            at.saturating_sub(started) as f64 / 1e6
        );
        let item = self.item(lane, started, at, "apply", format!("{offset} {command}"), detail);
        self.items[item].queued = queued;
        self.items[item].offset = Some(offset.0);
        if let Some(wait_began) = self.barrier_waits.remove(&(node.to_string(), offset.0)) {
            let thread = self.thread(node);
            let detail = format!(
                "{node}: {offset} {command} waits for earlier writes to finish, {} to {}",
                SimTime(wait_began),
                SimTime(started)
            );
            let wait = self.item(thread, wait_began, started, "barrier", format!("barrier before {offset}"), detail);
            self.items[wait].offset = Some(offset.0);
        }
    }

    fn finish(mut self, verdict: &Verdict, overtaking: Option<Overtaking>) -> Timeline {
        // Still open at the end: an operation without a reply, a fault never healed.
        let end = self.end;
        let open: Vec<u64> = self.open_operations.keys().copied().collect();
        for client in open {
            self.close_operation(client, end, None, None);
        }
        for (fault, start) in std::mem::take(&mut self.open_faults) {
            self.fault_band(&fault, start, end);
        }
        for violation in verdict.violations() {
            if let Some((at, label)) = violation_moment(violation, &self.marks) {
                self.marks.push(Mark { at, label, kind: "violation" });
            }
        }
        let overtaking = overtaking.map(|overtaking| self.highlight(&overtaking));
        let mut text = String::new();
        for violation in verdict.violations() {
            text.push_str(&format!("{violation}\n"));
        }
        if let crate::runner::Outcome::Unknown(reason) = &verdict.outcome {
            text.push_str(&format!("unknown: {reason}\n"));
        }
        Timeline {
            headline: verdict.headline(),
            verdict: text,
            repro: verdict.case.repro_command(),
            end,
            lanes: self.lanes,
            items: self.items,
            bands: self.bands,
            marks: self.marks,
            series: self.series,
            overtaking,
        }
    }

    /// Flags every item of the two entries: their appends, their applies on the node, the client
    /// operations that wrote them.
    fn highlight(&mut self, overtaking: &Overtaking) -> OvertakingView {
        let node_lanes: Vec<usize> = self
            .lane_of
            .iter()
            .filter(|(key, _)| key.starts_with(&format!("worker:{}:", overtaking.node)))
            .map(|(_, lane)| *lane)
            .collect();
        let primary_lane = self.lane_of.get("primary").copied();
        let mut entry = |offset: Offset, flag: u8, applied: SimTime| {
            let mut view = OvertakingEntry {
                offset: offset.0,
                command: String::new(),
                worker: None,
                started: None,
                applied: applied.0,
            };
            for item in &mut self.items {
                if item.offset != Some(offset.0) {
                    continue;
                }
                let is_apply = item.kind == "apply" && node_lanes.contains(&item.lane);
                let is_apply_observed = is_apply && item.end == applied.0;
                let is_source = matches!(item.kind, "op" | "op-unknown") || Some(item.lane) == primary_lane;
                if is_apply_observed || is_source {
                    item.flags |= flag;
                }
                if is_apply_observed {
                    view.started = Some(item.start);
                }
            }
            view
        };
        let mut overtaker = entry(overtaking.overtaker, FLAG_OVERTAKER, overtaking.overtaker_applied);
        let mut overtaken = entry(overtaking.overtaken, FLAG_OVERTAKEN, overtaking.overtaken_applied);
        for view in [&mut overtaker, &mut overtaken] {
            view.command =
                self.binlog.get(&view.offset).map_or_else(|| format!("entry {}", view.offset), ToString::to_string);
            view.worker = self
                .items
                .iter()
                .find(|item| {
                    item.kind == "apply"
                        && item.offset == Some(view.offset)
                        && item.end == view.applied
                        && node_lanes.contains(&item.lane)
                })
                .and_then(|item| {
                    self.lanes[item.lane].name.rsplit_once("worker ").and_then(|(_, worker)| worker.parse().ok())
                });
        }
        let place = |view: &OvertakingEntry| match view.worker {
            Some(worker) => format!("worker {worker}"),
            None => "the barrier".to_string(),
        };
        let sentence = format!(
            "{} at offset {} overtook {} at offset {} on {}: applied on {} at {}, while the earlier entry finished on {} at {}",
            overtaker.command,
            overtaker.offset,
            overtaken.command,
            overtaken.offset,
            overtaking.node,
            place(&overtaker),
            SimTime(overtaker.applied),
            place(&overtaken),
            SimTime(overtaken.applied),
        );
        let key = if overtaking.db == replsim_model::command::Db(0) {
            overtaking.key.clone()
        } else {
            format!("{}:{}", overtaking.db, overtaking.key)
        };
        OvertakingView { node: overtaking.node.clone(), key, overtaker, overtaken, sentence }
    }
}

/// When a violation was observed, if it names a moment (a phase's checkpoint: its catch-up mark).
fn violation_moment(violation: &Violation, marks: &[Mark]) -> Option<(u64, String)> {
    match violation {
        Violation::PrefixConsistency(replsim_model::check::prefix::PrefixViolation::Diverged { diff, at, .. }) => {
            Some((at.0, format!("prefix consistency violated: {} idle at offset {}", diff.node, diff.offset)))
        }
        Violation::PrefixConsistency(replsim_model::check::prefix::PrefixViolation::BeyondBinlog {
            node,
            offset,
            at,
            ..
        }) => Some((at.0, format!("{node} claims offset {offset} beyond the binlog"))),
        Violation::Convergence { phase, .. } => marks
            .iter()
            .filter(|mark| mark.kind == "caught-up")
            .nth(phase.saturating_sub(1))
            .map(|mark| (mark.at, format!("convergence violated after phase {phase}"))),
        Violation::NoProgress { replica, offset, since, .. } => {
            Some((since.0, format!("no progress: {replica} stuck at offset {offset} since here")))
        }
        _ => None,
    }
}

fn client_lane(client: u64) -> String {
    format!("client:{client:020}")
}

fn thread_lane(replica: &str) -> String {
    format!("thread:{replica}")
}

fn worker_lane(replica: &str, worker: Option<usize>) -> String {
    format!("worker:{replica}:{}", worker.map_or("barrier".to_string(), |worker| format!("{worker:06}")))
}

fn worker_name(replica: &str, worker: Option<usize>) -> String {
    match worker {
        Some(worker) => format!("{replica} worker {worker}"),
        None => format!("{replica} barrier (alone)"),
    }
}

fn offsets_lane(replica: &str) -> String {
    format!("offsets:{replica}")
}
