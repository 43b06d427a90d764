//! The seam between "what is correct" and "how to search": a sequential specification.
//!
//! ```
//! use replsim_model::linearizability::{Footprint, Model};
//! use replsim_model::linearizability::register::{RegisterModel, RegisterInput, RegisterOutput};
//! let register = RegisterModel::with_cas();
//! let written = register.step(&register.initial_state(), &RegisterInput::Write(3), Some(&RegisterOutput::Ok));
//! assert_eq!(written, Some(Some(3)));
//! assert!(matches!(register.footprint(&RegisterInput::Read), Footprint::Keys(_)));
//! ```

use std::fmt::Debug;
use std::hash::Hash;

use super::intervals::KeyEffect;
use super::refute::Refutation;
use crate::history::Operation;

/// Which part of the state an operation reads or writes, so the checker can split the history.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Footprint<Key> {
    /// The operation reads and writes only these keys (one partition per connected set of keys).
    Keys(Vec<Key>),
    /// The operation may change every key (FLUSHDB, FLUSHALL). The contract that makes the
    /// decomposition in [`crate::linearizability`] exact: its effect on the state restricted to
    /// any set of keys depends only on that restriction, its output carries no information (any
    /// state accepts it), and any two global operations commute.
    Global,
}

/// A sequential specification: the state machine every linearization must follow.
///
/// `State` must describe only the keys it holds: a partition of the history starts from
/// `initial_state()` and only ever sees operations on its own keys and the global operations.
///
/// The bounds on threads let the checker search partitions on several cores
/// ([`Options::threads`](super::Options::threads)).
pub trait Model: Sync {
    type Input: Sync;
    type Output: Sync;
    type State: Clone + Eq + Hash + Send;
    type Key: Ord + Clone + Debug;

    fn initial_state(&self) -> Self::State;

    /// The state after `input` if it can answer `output` from `state`; `None` if it cannot.
    /// `output: None` (no answer reached the client) is accepted from every state.
    fn step(&self, state: &Self::State, input: &Self::Input, output: Option<&Self::Output>) -> Option<Self::State>;

    /// Whether stepping `input` from `state` gives what it gives from every other state for
    /// which this holds too (the same acceptance, an equal state): a SET of the only key a
    /// state holds, or of an empty one. A search then steps such an operation once and reuses
    /// the state it got (allocating it anew at every step was a fifth of a long-FLUSHDB check).
    /// `false` (the default): no such claim.
    fn step_ignores_state(&self, _state: &Self::State, _input: &Self::Input) -> bool {
        false
    }

    fn footprint(&self, input: &Self::Input) -> Footprint<Self::Key>;

    /// Whether the input never changes the state: such an operation without an answer constrains
    /// nothing and is dropped before the search.
    fn is_read_only(&self, input: &Self::Input) -> bool;

    /// For a [`Footprint::Global`] operation: a class such that two globals of one class have
    /// the same effect on every state (two FLUSHDBs of one database). The search then tries,
    /// among pending globals of a class, only the one that must return first: any linearization
    /// placing another of them there can swap the two. `None` (the default): no such claim.
    fn global_effect_class(&self, _input: &Self::Input) -> Option<u64> {
        None
    }

    /// For an operation on several keys that acts on each key alone (a DEL of several keys):
    /// the same operation cut into one part per key, so that it need not join its keys'
    /// partitions into one search. The checker then treats it like a global operation over
    /// those keys only: every part at one point, with answers that make up the whole's.
    ///
    /// The contract: the operation's effect on each key is its part's, each part touches only
    /// its key, and the whole answers `output` from a state iff, for some row of
    /// [`Parts::answers`], every part answers its entry of the row from that state. `None` (the
    /// default): the operation stays whole and joins its keys' partitions.
    fn split_into_parts(
        &self,
        _input: &Self::Input,
        _output: Option<&Self::Output>,
    ) -> Option<Parts<Self::Key, Self::Input, Self::Output>> {
        None
    }

    /// Necessary conditions cheap enough to check before any search (see
    /// [`refute`](super::refute)): `Some` names an operation whose answer no order explains.
    /// The default checks nothing.
    fn refute_without_search(&self, _history: &[Operation<Self::Input, Self::Output>]) -> Option<Refutation> {
        None
    }

    /// What the operation needs of `key` before it and leaves in it, for a necessary condition
    /// the checker tests before searching a partition under narrowed positions (see
    /// `intervals` module of [`linearizability`](super)): a read needs a write of its value (or, for nil, a clear
    /// or the initial state, which must hold no key) with nothing wholly between them in real
    /// time that undoes it. [`KeyEffect::Unknown`] (the default) skips the test for the key.
    fn effect_on_key(&self, _input: &Self::Input, _output: Option<&Self::Output>, _key: &Self::Key) -> KeyEffect {
        KeyEffect::Unknown
    }

    /// One line for reports, e.g. `GET a -> 1`.
    fn describe(&self, input: &Self::Input, output: Option<&Self::Output>) -> String;
}

/// An operation cut into one part per key: see [`Model::split_into_parts`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Parts<Key, Input, Output> {
    /// One operation per key, the keys distinct.
    pub parts: Vec<(Key, Input)>,
    /// Every way the whole answer splits into one answer per part, each row in the order of
    /// `parts`; `None` in a row accepts any answer. No row: no state gives the whole answer.
    pub answers: Vec<Vec<Option<Output>>>,
}

/// An immutable state whose hash is computed once: cloning it is a reference-count bump (atomic, so states may cross threads) and
/// hashing it reads the cached hash, which keeps memoised search cheap for states holding
/// strings or maps. Read-only steps return a clone of the same `Shared`.
///
/// ```
/// use replsim_model::linearizability::Shared;
/// let state = Shared::new(vec!["a".to_string()]);
/// assert_eq!(state.clone(), Shared::new(vec!["a".to_string()]));
/// assert_eq!(state[0], "a");
/// ```
pub struct Shared<T>(std::sync::Arc<(u64, T)>);

impl<T: Hash> Shared<T> {
    pub fn new(value: T) -> Shared<T> {
        let mut hasher = super::search::FastHasher::default();
        value.hash(&mut hasher);
        Shared(std::sync::Arc::new((std::hash::Hasher::finish(&hasher), value)))
    }
}

impl<T> Shared<T> {
    /// With a hash the caller keeps incrementally. It must be a function of the value alone
    /// (equal values, equal hashes), or equal states would be explored twice.
    pub fn with_hash(value: T, hash: u64) -> Shared<T> {
        Shared(std::sync::Arc::new((hash, value)))
    }

    pub fn cached_hash(&self) -> u64 {
        self.0 .0
    }
}

impl<T> Clone for Shared<T> {
    fn clone(&self) -> Shared<T> {
        Shared(std::sync::Arc::clone(&self.0))
    }
}

impl<T> std::ops::Deref for Shared<T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.0 .1
    }
}

impl<T> Hash for Shared<T> {
    fn hash<H: std::hash::Hasher>(&self, hasher: &mut H) {
        hasher.write_u64(self.0 .0);
    }
}

impl<T: PartialEq> PartialEq for Shared<T> {
    fn eq(&self, other: &Shared<T>) -> bool {
        std::sync::Arc::ptr_eq(&self.0, &other.0) || (self.0 .0 == other.0 .0 && self.0 .1 == other.0 .1)
    }
}

impl<T: Eq> Eq for Shared<T> {}

impl<T: Debug> Debug for Shared<T> {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0 .1.fmt(formatter)
    }
}
