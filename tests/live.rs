//! Live mode against real `redis-server` processes (no mocks): a healthy pair passes every
//! scenario with faults on, the checks fire when a real pair misbehaves, a server that does
//! not answer or speaks something else is one error, and no server outlives its test.
//!
//! Needs `redis-server` on the PATH (`.ci/run` installs Debian's when it is absent).

mod common;

use common::replsim;

use std::io::{Read, Write};
use std::net::TcpListener;
use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use replsim_model::check::black_box_reads::{Evidence, ReadFault};
use replsim_model::command::{Command as KvCommand, Db};
use replsim_scenarios::live::client::{Address, Connection};
use replsim_scenarios::live::faults::{FaultAction, LiveFault, LiveFaultKinds};
use replsim_scenarios::live::info::{ReplicationInfo, ReplicationOffset, Role};
use replsim_scenarios::live::spawn::SpawnOptions;
use replsim_scenarios::live::{replicas_for, LiveCase, LiveError, LiveOptions, LivePair, LiveViolation, Servers};
use replsim_scenarios::scenario::Scenario;
use replsim_sim::workload::{ClientScript, Phase, ScriptedOp, Target, Workload};

const SEEDS_PER_SCENARIO: u64 = 50;

fn spawn(replicas: usize, replica_read_only: bool) -> Servers {
    Servers::Spawn(SpawnOptions { program: "redis-server".to_string(), replicas, replica_read_only })
}

/// Short think times keep fifty seeds of every scenario to seconds; the scripts are the
/// generator's.
fn quick_options() -> LiveOptions {
    LiveOptions { think_max: Some(Duration::from_millis(1)), ..LiveOptions::default() }
}

fn process_exists(pid: u32) -> bool {
    std::path::Path::new(&format!("/proc/{pid}")).exists()
}

/// The processes whose /proc directory passes `test`.
fn processes_where(test: impl Fn(&std::path::Path) -> Option<bool>) -> Vec<u32> {
    let Ok(entries) = std::fs::read_dir("/proc") else { return Vec::new() };
    entries
        .flatten()
        .filter_map(|entry| {
            let pid: u32 = entry.file_name().to_str()?.parse().ok()?;
            test(&entry.path())?.then_some(pid)
        })
        .collect()
}

/// Processes whose command line contains `text`.
fn processes_mentioning(text: &str) -> Vec<u32> {
    processes_where(|proc_dir| {
        let command_line = std::fs::read(proc_dir.join("cmdline")).ok()?;
        Some(String::from_utf8_lossy(&command_line).contains(text))
    })
}

/// Every server the pair started is gone: the pids it had, and any process running in its
/// directory (a restarted replica has a new pid).
fn assert_all_stopped(pids: &[u32], dir: Option<&std::path::Path>) {
    assert!(!pids.is_empty(), "the pair had processes");
    let left: Vec<u32> = pids.iter().copied().filter(|&pid| process_exists(pid)).collect();
    assert!(left.is_empty(), "server processes left behind: {left:?}");
    if let Some(dir) = dir {
        let stragglers = processes_mentioning(&dir.display().to_string());
        assert!(stragglers.is_empty(), "servers still running in {}: {stragglers:?}", dir.display());
        assert!(!dir.exists(), "{} is removed", dir.display());
    }
}

fn info_text(name: &str) -> String {
    let path = format!("{}/tests/data/live/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).unwrap_or_else(|error| panic!("{path}: {error}"))
}

#[test]
fn info_replication_of_redis_and_pika_parses_into_roles_links_and_offsets() {
    let primary = ReplicationInfo::parse(&info_text("redis-7.0-primary.txt")).unwrap();
    assert_eq!((primary.role, primary.link_up, &primary.offset), (Role::Primary, None, &ReplicationOffset::Redis(100)));
    let replica = ReplicationInfo::parse(&info_text("redis-7.0-replica.txt").replace('\n', "\r\n")).unwrap();
    assert_eq!((replica.role, replica.link_up), (Role::Replica, Some(true)));
    assert!(replica.offset.reached(&primary.offset));
    let syncing = ReplicationInfo::parse(&info_text("redis-7.0-replica-syncing.txt")).unwrap();
    assert_eq!(syncing.link_up, Some(false));
    assert!(!syncing.offset.reached(&primary.offset));

    let pika_primary = ReplicationInfo::parse(&info_text("pika-primary.txt")).unwrap();
    assert_eq!(pika_primary.role, Role::Primary);
    assert_eq!(pika_primary.offset.total(), 209_715_594);
    let behind = ReplicationInfo::parse(&info_text("pika-replica-behind.txt")).unwrap();
    assert_eq!((behind.role, behind.link_up), (Role::Replica, Some(true)));
    assert!(!behind.offset.reached(&pika_primary.offset), "db0 at 2 310 has not reached 2 394");
    let ReplicationOffset::Pika { databases, .. } = &behind.offset else { panic!("Pika's fields: {behind:?}") };
    assert_eq!(databases.get("db0"), Some(&(2, 310)));
    let down = ReplicationInfo::parse(&info_text("pika-replica-link-down.txt")).unwrap();
    assert_eq!(down.link_up, Some(false));
    assert!(pika_primary.offset.reached(&pika_primary.offset));

    for bad in ["", "HTTP/1.1 400 Bad Request", "role:master\r\nmaster_repl_offset:lots\r\n", "role:slave\r\n"] {
        assert!(ReplicationInfo::parse(bad).is_err(), "{bad:?}");
    }
}

/// Fifty seeds of one scenario on its own spawned pair; returns (faults injected, replica reads).
fn fifty_seeds(scenario: &Scenario) -> (usize, usize) {
    let options = quick_options();
    let mut pair = LivePair::connect(&spawn(replicas_for(scenario), true), &options).expect("a spawned pair");
    let kinds = pair.fault_kinds_available();
    assert_eq!(kinds, LiveFaultKinds::ALL, "a spawned Redis pair allows every fault kind");
    let (pids, dir) = (pair.pids(), pair.spawned_dir());
    let (mut faults, mut replica_reads) = (0, 0);
    for seed in 0..SEEDS_PER_SCENARIO {
        let case = LiveCase::new(scenario, seed, kinds);
        let verdict = pair.run(&case, &options, &AtomicBool::new(false)).expect("the live run completes");
        assert!(
            verdict.is_pass(),
            "{verdict}\nrun again: {}",
            case.repro_command(&spawn(replicas_for(scenario), true), kinds)
        );
        faults += verdict.faults.len();
        replica_reads += verdict.replica_reads;
    }
    drop(pair);
    assert_all_stopped(&pids, dir.as_deref());
    (faults, replica_reads)
}

#[test]
fn every_scenario_passes_fifty_seeds_with_faults_against_a_healthy_redis_pair() {
    let results: Vec<(String, (usize, usize))> = std::thread::scope(|scope| {
        let runs: Vec<_> = Scenario::all()
            .into_iter()
            .map(|scenario| scope.spawn(move || (scenario.name.to_string(), fifty_seeds(&scenario))))
            .collect();
        runs.into_iter().map(|run| run.join().expect("a scenario's seeds")).collect()
    });
    for (scenario, (faults, _)) in &results {
        assert!(*faults >= 10, "{scenario}: only {faults} faults over {SEEDS_PER_SCENARIO} seeds: faults are not on");
    }
    let swarm_reads: usize =
        results.iter().filter(|(name, _)| name.starts_with("swarm")).map(|(_, (_, reads))| reads).sum();
    assert!(swarm_reads > 100, "the swarm scenarios read from replicas ({swarm_reads} reads)");
}

fn op(target: Target, command: KvCommand, think_ms: u64) -> ScriptedOp {
    ScriptedOp::new(Duration::from_millis(think_ms), command, target)
}

fn one_client(ops: Vec<ScriptedOp>) -> Phase {
    Phase { clients: vec![ClientScript { ops }] }
}

#[test]
fn a_rogue_write_to_a_writable_replica_is_reported_as_divergence_naming_the_key() {
    let options = quick_options();
    let mut pair = LivePair::connect(&spawn(1, false), &options).expect("a spawned pair");
    let (pids, dir) = (pair.pids(), pair.spawned_dir());
    let replica = pair.replicas()[0].clone();
    let running = AtomicBool::new(true);
    let case = LiveCase::new(&Scenario::by_name("flushdb-race").unwrap(), 3, LiveFaultKinds::default());
    let verdict = std::thread::scope(|scope| {
        scope.spawn(|| {
            let mut rogue = Connection::open(&replica, Duration::from_secs(2)).expect("the replica answers");
            while running.load(Ordering::Relaxed) {
                rogue.execute(&KvCommand::set(Db(0), "rogue-key", "rogue-value")).expect("a writable replica");
                std::thread::sleep(Duration::from_millis(2));
            }
        });
        let verdict = pair.run(&case, &options, &AtomicBool::new(false));
        running.store(false, Ordering::Relaxed);
        verdict.expect("the live run completes")
    });
    let divergence = verdict
        .violations()
        .iter()
        .find(|violation| matches!(violation, LiveViolation::Convergence { .. }))
        .unwrap_or_else(|| panic!("a divergence is reported: {verdict}"));
    let report = divergence.to_string();
    assert!(report.contains("rogue-key: primary=nil replica-1=rogue-value"), "{report}");
    drop(pair);
    assert_all_stopped(&pids, dir.as_deref());
}

#[test]
fn a_read_from_a_replica_whose_link_is_held_down_is_reported_as_stale() {
    let options = LiveOptions { catch_up_deadline: Duration::from_millis(500), ..quick_options() };
    let mut pair = LivePair::connect(&spawn(1, true), &options).expect("a spawned pair");
    let (pids, dir) = (pair.pids(), pair.spawned_dir());
    // Phase 1 writes v1 and the replica catches up. Phase 2 cuts the replica off, then writes
    // v2. Phase 3 reads the key from the replica, which can only answer v1.
    let case = LiveCase {
        scenario: "held-down-link".to_string(),
        seed: 0,
        workload: Workload {
            phases: vec![
                one_client(vec![op(Target::Primary, KvCommand::set(Db(0), "a", "v1"), 0)]),
                one_client(vec![op(Target::Primary, KvCommand::set(Db(0), "a", "v2"), 100)]),
                one_client(vec![op(Target::Replica(0), KvCommand::get(Db(0), "a"), 0)]),
            ],
        },
        faults: vec![LiveFault {
            phase: 1,
            after: Duration::ZERO,
            replica: 0,
            action: FaultAction::BreakLink { hold_down: true },
        }],
        expectations: Vec::new(),
        scenario_file: None,
    };
    let verdict = pair.run(&case, &options, &AtomicBool::new(false)).expect("the live run completes");
    let stale = verdict.violations().iter().find_map(|violation| match violation {
        LiveViolation::ReplicaRead(read) => Some(read),
        _ => None,
    });
    let stale = stale.unwrap_or_else(|| panic!("the stale read is reported by replica-reads: {verdict}"));
    assert_eq!((stale.key.as_str(), stale.value.as_deref()), ("a", Some("v1")));
    assert!(
        matches!(&stale.fault, ReadFault::Stale { newer: Evidence::Floor { value, .. } } if value == "v2"),
        "{stale}"
    );
    let stuck = verdict.violations().iter().find(|violation| matches!(violation, LiveViolation::NoProgress { .. }));
    let stuck = stuck.unwrap_or_else(|| panic!("the catch-up deadline is reported: {verdict}"));
    assert!(stuck.to_string().contains("replica-1 stuck at offset"), "{stuck}");
    assert!(
        !verdict.violations().iter().any(|violation| matches!(violation, LiveViolation::Linearizability { .. })),
        "the primary itself was fine: {verdict}"
    );
    // The link is restored when the case ends: the next case starts from a caught-up pair.
    let again = LiveCase::new(&Scenario::by_name("pika-steps").unwrap(), 1, LiveFaultKinds::default());
    let patient = LiveOptions { catch_up_deadline: Duration::from_secs(10), ..options };
    assert!(pair.run(&again, &patient, &AtomicBool::new(false)).expect("the pair recovered").is_pass());
    drop(pair);
    assert_all_stopped(&pids, dir.as_deref());
}

/// A loopback listener that answers every request with `reply` (or never), for as long as the
/// test runs.
fn fake_server(reply: Option<&'static [u8]>) -> Address {
    let listener = TcpListener::bind("127.0.0.1:0").expect("a loopback port");
    let address = Address::loopback(listener.local_addr().unwrap().port());
    std::thread::spawn(move || {
        for mut stream in listener.incoming().flatten().take(16) {
            std::thread::spawn(move || {
                let mut buffer = [0u8; 512];
                while let Ok(read @ 1..) = stream.read(&mut buffer) {
                    // One reply per RESP command in what arrived (clients pipeline a few).
                    let request = &buffer[..read];
                    let commands = request.windows(3).filter(|window| window == b"\r\n*").count() + 1;
                    if let Some(reply) = reply {
                        let _ = stream.write_all(&reply.repeat(commands));
                    }
                }
            });
        }
    });
    address
}

#[test]
fn a_server_that_does_not_answer_or_speaks_something_else_is_one_error_not_a_hang() {
    let options = LiveOptions { request_timeout: Duration::from_millis(300), ..LiveOptions::default() };
    let silent = Servers::Existing { primary: fake_server(None), replicas: vec![] };
    let started = std::time::Instant::now();
    let error = LivePair::connect(&silent, &options).err().expect("a silent server is an error");
    assert!(matches!(error, LiveError::Unreachable { .. }), "{error}");
    assert!(started.elapsed() < Duration::from_secs(5), "bounded by the request timeout");

    let http = Servers::Existing { primary: fake_server(Some(b"HTTP/1.1 400 Bad Request\r\n\r\n")), replicas: vec![] };
    let error = LivePair::connect(&http, &options).err().expect("an HTTP server is an error");
    assert!(matches!(error, LiveError::Protocol { .. }), "{error}");

    let refusing =
        Servers::Existing { primary: fake_server(Some(b"-ERR unknown command 'PING'\r\n")), replicas: vec![] };
    let error = LivePair::connect(&refusing, &options).err().expect("a refused PING is an error");
    assert!(matches!(error, LiveError::Refused { .. }), "{error}");

    let remote = Servers::Existing { primary: "192.0.2.1:6379".parse().unwrap(), replicas: vec![] };
    let error = LivePair::connect(&remote, &options).err().expect("a remote host needs --allow-remote");
    assert!(matches!(error, LiveError::NotLoopback { .. }), "{error}");
}

#[test]
fn a_replica_given_as_primary_is_refused_by_role() {
    let options = LiveOptions::default();
    let pair = LivePair::connect(&spawn(1, true), &options).expect("a spawned pair");
    let swapped = Servers::Existing { primary: pair.replicas()[0].clone(), replicas: vec![pair.primary().clone()] };
    let error = LivePair::connect(&swapped, &options).err().expect("roles are checked");
    assert!(matches!(error, LiveError::WrongRole { expected: "primary", .. }), "{error}");
    let (pids, dir) = (pair.pids(), pair.spawned_dir());
    drop(pair);
    assert_all_stopped(&pids, dir.as_deref());
}

#[test]
fn the_cli_runs_a_spawned_pair_and_writes_a_history_replsim_check_reads() {
    let history = std::env::temp_dir().join(format!("replsim-live-history-{}.jsonl", std::process::id()));
    let history_arg = history.display().to_string();
    let output = replsim(&[
        "live",
        "--spawn",
        "redis-server",
        "--scenario",
        "pika-steps",
        "--seed",
        "5",
        "--seeds",
        "3",
        "--think-max",
        "1ms",
        "--history-out",
        &history_arg,
    ]);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(0), "{stdout}\n{}", String::from_utf8_lossy(&output.stderr));
    assert!(stdout.contains("PASS scenario=pika-steps seed=7 live"), "{stdout}");
    assert!(stdout.contains("not deterministic") && stdout.contains("3 seeds, 3 pass, 0 fail"), "{stdout}");
    let checked = replsim(&["check", &history_arg, "--model", "kv"]);
    assert_eq!(checked.status.code(), Some(0), "{}", String::from_utf8_lossy(&checked.stdout));
    let _ = std::fs::remove_file(&history);
}

#[test]
fn the_cli_refuses_remote_hosts_and_dead_servers_in_one_line() {
    for (args, mentions) in [
        (vec!["live", "--primary", "192.0.2.1:6379"], "--allow-remote"),
        (vec!["live", "--primary", "not-an-address"], "HOST:PORT"),
        (vec!["live"], "required arguments"),
    ] {
        let output = replsim(&args);
        let stderr = String::from_utf8_lossy(&output.stderr).trim_end().to_string();
        assert_eq!(output.status.code(), Some(2), "{args:?}: {stderr}");
        assert_eq!(stderr.lines().count(), 1, "{args:?}: {stderr}");
        assert!(stderr.contains(mentions), "{args:?}: {stderr}");
    }
    let closed = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port().to_string();
    let output = replsim(&["live", "--primary", &format!("127.0.0.1:{closed}"), "--request-timeout", "500ms"]);
    let stderr = String::from_utf8_lossy(&output.stderr).trim_end().to_string();
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("primary") && stderr.contains("does not answer"), "{stderr}");
}

/// Processes whose parent is `parent`.
fn children_of(parent: u32) -> Vec<u32> {
    processes_where(|proc_dir| {
        let stat = std::fs::read_to_string(proc_dir.join("stat")).ok()?;
        // "pid (comm) state ppid …": comm may hold spaces, so split after its ')'.
        let ppid: u32 = stat.rsplit_once(')')?.1.split_whitespace().nth(1)?.parse().ok()?;
        Some(ppid == parent)
    })
}

#[test]
fn ctrl_c_stops_a_live_run_and_tears_down_the_servers_it_started() {
    use std::time::Instant;
    let mut child = Command::new(env!("CARGO_BIN_EXE_replsim"))
        .args(["live", "--spawn", "redis-server", "--scenario", "swarm", "--seeds", "100000", "--think-max", "1ms"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("the replsim binary runs");
    let started = Instant::now();
    let servers = loop {
        let servers = children_of(child.id());
        if servers.len() == 4 {
            break servers;
        }
        assert!(started.elapsed() < Duration::from_secs(30), "replsim live did not start its 4 servers");
        std::thread::sleep(Duration::from_millis(20));
    };
    std::thread::sleep(Duration::from_secs(1));
    let status = common::interrupt_and_wait(&mut child, Duration::from_secs(30));
    let mut stdout = String::new();
    child.stdout.take().expect("piped stdout").read_to_string(&mut stdout).expect("stdout is text");
    assert_eq!(status.code(), Some(3), "{stdout}");
    assert!(stdout.contains("stopped by Ctrl-C"), "{stdout}");
    assert_all_stopped(&servers, None);
    let spawned_dir = format!("replsim-live-{}-", child.id());
    assert!(processes_mentioning(&spawned_dir).is_empty(), "servers of replsim live still running");
}

/// A written scenario in a temporary file.
fn scenario_file(name: &str, text: &str) -> std::path::PathBuf {
    let path = std::env::temp_dir().join(format!("replsim-live-{name}-{}.toml", std::process::id()));
    std::fs::write(&path, text).expect("a temporary scenario file");
    path
}

#[test]
fn a_scenario_file_runs_live_with_its_ordering_and_expectations() {
    // Client 2's DEL waits for client 1's SET, which starts 20 ms late: the key must end deleted
    // everywhere. The second expectation is false on purpose and must be reported.
    let path = scenario_file(
        "ordering",
        r#"
[[phase]]
[[phase.client]]
think = "20ms"
ops = ["SET x 1"]
[[phase.client]]
ops = [{ op = "DEL x", after = "client 1 op 1" }]

[[expect]]
node = "replica-1"
get = "x"
returns = "nil"
[[expect]]
name = "a wrong expectation"
node = "primary"
get = "x"
returns = "1"
[[expect]]
converge = true
"#,
    );
    let scenario = replsim_scenarios::file::load(&path).expect("the file loads");
    let options = LiveOptions::default();
    let mut pair = LivePair::connect(&spawn(1, true), &options).expect("a spawned pair");
    let (pids, dir) = (pair.pids(), pair.spawned_dir());
    for seed in 0..3 {
        let case = LiveCase::new(&scenario, seed, LiveFaultKinds::default());
        assert!(case.repro_command(&spawn(1, true), LiveFaultKinds::default()).contains("--scenario-file"));
        let verdict = pair.run(&case, &options, &AtomicBool::new(false)).expect("the live run completes");
        let [only] = verdict.violations() else { panic!("only the wrong expectation fails: {verdict}") };
        let report = only.to_string();
        assert!(report.contains("a wrong expectation") && report.ends_with("got nil"), "{report}");
    }
    drop(pair);
    assert_all_stopped(&pids, dir.as_deref());
    let _ = std::fs::remove_file(&path);
}
