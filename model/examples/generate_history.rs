//! Writes one generated history of issue #12's shapes as replsim JSON lines, for `replsim check`
//! and for measuring it:
//!
//! ```sh
//! cargo run --release -p replsim-model --example generate_history -- 20000-ops 1 > h.jsonl
//! cargo run --release -p replsim-model --example generate_history -- 20000-ops 1 stale > bad.jsonl
//! cargo run --release -- check h.jsonl --model kv
//! ```
//!
//! Arguments: SHAPE SEED [VARIANT]. Shapes: the names of `HistoryShape::named`, each also as
//! `NAME/CxN` (the shape with C clients and N operations instead of its own, to find where a
//! checker that depends on the clients answers: `bench-2000/50x2000` is `bench-2000`), plus
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
        flushdb_history(seed, &sized_shape(shape_name))
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

/// `NAME` or `NAME/CxN`: a named shape, with C clients and N operations when given.
fn sized_shape(text: &str) -> HistoryShape {
    let (name, size) = match text.split_once('/') {
        Some((name, size)) => (name, Some(size)),
        None => (text, None),
    };
    let shape = HistoryShape::named(name)
        .unwrap_or_else(|| fail(&format!("unknown shape '{name}' (known: {})", HistoryShape::NAMES.join(", "))));
    let Some(size) = size else { return shape };
    let bad = || -> ! { fail(&format!("'{size}' in '{text}' is not CLIENTSxOPS (e.g. 10x2000)")) };
    let (clients, ops) = size.split_once('x').unwrap_or_else(|| bad());
    let clients: usize = clients.parse().unwrap_or_else(|_| bad());
    let ops_total: usize = ops.parse().unwrap_or_else(|_| bad());
    if clients == 0 {
        fail("a history needs at least one client");
    }
    HistoryShape { clients, ops_total, ..shape }
}

fn fail(message: &str) -> ! {
    eprintln!("{message}");
    std::process::exit(2)
}
