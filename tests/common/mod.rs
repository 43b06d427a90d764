//! Helpers shared by the test files that drive the `replsim` binary.

use std::process::{Child, Command, ExitStatus, Output};
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
