//! The replication checkers fed hand-written histories: each must fail on a known-bad one, with a
//! diff naming the offending binlog entry, and pass on a known-good one. A checker that cannot
//! fail is a defect.

use replsim_model::binlog::{BinlogEntry, Offset};
use replsim_model::check::convergence::{check_convergence, ConvergenceFailure};
use replsim_model::check::diff::{Explanation, StoreDiff};
use replsim_model::check::prefix::{check_prefix_consistency, PrefixViolation};
use replsim_model::check::{NodeSnapshot, SimTime};
use replsim_model::command::{Command, Db};
use replsim_model::store::Store;

const DB: Db = Db(0);

/// `1: SET a 1   2: SET b 2   3: FLUSHDB   4: SET c 4` — the seed's bug in four entries.
fn flush_binlog() -> Vec<BinlogEntry> {
    [Command::set(DB, "a", "1"), Command::set(DB, "b", "2"), Command::FlushDb { db: DB }, Command::set(DB, "c", "4")]
        .into_iter()
        .enumerate()
        .map(|(index, command)| BinlogEntry { offset: Offset(index as u64 + 1), command })
        .collect()
}

fn store(pairs: &[(&str, &str)]) -> Store {
    let mut store = Store::default();
    for (key, value) in pairs {
        store.execute(&Command::set(DB, *key, *value));
    }
    store
}

fn snapshot(node: &str, offset: u64, pairs: &[(&str, &str)], millis: u64) -> NodeSnapshot {
    NodeSnapshot {
        node: node.to_string(),
        offset: Offset(offset),
        store: store(pairs),
        at: SimTime::from_millis(millis),
    }
}

#[test]
fn prefix_consistency_passes_a_replica_that_applied_in_order() {
    let binlog = flush_binlog();
    let points = [
        snapshot("replica-1", 0, &[], 0),
        snapshot("replica-1", 1, &[("a", "1")], 1),
        snapshot("replica-1", 2, &[("a", "1"), ("b", "2")], 2),
        snapshot("replica-1", 3, &[], 3),
        snapshot("replica-1", 4, &[("c", "4")], 4),
    ];
    assert_eq!(check_prefix_consistency(&binlog, &points), vec![]);
}

#[test]
fn prefix_consistency_names_the_write_that_survived_flushdb() {
    let binlog = flush_binlog();
    // FLUSHDB ran on its own worker before SET b reached the store.
    let points = [snapshot("replica-1", 1, &[("a", "1")], 1), snapshot("replica-1", 3, &[("b", "2")], 3)];
    let violations = check_prefix_consistency(&binlog, &points);
    assert_eq!(violations.len(), 1, "{violations:?}");
    let PrefixViolation::Diverged { diff, at, violating_points } = &violations[0] else {
        panic!("expected a divergence, got {:?}", violations[0]);
    };
    assert_eq!((*at, *violating_points), (SimTime::from_millis(3), 1));
    assert_eq!(diff.keys.len(), 1);
    assert_eq!(diff.keys[0].explanation, Explanation::Survived { write: Offset(2), erasure: Offset(3) });
    assert_eq!(diff.first_offending.as_ref().map(|entry| entry.offset), Some(Offset(3)));
    let text = violations[0].to_string();
    assert!(text.contains("b=2 (SET b 2 at offset 2) survives FLUSHDB at offset 3 on replica-1"), "{text}");
}

#[test]
fn prefix_consistency_is_checked_at_every_idle_point_not_only_the_last() {
    let binlog = flush_binlog();
    // Wrong at offset 3, right again at 4: only a check at every point sees it.
    let points = [snapshot("replica-1", 3, &[("a", "1")], 3), snapshot("replica-1", 4, &[("c", "4")], 4)];
    let violations = check_prefix_consistency(&binlog, &points);
    assert_eq!(violations.len(), 1, "{violations:?}");
}

#[test]
fn prefix_consistency_flags_a_write_erased_by_a_flushdb_that_should_have_preceded_it() {
    let binlog = flush_binlog();
    // SET c 4 applied, then the earlier FLUSHDB erased it.
    let points = [snapshot("replica-1", 4, &[], 4)];
    let violations = check_prefix_consistency(&binlog, &points);
    let PrefixViolation::Diverged { diff, .. } = &violations[0] else { panic!("{violations:?}") };
    assert_eq!(diff.keys[0].explanation, Explanation::ErasedLate { write: Offset(4), erasures: vec![Offset(3)] });
}

#[test]
fn prefix_consistency_flags_an_offset_the_primary_never_wrote() {
    let binlog = flush_binlog();
    let violations = check_prefix_consistency(&binlog, &[snapshot("replica-1", 9, &[], 1)]);
    assert!(matches!(violations[0], PrefixViolation::BeyondBinlog { offset: Offset(9), .. }), "{violations:?}");
}

#[test]
fn prefix_consistency_accepts_a_resync_that_starts_over() {
    let binlog = flush_binlog();
    let points = [
        snapshot("replica-1", 2, &[("a", "1"), ("b", "2")], 1),
        // Restarted empty, full-synced at offset 1.
        snapshot("replica-1", 1, &[("a", "1")], 2),
        snapshot("replica-1", 4, &[("c", "4")], 3),
    ];
    assert_eq!(check_prefix_consistency(&binlog, &points), vec![]);
}

#[test]
fn prefix_consistency_judges_each_replica_separately() {
    let binlog = flush_binlog();
    let points = [snapshot("replica-1", 2, &[("a", "1"), ("b", "2")], 1), snapshot("replica-2", 2, &[("a", "1")], 1)];
    let violations = check_prefix_consistency(&binlog, &points);
    assert_eq!(violations.len(), 1);
    let PrefixViolation::Diverged { diff, .. } = &violations[0] else { panic!("{violations:?}") };
    assert_eq!(diff.node, "replica-2");
    assert_eq!(diff.keys[0].explanation, Explanation::NotApplied { write: Offset(2) });
}

#[test]
fn convergence_passes_identical_stores_at_the_binlog_end() {
    let binlog = flush_binlog();
    let primary = snapshot("primary", 4, &[("c", "4")], 9);
    let replicas = [snapshot("replica-1", 4, &[("c", "4")], 9), snapshot("replica-2", 4, &[("c", "4")], 9)];
    assert_eq!(check_convergence(&binlog, &primary, &replicas), vec![]);
}

#[test]
fn convergence_names_the_surviving_write_and_the_flushdb() {
    let binlog = flush_binlog();
    let primary = snapshot("primary", 4, &[("c", "4")], 9);
    let replicas = [snapshot("replica-1", 4, &[("a", "1"), ("c", "4")], 9)];
    let failures = check_convergence(&binlog, &primary, &replicas);
    assert_eq!(failures.len(), 1, "{failures:?}");
    let text = failures[0].to_string();
    assert!(text.contains("a=1 (SET a 1 at offset 1) survives FLUSHDB at offset 3 on replica-1"), "{text}");
    assert!(text.contains("first offending entry: FLUSHDB at offset 3"), "{text}");
}

#[test]
fn convergence_flags_a_replica_behind_the_binlog_end_and_a_wrong_primary() {
    let binlog = flush_binlog();
    let primary = snapshot("primary", 4, &[("c", "5")], 9);
    let replicas = [snapshot("replica-1", 3, &[], 9)];
    let failures = check_convergence(&binlog, &primary, &replicas);
    assert!(failures.iter().any(|failure| matches!(failure, ConvergenceFailure::OffsetMismatch { node, offset: Offset(3), .. } if node == "replica-1")), "{failures:?}");
    let diverged: Vec<&StoreDiff> = failures
        .iter()
        .filter_map(|failure| match failure {
            ConvergenceFailure::Diverged(diff) => Some(diff),
            _ => None,
        })
        .collect();
    // The primary holds a value nobody wrote; the replica lacks SET c 4, which the diff pins on the
    // FLUSHDB before it (the offset mismatch above says the replica is behind, too).
    assert_eq!(diverged.len(), 2, "{failures:?}");
    assert_eq!(diverged[0].keys[0].explanation, Explanation::NeverWritten);
    assert_eq!(
        diverged[1].keys[0].explanation,
        Explanation::ErasedLate { write: Offset(4), erasures: vec![Offset(3)] }
    );
}

#[test]
fn diff_names_both_the_key_and_the_global_erasure_that_may_have_run_late() {
    let binlog: Vec<BinlogEntry> =
        [Command::FlushDb { db: DB }, Command::del(DB, ["a"]), Command::set(DB, "b", "2"), Command::set(DB, "a", "3")]
            .into_iter()
            .enumerate()
            .map(|(index, command)| BinlogEntry { offset: Offset(index as u64 + 1), command })
            .collect();
    let expected = store(&[("a", "3"), ("b", "2")]);
    let diff = StoreDiff::between("replica-1", &binlog, Offset(4), &store(&[("b", "2")]), &expected).expect("differs");
    assert_eq!(
        diff.keys[0].explanation,
        Explanation::ErasedLate { write: Offset(4), erasures: vec![Offset(2), Offset(1)] }
    );
    let text = diff.to_string();
    assert!(text.contains("erased by DEL a at offset 2 or FLUSHDB at offset 1, which precede it"), "{text}");
}

#[test]
fn diff_explains_a_stale_value_and_a_value_from_the_future() {
    let binlog: Vec<BinlogEntry> = [Command::set(DB, "a", "1"), Command::set(DB, "a", "2"), Command::set(DB, "b", "3")]
        .into_iter()
        .enumerate()
        .map(|(index, command)| BinlogEntry { offset: Offset(index as u64 + 1), command })
        .collect();
    let expected = store(&[("a", "2")]);
    let stale = StoreDiff::between("replica-1", &binlog, Offset(2), &store(&[("a", "1")]), &expected).expect("differs");
    assert_eq!(stale.keys[0].explanation, Explanation::Stale { write_held: Offset(1), write_expected: Offset(2) });
    let ahead = StoreDiff::between("replica-1", &binlog, Offset(2), &store(&[("a", "2"), ("b", "3")]), &expected)
        .expect("differs");
    assert_eq!(ahead.keys[0].explanation, Explanation::Ahead { write: Offset(3) });
    assert_eq!(StoreDiff::between("replica-1", &binlog, Offset(2), &expected, &expected), None);
}
