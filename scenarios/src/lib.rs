//! Scenarios, generators and the runner: the public API that the `replsim` binary
//! (`src/bin/replsim/`, built by the root package) and `cargo test` both call.
//!
//! - [`generate`]: proptest strategies that turn a seed into a workload (and can shrink it).
//! - [`scenario`]: the named scenarios.
//! - [`runner`]: (scenario, mode, seed) → verdict, with every checker applied.
//! - [`sequential`]: the integration-test shape — one client, one command at a time.
//! - [`seeds`]: which seeds `cargo test` runs (`REPLSIM_SEED`, `REPLSIM_SEEDS`).
//! - [`bench`]: seeds/s of a scenario and of a bare madsim baseline.
//! - [`fuzz`]: a fuzz campaign's runs, shards and parallel workers, results in seed order.
//! - [`guided`]: guided fuzzing — mutate swarm configurations that reached rare marks.
//! - [`regression`]: regression cases as one line of text each (`tests/regressions/*.txt`).
//! - [`html_report`]: a run as one self-contained HTML page (timeline, overtaking, diff).
//! - [`live`]: the same workloads and checks against a real primary/replica pair over RESP.
//! - [`shrink`]: shrinking a failing case to a minimal one that fails the same check.
//! - [`merge`]: the failures files and summaries of many fuzz shards as one summary.
//! - [`input`]: reading a user's file with a size limit.
//! - [`harness_bug`]: bugs planted in replsim itself, to test that it survives them.
//! - [`file`]: scenario files (TOML); [`builder`]: the same scenarios in code; [`script`]: a
//!   written scenario's clients, ordering, drawn parts and expectations; [`report`]: running a
//!   scenario from a test, `Result<Report, Failure>`.

pub mod bench;
pub mod builder;
pub mod file;
pub mod fuzz;
pub mod generate;
pub mod guided;
pub mod harness_bug;
pub mod html_report;
pub mod input;
pub mod live;
pub mod merge;
pub mod regression;
pub mod report;
pub mod runner;
pub mod scenario;
pub mod script;
pub mod seeds;
pub mod sequential;
pub mod shrink;
pub mod swarm;
