//! Porcupine's key-value model: `get`, `put` and `append` on string values, missing keys read as
//! the empty string.
//!
//! ```
//! use replsim_model::linearizability::porcupine_kv::{KvInput, KvOutput, PorcupineKvModel};
//! use replsim_model::linearizability::Model;
//! let append = KvInput::Append { key: "k".into(), value: "x".into() };
//! let state = PorcupineKvModel.step(&PorcupineKvModel.initial_state(), &append, Some(&KvOutput::Ok)).unwrap();
//! let get = KvInput::Get { key: "k".into() };
//! assert!(PorcupineKvModel.step(&state, &get, Some(&KvOutput::Value("x".into()))).is_some());
//! ```

use std::fmt;
use std::rc::Rc;

use serde::{Deserialize, Serialize};

use super::{Footprint, Model, Shared};

#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum KvInput {
    Get { key: String },
    Put { key: String, value: String },
    Append { key: String, value: String },
}

#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum KvOutput {
    Value(String),
    Ok,
}

#[derive(Clone, Copy, Debug, Default)]
pub struct PorcupineKvModel;

impl KvInput {
    pub fn key(&self) -> &str {
        match self {
            KvInput::Get { key } | KvInput::Put { key, .. } | KvInput::Append { key, .. } => key,
        }
    }
}

impl Model for PorcupineKvModel {
    type Input = KvInput;
    type Output = KvOutput;
    type State = Shared<Vec<Entry>>;
    type Key = String;

    fn initial_state(&self) -> Self::State {
        Shared::with_hash(Vec::new(), 0)
    }

    fn step(
        &self,
        state: &Self::State,
        input: &KvInput,
        output: Option<&KvOutput>,
    ) -> Option<Self::State> {
        match (input, output) {
            (KvInput::Get { .. }, None) => Some(state.clone()),
            (KvInput::Get { key }, Some(KvOutput::Value(read))) => {
                let current = state.iter().find(|entry| *entry.key == **key).map_or("", |entry| &*entry.value);
                (current == read).then(|| state.clone())
            }
            (KvInput::Put { key, value }, None | Some(KvOutput::Ok)) => Some(with_value(state, key, |_| value.clone())),
            (KvInput::Append { key, value }, None | Some(KvOutput::Ok)) => {
                if value.is_empty() {
                    return Some(state.clone());
                }
                Some(with_value(state, key, |current| format!("{current}{value}")))
            }
            _ => None,
        }
    }

    fn footprint(&self, input: &KvInput) -> Footprint<String> {
        Footprint::Keys(vec![input.key().to_string()])
    }

    fn is_read_only(&self, input: &KvInput) -> bool {
        matches!(input, KvInput::Get { .. })
    }

    fn describe(&self, input: &KvInput, output: Option<&KvOutput>) -> String {
        match output {
            Some(output) => format!("{input} -> {output}"),
            None => format!("{input} -> ?"),
        }
    }
}

/// One key's value. Absent keys read as "" and are not stored, so equal contents are equal
/// states.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Entry {
    key: Rc<str>,
    value: Rc<str>,
    /// Polynomial hash of `value`: appending extends it without rereading the value.
    value_hash: u64,
}

const HASH_BASE: u64 = 0x100_0000_01B3;

fn polynomial_hash(start: u64, text: &str) -> u64 {
    text.bytes().fold(start, |hash, byte| hash.wrapping_mul(HASH_BASE).wrapping_add(u64::from(byte) + 1))
}

/// An entry's share of the state hash: the state hash is the wrapping sum over entries, so one
/// entry changes it in O(1).
fn entry_hash(key: &str, value_hash: u64) -> u64 {
    let mixed = polynomial_hash(0, key) ^ value_hash.rotate_left(29);
    mixed.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ (mixed >> 31)
}

/// The state with `key`'s value replaced by `next(current)`; the hash is updated incrementally.
fn with_value(state: &Shared<Vec<Entry>>, key: &str, next: impl FnOnce(&str) -> String) -> Shared<Vec<Entry>> {
    let mut entries: Vec<Entry> = Vec::with_capacity(state.len() + 1);
    let mut hash = state.cached_hash();
    let position = state.iter().position(|entry| *entry.key == *key);
    let (current, current_hash) = match position {
        Some(index) => {
            let entry = &state[index];
            hash = hash.wrapping_sub(entry_hash(key, entry.value_hash));
            (&*entry.value, entry.value_hash)
        }
        None => ("", 0),
    };
    let value = next(current);
    let value_hash = match value.strip_prefix(current) {
        // An append: extend the hash with the suffix only.
        Some(suffix) => polynomial_hash(current_hash, suffix),
        None => polynomial_hash(0, &value),
    };
    entries.extend(state.iter().filter(|entry| *entry.key != *key).cloned());
    if !value.is_empty() {
        hash = hash.wrapping_add(entry_hash(key, value_hash));
        let key: Rc<str> = match position {
            Some(index) => Rc::clone(&state[index].key),
            None => Rc::from(key),
        };
        entries.push(Entry { key, value: Rc::from(value), value_hash });
        entries.sort_by(|left, right| left.key.cmp(&right.key));
    }
    Shared::with_hash(entries, hash)
}

impl fmt::Display for KvInput {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            KvInput::Get { key } => write!(formatter, "get {key:?}"),
            KvInput::Put { key, value } => write!(formatter, "put {key:?} {value:?}"),
            KvInput::Append { key, value } => write!(formatter, "append {key:?} {value:?}"),
        }
    }
}

impl fmt::Display for KvOutput {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            KvOutput::Value(value) => write!(formatter, "{value:?}"),
            KvOutput::Ok => write!(formatter, "ok"),
        }
    }
}
