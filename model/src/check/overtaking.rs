//! Which two binlog entries a node applied against binlog order, read from a divergence and the
//! order the node applied entries in.
//!
//! A [`StoreDiff`] says *what* is wrong and which entries could explain it; the apply order says
//! *which* of them ran out of order:
//!
//! ```text
//! binlog:     44: SET h v43                 46: FLUSHDB
//! worker 1:   [--------- apply 44 ----------------]      finishes second
//! worker 2:            [-- apply 46 --]                  finishes first: 46 overtook 44
//! diff:       h=v43 (SET h v43 at offset 44) survives FLUSHDB at offset 46
//! ```
//!
//! ```
//! use replsim_model::binlog::{BinlogEntry, Offset};
//! use replsim_model::check::diff::StoreDiff;
//! use replsim_model::check::overtaking::{find_overtakings, Apply};
//! use replsim_model::check::SimTime;
//! use replsim_model::command::{Command, Db};
//! use replsim_model::store::Store;
//! let binlog = vec![
//!     BinlogEntry { offset: Offset(1), command: Command::set(Db(0), "h", "v1") },
//!     BinlogEntry { offset: Offset(2), command: Command::FlushDb { db: Db(0) } },
//! ];
//! let mut held = Store::default();
//! held.execute(&Command::set(Db(0), "h", "v1"));
//! let diff = StoreDiff::between("replica-1", &binlog, Offset(2), &held, &Store::default()).unwrap();
//! // The FLUSHDB finished first.
//! let applies = [Apply { offset: Offset(2), at: SimTime(5) }, Apply { offset: Offset(1), at: SimTime(9) }];
//! let found = find_overtakings(&diff, &applies, SimTime(10));
//! assert_eq!((found[0].overtaker, found[0].overtaken), (Offset(2), Offset(1)));
//! ```
//!
//! The result is evidence, not a verdict: a diff whose entries the node applied in binlog order
//! (a write never applied, a value from nowhere) has no overtaking, and the answer is empty.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::binlog::Offset;
use crate::check::diff::{Explanation, KeyDiff, StoreDiff};
use crate::check::SimTime;
use crate::command::{Db, Key};

/// One entry a node applied, in the order the node applied them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Apply {
    pub offset: Offset,
    /// When the apply finished (took effect on the node's store).
    pub at: SimTime,
}

/// Two entries of one key that took effect on `node` in the opposite of binlog order.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Overtaking {
    pub node: String,
    pub db: Db,
    pub key: Key,
    /// Later in the binlog, applied first.
    pub overtaker: Offset,
    /// Earlier in the binlog, applied after `overtaker`.
    pub overtaken: Offset,
    pub overtaker_applied: SimTime,
    pub overtaken_applied: SimTime,
}

/// The overtakings that explain `diff`, one per differing key at most, in the diff's key order.
/// `applies` is the node's apply order; only applies at or before `until` (when the node's state
/// was observed) count, and of an entry applied twice (after a restart) the last one.
pub fn find_overtakings(diff: &StoreDiff, applies: &[Apply], until: SimTime) -> Vec<Overtaking> {
    let mut position: BTreeMap<Offset, (usize, SimTime)> = BTreeMap::new();
    for (index, apply) in applies.iter().enumerate().filter(|(_, apply)| apply.at <= until) {
        position.insert(apply.offset, (index, apply.at));
    }
    diff.keys.iter().filter_map(|key_diff| overtaking_of_key(&diff.node, key_diff, &position)).collect()
}

/// The entry pair of one key's explanation that ran in the wrong order, if the applies show one.
fn overtaking_of_key(
    node: &str,
    key_diff: &KeyDiff,
    position: &BTreeMap<Offset, (usize, SimTime)>,
) -> Option<Overtaking> {
    // (overtaker, overtaken) candidates: the later entry that would have run first.
    let candidates: Vec<(Offset, Offset)> = match &key_diff.explanation {
        Explanation::Survived { write, erasure } => vec![(*erasure, *write)],
        Explanation::ErasedLate { write, erasures } => erasures.iter().map(|erasure| (*write, *erasure)).collect(),
        Explanation::Stale { write_held, write_expected } => vec![(*write_expected, *write_held)],
        Explanation::NotApplied { .. } | Explanation::Ahead { .. } | Explanation::NeverWritten => Vec::new(),
    };
    candidates.into_iter().find_map(|(overtaker, overtaken)| {
        let (overtaker_index, overtaker_applied) = *position.get(&overtaker)?;
        let (overtaken_index, overtaken_applied) = *position.get(&overtaken)?;
        debug_assert!(overtaker > overtaken, "an explanation names the later entry first");
        (overtaker_index < overtaken_index).then(|| Overtaking {
            node: node.to_string(),
            db: key_diff.db,
            key: key_diff.key.clone(),
            overtaker,
            overtaken,
            overtaker_applied,
            overtaken_applied,
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::binlog::BinlogEntry;
    use crate::command::Command;
    use crate::store::Store;

    fn binlog(commands: Vec<Command>) -> Vec<BinlogEntry> {
        commands
            .into_iter()
            .enumerate()
            .map(|(index, command)| BinlogEntry { offset: Offset(index as u64 + 1), command })
            .collect()
    }

    fn applied(order: &[u64]) -> Vec<Apply> {
        order
            .iter()
            .enumerate()
            .map(|(index, offset)| Apply { offset: Offset(*offset), at: SimTime(index as u64) })
            .collect()
    }

    fn store_after(commands: &[Command]) -> Store {
        let mut store = Store::default();
        for command in commands {
            store.execute(command);
        }
        store
    }

    #[test]
    fn a_flushdb_applied_before_an_earlier_write_overtook_it() {
        let log =
            binlog(vec![Command::set(Db(0), "a", "1"), Command::set(Db(0), "h", "v"), Command::FlushDb { db: Db(0) }]);
        // The replica ran 1, then the FLUSHDB, then SET h: h survives.
        let held = store_after(&[log[0].command.clone(), log[2].command.clone(), log[1].command.clone()]);
        let diff = StoreDiff::between("replica-1", &log, Offset(3), &held, &Store::default()).unwrap();
        let found = find_overtakings(&diff, &applied(&[1, 3, 2]), SimTime(10));
        assert_eq!(found.len(), 1);
        assert_eq!((found[0].overtaker, found[0].overtaken, found[0].key.as_str()), (Offset(3), Offset(2), "h"));
        assert_eq!((found[0].overtaker_applied, found[0].overtaken_applied), (SimTime(1), SimTime(2)));
    }

    #[test]
    fn applies_in_binlog_order_show_no_overtaking() {
        let log = binlog(vec![Command::set(Db(0), "h", "v"), Command::FlushDb { db: Db(0) }]);
        // Same wrong store, but the applies claim binlog order: no overtaking explains it.
        let held = store_after(&[log[0].command.clone()]);
        let diff = StoreDiff::between("replica-1", &log, Offset(2), &held, &Store::default()).unwrap();
        assert!(find_overtakings(&diff, &applied(&[1, 2]), SimTime(10)).is_empty());
    }

    #[test]
    fn applies_after_the_observation_do_not_count() {
        let log = binlog(vec![Command::set(Db(0), "h", "v"), Command::FlushDb { db: Db(0) }]);
        let held = store_after(&[log[0].command.clone()]);
        let diff = StoreDiff::between("replica-1", &log, Offset(2), &held, &Store::default()).unwrap();
        // The FLUSHDB at t=0, the write at t=1 — but the node was observed at t=0.
        assert!(find_overtakings(&diff, &applied(&[2, 1]), SimTime(0)).is_empty());
    }

    #[test]
    fn the_apply_order_picks_which_erasure_ran_late() {
        // 1: SET k a   2: DEL k   3: FLUSHDB   4: SET k b — expected k=b, held nothing.
        let log = binlog(vec![
            Command::set(Db(0), "k", "a"),
            Command::Del { db: Db(0), keys: vec!["k".into()] },
            Command::FlushDb { db: Db(0) },
            Command::set(Db(0), "k", "b"),
        ]);
        let expected = store_after(&log.iter().map(|entry| entry.command.clone()).collect::<Vec<_>>());
        let diff = StoreDiff::between("replica-1", &log, Offset(4), &Store::default(), &expected).unwrap();
        assert!(matches!(diff.keys[0].explanation, Explanation::ErasedLate { .. }));
        // The DEL ran after SET k b; the FLUSHDB in order.
        let found = find_overtakings(&diff, &applied(&[1, 3, 4, 2]), SimTime(10));
        assert_eq!((found[0].overtaker, found[0].overtaken), (Offset(4), Offset(2)));
    }

    #[test]
    fn a_stale_value_names_the_newer_write_as_overtaker() {
        let log = binlog(vec![Command::set(Db(0), "k", "old"), Command::set(Db(0), "k", "new")]);
        let held = store_after(&[log[1].command.clone(), log[0].command.clone()]);
        let expected = store_after(&[log[0].command.clone(), log[1].command.clone()]);
        let diff = StoreDiff::between("replica-1", &log, Offset(2), &held, &expected).unwrap();
        let found = find_overtakings(&diff, &applied(&[2, 1]), SimTime(10));
        assert_eq!((found[0].overtaker, found[0].overtaken), (Offset(2), Offset(1)));
    }
}
