//! Every scenario file in `examples/` passes under the fixed modes and is caught under its buggy
//! configuration within the number of seeds its comment states.

use std::path::{Path, PathBuf};

use replsim_scenarios::file;
use replsim_scenarios::report::SeedsPassed;
use replsim_sim::bug::Bug;
use replsim_sim::config::ApplyMode;

/// Each example, the buggy configuration it shows, and within how many seeds (from 0) it is caught.
const EXAMPLES: [(&str, ApplyMode, Option<Bug>, u64); 3] = [
    ("flush-reorder.toml", ApplyMode::HashByKey, None, 10),
    ("multi-key-del.toml", ApplyMode::Barrier, Some(Bug::MultiKeyDelByFirstKey), 10),
    ("flushall-one-entry.toml", ApplyMode::Barrier, Some(Bug::FlushAllOneEntry), 10),
];

fn example(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("examples").join(name)
}

#[test]
fn every_example_file_is_listed_here() {
    let mut files: Vec<String> = std::fs::read_dir(example(""))
        .expect("examples/ exists")
        .filter_map(|entry| entry.ok()?.file_name().into_string().ok())
        .filter(|name| name.ends_with(".toml"))
        .collect();
    files.sort();
    let mut listed: Vec<String> = EXAMPLES.iter().map(|(name, ..)| name.to_string()).collect();
    listed.sort();
    assert_eq!(files, listed);
}

#[test]
fn every_example_passes_under_the_fixed_modes() {
    for (name, ..) in EXAMPLES {
        let scenario = file::load(&example(name)).unwrap_or_else(|error| panic!("{error}"));
        for mode in [ApplyMode::Barrier, ApplyMode::Serial] {
            let mut scenario = scenario.clone();
            scenario.cluster.bug = None;
            match scenario.run_seeds(mode, 0..10) {
                Ok(SeedsPassed(passed)) => assert_eq!(passed, 10),
                Err(failure) => panic!("examples/{name} under {mode}:\n{failure}"),
            }
        }
    }
}

#[test]
fn every_example_is_caught_within_the_seeds_its_comment_states() {
    for (name, mode, bug, seeds) in EXAMPLES {
        let text = std::fs::read_to_string(example(name)).unwrap();
        assert!(text.contains(&format!("within {seeds} seeds")), "examples/{name} should state 'within {seeds} seeds'");
        let mut scenario = file::load(&example(name)).unwrap_or_else(|error| panic!("{error}"));
        scenario.cluster.bug = bug;
        let failure = scenario
            .run_seeds(mode, 0..seeds)
            .expect_err(&format!("examples/{name} under {mode} (bug {bug:?}) was not caught in seeds 0..{seeds}"));
        assert!(!failure.checks.is_empty(), "{failure}");
        assert!(failure.repro.contains(&format!("--scenario-file {}", example(name).display())), "{failure}");
    }
}
