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

use std::collections::BTreeMap;
use std::fmt;

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
    /// Non-empty values only, so that equal contents are equal states.
    type State = Shared<BTreeMap<String, String>>;
    type Key = String;

    fn initial_state(&self) -> Self::State {
        Shared::new(BTreeMap::new())
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
                (state.get(key).map_or("", String::as_str) == read).then(|| state.clone())
            }
            (KvInput::Put { key, value }, None | Some(KvOutput::Ok)) => {
                let mut next = BTreeMap::clone(state);
                if value.is_empty() {
                    next.remove(key);
                } else {
                    next.insert(key.clone(), value.clone());
                }
                Some(Shared::new(next))
            }
            (KvInput::Append { key, value }, None | Some(KvOutput::Ok)) => {
                if value.is_empty() {
                    return Some(state.clone());
                }
                let mut next = BTreeMap::clone(state);
                next.entry(key.clone()).or_default().push_str(value);
                Some(Shared::new(next))
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
