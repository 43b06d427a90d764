//! The `replsim` binary. Everything lives in `replsim_scenarios::cli`.

fn main() -> std::process::ExitCode {
    replsim_scenarios::cli::main()
}
