//! Scenarios, generators, the runner and the `replsim` command line.
//!
//! - [`generate`]: proptest strategies that turn a seed into a workload (and can shrink it).
//! - [`scenario`]: the named scenarios.
//! - [`runner`]: (scenario, mode, seed) → verdict, with every checker applied.
//! - [`seeds`]: which seeds `cargo test` runs (`REPLSIM_SEED`, `REPLSIM_SEEDS`).
//! - [`cli`]: the `replsim` command line.

pub mod cli;
pub mod generate;
pub mod runner;
pub mod scenario;
pub mod seeds;
