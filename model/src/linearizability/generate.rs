//! Seeded generators of replsim key-value histories with concurrent FLUSHDBs, for tests and
//! benchmarks: a sequential execution, then real-time intervals drawn around each operation's
//! point. Linearizable by construction; [`stale_read_after_flush`] breaks one.
//!
//! ```
//! use replsim_model::linearizability::generate::{flushdb_history, HistoryShape};
//! use replsim_model::linearizability::{check_client_history, Options};
//! let history = flushdb_history(7, &HistoryShape { ops_total: 200, clients: 10, keys: 5, flushdb_per_mille: 20 });
//! assert!(check_client_history(&history, &Options::default()).is_linearizable());
//! ```

use crate::check::SimTime;
use crate::command::{Command, Db, Response};
use crate::history::Operation;
use crate::store::Store;

/// What to generate.
#[derive(Clone, Debug)]
pub struct HistoryShape {
    pub ops_total: usize,
    pub clients: usize,
    pub keys: usize,
    /// FLUSHDBs per thousand operations.
    pub flushdb_per_mille: u32,
}

impl HistoryShape {
    /// The benchmark shape of issue #3: 2,000 operations, 50 clients, concurrent FLUSHDBs.
    pub fn benchmark() -> HistoryShape {
        HistoryShape { ops_total: 2_000, clients: 50, keys: 20, flushdb_per_mille: 10 }
    }
}

/// A small deterministic generator (splitmix64): the model crate takes no `rand` dependency.
pub struct SplitMix(u64);

impl SplitMix {
    pub fn new(seed: u64) -> SplitMix {
        SplitMix(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut mixed = self.0;
        mixed = (mixed ^ (mixed >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        mixed = (mixed ^ (mixed >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        mixed ^ (mixed >> 31)
    }

    /// Uniform in `0..bound` (`bound > 0`).
    pub fn below(&mut self, bound: u64) -> u64 {
        self.next_u64() % bound
    }
}

/// Each client runs its operations one after another; each operation takes effect at a random
/// point inside its interval, and the outputs come from executing the points in order.
pub fn flushdb_history(seed: u64, shape: &HistoryShape) -> Vec<Operation<Command, Response>> {
    assert!(shape.clients > 0 && shape.keys > 0, "a history needs clients and keys");
    let mut random = SplitMix::new(seed);
    let mut client_free_at = vec![0u64; shape.clients];
    // (point, history index)
    let mut points: Vec<(u64, usize)> = Vec::with_capacity(shape.ops_total);
    let mut history: Vec<Operation<Command, Response>> = Vec::with_capacity(shape.ops_total);
    for index in 0..shape.ops_total {
        let client = random.below(shape.clients as u64) as usize;
        let call = client_free_at[client] + 1 + random.below(50);
        let duration = 1 + random.below(400);
        let returned = call + duration;
        client_free_at[client] = returned;
        let point = call + random.below(duration + 1);
        let key = format!("k{}", random.below(shape.keys as u64));
        let input = match random.below(1000) {
            roll if roll < u64::from(shape.flushdb_per_mille) => Command::FlushDb { db: Db(0) },
            roll if roll < 500 => Command::get(Db(0), key),
            roll if roll < 900 => Command::set(Db(0), key, format!("v{index}")),
            // Single-key DELs: a multi-key DEL joins its keys into one partition, and a few
            // hundred of them would join every key (the small brute-force tests cover them).
            _ => Command::del(Db(0), vec![key]),
        };
        points.push((point * 1000 + index as u64 % 1000, index));
        history.push(Operation {
            client: client as u64,
            call: SimTime(call * 1000),
            returned: Some(SimTime(returned * 1000 + 999)),
            input,
            output: None,
        });
    }
    answer_in_point_order(&mut history, points);
    history
}

/// Gives each operation the answer it gets when the operations take effect in the order of their
/// `(point, index)` pairs — a sequential execution, so the history is linearizable by
/// construction. Operations without a return keep no answer; ones absent from `points` never
/// took effect.
pub fn answer_in_point_order(history: &mut [Operation<Command, Response>], mut points: Vec<(u64, usize)>) {
    points.sort_unstable();
    let mut store = Store::default();
    for (_, index) in points {
        let response = store.execute(&history[index].input);
        if history[index].returned.is_some() {
            history[index].output = Some(response);
        }
    }
}

/// Makes one GET read a value erased by a FLUSHDB that completed before the GET began, with no
/// later write of that value: not linearizable. `None` if the history has no such triple.
pub fn stale_read_after_flush(history: &[Operation<Command, Response>]) -> Option<Vec<Operation<Command, Response>>> {
    let returned = |op: &Operation<Command, Response>| op.returned.unwrap_or(SimTime(u64::MAX));
    for flush in history {
        if !matches!(flush.input, Command::FlushDb { .. }) {
            continue;
        }
        for (read_index, read) in history.iter().enumerate() {
            let Command::Get { key, .. } = &read.input else { continue };
            if read.call <= returned(flush) {
                continue;
            }
            let erased = history.iter().find(|write| {
                matches!(&write.input, Command::Set { key: written, .. } if written == key)
                    && returned(write) < flush.call
            });
            if let Some(Operation { input: Command::Set { value, .. }, .. }) = erased {
                let mut mutated = history.to_vec();
                mutated[read_index].output = Some(Response::Value(Some(value.clone())));
                return Some(mutated);
            }
        }
    }
    None
}
