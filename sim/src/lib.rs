//! The system under test: a Pika-style primary and replicas running as madsim nodes over madsim's
//! simulated network and clock, the clients that drive them, and the hooks that record what
//! happened for the checkers in `replsim-model`.
//!
//! ```text
//!  client-1 ─┐                      binlog batches (TCP, ordered)
//!  client-2 ─┼─► primary ─────────────────────────────────────────► replica-1
//!  client-3 ─┘   execute, append binlog,      ◄──── acks ────────   append binlog, dispatch to
//!                INFO replication                                   apply workers (ApplyMode)
//!  admin ───────► INFO replication polls (catch-up), snapshots for the checkers
//! ```
//!
//! [`cluster::run`] builds the nodes for a [`workload::Workload`] and returns a
//! [`probe::Record`]: the primary's binlog, the replicas' idle points, the client history, the
//! checkpoints and a hash of the ordered event trace.

#[cfg(not(madsim))]
compile_error!(
    "replsim-sim only runs under madsim's simulation: build with `--cfg madsim` (the repository's \
     .cargo/config.toml sets it; a RUSTFLAGS environment variable replaces that setting, so use \
     CARGO_BUILD_RUSTFLAGS or unset RUSTFLAGS)"
);

pub mod behaviour;
pub mod bug;
pub mod client;
pub mod cluster;
pub mod config;
pub mod fault;
pub mod hash;
pub mod info;
pub mod injector;
pub mod marks;
pub mod primary;
pub mod probe;
pub mod replica;
pub mod stall;
pub mod time;
pub mod wire;
pub mod workload;

/// Asserts an invariant of the system under test. A failure panics inside the simulation; the
/// runner turns that into a `sut-invariant` violation reported with its seed.
#[macro_export]
macro_rules! sut_assert {
    ($condition:expr, $($message:tt)+) => {
        if !$condition {
            panic!("{}{}", $crate::SUT_INVARIANT_PREFIX, format_args!($($message)+));
        }
    };
}

/// Marks panics raised by [`sut_assert!`], so the runner can tell an invariant of the system under
/// test from a defect of the harness itself.
pub const SUT_INVARIANT_PREFIX: &str = "sut invariant violated: ";
