//! `--spawn redis-server`: a primary and its replicas as child processes on free loopback ports,
//! each in its own temporary directory, torn down when the [`SpawnedServers`] guard drops —
//! after a run, on an error, and while a panic unwinds. (The binary turns Ctrl-C into a stop
//! request, so the guard drops then too.)
//!
//! ```no_run
//! use replsim_scenarios::live::spawn::{SpawnOptions, SpawnedServers};
//! let servers = SpawnedServers::start(&SpawnOptions { program: "redis-server".into(), replicas: 1, replica_read_only: true }).unwrap();
//! println!("primary on {}", servers.primary());
//! drop(servers); // every process stopped, every directory removed
//! ```
//!
//! Servers keep nothing on disk during the run (`save ""`); a replica *restart* is a clean one
//! (`SHUTDOWN SAVE`, then the same command line again), so it comes back with its data and
//! resumes by partial resync, as a healthy replica restarted by an operator does.

use std::fs;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use super::client::{Address, Connection};
use super::LiveError;

#[derive(Clone, Debug)]
pub struct SpawnOptions {
    /// The server program (`redis-server`, or a path to one).
    pub program: String,
    pub replicas: usize,
    /// `false` makes the replicas writable (`replica-read-only no`), so tests can plant rogue writes.
    pub replica_read_only: bool,
}

/// How long a started server may take to answer PING, and a stopped one to exit.
const START_DEADLINE: Duration = Duration::from_secs(10);
const STOP_DEADLINE: Duration = Duration::from_secs(5);
/// Attempts at a free port: another process may take the port between our probe and the server's bind.
const PORT_ATTEMPTS_MAX: usize = 5;
/// Servers listen on ports from here up to the kernel's ephemeral range. A port inside that range
/// can be handed to an outgoing connection, or to another program's `bind(0)`, while its replica is
/// stopped for a restart, or between our probe and the server's bind; then two pairs share one
/// server and a healthy pair looks divergent (CI saw exactly that).
const PORT_RANGE_LOW: u16 = 20_000;
/// Where the range ends when the kernel's ephemeral range cannot be read or leaves too little room.
const PORT_RANGE_HIGH_DEFAULT: u16 = 32_768;
const PORT_RANGE_LEN_MIN: u16 = 1_000;

struct Server {
    name: String,
    port: u16,
    dir: PathBuf,
    arguments: Vec<String>,
    child: Option<Child>,
}

/// The guard: every server it started is stopped and its directory removed on drop.
pub struct SpawnedServers {
    program: String,
    root: PathBuf,
    servers: Vec<Server>,
}

impl SpawnedServers {
    pub fn start(options: &SpawnOptions) -> Result<SpawnedServers, LiveError> {
        let root = temporary_root()?;
        let mut servers = SpawnedServers { program: options.program.clone(), root, servers: Vec::new() };
        let debug_flag = debug_command_flag(&options.program)?;
        servers.launch("primary", None, true, &debug_flag)?;
        let primary_port = servers.servers[0].port;
        for replica in 1..=options.replicas {
            servers.launch(
                &format!("replica-{replica}"),
                Some(primary_port),
                options.replica_read_only,
                &debug_flag,
            )?;
        }
        Ok(servers)
    }

    pub fn primary(&self) -> Address {
        Address::loopback(self.servers[0].port)
    }

    pub fn replicas(&self) -> Vec<Address> {
        self.servers[1..].iter().map(|server| Address::loopback(server.port)).collect()
    }

    /// The temporary directory every server runs in (its path is on their command lines).
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Process ids of the servers now running.
    pub fn pids(&self) -> Vec<u32> {
        self.servers.iter().filter_map(|server| server.child.as_ref().map(Child::id)).collect()
    }

    /// Stops replica `index` (0-based) cleanly and starts it again with the same command line.
    pub fn restart_replica(&mut self, index: usize) -> Result<(), LiveError> {
        let server = self.servers.get_mut(index + 1).ok_or_else(|| LiveError::Spawn {
            server: format!("replica-{}", index + 1),
            problem: "no such replica".to_string(),
        })?;
        stop(server, true);
        server.child = Some(spawn_process(&self.program, server)?);
        wait_until_ready(server).inspect_err(|_| kill(server))
    }

    fn launch(
        &mut self,
        name: &str,
        primary_port: Option<u16>,
        read_only: bool,
        debug_flag: &[String],
    ) -> Result<(), LiveError> {
        let dir = self.root.join(name);
        fs::create_dir_all(&dir).map_err(|error| LiveError::Spawn {
            server: name.to_string(),
            problem: format!("cannot create {}: {error}", dir.display()),
        })?;
        let mut last_problem = String::new();
        for _ in 0..PORT_ATTEMPTS_MAX {
            let port = free_port(name)?;
            let mut arguments: Vec<String> = [
                "--port",
                &port.to_string(),
                "--bind",
                "127.0.0.1",
                "--dir",
                &dir.display().to_string(),
                "--logfile",
                "server.log",
                "--save",
                "",
                "--appendonly",
                "no",
                "--daemonize",
                "no",
                // A full sync must not wait for more replicas to join it.
                "--repl-diskless-sync-delay",
                "0",
            ]
            .iter()
            .map(|argument| argument.to_string())
            .collect();
            arguments.extend(debug_flag.iter().cloned());
            if let Some(primary_port) = primary_port {
                arguments.extend(["--replicaof".to_string(), "127.0.0.1".to_string(), primary_port.to_string()]);
                arguments.extend(["--replica-read-only".to_string(), if read_only { "yes" } else { "no" }.to_string()]);
            }
            let mut server = Server { name: name.to_string(), port, dir: dir.clone(), arguments, child: None };
            server.child = Some(spawn_process(&self.program, &server)?);
            match wait_until_ready(&mut server) {
                Ok(()) => {
                    self.servers.push(server);
                    return Ok(());
                }
                Err(error) => {
                    // Not `stop`: its SHUTDOWN could reach whichever process holds the port.
                    kill(&mut server);
                    last_problem = error.to_string();
                }
            }
        }
        Err(LiveError::Spawn { server: name.to_string(), problem: last_problem })
    }
}

impl Drop for SpawnedServers {
    fn drop(&mut self) {
        for server in self.servers.iter_mut().rev() {
            stop(server, false);
        }
        let _ = fs::remove_dir_all(&self.root);
    }
}

fn temporary_root() -> Result<PathBuf, LiveError> {
    static RUNS: AtomicU64 = AtomicU64::new(0);
    let run = RUNS.fetch_add(1, Ordering::Relaxed);
    let root = std::env::temp_dir().join(format!("replsim-live-{}-{run}", std::process::id()));
    fs::create_dir_all(&root).map_err(|error| LiveError::Spawn {
        server: "servers".to_string(),
        problem: format!("cannot create {}: {error}", root.display()),
    })?;
    Ok(root)
}

/// The next port below the ephemeral range that nothing listens on. A process-wide cursor hands
/// each port out once, so pairs started by parallel threads never probe the same one; it starts
/// at an offset taken from the process id, so parallel test binaries mostly probe apart too (and
/// `wait_until_ready` catches the rest by asking the server for its process id).
fn free_port(name: &str) -> Result<u16, LiveError> {
    static CURSOR: AtomicUsize = AtomicUsize::new(0);
    static RANGE: OnceLock<(u16, u16)> = OnceLock::new();
    let (low, high) = *RANGE.get_or_init(port_range);
    let len = usize::from(high - low);
    let start = std::process::id() as usize % len;
    for _ in 0..len {
        let offset = (start + CURSOR.fetch_add(1, Ordering::Relaxed)) % len;
        let port = low + offset as u16;
        if TcpListener::bind(("127.0.0.1", port)).is_ok() {
            return Ok(port);
        }
    }
    Err(LiveError::Spawn { server: name.to_string(), problem: format!("no free loopback port in {low}..{high}") })
}

/// `[PORT_RANGE_LOW, start of the kernel's ephemeral range)`, or up to the default end where
/// that cannot be read (not Linux) or leaves fewer than `PORT_RANGE_LEN_MIN` ports.
fn port_range() -> (u16, u16) {
    let ephemeral_low: Option<u16> = fs::read_to_string("/proc/sys/net/ipv4/ip_local_port_range")
        .ok()
        .and_then(|range| range.split_whitespace().next().and_then(|low| low.parse().ok()));
    match ephemeral_low {
        Some(high) if high >= PORT_RANGE_LOW + PORT_RANGE_LEN_MIN => (PORT_RANGE_LOW, high),
        _ => (PORT_RANGE_LOW, PORT_RANGE_HIGH_DEFAULT),
    }
}

/// `--enable-debug-command local` on servers that know it (Redis 7 and later refuse DEBUG
/// without it; older ones refuse the flag).
fn debug_command_flag(program: &str) -> Result<Vec<String>, LiveError> {
    let output = Command::new(program).arg("--version").stdin(Stdio::null()).output().map_err(|error| {
        LiveError::Spawn { server: program.to_string(), problem: format!("cannot run {program}: {error}") }
    })?;
    let version = String::from_utf8_lossy(&output.stdout);
    let major: Option<u32> = version
        .split_whitespace()
        .find_map(|word| word.strip_prefix("v="))
        .and_then(|number| number.split('.').next())
        .and_then(|major| major.parse().ok());
    match major {
        Some(major) if major >= 7 => Ok(vec!["--enable-debug-command".to_string(), "local".to_string()]),
        Some(_) => Ok(Vec::new()),
        None => Err(LiveError::Spawn {
            server: program.to_string(),
            problem: format!("'{program} --version' does not look like redis-server: {}", version.trim()),
        }),
    }
}

fn spawn_process(program: &str, server: &Server) -> Result<Child, LiveError> {
    Command::new(program)
        .args(&server.arguments)
        .current_dir(&server.dir)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|error| LiveError::Spawn {
            server: server.name.clone(),
            problem: format!("cannot run {program}: {error}"),
        })
}

/// Waits until the server answers PING, then makes sure the answer came from our child: if
/// another process holds the port, our server failed to bind it and must not be mistaken for it.
fn wait_until_ready(server: &mut Server) -> Result<(), LiveError> {
    let deadline = Instant::now() + START_DEADLINE;
    let address = Address::loopback(server.port);
    loop {
        if let Some(child) = server.child.as_mut() {
            if let Ok(Some(status)) = child.try_wait() {
                server.child = None;
                return Err(LiveError::Spawn {
                    server: server.name.clone(),
                    problem: format!("exited with {status}: {}", last_log_line(&server.dir)),
                });
            }
        }
        if let Ok(mut connection) = Connection::open(&address, Duration::from_millis(500)) {
            let info = connection.request_text(&["INFO", "server"]).map_err(|error| LiveError::Spawn {
                server: server.name.clone(),
                problem: format!("INFO server on {address}: {error}"),
            })?;
            let answering: Option<u32> =
                info.lines().find_map(|line| line.trim().strip_prefix("process_id:")).and_then(|pid| pid.parse().ok());
            let ours = server.child.as_ref().map(Child::id);
            return match answering {
                Some(pid) if Some(pid) == ours => Ok(()),
                _ => Err(LiveError::Spawn {
                    server: server.name.clone(),
                    problem: format!(
                        "{address} is answered by another process (process_id {}), not ours",
                        answering.map_or("missing".to_string(), |pid| pid.to_string())
                    ),
                }),
            };
        }
        if Instant::now() >= deadline {
            return Err(LiveError::Spawn {
                server: server.name.clone(),
                problem: format!("no answer on {address} within {START_DEADLINE:?}"),
            });
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn last_log_line(dir: &Path) -> String {
    fs::read_to_string(dir.join("server.log"))
        .ok()
        .and_then(|log| log.lines().rev().find(|line| !line.trim().is_empty()).map(str::to_string))
        .unwrap_or_else(|| "no log".to_string())
}

/// Stops a server: `SHUTDOWN SAVE` when `save` (a clean restart keeps the data), then waits for
/// the process, killing it past the deadline. Never fails: it runs on drop.
fn stop(server: &mut Server, save: bool) {
    let Some(mut child) = server.child.take() else { return };
    if let Ok(Some(_)) = child.try_wait() {
        // Exited already: the port may be someone else's now.
        return;
    }
    let address = Address::loopback(server.port);
    let how = if save { "SAVE" } else { "NOSAVE" };
    if let Ok(mut connection) = Connection::open(&address, Duration::from_secs(1)) {
        // The server closes the connection as it exits: no reply is the expected outcome.
        let _ = connection.request(&["SHUTDOWN", how]);
    }
    let deadline = Instant::now() + STOP_DEADLINE;
    loop {
        match child.try_wait() {
            Ok(Some(_)) => return,
            Ok(None) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(10)),
            _ => {
                let _ = child.kill();
                let _ = child.wait();
                return;
            }
        }
    }
}

/// Kills a server that was never confirmed ready (so its port may be another process's).
fn kill(server: &mut Server) {
    if let Some(mut child) = server.child.take() {
        let _ = child.kill();
        let _ = child.wait();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ports_come_from_below_the_ephemeral_range_and_each_once() {
        let (low, high) = port_range();
        assert!(low < high && high - low >= PORT_RANGE_LEN_MIN, "{low}..{high}");
        let ports: Vec<u16> = std::thread::scope(|scope| {
            let pickers: Vec<_> = (0..4)
                .map(|_| scope.spawn(|| (0..25).map(|_| free_port("test").unwrap()).collect::<Vec<_>>()))
                .collect();
            pickers.into_iter().flat_map(|picker| picker.join().unwrap()).collect()
        });
        assert!(ports.iter().all(|port| (low..high).contains(port)), "{ports:?}");
        let mut distinct = ports.clone();
        distinct.sort_unstable();
        distinct.dedup();
        assert_eq!(distinct.len(), ports.len(), "a port handed out twice: {ports:?}");
    }

    /// Needs redis-server on the PATH, as tests/live.rs does (CI installs it).
    #[test]
    fn a_server_whose_port_another_process_answers_is_refused_and_that_process_left_running() {
        let pair = SpawnedServers::start(&SpawnOptions {
            program: "redis-server".to_string(),
            replicas: 0,
            replica_read_only: true,
        })
        .expect("redis-server on the PATH");
        let taken = pair.servers[0].port;
        // A child that never binds (as a server does when its bind fails and it has not exited
        // yet) while the port answers for the first server.
        let dir = pair.root().to_path_buf();
        let arguments = vec!["30".to_string()];
        let mut intruder = Server { name: "intruder".to_string(), port: taken, dir, arguments, child: None };
        intruder.child = Some(spawn_process("sleep", &intruder).unwrap());
        let refused = wait_until_ready(&mut intruder);
        kill(&mut intruder);
        let problem = refused.expect_err("the port answers for the first server, not the intruder").to_string();
        assert!(problem.contains("answered by another process"), "names why the intruder is not ready: {problem}");
        assert!(Connection::open(&pair.primary(), Duration::from_secs(1)).is_ok(), "the first server still runs");
    }
}
