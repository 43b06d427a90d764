//! A necessary condition for one partition under given positions, checked in O(n log n) before
//! its search: every observation needs a source that real time lets it see.
//!
//! ```text
//! SET a 1   |--|                                 the source of the read's 1 ...
//! FLUSHDB         |--|                           ... is cut off by a FLUSHDB wholly between
//! GET a -> 1            |--|                     them: no linearization lets it read 1
//! ```
//!
//! For an operation `R` that observes a key (a read of a value, a read of nil, a DEL that
//! found or did not find its key): in any linearization, let `S` be the last operation before
//! `R` that put the key in the observed condition (a write of the value, a clear, or the initial
//! state for nil). Nothing between `S` and `R` in the linearization undoes it; and an operation
//! called after `S` returned and returning before `R` was called lies between them in every
//! linearization. So some candidate `S` called before `R` returned has no such "killer" wholly
//! between it and `R`. The candidate that returned last has the fewest killers after it, so it
//! alone is tested. Passing proves nothing; failing refutes the partition under these positions
//! with the operations named, where the search would have to explore every order first (on
//! `20000-ops`, most partitions that fail under a narrowed FLUSHDB fail this way).

use super::search::Stuck;

/// What an operation needs of one key before it and leaves in it after: see
/// [`Model::effect_on_key`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeyEffect {
    /// Touches the key in a way the test does not follow: the test is skipped for that key.
    Unknown,
    /// Neither needs nor changes anything of the key.
    Nothing,
    /// Needs the key absent (a read of nil, a DEL that deleted nothing) and leaves it absent.
    ObservesAbsent,
    /// Needs the key present with any value (a DEL that deleted it), and clears it.
    ObservesPresentThenClears,
    /// Needs the key holding the value with this hash (a read), and leaves it.
    ObservesValue(u64),
    /// Clears the key whatever it held (FLUSHDB, a DEL without an answer).
    Clears,
    /// Writes the value with this hash.
    Writes(u64),
}

/// Operations ordered by call with the least return from each on: "does one of them lie
/// wholly inside (after, before)?" in O(log n).
struct ByCall {
    /// Ascending.
    calls: Vec<u64>,
    /// `least_return_from[i]`: the least return (and its op) among the operations from the
    /// `i`-th by call on.
    least_return_from: Vec<(u64, usize)>,
}

impl ByCall {
    /// `ops`: (call, return, local index), sorted.
    fn new(ops: &[(u64, u64, usize)]) -> ByCall {
        let mut least_return_from = vec![(u64::MAX, usize::MAX); ops.len() + 1];
        for index in (0..ops.len()).rev() {
            least_return_from[index] = least_return_from[index + 1].min((ops[index].1, ops[index].2));
        }
        ByCall { calls: ops.iter().map(|&(call, _, _)| call).collect(), least_return_from }
    }

    /// The least (return, op) among the operations called after `after` (`None`: all);
    /// `(u64::MAX, usize::MAX)` if there are none.
    fn least_return_after(&self, after: Option<u64>) -> (u64, usize) {
        let from = match after {
            Some(after) => self.calls.partition_point(|&call| call <= after),
            None => 0,
        };
        self.least_return_from[from]
    }
}

const NONE: (u64, usize) = (0, usize::MAX);

/// The two latest (return, op), as a running best over operations taken one at a time.
fn with_latest(mut two: [(u64, usize); 2], returned: u64, op: usize) -> [(u64, usize); 2] {
    if two[0].1 == usize::MAX || (returned, op) > two[0] {
        two = [(returned, op), two[0]];
    } else if two[1].1 == usize::MAX || (returned, op) > two[1] {
        two[1] = (returned, op);
    }
    two
}

/// Of `two`, the one other than `observer` that returned last.
fn latest_but(two: [(u64, usize); 2], observer: usize) -> Option<(u64, usize)> {
    two.into_iter().find(|&(_, op)| op != usize::MAX && op != observer)
}

/// Candidates with the latest return among those called before a point, excluding the
/// observer itself: the two latest per prefix of calls.
struct LatestReturn {
    /// Ascending.
    calls: Vec<u64>,
    /// `best[i]`: the two latest (return, op) among the first `i` candidates by call.
    best: Vec<[(u64, usize); 2]>,
}

impl LatestReturn {
    /// `candidates`: (call, return, local index), sorted.
    fn new(candidates: &[(u64, u64, usize)]) -> LatestReturn {
        let mut best = Vec::with_capacity(candidates.len() + 1);
        best.push([NONE, NONE]);
        for &(_, returned, op) in candidates {
            best.push(with_latest(*best.last().expect("pushed above"), returned, op));
        }
        LatestReturn { calls: candidates.iter().map(|&(call, _, _)| call).collect(), best }
    }

    /// The candidate other than `observer` called before `before` that returned last.
    fn latest_called_before(&self, before: u64, observer: usize) -> Option<(u64, usize)> {
        let count = self.calls.partition_point(|&call| call < before);
        latest_but(self.best[count], observer)
    }
}

/// [`LatestReturn`] per written value, in one sorted table (no allocation per value).
struct LatestReturnOfValue {
    /// (value, call), ascending.
    keys: Vec<(u64, u64)>,
    /// `best[i]`: the two latest (return, op) among the writers of `keys[i]`'s value up to the
    /// `i`-th.
    best: Vec<[(u64, usize); 2]>,
}

impl LatestReturnOfValue {
    /// `writers`: (value, call, return, local index).
    fn new(mut writers: Vec<(u64, u64, u64, usize)>) -> LatestReturnOfValue {
        writers.sort_unstable();
        let mut best: Vec<[(u64, usize); 2]> = Vec::with_capacity(writers.len());
        for (index, &(value, _, returned, op)) in writers.iter().enumerate() {
            let before = match index.checked_sub(1) {
                Some(previous) if writers[previous].0 == value => best[previous],
                _ => [NONE, NONE],
            };
            best.push(with_latest(before, returned, op));
        }
        LatestReturnOfValue { keys: writers.iter().map(|&(value, call, _, _)| (value, call)).collect(), best }
    }

    /// The writer of `value` other than `observer` called before `before` that returned last.
    fn latest_called_before(&self, value: u64, before: u64, observer: usize) -> Option<(u64, usize)> {
        let start = self.keys.partition_point(|&key| key < (value, 0));
        let end = self.keys.partition_point(|&key| key < (value, before));
        (end > start).then(|| latest_but(self.best[end - 1], observer)).flatten()
    }
}

/// The test's tables over some of one key's operations: operation `first + i` lies at
/// `positions[i]` and has `effects[i]` on the key.
struct Tables {
    writers_by_call: ByCall,
    clears_by_call: ByCall,
    latest_clear: LatestReturn,
    latest_writer: LatestReturn,
    latest_of_value: LatestReturnOfValue,
}

impl Tables {
    fn new(first: usize, positions: &[(u64, u64)], effects: &[KeyEffect]) -> Tables {
        let interval = |index: usize| (positions[index].0, positions[index].1, first + index);
        let mut writers: Vec<(u64, u64, usize)> = (0..positions.len())
            .filter(|&index| matches!(effects[index], KeyEffect::Writes(_)))
            .map(interval)
            .collect();
        let mut clears: Vec<(u64, u64, usize)> = (0..positions.len())
            .filter(|&index| {
                matches!(
                    effects[index],
                    KeyEffect::Clears | KeyEffect::ObservesAbsent | KeyEffect::ObservesPresentThenClears
                )
            })
            .map(interval)
            .collect();
        writers.sort_unstable();
        clears.sort_unstable();
        let latest_of_value = LatestReturnOfValue::new(
            writers
                .iter()
                .map(|&(call, returned, op)| {
                    let KeyEffect::Writes(value) = effects[op - first] else { unreachable!("a writer") };
                    (value, call, returned, op)
                })
                .collect(),
        );
        Tables {
            writers_by_call: ByCall::new(&writers),
            clears_by_call: ByCall::new(&clears),
            latest_clear: LatestReturn::new(&clears),
            latest_writer: LatestReturn::new(&writers),
            latest_of_value,
        }
    }
}

/// Which of a [`Tables`]' operations undo an observation's source.
type Killers = fn(&Tables) -> &ByCall;

/// The interval test for one key of a partition, its keyed operations' tables built once:
/// they lie where they lie whatever the domains of the global operations, which are added at
/// each test (building every table anew for each test was a fifth of a check's time on
/// `long-flushdb` seed 19).
pub(crate) struct KeyTest {
    /// The keyed operations' (call, return) positions and effects: local indices from 0.
    positions: Vec<(u64, u64)>,
    effects: Vec<KeyEffect>,
    tables: Tables,
}

impl KeyTest {
    pub(crate) fn new(positions: Vec<(u64, u64)>, effects: Vec<KeyEffect>) -> KeyTest {
        let tables = Tables::new(0, &positions, &effects);
        KeyTest { positions, effects, tables }
    }

    /// Refutes the key with the global operations (local indices from the keyed operations'
    /// count on) at `global_positions` with `global_effects`: `None` when every observation has
    /// a source (which proves nothing). The `seen_through` of a refutation is the observer's
    /// return: every operation it used was called before it.
    pub(crate) fn refute(&self, global_positions: &[(u64, u64)], global_effects: &[KeyEffect]) -> Option<Stuck> {
        if self.effects.contains(&KeyEffect::Unknown) || global_effects.contains(&KeyEffect::Unknown) {
            return None;
        }
        let first_global = self.positions.len();
        let globals = Tables::new(first_global, global_positions, global_effects);
        let both = [&self.tables, &globals];
        // Queries over the union of both tables: the latest of each's latest, the least of
        // each's least.
        let latest_clear = |before, observer| {
            both.iter().map(|tables| tables.latest_clear.latest_called_before(before, observer)).max()
        };
        let latest_writer = |before, observer| {
            both.iter().map(|tables| tables.latest_writer.latest_called_before(before, observer)).max()
        };
        let latest_of_value = |value, before, observer| {
            both.iter().map(|tables| tables.latest_of_value.latest_called_before(value, before, observer)).max()
        };
        let positions = self.positions.iter().chain(global_positions);
        let effects = self.effects.iter().chain(global_effects);
        for (observer, (&(call, returned), effect)) in positions.zip(effects).enumerate() {
            // The source that returned last (`None` for nil: the initial state, before everything)
            // and the operations that undo what it left.
            let (source, killers): (Option<(u64, usize)>, &[Killers]) = match *effect {
                KeyEffect::ObservesAbsent => {
                    (latest_clear(returned, observer).flatten(), &[|tables| &tables.writers_by_call])
                }
                KeyEffect::ObservesPresentThenClears => match latest_writer(returned, observer).flatten() {
                    Some(source) => (Some(source), &[|tables| &tables.clears_by_call]),
                    None => return Some(stuck(observer, &[], returned)),
                },
                KeyEffect::ObservesValue(value) => match latest_of_value(value, returned, observer).flatten() {
                    Some(source) => {
                        (Some(source), &[|tables| &tables.writers_by_call, |tables| &tables.clears_by_call])
                    }
                    None => return Some(stuck(observer, &[], returned)),
                },
                _ => continue,
            };
            let after = source.map(|(source_return, _)| source_return);
            for killers in killers {
                let (least_return, killer) =
                    both.iter().map(|tables| killers(tables).least_return_after(after)).min().expect("two tables");
                if least_return < call {
                    let source_op = source.map(|(_, op)| op);
                    return Some(stuck(
                        observer,
                        &[Some(killer), source_op].into_iter().flatten().collect::<Vec<_>>(),
                        returned,
                    ));
                }
            }
        }
        None
    }
}

/// Refutes one key of a partition: operation `i` lies at `positions[i]` (call, return) and has
/// `effects[i]` on the key. See [`KeyTest::refute`].
#[cfg(test)]
fn refute_key(positions: &[(u64, u64)], effects: &[KeyEffect]) -> Option<Stuck> {
    KeyTest::new(positions.to_vec(), effects.to_vec()).refute(&[], &[])
}

/// The evidence: the observer blocked, with the operations that explain it.
fn stuck(observer: usize, related: &[usize], seen_through: u64) -> Stuck {
    let mut pending = vec![observer];
    pending.extend_from_slice(related);
    pending.sort_unstable();
    pending.dedup();
    Stuck {
        longest_prefix: Vec::new(),
        blocked: observer,
        pending,
        seen_through,
        depends_through: u64::MAX,
        stranding_dropped: false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::SimTime;
    use crate::command::{Command, Db, Response, Value};
    use crate::history::Operation;
    use crate::linearizability::brute_force::check_brute_force;
    use crate::linearizability::generate::SplitMix;
    use crate::linearizability::kv::KvModel;
    use crate::linearizability::Model;

    type Op = Operation<Command, Response>;

    fn op(call: u64, returned: u64, input: Command, output: Response) -> Op {
        Operation { client: 0, call: SimTime(call), returned: Some(SimTime(returned)), input, output: Some(output) }
    }

    fn key() -> (Db, String) {
        (Db(0), "a".to_string())
    }

    /// The interval test on a one-key history, times as positions.
    fn refute(history: &[Op]) -> Option<Stuck> {
        let positions: Vec<(u64, u64)> =
            history.iter().map(|op| (op.call.0, op.returned.map_or(u64::MAX, |time| time.0))).collect();
        let effects: Vec<KeyEffect> =
            history.iter().map(|op| KvModel.effect_on_key(&op.input, op.output.as_ref(), &key())).collect();
        refute_key(&positions, &effects)
    }

    fn set(value: &str) -> Command {
        Command::set(Db(0), "a", value)
    }

    fn get() -> Command {
        Command::get(Db(0), "a")
    }

    fn read(value: Option<&str>) -> Response {
        Response::Value(value.map(Value::from))
    }

    #[test]
    fn a_read_cut_off_from_its_write_by_a_flushdb_wholly_between_them_is_refuted() {
        let history = vec![
            op(1, 2, set("1"), Response::Ok),
            op(3, 4, Command::FlushDb { db: Db(0) }, Response::Ok),
            op(5, 6, get(), read(Some("1"))),
        ];
        let stuck = refute(&history).expect("refuted");
        assert_eq!((stuck.blocked, stuck.pending.clone(), stuck.seen_through), (2, vec![0, 1, 2], 6));
        assert_eq!(check_brute_force(&KvModel, &history, 1_000), Some(false));
    }

    #[test]
    fn a_flushdb_that_may_come_after_the_read_does_not_refute_it() {
        let history = vec![
            op(1, 2, set("1"), Response::Ok),
            op(3, 6, Command::FlushDb { db: Db(0) }, Response::Ok),
            op(5, 7, get(), read(Some("1"))),
        ];
        assert_eq!(refute(&history), None);
        assert_eq!(check_brute_force(&KvModel, &history, 1_000), Some(true));
    }

    #[test]
    fn nil_after_a_completed_write_with_no_clear_and_a_deletion_of_nothing_written_are_refuted() {
        let nil_after_write = vec![op(1, 2, set("1"), Response::Ok), op(3, 4, get(), read(None))];
        assert_eq!(refute(&nil_after_write).map(|stuck| stuck.blocked), Some(1));
        let deleted_unwritten = vec![op(1, 2, Command::del(Db(0), ["a"]), Response::Count(1))];
        assert_eq!(refute(&deleted_unwritten).map(|stuck| stuck.blocked), Some(0));
        let written_later = vec![op(1, 2, get(), read(Some("1"))), op(3, 4, set("1"), Response::Ok)];
        assert_eq!(refute(&written_later).map(|stuck| stuck.blocked), Some(0));
        // A write still running when the read returned may come after it.
        let concurrent = vec![op(1, 10, set("1"), Response::Ok), op(2, 3, get(), read(None))];
        assert_eq!(refute(&concurrent), None);
        // A DEL that deleted nothing is not its own source of nil.
        let own_source =
            vec![op(1, 2, set("1"), Response::Ok), op(3, 4, Command::del(Db(0), ["a"]), Response::Count(0))];
        assert_eq!(refute(&own_source).map(|stuck| stuck.blocked), Some(1));
    }

    #[test]
    fn a_whole_del_of_several_keys_skips_the_test() {
        let history = vec![
            op(1, 2, set("1"), Response::Ok),
            op(3, 4, Command::del(Db(0), ["a", "b"]), Response::Count(2)),
            op(5, 6, get(), read(None)),
        ];
        assert_eq!(refute(&history), None);
    }

    /// Random one-key histories: whatever the test refutes, the brute force finds not
    /// linearizable; and it refutes a good share of those.
    #[test]
    fn whatever_the_test_refutes_has_no_linearization() {
        let mut random = SplitMix::new(0x1D7E);
        let (mut refuted, mut not_linearizable) = (0, 0);
        for _ in 0..3_000 {
            let count = 2 + random.below(6) as usize;
            // Distinct times: a shuffled 1..=2 * count, each op taking the next two as call, return.
            let mut times: Vec<u64> = (1..=2 * count as u64).collect();
            for index in (1..times.len()).rev() {
                times.swap(index, random.below(index as u64 + 1) as usize);
            }
            let history: Vec<Op> = (0..count)
                .map(|index| {
                    let (a, b) = (times[2 * index], times[2 * index + 1]);
                    let (call, returned) = (a.min(b), a.max(b));
                    let value = format!("{}", random.below(3));
                    let (input, output) = match random.below(5) {
                        0 | 1 => (set(&value), Response::Ok),
                        2 => (get(), read(Some(&value))),
                        3 => (get(), read(None)),
                        _ if random.below(2) == 0 => (Command::del(Db(0), ["a"]), Response::Count(random.below(2))),
                        _ => (Command::FlushDb { db: Db(0) }, Response::Ok),
                    };
                    op(call, returned, input, output)
                })
                .collect();
            let linearizable = check_brute_force(&KvModel, &history, 1_000_000).expect("small enough");
            not_linearizable += usize::from(!linearizable);
            // Tables built once for the first operations, the rest added at the test (as the
            // checker adds the global operations): the same answer as tables over all.
            let positions: Vec<(u64, u64)> =
                history.iter().map(|op| (op.call.0, op.returned.map_or(u64::MAX, |time| time.0))).collect();
            let effects: Vec<KeyEffect> =
                history.iter().map(|op| KvModel.effect_on_key(&op.input, op.output.as_ref(), &key())).collect();
            let fixed = random.below(count as u64 + 1) as usize;
            let added = KeyTest::new(positions[..fixed].to_vec(), effects[..fixed].to_vec())
                .refute(&positions[fixed..], &effects[fixed..]);
            assert_eq!(added, refute(&history), "{fixed} fixed of {history:?}");
            if let Some(stuck) = refute(&history) {
                assert!(!linearizable, "refuted a linearizable history: {history:?} ({stuck:?})");
                refuted += 1;
            }
        }
        println!("refuted {refuted} of {not_linearizable} not linearizable");
        assert!(refuted > 3 * not_linearizable / 4, "refuted {refuted} of {not_linearizable} not linearizable");
    }
}
