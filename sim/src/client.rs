//! Clients and the admin. A client runs its script against the primary (and, for reads, the
//! replicas), recording every call and return in the probe. The admin is how the harness observes
//! the cluster from outside: it polls `INFO replication` until the replicas catch up, and takes
//! snapshots for the checkpoints.

use std::collections::{BTreeMap, BTreeSet};
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use replsim_model::binlog::Offset;
use replsim_model::check::{NodeSnapshot, SimTime};

use crate::info::{LinkState, PikaPrimaryInfo, PikaReplicaInfo, PrimaryInfo};
use crate::probe::Probe;
use crate::time::{self, within};
use crate::wire::{Connection, Reply, Request, CLIENT_PORT};
use tokio::sync::watch;

/// A client's connection to a node's client port.
pub type ClientConnection = Connection<Request, Reply>;
use crate::workload::{ClientScript, Target};

/// Names and addresses of the nodes clients can reach.
#[derive(Clone, Debug)]
pub struct Directory {
    pub primary: (String, IpAddr),
    pub replicas: Vec<(String, IpAddr)>,
}

impl Directory {
    fn resolve(&self, target: Target) -> &(String, IpAddr) {
        match target {
            Target::Primary => &self.primary,
            Target::Replica(index) => &self.replicas[index % self.replicas.len()],
        }
    }
}

/// Ordering between the clients of one phase: which labelled operations have ended. Shared by the
/// phase's clients; an operation with an `after` list waits here (bounded by a deadline) before
/// it is sent.
///
/// ```text
/// client-1:  SET x 1 [label c1.1] ──returned──┐
/// client-2:  (think) ── waits for c1.1 ───────┴─► FLUSHDB
/// ```
#[derive(Clone, Debug)]
pub struct Ordering {
    ended: Arc<watch::Sender<BTreeSet<String>>>,
}

impl Default for Ordering {
    fn default() -> Ordering {
        Ordering { ended: Arc::new(watch::Sender::new(BTreeSet::new())) }
    }
}

impl Ordering {
    fn ended(&self, label: &str) {
        self.ended.send_modify(|ended| {
            ended.insert(label.to_string());
        });
    }

    /// Waits until every label in `labels` has ended, or `deadline` passes (false).
    async fn wait_for(&self, labels: &[String], deadline: Duration) -> bool {
        let mut ended = self.ended.subscribe();
        let all_ended =
            async { ended.wait_for(|ended| labels.iter().all(|label| ended.contains(label))).await.is_ok() };
        within(deadline, all_ended).await == Some(true)
    }
}

/// Runs a client's script. An operation without a reply within `request_deadline` is recorded
/// as indeterminate and the connection is dropped (a late reply must not be taken for the next).
/// An operation that must wait for others (`after`) waits at most `request_deadline` too; if they
/// have not all ended by then it is recorded as not executed.
pub async fn run_client(
    client: u64,
    script: ClientScript,
    directory: Directory,
    probe: Probe,
    request_deadline: Duration,
    ordering: Option<Ordering>,
) {
    let mut connections: BTreeMap<IpAddr, ClientConnection> = BTreeMap::new();
    // Per node: how many connections this client has given up (the current session's number).
    let mut sessions: BTreeMap<IpAddr, u64> = BTreeMap::new();
    for op in script.ops {
        if !op.think.is_zero() {
            madsim::time::sleep(op.think).await;
        }
        let waited = match (&ordering, op.after.is_empty()) {
            (Some(ordering), false) => ordering.wait_for(&op.after, request_deadline).await,
            _ => true,
        };
        let (node, ip) = directory.resolve(op.target).clone();
        let session = sessions.get(&ip).copied().unwrap_or(0);
        let handle = probe.invoked(&node, session, client, &op.command, op.target);
        if !waited {
            probe.not_executed(handle, format!("ordering: {} had not all ended", op.after.join(", ")));
            if let (Some(ordering), Some(label)) = (&ordering, &op.label) {
                ordering.ended(label);
            }
            continue;
        }
        let request = Request::Execute { command: op.command, operation: handle };
        // Whether the request may have reached the node: until it is sent, a failure means the
        // operation certainly did not happen.
        let mut sent = false;
        let outcome = within(request_deadline, async {
            if let std::collections::btree_map::Entry::Vacant(e) = connections.entry(ip) {
                e.insert(Connection::connect(SocketAddr::new(ip, CLIENT_PORT)).await?);
            }
            let connection = connections.get_mut(&ip).expect("inserted above");
            sent = true;
            connection.exchange(request).await
        })
        .await;
        match outcome {
            Some(Ok(Reply::Response(response))) => probe.returned(handle, Some(response)),
            Some(Ok(Reply::Error(message))) => probe.not_executed(handle, message),
            _ => {
                if connections.remove(&ip).is_some() {
                    *sessions.entry(ip).or_default() += 1;
                }
                if sent {
                    probe.mark(crate::marks::Mark::ClientGaveUp);
                    probe.returned(handle, None);
                } else {
                    probe.not_executed(handle, format!("no connection to {node}"));
                }
            }
        }
        if let (Some(ordering), Some(label)) = (&ordering, &op.label) {
            ordering.ended(label);
        }
    }
}

/// How waiting for the replicas ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CatchUp {
    /// Every replica reported `applied_offset == master_repl_offset` (and was online).
    CaughtUp { offset: Offset },
    /// The deadline passed; the first replica found behind, with the time its offset last moved.
    Stuck { replica: String, offset: Offset, primary_offset: Offset, since: SimTime },
}

const CATCH_UP_POLL: Duration = Duration::from_millis(5);
/// However much progress the replicas keep making, catching up takes at most this many deadlines.
const CATCH_UP_DEADLINES_MAX: u32 = 6;

/// What a catch-up wait has seen of each replica: the offset it last reported and when that
/// offset last moved, for the liveness failure when the deadline passes.
struct Watch {
    /// How long no replica may move before the wait gives up (no progress).
    deadline: Duration,
    /// When the wait gives up however the replicas move (`CATCH_UP_DEADLINES_MAX` deadlines).
    give_up_at_last: SimTime,
    last_progress: SimTime,
    /// Per replica: (offset last seen, when it last changed).
    progress: BTreeMap<IpAddr, (Offset, SimTime)>,
}

impl Watch {
    fn new(directory: &Directory, deadline: Duration) -> Watch {
        let started = time::now();
        let progress = directory.replicas.iter().map(|(_, ip)| (*ip, (Offset::ZERO, started))).collect();
        let give_up_at_last = SimTime(started.0 + (deadline * CATCH_UP_DEADLINES_MAX).as_nanos() as u64);
        Watch { deadline, give_up_at_last, last_progress: started, progress }
    }

    fn replicas(&self) -> Vec<IpAddr> {
        self.progress.keys().copied().collect()
    }

    fn last_seen(&self, ip: IpAddr) -> Offset {
        self.progress.get(&ip).map_or(Offset::ZERO, |(offset, _)| *offset)
    }

    fn saw(&mut self, ip: IpAddr, offset: Offset) {
        if let Some((seen, since)) = self.progress.get_mut(&ip) {
            if offset != *seen {
                *seen = offset;
                *since = time::now();
                self.last_progress = time::now();
            }
        }
    }

    /// No replica moved for a deadline — a slow replica that keeps applying, say through a run of
    /// stalls, is not stuck — or the overall cap has passed.
    fn timed_out(&self) -> bool {
        let no_progress = time::now().0 >= self.last_progress.0 + self.deadline.as_nanos() as u64;
        no_progress || time::now() >= self.give_up_at_last
    }

    /// The first replica found behind `primary_offset` (or the first one).
    fn stuck(&self, directory: &Directory, primary_offset: Offset) -> CatchUp {
        let (ip, (offset, since)) = self
            .progress
            .iter()
            .find(|(_, (offset, _))| *offset != primary_offset)
            .or_else(|| self.progress.iter().next())
            .map(|(ip, seen)| (*ip, *seen))
            .expect("at least one replica");
        let replica = directory.replicas.iter().find(|(_, replica_ip)| *replica_ip == ip).map(|(name, _)| name.clone());
        CatchUp::Stuck { replica: replica.unwrap_or_default(), offset, primary_offset, since }
    }
}

/// Polls the primary's `INFO replication` until every replica in `directory` is online with
/// `applied_offset == master_repl_offset`, or no replica's offset has moved for `deadline` (no
/// progress — a slow replica that keeps applying, say through a run of stalls, is not stuck),
/// or `CATCH_UP_DEADLINES_MAX` deadlines have passed.
pub async fn wait_for_catch_up(directory: &Directory, deadline: Duration) -> CatchUp {
    let mut watch = Watch::new(directory, deadline);
    let mut primary_offset = Offset::ZERO;
    let mut connections: BTreeMap<IpAddr, ClientConnection> = BTreeMap::new();
    loop {
        let text = info_text(&mut connections, directory.primary.1).await;
        if let Some(info) = text.and_then(|text| PrimaryInfo::parse(&text).ok()) {
            primary_offset = info.master_repl_offset;
            let mut all_caught_up = true;
            for ip in watch.replicas() {
                let line = info.replicas.iter().find(|line| line.ip == ip.to_string());
                let (offset, online) =
                    line.map_or((Offset::ZERO, false), |line| (line.applied_offset, line.state == LinkState::Online));
                watch.saw(ip, offset);
                all_caught_up &= online && offset == primary_offset;
            }
            if all_caught_up {
                return CatchUp::CaughtUp { offset: primary_offset };
            }
        }
        if watch.timed_out() {
            return watch.stuck(directory, primary_offset);
        }
        madsim::time::sleep(CATCH_UP_POLL).await;
    }
}

/// Attempts of [`snapshot`]: under packet loss a connection attempt can be refused (madsim drops
/// the connect packet), so one failure says nothing about the node.
const SNAPSHOT_ATTEMPTS_MAX: usize = 20;
const SNAPSHOT_RETRY_PAUSE: Duration = Duration::from_millis(10);

/// Asks a node for its store and offset, retrying refused connections within `deadline`.
pub async fn snapshot(node: &str, ip: IpAddr, deadline: Duration) -> Option<NodeSnapshot> {
    let reply = within(deadline, async {
        let mut last_error = None;
        for _ in 0..SNAPSHOT_ATTEMPTS_MAX {
            match Connection::<Request, Reply>::connect(SocketAddr::new(ip, CLIENT_PORT)).await {
                Ok(mut connection) => return connection.exchange(Request::Snapshot).await,
                Err(error) => last_error = Some(error),
            }
            madsim::time::sleep(SNAPSHOT_RETRY_PAUSE).await;
        }
        Err(last_error.expect("at least one attempt"))
    })
    .await;
    match reply {
        Some(Ok(Reply::Snapshot { offset, store })) => {
            Some(NodeSnapshot { node: node.to_string(), offset, store, at: time::now() })
        }
        _ => None,
    }
}

/// Waits until a Pika user would call the replicas caught up (`info-as-pika`): the primary's
/// `INFO replication` lists every replica with `lag=(db0:0)` and each replica's own `INFO
/// replication` shows the link up and the primary's binlog offset. Neither says anything about
/// what the replica has applied.
pub async fn wait_for_catch_up_as_pika(directory: &Directory, deadline: Duration) -> CatchUp {
    let mut watch = Watch::new(directory, deadline);
    let mut primary_offset = Offset::ZERO;
    let mut connections: BTreeMap<IpAddr, ClientConnection> = BTreeMap::new();
    loop {
        let primary = info_text(&mut connections, directory.primary.1).await;
        if let Some(info) = primary.and_then(|text| PikaPrimaryInfo::parse(&text).ok()) {
            primary_offset = info.binlog_offset;
            let mut all_caught_up = true;
            for ip in watch.replicas() {
                let lag_zero = info.replicas.iter().any(|line| line.ip == ip.to_string() && line.lag == 0);
                let replica = info_text(&mut connections, ip).await;
                let replica = replica.and_then(|text| PikaReplicaInfo::parse(&text).ok());
                let offset = replica.as_ref().map_or(watch.last_seen(ip), |replica| replica.binlog_offset);
                watch.saw(ip, offset);
                let link_up = replica.is_some_and(|replica| replica.link_up);
                all_caught_up &= lag_zero && link_up && offset == primary_offset;
            }
            if all_caught_up {
                return CatchUp::CaughtUp { offset: primary_offset };
            }
        }
        if watch.timed_out() {
            return watch.stuck(directory, primary_offset);
        }
        madsim::time::sleep(CATCH_UP_POLL).await;
    }
}

/// Waits until every replica has applied through `offset` — the simulator's truth, read from the
/// replicas' snapshots, which no Pika user can see. The checks that need a quiesced cluster wait
/// for this after the user-visible catch-up.
pub async fn wait_for_applied(directory: &Directory, offset: Offset, deadline: Duration) -> CatchUp {
    let mut watch = Watch::new(directory, deadline);
    loop {
        let mut all_applied = true;
        for (name, ip) in &directory.replicas {
            let snapshot = snapshot(name, *ip, CATCH_UP_POLL * 20).await;
            let applied = snapshot.map_or(watch.last_seen(*ip), |snapshot| snapshot.offset);
            watch.saw(*ip, applied);
            all_applied &= applied == offset;
        }
        if all_applied {
            return CatchUp::CaughtUp { offset };
        }
        if watch.timed_out() {
            return watch.stuck(directory, offset);
        }
        madsim::time::sleep(CATCH_UP_POLL).await;
    }
}

/// `INFO replication` of the node at `ip`, over a kept connection (dropped on failure).
async fn info_text(connections: &mut BTreeMap<IpAddr, ClientConnection>, ip: IpAddr) -> Option<String> {
    let reply = within(CATCH_UP_POLL * 20, async {
        if let std::collections::btree_map::Entry::Vacant(entry) = connections.entry(ip) {
            entry.insert(Connection::connect(SocketAddr::new(ip, CLIENT_PORT)).await?);
        }
        connections.get_mut(&ip).expect("connected above").exchange(Request::InfoReplication).await
    })
    .await;
    match reply {
        Some(Ok(Reply::Info(text))) => Some(text),
        _ => {
            connections.remove(&ip);
            None
        }
    }
}
