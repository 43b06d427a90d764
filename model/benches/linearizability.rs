//! `cargo bench -p replsim-model`: the checker on Porcupine's corpus and on generated 2,000-op,
//! 50-client histories with concurrent FLUSHDBs. Prints the median of several runs (a plain
//! harness: the numbers are wall-clock medians, not criterion's statistics).

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use replsim_model::history::{read_porcupine_kv_history, read_register_history, HistoryFormat};
use replsim_model::linearizability::generate::{flushdb_history, stale_read_after_flush, HistoryShape};
use replsim_model::linearizability::porcupine_kv::PorcupineKvModel;
use replsim_model::linearizability::register::RegisterModel;
use replsim_model::linearizability::{check, check_client_history, Options, Verdict};

const RUNS: usize = 7;

fn median(mut run: impl FnMut() -> Verdict) -> (Duration, Verdict) {
    let mut times = Vec::with_capacity(RUNS);
    let mut verdict = None;
    for _ in 0..RUNS {
        let started = Instant::now();
        verdict = Some(run());
        times.push(started.elapsed());
    }
    times.sort();
    (times[RUNS / 2], verdict.expect("at least one run"))
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
