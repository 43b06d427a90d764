//! The examples of fuzzing on many machines (`examples/ci/github-actions-fuzz.yml`,
//! `examples/k8s/fuzz-job.yaml`) are valid YAML, and the commands in them work: each test reads
//! its file, runs the fuzz script of every shard as the runner would (GitHub's `bash -eo pipefail`
//! with the matrix value filled in; a pod's `sh -c` with the completion index in its environment
//! and the volume at a scratch directory), passes the files on as the artifacts or the volume
//! would, runs the merge script, and checks that the merged summary equals the merge of one
//! unsharded `replsim fuzz` over the same seeds.
//!
//! The files' own budget is `--duration 10m`; the tests give each shard a seed count instead, on
//! a target where failures are certain (the FLUSHDB race under hash-by-key), so the merge has
//! failures to merge and the sharded and unsharded results can be compared exactly.

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

use serde_json::Value;
use yaml_rust2::{Yaml, YamlLoader};

const FUZZ_BUDGET: &str = "--seeds 12";
const FUZZ_TARGET: &str = "--scenario flushdb-race --mode hash-by-key,barrier";
/// `replsim merge`'s exit code when a run failed.
const EXIT_FAILURE_FOUND: i32 = 1;

fn repository_file(relative: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(relative)
}

fn load_yaml(relative: &str) -> Vec<Yaml> {
    let text = std::fs::read_to_string(repository_file(relative)).expect("the example exists");
    YamlLoader::load_from_str(&text).unwrap_or_else(|error| panic!("{relative} is not valid YAML: {error}"))
}

fn text(yaml: &Yaml) -> String {
    match yaml {
        Yaml::String(text) | Yaml::Real(text) => text.clone(),
        Yaml::Integer(number) => number.to_string(),
        Yaml::Boolean(value) => value.to_string(),
        other => panic!("expected a scalar, found {other:?}"),
    }
}

/// A fresh, empty directory for one part of one test.
fn scratch(name: &str) -> PathBuf {
    let directory = std::env::temp_dir().join(format!("replsim-ci-examples-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&directory);
    std::fs::create_dir_all(&directory).expect("a scratch directory");
    directory
}

/// PATH with the `replsim` under test first, as `cargo install` puts it on a runner's PATH.
fn path_with_replsim() -> OsString {
    let binary_directory = Path::new(env!("CARGO_BIN_EXE_replsim")).parent().expect("a directory");
    let mut paths = vec![binary_directory.to_path_buf()];
    paths.extend(std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default()));
    std::env::join_paths(paths).expect("PATH joins")
}

/// Runs `shell` and then `script` (its text, or the path of a file holding it) in `directory`
/// with exactly `environment` (and PATH).
fn run_script(shell: &[&str], script: &OsString, directory: &Path, environment: &BTreeMap<String, String>) -> Output {
    Command::new(shell[0])
        .args(&shell[1..])
        .arg(script)
        .current_dir(directory)
        .env_clear()
        .env("PATH", path_with_replsim())
        .envs(environment)
        .output()
        .expect("the shell runs")
}

fn describe(output: &Output) -> String {
    format!(
        "exit {:?}\nstdout:\n{}\nstderr:\n{}",
        output.status.code(),
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

fn json_file(path: &Path) -> Value {
    let text = std::fs::read_to_string(path).unwrap_or_else(|error| panic!("{}: {error}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|error| panic!("{} is not JSON ({error}): {text}", path.display()))
}

/// The merged summary minus where it came from: the part a sharded campaign shares with an
/// unsharded one.
fn without_sources(mut merged: Value) -> Value {
    merged.as_object_mut().expect("a JSON object").remove("sources");
    merged
}

/// `replsim merge --json` of one unsharded fuzz run over the tests' seeds and target.
fn unsharded_merge() -> &'static Value {
    static MERGED: OnceLock<Value> = OnceLock::new();
    MERGED.get_or_init(|| {
        let directory = scratch("unsharded");
        let replsim = |args: Vec<&str>| {
            Command::new(env!("CARGO_BIN_EXE_replsim"))
                .args(args)
                .current_dir(&directory)
                .output()
                .expect("replsim runs")
        };
        let mut fuzz: Vec<&str> = vec!["fuzz"];
        fuzz.extend(FUZZ_TARGET.split_whitespace().chain(FUZZ_BUDGET.split_whitespace()));
        fuzz.extend(["--keep-going", "--json", "--out", "failures.jsonl"]);
        let fuzzed = replsim(fuzz);
        assert_eq!(fuzzed.status.code(), Some(EXIT_FAILURE_FOUND), "{}", describe(&fuzzed));
        std::fs::write(directory.join("summary.json"), &fuzzed.stdout).expect("write the summary");
        let merged = replsim(vec!["merge", "--json", "summary.json", "failures.jsonl"]);
        assert_eq!(merged.status.code(), Some(EXIT_FAILURE_FOUND), "{}", describe(&merged));
        let merged: Value = serde_json::from_slice(&merged.stdout).expect("merge --json prints JSON");
        assert!(merged["failed"].as_u64().is_some_and(|failed| failed > 0), "the target must fail: {merged}");
        let _ = std::fs::remove_dir_all(&directory);
        merged
    })
}

/// Copies every file of `from` into `to` (created), as artifacts or a shared volume pass them on.
fn copy_files(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("the destination directory");
    for item in std::fs::read_dir(from).expect("the source directory") {
        let path = item.expect("a directory entry").path();
        std::fs::copy(&path, to.join(path.file_name().expect("a file name"))).expect("copy a file");
    }
}

// ---------------------------------------------------------------------------------------------
// GitHub Actions

/// GitHub runs a `run:` step with `bash --noprofile --norc -eo pipefail {0}`, `{0}` a file
/// holding the step's script.
const GITHUB_SHELL: [&str; 5] = ["bash", "--noprofile", "--norc", "-eo", "pipefail"];

fn run_github_step(script: &str, directory: &Path, environment: &BTreeMap<String, String>) -> Output {
    let file = directory.join("step.sh");
    std::fs::write(&file, script).expect("write the step's script");
    let output = run_script(&GITHUB_SHELL, &file.into_os_string(), directory, environment);
    let _ = std::fs::remove_file(directory.join("step.sh"));
    output
}

fn step<'workflow>(job: &'workflow Yaml, name: &str) -> &'workflow Yaml {
    job["steps"]
        .as_vec()
        .expect("the job has steps")
        .iter()
        .find(|step| step["name"].as_str() == Some(name))
        .unwrap_or_else(|| panic!("no step named '{name}'"))
}

fn upload_path(job: &Yaml) -> String {
    let steps = job["steps"].as_vec().expect("the job has steps");
    let upload = steps
        .iter()
        .find(|step| step["uses"].as_str().is_some_and(|uses| uses.starts_with("actions/upload-artifact")))
        .expect("the job uploads an artifact");
    text(&upload["with"]["path"])
}

#[test]
fn github_actions_shards_merge_to_the_unsharded_result() {
    let documents = load_yaml("examples/ci/github-actions-fuzz.yml");
    let workflow = &documents[0];
    let fuzz_job = &workflow["jobs"]["fuzz"];
    let merge_job = &workflow["jobs"]["merge"];
    assert_eq!(merge_job["needs"].as_str(), Some("fuzz"), "the merge job runs after the shards");
    let shards: Vec<String> =
        fuzz_job["strategy"]["matrix"]["shard"].as_vec().expect("a matrix of shards").iter().map(text).collect();
    assert_eq!(shards, ["1", "2", "3"]);
    let mut environment: BTreeMap<String, String> = workflow["env"]
        .as_hash()
        .expect("workflow env")
        .iter()
        .map(|(name, value)| (text(name), text(value)))
        .collect();
    assert_eq!(environment["SHARDS"], shards.len().to_string(), "SHARDS counts the matrix");
    environment.insert("FUZZ_BUDGET".to_string(), FUZZ_BUDGET.to_string());
    environment.insert("FUZZ_TARGET".to_string(), FUZZ_TARGET.to_string());

    let fuzz_script = text(&step(fuzz_job, "Fuzz")["run"]);
    let shard_output = upload_path(fuzz_job);
    let download = step(merge_job, "Download every shard's results");
    assert_eq!(download["with"]["merge-multiple"].as_bool(), Some(true));
    let merge_directory = scratch("github-merge");
    let downloaded = merge_directory.join(text(&download["with"]["path"]));
    for shard in &shards {
        let directory = scratch(&format!("github-shard-{shard}"));
        let script = fuzz_script.replace("${{ matrix.shard }}", shard);
        assert!(!script.contains("${{"), "an expression the test does not fill in: {script}");
        let output = run_github_step(&script, &directory, &environment);
        assert!(output.status.success(), "shard {shard}: {}", describe(&output));
        copy_files(&directory.join(&shard_output), &downloaded);
        let _ = std::fs::remove_dir_all(&directory);
    }

    let step_summary = merge_directory.join("step-summary.md");
    environment.insert("GITHUB_STEP_SUMMARY".to_string(), step_summary.display().to_string());
    let merge_script = text(&step(merge_job, "Merge")["run"]);
    let output = run_github_step(&merge_script, &merge_directory, &environment);
    assert_eq!(output.status.code(), Some(EXIT_FAILURE_FOUND), "the merge fails the workflow: {}", describe(&output));
    let merged = json_file(&merge_directory.join(upload_path(merge_job)));
    assert_eq!(merged["sources"]["shards"], serde_json::json!(["1/3", "2/3", "3/3"]), "{merged}");
    let shown = std::fs::read_to_string(&step_summary).expect("the job summary is written");
    assert!(shown.contains("failure signatures:") && shown.contains("reproduce:"), "{shown}");
    assert_eq!(without_sources(merged), without_sources(unsharded_merge().clone()));
    let _ = std::fs::remove_dir_all(&merge_directory);
}

// ---------------------------------------------------------------------------------------------
// Kubernetes

const COMPLETION_INDEX_FIELD: &str = "metadata.annotations['batch.kubernetes.io/job-completion-index']";

/// A pod's container as the test runs it: its script, environment and volume mount.
struct Container {
    script: String,
    environment: BTreeMap<String, String>,
    mount_path: String,
}

/// The container of a Job, its environment resolved for completion index `index`.
fn container(job: &Yaml, index: u64) -> Container {
    let spec = &job["spec"]["template"]["spec"]["containers"][0];
    let command: Vec<String> = spec["command"].as_vec().expect("a command").iter().map(text).collect();
    assert_eq!(command, ["/bin/sh", "-c"], "the script runs in a POSIX shell");
    let mut environment = BTreeMap::new();
    for variable in spec["env"].as_vec().expect("an environment") {
        let value = if variable["value"].is_badvalue() {
            let field = text(&variable["valueFrom"]["fieldRef"]["fieldPath"]);
            assert_eq!(field, COMPLETION_INDEX_FIELD, "the only field the test knows how to fill in");
            index.to_string()
        } else {
            text(&variable["value"])
        };
        environment.insert(text(&variable["name"]), value);
    }
    // What the Job controller sets in every pod of an Indexed Job.
    environment.insert("JOB_COMPLETION_INDEX".to_string(), index.to_string());
    Container { script: text(&spec["args"][0]), environment, mount_path: text(&spec["volumeMounts"][0]["mountPath"]) }
}

#[test]
fn kubernetes_indexed_job_merges_to_the_unsharded_result() {
    let documents = load_yaml("examples/k8s/fuzz-job.yaml");
    let kinds: Vec<String> = documents.iter().map(|document| text(&document["kind"])).collect();
    assert_eq!(kinds, ["PersistentVolumeClaim", "Job", "Job"]);
    let (fuzz_job, merge_job) = (&documents[1], &documents[2]);
    assert_eq!(fuzz_job["spec"]["completionMode"].as_str(), Some("Indexed"));
    let completions = fuzz_job["spec"]["completions"].as_i64().expect("completions");
    assert_eq!(completions, 3);
    assert_eq!(fuzz_job["spec"]["parallelism"].as_i64(), Some(completions));
    let volume = scratch("kubernetes-volume");
    let in_volume = |container: &Container| {
        OsString::from(container.script.replace(&container.mount_path, &volume.display().to_string()))
    };
    let with_test_budget = |mut environment: BTreeMap<String, String>| {
        assert_eq!(environment["REPLSIM_SHARD_COUNT"], completions.to_string(), "REPLSIM_SHARD_COUNT = completions");
        environment.insert("FUZZ_BUDGET".to_string(), FUZZ_BUDGET.to_string());
        environment.insert("FUZZ_TARGET".to_string(), FUZZ_TARGET.to_string());
        environment
    };
    for index in 0..completions as u64 {
        let pod = container(fuzz_job, index);
        let output = run_script(&["sh", "-c"], &in_volume(&pod), &volume, &with_test_budget(pod.environment.clone()));
        assert!(output.status.success(), "pod {index}: {}", describe(&output));
    }

    let merge = container(merge_job, 0);
    let output = run_script(&["sh", "-c"], &in_volume(&merge), &volume, &with_test_budget(merge.environment.clone()));
    assert_eq!(output.status.code(), Some(EXIT_FAILURE_FOUND), "the merge Job fails: {}", describe(&output));
    assert!(String::from_utf8_lossy(&output.stdout).contains("failure signatures:"), "{}", describe(&output));
    let merged = json_file(&volume.join("merged.json"));
    assert_eq!(merged["sources"]["shards"], serde_json::json!(["1/3", "2/3", "3/3"]), "{merged}");
    assert_eq!(without_sources(merged), without_sources(unsharded_merge().clone()));
    let _ = std::fs::remove_dir_all(&volume);
}
