//! `cargo bench -p replsim-model`: the checker on Porcupine's corpus, on generated 2,000-op,
//! 50-client histories with concurrent FLUSHDBs, and on issue #12's shapes (long FLUSHDBs,
//! never-returned operations, two-key DELs, 5,000 and 20,000 operations, impossible answers).
//! Prints the median of several runs (a plain harness: the numbers are wall-clock medians, not
//! criterion's statistics).

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use replsim_model::history::{read_porcupine_kv_history, read_register_history, HistoryFormat};
use replsim_model::linearizability::generate::{
    back_to_back_flushdbs, flushdb_history, impossible_del_count, read_never_written, stale_read_after_flush,
    HistoryShape,
};
use replsim_model::linearizability::porcupine_kv::PorcupineKvModel;
use replsim_model::linearizability::register::RegisterModel;
use replsim_model::linearizability::{check, check_client_history, Options, Verdict};

const RUNS: usize = 7;
/// Issue #12's big shapes take seconds each: fewer runs, and a timeout so that one that is still
/// undecided reports `unknown` instead of holding the bench.
const RUNS_BIG: usize = 3;

fn median(run: impl FnMut() -> Verdict) -> (Duration, Verdict) {
    median_of(RUNS, run)
}

fn median_of(runs: usize, mut run: impl FnMut() -> Verdict) -> (Duration, Verdict) {
    let mut times = Vec::with_capacity(runs);
    let mut verdict = None;
    for _ in 0..runs {
        let started = Instant::now();
        verdict = Some(run());
        times.push(started.elapsed());
    }
    times.sort();
    (times[runs / 2], verdict.expect("at least one run"))
}

fn report(name: &str, (time, verdict): (Duration, Verdict)) {
    let answer = match verdict {
        Verdict::Linearizable(_) => "linearizable".to_string(),
        Verdict::NotLinearizable(_) => "not linearizable".to_string(),
        Verdict::Unknown(reason) => format!("unknown ({reason})"),
    };
    println!("{name:<40} {:>10.2} ms   {answer}", time.as_secs_f64() * 1e3);
}

fn peak_memory_mb() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|line| line.starts_with("VmHWM:"))?;
    let kilobytes: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kilobytes / 1024.0)
}

fn main() {
    // `cargo bench -p replsim-model -- c50` runs only the benchmarks whose name contains "c50"
    // (cargo passes `--bench` itself, hence the flag filter).
    let filter = std::env::args().skip(1).find(|arg| !arg.starts_with("--")).unwrap_or_default();
    let wanted = |name: &str| name.contains(filter.as_str());
    let options = Options::default();
    let corpus = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/porcupine-data");
    if corpus.join("MANIFEST.tsv").exists() {
        if wanted("etcd corpus") {
            bench_etcd_corpus(&corpus, &options);
        }
        for name in ["c50-ok", "c50-bad"] {
            let bench_name = format!("porcupine kv {name}");
            if wanted(&bench_name) {
                let file = format!("kv/{name}.txt");
                let bytes = std::fs::read(corpus.join(&file)).expect("readable history");
                let history = read_porcupine_kv_history(&file, &bytes, HistoryFormat::Auto).expect("well-formed");
                report(&bench_name, median(|| check(&PorcupineKvModel, &history, &options)));
            }
        }
    } else {
        println!("skipped the Porcupine corpus: not found at {}", corpus.display());
    }
    for seed in (1..=3u64).filter(|_| wanted("flushdb 2000 ops")) {
        let history = flushdb_history(seed, &HistoryShape::benchmark());
        let flushdbs = history.iter().filter(|op| op.input.is_global()).count();
        report(
            &format!("flushdb 2000 ops seed {seed} ({flushdbs} FLUSHDB) ok"),
            median(|| check_client_history(&history, &options)),
        );
        if let Some(mutated) = stale_read_after_flush(&history) {
            report(
                &format!("flushdb 2000 ops seed {seed} stale read"),
                median(|| check_client_history(&mutated, &options)),
            );
        }
    }
    bench_issue_12_shapes(&wanted);
    if let Some(peak) = peak_memory_mb() {
        println!("peak resident memory of the whole run: {peak:.0} MB");
    }
}

/// Every non-empty etcd log of the corpus, checked one after the other: the total time.
fn bench_etcd_corpus(corpus: &Path, options: &Options) {
    let mut logs = Vec::new();
    for index in 0..=102 {
        let file = format!("jepsen/etcd_{index:03}.log");
        let bytes = std::fs::read(corpus.join(&file)).expect("readable log");
        if !bytes.is_empty() {
            logs.push(read_register_history(&file, &bytes, HistoryFormat::Auto, true).expect("well-formed"));
        }
    }
    let mut decided = 0;
    let (total, _) = median(|| {
        decided = 0;
        let mut last = Verdict::Unknown("no logs".into());
        for log in &logs {
            last = check(&RegisterModel::with_cas(), log, options);
            decided += usize::from(!matches!(last, Verdict::Unknown(_)));
        }
        last
    });
    let name = format!("etcd corpus ({} logs, total)", logs.len());
    println!("{name:<40} {:>10.2} ms   {decided}/{} decided", total.as_secs_f64() * 1e3, logs.len());
}

/// Issue #12's shapes, seed 1, each linearizable and with one stale read; the big ones with
/// the impossible answers the check before the search refutes.
fn bench_issue_12_shapes(wanted: &dyn Fn(&str) -> bool) {
    let options = Options { timeout: Some(Duration::from_secs(20)), ..Options::default() };
    for name in HistoryShape::NAMES.iter().filter(|name| **name != "bench-2000") {
        let shape = HistoryShape::named(name).expect("a named shape");
        let history = flushdb_history(1, &shape);
        let bench_name = format!("{name} ok");
        if wanted(&bench_name) {
            report(&bench_name, median_of(RUNS_BIG, || check_client_history(&history, &options)));
        }
        let bench_name = format!("{name} stale read");
        if let Some(stale) = stale_read_after_flush(&history).filter(|_| wanted(&bench_name)) {
            report(&bench_name, median_of(RUNS_BIG, || check_client_history(&stale, &options)));
        }
        if *name == "20000-ops" {
            for (variant, mutated) in [
                ("never-written read", read_never_written(&history)),
                ("impossible DEL", impossible_del_count(&history)),
            ] {
                let bench_name = format!("{name} {variant}");
                if let Some(mutated) = mutated.filter(|_| wanted(&bench_name)) {
                    report(&bench_name, median(|| check_client_history(&mutated, &options)));
                }
            }
        }
    }
    for (count, conflicting) in [(30, false), (9, true)] {
        let bench_name = format!("{count} back-to-back FLUSHDBs conflicting={conflicting}");
        if wanted(&bench_name) {
            let history = back_to_back_flushdbs(count, conflicting);
            report(&bench_name, median(|| check_client_history(&history, &options)));
        }
    }
}
