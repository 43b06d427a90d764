//! A single register with read, write and compare-and-set: the model of Jepsen's etcd test.
//!
//! ```
//! use replsim_model::linearizability::register::{RegisterInput, RegisterModel, RegisterOutput};
//! use replsim_model::linearizability::Model;
//! let register = RegisterModel::with_cas();
//! let cas = RegisterInput::Cas { expected: 1, new: 2 };
//! // A CAS that reported success needs the expected value in place.
//! assert_eq!(register.step(&Some(1), &cas, Some(&RegisterOutput::Ok)), Some(Some(2)));
//! assert_eq!(register.step(&Some(3), &cas, Some(&RegisterOutput::Ok)), None);
//! ```

use std::fmt;

use serde::{Deserialize, Serialize};

use super::refute::{refute_register, Refutation};
use super::{Footprint, Model};
use crate::history::Operation;

#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum RegisterInput {
    Read,
    Write(i64),
    Cas { expected: i64, new: i64 },
}

#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum RegisterOutput {
    /// A read's answer; `None` is nil (never written).
    Read(Option<i64>),
    /// A write or a compare-and-set that took effect.
    Ok,
}

/// The register model. `with_cas()` accepts compare-and-set; `plain()` is the same state machine
/// for histories that must not contain it (readers reject CAS operations for it). The register
/// starts nil unless given an initial value (Knossos' histories assume 0).
#[derive(Clone, Copy, Debug)]
pub struct RegisterModel {
    pub allows_cas: bool,
    pub initial: Option<i64>,
}

impl RegisterModel {
    pub fn plain() -> RegisterModel {
        RegisterModel { allows_cas: false, initial: None }
    }

    pub fn with_cas() -> RegisterModel {
        RegisterModel { allows_cas: true, initial: None }
    }

    /// The same register, starting at `initial` instead of nil.
    pub fn starting_at(self, initial: i64) -> RegisterModel {
        RegisterModel { initial: Some(initial), ..self }
    }
}

impl Model for RegisterModel {
    type Input = RegisterInput;
    type Output = RegisterOutput;
    /// `None`: nil.
    type State = Option<i64>;
    type Key = ();

    fn initial_state(&self) -> Option<i64> {
        self.initial
    }

    fn step(&self, state: &Option<i64>, input: &RegisterInput, output: Option<&RegisterOutput>) -> Option<Option<i64>> {
        match (input, output) {
            (RegisterInput::Read, None) => Some(*state),
            (RegisterInput::Read, Some(RegisterOutput::Read(read))) => (read == state).then_some(*state),
            (RegisterInput::Write(value), None | Some(RegisterOutput::Ok)) => Some(Some(*value)),
            // Unknown outcome: linearizing it here means it ran here, succeeding or not.
            (RegisterInput::Cas { expected, new }, None) => {
                Some(if *state == Some(*expected) { Some(*new) } else { *state })
            }
            (RegisterInput::Cas { expected, new }, Some(RegisterOutput::Ok)) => {
                (*state == Some(*expected) && self.allows_cas).then_some(Some(*new))
            }
            _ => None,
        }
    }

    fn footprint(&self, _input: &RegisterInput) -> Footprint<()> {
        Footprint::Keys(vec![()])
    }

    fn refute_without_search(&self, history: &[Operation<RegisterInput, RegisterOutput>]) -> Option<Refutation> {
        refute_register(history, self.initial)
    }

    fn is_read_only(&self, input: &RegisterInput) -> bool {
        matches!(input, RegisterInput::Read)
    }

    fn describe(&self, input: &RegisterInput, output: Option<&RegisterOutput>) -> String {
        match output {
            Some(output) => format!("{input} -> {output}"),
            None => format!("{input} -> ?"),
        }
    }
}

impl fmt::Display for RegisterInput {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RegisterInput::Read => write!(formatter, "read"),
            RegisterInput::Write(value) => write!(formatter, "write {value}"),
            RegisterInput::Cas { expected, new } => write!(formatter, "cas {expected}->{new}"),
        }
    }
}

impl fmt::Display for RegisterOutput {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RegisterOutput::Read(Some(value)) => write!(formatter, "{value}"),
            RegisterOutput::Read(None) => write!(formatter, "nil"),
            RegisterOutput::Ok => write!(formatter, "ok"),
        }
    }
}
