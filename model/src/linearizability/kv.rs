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

use std::collections::BTreeMap;

use super::{Footprint, Model, Shared};
use crate::command::{Command, Db, Key, Response, Value};

/// The replsim key-value model. FLUSHDB and FLUSHALL are [`Footprint::Global`].
#[derive(Clone, Copy, Debug, Default)]
pub struct KvModel;

/// The values of the keys a partition holds; absent keys are nil.
pub type KvState = Shared<BTreeMap<(Db, Key), Value>>;

impl Model for KvModel {
    type Input = Command;
    type Output = Response;
    type State = KvState;
    type Key = (Db, Key);

    fn initial_state(&self) -> KvState {
        Shared::new(BTreeMap::new())
    }

    fn step(&self, state: &KvState, input: &Command, output: Option<&Response>) -> Option<KvState> {
        match input {
            Command::Get { db, key } => {
                let current = state.get(&(*db, key.clone()));
                match output {
                    None => Some(state.clone()),
                    Some(Response::Value(read)) if read.as_ref() == current => Some(state.clone()),
                    Some(_) => None,
                }
            }
            Command::Set { db, key, value } => {
                accepts_ok(output)?;
                let mut next = BTreeMap::clone(state);
                next.insert((*db, key.clone()), value.clone());
                Some(Shared::new(next))
            }
            Command::Del { db, keys } => {
                let mut next = BTreeMap::clone(state);
                let mut deleted = 0u64;
                for key in keys {
                    deleted += u64::from(next.remove(&(*db, key.clone())).is_some());
                }
                let next = Shared::new(next);
                match output {
                    None => Some(next),
                    Some(Response::Count(count)) if *count == deleted => Some(next),
                    Some(_) => None,
                }
            }
            Command::FlushDb { db } => {
                accepts_ok(output)?;
                let mut next = BTreeMap::clone(state);
                next.retain(|(key_db, _), _| key_db != db);
                Some(Shared::new(next))
            }
            Command::FlushAll { .. } => {
                accepts_ok(output)?;
                Some(Shared::new(BTreeMap::new()))
            }
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

fn accepts_ok(output: Option<&Response>) -> Option<()> {
    match output {
        None | Some(Response::Ok) => Some(()),
        Some(_) => None,
    }
}
