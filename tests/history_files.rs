//! A simulation's client history round-trips through the JSON-lines file `replay --history-out`
//! writes, and `replsim check` gives the same verdict on it as the run did.

use std::process::Command as Process;

use replsim_model::history::{read_kv_history, HistoryFormat};
use replsim_model::linearizability::{check_client_history, Options};
use replsim_scenarios::runner::{run_case, Case, RunOptions};
use replsim_scenarios::scenario::Scenario;
use replsim_sim::config::ApplyMode;

fn primary_history_of(
    seed: u64,
) -> Vec<replsim_model::history::Operation<replsim_model::command::Command, replsim_model::command::Response>> {
    let scenario = Scenario::by_name("flushdb-race").expect("scenario");
    let verdict = run_case(
        &Case::new(&scenario, ApplyMode::Barrier, seed),
        RunOptions { keep_history: true, ..RunOptions::default() },
    );
    assert!(verdict.is_pass(), "{verdict}");
    verdict.primary_history.expect("kept")
}

#[test]
fn a_simulated_history_round_trips_through_json_lines() {
    let history = primary_history_of(3);
    assert!(history.iter().any(|operation| matches!(operation.input, replsim_model::command::Command::FlushDb { .. })));
    let mut bytes = Vec::new();
    replsim_model::history::jsonl::write(&mut bytes, &history).expect("write to memory");
    let read = read_kv_history("history.jsonl", &bytes, HistoryFormat::Auto).expect("read back");
    assert_eq!(read, history);
    assert!(check_client_history(&read, &Options::default()).is_linearizable());
}

#[test]
fn replsim_check_agrees_with_the_run_and_rejects_a_tampered_history() {
    let directory = std::env::temp_dir().join(format!("replsim-history-{}", std::process::id()));
    std::fs::create_dir_all(&directory).expect("temp dir");
    let good = directory.join("good.jsonl");
    let replay = Process::new(env!("CARGO_BIN_EXE_replsim"))
        .args([
            "replay",
            "--scenario",
            "flushdb-race",
            "--mode",
            "barrier",
            "--seed",
            "3",
            "--log",
            "off",
            "--history-out",
        ])
        .arg(&good)
        .output()
        .expect("spawn replsim");
    assert!(replay.status.success(), "{}", String::from_utf8_lossy(&replay.stdout));
    let check = |path: &std::path::Path| {
        Process::new(env!("CARGO_BIN_EXE_replsim"))
            .arg("check")
            .arg(path)
            .args(["--model", "kv"])
            .output()
            .expect("spawn")
    };
    let verdict = check(&good);
    assert_eq!(verdict.status.code(), Some(0), "{}", String::from_utf8_lossy(&verdict.stdout));

    // Make a GET that saw a value report one nobody ever wrote.
    let text = std::fs::read_to_string(&good).expect("read");
    let mut tampered = false;
    let lines: Vec<String> = text
        .lines()
        .map(|line| {
            if !tampered && line.contains("\"Get\"") && line.contains("\"Value\":\"v") {
                tampered = true;
                let start = line.find("\"Value\":\"").expect("found") + "\"Value\":\"".len();
                let end = start + line[start..].find('"').expect("closing quote");
                format!("{}never-written{}", &line[..start], &line[end..])
            } else {
                line.to_string()
            }
        })
        .collect();
    assert!(tampered, "the history has a GET that returned a value");
    let bad = directory.join("bad.jsonl");
    std::fs::write(&bad, lines.join("\n") + "\n").expect("write");
    let verdict = check(&bad);
    assert_eq!(verdict.status.code(), Some(1), "{}", String::from_utf8_lossy(&verdict.stdout));
    let _ = std::fs::remove_dir_all(&directory);
}
