//! The `replsim` binary tried as an adversary would (issue #13, section 3): output nobody can
//! write, absurd numbers, endless input files, contradictory flags, clap's messages whole, and
//! bugs in the harness itself. Each test spawns the binary and checks the one-line error and exit
//! code, or the bounded memory, or the recovered panic.

use std::fs::File;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use common::replsim;
use serde_json::Value;

mod common;

const EXIT_USAGE: i32 = 2;
const EXIT_UNKNOWN: i32 = 3;
/// A Rust panic that reached the top of `main`.
const EXIT_PANIC: i32 = 101;

fn command(args: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_replsim"));
    command.args(args).current_dir(std::env::temp_dir()).env_remove("RUST_BACKTRACE");
    command
}

/// `replsim ARGS >/dev/full`.
fn replsim_to_dev_full(args: &[&str]) -> Output {
    let full = File::options().write(true).open("/dev/full").expect("/dev/full opens");
    command(args).stdout(Stdio::from(full)).output().expect("the replsim binary runs")
}

fn stderr_of(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).trim_end().to_string()
}

fn stdout_of(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).to_string()
}

/// Exit 2 and exactly one line on stderr, mentioning every one of `mentions`.
fn assert_one_line_error(output: &Output, what: &str, mentions: &[&str]) {
    let stderr = stderr_of(output);
    assert_eq!(output.status.code(), Some(EXIT_USAGE), "{what}: {stderr}");
    assert_eq!(stderr.lines().count(), 1, "{what} should say one line, said:\n{stderr}");
    for mention in mentions {
        assert!(stderr.contains(mention), "{what}: '{stderr}' should mention '{mention}'");
    }
}

fn json_of(output: &Output) -> Value {
    serde_json::from_slice(&output.stdout)
        .unwrap_or_else(|error| panic!("stdout is not JSON ({error}): {}{}", stdout_of(output), stderr_of(output)))
}

fn scratch_file(name: &str) -> std::path::PathBuf {
    let path = std::env::temp_dir().join(format!("replsim-robustness-{}-{name}", std::process::id()));
    let _ = std::fs::remove_file(&path);
    path
}

#[test]
fn stdout_that_cannot_be_written_is_one_error_line_not_a_panic() {
    let commands: [&[&str]; 5] = [
        &["list"],
        &["fuzz", "--scenario", "pika-steps", "--mode", "serial", "--seeds", "3"],
        &["fuzz", "--scenario", "pika-steps", "--mode", "serial", "--seeds", "3", "--json"],
        // A failure printed mid-run: the campaign stops there instead of running 10,000 seeds.
        &["fuzz", "--scenario", "flushdb-race", "--mode", "hash-by-key", "--seeds", "10000", "--keep-going"],
        // ~1,700 trace events, each once "Unable to write".
        &["replay", "--mode", "hash-by-key", "--seed", "7"],
    ];
    for args in commands {
        let started = Instant::now();
        let output = replsim_to_dev_full(args);
        assert_one_line_error(&output, &format!("replsim {args:?} >/dev/full"), &["cannot write to standard output"]);
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "replsim {args:?} >/dev/full took {:?}",
            started.elapsed()
        );
    }
}

#[test]
fn a_failures_file_that_cannot_be_written_fails_once() {
    let args = ["fuzz", "--scenario", "flushdb-race", "--mode", "hash-by-key", "--seeds", "20", "--keep-going"];
    let output = command(&args).args(["--out", "/dev/full"]).stdout(Stdio::null()).output().expect("replsim runs");
    assert_one_line_error(&output, "fuzz --out /dev/full", &["cannot write failures file /dev/full"]);
}

#[test]
fn jobs_beyond_the_runs_planned_are_capped_with_a_note() {
    let output = replsim(&[
        "fuzz",
        "--scenario",
        "pika-steps",
        "--mode",
        "serial",
        "--seeds",
        "10",
        "--jobs",
        "18446744073709551615",
        "--json",
    ]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr_of(&output));
    assert!(stderr_of(&output).contains("--jobs 18446744073709551615 capped at 10 (the 10 runs planned)"));
    let summary = json_of(&output);
    assert_eq!((summary["jobs"].as_u64(), summary["runs"].as_u64()), (Some(10), Some(10)), "{summary}");
}

#[cfg(unix)]
#[test]
fn ctrl_c_stops_a_fuzz_run_that_asked_for_endless_jobs() {
    let args = ["--scenario", "pika-steps", "--mode", "serial", "--duration", "10m", "--jobs", "18446744073709551615"];
    let output = common::fuzz_interrupted(&args, Duration::from_millis(500));
    assert_eq!(output.status.code(), Some(EXIT_UNKNOWN), "{}{}", stdout_of(&output), stderr_of(&output));
    assert!(stdout_of(&output).contains("interrupted: the summary so far"), "{}", stdout_of(&output));
    assert!(stderr_of(&output).contains("capped at 256 (the most replsim starts)"), "{}", stderr_of(&output));
}

#[test]
fn a_shard_of_a_huge_count_runs_only_its_own_seeds() {
    let fuzz = |shard: &str| {
        let output = replsim(
            &["fuzz", "--scenario", "flushdb-race", "--mode", "barrier", "--seeds", "1"]
                .into_iter()
                .chain(["--shard", shard, "--json"])
                .collect::<Vec<_>>(),
        );
        assert_eq!(output.status.code(), Some(0), "{}", stderr_of(&output));
        json_of(&output)
    };
    // Seed 0 is 0 mod N: shard 1's, never shard 2's.
    assert_eq!(fuzz("2/18446744073709551615")["runs"], 0);
    let first = fuzz("1/18446744073709551615");
    assert_eq!(first["runs"], 1);
    assert_eq!(first["seed_ranges"][0]["first"], 0);
}

#[test]
fn a_shard_from_the_environment_is_checked_like_the_flag() {
    let fuzz = |shard_index: &str, flag: &[&str]| {
        command(&["fuzz", "--scenario", "flushdb-race", "--mode", "barrier", "--seeds", "3", "--json"])
            .args(flag)
            .env("REPLSIM_SHARD_INDEX", shard_index)
            .env("REPLSIM_SHARD_COUNT", "3")
            .output()
            .expect("replsim runs")
    };
    let third = fuzz("2", &[]);
    assert_eq!(json_of(&third)["shard"], "3/3", "index 2 counts from 0");
    assert_one_line_error(&fuzz("3", &[]), "REPLSIM_SHARD_INDEX=3 of 3", &["must be below REPLSIM_SHARD_COUNT=3"]);
    assert_one_line_error(&fuzz("0", &["--shard", "2/3"]), "flag and environment disagree", &["contradicts"]);
}

#[test]
fn the_last_seed_can_be_fuzzed() {
    let output = replsim(&["fuzz", "--start-seed", "18446744073709551615", "--seeds", "1", "--json"]);
    assert_eq!(output.status.code(), Some(0), "every scenario and fixed mode passes: {}", stderr_of(&output));
    let summary = json_of(&output);
    let runs = 2 * replsim_scenarios::scenario::Scenario::all().len();
    assert_eq!(summary["runs"], runs, "every scenario x 2 fixed modes: {summary}");
    assert_eq!(summary["seed_ranges"][0]["first"].as_u64(), Some(u64::MAX));
    let past = replsim(&["fuzz", "--start-seed", "18446744073709551615", "--seeds", "2"]);
    assert_one_line_error(&past, "two seeds from the last", &["goes past the last seed"]);
}

/// The largest resident set of any child this process has waited for, in KiB (Linux).
#[cfg(target_os = "linux")]
fn children_max_rss_kib() -> i64 {
    // SAFETY: getrusage fills the struct it is given; a zeroed rusage is a valid value.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    assert_eq!(unsafe { libc::getrusage(libc::RUSAGE_CHILDREN, &mut usage) }, 0);
    usage.ru_maxrss
}

#[cfg(target_os = "linux")]
#[test]
fn endless_input_files_are_refused_at_a_size_limit() {
    let cases: [(&[&str], &str); 4] = [
        (&["shrink", "--mode", "hash-by-key", "--seed", "7", "--regression-file", "/dev/full"], "16 MiB"),
        (&["replay", "--regression", "/dev/urandom:1"], "16 MiB"),
        (&["check", "/dev/urandom", "--model", "kv"], "64 MiB"),
        (&["list", "--scenario-file", "/dev/zero"], "16 MiB"),
    ];
    for (args, limit) in cases {
        let output = replsim(args);
        assert_one_line_error(&output, &format!("replsim {args:?}"), &[&format!("more than {limit}, the limit")]);
    }
    // Every child so far, these included, stayed far below what reading without a limit reached
    // (8.5 GB in 6 s for /dev/full).
    let rss_mib = children_max_rss_kib() / 1024;
    assert!(rss_mib < 1024, "a child of this test reached {rss_mib} MiB");
}

#[test]
fn contradictory_flags_are_refused() {
    let shrink =
        replsim(&["shrink", "--mode", "hash-by-key", "--seed", "7", "--regression-file", "x", "--no-regression"]);
    assert_one_line_error(&shrink, "--regression-file with --no-regression", &["--regression-file", "--no-regression"]);
    let file = scratch_file("same.jsonl");
    let file = file.to_str().expect("a UTF-8 path");
    let dotted = format!("{}/./{}", std::env::temp_dir().display(), file.rsplit('/').next().expect("a file name"));
    let replay =
        replsim(&["replay", "--mode", "barrier", "--seed", "1", "--history-out", file, "--trace-out", &dotted]);
    assert_one_line_error(&replay, "--history-out F --trace-out F", &["name the same file"]);
    assert!(!std::path::Path::new(file).exists(), "nothing is written before the refusal");
}

#[test]
fn shrinking_one_seed_twice_records_it_once() {
    let regressions = scratch_file("regressions.txt");
    let shrink = || {
        let output = command(&["shrink", "--mode", "hash-by-key", "--seed", "7", "--regression-file"])
            .arg(&regressions)
            .output()
            .expect("replsim runs");
        assert_eq!(output.status.code(), Some(0), "{}", stderr_of(&output));
        stdout_of(&output)
    };
    let first = shrink();
    let second = shrink();
    assert!(first.contains("regression: ") && !first.contains("already"), "{first}");
    assert!(second.contains("already in"), "{second}");
    let text = std::fs::read_to_string(&regressions).expect("the regression file");
    let entries: Vec<&str> = text.lines().filter(|line| !line.is_empty() && !line.starts_with('#')).collect();
    assert_eq!(entries.len(), 1, "{text}");
    let replay_line = |stdout: &str| stdout.lines().find(|line| line.starts_with("replay it:")).map(str::to_string);
    assert_eq!(replay_line(&first), replay_line(&second), "both point at the one entry");
    let _ = std::fs::remove_file(&regressions);
}

#[test]
fn shrink_is_bounded_by_steps_so_every_machine_gets_the_same_case() {
    let shrink = || {
        let output =
            replsim(&["shrink", "--mode", "hash-by-key", "--seed", "7", "--max-steps", "40", "--no-regression"]);
        assert_eq!(output.status.code(), Some(0), "{}", stderr_of(&output));
        // The elapsed time is the one thing allowed to differ.
        let stdout = stdout_of(&output);
        let summary = stdout.lines().find(|line| line.starts_with("minimal case:")).expect("a summary").to_string();
        assert!(summary.contains("40 steps") && summary.contains("budget reached"), "{summary}");
        let (before, after) = summary.split_once("kept) in ").expect("the shrink's time");
        let after_time = &after[after.find('s').expect("seconds") + 1..];
        stdout.replace(&summary, &format!("{before}kept){after_time}"))
    };
    assert_eq!(shrink(), shrink());
    let timed = replsim(&["shrink", "--mode", "hash-by-key", "--seed", "7", "--duration", "60s"]);
    assert_one_line_error(&timed, "shrink --duration", &["--duration"]);
}

#[test]
fn missing_arguments_and_bad_values_are_named_whole() {
    let shrink = replsim(&["shrink", "--mode", "barrier"]);
    assert_one_line_error(&shrink, "shrink without --seed", &["required arguments were not provided: --seed <SEED>"]);
    let replay = replsim(&["replay", "--seed", "7"]);
    assert_one_line_error(&replay, "replay without --mode", &["--mode"]);
    let check = replsim(&["check", "history.jsonl"]);
    assert_one_line_error(&check, "check without --model", &["--model <MODEL>"]);
    let model = replsim(&["check", "history.jsonl", "--model", "nope"]);
    assert_one_line_error(
        &model,
        "check --model nope",
        &["invalid value 'nope'", "[possible values: kv, register, cas-register, porcupine-kv]"],
    );
    let bare = replsim(&[]);
    assert_one_line_error(&bare, "replsim alone", &["no subcommand", "fuzz", "replay"]);
    assert!(bare.stdout.is_empty(), "{}", stdout_of(&bare));
}

#[test]
fn a_panic_while_judging_is_an_unknown_run_and_the_campaign_goes_on() {
    let output = replsim(&[
        "fuzz",
        "--scenario",
        "flushdb-race",
        "--mode",
        "barrier",
        "--seeds",
        "5",
        "--jobs",
        "2",
        "--harness-bug",
        "panic-while-judging:2",
        "--json",
    ]);
    assert_eq!(output.status.code(), Some(EXIT_UNKNOWN), "{}", stderr_of(&output));
    let summary = json_of(&output);
    assert_eq!((summary["runs"].as_u64(), summary["passed"].as_u64()), (Some(5), Some(4)), "{summary}");
    assert_eq!(summary["unknown_seeds"], serde_json::json!([2]));
    let unknown = &summary["unknowns"][0];
    let reason = unknown["reason"].as_str().expect("a reason");
    assert!(reason.starts_with("harness error while judging: planted harness bug"), "{reason}");
    assert!(unknown["repro"].as_str().expect("a repro line").ends_with("--seed 2"), "{unknown}");
    assert!(stderr_of(&output).contains("UNKNOWN (harness error while judging"), "{}", stderr_of(&output));
}

#[test]
fn a_panic_in_the_shrinker_is_reported_not_swallowed() {
    let args = ["shrink", "--mode", "hash-by-key", "--seed", "7", "--no-regression"];
    let output = command(&args).args(["--harness-bug", "panic-while-shrinking:3"]).output().expect("replsim runs");
    let stderr = stderr_of(&output);
    assert_eq!(output.status.code(), Some(EXIT_PANIC), "{stderr}");
    assert!(stderr.contains("panicked") && stderr.contains("the shrinker panics before candidate run 3"), "{stderr}");
    // The SUT assertions that candidate runs trip stay quiet: they are verdicts, not bugs.
    let sut = replsim(&[
        "shrink",
        "--scenario",
        "swarm",
        "--mode",
        "barrier",
        "--seed",
        "0",
        "--bug",
        "tsync-off-by-one",
        "--max-steps",
        "30",
        "--no-regression",
    ]);
    assert_eq!(sut.status.code(), Some(0), "{}", stderr_of(&sut));
    assert!(stdout_of(&sut).contains("[sut-invariant]"), "{}", stdout_of(&sut));
    assert!(!stderr_of(&sut).contains("panicked"), "{}", stderr_of(&sut));
}

/// `script` (util-linux) runs the command on a pseudo-terminal, where fuzz draws its progress bar.
#[cfg(target_os = "linux")]
#[test]
fn the_progress_bar_shows_a_whole_rate_and_its_last_frame_before_the_summary() {
    let binary = env!("CARGO_BIN_EXE_replsim");
    let fuzz = format!("{binary} fuzz --scenario pika-steps --mode serial --seeds 30 --jobs 1");
    let output = Command::new("script")
        .args(["--quiet", "--return", "--command", &fuzz, "/dev/null"])
        .env("TERM", "xterm")
        .env_remove("RUST_BACKTRACE")
        .stdin(Stdio::null())
        .output()
        .expect("script(1) runs");
    let screen = stdout_of(&output);
    assert_eq!(output.status.code(), Some(0), "{screen}");
    let summary_at = screen.find("scenario ").expect("the summary table");
    assert!(screen[..summary_at].ends_with('\n'), "the summary starts on a line of its own:\n{screen:?}");
    let frames: Vec<&str> = screen[..summary_at].split(['\r', '\n']).filter(|frame| frame.contains("runs/s")).collect();
    let last = frames.last().unwrap_or_else(|| panic!("no progress frame before the summary:\n{screen:?}"));
    assert!(last.contains("30/30 runs"), "the last frame shows every run: {last:?}");
    for frame in &frames {
        let rate = frame.split(" runs/s").next().and_then(|before| before.rsplit([' ', ',']).next()).unwrap_or("");
        assert!(!rate.is_empty() && rate.chars().all(|char| char.is_ascii_digit()), "a whole rate: {frame:?}");
    }
}
