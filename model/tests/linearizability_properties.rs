//! The checker against generated histories: sequential executions stretched into overlapping
//! intervals pass, their mutations fail, and on small histories it agrees with brute force.

use proptest::prelude::*;
use replsim_model::check::SimTime;
use replsim_model::command::{Command, Db, Response};
use replsim_model::history::Operation;
use replsim_model::linearizability::brute_force::check_brute_force;
use replsim_model::linearizability::generate::{
    answer_in_point_order, change_one_read, flushdb_history, stale_read_after_flush, HistoryShape, SplitMix,
};
use replsim_model::linearizability::kv::{KvModel, KvState};
use replsim_model::linearizability::{
    check, check_client_history, Footprint, Model, Options, SplitOperations, Verdict,
};

fn shape() -> impl Strategy<Value = HistoryShape> {
    (1usize..120, 1usize..12, 1usize..6, 0u32..150).prop_map(|(ops_total, clients, keys, flushdb_per_mille)| {
        HistoryShape { ops_total, clients, keys, flushdb_per_mille, ..HistoryShape::default() }
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

    #[test]
    fn a_sequential_execution_with_overlapping_intervals_is_linearizable(seed: u64, shape in shape()) {
        let history = flushdb_history(seed, &shape);
        let verdict = check_client_history(&history, &Options::default());
        prop_assert!(verdict.is_linearizable(), "{}", verdict);
    }

    #[test]
    fn reading_a_value_erased_by_an_earlier_flushdb_is_not_linearizable(seed: u64, shape in shape()) {
        let history = flushdb_history(seed, &HistoryShape { flushdb_per_mille: shape.flushdb_per_mille + 20, ..shape });
        if let Some(mutated) = stale_read_after_flush(&history) {
            let verdict = check_client_history(&mutated, &Options::default());
            prop_assert!(verdict.is_not_linearizable(), "{}", verdict);
        }
    }

    #[test]
    fn reading_a_value_never_written_is_not_linearizable(seed: u64, shape in shape(), pick: usize) {
        let mut history = flushdb_history(seed, &shape);
        let reads: Vec<usize> = (0..history.len()).filter(|&index| matches!(history[index].input, Command::Get { .. })).collect();
        if !reads.is_empty() {
            history[reads[pick % reads.len()]].output = Some(Response::Value(Some("never-written".into())));
            let verdict = check_client_history(&history, &Options::default());
            prop_assert!(verdict.is_not_linearizable(), "{}", verdict);
        }
    }
}

/// A small history over two keys in two databases, with FLUSHDB and FLUSHALL, some operations
/// never returning, and (half the time) one answer changed at random.
fn small_random_history(random: &mut SplitMix) -> Vec<Operation<Command, Response>> {
    let op_count = 1 + random.below(6) as usize;
    let clients = 1 + random.below(3);
    let mut client_free_at = vec![0u64; clients as usize];
    let mut points = Vec::new();
    let mut history = Vec::new();
    for index in 0..op_count {
        let client = random.below(clients) as usize;
        let call = client_free_at[client] + random.below(4);
        let duration = random.below(6);
        client_free_at[client] = call + duration + 1;
        let db = Db(random.below(2) as u8);
        let key = ["a", "b"][random.below(2) as usize];
        let value = ["1", "2"][random.below(2) as usize];
        let input = match random.below(10) {
            0 | 1 => Command::FlushDb { db },
            2 => Command::FlushAll { db },
            3..=5 => Command::get(db, key),
            6 | 7 => Command::set(db, key, value),
            _ => Command::del(db, if random.below(2) == 0 { vec![key] } else { vec!["a", "b"] }),
        };
        let never_returns = random.below(8) == 0;
        // An op that never returns took effect (at its point) or not at all, at random.
        if !never_returns || random.below(2) == 0 {
            points.push((call * 10 + random.below(duration * 10 + 1), index));
        }
        history.push(Operation {
            client: client as u64,
            call: SimTime(call * 10),
            returned: (!never_returns).then_some(SimTime((call + duration) * 10)),
            input,
            output: None,
        });
    }
    answer_in_point_order(&mut history, points);
    if random.below(2) == 0 {
        let victim = random.below(op_count as u64) as usize;
        if history[victim].output.is_some() {
            history[victim].output = Some(match &history[victim].input {
                Command::Get { .. } => {
                    Response::Value([None, Some("1".into()), Some("2".into())][random.below(3) as usize].clone())
                }
                Command::Del { .. } => Response::Count(random.below(3)),
                _ => Response::Ok,
            });
        }
    }
    history
}

#[test]
fn the_checker_agrees_with_brute_force_on_ten_thousand_small_flushdb_histories() {
    let mut random = SplitMix::new(0x5EED);
    let (mut linearizable, mut not) = (0, 0);
    for iteration in 0..10_000 {
        let history = small_random_history(&mut random);
        let expected = check_brute_force(&KvModel, &history, 10_000_000).expect("small enough to enumerate");
        // Multi-key DELs split into per-key parts, and joining their keys: both must be exact.
        for split_operations in [SplitOperations::Always, SplitOperations::Never] {
            let verdict = check(&KvModel, &history, &Options { split_operations, ..Options::default() });
            match (&verdict, expected) {
                (Verdict::Linearizable(_), true) => linearizable += 1,
                (Verdict::NotLinearizable(_), false) => not += 1,
                _ => panic!(
                    "iteration {iteration} ({split_operations:?}): brute force says {expected}, checker says {verdict}\n{history:#?}"
                ),
            }
        }
    }
    println!("{linearizable} linearizable, {not} not linearizable");
    assert!(linearizable > 1_000 && not > 1_000, "both verdicts are exercised: {linearizable} / {not}");
}

fn op(client: u64, call: u64, returned: u64, input: Command, output: Response) -> Operation<Command, Response> {
    Operation { client, call: SimTime(call), returned: Some(SimTime(returned)), input, output: Some(output) }
}

#[test]
fn a_get_overlapping_a_flushdb_may_see_the_value_or_nil() {
    //  client 1 |--SET a 1--|
    //  client 2               |------FLUSHDB------|
    //  client 3                  |--GET a -> 1--|  |--GET a -> nil--|
    let history = vec![
        op(1, 0, 10, Command::set(Db(0), "a", "1"), Response::Ok),
        op(2, 20, 60, Command::FlushDb { db: Db(0) }, Response::Ok),
        op(3, 25, 40, Command::get(Db(0), "a"), Response::Value(Some("1".into()))),
        op(3, 70, 80, Command::get(Db(0), "a"), Response::Value(None)),
    ];
    assert!(check_client_history(&history, &Options::default()).is_linearizable());
}

#[test]
fn one_flushdb_or_two_key_del_cannot_take_effect_at_two_points_for_two_keys() {
    // Key a sees the operation before client 3's reads, key b after — per key each is fine,
    // but the single FLUSHDB (or DEL a b, a global operation over its two keys) cannot be in
    // two places: the relaxed per-key check passes, the exact decomposition must not.
    //  c1 |SET a 1| |SET b 1|
    //  c2                      |--------------FLUSHDB / DEL a b -> 2--------------|
    //  c3                        |GET a -> nil|  then  |GET b -> 1|
    for (global, answer) in
        [(Command::FlushDb { db: Db(0) }, Response::Ok), (Command::del(Db(0), ["a", "b"]), Response::Count(2))]
    {
        let history = vec![
            op(1, 0, 5, Command::set(Db(0), "a", "1"), Response::Ok),
            op(1, 6, 9, Command::set(Db(0), "b", "1"), Response::Ok),
            op(2, 10, 100, global.clone(), answer),
            op(3, 20, 30, Command::get(Db(0), "a"), Response::Value(None)),
            op(3, 40, 50, Command::get(Db(0), "b"), Response::Value(Some("1".into()))),
        ];
        let verdict = check_client_history(&history, &split_always());
        assert!(verdict.is_not_linearizable(), "{global}: {verdict}");
        assert_eq!(check_brute_force(&KvModel, &history, 1_000_000), Some(false), "{global}");
    }
}

#[test]
fn two_overlapping_flushdbs_of_different_databases_may_take_effect_at_different_points() {
    // a lives in db0, b in db1: FLUSHDB db0 goes before GET a, FLUSHDB db1 after GET b. Fine —
    // but one FLUSHALL in their place cannot be at both points.
    //  c1 |SET a 1| |SET b 1|
    //  c2              |-----------FLUSHDB db0 / FLUSHALL-----------|
    //  c4              |-----------FLUSHDB db1----------------------|
    //  c3                 |GET a -> nil|  then  |GET b -> 1|
    let mut history = vec![
        op(1, 0, 5, Command::set(Db(0), "a", "1"), Response::Ok),
        op(1, 6, 9, Command::set(Db(1), "b", "1"), Response::Ok),
        op(2, 10, 100, Command::FlushDb { db: Db(0) }, Response::Ok),
        op(4, 10, 100, Command::FlushDb { db: Db(1) }, Response::Ok),
        op(3, 20, 30, Command::get(Db(0), "a"), Response::Value(None)),
        op(3, 40, 50, Command::get(Db(1), "b"), Response::Value(Some("1".into()))),
        op(3, 60, 70, Command::get(Db(0), "a"), Response::Value(None)),
    ];
    let verdict = check_client_history(&history, &Options::default());
    assert!(verdict.is_linearizable(), "{verdict}");
    assert_eq!(check_brute_force(&KvModel, &history, 1_000_000), Some(true));

    history[2].input = Command::FlushAll { db: Db(0) };
    history.remove(3);
    let verdict = check_client_history(&history, &Options::default());
    assert!(verdict.is_not_linearizable(), "{verdict}");
    assert_eq!(check_brute_force(&KvModel, &history, 1_000_000), Some(false));
}

/// Multi-key DELs always split into per-key parts: what the two-key DEL stories are about.
fn split_always() -> Options {
    Options { split_operations: SplitOperations::Always, ..Options::default() }
}

/// The partitions a verdict's witness names, e.g. `["key (Db(0), \"a\")", ...]`.
fn witness_partitions(verdict: &Verdict) -> Vec<String> {
    match verdict {
        Verdict::Linearizable(witness) => witness.partitions.iter().map(|partition| partition.name.clone()).collect(),
        other => panic!("expected linearizable, got {other}"),
    }
}

#[test]
fn a_two_key_del_keeps_its_keys_apart_and_its_count_must_add_up() {
    // Both keys exist when the DEL runs alone, so it must count 2: each key's part alone could
    // answer 1 (a found, b found), and no way of making up a count of 1 works.
    //  c1 |SET a 1| |SET b 1|
    //  c2                      |DEL a b -> 1|
    let mut history = vec![
        op(1, 0, 5, Command::set(Db(0), "a", "1"), Response::Ok),
        op(1, 6, 9, Command::set(Db(0), "b", "1"), Response::Ok),
        op(2, 10, 20, Command::del(Db(0), ["a", "b"]), Response::Count(1)),
    ];
    let verdict = check_client_history(&history, &split_always());
    assert!(verdict.is_not_linearizable(), "{verdict}");
    assert_eq!(check_brute_force(&KvModel, &history, 1_000_000), Some(false));

    // A DEL b beside it may take b first: then the two-key DEL finds only a.
    //  c3                   |DEL b -> 1|
    history.push(op(3, 10, 20, Command::del(Db(0), ["b"]), Response::Count(1)));
    let verdict = check_client_history(&history, &split_always());
    assert_eq!(witness_partitions(&verdict).len(), 2, "the DEL must not join a and b: {verdict}");
    assert_eq!(check_brute_force(&KvModel, &history, 1_000_000), Some(true));

    // ...but not if a read of b after both, yet overlapping neither, sees it.
    //  c4                                          |GET b -> 1|
    history.push(op(4, 30, 40, Command::get(Db(0), "b"), Response::Value(Some("1".into()))));
    let verdict = check_client_history(&history, &split_always());
    assert!(verdict.is_not_linearizable(), "{verdict}");
    assert_eq!(check_brute_force(&KvModel, &history, 1_000_000), Some(false));
}

#[test]
fn a_del_with_too_many_ways_to_make_up_its_count_stays_whole() {
    // 10 keys, count 5: 252 rows, more than the model splits into; the DEL joins its keys.
    let keys: Vec<String> = (0..10).map(|key| format!("k{key}")).collect();
    let mut history: Vec<Operation<Command, Response>> = keys
        .iter()
        .take(5)
        .enumerate()
        .map(|(index, key)| {
            op(1, 10 * index as u64, 10 * index as u64 + 5, Command::set(Db(0), key.as_str(), "1"), Response::Ok)
        })
        .collect();
    history.push(op(2, 100, 110, Command::del(Db(0), keys.clone()), Response::Count(5)));
    let verdict = check_client_history(&history, &split_always());
    assert_eq!(witness_partitions(&verdict).len(), 1, "{verdict}");
    history.last_mut().expect("the DEL").output = Some(Response::Count(4));
    assert!(check_client_history(&history, &split_always()).is_not_linearizable());
}

#[test]
fn a_tiny_budget_answers_unknown_not_a_guess() {
    let history = flushdb_history(
        3,
        &HistoryShape { ops_total: 400, clients: 20, keys: 3, flushdb_per_mille: 30, ..HistoryShape::default() },
    );
    let options = Options { steps_max: Some(10), ..Options::default() };
    assert!(matches!(check_client_history(&history, &options), Verdict::Unknown(_)));
}

#[test]
fn a_tiny_memo_budget_answers_unknown_not_a_guess() {
    let history = flushdb_history(
        3,
        &HistoryShape { ops_total: 400, clients: 20, keys: 3, flushdb_per_mille: 30, ..HistoryShape::default() },
    );
    let options = Options { memo_bytes_max: 1024, ..Options::default() };
    let verdict = check_client_history(&history, &options);
    assert!(matches!(&verdict, Verdict::Unknown(reason) if reason.contains("memo")), "{verdict}");
}

/// replsim's key-value model with no decomposition: every operation touches the one unit key,
/// so the checker runs one plain search over the whole history. An independent reference for
/// histories too long for brute force but short enough for one search.
struct WholeHistoryKv;

impl Model for WholeHistoryKv {
    type Input = Command;
    type Output = Response;
    type State = KvState;
    type Key = ();

    fn initial_state(&self) -> KvState {
        KvModel.initial_state()
    }

    fn step(&self, state: &KvState, input: &Command, output: Option<&Response>) -> Option<KvState> {
        KvModel.step(state, input, output)
    }

    fn footprint(&self, _input: &Command) -> Footprint<()> {
        Footprint::Keys(vec![()])
    }

    fn is_read_only(&self, input: &Command) -> bool {
        KvModel.is_read_only(input)
    }

    fn describe(&self, input: &Command, output: Option<&Response>) -> String {
        KvModel.describe(input, output)
    }
}

/// Histories of 12–40 operations with several long FLUSHDBs overlapping each other and most
/// keyed operations, never-returned operations and two-key DELs: the placement search narrows
/// domains and resumes partition searches from their previous witnesses (deep narrowing and
/// backjumps are cross-checked in `decompose`'s own tests, on longer histories). Half of them
/// get one read changed to another value the history wrote (or nil).
#[test]
fn the_placement_search_agrees_with_one_whole_history_search() {
    let mut random = SplitMix::new(0xD1FF);
    let (mut linearizable, mut not, mut undecided) = (0, 0, 0);
    for iteration in 0..3_000u64 {
        let shape = HistoryShape {
            ops_total: 12 + random.below(29) as usize,
            clients: 2 + random.below(5) as usize,
            keys: 2 + random.below(3) as usize,
            flushdb_per_mille: 80 + random.below(220) as u32,
            flushdb_duration_max: 200 + random.below(2_000),
            never_returned_per_mille: random.below(120) as u32,
            two_key_del_per_mille: random.below(60) as u32,
            value_bytes: 0,
        };
        let mut history = flushdb_history(iteration, &shape);
        if random.below(2) == 0 {
            change_one_read(&mut history, &mut random);
        }
        let whole = check(&WholeHistoryKv, &history, &Options::default());
        let decomposed =
            check(&KvModel, &history, &Options { split_operations: SplitOperations::Always, ..Options::default() });
        match (&whole, &decomposed) {
            (Verdict::Unknown(_), _) => undecided += 1,
            (Verdict::Linearizable(_), Verdict::Linearizable(_)) => linearizable += 1,
            (Verdict::NotLinearizable(_), Verdict::NotLinearizable(_)) => not += 1,
            _ => panic!(
                "iteration {iteration}: one search says {whole}, the placement search {decomposed}\n{history:#?}"
            ),
        }
    }
    println!("{linearizable} linearizable, {not} not linearizable, {undecided} too hard for one search");
    assert!(linearizable > 500 && not > 500, "both verdicts are exercised: {linearizable} / {not}");
    assert!(undecided < 30, "the reference decides nearly all: {undecided} undecided");
}

/// Searching partitions on several threads changes no verdict.
#[test]
fn several_threads_reach_the_verdicts_one_thread_reaches() {
    let mut random = SplitMix::new(0x7EAD);
    let (mut linearizable, mut not) = (0, 0);
    for seed in 0..60u64 {
        let shape =
            HistoryShape { ops_total: 400, clients: 20, keys: 10, flushdb_per_mille: 20, ..HistoryShape::default() };
        let history = flushdb_history(seed, &shape);
        let history = if random.below(2) == 0 { stale_read_after_flush(&history).unwrap_or(history) } else { history };
        let one = check(&KvModel, &history, &Options::default());
        let two = check(&KvModel, &history, &Options { threads: 2, ..Options::default() });
        match (&one, &two) {
            (Verdict::Linearizable(_), Verdict::Linearizable(_)) => linearizable += 1,
            (Verdict::NotLinearizable(_), Verdict::NotLinearizable(_)) => not += 1,
            _ => panic!("seed {seed}: one thread says {one}, two threads {two}"),
        }
    }
    assert!(linearizable > 10 && not > 10, "both verdicts are exercised: {linearizable} / {not}");
}
