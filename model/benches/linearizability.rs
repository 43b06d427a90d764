//! `cargo bench -p replsim-model`: criterion benchmarks of the linearizability checker, in three
//! groups.
//!
//! - `corpus`: Porcupine's test data, read from `../shared/porcupine-data` beside the repository
//!   root: the 102 Jepsen etcd logs checked one after the other, and the kv histories `c50-ok`
//!   and `c50-bad`. The data must be there: a missing file fails the bench, it is never skipped.
//! - `flushdb-2000`: issue #3's generated histories (the `bench-2000` shape: 2,000 operations,
//!   50 clients, concurrent FLUSHDBs), seeds 1–3, each linearizable and with one stale read.
//! - `issue-12-shapes`: issue #12's other shapes at seed 1 (long FLUSHDBs, never-returned
//!   operations, two-key DELs, 5,000 and 20,000 operations), each linearizable and with one
//!   stale read; `20000-ops` with a read of a value nobody wrote and with an impossible DEL
//!   count; one client's FLUSHDBs back to back.
//!
//! A benchmark makes its input and runs a first check outside the timing, and only if the filter
//! selects it; every answer, the first and the timed ones, must be the verdict the input should
//! get, so a time is never that of a wrong or `unknown` answer. A wrong verdict fails the bench.
//! Two cases are reported as `NOT TIMED` instead of timed: an `unknown` where [`UNDECIDED_TODAY`]
//! still allows it, and a first check slower than half its timeout (criterion's ten samples would
//! take minutes, and a slower run could time out).
//!
//! ```text
//! cargo bench -p replsim-model                   # everything: about 4 minutes on 2 cores
//! cargo bench -p replsim-model -- issue-12       # one group (the filter is a regex on the id)
//! cargo bench -p replsim-model -- 20000-ops/     # one shape
//! cargo bench -p replsim-model -- --list         # the ids
//! ```
//!
//! Criterion prints each benchmark's time (a confidence interval around the mean) and the change
//! since the last run; its data go to `target/criterion/<group>/<benchmark>/`. At the end the
//! bench prints the process's peak resident memory.

use std::panic::{self, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use criterion::measurement::WallTime;
use criterion::{BenchmarkGroup, Criterion, SamplingMode};
use replsim_model::command::{Command, Response};
use replsim_model::history::{read_porcupine_kv_history, read_register_history, HistoryFormat, Operation};
use replsim_model::linearizability::generate::{
    back_to_back_flushdbs, flushdb_history, impossible_del_count, read_never_written, stale_read_after_flush,
    HistoryShape,
};
use replsim_model::linearizability::porcupine_kv::{KvInput, KvOutput, PorcupineKvModel};
use replsim_model::linearizability::register::{RegisterInput, RegisterModel, RegisterOutput};
use replsim_model::linearizability::{check, check_client_history, Options, Verdict};

type ClientHistory = Vec<Operation<Command, Response>>;
type RegisterHistory = Vec<Operation<RegisterInput, RegisterOutput>>;
type PorcupineKvHistory = Vec<Operation<KvInput, KvOutput>>;

/// Histories of up to 2,000 operations decide in well under a second.
const TIMEOUT_SMALL: Duration = Duration::from_secs(10);
/// Issue #12's shapes: the timeout the README's table uses.
const TIMEOUT_BIG: Duration = Duration::from_secs(20);

/// Shapes whose linearizable version may still end `unknown` after [`TIMEOUT_BIG`]: for them
/// linearizable or `unknown` are both accepted, and an `unknown` is reported and not timed; any
/// other answer fails. None today: `long-flushdb-two-key-del` was here until two-key DELs
/// stopped joining their keys' partitions. A shape that regresses to `unknown` at seed 1 fails
/// the bench rather than being added back silently.
const UNDECIDED_TODAY: [&str; 0] = [];

/// The seed of issue #12's shapes (the README's table is seed 1 too).
const SHAPE_SEED: u64 = 1;

fn main() {
    let mut criterion = Criterion::default().configure_from_args();
    bench_corpus(&mut criterion);
    bench_flushdb_2000(&mut criterion);
    bench_issue_12_shapes(&mut criterion);
    criterion.final_summary();
    // `--list` output is read by tools: only ids there.
    if !std::env::args().any(|arg| arg == "--list") {
        if let Some(peak) = peak_resident_mb() {
            println!("peak resident memory of the whole run: {peak:.0} MB");
        }
    }
}

fn bench_corpus(criterion: &mut Criterion) {
    let mut group = CheckedGroup::new(criterion, "corpus", TIMEOUT_SMALL);
    group.configure_milliseconds();
    let options = group.options();
    group.bench(
        "etcd-102-logs",
        load_etcd_logs,
        |logs| logs.iter().map(|log| check(&RegisterModel::with_cas(), &log.history, &options)).collect::<Vec<_>>(),
        |logs, verdicts| judge_etcd_logs(logs, verdicts),
    );
    for name in ["c50-ok", "c50-bad"] {
        group.bench(
            &format!("kv-{name}"),
            || load_kv_history(&format!("kv/{name}.txt")),
            |kv| check(&PorcupineKvModel, &kv.history, &options),
            |kv, verdict| kv.expected.judge(verdict),
        );
    }
}

/// Issue #3's benchmark shape, `bench-2000` in [`HistoryShape::NAMES`].
fn bench_flushdb_2000(criterion: &mut Criterion) {
    let mut group = CheckedGroup::new(criterion, "flushdb-2000", TIMEOUT_SMALL);
    group.configure_milliseconds();
    let options = group.options();
    for seed in 1..=3u64 {
        let linearizable = || flushdb_history(seed, &named_shape("bench-2000"));
        let check = |history: &ClientHistory| check_client_history(history, &options);
        group.bench(&format!("seed-{seed}/linearizable"), linearizable, check, expecting(Expected::Linearizable));
        group.bench(
            &format!("seed-{seed}/stale-read"),
            || with_stale_read(&linearizable(), "bench-2000"),
            check,
            expecting(Expected::NotLinearizable),
        );
    }
}

fn bench_issue_12_shapes(criterion: &mut Criterion) {
    let mut group = CheckedGroup::new(criterion, "issue-12-shapes", TIMEOUT_BIG);
    // One check takes up to seconds: criterion's minimum of ten samples, one or a few checks each.
    group
        .inner
        .sample_size(10)
        .sampling_mode(SamplingMode::Flat)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(8));
    let options = group.options();
    let check = |history: &ClientHistory| check_client_history(history, &options);
    // `bench-2000` is the `flushdb-2000` group's shape.
    for name in HistoryShape::NAMES.into_iter().filter(|name| *name != "bench-2000") {
        let linearizable = || flushdb_history(SHAPE_SEED, &named_shape(name));
        // A wrong verdict always fails; only `unknown` is tolerated, and only for these shapes.
        let expected =
            if UNDECIDED_TODAY.contains(&name) { Expected::LinearizableOrUnknown } else { Expected::Linearizable };
        group.bench(&format!("{name}/linearizable"), linearizable, check, expecting(expected));
        group.bench(
            &format!("{name}/stale-read"),
            || with_stale_read(&linearizable(), name),
            check,
            expecting(Expected::NotLinearizable),
        );
    }
    // The rest take milliseconds (the two 20000-ops variants are refuted before the search).
    group.inner.sample_size(20).sampling_mode(SamplingMode::Auto).measurement_time(Duration::from_secs(2));
    let large = || flushdb_history(SHAPE_SEED, &named_shape("20000-ops"));
    group.bench(
        "20000-ops/never-written-read",
        || read_never_written(&large()).expect("20000-ops answers some GET"),
        check,
        expecting(Expected::NotLinearizable),
    );
    group.bench(
        "20000-ops/impossible-del",
        || impossible_del_count(&large()).expect("20000-ops answers some DEL"),
        check,
        expecting(Expected::NotLinearizable),
    );
    group.bench(
        "back-to-back-flushdbs/30",
        || back_to_back_flushdbs(30, false),
        check,
        expecting(Expected::Linearizable),
    );
    group.bench(
        "back-to-back-flushdbs/9-conflicting",
        || back_to_back_flushdbs(9, true),
        check,
        expecting(Expected::NotLinearizable),
    );
}

/// A criterion group whose benchmarks check every answer they time.
struct CheckedGroup<'criterion> {
    inner: BenchmarkGroup<'criterion, WallTime>,
    name: &'static str,
    /// Each check's time limit ([`Options::timeout`]).
    timeout: Duration,
}

/// How an answer stands against what its input should get, when it is not wrong.
enum Judgement {
    AsExpected,
    /// `unknown` where that is still allowed ([`UNDECIDED_TODAY`]): the reason.
    AllowedUnknown(String),
}

/// The payload of the unwind that takes a benchmark out of criterion untimed, and why: criterion
/// has no way to skip a benchmark it has started, and timing an `unknown` would time the timeout
/// (ten samples of 20 s), not an answer. `resume_unwind` runs no panic hook: nothing is printed
/// for it but [`CheckedGroup::bench`]'s own line.
struct NotTimed(String);

impl<'criterion> CheckedGroup<'criterion> {
    fn new(criterion: &'criterion mut Criterion, name: &'static str, timeout: Duration) -> CheckedGroup<'criterion> {
        CheckedGroup { inner: criterion.benchmark_group(name), name, timeout }
    }

    fn options(&self) -> Options {
        Options { timeout: Some(self.timeout), ..Options::default() }
    }

    /// Checks of milliseconds: 20 samples in 3 s. Flat sampling (the same number of checks per
    /// sample) fits the 3 s, where criterion's default would warn and take longer.
    fn configure_milliseconds(&mut self) {
        self.inner
            .sample_size(20)
            .sampling_mode(SamplingMode::Flat)
            .warm_up_time(Duration::from_secs(1))
            .measurement_time(Duration::from_secs(3));
    }

    /// Benchmarks `check` on the input `make_input` makes, judging every answer. Criterion calls
    /// the closure below only for a benchmark the filter selects; its first call makes the input
    /// and runs a first check, neither timed. A wrong answer panics, which fails the whole bench;
    /// an allowed `unknown`, or a first check slower than half the timeout, leaves it untimed.
    fn bench<Input, Answer>(
        &mut self,
        benchmark: &str,
        make_input: impl FnOnce() -> Input,
        check: impl Fn(&Input) -> Answer,
        judge: impl Fn(&Input, &Answer) -> Result<Judgement, String>,
    ) {
        let (group, timeout) = (self.name, self.timeout);
        // What is wrong panics; an allowed `unknown` unwinds out of criterion, untimed.
        let accept = |judgement: Result<Judgement, String>, run: &str| match judgement {
            Ok(Judgement::AsExpected) => {}
            Ok(Judgement::AllowedUnknown(reason)) => panic::resume_unwind(Box::new(NotTimed(format!(
                "{run} answered unknown ({reason}), which UNDECIDED_TODAY allows for now"
            )))),
            Err(problem) => panic!("{group}/{benchmark}: {run}: {problem}"),
        };
        let mut make_input = Some(make_input);
        let mut input: Option<Input> = None;
        let registered = panic::catch_unwind(AssertUnwindSafe(|| {
            self.inner.bench_function(benchmark, |bencher| {
                if input.is_none() {
                    let made = make_input.take().expect("the input is made once")();
                    let started = Instant::now();
                    let answer = check(&made);
                    let elapsed = started.elapsed();
                    accept(judge(&made, &answer), "the first run");
                    if elapsed > timeout / 2 {
                        // Ten samples would take minutes, and a slower run could time out.
                        let why = format!("the first run took {elapsed:.1?}, over half its {timeout:?} timeout");
                        panic::resume_unwind(Box::new(NotTimed(why)));
                    }
                    input = Some(made);
                }
                let input = input.as_ref().expect("made on the first run");
                // Judging costs a match or two per check, and keeps a run that timed out under
                // load out of the statistics.
                bencher.iter(|| {
                    let answer = check(input);
                    accept(judge(input, &answer), "a timed run");
                    answer
                });
            });
        }));
        if let Err(payload) = registered {
            match payload.downcast::<NotTimed>() {
                Ok(not_timed) => {
                    println!("\n{group}/{benchmark}\n                        NOT TIMED: {}\n", not_timed.0)
                }
                Err(payload) => panic::resume_unwind(payload),
            }
        }
    }
}

/// What a history's check must answer.
#[derive(Clone, Copy, Debug)]
enum Expected {
    Linearizable,
    NotLinearizable,
    /// Linearizable, or `unknown` while the checker runs out of time on it ([`UNDECIDED_TODAY`]).
    LinearizableOrUnknown,
}

impl Expected {
    fn judge(self, verdict: &Verdict) -> Result<Judgement, String> {
        match (self, verdict) {
            (Expected::Linearizable | Expected::LinearizableOrUnknown, Verdict::Linearizable(_))
            | (Expected::NotLinearizable, Verdict::NotLinearizable(_)) => Ok(Judgement::AsExpected),
            (Expected::LinearizableOrUnknown, Verdict::Unknown(reason)) => {
                Ok(Judgement::AllowedUnknown(reason.clone()))
            }
            (expected, verdict) => Err(format!("expected {expected:?}, got {verdict}")),
        }
    }
}

fn expecting<Input>(expected: Expected) -> impl Fn(&Input, &Verdict) -> Result<Judgement, String> {
    move |_, verdict| expected.judge(verdict)
}

fn named_shape(name: &str) -> HistoryShape {
    HistoryShape::named(name).unwrap_or_else(|| panic!("{name} is not in HistoryShape::NAMES"))
}

fn with_stale_read(history: &[Operation<Command, Response>], shape: &str) -> ClientHistory {
    stale_read_after_flush(history)
        .unwrap_or_else(|| panic!("{shape}: no GET follows a FLUSHDB that erased a value written before it"))
}

/// A history of Porcupine's corpus with the verdict its MANIFEST.tsv records.
struct CorpusHistory<History> {
    file: String,
    history: History,
    expected: Expected,
}

/// The tested etcd logs of the corpus: all 103 but the empty `etcd_095.log`.
const ETCD_LOGS_TESTED: usize = 102;

fn load_etcd_logs() -> Vec<CorpusHistory<RegisterHistory>> {
    let listed = manifest_entries("jepsen/");
    assert_eq!(listed.len(), ETCD_LOGS_TESTED, "MANIFEST.tsv should list {ETCD_LOGS_TESTED} tested etcd logs");
    listed
        .into_iter()
        .map(|(file, expected)| {
            let bytes = read_corpus_file(&file);
            let history = read_register_history(&file, &bytes, HistoryFormat::Auto, true)
                .unwrap_or_else(|error| panic!("{file} is not an etcd log: {error}"));
            CorpusHistory { file, history, expected }
        })
        .collect()
}

fn load_kv_history(file: &str) -> CorpusHistory<PorcupineKvHistory> {
    let bytes = read_corpus_file(file);
    let history = read_porcupine_kv_history(file, &bytes, HistoryFormat::Auto)
        .unwrap_or_else(|error| panic!("{file} is not a Porcupine kv history: {error}"));
    CorpusHistory { file: file.to_string(), history, expected: manifest_expectation(file) }
}

fn judge_etcd_logs(logs: &[CorpusHistory<RegisterHistory>], verdicts: &[Verdict]) -> Result<Judgement, String> {
    assert_eq!(logs.len(), verdicts.len(), "one verdict per log");
    for (log, verdict) in logs.iter().zip(verdicts) {
        // The manifest expects a verdict, so `unknown` is an error here too.
        log.expected.judge(verdict).map_err(|problem| format!("{}: {problem}", log.file))?;
    }
    Ok(Judgement::AsExpected)
}

/// Porcupine's corpus: `shared/porcupine-data` beside the repository root (this crate's parent),
/// as the corpus tests read it.
fn corpus_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/porcupine-data")
}

fn read_corpus_file(file: &str) -> Vec<u8> {
    let path = corpus_dir().join(file);
    std::fs::read(&path).unwrap_or_else(|error| {
        panic!(
            "cannot read {}: {error}. The `corpus` benchmarks need Porcupine's test data in \
             shared/porcupine-data beside the repository; `-- flushdb-2000` and `-- issue-12` run without it.",
            path.display()
        )
    })
}

/// (file, expected verdict) for each tested file of MANIFEST.tsv whose path starts with `prefix`.
fn manifest_entries(prefix: &str) -> Vec<(String, Expected)> {
    let bytes = read_corpus_file("MANIFEST.tsv");
    let text = String::from_utf8(bytes).expect("MANIFEST.tsv is UTF-8");
    text.lines()
        .skip(1)
        .filter_map(|line| {
            let fields: Vec<&str> = line.split('\t').collect();
            let expected = match *fields.get(3)? {
                "linearizable" => Expected::Linearizable,
                "not-linearizable" => Expected::NotLinearizable,
                _ => return None, // the empty log, listed as not tested
            };
            fields[0].starts_with(prefix).then(|| (fields[0].to_string(), expected))
        })
        .collect()
}

fn manifest_expectation(file: &str) -> Expected {
    let entries = manifest_entries(file);
    let found = entries.into_iter().find(|(listed, _)| listed == file);
    found.map(|(_, expected)| expected).unwrap_or_else(|| panic!("MANIFEST.tsv gives no verdict for {file}"))
}

fn peak_resident_mb() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|line| line.starts_with("VmHWM:"))?;
    let kilobytes: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kilobytes / 1024.0)
}
