//! The plain reference: try every order that respects real time, on the whole state, with no
//! partitions, no memo and no shortcuts. Exponential; for cross-checking small histories only.

use super::Model;
use crate::history::Operation;

/// `Some(linearizable)`, or `None` if `steps_max` orders-steps were not enough.
pub fn check_brute_force<M: Model>(
    model: &M,
    history: &[Operation<M::Input, M::Output>],
    steps_max: u64,
) -> Option<bool> {
    let count = history.len();
    // a must precede b when a returned strictly before b was called.
    let precedes = |a: usize, b: usize| history[a].returned.is_some_and(|returned| returned < history[b].call);
    let mut placed = vec![false; count];
    // Each frame: the op placed at this depth, the state before it.
    let mut stack: Vec<(usize, M::State)> = Vec::with_capacity(count);
    let mut state = model.initial_state();
    let mut next_candidate = 0;
    let mut steps = 0u64;
    loop {
        steps += 1;
        if steps > steps_max {
            return None;
        }
        if stack.len() == count {
            return Some(true);
        }
        let chosen = (next_candidate..count).find_map(|candidate| {
            let ready = !placed[candidate] && (0..count).all(|other| placed[other] || !precedes(other, candidate));
            if !ready {
                return None;
            }
            let op = &history[candidate];
            model.step(&state, &op.input, op.output.as_ref()).map(|next| (candidate, next))
        });
        match chosen {
            Some((candidate, next_state)) => {
                placed[candidate] = true;
                stack.push((candidate, std::mem::replace(&mut state, next_state)));
                next_candidate = 0;
            }
            None => {
                let Some((undone, previous_state)) = stack.pop() else { return Some(false) };
                placed[undone] = false;
                state = previous_state;
                next_candidate = undone + 1;
            }
        }
    }
}
