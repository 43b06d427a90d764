//! Development aid: times the checker on generated FLUSHDB histories of growing size.
use replsim_model::linearizability::generate::{flushdb_history, HistoryShape};
use replsim_model::linearizability::{check_client_history, Options};

fn main() {
    for ops_total in [100, 200, 400, 800] {
        let shape = HistoryShape { ops_total, ..HistoryShape::benchmark() };
        let history = flushdb_history(1, &shape);
        let started = std::time::Instant::now();
        let options = Options { timeout: Some(std::time::Duration::from_secs(5)), ..Options::default() };
        let verdict = check_client_history(&history, &options);
        let flushes = history.iter().filter(|op| op.input.is_global()).count();
        println!(
            "{ops_total} ops {flushes} flushdb: {:?} {}",
            started.elapsed(),
            verdict.to_string().lines().next().unwrap_or("")
        );
    }
}
