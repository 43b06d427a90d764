//! Writes one generated history of issue #12's shapes as replsim JSON lines, for `replsim check`
//! and for measuring it:
//!
//! ```sh
//! cargo run --release -p replsim-model --example generate_history -- 20000-ops 1 > h.jsonl
//! cargo run --release -p replsim-model --example generate_history -- 20000-ops 1 stale > bad.jsonl
//! cargo run --release -- check h.jsonl --model kv
//! ```
//!
//! Arguments: SHAPE SEED [VARIANT]. Shapes: the names of `HistoryShape::named`, plus
//! `back-to-back-flushdb-N` (one client's N FLUSHDBs in a row, then a conflict) and
//! `big-values-N` (SETs of N-byte values). Variants: `ok` (default, linearizable), `stale` (one
//! read of a value an earlier FLUSHDB erased), `never-written` (one read of a value nobody
//! wrote), `impossible-del` (a DEL counting a key in a database nothing writes).

use std::io::Write;

use replsim_model::history::jsonl;
use replsim_model::linearizability::generate::{
    back_to_back_flushdbs, flushdb_history, impossible_del_count, read_never_written, stale_read_after_flush,
    HistoryShape,
};

fn main() {
    let arguments: Vec<String> = std::env::args().skip(1).collect();
    let (Some(shape_name), Some(seed)) = (arguments.first(), arguments.get(1)) else {
        fail("usage: generate_history SHAPE SEED [ok|stale|never-written|impossible-del]")
    };
    let seed: u64 = seed.parse().unwrap_or_else(|_| fail(&format!("seed '{seed}' is not a number")));
    let variant = arguments.get(2).map_or("ok", String::as_str);
    let history = if let Some(count) = shape_name.strip_prefix("back-to-back-flushdb-") {
        let count = count.parse().unwrap_or_else(|_| fail(&format!("bad FLUSHDB count in '{shape_name}'")));
        back_to_back_flushdbs(count, variant != "ok")
    } else if let Some(bytes) = shape_name.strip_prefix("big-values-") {
        let value_bytes = bytes.parse().unwrap_or_else(|_| fail(&format!("bad value size in '{shape_name}'")));
        let shape = HistoryShape { ops_total: 60, clients: 20, keys: 2, value_bytes, ..HistoryShape::default() };
        flushdb_history(seed, &shape)
    } else {
        let shape = HistoryShape::named(shape_name).unwrap_or_else(|| {
            fail(&format!("unknown shape '{shape_name}' (known: {})", HistoryShape::NAMES.join(", ")))
        });
        flushdb_history(seed, &shape)
    };
    let history = match variant {
        "ok" => Some(history),
        "stale" if !shape_name.starts_with("back-to-back") => stale_read_after_flush(&history),
        "stale" => Some(history),
        "never-written" => read_never_written(&history),
        "impossible-del" => impossible_del_count(&history),
        other => fail(&format!("unknown variant '{other}'")),
    };
    let Some(history) = history else { fail("this history has no operation to mutate for that variant") };
    let mut stdout = std::io::stdout().lock();
    jsonl::write(&mut stdout, &history).unwrap_or_else(|error| fail(&format!("writing: {error}")));
    stdout.flush().unwrap_or_else(|error| fail(&format!("writing: {error}")));
}

fn fail(message: &str) -> ! {
    eprintln!("{message}");
    std::process::exit(2)
}
