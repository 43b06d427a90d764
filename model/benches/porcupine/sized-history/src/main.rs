//! Writes one of issue #12's shapes (`generate_history`'s names) with OPS operations and CLIENTS
//! clients instead of the shape's own, as replsim JSON lines; `stale` makes one read see a value
//! an earlier FLUSHDB erased. `sized-history bench-2000 2000 50 1` writes the same history as
//! `generate_history bench-2000 1`.
//!
//! ```sh
//! cargo run --release --manifest-path model/benches/porcupine/sized-history/Cargo.toml -- long-flushdb-all 1000 10 1 > h.jsonl
//! ```

use std::io::Write;

use replsim_model::history::jsonl;
use replsim_model::linearizability::generate::{flushdb_history, stale_read_after_flush, HistoryShape};

const USAGE: &str = "usage: sized-history SHAPE OPS CLIENTS SEED [ok|stale]";

fn main() {
    let arguments: Vec<String> = std::env::args().skip(1).collect();
    let number = |index: usize, name: &str| -> u64 {
        let text = arguments.get(index).unwrap_or_else(|| fail(USAGE));
        text.parse().unwrap_or_else(|_| fail(&format!("{name} '{text}' is not a number")))
    };
    let shape_name = arguments.first().unwrap_or_else(|| fail(USAGE));
    let named = HistoryShape::named(shape_name).unwrap_or_else(|| {
        fail(&format!("unknown shape '{shape_name}' (known: {})", HistoryShape::NAMES.join(", ")))
    });
    let shape =
        HistoryShape { ops_total: number(1, "OPS") as usize, clients: number(2, "CLIENTS").max(1) as usize, ..named };
    let history = flushdb_history(number(3, "SEED"), &shape);
    let history = match arguments.get(4).map_or("ok", String::as_str) {
        "ok" => history,
        "stale" => stale_read_after_flush(&history).unwrap_or_else(|| fail("no FLUSHDB with a read after it")),
        other => fail(&format!("unknown variant '{other}'")),
    };
    let mut stdout = std::io::stdout().lock();
    jsonl::write(&mut stdout, &history).unwrap_or_else(|error| fail(&format!("writing: {error}")));
    stdout.flush().unwrap_or_else(|error| fail(&format!("writing: {error}")));
}

fn fail(message: &str) -> ! {
    eprintln!("{message}");
    std::process::exit(2)
}
