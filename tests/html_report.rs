//! The HTML report of a failing run, looked at in a real browser: headless Chromium loads the
//! page, runs its script, and the DOM it dumps must show the offending FLUSHDB and the write it
//! overtook, drawn and highlighted. Chromium is required, not optional: `.ci/run` installs it
//! (Debian package `chromium`), and without it these tests fail rather than skip.

use std::path::{Path, PathBuf};
use std::process::Command;

use replsim_model::check::diff::Explanation;
use replsim_model::check::prefix::PrefixViolation;
use replsim_scenarios::html_report::{self, timeline};
use replsim_scenarios::runner::{run_case, Case, RunOptions, Verdict, Violation};
use replsim_scenarios::scenario::Scenario;
use replsim_sim::config::ApplyMode;
use replsim_sim::probe::Event;

/// A fresh directory for one test's files.
fn scratch(name: &str) -> PathBuf {
    let directory = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("report-{name}"));
    let _ = std::fs::remove_dir_all(&directory);
    std::fs::create_dir_all(&directory).expect("create a scratch directory");
    directory
}

/// The DOM of `page` after its script ran, as headless Chromium renders it at 1600×900.
fn rendered_dom(page: &Path, fragment: &str) -> String {
    let profile = page.with_extension("chromium-profile");
    let output = Command::new("chromium")
        .args(["--headless", "--no-sandbox", "--disable-gpu", "--window-size=1600,900"])
        .arg(format!("--user-data-dir={}", profile.display()))
        .arg("--dump-dom")
        .arg(format!("file://{}{fragment}", page.display()))
        .output()
        .unwrap_or_else(|error| {
            panic!("cannot run chromium ({error}): install it (`apt-get install -y chromium`; .ci/run does)")
        });
    assert!(output.status.success(), "chromium failed: {}", String::from_utf8_lossy(&output.stderr));
    String::from_utf8(output.stdout).expect("the DOM is UTF-8")
}

/// The opening tags of `<rect>` elements whose class list has every one of `classes`.
fn rects_with<'dom>(dom: &'dom str, classes: &[&str]) -> Vec<&'dom str> {
    dom.match_indices("<rect ")
        .filter_map(|(start, _)| dom[start..].find('>').map(|end| &dom[start..start + end + 1]))
        .filter(|tag| {
            let class = attribute(tag, "class").unwrap_or_default();
            classes.iter().all(|wanted| class.split_whitespace().any(|name| name == *wanted))
        })
        .collect()
}

fn attribute<'tag>(tag: &'tag str, name: &str) -> Option<&'tag str> {
    let start = tag.find(&format!(" {name}=\""))? + name.len() + 3;
    let end = tag[start..].find('"')?;
    Some(&tag[start..start + end])
}

fn number(tag: &str, name: &str) -> f64 {
    attribute(tag, name).and_then(|value| value.parse().ok()).unwrap_or_else(|| panic!("no numeric {name} in {tag}"))
}

fn replsim(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_replsim")).args(args).output().expect("the replsim binary runs")
}

fn seed_7() -> Verdict {
    let case = Case::new(&Scenario::by_name("flushdb-race").unwrap(), ApplyMode::HashByKey, 7);
    run_case(&case, RunOptions { keep_trace: true, ..RunOptions::default() })
}

/// (FLUSHDB offset, write offset, write command) as the checker's diff explains seed 7: a write
/// survives a FLUSHDB.
fn survived_of(verdict: &Verdict) -> (u64, u64, String) {
    let Some(Violation::PrefixConsistency(PrefixViolation::Diverged { diff, .. })) = verdict.violations().first()
    else {
        panic!("seed 7 fails prefix consistency: {verdict}");
    };
    match diff.keys[0].explanation {
        Explanation::Survived { write, erasure } => {
            let entry = diff.cited.iter().find(|entry| entry.offset == write).expect("the diff cites the write");
            (erasure.0, write.0, entry.command.to_string())
        }
        ref other => panic!("seed 7's diff is a write surviving a FLUSHDB, not {other:?}"),
    }
}

#[test]
fn the_seed_7_report_shows_the_flushdb_and_the_write_it_overtook_highlighted_in_a_browser() {
    let directory = scratch("seed-7");
    let page = directory.join("seed-7.html");
    let page_path = page.to_str().expect("a UTF-8 scratch path");
    let replay = ["replay", "--scenario", "flushdb-race", "--mode", "hash-by-key", "--seed", "7", "--log", "off"];
    let output = replsim(&[&replay[..], &["--html", page_path]].concat());
    assert_eq!(output.status.code(), Some(1), "seed 7 fails: {}", String::from_utf8_lossy(&output.stderr));
    let (flushdb, write, write_command) = survived_of(&seed_7());

    let dom = rendered_dom(&page, "");
    assert!(dom.contains("data-rendered=\"yes\""), "the script ran and drew the timeline");
    // The FLUSHDB that ran first and the write it overtook: each one's client call, binlog append
    // and apply on the replica, drawn in the plot and highlighted.
    for (highlight, offset, command) in
        [("overtaker", flushdb, "FLUSHDB".to_string()), ("overtaken", write, write_command)]
    {
        for kind in ["op", "append", "apply"] {
            let drawn = rects_with(&dom, &[kind, highlight]);
            assert_eq!(drawn.len(), 1, "one {highlight} {kind} ({command}): {drawn:?}");
            assert!(attribute(drawn[0], "data-label").unwrap().contains(&command), "{command}: {}", drawn[0]);
            assert_eq!(attribute(drawn[0], "data-offset"), Some(offset.to_string().as_str()));
            assert!(number(drawn[0], "width") >= 2.0 && number(drawn[0], "x") >= 178.0, "in the plot: {}", drawn[0]);
        }
    }
    // On the replica the FLUSHDB finished before the write: the overtaking itself.
    let flushdb_apply = rects_with(&dom, &["apply", "overtaker"])[0];
    let write_apply = rects_with(&dom, &["apply", "overtaken"])[0];
    let end = |tag: &str| number(tag, "x") + number(tag, "width");
    assert!(end(flushdb_apply) < end(write_apply), "{flushdb_apply} finishes left of {write_apply}");
    // The diff beside it, and the sentence that names both.
    assert!(dom.contains(&format!("survives FLUSHDB at offset {flushdb}")), "the diff is shown");
    assert!(dom.contains(&format!("FLUSHDB at offset {flushdb} overtook SET")), "the overtaking is named");
}

#[test]
fn the_seed_7_timeline_has_every_apply_span_and_the_overtaking_from_the_checker() {
    let verdict = seed_7();
    let trace = verdict.trace.as_deref().unwrap();
    let timeline = timeline::build(&verdict, trace);
    let (flushdb, write, _) = survived_of(&verdict);
    let overtaking = timeline.overtaking.as_ref().expect("the trace shows the FLUSHDB finishing first");
    assert_eq!((overtaking.overtaker.offset, overtaking.overtaken.offset), (flushdb, write));
    assert_eq!(overtaking.overtaker.command, "FLUSHDB");
    assert!(overtaking.overtaker.applied < overtaking.overtaken.applied);

    let applies = trace.iter().filter(|line| matches!(line.event, Event::Applied { .. })).count();
    let apply_items: Vec<_> = timeline.items.iter().filter(|item| item.kind == "apply").collect();
    assert_eq!(apply_items.len(), applies, "one span per apply");
    assert!(apply_items
        .iter()
        .all(|item| item.start <= item.end && item.queued.is_none_or(|queued| queued <= item.start)));
    let operations = timeline.items.iter().filter(|item| timeline.lanes[item.lane].kind == "ops").count();
    assert_eq!(operations, verdict.stats.client_ops, "one interval per client operation");
    let violation = timeline.marks.iter().find(|mark| mark.kind == "violation").expect("the violation's moment");
    assert!(violation.at >= overtaking.overtaken.applied, "observed after the overtaking");
    let info = timeline.items.iter().filter(|item| item.kind == "info").count();
    assert!(info > 0, "the offsets INFO replication reported are drawn");
}

#[test]
fn a_passing_run_draws_no_overtaking_and_a_run_without_trace_is_refused() {
    let case = Case::new(&Scenario::by_name("flushdb-race").unwrap(), ApplyMode::Barrier, 7);
    let verdict = run_case(&case, RunOptions { keep_trace: true, ..RunOptions::default() });
    assert!(verdict.is_pass());
    let timeline = timeline::build(&verdict, verdict.trace.as_deref().unwrap());
    assert!(timeline.overtaking.is_none() && timeline.marks.iter().all(|mark| mark.kind != "violation"));
    assert!(timeline.items.iter().all(|item| item.flags == 0));
    assert!(timeline.items.iter().any(|item| item.kind == "barrier"), "barrier waits are drawn");

    let untraced = run_case(&case, RunOptions::default());
    assert!(matches!(html_report::render_html(&untraced), Err(html_report::ReportError::NoTrace)));
}

#[test]
fn faults_are_bands_and_link_resets_are_marks() {
    // Every fault kind is on for this scenario; find a seed with both kinds of fault.
    let scenario = Scenario::by_name("swarm-every-fault").unwrap();
    let verdict = (0..20)
        .map(|seed| {
            run_case(
                &Case::new(&scenario, ApplyMode::Barrier, seed),
                RunOptions { keep_trace: true, ..RunOptions::default() },
            )
        })
        .find(|verdict| {
            let trace = verdict.trace.as_deref().unwrap();
            let injected = |reset: bool| {
                trace.iter().any(|line| {
                    matches!(&line.event, Event::FaultInjected { fault }
                        if matches!(fault, replsim_sim::fault::Fault::ResetLink { .. }) == reset)
                })
            };
            injected(true) && injected(false)
        })
        .expect("a seed among 20 with a link reset and another fault");
    let trace = verdict.trace.as_deref().unwrap();
    let timeline = timeline::build(&verdict, trace);
    let held = trace.iter().filter(|line| matches!(&line.event, Event::FaultInjected { fault } if !matches!(fault, replsim_sim::fault::Fault::ResetLink { .. }))).count();
    assert_eq!(timeline.bands.len(), held, "one band per fault held for a while");
    assert!(timeline.bands.iter().all(|band| band.start <= band.end));
    assert!(timeline.marks.iter().any(|mark| mark.kind == "reset"));
}

/// A 2,000-operation run with faults: the page stays a few MB, and the browser draws a bounded
/// number of elements for the whole run, not one per event.
#[test]
fn a_2000_operation_report_stays_small_and_draws_a_bounded_number_of_elements() {
    let scenario = Scenario::by_name("flushdb-race").unwrap();
    let mut case = Case::new(&scenario, ApplyMode::HashByKey, 3);
    let profile =
        replsim_scenarios::generate::WorkloadProfile { ops_per_client: 500..=500, ..scenario.profile.clone() };
    case.workload =
        proptest::strategy::ValueTree::current(&replsim_scenarios::generate::generate(&profile.strategy(), 3));
    assert_eq!(case.workload.op_count(), 2000);
    let verdict = run_case(&case, RunOptions { keep_trace: true, ..RunOptions::default() });
    let html = html_report::render_html(&verdict).unwrap();
    let items = timeline::build(&verdict, verdict.trace.as_deref().unwrap()).items.len();
    assert!(items > 8_000, "a 2,000-op run has many items to draw: {items}");
    assert!(html.len() < 5_000_000, "the page is {} bytes", html.len());

    let page = scratch("2000-ops").join("report.html");
    std::fs::write(&page, &html).unwrap();
    for view in ["", "#whole"] {
        let dom = rendered_dom(&page, view);
        let drawn: usize = attribute(&dom[dom.find("<body").unwrap()..], "data-drawn").unwrap().parse().unwrap();
        assert!(drawn > 0 && drawn < 6_000, "view '{view}': {drawn} elements drawn for {items} items");
        let elements = dom.matches("<rect ").count() + dom.matches("<line ").count() + dom.matches("<text ").count();
        assert!(elements < 15_000, "view '{view}': {elements} SVG elements in the DOM");
        let render_ms = attribute(&dom[dom.find("<body").unwrap()..], "data-render-ms").unwrap_or("?");
        println!(
            "2,000-op report: {} bytes, {items} items; view '{view}': {drawn} drawn, {elements} SVG elements, frame {render_ms} ms",
            html.len()
        );
    }
}

#[test]
fn fuzz_writes_one_report_per_failing_run_named_by_scenario_mode_and_seed() {
    let directory = scratch("fuzz-out-dir").join("reports");
    let out_dir = directory.to_str().expect("a UTF-8 scratch path");
    let fuzz =
        ["fuzz", "--scenario", "flushdb-race", "--mode", "hash-by-key", "--seeds", "4", "--keep-going", "--json"];
    let output = replsim(&[&fuzz[..], &["--jobs", "1", "--out-dir", out_dir]].concat());
    assert_eq!(output.status.code(), Some(1));
    let summary: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let failing: Vec<u64> =
        summary["failing_seeds"].as_array().unwrap().iter().map(|seed| seed.as_u64().unwrap()).collect();
    assert!(!failing.is_empty());
    let mut written: Vec<String> =
        std::fs::read_dir(&directory).unwrap().map(|entry| entry.unwrap().file_name().into_string().unwrap()).collect();
    written.sort();
    let mut expected: Vec<String> =
        failing.iter().map(|seed| format!("flushdb-race-hash-by-key-seed-{seed}.html")).collect();
    expected.sort();
    assert_eq!(written, expected);
    let page = std::fs::read_to_string(directory.join(&expected[0])).unwrap();
    assert!(
        page.starts_with("<!DOCTYPE html>") && !page.contains("http://") && !page.contains("https://"),
        "self-contained"
    );
}

#[test]
fn an_unwritable_report_is_one_line_and_exit_2() {
    let output = replsim(&[
        "replay",
        "--mode",
        "hash-by-key",
        "--seed",
        "7",
        "--log",
        "off",
        "--html",
        "/nonexistent-directory/r.html",
    ]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert_eq!(stderr.trim_end().lines().count(), 1, "{stderr}");
    assert!(stderr.contains("cannot write report /nonexistent-directory/r.html"), "{stderr}");
}
