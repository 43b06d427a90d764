//! One summary from the outputs of many fuzz shards: what `replsim merge` prints after a CI matrix
//! or a Kubernetes Indexed Job ran `replsim fuzz --shard I/N` on N machines.
//!
//! ```text
//! shard 1/3: fuzz --json > summary-1.json, --out failures-1.jsonl ─┐
//! shard 2/3: fuzz --json > summary-2.json, --out failures-2.jsonl ─┼─ replsim merge * ─► totals, seeds
//! shard 3/3: fuzz --json > summary-3.json, --out failures-3.jsonl ─┘   covered, failing seeds, repro
//!                                                                       lines, failure signatures
//! ```
//!
//! Each input is either a `fuzz --json` summary (one JSON object with `runs`) or a failures file
//! (`fuzz --out`: one JSON line per failing or unknown run; empty when nothing failed). Totals
//! and seed coverage come from the summaries; failing and unknown runs from both, counted once
//! each (a run is known by its repro line). The result of merging the shards of a seed-bounded
//! campaign equals the result of merging the unsharded run's own output, which the tests assert.

use std::collections::{BTreeMap, BTreeSet, BinaryHeap};
use std::fmt;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::input::{read_text, InputError, FUZZ_OUTPUT_BYTES_MAX};

/// A failing or unknown run as `fuzz` writes it: a line of the failures file, an element of a
/// summary's `failures` or `unknowns`. Fields merge does not need are left out.
#[derive(Clone, Debug, Deserialize, PartialEq)]
struct RunLine {
    outcome: RunOutcome,
    scenario: String,
    mode: String,
    bug: Option<String>,
    seed: u64,
    #[serde(default)]
    checks: Vec<String>,
    #[serde(default)]
    reason: Option<String>,
    repro: String,
}

#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq, PartialOrd, Ord)]
#[serde(rename_all = "lowercase")]
enum RunOutcome {
    Fail,
    Unknown,
}

/// The fields of a `fuzz --json` summary that merge reads.
#[derive(Clone, Debug, Deserialize, PartialEq)]
struct Summary {
    runs: u64,
    passed: u64,
    failed: u64,
    unknown: u64,
    ending: String,
    shard: String,
    seed_ranges: Vec<SeedProgression>,
    groups: Vec<SummaryGroup>,
    failures: Vec<RunLine>,
    unknowns: Vec<RunLine>,
}

/// Enough of a JSON text to tell a summary (an object with `runs`) from a failures file, parsed
/// without building the rest.
#[derive(Deserialize)]
struct Probe {
    runs: Option<serde::de::IgnoredAny>,
}

/// Seeds `first, first + step, …, last`, as a summary lists the seeds it ran.
#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq)]
struct SeedProgression {
    first: u64,
    last: u64,
    step: u64,
}

#[derive(Clone, Debug, Deserialize, PartialEq)]
struct SummaryGroup {
    scenario: String,
    mode: String,
    passed: u64,
    failed: u64,
    unknown: u64,
    first_failing_seed: Option<u64>,
}

#[derive(Debug, thiserror::Error)]
pub enum MergeError {
    #[error(transparent)]
    Input(#[from] InputError),
    #[error("{location}: {problem}")]
    Malformed { location: String, problem: String },
    #[error("{first} and {second} are the same summary: merging it twice would count its runs twice")]
    SameSummaryTwice { first: String, second: String },
    #[error("no input files (expected fuzz --json summaries and fuzz --out failures files)")]
    NoInputs,
}

/// Seeds the merge enumerates at most to compute the seeds covered (a fraction of a second).
const SEEDS_ENUMERATED_MAX: u64 = 50_000_000;

/// The merged summary. Serialised as `replsim merge --json` prints it.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct Merged {
    /// Where the result came from: the one part that differs between a sharded campaign and the
    /// same campaign run on one machine.
    pub sources: Sources,
    /// Runs counted by the summaries (`None` when only failures files were given).
    pub runs: Option<u64>,
    pub passed: Option<u64>,
    /// Distinct failing runs, from summaries and failures files.
    pub failed: u64,
    /// Distinct unknown runs.
    pub unknown: u64,
    /// Distinct seeds the summaries ran (`None` without summaries, or past the enumeration bound).
    pub seeds: Option<u64>,
    /// Those seeds as inclusive ranges of consecutive seeds.
    pub seed_ranges: Option<Vec<(u64, u64)>>,
    /// Per (scenario, mode), summed over the summaries, in the order the campaign ran them.
    pub groups: Vec<Group>,
    pub failing_seeds: Vec<u64>,
    pub unknown_seeds: Vec<u64>,
    /// Distinct kinds of failure and of unknown run, most frequent first.
    pub signatures: Vec<Signature>,
    /// Every distinct failing run, by seed.
    pub failures: Vec<Run>,
    pub unknowns: Vec<Run>,
}

#[derive(Clone, Debug, Default, Serialize, PartialEq, Eq)]
pub struct Sources {
    pub inputs: Vec<String>,
    pub summaries: usize,
    pub failures_files: usize,
    /// The shards of the summaries, sorted (`1/3`, `2/3`, `3/3`).
    pub shards: Vec<String>,
    /// How the summarised campaigns ended: `completed`, `stopped-at-first-failure`, `interrupted`.
    pub endings: BTreeMap<String, u64>,
}

#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct Group {
    pub scenario: String,
    pub mode: String,
    pub passed: u64,
    pub failed: u64,
    pub unknown: u64,
    pub first_failing_seed: Option<u64>,
}

/// A failing or unknown run: enough to find and reproduce it.
#[derive(Clone, Debug, Serialize, PartialEq, Eq, PartialOrd, Ord)]
pub struct Run {
    pub seed: u64,
    pub scenario: String,
    pub mode: String,
    pub bug: Option<String>,
    /// The checks that fired (a failure) or why there is no verdict (an unknown run).
    pub what: String,
    pub repro: String,
}

/// A kind of failure: the same checks firing in the same scenario, mode and planted bug (or, for
/// unknown runs, the same reason with its numbers left out).
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct Signature {
    pub signature: String,
    pub runs: u64,
    pub first_seed: u64,
    pub repro: String,
}

impl Merged {
    /// `replsim merge`'s exit code: 1 when a run failed, 3 when none failed but some ended
    /// unknown or a campaign did not complete, else 0 (as `replsim fuzz`).
    pub fn exit_code(&self) -> u8 {
        let incomplete = self.sources.endings.keys().any(|ending| ending != "completed");
        if self.failed > 0 {
            1
        } else if self.unknown > 0 || incomplete {
            3
        } else {
            0
        }
    }
}

/// Merges the fuzz outputs at `paths` (summaries and failures files, in any order), holding one
/// file's text at a time.
pub fn merge_files(paths: &[&Path]) -> Result<Merged, MergeError> {
    if paths.is_empty() {
        return Err(MergeError::NoInputs);
    }
    let mut merger = Merger::default();
    for path in paths {
        let text = read_text(path, FUZZ_OUTPUT_BYTES_MAX, "fuzz summary or failures file")?;
        merger.add(&path.display().to_string(), &text)?;
    }
    Ok(merger.finish())
}

/// Merges inputs given as (name, text).
pub fn merge_texts(inputs: &[(String, String)]) -> Result<Merged, MergeError> {
    if inputs.is_empty() {
        return Err(MergeError::NoInputs);
    }
    let mut merger = Merger::default();
    for (name, text) in inputs {
        merger.add(name, text)?;
    }
    Ok(merger.finish())
}

/// The inputs read so far. A summary's failing and unknown runs move to `runs`, so what is kept
/// per summary is its counts.
#[derive(Default)]
struct Merger {
    sources: Sources,
    summaries: Vec<(String, Summary)>,
    /// Every failing and unknown run, known by its outcome and repro line.
    runs: BTreeMap<(RunOutcome, String), RunLine>,
}

impl Merger {
    fn add(&mut self, name: &str, text: &str) -> Result<(), MergeError> {
        self.sources.inputs.push(name.to_string());
        let malformed = |location: String, problem: String| MergeError::Malformed { location, problem };
        // A summary is one JSON object with `runs`; anything else must be a failures file.
        if serde_json::from_str::<Probe>(text).is_ok_and(|probe| probe.runs.is_some()) {
            let mut summary: Summary = serde_json::from_str(text)
                .map_err(|error| malformed(name.to_string(), format!("not a fuzz --json summary: {error}")))?;
            check_summary(&summary).map_err(|problem| malformed(name.to_string(), problem))?;
            let lines = std::mem::take(&mut summary.failures).into_iter().chain(std::mem::take(&mut summary.unknowns));
            if let Some((first, _)) = self.summaries.iter().find(|(_, other)| *other == summary) {
                return Err(MergeError::SameSummaryTwice { first: first.clone(), second: name.to_string() });
            }
            self.add_runs(lines);
            self.sources.summaries += 1;
            self.sources.shards.push(summary.shard.clone());
            *self.sources.endings.entry(summary.ending.clone()).or_default() += 1;
            self.summaries.push((name.to_string(), summary));
            return Ok(());
        }
        let mut lines = Vec::new();
        for (index, line) in text.lines().enumerate().filter(|(_, line)| !line.trim().is_empty()) {
            let location = format!("{name}:{}", index + 1);
            let run: RunLine = serde_json::from_str(line).map_err(|error| {
                let problem = if error.classify() == serde_json::error::Category::Data {
                    "not a failing or unknown run as fuzz writes it"
                } else {
                    "neither a fuzz --json summary nor a failures-file line"
                };
                malformed(location, format!("{problem}: {error}"))
            })?;
            lines.push(run);
        }
        self.sources.failures_files += 1;
        self.add_runs(lines);
        Ok(())
    }

    fn add_runs(&mut self, lines: impl IntoIterator<Item = RunLine>) {
        for line in lines {
            self.runs.insert((line.outcome, line.repro.clone()), line);
        }
    }

    fn finish(self) -> Merged {
        let Merger { mut sources, summaries, runs } = self;
        sources.shards.sort_by_key(|shard| shard_order(shard));
        let with_summaries = !summaries.is_empty();
        let coverage = if with_summaries { seed_coverage(&summaries) } else { None };
        let (failures, unknowns): (Vec<&RunLine>, Vec<&RunLine>) =
            runs.values().partition(|line| line.outcome == RunOutcome::Fail);
        let to_runs = |lines: &[&RunLine]| {
            let mut runs: Vec<Run> = lines.iter().map(|line| run_of(line)).collect();
            runs.sort();
            runs
        };
        let (failures, unknowns) = (to_runs(&failures), to_runs(&unknowns));
        let seeds_of = |runs: &[Run]| runs.iter().map(|run| run.seed).collect::<BTreeSet<u64>>().into_iter().collect();
        Merged {
            sources,
            runs: with_summaries.then(|| summaries.iter().map(|(_, summary)| summary.runs).sum()),
            passed: with_summaries.then(|| summaries.iter().map(|(_, summary)| summary.passed).sum()),
            failed: failures.len() as u64,
            unknown: unknowns.len() as u64,
            seeds: coverage.as_ref().map(|ranges| ranges.iter().map(|(first, last)| last - first + 1).sum()),
            seed_ranges: coverage,
            groups: groups_of(&summaries),
            failing_seeds: seeds_of(&failures),
            unknown_seeds: seeds_of(&unknowns),
            signatures: signatures_of(&failures, &unknowns),
            failures,
            unknowns,
        }
    }
}

/// A summary whose numbers do not add up would make the merged totals wrong: refuse it.
fn check_summary(summary: &Summary) -> Result<(), String> {
    let counted = summary.passed.checked_add(summary.failed).and_then(|sum| sum.checked_add(summary.unknown));
    if counted != Some(summary.runs) {
        return Err(format!(
            "passed {} + failed {} + unknown {} is not runs {}",
            summary.passed, summary.failed, summary.unknown, summary.runs
        ));
    }
    if summary.failures.len() as u64 != summary.failed || summary.unknowns.len() as u64 != summary.unknown {
        return Err("the failures and unknowns listed do not match the counts".to_string());
    }
    let mut seeds_claimed: u64 = 0;
    for progression in &summary.seed_ranges {
        let SeedProgression { first, last, step } = *progression;
        if step == 0 || first > last || (last - first) % step != 0 {
            return Err(format!("seed range {first}..={last} step {step} is not a progression"));
        }
        seeds_claimed = seeds_claimed.saturating_add((last - first) / step + 1);
    }
    if seeds_claimed > summary.runs {
        return Err(format!("its seed ranges hold {seeds_claimed} seeds but it ran only {} runs", summary.runs));
    }
    Ok(())
}

/// `2/3` sorts before `10/3`; anything unparsable last.
fn shard_order(shard: &str) -> (u64, u64, String) {
    let number = |text: &str| text.parse::<u64>().unwrap_or(u64::MAX);
    match shard.split_once('/') {
        Some((index, count)) => (number(count), number(index), shard.to_string()),
        None => (u64::MAX, u64::MAX, shard.to_string()),
    }
}

/// The distinct seeds of every summary's progressions, as ranges of consecutive seeds: a k-way
/// merge of the progressions, so memory stays at one entry per progression. `None` past
/// [`SEEDS_ENUMERATED_MAX`] seeds.
fn seed_coverage(summaries: &[(String, Summary)]) -> Option<Vec<(u64, u64)>> {
    let progressions: Vec<SeedProgression> =
        summaries.iter().flat_map(|(_, summary)| summary.seed_ranges.iter().copied()).collect();
    let total: u64 = progressions
        .iter()
        .map(|progression| (progression.last - progression.first) / progression.step + 1)
        .fold(0, u64::saturating_add);
    if total > SEEDS_ENUMERATED_MAX {
        return None;
    }
    // Min-heap of (next seed, progression).
    let mut heap: BinaryHeap<std::cmp::Reverse<(u64, usize)>> = progressions
        .iter()
        .enumerate()
        .map(|(index, progression)| std::cmp::Reverse((progression.first, index)))
        .collect();
    let mut ranges: Vec<(u64, u64)> = Vec::new();
    while let Some(std::cmp::Reverse((seed, index))) = heap.pop() {
        match ranges.last_mut() {
            Some((_, last)) if seed <= *last => {}
            Some((_, last)) if seed == *last + 1 => *last = seed,
            _ => ranges.push((seed, seed)),
        }
        let progression = progressions[index];
        if seed < progression.last {
            heap.push(std::cmp::Reverse((seed + progression.step, index)));
        }
    }
    Some(ranges)
}

/// Groups summed over the summaries, in the order they first appear.
fn groups_of(summaries: &[(String, Summary)]) -> Vec<Group> {
    let mut groups: Vec<Group> = Vec::new();
    for group in summaries.iter().flat_map(|(_, summary)| &summary.groups) {
        let index = match groups.iter().position(|known| known.scenario == group.scenario && known.mode == group.mode) {
            Some(index) => index,
            None => {
                groups.push(Group {
                    scenario: group.scenario.clone(),
                    mode: group.mode.clone(),
                    passed: 0,
                    failed: 0,
                    unknown: 0,
                    first_failing_seed: None,
                });
                groups.len() - 1
            }
        };
        let merged = &mut groups[index];
        merged.passed += group.passed;
        merged.failed += group.failed;
        merged.unknown += group.unknown;
        merged.first_failing_seed = match (merged.first_failing_seed, group.first_failing_seed) {
            (Some(known), Some(seed)) => Some(known.min(seed)),
            (known, seed) => known.or(seed),
        };
    }
    groups
}

fn run_of(line: &RunLine) -> Run {
    let what = match line.outcome {
        RunOutcome::Fail => format!("[{}]", line.checks.join(", ")),
        RunOutcome::Unknown => format!("unknown: {}", line.reason.as_deref().unwrap_or("no reason given")),
    };
    Run {
        seed: line.seed,
        scenario: line.scenario.clone(),
        mode: line.mode.clone(),
        bug: line.bug.clone(),
        what,
        repro: line.repro.clone(),
    }
}

/// Runs grouped by kind: scenario, mode, bug and the checks that fired (an unknown run's reason
/// with its numbers replaced by `N`, so "phase 1 … t=30s" and "phase 2 … t=45s" are one kind).
fn signatures_of(failures: &[Run], unknowns: &[Run]) -> Vec<Signature> {
    let mut signatures: BTreeMap<String, Signature> = BTreeMap::new();
    for run in failures.iter().chain(unknowns) {
        let bug = run.bug.as_ref().map(|bug| format!(" bug={bug}")).unwrap_or_default();
        let signature = format!("{} {}{bug} {}", run.scenario, run.mode, without_numbers(&run.what));
        let entry = signatures.entry(signature.clone()).or_insert_with(|| Signature {
            signature,
            runs: 0,
            first_seed: run.seed,
            repro: run.repro.clone(),
        });
        entry.runs += 1;
        if run.seed < entry.first_seed {
            entry.first_seed = run.seed;
            entry.repro = run.repro.clone();
        }
    }
    let mut signatures: Vec<Signature> = signatures.into_values().collect();
    signatures.sort_by(|left, right| right.runs.cmp(&left.runs).then(left.signature.cmp(&right.signature)));
    signatures
}

fn without_numbers(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut in_number = false;
    for char in text.chars() {
        if char.is_ascii_digit() {
            if !in_number {
                out.push('N');
            }
            in_number = true;
        } else {
            in_number = false;
            out.push(char);
        }
    }
    out
}

/// How many failing runs the text form lists with their repro line; `--json` lists all.
const RUNS_LISTED_MAX: usize = 20;

impl fmt::Display for Merged {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sources = &self.sources;
        write!(formatter, "merged {} summaries and {} failures files", sources.summaries, sources.failures_files)?;
        if !sources.shards.is_empty() {
            write!(formatter, " (shards {})", sources.shards.join(", "))?;
        }
        writeln!(formatter)?;
        if let Some(ranges) = &self.seed_ranges {
            let ranges: Vec<String> = ranges
                .iter()
                .map(|(first, last)| if first == last { first.to_string() } else { format!("{first}..={last}") })
                .collect();
            writeln!(formatter, "seeds: {} ({})", self.seeds.unwrap_or(0), abbreviated(&ranges, 8))?;
        }
        if !self.groups.is_empty() {
            writeln!(
                formatter,
                "{:<18} {:<12} {:>8} {:>8} {:>8} {:>8}  first failing seed",
                "scenario", "mode", "runs", "pass", "fail", "unknown"
            )?;
            for group in &self.groups {
                let first = group.first_failing_seed.map_or("-".to_string(), |seed| seed.to_string());
                writeln!(
                    formatter,
                    "{:<18} {:<12} {:>8} {:>8} {:>8} {:>8}  {first}",
                    group.scenario,
                    group.mode,
                    group.passed + group.failed + group.unknown,
                    group.passed,
                    group.failed,
                    group.unknown
                )?;
            }
        }
        match (self.runs, self.passed) {
            (Some(runs), Some(passed)) => write!(formatter, "{runs} runs: {passed} passed, ")?,
            _ => write!(formatter, "no summaries, so no totals: ")?,
        }
        writeln!(formatter, "{} failed, {} unknown", self.failed, self.unknown)?;
        for (ending, count) in sources.endings.iter().filter(|(ending, _)| *ending != "completed") {
            writeln!(formatter, "{count} campaign(s) did not complete: {ending}")?;
        }
        if !self.signatures.is_empty() {
            writeln!(formatter, "failure signatures:")?;
            for signature in &self.signatures {
                writeln!(
                    formatter,
                    "  {:>6} × {}  (first seed {}: {})",
                    signature.runs, signature.signature, signature.first_seed, signature.repro
                )?;
            }
        }
        let seeds = |seeds: &[u64]| abbreviated(&seeds.iter().map(u64::to_string).collect::<Vec<_>>(), 50);
        if !self.failing_seeds.is_empty() {
            writeln!(formatter, "failing seeds: {}", seeds(&self.failing_seeds))?;
        }
        if !self.unknown_seeds.is_empty() {
            writeln!(formatter, "unknown seeds: {}", seeds(&self.unknown_seeds))?;
        }
        let listed: Vec<&Run> = self.failures.iter().chain(&self.unknowns).collect();
        if !listed.is_empty() {
            writeln!(formatter, "reproduce:")?;
            for run in listed.iter().take(RUNS_LISTED_MAX) {
                writeln!(formatter, "  {}  # {}", run.repro, run.what)?;
            }
            if listed.len() > RUNS_LISTED_MAX {
                writeln!(formatter, "  … and {} more (--json lists every one)", listed.len() - RUNS_LISTED_MAX)?;
            }
        }
        Ok(())
    }
}

fn abbreviated(items: &[String], shown_max: usize) -> String {
    if items.len() <= shown_max {
        items.join(", ")
    } else {
        format!("{}, … ({} more)", items[..shown_max].join(", "), items.len() - shown_max)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn failure_line(seed: u64) -> String {
        format!(
            r#"{{"outcome":"fail","scenario":"flushdb-race","mode":"hash-by-key","bug":null,"seed":{seed},"checks":["prefix-consistency"],"repro":"cargo run --release -- replay --scenario flushdb-race --mode hash-by-key --seed {seed}"}}"#
        )
    }

    fn summary(shard: &str, first: u64, last: u64, step: u64, failing: &[u64]) -> String {
        let runs = (last - first) / step + 1;
        let failures: Vec<String> = failing.iter().map(|seed| failure_line(*seed)).collect();
        format!(
            r#"{{"runs":{runs},"passed":{},"failed":{},"unknown":0,"ending":"completed","shard":"{shard}","seed_ranges":[{{"first":{first},"last":{last},"step":{step}}}],"groups":[{{"scenario":"flushdb-race","mode":"hash-by-key","passed":{},"failed":{},"unknown":0,"first_failing_seed":{}}}],"failures":[{}],"unknowns":[]}}"#,
            runs - failing.len() as u64,
            failing.len(),
            runs - failing.len() as u64,
            failing.len(),
            failing.iter().min().map_or("null".to_string(), u64::to_string),
            failures.join(",")
        )
    }

    fn named(texts: &[String]) -> Vec<(String, String)> {
        texts.iter().enumerate().map(|(index, text)| (format!("input-{index}"), text.clone())).collect()
    }

    #[test]
    fn shards_merge_to_the_unsharded_result() {
        let whole = merge_texts(&named(&[summary("1/1", 0, 8, 1, &[1, 5, 6])])).unwrap();
        let shards = merge_texts(&named(&[
            summary("2/3", 1, 7, 3, &[1]),
            summary("1/3", 0, 6, 3, &[6]),
            summary("3/3", 2, 8, 3, &[5]),
            failure_line(6),
            failure_line(5),
        ]))
        .unwrap();
        assert_eq!(shards.sources.shards, ["1/3", "2/3", "3/3"]);
        assert_eq!(Merged { sources: whole.sources.clone(), ..shards.clone() }, whole);
        assert_eq!(whole.seed_ranges, Some(vec![(0, 8)]));
        assert_eq!(whole.failing_seeds, [1, 5, 6]);
        assert_eq!(whole.signatures.len(), 1);
        assert_eq!(whole.signatures[0].runs, 3);
        assert_eq!(whole.exit_code(), 1);
    }

    #[test]
    fn failures_files_alone_give_failures_without_totals() {
        let merged = merge_texts(&named(&[failure_line(3), String::new()])).unwrap();
        assert_eq!((merged.runs, merged.failed, merged.sources.failures_files), (None, 1, 2));
        let empty = merge_texts(&named(&[String::new()])).unwrap();
        assert_eq!(empty.exit_code(), 0);
    }

    #[test]
    fn malformed_inputs_are_named_with_their_line() {
        let error = merge_texts(&named(&[format!("{}\nnot json", failure_line(1))])).unwrap_err();
        assert!(error.to_string().starts_with("input-0:2: neither a fuzz --json summary"), "{error}");
        let error = merge_texts(&named(&[r#"{"outcome":"pass","seed":1}"#.to_string()])).unwrap_err();
        assert!(error.to_string().contains("input-0:1: not a failing or unknown run"), "{error}");
        let inconsistent = summary("1/1", 0, 3, 1, &[]).replace(r#""passed":4"#, r#""passed":3"#);
        let error = merge_texts(&named(&[inconsistent])).unwrap_err();
        assert!(error.to_string().contains("is not runs 4"), "{error}");
        let twice = summary("1/2", 0, 4, 2, &[]);
        let error = merge_texts(&named(&[twice.clone(), twice])).unwrap_err();
        assert!(matches!(error, MergeError::SameSummaryTwice { .. }), "{error}");
    }

    #[test]
    fn unknown_reasons_differing_only_in_numbers_are_one_signature() {
        assert_eq!(without_numbers("phase 12 at t=30s"), "phase N at t=Ns");
    }
}
