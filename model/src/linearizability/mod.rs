//! Linearizability checking that stays fast when FLUSHDB touches every key.
//!
//! ```
//! use replsim_model::check::SimTime;
//! use replsim_model::command::{Command, Db, Response};
//! use replsim_model::history::Operation;
//! use replsim_model::linearizability::{check_client_history, Options};
//! let op = |client, call, returned, input, output| Operation {
//!     client, call: SimTime(call), returned: Some(SimTime(returned)), input, output: Some(output),
//! };
//! // client 1  |--SET a 1--|   |--FLUSHDB--|
//! // client 2                                  |--GET a -> 1--|   stale: the flush came first
//! let history = vec![
//!     op(1, 0, 10, Command::set(Db(0), "a", "1"), Response::Ok),
//!     op(1, 20, 30, Command::FlushDb { db: Db(0) }, Response::Ok),
//!     op(2, 40, 50, Command::get(Db(0), "a"), Response::Value(Some("1".into()))),
//! ];
//! assert!(check_client_history(&history, &Options::default()).is_not_linearizable());
//! ```
//!
//! # The search (per partition)
//!
//! [`search`](self) is Wing–Gong's depth-first search with Lowe's memoisation, as in Porcupine:
//! try to linearize the pending operations in order, remember every (set of linearized
//! operations, state) pair already explored, backtrack when an operation's return passes before
//! it was placed. It runs on an explicit stack.
//!
//! It also looks ahead, as constraint solvers' forward checking does: a read of a value can be
//! linearized only while its key holds that value, so once every write of the value is
//! linearized, a change of the key strands any read of it still to be placed, and the branch is
//! dropped then and there (module `stranded`), not explored until that read's return. In dense
//! stretches of one key — thirty writes and reads and ten FLUSHDBs overlapping — that exploration
//! was most of a search's steps.
//!
//! # Partitions
//!
//! When the model's state is a product of per-key states and an operation touches only its keys
//! ([`Footprint::Keys`]), a history is linearizable iff each key's sub-history is (Herlihy and
//! Wing's locality; "P-compositionality" in Horn and Kroening). Keys joined by a multi-key
//! operation form one partition — unless the model cuts that operation into one part per key
//! ([`Model::split_into_parts`]: a DEL of several keys is a DEL of each, its count the sum of
//! theirs), which makes it a global operation over its keys alone (below).
//!
//! # Global operations (FLUSHDB)
//!
//! FLUSHDB touches every key, so locality does not apply directly: copying it into every key's
//! sub-history lets each key choose a *different* point for it. Here is what makes it exact.
//!
//! Suppose every global operation's linearization point were fixed. A [`Footprint::Global`]
//! operation acts on each key separately, answers nothing state-dependent and commutes with
//! other global operations, so with the points fixed the keys are independent again: the history
//! is linearizable iff, for some choice of points, every partition is linearizable with each
//! global operation pinned at its point. Only the order of a point relative to the call and
//! return events of keyed operations matters (moving a point within a gap between consecutive
//! events changes no constraint), so the candidate points of a global are the gaps its interval
//! spans, plus, for globals sharing a gap, their order within it. That is finite. From one
//! partition's view, gaps with none of its events between them are the same gap, which makes the
//! per-partition checks memoisable.
//!
//! ```text
//! keyed events:   c1   c2   r1   c3   r2   r3        gaps: 0 | 1 | 2 | 3 | 4 | 5 | 6
//! FLUSHDB:            |-----------------|            candidate gaps 2..=5
//! ```
//!
//! The check runs in three steps, each exact about what it concludes:
//!
//! 1. **Relaxed** (a refutation only). Every partition is searched with each global free in its
//!    whole interval. Fixing points only removes linearizations, so if any partition fails, the
//!    history is not linearizable — the verdict and its evidence come from that partition.
//! 2. **Agreement** (a proof only). Each partition's witness implies bounds on each global's
//!    gap: a keyed operation ordered before it must have been called before the point, one after
//!    it must return after the point, and two globals with a keyed operation between them keep
//!    their order (adjacent globals commute, so they may be swapped). If one gap per global
//!    satisfies every partition's bounds and the order graph is acyclic, the partitions' points
//!    can be merged — within each partition the witness is realisable with the globals at those
//!    points, and operations of different partitions commute — so the history is linearizable.
//! 3. **Narrowing** (exact). Otherwise each global's candidate gaps form a domain, first its
//!    whole interval. While the witnesses disagree, one global in conflict has its domain split
//!    in two — the half the later witness needs first, so every partition jumps there at once —
//!    and every partition is re-checked with the narrower domains: a partition that fails with
//!    a global confined to a half fails for every point in it (step 1's argument), so the half
//!    is cut in one check. A global down to one gap whose order with other globals there is
//!    disputed is pinned to each slot among them. Passing partitions whose witnesses agree end
//!    the search with a linearization; with every global pinned the partitions decide alone, so
//!    exhausting the search proves the history is not linearizable.
//!
//!    Three things keep step 3 cheap without changing what it concludes. A partition whose
//!    previous witness still keeps real time under the narrower domains is not searched again
//!    (same operations, same order: the model accepts it as before). One that must be searched
//!    starts from its previous witness's prefix before the moved global and rejoins that witness
//!    at the first configuration they share ([`search`](self)'s `Guide`; if that fails, a plain
//!    search decides). And when every alternative of a split has failed, the search backjumps
//!    over splits none of those failures could have seen: a failing partition search looks at
//!    events only up to some point, and globals whose domains begin after it cannot change its
//!    result (Prosser's conflict-directed backjumping).
//!
//!    Two more keep the number of splits down. Of two interchangeable globals (below) whose
//!    intervals are in the same order at both ends, the earlier may be taken to take effect
//!    first — swapping the points of an out-of-order pair keeps both in their intervals — so a
//!    domain narrowed for one narrows the others and mirror images are never searched. And the
//!    global split is one whose bounds cross, else one on a cycle of the order, choosing the
//!    one most failures were found under so far (a conflict weight, as in dom/wdeg): a region
//!    that keeps failing is split before unrelated globals above it, which would otherwise be
//!    retried for each of its alternatives.
//!
//!    And a partition that must be searched under narrowed domains first faces a necessary
//!    condition in O(n log n) ([`Model::effect_on_key`]; module `intervals`): every read needs
//!    a write of its value (nil: a clear, or the initial state) called before it returned, with
//!    nothing that undoes it wholly between them in real time. A global confined to a half is
//!    often just such an undoing: the half is then cut without a search, where proving that a
//!    partition of 1,400 operations fails took a plain search of ~145,000 steps. (In step 1 it
//!    waits for a search the first round did not decide, and explains a failed search when it
//!    can: it names the read's source and what undid it.)
//!
//! A split operation (a DEL of several keys) is a global operation of the partitions of its
//! parts only, and two more things hold it together. Its parts' answers must make up its own:
//! the relaxed check leaves each part free to answer anything; when the points agree, each
//! part's witness says what its key held there, and if no row of [`Parts::answers`] fits every
//! part, the rows are tried in turn like the halves of a domain (a fixed row is exact, so a
//! partition failing under it refutes the row). And its answer depends on what came before
//! it, so in the agreement step it keeps its order with every global beside it in a witness,
//! as a keyed operation does. Without this a few two-key DELs joined their keys into one
//! partition, and its search ran out of time or memory. Splitting has its own cost — one more
//! global to place per split operation — so by default ([`SplitOperations::Adaptive`]) a
//! history is first checked with its multi-key operations joined, for a few search steps, and
//! split only if that does not decide: both answers are exact.
//!
//! Globals of one effect class ([`Model::global_effect_class`]: two FLUSHDBs of one database)
//! are interchangeable, which prunes both searches: among pending ones the partition search
//! tries only the one that must return first (any linearization placing another there can swap
//! the two), and in one gap they keep their index order. So back-to-back FLUSHDBs with no
//! keyed operation between them cost one placement, not one per order.
//!
//! A global that overlaps no keyed operation has a single candidate gap: it is the "split the
//! history at a quiescent FLUSHDB" special case, and after it every partition's state is the
//! same for all linearizations, which the memo of the search collapses to one.
//!
//! # Before the search
//!
//! [`refute`] checks necessary conditions in one pass (a read of a value nobody wrote in time,
//! an impossible DEL count): a history failing one is refuted at once, whatever its size.
//!
//! # Budgets
//!
//! [`Options`] bound time, steps and memo memory. When one runs out the answer is
//! [`Verdict::Unknown`], never a guess.

pub mod brute_force;
mod budget;
mod decompose;
pub mod generate;
mod intervals;
pub mod kv;
mod model;
pub mod order;
pub mod porcupine_kv;
mod prepare;
pub mod refute;
pub mod register;
mod search;
mod stranded;
mod verdict;

pub use budget::{Options, SplitOperations, WHOLE_FIRST_STEPS};
pub use intervals::KeyEffect;
pub use model::{Footprint, Model, Parts, Shared};
pub use verdict::{Counterexample, PartitionOrder, Verdict, Witness};

use crate::command::{Command, Response};
use crate::history::Operation;

/// Checks `history` against `model`. Operations that never returned may have taken effect at
/// any point after their call, or never.
pub fn check<M: Model>(model: &M, history: &[Operation<M::Input, M::Output>], options: &Options) -> Verdict {
    if let Some(refutation) = model.refute_without_search(history) {
        return Verdict::NotLinearizable(decompose::refuted(model, history, &refutation));
    }
    let mut meter = budget::Meter::new(options);
    let prepared = prepare::Prepared::new(model, history, options.split_operations != SplitOperations::Never);
    if options.split_operations != SplitOperations::Adaptive || !prepared.has_split_operations() {
        return decompose::check_prepared(model, history, &prepared, &mut meter, options.threads);
    }
    let whole = prepare::Prepared::new(model, history, false);
    let mut first = meter.capped(WHOLE_FIRST_STEPS);
    let verdict = decompose::check_prepared(model, history, &whole, &mut first, options.threads);
    meter.join(&first);
    match verdict {
        // Either answer is exact; only running out sends the check on to the split search.
        Verdict::Unknown(_) => decompose::check_prepared(model, history, &prepared, &mut meter, options.threads),
        decided => decided,
    }
}

/// Checks a replsim client history (the operations clients sent to the primary) against the
/// key-value model.
pub fn check_client_history(history: &[Operation<Command, Response>], options: &Options) -> Verdict {
    check(&kv::KvModel, history, options)
}
