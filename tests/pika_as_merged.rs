//! Pika as merged (`sim/src/behaviour.rs`, `docs/findings.md`): with every race fixed, the faithful
//! profile survives the swarm the ideal profile survives; the command line names the profiles and
//! every behaviour, refuses a bad list with one line and exit 2, and a repro line of the faithful
//! profile replays the same trace.
//!
//! `REPLSIM_SEEDS=N` widens the soak; `REPLSIM_SEED=S` narrows it to one seed.

use std::process::{Command, Output};

use replsim_scenarios::runner::{run_case, Case, Outcome, RunOptions};
use replsim_scenarios::scenario::Scenario;
use replsim_scenarios::seeds::test_seeds;
use replsim_sim::behaviour::{Behaviour, Behaviours, Profile};
use replsim_sim::config::ApplyMode;

fn pika_with_every_race_fixed() -> Behaviours {
    Profile::Pika.behaviours().with_races_fixed()
}

fn survives_every_swarm_fault(mode: ApplyMode, behaviours: &Behaviours, default_seeds: u64) {
    let swarm = Scenario::by_name("swarm").expect("the swarm scenario exists");
    let mut unknown = Vec::new();
    for seed in test_seeds(default_seeds) {
        let case = Case::new(&swarm, mode, seed).with_behaviours(behaviours.clone());
        let verdict = run_case(&case, RunOptions::default());
        assert!(!verdict.is_fail(), "Pika with every race fixed failed under swarm faults:\n{verdict}");
        if let Outcome::Unknown(reason) = &verdict.outcome {
            unknown.push(format!("seed {seed}: {reason}"));
        }
    }
    assert!(unknown.is_empty(), "{mode} {behaviours}: runs without a verdict:\n{}", unknown.join("\n"));
}

#[test]
fn the_fixed_faithful_profile_keeps_only_the_behaviours_that_open_no_race() {
    let fixed = pika_with_every_race_fixed();
    assert_eq!(fixed.to_string(), "pika-dispatch,tsync-ahead-error");
    for behaviour in Behaviour::ALL {
        assert_eq!(fixed.has(behaviour), behaviour.race().is_none(), "{behaviour}");
    }
}

#[test]
fn barrier_survives_every_swarm_fault_under_pika_with_every_race_fixed() {
    survives_every_swarm_fault(ApplyMode::Barrier, &pika_with_every_race_fixed(), 500);
}

#[test]
fn serial_survives_every_swarm_fault_under_pika_with_every_race_fixed() {
    survives_every_swarm_fault(ApplyMode::Serial, &pika_with_every_race_fixed(), 500);
}

#[test]
fn the_merged_fix_survives_every_swarm_fault_under_pika_with_every_race_fixed() {
    survives_every_swarm_fault(ApplyMode::MergedFix, &pika_with_every_race_fixed(), 200);
}

fn replsim(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_replsim"))
        .args(args)
        .current_dir(std::env::temp_dir())
        .output()
        .expect("the replsim binary runs")
}

fn assert_usage_error(args: &[&str], mentions: &str) {
    let output = replsim(args);
    let stderr = String::from_utf8_lossy(&output.stderr).trim_end().to_string();
    assert_eq!(output.status.code(), Some(2), "replsim {args:?}: {stderr}");
    assert_eq!(stderr.lines().count(), 1, "replsim {args:?} should say one line, said:\n{stderr}");
    assert!(stderr.contains(mentions), "replsim {args:?}: '{stderr}' should mention '{mentions}'");
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
