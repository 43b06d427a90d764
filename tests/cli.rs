//! The `replsim` binary driven as a user drives it: every bad invocation is one line on stderr and
//! exit 2; shards add up to the unsharded run; a printed repro line reproduces its failure;
//! shrink brings the FLUSHDB race down to a handful of operations; Ctrl-C ends a fuzz run with
//! the summary so far; `list` names Pika's behaviours, a bad behaviour list is refused, and a
//! failure under `--profile pika` replays the same trace from its repro line.

mod common;

use common::replsim;

use std::collections::BTreeSet;
use std::process::{Command, Output};

use replsim_sim::behaviour::Behaviour;
use serde_json::Value;

fn stderr_of(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).trim_end().to_string()
}

/// Asserts a usage error: exit 2 and exactly one line on stderr that mentions `mentions`.
fn assert_usage_error(args: &[&str], mentions: &str) {
    let output = replsim(args);
    let stderr = stderr_of(&output);
    assert_eq!(output.status.code(), Some(2), "replsim {args:?}: {stderr}");
    assert_eq!(stderr.lines().count(), 1, "replsim {args:?} should say one line, said:\n{stderr}");
    assert!(stderr.contains(mentions), "replsim {args:?}: '{stderr}' should mention '{mentions}'");
}

fn json_of(output: &Output) -> Value {
    serde_json::from_slice(&output.stdout)
        .unwrap_or_else(|error| panic!("stdout is not JSON ({error}): {}", String::from_utf8_lossy(&output.stdout)))
}

/// The seeds a `fuzz --json` summary says it ran.
fn seeds_run(summary: &Value) -> BTreeSet<u64> {
    let mut seeds = BTreeSet::new();
    for range in summary["seed_ranges"].as_array().expect("seed_ranges") {
        let (first, last, step) =
            (range["first"].as_u64().unwrap(), range["last"].as_u64().unwrap(), range["step"].as_u64().unwrap());
        seeds.extend((first..=last).step_by(step as usize));
    }
    seeds
}

#[test]
fn an_unknown_flag_is_one_line_and_exit_2() {
    assert_usage_error(&["fuzz", "--bogus"], "--bogus");
}

#[test]
fn an_unknown_scenario_is_named_with_the_known_ones() {
    assert_usage_error(&["fuzz", "--scenario", "nope"], "unknown scenario 'nope'");
    assert_usage_error(&["replay", "--scenario", "nope", "--mode", "barrier", "--seed", "1"], "flushdb-race");
}

#[test]
fn a_seed_that_is_not_a_number_is_refused() {
    assert_usage_error(&["replay", "--mode", "barrier", "--seed", "seven"], "--seed");
    assert_usage_error(&["fuzz", "--seeds", "ten"], "--seeds");
}

#[test]
fn a_shard_beyond_its_count_is_refused() {
    assert_usage_error(&["fuzz", "--shard", "3/2"], "invalid shard '3/2'");
}

#[test]
fn seeds_and_duration_together_are_refused() {
    assert_usage_error(&["fuzz", "--seeds", "10", "--duration", "1m"], "--duration");
}

#[test]
fn an_unwritable_failures_file_is_refused_before_any_seed_runs() {
    assert_usage_error(
        &["fuzz", "--seeds", "1", "--out", "/nonexistent-directory/failures.jsonl"],
        "cannot write failures file",
    );
}

#[test]
fn two_shards_cover_exactly_the_seeds_of_the_unsharded_run() {
    let run = |shard: Option<&str>| {
        let mut args =
            vec!["fuzz", "--scenario", "pika-steps", "--mode", "serial", "--seeds", "7", "--start-seed", "10"];
        args.extend(["--keep-going", "--json", "--jobs", "2"]);
        if let Some(shard) = shard {
            args.extend(["--shard", shard]);
        }
        let output = replsim(&args);
        assert_eq!(output.status.code(), Some(0), "{}", stderr_of(&output));
        seeds_run(&json_of(&output))
    };
    let whole = run(None);
    let (first, second) = (run(Some("1/2")), run(Some("2/2")));
    assert_eq!(whole, (10..17).collect::<BTreeSet<u64>>());
    assert!(first.is_disjoint(&second), "shards overlap: {first:?} {second:?}");
    assert_eq!(first.union(&second).copied().collect::<BTreeSet<u64>>(), whole);
}

#[test]
fn the_printed_replay_line_reproduces_a_hash_by_key_failure() {
    let output = replsim(&["fuzz", "--scenario", "flushdb-race", "--mode", "hash-by-key", "--seeds", "20", "--json"]);
    assert_eq!(output.status.code(), Some(1), "hash-by-key should fail within 20 seeds: {}", stderr_of(&output));
    let summary = json_of(&output);
    let failure = &summary["failures"][0];
    assert_eq!(failure["outcome"], "fail", "{failure}");
    assert_eq!(summary["failing_seeds"][0], failure["seed"], "the summary lists the failing seeds");
    let repro = failure["repro"].as_str().expect("a repro line");
    let args = repro.strip_prefix("cargo run --release -- ").expect("the repro line is a cargo run command");
    let mut args: Vec<&str> = args.split_whitespace().collect();
    assert_eq!(args[0], "replay");
    args.extend(["--log", "off"]);
    let replayed = replsim(&args);
    let stdout = String::from_utf8_lossy(&replayed.stdout);
    assert_eq!(replayed.status.code(), Some(1), "{repro} should fail again:\n{stdout}");
    let trace = format!("trace={}", failure["trace_hash"].as_str().expect("a trace hash"));
    assert!(
        stdout.lines().next().is_some_and(|headline| headline.starts_with("FAIL") && headline.contains(&trace)),
        "{repro} should fail with the same {trace}:\n{stdout}"
    );
    assert!(stdout.contains(&format!("reproduce: {repro}")), "replay prints the same repro line:\n{stdout}");
}

#[test]
fn shrink_reduces_the_flushdb_race_to_at_most_four_operations() {
    let output =
        replsim(&["shrink", "--scenario", "flushdb-race", "--mode", "hash-by-key", "--seed", "7", "--no-regression"]);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(0), "{stdout}{}", stderr_of(&output));
    let summary = stdout.lines().find(|line| line.starts_with("minimal case:")).expect("a minimal case line");
    let ops: usize = summary["minimal case: ".len()..].split_whitespace().next().unwrap().parse().unwrap();
    assert!((1..=4).contains(&ops), "{stdout}");
    assert!(stdout.contains("FLUSHDB"), "the minimal case keeps the FLUSHDB:\n{stdout}");
}

/// Exit code of a fuzz run that was interrupted before it found a failure (`replsim --help`).
const EXIT_UNKNOWN: i32 = 3;

#[cfg(unix)]
#[test]
fn ctrl_c_stops_fuzz_with_the_summary_so_far_and_exit_3() {
    use std::time::Duration;

    let seeds_planned: u64 = 10_000_000;
    let seeds = seeds_planned.to_string();
    let args = ["--scenario", "pika-steps", "--mode", "serial", "--keep-going", "--jobs", "2", "--seeds", &seeds];
    // Some seeds finish, far short of the plan.
    let output = common::fuzz_interrupted(&args, Duration::from_secs(1));
    let (stdout, stderr) = (String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
    let status = output.status;
    assert_eq!(status.code(), Some(EXIT_UNKNOWN), "{stdout}{stderr}");
    assert!(stdout.contains("interrupted: the summary so far"), "{stdout}");
    let row = stdout.lines().find(|line| line.starts_with("pika-steps")).expect("a summary row for the scenario");
    let counts: Vec<u64> = row.split_whitespace().skip(2).take(4).map(|count| count.parse().unwrap()).collect();
    let (seeds, passed, failed, unknown) = (counts[0], counts[1], counts[2], counts[3]);
    assert!(seeds > 0 && seeds < seeds_planned, "some but not all seeds ran:\n{stdout}");
    assert_eq!((passed, failed, unknown), (seeds, 0, 0), "{stdout}");
}

#[test]
fn faults_outside_a_swarm_scenario_or_of_an_unknown_kind_are_refused() {
    assert_usage_error(
        &["fuzz", "--scenario", "flushdb-race", "--faults", "partition"],
        "--faults applies to the swarm",
    );
    assert_usage_error(&["fuzz", "--scenario", "swarm", "--faults", "meteor"], "unknown fault kind 'meteor'");
    assert_usage_error(
        &["replay", "--mode", "barrier", "--seed", "1", "--faults", "all"],
        "flushdb-race has no faults",
    );
}

#[test]
fn chosen_fault_kinds_are_in_the_repro_line_and_replay_the_same_run() {
    let output = replsim(&[
        "fuzz",
        "--scenario",
        "swarm",
        "--mode",
        "barrier",
        "--faults",
        "reset-link",
        "--bug",
        "drop-entries-on-reconnect",
        "--seeds",
        "50",
        "--json",
    ]);
    assert_eq!(output.status.code(), Some(1), "the bug needs link resets and should be caught: {}", stderr_of(&output));
    let failure = &json_of(&output)["failures"][0];
    let repro = failure["repro"].as_str().expect("a repro line");
    assert!(repro.ends_with("--faults reset-link"), "{repro}");
    let mut args: Vec<&str> =
        repro.strip_prefix("cargo run --release -- ").expect("cargo run").split_whitespace().collect();
    args.extend(["--log", "off"]);
    let stdout = String::from_utf8_lossy(&replsim(&args).stdout).to_string();
    let trace = format!("trace={}", failure["trace_hash"].as_str().expect("a trace hash"));
    assert!(stdout.starts_with("FAIL") && stdout.lines().next().unwrap_or("").contains(&trace), "{repro}:\n{stdout}");
}

/// Runs `replsim check --model kv` on the history `lines` under `--timeout` and `--memory
/// LIMIT_MBMB`, and asserts that it answers unknown (exit 3) and that its peak resident size
/// (from `wait4`) stays within 10 % of the limit. Its standard output.
// The child is reaped by `wait4`, which also gives its peak resident size.
#[allow(clippy::zombie_processes)]
fn check_unknown_within_memory(name: &str, lines: &[String], timeout: &str, limit_mb: u64) -> String {
    let file = std::env::temp_dir().join(format!("replsim-{name}-{}.jsonl", std::process::id()));
    std::fs::write(&file, lines.join("\n")).expect("write the history");
    let child = Command::new(env!("CARGO_BIN_EXE_replsim"))
        .args(["check", file.to_str().expect("utf-8 path"), "--model", "kv", "--timeout", timeout])
        .args(["--memory", &format!("{limit_mb}MB")])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("the replsim binary runs");
    let mut status = 0;
    // SAFETY: an all-zero rusage is a valid value for wait4 to fill in.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: waits for our own child by pid; `status` and `usage` are valid for writing.
    let waited = unsafe { libc::wait4(child.id() as libc::pid_t, &mut status, 0, &mut usage) };
    assert_eq!(waited, child.id() as libc::pid_t, "wait4 on the child");
    let mut stdout = String::new();
    std::io::Read::read_to_string(&mut child.stdout.expect("piped"), &mut stdout).expect("read stdout");
    std::fs::remove_file(&file).ok();
    assert_eq!(libc::WEXITSTATUS(status), 3, "unknown is exit 3: {stdout}");
    let peak_mb = usage.ru_maxrss as f64 / 1024.0;
    println!("peak resident {peak_mb:.1} MB under --memory {limit_mb}MB: {}", stdout.lines().next().unwrap_or(""));
    assert!(peak_mb <= 1.1 * limit_mb as f64, "peak {peak_mb:.1} MB exceeds {limit_mb} MB by more than 10 %");
    stdout
}

/// `replsim check --memory 64MB` on a history whose search outgrows any memory: the answer is
/// unknown with the reason, and the child's peak resident size (from `wait4`) stays within 10 %
/// of the limit.
#[test]
fn check_under_a_memory_limit_answers_unknown_within_ten_percent_of_it() {
    // 26 concurrent SETs of one key, then reads that flip between two of their values after all
    // of them returned: not linearizable, but only an exhaustive search over the SETs' orders
    // shows it, and its memo grows without bound.
    let mut lines = Vec::new();
    for index in 0..26 {
        lines.push(format!(
            r#"{{"client":{index},"call":0,"returned":1000,"input":{{"Set":{{"db":0,"key":"a","value":"v{index}"}}}},"output":"Ok"}}"#
        ));
    }
    for (offset, value) in [(0, "v0"), (10, "v1"), (20, "v0")] {
        lines.push(format!(
            r#"{{"client":99,"call":{},"returned":{},"input":{{"Get":{{"db":0,"key":"a"}}}},"output":{{"Value":"{value}"}}}}"#,
            2000 + offset,
            2005 + offset
        ));
    }
    let stdout = check_unknown_within_memory("memory", &lines, "10m", 64);
    assert!(stdout.contains("memory limit of 64 MB reached"), "{stdout}");
}

/// `replsim check` on SETs of 1 MB values, a history hard enough to run out its time: the
/// checker's states share the values the history holds, so the process stays within
/// `--memory` (when each state derived by a SET copied its value, the same search passed a
/// 512 MB limit sevenfold, to 3.7 GB, before its 10 s were up: the limit is read from the
/// operating system only every so many memo bytes, and those did not count the copies).
#[test]
fn check_of_one_megabyte_values_stays_within_the_memory_limit() {
    let value = |index: usize| format!("v{index}-{}", "x".repeat(1 << 20));
    let mut lines = Vec::new();
    // 40 concurrent SETs of two keys, three FLUSHDBs around them all, then a read of one SET's
    // value and of nil: linearizable, but the search runs out of time on the SETs' orders.
    for index in 0..40 {
        lines.push(format!(
            r#"{{"client":{index},"call":1000,"returned":100000,"input":{{"Set":{{"db":0,"key":"k{}","value":"{}"}}}},"output":"Ok"}}"#,
            index % 2,
            value(index)
        ));
    }
    for client in 100..103 {
        lines.push(format!(
            r#"{{"client":{client},"call":500,"returned":200000,"input":{{"FlushDb":{{"db":0}}}},"output":"Ok"}}"#
        ));
    }
    lines.push(format!(
        r#"{{"client":200,"call":300000,"returned":300001,"input":{{"Get":{{"db":0,"key":"k0"}}}},"output":{{"Value":"{}"}}}}"#,
        value(38)
    ));
    lines.push(
        r#"{"client":201,"call":300000,"returned":300001,"input":{"Get":{"db":0,"key":"k1"}},"output":{"Value":null}}"#
            .to_string(),
    );
    check_unknown_within_memory("big-values", &lines, "3s", 256);
}

#[test]
fn list_names_the_profiles_every_behaviour_and_the_merged_fix() {
    let output = replsim(&["list"]);
    let stdout = String::from_utf8_lossy(&output.stdout);
    for name in ["ideal", "pika", "merged-fix"].into_iter().chain(Behaviour::ALL.map(Behaviour::name)) {
        assert!(stdout.lines().any(|line| line.trim_start().starts_with(name)), "list should name {name}:\n{stdout}");
    }
}

#[test]
fn an_unknown_behaviour_or_profile_or_a_contradictory_switch_is_one_line_and_exit_2() {
    let replay = ["replay", "--mode", "merged-fix", "--seed", "1"];
    let with = |extra: &[&'static str]| replay.iter().copied().chain(extra.iter().copied()).collect::<Vec<_>>();
    assert_usage_error(&with(&["--behaviours", "pika,-acks"]), "unknown behaviour 'acks'");
    assert_usage_error(&with(&["--profile", "faithful"]), "unknown profile 'faithful'");
    assert_usage_error(&with(&["--profile", "ideal", "--behaviours=-multi-exec"]), "not on");
    assert_usage_error(&with(&["--behaviours", "multi-exec,-multi-exec"]), "both switched on and off");
    assert_usage_error(&["fuzz", "--behaviours", "nope"], "unknown behaviour 'nope'");
    assert_usage_error(&["shrink", "--mode", "merged-fix", "--seed", "0", "--profile", "nope"], "unknown profile");
}

#[test]
fn a_faithful_failure_names_its_behaviours_and_its_repro_line_replays_the_same_trace() {
    let output =
        replsim(&["fuzz", "--scenario", "flushdb-race", "--mode", "merged-fix", "--profile", "pika", "--seeds", "5"]);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(1), "the pika profile fails within 5 seeds:\n{stdout}");
    let headline = stdout.lines().find(|line| line.starts_with("FAIL")).expect("a FAIL headline");
    assert!(headline.contains("behaviours=pika "), "{headline}");
    let trace = headline.split_whitespace().find(|word| word.starts_with("trace=")).expect("a trace hash");
    let repro = stdout.lines().find_map(|line| line.strip_prefix("reproduce: ")).expect("a repro line");
    assert!(repro.contains("--behaviours pika"), "{repro}");
    let mut args: Vec<&str> =
        repro.strip_prefix("cargo run --release -- ").expect("cargo run").split_whitespace().collect();
    args.extend(["--log", "off"]);
    let replayed = replsim(&args);
    let replayed = String::from_utf8_lossy(&replayed.stdout);
    assert!(
        replayed.lines().next().is_some_and(|line| line.contains(trace)),
        "{repro} gives another trace:\n{replayed}"
    );
}

#[test]
fn a_guided_failure_prints_a_line_with_its_mutations_that_replays_the_same_run() {
    // From start 2000 the catching run is a mutation (seed 2000 --mutations 3582265978529429372).
    let output = replsim(&[
        "fuzz",
        "--guided",
        "--scenario",
        "swarm",
        "--mode",
        "barrier",
        "--bug",
        "snapshot-offset-mismatch",
        "--start-seed",
        "2000",
        "--seeds",
        "100",
        "--json",
    ]);
    assert_eq!(output.status.code(), Some(1), "the bug should be caught: {}", stderr_of(&output));
    let summary = json_of(&output);
    assert!(summary["marks"]["runs_hitting"]["full-sync"].as_u64().is_some(), "{summary}");
    let failure = &summary["failures"][0];
    let repro = failure["repro"].as_str().expect("a repro line");
    assert!(repro.contains(" --mutations "), "{repro}");
    let mut args: Vec<&str> =
        repro.strip_prefix("cargo run --release -- ").expect("cargo run").split_whitespace().collect();
    args.extend(["--log", "off"]);
    let stdout = String::from_utf8_lossy(&replsim(&args).stdout).to_string();
    assert!(stdout.starts_with("FAIL"), "{repro}:\n{stdout}");
}

#[test]
fn guided_needs_one_swarm_scenario_and_one_mode() {
    assert_usage_error(&["fuzz", "--guided", "--scenario", "flushdb-race", "--mode", "barrier"], "swarm scenario");
    assert_usage_error(&["fuzz", "--guided", "--scenario", "swarm", "--mode", "fixed"], "one mode");
    assert_usage_error(&["replay", "--mode", "barrier", "--seed", "1", "--mutations", "7"], "--mutations applies");
}

#[test]
fn fuzz_lists_the_marks_no_run_hit() {
    let output = replsim(&["fuzz", "--scenario", "flushdb-race", "--mode", "barrier", "--seeds", "3", "--json"]);
    let marks = &json_of(&output)["marks"];
    let never: Vec<&str> = marks["never_hit"].as_array().expect("never_hit").iter().filter_map(Value::as_str).collect();
    assert!(never.contains(&"full-sync"), "no fault in flushdb-race, so no full sync: {marks}");
    assert!(marks["runs_hitting"]["barrier-waited"].as_u64().unwrap_or(0) > 0, "{marks}");
}
