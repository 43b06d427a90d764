//! What more than one test file needs to drive the `replsim` binary.

use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

/// Starts `replsim fuzz ARGS --out FILE`, lets it run for `running` after it has started (the
/// failures file is created just before the Ctrl-C handler is installed), sends one Ctrl-C
/// (SIGINT) and waits, 60 s at most, for it to end. Returns what it printed and its exit status.
#[cfg(unix)]
pub fn fuzz_interrupted(args: &[&str], running: Duration) -> Output {
    let failures_file = std::env::temp_dir().join(format!(
        "replsim-ctrl-c-{}-{}.jsonl",
        std::process::id(),
        args.join("-").replace('/', "_")
    ));
    let _ = std::fs::remove_file(&failures_file);
    let mut child = Command::new(env!("CARGO_BIN_EXE_replsim"))
        .arg("fuzz")
        .args(args)
        .arg("--out")
        .arg(&failures_file)
        .current_dir(std::env::temp_dir())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the replsim binary runs");
    let started = Instant::now();
    while !failures_file.exists() {
        assert!(started.elapsed() < Duration::from_secs(30), "replsim fuzz did not start");
        std::thread::sleep(Duration::from_millis(20));
    }
    std::thread::sleep(running);
    let pid = libc::pid_t::try_from(child.id()).expect("a pid fits pid_t");
    // SAFETY: kill(2) on the child we spawned and have not waited for: the pid is still ours.
    assert_eq!(unsafe { libc::kill(pid, libc::SIGINT) }, 0, "SIGINT could not be sent");
    let interrupted = Instant::now();
    while child.try_wait().expect("the child can be waited for").is_none() {
        if interrupted.elapsed() > Duration::from_secs(60) {
            let _ = child.kill();
            panic!("replsim fuzz {args:?} did not stop within 60 s of Ctrl-C");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let output = child.wait_with_output().expect("the child's output");
    let _ = std::fs::remove_file(&failures_file);
    output
}
