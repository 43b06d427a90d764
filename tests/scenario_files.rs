//! Scenario files and the Rust API as a user meets them: a bad file is one line naming the file
//! and line, exit 2; a file scenario's printed repro line reproduces its trace hash; fuzz, shrink
//! and replay take `--scenario-file`; a scenario built in code fails with a repro line that
//! reruns it from the command line.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use replsim_scenarios::builder::Builder;
use replsim_sim::config::ApplyMode;

fn replsim(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_replsim"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("the replsim binary runs")
}

fn stdout_of(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// A scratch file for this test (under the target directory, unique per test name).
fn scratch(name: &str, text: &str) -> PathBuf {
    let directory = Path::new(env!("CARGO_TARGET_TMPDIR")).join("scenario-files");
    std::fs::create_dir_all(&directory).unwrap();
    let path = directory.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

const GOOD: &str = r#"
[cluster]
replicas = 1

[[phase]]
[[phase.client]]
ops = ["SET x 1"]
[[phase.client]]
ops = [{ op = "FLUSHDB", after = "client 1 op 1" }]

[[expect]]
node = "replica-1"
get = "x"
returns = "nil"
"#;

/// `replsim list --scenario-file` on `text` fails with one line naming `FILE:line` and `problem`.
fn assert_refused(name: &str, text: &str, line: usize, problem: &str) {
    let path = scratch(name, text);
    let output = replsim(&["list", "--scenario-file", path.to_str().unwrap()]);
    let stderr = String::from_utf8_lossy(&output.stderr).trim_end().to_string();
    assert_eq!(output.status.code(), Some(2), "{name}: {stderr}");
    assert_eq!(stderr.lines().count(), 1, "{name} should be one line, was:\n{stderr}");
    let location = format!("{}:{line}:", path.display());
    assert!(stderr.contains(&location), "{name}: '{stderr}' should name {location}");
    assert!(stderr.contains(problem), "{name}: '{stderr}' should say '{problem}'");
    // The same file through replay: the same line, never a run.
    let output = replsim(&["replay", "--scenario-file", path.to_str().unwrap(), "--mode", "barrier", "--seed", "1"]);
    assert_eq!(output.status.code(), Some(2), "{name} under replay");
}

#[test]
fn a_good_file_is_listed() {
    let path = scratch("good.toml", GOOD);
    let output = replsim(&["list", "--scenario-file", path.to_str().unwrap()]);
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    assert!(stdout_of(&output).contains("GET x on replica-1 returns nil after phase 1"), "{}", stdout_of(&output));
}

#[test]
fn a_syntax_error_names_its_line() {
    assert_refused("syntax.toml", "[cluster]\nreplicas = 1\n[[phase]\n", 3, "");
}

#[test]
fn an_unknown_key_names_its_line() {
    let text = GOOD.replace("replicas = 1", "replicas = 1\napply_wrokers = 4");
    assert_refused("unknown-key.toml", &text, 4, "unknown field `apply_wrokers`");
}

#[test]
fn an_unknown_command_names_its_line() {
    let text = GOOD.replace("SET x 1", "INCR x");
    assert_refused("unknown-command.toml", &text, 7, "unknown command 'INCR'");
}

#[test]
fn ordering_to_a_missing_op_names_its_line() {
    let text = GOOD.replace("client 1 op 1", "client 1 op 2");
    assert_refused("missing-op.toml", &text, 9, "client 1 op 2");
}

#[test]
fn an_expectation_on_a_missing_replica_names_its_line() {
    let text = GOOD.replace("node = \"replica-1\"", "node = \"replica-2\"");
    assert_refused("missing-replica.toml", &text, 11, "replica-2");
}

#[test]
fn an_ordering_cycle_names_its_line() {
    let text = GOOD.replace("ops = [\"SET x 1\"]", "ops = [{ op = \"SET x 1\", after = \"client 2 op 1\" }]");
    assert_refused("cycle.toml", &text, 7, "ordering cycle");
}

#[test]
fn a_target_beyond_the_cluster_names_its_line() {
    let text = GOOD.replace("SET x 1", "GET x @replica-3");
    assert_refused("missing-target.toml", &text, 7, "replica-3 does not exist");
}

/// The trace hash a replay prints in its headline.
fn trace_of(output: &Output) -> String {
    let stdout = stdout_of(output);
    let headline = stdout.lines().next().unwrap_or_default();
    headline.split("trace=").nth(1).unwrap_or_else(|| panic!("no trace hash in '{headline}'")).to_string()
}

/// Runs a printed repro line with the test's binary.
fn rerun(repro: &str) -> Output {
    let command = repro.strip_prefix("cargo run --release -- ").unwrap_or_else(|| panic!("not a repro line: {repro}"));
    let mut args: Vec<String> = Vec::new();
    // Arguments are plain words, except a --cluster value in single quotes.
    let mut rest = command;
    while !rest.is_empty() {
        rest = rest.trim_start();
        if let Some(quoted) = rest.strip_prefix('\'') {
            let end = quoted.find('\'').expect("closing quote");
            args.push(quoted[..end].to_string());
            rest = &quoted[end + 1..];
        } else {
            let end = rest.find(' ').unwrap_or(rest.len());
            args.push(rest[..end].to_string());
            rest = &rest[end..];
        }
    }
    let mut args: Vec<&str> = args.iter().map(String::as_str).collect();
    args.extend(["--log", "off"]);
    replsim(&args)
}

fn repro_of(output: &Output) -> String {
    let stdout = stdout_of(output);
    stdout
        .lines()
        .find_map(|line| line.strip_prefix("reproduce: "))
        .unwrap_or_else(|| panic!("no repro line in:\n{stdout}"))
        .to_string()
}

#[test]
fn a_file_scenarios_repro_line_reproduces_its_trace_with_the_cluster_settings() {
    let args = [
        "replay",
        "--scenario-file",
        "examples/flush-reorder.toml",
        "--seed",
        "0",
        "--cluster",
        "apply_delay=2ms..6ms",
    ];
    let first = replsim(&[&args[..], &["--log", "off"]].concat());
    assert_eq!(first.status.code(), Some(1), "{}", stdout_of(&first));
    let repro = repro_of(&first);
    assert!(repro.contains("--scenario-file examples/flush-reorder.toml"), "{repro}");
    assert!(repro.contains("--cluster 'apply_delay=\"2ms..6ms\"'"), "{repro}");
    let again = rerun(&repro);
    assert_eq!(trace_of(&again), trace_of(&first), "{repro}");
    // Without the setting it is another run.
    let default = replsim(&["replay", "--scenario-file", "examples/flush-reorder.toml", "--seed", "0", "--log", "off"]);
    assert_ne!(trace_of(&default), trace_of(&first));
}

#[test]
fn fuzz_takes_a_scenario_file_and_its_failures_reproduce() {
    let out = scratch("fuzz-failures.jsonl", "");
    let output = replsim(&[
        "fuzz",
        "--scenario-file",
        "examples/flush-reorder.toml",
        "--mode",
        "hash-by-key",
        "--seeds",
        "20",
        "--jobs",
        "2",
        "--shard",
        "1/2",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(output.status.code(), Some(1), "{}", stdout_of(&output));
    let line = std::fs::read_to_string(&out).unwrap();
    let failure: serde_json::Value = serde_json::from_str(line.lines().next().expect("a failure line")).unwrap();
    let repro = failure["repro"].as_str().unwrap();
    assert!(repro.contains("--scenario-file examples/flush-reorder.toml"), "{repro}");
    let again = rerun(repro);
    assert_eq!(again.status.code(), Some(1));
    assert_eq!(trace_of(&again), failure["trace"].as_str().unwrap_or(&trace_of(&again)).to_string());
}

#[test]
fn shrink_writes_a_regression_line_that_names_the_file_and_replays() {
    let regressions = scratch("shrunk.txt", "");
    std::fs::remove_file(&regressions).unwrap();
    let output = replsim(&[
        "shrink",
        "--scenario-file",
        "examples/flush-reorder.toml",
        "--seed",
        "1",
        "--cluster",
        "apply_workers=3",
        "--regression-file",
        regressions.to_str().unwrap(),
    ]);
    assert!(output.status.success(), "{}{}", stdout_of(&output), String::from_utf8_lossy(&output.stderr));
    let text = std::fs::read_to_string(&regressions).unwrap();
    let line = text.lines().find(|line| !line.starts_with('#') && !line.is_empty()).expect("a regression line");
    assert!(line.starts_with("examples/flush-reorder.toml hash-by-key seed=1"), "{line}");
    assert!(line.contains("cluster=apply_workers=3"), "{line}");
    let number = text.lines().position(|candidate| candidate == line).unwrap() + 1;
    let location = format!("{}:{number}", regressions.display());
    let replayed = replsim(&["replay", "--regression", &location, "--log", "off"]);
    assert_eq!(replayed.status.code(), Some(1), "{}", stdout_of(&replayed));
    let fixed = replsim(&["replay", "--regression", &location, "--mode", "barrier", "--log", "off"]);
    assert_eq!(fixed.status.code(), Some(0), "{}", stdout_of(&fixed));
}

#[test]
fn a_scenario_built_in_code_reports_replies_and_fails_with_a_repro_that_reruns_it() {
    let scenario = Builder::new("api-flush-race")
        .replicas(1)
        .apply_workers(4)
        .phase(|phase| {
            phase
                .client(|client| client.op("SET a 1"))
                .client(|client| client.op_after("FLUSHDB", "client 1 op 1"))
                .client(|client| {
                    client
                        .think(std::time::Duration::ZERO, std::time::Duration::from_millis(2))
                        .op("SET b 1")
                        .op("SET c 1")
                })
                .client(|client| client.op("SET d 1").op("SET e 1").op("SET f 1"))
        })
        .phase(|phase| phase.client(|client| client.op("GET a @replica-1")))
        .expect_converge()
        .build()
        .unwrap();
    // Under the fix: a custom assertion on the replies.
    let report = scenario.run(ApplyMode::Barrier, 3).unwrap_or_else(|failure| panic!("{failure}"));
    let flush = report.replies(1, 2);
    assert_eq!(flush.len(), 1);
    assert_eq!(flush[0].command.to_string(), "FLUSHDB");
    let read = &report.replies(2, 1)[0];
    assert_eq!(read.node, "replica-1");
    assert_eq!(read.response.as_ref().map(ToString::to_string).as_deref(), Some("nil"), "FLUSHDB came after SET a");
    // Under hash-by-key: a failure whose repro line reruns it from the command line.
    let failure = scenario.run_seeds(ApplyMode::HashByKey, 0..30).expect_err("hash-by-key is caught within 30 seeds");
    assert!(failure.repro.contains("--scenario-file target/replsim-scenarios/api-flush-race-"), "{}", failure.repro);
    let again = rerun(&failure.repro);
    assert_eq!(trace_of(&again), format!("{:016x}", failure.verdict.trace_hash), "{}", failure.repro);
}

#[test]
fn a_spec_written_as_toml_reads_back_as_the_same_scenario() {
    let builder = Builder::new("round-trip")
        .replicas(2)
        .databases(2)
        .apply_delay(std::time::Duration::from_millis(1), std::time::Duration::from_millis(7))
        .phase(|phase| {
            phase
                .client(|client| client.op("[db1] SET x 1").op("GET x @replica-2"))
                .client(|client| client.op_after("FLUSHALL", "client 1 op 1"))
        })
        .expect_get("replica-2", "x", Some("1"));
    let spec = builder.spec();
    let text = spec.to_toml().unwrap();
    let path = scratch("round-trip.toml", &text);
    let from_file = replsim_scenarios::file::load(&path).unwrap_or_else(|error| panic!("{error}\n{text}"));
    let built = builder.build().unwrap();
    assert_eq!(from_file.cluster, built.cluster, "{text}");
    let (from_file, built) = (from_file.script.unwrap(), built.script.unwrap());
    assert_eq!(from_file.phases, built.phases, "{text}");
    let expected = |script: &replsim_scenarios::script::Script| {
        script.expectations.iter().map(|expectation| expectation.expected.clone()).collect::<Vec<_>>()
    };
    assert_eq!(expected(&from_file), expected(&built), "{text}");
}

/// The README's scenario file, as a newcomer would copy it.
fn readme_block(language: &str) -> String {
    let readme = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md")).unwrap();
    let section = readme.split("## Write your own scenario").nth(1).expect("the README has the section");
    let fence = format!("```{language}\n");
    let block = section.split(&fence).nth(1).unwrap_or_else(|| panic!("a {language} block in the section"));
    block.split("```").next().unwrap().to_string()
}

#[test]
fn the_readme_scenario_file_runs_and_passes_under_the_fixed_modes() {
    let path = scratch("my-flush.toml", &readme_block("toml"));
    let scenario = replsim_scenarios::file::load(&path).unwrap_or_else(|error| panic!("{error}"));
    assert_eq!(scenario.default_mode, Some(ApplyMode::HashByKey));
    scenario.run_seeds(ApplyMode::Barrier, 0..20).unwrap_or_else(|failure| panic!("{failure}"));
    scenario.run_seeds(ApplyMode::Serial, 0..20).unwrap_or_else(|failure| panic!("{failure}"));
    let path = path.to_str().unwrap();
    let output = replsim(&["list", "--scenario-file", path]);
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
}

/// The README's Rust example, verbatim but for the `#[test]` around it.
#[test]
fn the_readme_rust_example_passes() {
    let scenario = Builder::new("my-flush")
        .replicas(1)
        .phase(|phase| {
            phase.client(|client| client.op("SET x 1")).client(|client| client.op_after("FLUSHDB", "client 1 op 1"))
        })
        .phase(|phase| phase.client(|client| client.op("GET x @replica-1")))
        .expect_converge()
        .build()
        .unwrap();
    let report = scenario.run(ApplyMode::Barrier, 7).unwrap_or_else(|failure| panic!("{failure}"));
    let read = &report.replies(2, 1)[0]; // phase 2, client 1: its replies
    assert_eq!(read.response.as_ref().unwrap().to_string(), "nil");
    scenario.run_seeds(ApplyMode::Serial, 0..100).unwrap_or_else(|failure| panic!("{failure}"));
    assert!(readme_block("rust").contains(".run_seeds(ApplyMode::Serial, 0..100)"), "keep this test in step");
}

#[test]
fn a_workload_drawn_by_the_user_fails_with_a_repro_line_that_replays_it() {
    use proptest::strategy::ValueTree;
    use replsim_scenarios::generate::{generate, WorkloadProfile};
    let scenario = replsim_scenarios::scenario::Scenario::by_name("flushdb-race").unwrap();
    let profile = WorkloadProfile { clients: 3..=3, ops_per_client: 20..=20, ..WorkloadProfile::default() };
    let failure = (0..50)
        .find_map(|seed| {
            let workload = generate(&profile.strategy(), seed + 1000).current();
            scenario.run_workload(ApplyMode::HashByKey, seed, workload).err()
        })
        .expect("hash-by-key is caught on a drawn workload within 50 seeds");
    assert!(failure.repro.contains("replay --regression target/replsim-scenarios/workloads.txt:"), "{}", failure.repro);
    let again = rerun(&failure.repro);
    assert_eq!(trace_of(&again), format!("{:016x}", failure.verdict.trace_hash), "{}", failure.repro);
}

#[test]
fn an_operation_ordered_after_another_starts_only_once_it_returned() {
    let scenario = replsim_scenarios::file::load(Path::new("examples/flush-reorder.toml")).unwrap();
    for seed in 0..20 {
        let report = scenario.run(ApplyMode::Barrier, seed).unwrap_or_else(|failure| panic!("{failure}"));
        let set = &report.all_replies().iter().find(|op| op.operation.client == 1).unwrap().operation;
        let flush = &report.all_replies().iter().find(|op| op.operation.client == 2).unwrap().operation;
        assert_eq!(flush.input.to_string(), "FLUSHDB");
        let returned = set.returned.expect("SET a returned");
        assert!(
            flush.call >= returned,
            "seed {seed}: FLUSHDB called at {} before SET a returned at {returned}",
            flush.call
        );
    }
}

#[test]
fn a_regression_line_reading_from_a_missing_replica_is_one_line_and_exit_2() {
    let path =
        scratch("bad-regression.txt", "flushdb-race barrier seed=1 fails=convergence :: SET a v1 | GET a @replica-3\n");
    let output = replsim(&["replay", "--regression", &format!("{}:1", path.display()), "--log", "off"]);
    let stderr = String::from_utf8_lossy(&output.stderr).trim_end().to_string();
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.contains("phase 1 client 2 op 1: replica-3 does not exist"), "{stderr}");
}

#[test]
fn stalls_are_cluster_settings_that_round_trip_through_a_flag() {
    use replsim_scenarios::file::ClusterSpec;
    let spec = ClusterSpec::from_flag("stall_apply_worker=1.5% 50ms..2s,stall_primary=0%").expect("valid stalls");
    let mut cluster = replsim_sim::config::ClusterConfig::default();
    spec.apply(&mut cluster);
    assert_eq!(cluster.stalls.apply_worker.per_million, 15_000);
    assert_eq!(cluster.stalls.apply_worker.max, std::time::Duration::from_secs(2));
    assert!(cluster.stalls.primary.is_off());
    let flag = ClusterSpec::difference(&replsim_sim::config::ClusterConfig::default(), &cluster).to_flag();
    assert_eq!(flag, r#"stall_apply_worker="1.5% 50ms..2s""#);
    assert!(ClusterSpec::from_flag("stall_network=lots").is_err_and(|problem| problem.contains("invalid stall")));
}

#[test]
fn a_file_switches_on_pikas_behaviours_and_the_command_line_can_fix_them() {
    // FLUSHDB inside MULTI/EXEC is not replicated (race 5 of docs/findings.md): the fixed
    // barrier mode diverges, and `--behaviours=-multi-exec` on top of the file is its fix.
    let text = std::fs::read_to_string("examples/flush-reorder.toml").expect("the example");
    let text = text.replacen("replicas = 1\n", "replicas = 1\nbehaviours = \"multi-exec\"\n", 1);
    assert!(text.contains("behaviours = \"multi-exec\""), "the example's cluster has `replicas = 1`");
    let path = scratch("multi-exec.toml", &text);
    let path = path.to_str().expect("utf-8 path");
    let failing = replsim(&["replay", "--scenario-file", path, "--mode", "barrier", "--seed", "0", "--log", "off"]);
    assert_eq!(failing.status.code(), Some(1), "{}", stdout_of(&failing));
    assert!(stdout_of(&failing).lines().next().unwrap_or_default().contains("behaviours=multi-exec"));
    let repro = repro_of(&failing);
    assert_eq!(trace_of(&rerun(&repro)), trace_of(&failing), "{repro}");
    let fixed = replsim(&[
        "replay",
        "--scenario-file",
        path,
        "--mode",
        "barrier",
        "--seed",
        "0",
        "--behaviours=-multi-exec",
        "--log",
        "off",
    ]);
    assert_eq!(fixed.status.code(), Some(0), "{}", stdout_of(&fixed));
}
