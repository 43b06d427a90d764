//! `replsim live`: the scenario's client scripts and checks against real servers.
//!
//! ```text
//! $ replsim live --spawn redis-server --scenario flushdb-race --seed 0 --seeds 20
//! PASS scenario=flushdb-race seed=0 live: 160 primary ops, 0 replica reads, 1 phase(s), 1 fault(s), 181 ms
//! …
//! live (not deterministic: a seed fixes the scripts and faults, not the timing): 20 seeds, 20 pass, 0 fail, 0 unknown
//! ```
//!
//! Each failure is followed by one JSON line with its seed and a command that runs it
//! again. Ctrl-C stops after the operations in flight (every request has a timeout) and tears
//! down servers replsim started.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use clap::Args;
use replsim_scenarios::live::client::Address;
use replsim_scenarios::live::faults::LiveFaultKinds;
use replsim_scenarios::live::spawn::SpawnOptions;
use replsim_scenarios::live::{
    replicas_for, LiveCase, LiveError, LiveOptions, LiveOutcome, LivePair, LiveVerdict, Servers,
};
use serde_json::json;

use crate::output::outln;
use crate::{parse_duration, scenario_of, UsageError, EXIT_FAILURE_FOUND, EXIT_UNKNOWN};

#[derive(Debug, Args)]
pub struct LiveArgs {
    /// Start the servers: a primary and replicas of this program (e.g. `redis-server`) on free
    /// loopback ports, torn down at the end.
    #[arg(long, value_name = "PROGRAM", conflicts_with_all = ["primary", "replica"])]
    spawn: Option<String>,
    /// Replicas to start with --spawn [default: as many as the scenario addresses].
    #[arg(long, requires = "spawn")]
    replicas: Option<usize>,
    /// Start the replicas writable (`replica-read-only no`), for trying the checks on purpose.
    #[arg(long, requires = "spawn")]
    writable_replicas: bool,
    /// An existing primary, HOST:PORT.
    #[arg(long, value_parser = str::parse::<Address>, required_unless_present = "spawn")]
    primary: Option<Address>,
    /// An existing replica of it, HOST:PORT (repeat for more).
    #[arg(long, value_parser = str::parse::<Address>)]
    replica: Vec<Address>,
    /// Allow hosts that are not loopback. Live mode writes and FLUSHes every database.
    #[arg(long)]
    allow_remote: bool,
    /// A built-in scenario [default: flushdb-race].
    #[arg(long, conflicts_with = "scenario_file")]
    scenario: Option<String>,
    /// A scenario file (see "Write your own scenario" in the README): its scripts, ordering and
    /// expectations run against the servers.
    #[arg(long, value_name = "FILE")]
    scenario_file: Option<PathBuf>,
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Run seeds `seed .. seed + N`.
    #[arg(long, conflicts_with = "duration")]
    seeds: Option<u64>,
    /// Instead of a seed count, take seeds until this much time has passed (`90s`, `10m`).
    #[arg(long, value_parser = parse_duration)]
    duration: Option<Duration>,
    /// Fault kinds the seeds may draw: `all`, `none`, or a list of stall, break-link,
    /// restart-replica. Kinds the servers do not allow are left out.
    #[arg(long, default_value = "all", value_parser = str::parse::<LiveFaultKinds>)]
    faults: LiveFaultKinds,
    /// Bound on connecting and on every request.
    #[arg(long, default_value = "2s", value_parser = parse_duration)]
    request_timeout: Duration,
    /// How long replicas may take to reach the primary's offset after each phase (the wait for a
    /// caught-up pair before each case is at least 10 s, whatever this is).
    #[arg(long, default_value = "10s", value_parser = parse_duration)]
    catch_up_deadline: Duration,
    /// Cap the scripts' think times (e.g. `0ms` for back-to-back operations).
    #[arg(long, value_parser = parse_duration)]
    think_max: Option<Duration>,
    /// Write the primary's client history as JSON lines (`replsim check FILE --model kv` reads
    /// it): of the first failing seed, else of the last seed run.
    #[arg(long)]
    history_out: Option<PathBuf>,
}

static INTERRUPTED: AtomicBool = AtomicBool::new(false);

pub fn live(args: LiveArgs) -> Result<ExitCode, UsageError> {
    let scenario = scenario_of(args.scenario.as_deref(), args.scenario_file.as_deref())?;
    let servers = match (&args.spawn, &args.primary) {
        (Some(program), _) => Servers::Spawn(SpawnOptions {
            program: program.clone(),
            replicas: args.replicas.unwrap_or_else(|| replicas_for(&scenario)),
            replica_read_only: !args.writable_replicas,
        }),
        (None, Some(primary)) => Servers::Existing { primary: primary.clone(), replicas: args.replica.clone() },
        (None, None) => return Err(UsageError::Invalid("live needs --spawn PROGRAM or --primary HOST:PORT".into())),
    };
    let options = LiveOptions {
        request_timeout: args.request_timeout,
        catch_up_deadline: args.catch_up_deadline,
        allow_remote: args.allow_remote,
        think_max: args.think_max,
    };
    let history_file =
        match &args.history_out {
            Some(path) => Some(File::create(path).map_err(|error| {
                UsageError::Invalid(format!("cannot write history file {}: {error}", path.display()))
            })?),
            None => None,
        };
    let _ = ctrlc::set_handler(|| INTERRUPTED.store(true, Ordering::Relaxed));
    let mut pair = LivePair::connect(&servers, &options).map_err(live_error)?;
    let available = pair.fault_kinds_available();
    let kinds = args.faults.and(available);
    if kinds != args.faults {
        let mut left_out = Vec::new();
        if args.faults.stall && !available.stall {
            left_out.push("stall (the servers refuse DEBUG)");
        }
        if args.faults.restart_replica && !available.restart_replica {
            left_out.push("restart-replica (needs --spawn)");
        }
        if args.faults.break_link && !available.break_link {
            left_out.push("break-link (no replica)");
        }
        outln!("faults: {kinds}; left out: {}", left_out.join(", "));
    }
    let started = Instant::now();
    let seeds = args.seeds.unwrap_or(1);
    let (mut passed, mut failed, mut unknown) = (0u64, 0u64, 0u64);
    let mut kept: Option<LiveVerdict> = None;
    for seed in (args.seed..).take_while(|&seed| match args.duration {
        Some(duration) => started.elapsed() < duration || seed == args.seed,
        None => seed < args.seed.saturating_add(seeds),
    }) {
        if INTERRUPTED.load(Ordering::Relaxed) {
            break;
        }
        let case = LiveCase::new(&scenario, seed, kinds);
        let verdict = match pair.run(&case, &options, &INTERRUPTED) {
            Ok(verdict) => verdict,
            Err(LiveError::Stopped) => break,
            Err(error) => return Err(live_error(error)),
        };
        outln!("{verdict}");
        match &verdict.outcome {
            LiveOutcome::Pass => passed += 1,
            LiveOutcome::Fail(_) => failed += 1,
            LiveOutcome::Unknown(_) => unknown += 1,
        }
        if !verdict.is_pass() {
            let repro = case.repro_command(&servers, kinds);
            outln!("run again: {repro}  (live runs are not deterministic)");
            outln!("{}", failure_json(&verdict, &repro));
        }
        let keep_this = kept.as_ref().is_none_or(LiveVerdict::is_pass);
        if keep_this {
            kept = Some(verdict);
        }
    }
    drop(pair);
    if let (Some(file), Some(verdict)) = (history_file, &kept) {
        let mut file = BufWriter::new(file);
        let written =
            replsim_model::history::jsonl::write(&mut file, &verdict.primary_history).and_then(|()| file.flush());
        if let Err(error) = written {
            return Err(UsageError::Invalid(format!("cannot write history file: {error}")));
        }
    }
    let stopped = if INTERRUPTED.load(Ordering::Relaxed) { ", stopped by Ctrl-C" } else { "" };
    outln!(
        "live (not deterministic: a seed fixes the scripts and faults, not the timing): {} seeds, {passed} pass, {failed} fail, {unknown} unknown{stopped}",
        passed + failed + unknown
    );
    Ok(if failed > 0 {
        ExitCode::from(EXIT_FAILURE_FOUND)
    } else if unknown > 0 || INTERRUPTED.load(Ordering::Relaxed) {
        ExitCode::from(EXIT_UNKNOWN)
    } else {
        ExitCode::SUCCESS
    })
}

fn live_error(error: LiveError) -> UsageError {
    UsageError::Invalid(error.to_string())
}

fn failure_json(verdict: &LiveVerdict, repro: &str) -> serde_json::Value {
    let (outcome, reason) = match &verdict.outcome {
        LiveOutcome::Unknown(reason) => ("unknown", Some(reason.clone())),
        _ => ("fail", None),
    };
    json!({
        "mode": "live",
        "outcome": outcome,
        "scenario": verdict.scenario,
        "seed": verdict.seed,
        "checks": verdict.checks().iter().map(ToString::to_string).collect::<Vec<_>>(),
        "violations": verdict.violations().iter().map(ToString::to_string).collect::<Vec<_>>(),
        "reason": reason,
        "faults": verdict.faults.iter().map(ToString::to_string).collect::<Vec<_>>(),
        "deterministic": false,
        "repro": repro,
    })
}
