//! The `replsim` binary. Everything lives in `replsim_scenarios::cli`.

// Each seed builds and tears down a whole simulated cluster: allocation-heavy work where
// mimalloc measured faster than glibc's malloc (see README, "Numbers").
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    // `replsim fuzz | head` must end quietly, as Unix tools do, not panic in `println!`: Rust
    // ignores SIGPIPE by default, so restore the default action (terminate) for this process.
    // SAFETY: called first thing in main, before any other thread exists.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
    replsim_scenarios::cli::main()
}
