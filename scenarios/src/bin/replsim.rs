//! The `replsim` binary. Everything lives in `replsim_scenarios::cli`.

// Each seed builds and tears down a whole simulated cluster: allocation-heavy work where
// mimalloc measured faster than glibc's malloc (see README, "Numbers").
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    replsim_scenarios::cli::main()
}
