//! Seeded generators of replsim key-value histories with concurrent FLUSHDBs, for tests and
//! benchmarks: a sequential execution, then real-time intervals drawn around each operation's
//! point. Linearizable by construction; [`stale_read_after_flush`] breaks one.
//!
//! ```
//! use replsim_model::linearizability::generate::{flushdb_history, HistoryShape};
//! use replsim_model::linearizability::{check_client_history, Options};
//! let shape = HistoryShape { ops_total: 200, clients: 10, keys: 5, flushdb_per_mille: 20, ..HistoryShape::default() };
//! let history = flushdb_history(7, &shape);
//! assert!(check_client_history(&history, &Options::default()).is_linearizable());
//! ```

use crate::check::SimTime;
use crate::command::{Command, Db, Response, Value};
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
    /// A FLUSHDB lasts up to this many time units (other operations up to 400): a long one
    /// overlaps many operations of other clients.
    pub flushdb_duration_max: u64,
    /// Operations per thousand whose answer never arrives (their client times out and goes on);
    /// half of them took effect, half did not.
    pub never_returned_per_mille: u32,
    /// DELs per thousand operations that name two keys.
    pub two_key_del_per_mille: u32,
    /// Bytes of each SET's value; 0 for short values (`v17`).
    pub value_bytes: usize,
}

impl Default for HistoryShape {
    fn default() -> HistoryShape {
        HistoryShape::benchmark()
    }
}

/// How long an operation other than a long FLUSHDB may last, in time units.
const OP_DURATION_MAX: u64 = 400;

impl HistoryShape {
    /// The benchmark shape of issue #3: 2,000 operations, 50 clients, concurrent FLUSHDBs.
    pub fn benchmark() -> HistoryShape {
        HistoryShape {
            ops_total: 2_000,
            clients: 50,
            keys: 20,
            flushdb_per_mille: 10,
            flushdb_duration_max: OP_DURATION_MAX,
            never_returned_per_mille: 0,
            two_key_del_per_mille: 0,
            value_bytes: 0,
        }
    }

    /// The shapes of issue #12, by name: each is a test or benchmark input and a
    /// `generate_history` example's argument.
    pub fn named(name: &str) -> Option<HistoryShape> {
        let base = HistoryShape::benchmark();
        let long_flushes = HistoryShape { flushdb_per_mille: 10, flushdb_duration_max: 20_000, ..base.clone() };
        Some(match name {
            "bench-2000" => base,
            // 2,000 ops, 50 clients, 20 keys, ~20 FLUSHDBs each overlapping hundreds of operations.
            "long-flushdb" => long_flushes,
            "long-flushdb-never-returned" => HistoryShape { never_returned_per_mille: 50, ..long_flushes },
            "long-flushdb-two-key-del" => HistoryShape { two_key_del_per_mille: 3, ..long_flushes },
            "long-flushdb-all" => HistoryShape {
                flushdb_per_mille: 15,
                never_returned_per_mille: 50,
                two_key_del_per_mille: 3,
                ..long_flushes
            },
            "5000-ops" => HistoryShape { ops_total: 5_000, clients: 100, flushdb_per_mille: 50, ..base },
            "20000-ops" => HistoryShape { ops_total: 20_000, clients: 100, flushdb_per_mille: 20, ..base },
            _ => return None,
        })
    }

    pub const NAMES: [&'static str; 7] = [
        "bench-2000",
        "long-flushdb",
        "long-flushdb-never-returned",
        "long-flushdb-two-key-del",
        "long-flushdb-all",
        "5000-ops",
        "20000-ops",
    ];
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
        let key = format!("k{}", random.below(shape.keys as u64));
        let input = match random.below(1000) {
            roll if roll < u64::from(shape.flushdb_per_mille) => Command::FlushDb { db: Db(0) },
            roll if roll < 500 => Command::get(Db(0), key),
            roll if roll < 900 => Command::set(Db(0), key, value_of(index, shape.value_bytes)),
            roll if roll < 900 + u64::from(shape.two_key_del_per_mille) => {
                let other = format!("k{}", random.below(shape.keys as u64));
                Command::del(Db(0), vec![key, other])
            }
            _ => Command::del(Db(0), vec![key]),
        };
        let duration_max = if input.is_global() { shape.flushdb_duration_max } else { OP_DURATION_MAX };
        let duration = 1 + random.below(duration_max);
        let returned = call + duration;
        client_free_at[client] = returned;
        let point = call + random.below(duration + 1);
        let never_returns = random.below(1000) < u64::from(shape.never_returned_per_mille);
        // An answer that never arrived: the operation took effect at its point, or never.
        if !never_returns || random.below(2) == 0 {
            points.push((point * 1000 + index as u64 % 1000, index));
        }
        history.push(Operation {
            client: client as u64,
            call: SimTime(call * 1000),
            returned: (!never_returns).then_some(SimTime(returned * 1000 + 999)),
            input,
            output: None,
        });
    }
    answer_in_point_order(&mut history, points);
    history
}

/// A distinct value per operation index, padded to `bytes` when that is longer.
fn value_of(index: usize, bytes: usize) -> String {
    let mut value = format!("v{index}");
    if value.len() < bytes {
        value.push('-');
        value.extend(std::iter::repeat_n('x', bytes - value.len()));
    }
    value
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
            if read.call <= returned(flush) || read.returned.is_none() {
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

/// Changes one answered GET, drawn with `random`, to read another value some SET wrote (or
/// nil): linearizable or not depending on the history, for cross-checking two checkers.
/// Unchanged if no GET was answered.
pub fn change_one_read(history: &mut [Operation<Command, Response>], random: &mut SplitMix) {
    let reads: Vec<usize> = (0..history.len())
        .filter(|&index| matches!(history[index].input, Command::Get { .. }) && history[index].output.is_some())
        .collect();
    if reads.is_empty() {
        return;
    }
    let written: Vec<Value> = history
        .iter()
        .filter_map(|op| match &op.input {
            Command::Set { value, .. } => Some(value.clone()),
            _ => None,
        })
        .collect();
    let read = reads[random.below(reads.len() as u64) as usize];
    let pick = random.below(written.len() as u64 + 1) as usize;
    history[read].output = Some(Response::Value(written.get(pick).cloned()));
}

/// Makes the last answered GET read a value no operation ever wrote: not linearizable, and
/// refutable without any search. `None` if no GET was answered.
pub fn read_never_written(history: &[Operation<Command, Response>]) -> Option<Vec<Operation<Command, Response>>> {
    let read_index = history.iter().rposition(|op| matches!(op.input, Command::Get { .. }) && op.output.is_some())?;
    let mut mutated = history.to_vec();
    mutated[read_index].output = Some(Response::Value(Some("never-written".into())));
    Some(mutated)
}

/// Moves the last answered single-key DEL to a database nothing writes, answering that it
/// deleted one key: impossible whatever the order. `None` if no DEL was answered.
pub fn impossible_del_count(history: &[Operation<Command, Response>]) -> Option<Vec<Operation<Command, Response>>> {
    let del_index = history.iter().rposition(|op| matches!(op.input, Command::Del { .. }) && op.output.is_some())?;
    let mut mutated = history.to_vec();
    let Command::Del { keys, .. } = &mutated[del_index].input else { unreachable!("found as a DEL") };
    mutated[del_index].input = Command::Del { db: Db(9), keys: keys.clone() };
    mutated[del_index].output = Some(Response::Count(1));
    Some(mutated)
}

/// One client issues `flushdb_count` FLUSHDBs back to back while two keys are written and read
/// around them. Linearizable: `a` is read before the flushes take effect and `b` after.
/// With `conflicting`, `a` reads nil (the first FLUSHDB went before that read) and then `b`
/// reads its value (the first FLUSHDB had not gone yet): each key alone is fine, together they
/// are not, and only the FLUSHDB placement search can tell.
///
/// ```text
/// client 1  |SET a 1| |SET b 1|
/// client 2                       |F|F|F|F|F|F|F|F|F|      (back to back)
/// client 3                        |GET a| |GET b|  ...
/// ```
pub fn back_to_back_flushdbs(flushdb_count: usize, conflicting: bool) -> Vec<Operation<Command, Response>> {
    let op = |client: u64, call: u64, returned: u64, input: Command, output: Response| Operation {
        client,
        call: SimTime(call),
        returned: Some(SimTime(returned)),
        input,
        output: Some(output),
    };
    let flushes_start = 100;
    let flushes_end = flushes_start + 10 * flushdb_count as u64;
    let mut history = vec![
        op(1, 0, 10, Command::set(Db(0), "a", "1"), Response::Ok),
        op(1, 20, 30, Command::set(Db(0), "b", "1"), Response::Ok),
    ];
    for flush in 0..flushdb_count as u64 {
        let call = flushes_start + 10 * flush;
        history.push(op(2, call, call + 9, Command::FlushDb { db: Db(0) }, Response::Ok));
    }
    let value = |text: &str| Response::Value(Some(text.into()));
    if conflicting {
        history.push(op(3, flushes_start + 1, flushes_start + 3, Command::get(Db(0), "a"), Response::Value(None)));
        history.push(op(3, flushes_start + 4, flushes_start + 6, Command::get(Db(0), "b"), value("1")));
    } else {
        history.push(op(3, flushes_start + 1, flushes_end - 1, Command::get(Db(0), "a"), value("1")));
        history.push(op(3, flushes_end, flushes_end + 5, Command::get(Db(0), "b"), Response::Value(None)));
    }
    history
}
