//! Scenarios, generators, the runner and the `replsim` command line.
//!
//! - [`generate`]: proptest strategies that turn a seed into a workload (and can shrink it).
//! - [`scenario`]: the named scenarios.
//! - [`runner`]: (scenario, mode, seed) → verdict, with every checker applied.
//! - [`cli`]: the `replsim` command line.

pub mod cli;
pub mod generate;
pub mod runner;
pub mod scenario;
