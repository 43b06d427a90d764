//! replsim's model: what is correct, independent of how the system under test runs.
//!
//! - [`command`] and [`store`]: the Redis-shaped command set and its reference state machine.
//! - [`binlog`]: binlog entries, offsets and "the state after the first n entries".
//! - [`check`]: the replication checkers (convergence, prefix consistency) with explaining diffs.
//!
//! Pure by design: no madsim, no async, no clocks. Everything here can be fed a hand-written
//! history and must give the same answer every time.

pub mod binlog;
pub mod check;
pub mod command;
pub mod history;
pub mod linearizability;
pub mod store;
