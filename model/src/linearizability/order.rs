//! Checking one proposed order instead of searching for one.
//!
//! A simulation knows the order in which its primary executed the clients' operations. If that
//! order is a linearization — it respects real time and the model accepts it step by step — the
//! history is linearizable, with that order as the witness. Verifying takes one pass; the search
//! is only needed when the proposal fails. A wrong proposal can never produce a wrong verdict:
//! a failed verification decides nothing and falls back to the full check.
//!
//! ```text
//! history:   a |--SET x 1--|            proposal: a, b   -> verified: linearizable
//!            b        |--GET x -> 1--|  proposal: b, a   -> GET x -> 1 before SET: search instead
//! ```

use std::fmt;

use super::kv::KvModel;
use super::model::Model;
use super::verdict::{PartitionOrder, Verdict, Witness};
use super::{check, Options};
use crate::command::{Command, Response};
use crate::history::Operation;
use crate::store::Store;

/// Why a proposed order is not a linearization.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Rejection {
    /// The proposal names an operation twice, or one that is not in the history.
    NotAPermutation { index: usize },
    /// An operation that returned is missing (only operations without a return may be left out:
    /// they may never have taken effect).
    Missing { index: usize },
    /// `later` is placed after `earlier` but returned before `earlier` was called.
    RealTime { earlier: usize, later: usize },
    /// The model cannot take this operation's step with its recorded answer.
    Model { index: usize },
}

impl fmt::Display for Rejection {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Rejection::NotAPermutation { index } => {
                write!(formatter, "operation {index} is placed twice or does not exist")
            }
            Rejection::Missing { index } => write!(formatter, "operation {index} returned but is not placed"),
            Rejection::RealTime { earlier, later } => {
                write!(formatter, "operation {later} is placed after {earlier} but returned before it was called")
            }
            Rejection::Model { index } => {
                write!(formatter, "operation {index} cannot answer what it answered at its place")
            }
        }
    }
}

/// Verifies that `order` (indices into `history`) is a linearization of `history` under `model`.
pub fn verify_order<M: Model>(
    model: &M,
    history: &[Operation<M::Input, M::Output>],
    order: &[usize],
) -> Result<(), Rejection> {
    let mut state = model.initial_state();
    verify_with(history, order, |operation| match model.step(&state, &operation.input, operation.output.as_ref()) {
        Some(next) => {
            state = next;
            true
        }
        None => false,
    })
}

/// [`verify_order`] for replsim's key-value histories, stepping one mutable reference [`Store`]
/// instead of cloning the model's state at every operation (the simulation verifies one order
/// per run, so this is on the fuzzing hot path).
pub fn verify_kv_order(history: &[Operation<Command, Response>], order: &[usize]) -> Result<(), Rejection> {
    let mut store = Store::default();
    verify_with(history, order, |operation| {
        // A placed operation took effect, answered or not.
        let response = store.execute(&operation.input);
        operation.output.as_ref().is_none_or(|output| *output == response)
    })
}

/// The real-time and completeness rules of a linearization; `accepts` steps the model.
fn verify_with<I, O>(
    history: &[Operation<I, O>],
    order: &[usize],
    mut accepts: impl FnMut(&Operation<I, O>) -> bool,
) -> Result<(), Rejection> {
    let mut placed = vec![false; history.len()];
    // The latest call among the operations placed so far: an operation that returned before it
    // cannot come after all of them.
    let mut latest_call: Option<(crate::check::SimTime, usize)> = None;
    for &index in order {
        let Some(operation) = history.get(index) else { return Err(Rejection::NotAPermutation { index }) };
        if std::mem::replace(&mut placed[index], true) {
            return Err(Rejection::NotAPermutation { index });
        }
        if let (Some(returned), Some((call, earlier))) = (operation.returned, latest_call) {
            if returned < call {
                return Err(Rejection::RealTime { earlier, later: index });
            }
        }
        if latest_call.is_none_or(|(call, _)| operation.call > call) {
            latest_call = Some((operation.call, index));
        }
        if !accepts(operation) {
            return Err(Rejection::Model { index });
        }
    }
    match history.iter().enumerate().find(|(index, operation)| operation.returned.is_some() && !placed[*index]) {
        Some((index, _)) => Err(Rejection::Missing { index }),
        None => Ok(()),
    }
}

/// Checks a replsim key-value `history`, trying `proposal` first: linearizable with `proposal` as
/// the witness when it verifies ([`verify_kv_order`]), otherwise whatever the full [`check`] finds.
pub fn check_kv_with_proposal(
    history: &[Operation<Command, Response>],
    proposal: &[usize],
    options: &Options,
) -> Verdict {
    match verify_kv_order(history, proposal) {
        Ok(()) => proposed(proposal),
        Err(_) => check(&KvModel, history, options),
    }
}

fn proposed(order: &[usize]) -> Verdict {
    Verdict::Linearizable(Witness {
        partitions: vec![PartitionOrder { name: "proposed order".to_string(), order: order.to_vec() }],
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::SimTime;
    use crate::command::Db;

    fn op(call: u64, returned: Option<u64>, input: Command, output: Option<Response>) -> Operation<Command, Response> {
        Operation { client: call, call: SimTime(call), returned: returned.map(SimTime), input, output }
    }

    fn history() -> Vec<Operation<Command, Response>> {
        vec![
            op(0, Some(10), Command::set(Db(0), "x", "1"), Some(Response::Ok)),
            op(5, Some(20), Command::get(Db(0), "x"), Some(Response::Value(Some("1".into())))),
            op(25, Some(30), Command::FlushDb { db: Db(0) }, Some(Response::Ok)),
            op(26, None, Command::set(Db(0), "x", "2"), None),
        ]
    }

    #[test]
    fn a_true_order_verifies_and_the_pending_write_may_be_left_out() {
        assert_eq!(verify_order(&KvModel, &history(), &[0, 1, 2]), Ok(()));
        assert_eq!(verify_order(&KvModel, &history(), &[0, 1, 2, 3]), Ok(()));
    }

    #[test]
    fn the_store_based_verifier_agrees_with_the_model_based_one() {
        let history = history();
        for order in [&[0, 1, 2][..], &[0, 1, 2, 3], &[1, 0, 2], &[0, 2, 1], &[0, 1], &[0, 0, 1, 2], &[0, 1, 2, 9]] {
            assert_eq!(verify_kv_order(&history, order), verify_order(&KvModel, &history, order), "{order:?}");
        }
    }

    #[test]
    fn each_kind_of_wrong_order_is_rejected() {
        let history = history();
        assert_eq!(verify_order(&KvModel, &history, &[1, 0, 2]), Err(Rejection::Model { index: 1 }));
        assert_eq!(verify_order(&KvModel, &history, &[0, 2, 1]), Err(Rejection::RealTime { earlier: 2, later: 1 }));
        assert_eq!(verify_order(&KvModel, &history, &[0, 1]), Err(Rejection::Missing { index: 2 }));
        assert_eq!(verify_order(&KvModel, &history, &[0, 0, 1, 2]), Err(Rejection::NotAPermutation { index: 0 }));
        assert_eq!(verify_order(&KvModel, &history, &[0, 1, 2, 9]), Err(Rejection::NotAPermutation { index: 9 }));
    }

    #[test]
    fn a_failed_proposal_falls_back_to_the_search_in_both_directions() {
        let options = Options::default();
        // Wrong proposal, linearizable history: the search still finds it linearizable.
        assert!(check_kv_with_proposal(&history(), &[1, 0, 2], &options).is_linearizable());
        // A history no order explains: reading a value never written.
        let mut bad = history();
        bad[1].output = Some(Response::Value(Some("7".into())));
        assert!(check_kv_with_proposal(&bad, &[0, 1, 2], &options).is_not_linearizable());
    }
}
