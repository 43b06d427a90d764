//! Client histories: what each client asked, when, and what it was told.
//!
//! ```text
//! client 1  |--SET a 1--|            |--GET a -> 1--|
//! client 2        |--FLUSHDB--|   |--GET a -> nil ... (never returned)
//!           call            return
//! ```
//!
//! An operation whose return never arrived (a crashed client, a timeout) has `returned: None`: it
//! may or may not have taken effect, at any time after its call.

use serde::{Deserialize, Serialize};

use crate::check::SimTime;

/// One client operation of a history with inputs `I` and outputs `O`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Operation<I, O> {
    pub client: u64,
    pub call: SimTime,
    /// `None`: no answer reached the client; the operation's effect is indeterminate.
    pub returned: Option<SimTime>,
    pub input: I,
    /// Present exactly when `returned` is.
    pub output: Option<O>,
}

impl<I, O> Operation<I, O> {
    pub fn is_complete(&self) -> bool {
        self.returned.is_some()
    }
}
