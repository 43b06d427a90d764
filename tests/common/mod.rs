//! Helpers shared by the test files that drive the `replsim` binary.

use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::time::{Duration, Instant};

/// Runs the `replsim` binary to the end, from the temporary directory.
pub fn replsim(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_replsim"))
        .args(args)
        .current_dir(std::env::temp_dir())
        .output()
        .expect("the replsim binary runs")
}

/// Sends Ctrl-C (SIGINT) to `child` and waits for it to exit, at most `limit`; kills it and
/// fails the test past that.
pub fn interrupt_and_wait(child: &mut Child, limit: Duration) -> ExitStatus {
    let pid = libc::pid_t::try_from(child.id()).expect("a pid fits pid_t");
    // SAFETY: kill(2) on the child we spawned and have not waited for: the pid is still ours.
    assert_eq!(unsafe { libc::kill(pid, libc::SIGINT) }, 0, "SIGINT could not be sent");
    let interrupted = Instant::now();
    loop {
        if let Some(status) = child.try_wait().expect("the child can be waited for") {
            return status;
        }
        if interrupted.elapsed() > limit {
            let _ = child.kill();
            panic!("the child did not stop within {limit:?} of Ctrl-C");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Starts `replsim fuzz ARGS --out FILE`, lets it run for `running` after it has started (the
/// failures file is created just before the Ctrl-C handler is installed), sends one Ctrl-C and
/// waits, 60 s at most, for it to end. Returns what it printed and its exit status.
// Not every test file that includes this module interrupts a fuzz run.
#[allow(dead_code)]
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
    interrupt_and_wait(&mut child, Duration::from_secs(60));
    let output = child.wait_with_output().expect("the child's output");
    let _ = std::fs::remove_file(&failures_file);
    output
}
