//! replsim's key-value store as a [`Model`]: GET, SET, multi-key DEL, FLUSHDB and FLUSHALL,
//! with the reference [`Store`](crate::store::Store)'s semantics.
//!
//! ```
//! use replsim_model::command::{Command, Db, Response};
//! use replsim_model::linearizability::{kv::KvModel, Model};
//! let state = KvModel.step(&KvModel.initial_state(), &Command::set(Db(0), "a", "1"), Some(&Response::Ok)).unwrap();
//! let read_nil = Response::Value(None);
//! assert!(KvModel.step(&state, &Command::get(Db(0), "a"), Some(&read_nil)).is_none());
//! ```

use std::collections::BTreeSet;
use std::sync::Arc;

use super::refute::{refute_kv, Refutation};
use super::{Footprint, KeyEffect, Model, Parts, Shared};
use crate::command::{Command, Db, Key, Response, Value};
use crate::history::Operation;

/// The replsim key-value model. FLUSHDB and FLUSHALL are [`Footprint::Global`].
#[derive(Clone, Copy, Debug, Default)]
pub struct KvModel;

/// The values of the keys a partition holds, sorted by (db, key); absent keys are nil. A
/// partition holds one key or a few, so a sorted vector beats a map, and keys and values are
/// reference-counted: a state derived from another, or from a SET, shares them instead of
/// copying the bytes.
pub type KvState = Shared<Vec<KvEntry>>;

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct KvEntry {
    pub db: Db,
    pub key: Arc<str>,
    pub value: Value,
}

fn find(state: &[KvEntry], db: Db, key: &str) -> Result<usize, usize> {
    state.binary_search_by(|entry| (entry.db, &*entry.key).cmp(&(db, key)))
}

impl Model for KvModel {
    type Input = Command;
    type Output = Response;
    type State = KvState;
    type Key = (Db, Key);

    fn initial_state(&self) -> KvState {
        Shared::new(Vec::new())
    }

    fn step(&self, state: &KvState, input: &Command, output: Option<&Response>) -> Option<KvState> {
        match input {
            Command::Get { db, key } => {
                let current = find(state, *db, key).ok().map(|index| &*state[index].value);
                match output {
                    None => Some(state.clone()),
                    Some(Response::Value(read)) if read.as_deref() == current => Some(state.clone()),
                    Some(_) => None,
                }
            }
            Command::Set { db, key, value } => {
                accepts_ok(output)?;
                let found = find(state, *db, key);
                if found.is_ok_and(|index| state[index].value == *value) {
                    return Some(state.clone());
                }
                let mut next = Vec::clone(state);
                match found {
                    Ok(index) => next[index].value = value.clone(),
                    Err(index) => {
                        next.insert(index, KvEntry { db: *db, key: Arc::from(key.as_str()), value: value.clone() })
                    }
                }
                Some(Shared::new(next))
            }
            Command::Del { db, keys } => {
                let mut next = Vec::clone(state);
                let mut deleted = 0u64;
                for key in keys {
                    if let Ok(index) = find(&next, *db, key) {
                        next.remove(index);
                        deleted += 1;
                    }
                }
                let next = if deleted == 0 { state.clone() } else { Shared::new(next) };
                match output {
                    None => Some(next),
                    Some(Response::Count(count)) if *count == deleted => Some(next),
                    Some(_) => None,
                }
            }
            Command::FlushDb { db } => {
                accepts_ok(output)?;
                if !state.iter().any(|entry| entry.db == *db) {
                    return Some(state.clone());
                }
                let next = state.iter().filter(|entry| entry.db != *db).cloned().collect();
                Some(Shared::new(next))
            }
            Command::FlushAll { .. } => {
                accepts_ok(output)?;
                if state.is_empty() {
                    return Some(state.clone());
                }
                Some(Shared::new(Vec::new()))
            }
        }
    }

    /// A SET of the only key the state holds, or of an empty state: the key at the SET's value
    /// and nothing else, accepted on `OK` or no answer.
    fn step_ignores_state(&self, state: &KvState, input: &Command) -> bool {
        let Command::Set { db, key, .. } = input else { return false };
        match state.as_slice() {
            [] => true,
            [only] => only.db == *db && *only.key == **key,
            _ => false,
        }
    }

    fn footprint(&self, input: &Command) -> Footprint<(Db, Key)> {
        if input.is_global() {
            return Footprint::Global;
        }
        Footprint::Keys(input.keys().iter().map(|key| (input.db(), key.clone())).collect())
    }

    fn global_effect_class(&self, input: &Command) -> Option<u64> {
        match input {
            Command::FlushDb { db } => Some(u64::from(db.0)),
            Command::FlushAll { .. } => Some(1 << 8),
            _ => None,
        }
    }

    /// A DEL of several keys is one DEL per key, and its count is how many of them found
    /// their key: a row per choice of which keys those were. A count no choice of rows can make
    /// up, or more than [`DEL_ANSWER_ROWS_MAX`] rows, keeps the DEL whole.
    fn split_into_parts(
        &self,
        input: &Command,
        output: Option<&Response>,
    ) -> Option<Parts<(Db, Key), Command, Response>> {
        let Command::Del { db, keys } = input else { return None };
        let keys: BTreeSet<&Key> = keys.iter().collect();
        if keys.len() < 2 {
            return None;
        }
        let parts: Vec<((Db, Key), Command)> =
            keys.iter().map(|&key| ((*db, key.clone()), Command::del(*db, [key.clone()]))).collect();
        let answers = match output {
            None => vec![vec![None; parts.len()]],
            Some(Response::Count(count)) => {
                let rows = rows_with_count(parts.len(), usize::try_from(*count).ok()?)?;
                rows.into_iter()
                    .map(|row| row.into_iter().map(|found| Some(Response::Count(u64::from(found)))).collect())
                    .collect()
            }
            Some(_) => return None,
        };
        Some(Parts { parts, answers })
    }

    fn effect_on_key(&self, input: &Command, output: Option<&Response>, key: &(Db, Key)) -> KeyEffect {
        let (key_db, key) = (key.0, key.1.as_str());
        match input {
            Command::Get { db, key: read } if (*db, read.as_str()) == (key_db, key) => match output {
                Some(Response::Value(None)) => KeyEffect::ObservesAbsent,
                Some(Response::Value(Some(value))) => KeyEffect::ObservesValue(value_hash(value)),
                _ => KeyEffect::Unknown,
            },
            Command::Set { db, key: written, value } if (*db, written.as_str()) == (key_db, key) => match output {
                None | Some(Response::Ok) => KeyEffect::Writes(value_hash(value)),
                Some(_) => KeyEffect::Unknown,
            },
            Command::Del { db, keys } if *db == key_db && keys.iter().any(|deleted| deleted == key) => {
                match (keys.len(), output) {
                    (_, None) => KeyEffect::Clears,
                    (1, Some(Response::Count(0))) => KeyEffect::ObservesAbsent,
                    (1, Some(Response::Count(1))) => KeyEffect::ObservesPresentThenClears,
                    // A whole DEL of several keys: what it found of this key is not known.
                    _ => KeyEffect::Unknown,
                }
            }
            Command::FlushDb { db } if *db == key_db => KeyEffect::Clears,
            Command::FlushAll { .. } => KeyEffect::Clears,
            _ => KeyEffect::Nothing,
        }
    }

    fn refute_without_search(&self, history: &[Operation<Command, Response>]) -> Option<Refutation> {
        refute_kv(history)
    }

    fn is_read_only(&self, input: &Command) -> bool {
        !input.is_write()
    }

    fn describe(&self, input: &Command, output: Option<&Response>) -> String {
        match output {
            Some(output) => format!("{input} -> {output}"),
            None => format!("{input} -> ?"),
        }
    }
}

/// Past this many ways to make up a DEL's count, the DEL stays whole: the checker would try each.
pub const DEL_ANSWER_ROWS_MAX: usize = 64;

/// Every choice of `count` among `parts` (`true`: that part found its key), in lexicographic
/// order; `None` when there is none or more than [`DEL_ANSWER_ROWS_MAX`].
fn rows_with_count(parts: usize, count: usize) -> Option<Vec<Vec<bool>>> {
    if count > parts {
        return None;
    }
    let mut rows = Vec::new();
    let mut row = vec![false; parts];
    // Depth-first over the parts, bounded by DEL_ANSWER_ROWS_MAX rows.
    fn choose(row: &mut Vec<bool>, at: usize, left: usize, rows: &mut Vec<Vec<bool>>) -> bool {
        if left == 0 {
            if rows.len() == DEL_ANSWER_ROWS_MAX {
                return false;
            }
            rows.push(row.clone());
            return true;
        }
        if row.len() - at < left {
            return true;
        }
        row[at] = true;
        let more = choose(row, at + 1, left - 1, rows);
        row[at] = false;
        more && choose(row, at + 1, left, rows)
    }
    choose(&mut row, 0, count, &mut rows).then_some(rows)
}

/// A value's identity for [`KeyEffect`]: two values with one hash would only make the test
/// refute less, never wrongly (a read then has more candidate sources and fewer killers).
fn value_hash(value: &str) -> u64 {
    let mut hasher = super::search::FastHasher::default();
    std::hash::Hasher::write(&mut hasher, value.as_bytes());
    std::hash::Hasher::finish(&hasher)
}

fn accepts_ok(output: Option<&Response>) -> Option<()> {
    match output {
        None | Some(Response::Ok) => Some(()),
        Some(_) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The claim [`KvModel::step_ignores_state`] makes, over every state of one or two keys
    /// with nil or one of two values: from every state it holds for, a SET steps to one
    /// state (or is refused by all, with a wrong answer); and it holds for none holding
    /// another key, which a SET keeps.
    #[test]
    fn a_set_ignores_exactly_the_states_holding_its_key_alone() {
        let set = |db: Db, key: &str, value: &str| Command::set(db, key, value);
        let mut states = vec![KvModel.initial_state()];
        for command in [set(Db(0), "a", "1"), set(Db(0), "a", "2"), set(Db(0), "b", "1"), set(Db(1), "a", "1")] {
            let stepped: Vec<KvState> =
                states.iter().map(|state| KvModel.step(state, &command, Some(&Response::Ok)).expect("a SET")).collect();
            for state in stepped {
                if !states.contains(&state) {
                    states.push(state);
                }
            }
        }
        assert_eq!(states.len(), 12, "3 for db0 a (nil, 1, 2) by 2 for b by 2 for db1 a: {states:?}");
        for write in [set(Db(0), "a", "3"), set(Db(0), "a", "1")] {
            for output in [None, Some(Response::Ok), Some(Response::Count(1))] {
                let ignored: Vec<&KvState> =
                    states.iter().filter(|state| KvModel.step_ignores_state(state, &write)).collect();
                let outcomes: Vec<Option<KvState>> =
                    ignored.iter().map(|state| KvModel.step(state, &write, output.as_ref())).collect();
                assert_eq!(ignored.len(), 3, "nil, db0 a=1 and db0 a=2: {ignored:?}");
                assert!(
                    outcomes.iter().all(|outcome| *outcome == outcomes[0]),
                    "{write} answered {output:?}: {outcomes:?}"
                );
                for state in &states {
                    let holds_another = state.iter().any(|entry| (entry.db, &*entry.key) != (Db(0), "a"));
                    assert_eq!(KvModel.step_ignores_state(state, &write), !holds_another, "{state:?}");
                }
            }
        }
        assert!(!KvModel.step_ignores_state(&KvModel.initial_state(), &Command::get(Db(0), "a")));
    }
}
