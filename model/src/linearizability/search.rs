//! Wing–Gong search with Lowe's memoisation, the engine behind every partition.
//!
//! ```text
//! events, in time order:   call A   call B   return A   call C   return B   return C
//! list:                    [cA] <-> [cB] <-> [rA] <-> [cC] <-> [rB] <-> [rC]
//! ```
//!
//! The search walks the doubly linked list of call and return events from its head. At a call it
//! tries to linearize that operation next: if the model accepts it and the pair (set of
//! linearized operations, state) was never seen, the operation's two events are unlinked and the
//! walk restarts from the head. Reaching a return event means its operation should already have
//! been linearized: the last choice is undone (events relinked, state restored) and the walk
//! continues after that choice's call. An empty list is a linearization; backtracking past the
//! first choice means there is none. The choices live on an explicit stack (no recursion), and
//! each memo entry is a bitset plus a state, found through an incrementally kept hash.

use std::hash::{Hash, Hasher};

use super::budget::Meter;
use super::stranded::ReadWatch;
use super::Model;

/// One operation of a partition, its events placed on the partition's own timeline.
pub(crate) struct SearchOp<'history, Input, Output> {
    pub input: &'history Input,
    pub output: Option<&'history Output>,
    /// Events at equal positions: calls come before returns (so touching intervals overlap).
    pub call_position: u64,
    /// `u64::MAX`: never returned.
    pub return_position: u64,
    /// [`Model::global_effect_class`] of a global operation.
    pub effect_class: Option<u64>,
}

// By hand: derived, they would ask `Input` and `Output` to be `Copy`, not just the references.
impl<Input, Output> Clone for SearchOp<'_, Input, Output> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<Input, Output> Copy for SearchOp<'_, Input, Output> {}

/// Why a partition has no linearization, in terms of its own operation indices.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Stuck {
    /// The longest sequence of operations the search could linearize.
    pub longest_prefix: Vec<usize>,
    /// After that prefix, this operation's return came before it could be linearized...
    pub blocked: usize,
    /// ...whatever order of these pending operations (blocked included) was tried.
    pub pending: Vec<usize>,
    /// The latest position of an event the search looked at. Operations whose calls lie
    /// beyond it played no part: moved anywhere else beyond it, the search fails the same way.
    pub seen_through: u64,
    /// The latest position the failure depends on: `seen_through`, and the earlier return of
    /// each pair of pending operations whose returns were compared. Under any other positions
    /// that agree on every event up to it (the same events there, at the same positions), the
    /// search takes the same steps and fails the same way. `u64::MAX`: not known to depend on
    /// less than all positions (a failure found otherwise than by a search).
    pub depends_through: u64,
    /// Whether the search dropped orders that stranded a read (see [`ReadWatch`]): then some
    /// order of the pending operations may let the blocked one in, but leaves a read that can
    /// no longer see its value.
    pub stranding_dropped: bool,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum SearchOutcome {
    /// Operation indices in linearization order.
    Linearizable(Vec<usize>),
    NotLinearizable(Stuck),
    OutOfBudget(String),
    /// The step allowance ran out without a decision; the search can be resumed.
    Undecided,
    /// A search started from a [`Guide`]'s prefix found no linearization extending it. That
    /// proves nothing about the partition: search again without the guide.
    GuideExhausted,
}

/// A linearization found under other positions of the global operations, to start from and to
/// rejoin. Narrowing one global's domain moves it in a partition's order, but the order before
/// the move still holds and, soon after, the search reaches a configuration (linearized set and
/// state) that the old order also reached: from there the old order's remainder completes it,
/// since a configuration's completions depend on nothing else.
pub(crate) struct Guide<State> {
    /// Local operation indices, a linearization under the old positions.
    order: Vec<u32>,
    /// `order[..prefix_len]` is replayed without a search: it is a linearization prefix under
    /// the new positions too (see [`Guide::new`]).
    prefix_len: usize,
    /// Per length `i`: the Zobrist hash of the set `order[..i]`, and the state after it. The
    /// states are replayed only as far as the search asks (see [`Guide::extend_states`]): a
    /// guided search mostly rejoins soon after the moved operation, and replaying the whole
    /// order through the model for every guided search cost a tenth of the time.
    set_hashes: Vec<u64>,
    states: Vec<State>,
    /// Per length `i`, under the new positions: whether `order[i..]` keeps real time, and the
    /// earliest return in it (`u64::MAX` for none).
    remainder_in_time: Vec<bool>,
    remainder_earliest_return: Vec<u64>,
    /// Whether every operation the order leaves out may be left out under the new positions
    /// (it never returned): otherwise no rejoined order is complete.
    others_may_be_left_out: bool,
}

impl<State: Clone> Guide<State> {
    /// `order` must be a linearization of `ops` under `old_positions` (per local operation:
    /// call, return), and `ops` carry the new positions; only global operations may differ.
    /// `accepted`: whether `ops` carry the answers `order` was found with (then the model
    /// accepts it as before, and its states are `known_states` if given — the state after
    /// each prefix — or replayed lazily); otherwise it is replayed now. `None` when nothing of
    /// it can be used or the model does not accept it.
    pub fn new<M: Model<State = State>>(
        model: &M,
        ops: &[SearchOp<'_, M::Input, M::Output>],
        order: &[u32],
        old_positions: impl Fn(u32) -> (u64, u64),
        accepted: bool,
        known_states: &[State],
    ) -> Option<Guide<State>> {
        // Every operation of the prefix must return before any moved operation is called, in
        // both the old and the new positions: then no moved operation can be forced before a
        // prefix operation, and each prefix operation, placed, waited for nothing outside the
        // prefix (the old order was a linearization and the rest kept its positions).
        let moved_from = (0..ops.len() as u32)
            .filter_map(|op| {
                let (old_call, old_return) = old_positions(op);
                let op_now = &ops[op as usize];
                let moved = (old_call, old_return) != (op_now.call_position, op_now.return_position);
                moved.then_some(old_call.min(op_now.call_position))
            })
            .min()?;
        let prefix_len = order
            .iter()
            .position(|&op| {
                let op_now = &ops[op as usize];
                op_now.return_position >= moved_from
                    || old_positions(op) != (op_now.call_position, op_now.return_position)
            })
            .unwrap_or(order.len());
        let mut set_hashes = Vec::with_capacity(order.len() + 1);
        let mut hash = 0;
        set_hashes.push(hash);
        for &op in order {
            hash ^= zobrist(op);
            set_hashes.push(hash);
        }
        let mut states = Vec::with_capacity(order.len() + 1);
        if accepted && known_states.len() == order.len() + 1 {
            states.extend_from_slice(known_states);
        } else {
            states.push(model.initial_state());
        }
        if !accepted {
            for &op in order {
                let op_now = &ops[op as usize];
                let next = model.step(states.last().expect("the initial state"), op_now.input, op_now.output)?;
                states.push(next);
            }
        }
        let mut remainder_in_time = vec![true; order.len() + 1];
        let mut remainder_earliest_return = vec![u64::MAX; order.len() + 1];
        for index in (0..order.len()).rev() {
            let op_now = &ops[order[index] as usize];
            remainder_in_time[index] =
                remainder_in_time[index + 1] && op_now.call_position <= remainder_earliest_return[index + 1];
            remainder_earliest_return[index] = remainder_earliest_return[index + 1].min(op_now.return_position);
        }
        let mut in_order = vec![false; ops.len()];
        for &op in order {
            in_order[op as usize] = true;
        }
        let others_may_be_left_out = (0..ops.len()).all(|op| in_order[op] || ops[op].return_position == u64::MAX);
        Some(Guide {
            order: order.to_vec(),
            prefix_len,
            set_hashes,
            states,
            remainder_in_time,
            remainder_earliest_return,
            others_may_be_left_out,
        })
    }

    /// Replays `order` through the model until the state after `length` operations is known.
    fn extend_states<M: Model<State = State>>(
        &mut self,
        model: &M,
        ops: &[SearchOp<'_, M::Input, M::Output>],
        length: usize,
    ) {
        // Bounded by `length`, at most the order's length: each turn adds one state.
        while self.states.len() <= length {
            let op_now = &ops[self.order[self.states.len() - 1] as usize];
            let last = self.states.last().expect("the initial state");
            let next = model.step(last, op_now.input, op_now.output).expect("a guide's order is accepted by the model");
            self.states.push(next);
        }
    }
}

/// Whether `order` (local indices) is a linearization of `ops` as far as real time goes: no
/// operation returns before one placed earlier is called, and every operation that returned is
/// placed. (The model's acceptance is the caller's to know.)
pub(crate) fn respects_real_time(op_count: usize, order: &[u32], positions: impl Fn(u32) -> (u64, u64)) -> bool {
    let mut placed = vec![false; op_count];
    let mut latest_call = 0u64;
    for &op in order {
        if std::mem::replace(&mut placed[op as usize], true) {
            return false;
        }
        let (call, returned) = positions(op);
        if returned < latest_call {
            return false;
        }
        latest_call = latest_call.max(call);
    }
    (0..op_count as u32).all(|op| placed[op as usize] || positions(op).1 == u64::MAX)
}

/// Entry ids: `2 * op` is the call of `op`, `2 * op + 1` its return; `sentinel` heads the list.
struct EventList {
    next: Vec<u32>,
    previous: Vec<u32>,
    sentinel: u32,
}

const NO_ENTRY: u32 = u32::MAX;

/// Where event `entry` (see [`EventList`]) stands in a search's list: by position, calls
/// before returns at one position, then by operation. `positions` gives an operation's
/// (call, return).
fn event_order_key(entry: u32, positions: impl Fn(usize) -> (u64, u64)) -> (u64, u32, u32) {
    let (call, returned) = positions((entry / 2) as usize);
    (if entry.is_multiple_of(2) { call } else { returned }, entry % 2, entry / 2)
}

/// Puts `entries` (events of `ops`) in a search's list order. A stable sort, which is quick on
/// entries already nearly in order: pass them in the order of an earlier search's (a partition's
/// globals mostly keep their order from one search to the next).
pub(crate) fn sort_events<I, O>(ops: &[SearchOp<'_, I, O>], entries: &mut [u32]) {
    entries.sort_by_key(|&entry| event_order_key(entry, |op| (ops[op].call_position, ops[op].return_position)));
}

impl EventList {
    /// `sorted_prefix`: the entries of the first `sorted_prefix.len() / 2` operations, and
    /// `sorted_rest`: those of the others, each already in list order (see [`sort_events`]);
    /// they are merged.
    fn new<I, O>(ops: &[SearchOp<'_, I, O>], sorted_prefix: &[u32], sorted_rest: &[u32]) -> EventList {
        let order_key = |entry: u32| event_order_key(entry, |op| (ops[op].call_position, ops[op].return_position));
        debug_assert!(
            sorted_prefix.len().is_multiple_of(2) && sorted_prefix.len() + sorted_rest.len() == 2 * ops.len()
        );
        debug_assert!(sorted_prefix.windows(2).all(|pair| order_key(pair[0]) < order_key(pair[1])));
        debug_assert!(sorted_rest.windows(2).all(|pair| order_key(pair[0]) < order_key(pair[1])));
        debug_assert!(sorted_rest.iter().all(|&entry| entry as usize >= sorted_prefix.len()));
        let rest = sorted_rest.iter().copied();
        let mut entries: Vec<u32> = Vec::with_capacity(2 * ops.len());
        let (mut prefix, mut rest) = (sorted_prefix.iter().copied().peekable(), rest.peekable());
        // Bounded by the two lists' lengths: each turn takes one entry.
        loop {
            let next = match (prefix.peek(), rest.peek()) {
                (Some(&a), Some(&b)) if order_key(a) < order_key(b) => prefix.next(),
                (Some(_), Some(_)) => rest.next(),
                (Some(_), None) => prefix.next(),
                (None, Some(_)) => rest.next(),
                (None, None) => break,
            };
            entries.extend(next);
        }
        let sentinel = 2 * ops.len() as u32;
        let mut next = vec![NO_ENTRY; ops.len() * 2 + 1];
        let mut previous = vec![NO_ENTRY; ops.len() * 2 + 1];
        let mut last = sentinel;
        for &entry in &entries {
            next[last as usize] = entry;
            previous[entry as usize] = last;
            last = entry;
        }
        EventList { next, previous, sentinel }
    }

    fn first(&self) -> u32 {
        self.next[self.sentinel as usize]
    }

    fn unlink(&mut self, entry: u32) {
        let (before, after) = (self.previous[entry as usize], self.next[entry as usize]);
        self.next[before as usize] = after;
        if after != NO_ENTRY {
            self.previous[after as usize] = before;
        }
    }

    /// Undoes `unlink(entry)`; valid only in the reverse order of the unlinks.
    fn relink(&mut self, entry: u32) {
        let (before, after) = (self.previous[entry as usize], self.next[entry as usize]);
        self.next[before as usize] = entry;
        if after != NO_ENTRY {
            self.previous[after as usize] = entry;
        }
    }

    fn lift(&mut self, op: u32) {
        self.unlink(2 * op);
        self.unlink(2 * op + 1);
    }

    fn unlift(&mut self, op: u32) {
        self.relink(2 * op + 1);
        self.relink(2 * op);
    }
}

/// The linearized set, with a Zobrist hash kept up to date as bits flip.
struct LinearizedSet {
    words: Vec<u64>,
    hash: u64,
}

impl LinearizedSet {
    fn new(op_count: usize) -> LinearizedSet {
        LinearizedSet { words: vec![0; op_count.div_ceil(64)], hash: 0 }
    }

    fn contains(&self, op: u32) -> bool {
        self.words[(op / 64) as usize] & (1 << (op % 64)) != 0
    }

    fn flip(&mut self, op: u32) {
        self.words[(op / 64) as usize] ^= 1 << (op % 64);
        self.hash ^= zobrist(op);
    }
}

fn zobrist(op: u32) -> u64 {
    // splitmix64 of the op index: a fixed, well-mixed key per bit.
    let mut mixed = u64::from(op).wrapping_add(0x9E37_79B9_7F4A_7C15);
    mixed = (mixed ^ (mixed >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    mixed = (mixed ^ (mixed >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    mixed ^ (mixed >> 31)
}

/// A small, fast, deterministic hasher (the FxHash mix) for states and memo entries.
#[derive(Default)]
pub(crate) struct FastHasher {
    hash: u64,
}

impl Hasher for FastHasher {
    fn write(&mut self, bytes: &[u8]) {
        for chunk in bytes.chunks(8) {
            let mut word = [0u8; 8];
            word[..chunk.len()].copy_from_slice(chunk);
            self.write_u64(u64::from_le_bytes(word));
        }
    }

    fn write_u64(&mut self, word: u64) {
        self.hash = (self.hash.rotate_left(5) ^ word).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
    }

    fn write_u8(&mut self, byte: u8) {
        self.write_u64(u64::from(byte));
    }

    fn write_u32(&mut self, word: u32) {
        self.write_u64(u64::from(word));
    }

    fn write_usize(&mut self, word: usize) {
        self.write_u64(word as u64);
    }

    fn finish(&self) -> u64 {
        self.hash
    }
}

fn hash_of<T: Hash>(value: &T) -> u64 {
    let mut hasher = FastHasher::default();
    value.hash(&mut hasher);
    hasher.finish()
}

/// The explored (linearized set, state) pairs in an open-addressing table, so that a lookup
/// allocates nothing and a new pair costs no allocation of its own: the bitsets live back to
/// back in one vector and the slots hold entry indices.
struct Memo<State> {
    /// Linear probing; a slot holds `entry index + 1`, or 0 when empty. The length is a power of
    /// two, kept at least twice the number of entries so that probes stay short.
    slots: Vec<u32>,
    words_per_set: usize,
    /// Entry `i`'s bitset is `sets[i * words_per_set..][..words_per_set]`.
    sets: Vec<u64>,
    /// Per entry: the pair's hash and its state.
    entries: Vec<(u64, State)>,
}

const MEMO_SLOTS_MIN: usize = 64;

/// Memo growth smaller than this is left to the periodic check of the resident size.
const GROWTH_CHECKED_BYTES_MIN: usize = 1 << 20;

impl<State: Clone + Eq> Memo<State> {
    fn new(words_per_set: usize) -> Memo<State> {
        Memo { slots: vec![0; MEMO_SLOTS_MIN], words_per_set, sets: Vec::new(), entries: Vec::new() }
    }

    /// Estimated bytes per entry: its state's inline size, its bitset and its slots.
    fn entry_bytes(&self) -> usize {
        std::mem::size_of::<(u64, State)>() + self.words_per_set * 8 + 2 * 4
    }

    /// The first slot to probe for `hash` (Fibonacci hashing spreads the high bits).
    fn home_slot(&self, hash: u64) -> usize {
        let shift = 64 - self.slots.len().trailing_zeros();
        (hash.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> shift) as usize
    }

    /// Bytes the next insertion may allocate at once (vectors doubling), 0 if it allocates
    /// little: checked against the memory limit before it happens.
    fn growth_bytes(&self) -> usize {
        let mut bytes = 0;
        if 2 * (self.entries.len() + 1) > self.slots.len() {
            bytes += 2 * self.slots.len() * 4;
        }
        if self.entries.len() == self.entries.capacity() {
            bytes += self.entries.capacity().max(4) * std::mem::size_of::<(u64, State)>();
        }
        if self.sets.len() + self.words_per_set > self.sets.capacity() {
            bytes += self.sets.capacity().max(self.words_per_set) * 8;
        }
        bytes
    }

    /// Inserts the pair; `false` if it was already there.
    fn insert(&mut self, hash: u64, words: &[u64], state: &State) -> bool {
        debug_assert_eq!(words.len(), self.words_per_set);
        if 2 * (self.entries.len() + 1) > self.slots.len() {
            self.grow();
        }
        let mask = self.slots.len() - 1;
        let mut slot = self.home_slot(hash);
        // Bounded: the table is never more than half full, so an empty slot is reached.
        while let Some(entry) = self.slots[slot].checked_sub(1) {
            let (seen_hash, seen_state) = &self.entries[entry as usize];
            let start = entry as usize * self.words_per_set;
            if *seen_hash == hash && self.sets[start..start + self.words_per_set] == *words && seen_state == state {
                return false;
            }
            slot = (slot + 1) & mask;
        }
        self.slots[slot] = u32::try_from(self.entries.len() + 1).expect("memo entries fit in u32 ids");
        self.entries.push((hash, state.clone()));
        self.sets.extend_from_slice(words);
        true
    }

    /// Empties the memo for another search, keeping its vectors' capacity (growing them again
    /// costs copies and fresh pages). The slot table is cut back to what the entries needed so
    /// that clearing stays proportional to the entries.
    fn clear(&mut self, words_per_set: usize) {
        let slots_needed = (2 * self.entries.len()).next_power_of_two().max(MEMO_SLOTS_MIN);
        self.slots.truncate(slots_needed);
        self.slots.fill(0);
        self.entries.clear();
        self.sets.clear();
        self.words_per_set = words_per_set;
    }

    fn grow(&mut self) {
        let slots_len = 2 * self.slots.len();
        self.slots.clear();
        self.slots.resize(slots_len, 0);
        let mask = self.slots.len() - 1;
        for (index, (hash, _)) in self.entries.iter().enumerate() {
            let mut slot = self.home_slot(*hash);
            while self.slots[slot] != 0 {
                slot = (slot + 1) & mask;
            }
            self.slots[slot] = index as u32 + 1;
        }
    }
}

/// What a finished search leaves for the next one: its memo's storage, emptied.
pub(crate) struct Scratch<State>(Memo<State>);

impl<State> Scratch<State> {
    /// Bytes of storage it holds: a search that will grow a large memo should get the largest.
    pub fn capacity_bytes(&self) -> usize {
        let memo = &self.0;
        memo.slots.capacity() * 4
            + memo.sets.capacity() * 8
            + memo.entries.capacity() * std::mem::size_of::<(u64, State)>()
    }
}

/// One choice of the search: the operation linearized, the state before it, and whether it
/// was forced (see [`Search::run`]).
struct Choice<State> {
    op: u32,
    state_before: State,
    forced: bool,
    /// The latest call among the operations chosen so far, this one included.
    latest_call: u64,
}

/// The search over one partition, pausable: [`Search::run`] takes a step allowance and, when it
/// runs out, keeps its place, so a caller sharing steps among partitions loses no work.
pub(crate) struct Search<'history, M: Model> {
    ops: Vec<SearchOp<'history, M::Input, M::Output>>,
    events: EventList,
    linearized: LinearizedSet,
    memo: Memo<M::State>,
    /// Memo bytes charged to the meter, to give back when the search is dropped by its owner.
    memo_bytes: usize,
    state: M::State,
    choices: Vec<Choice<M::State>>,
    longest: Vec<u32>,
    stuck_at_longest: Option<(u32, Vec<u32>)>,
    /// The event the walk stands at: where a paused search resumes.
    entry: u32,
    decided: bool,
    guide: Option<Guide<M::State>>,
    /// See [`Stuck::seen_through`].
    seen_through: u64,
    /// The earlier return of each pair of returns compared, at most; see
    /// [`Stuck::depends_through`].
    compared_through: u64,
    /// Drops a branch as soon as it strands a read (see [`ReadWatch`]).
    watch: ReadWatch,
    /// Branches the watch dropped: for tests to see that it happens.
    stranding_dropped: u64,
    /// How many operations were chosen when the search rejoined its guide, if it did.
    rejoined_at: Option<usize>,
    /// Per operation: the state it stepped to from a state it ignores, once it has (see
    /// [`Model::step_ignores_state`]).
    steps_ignoring_state: Vec<Option<M::State>>,
}

impl<'history, M: Model> Search<'history, M> {
    /// `scratch`: storage of a finished search to reuse, if there is one.
    /// `sorted_events`: `ops`' events in list order in two runs to merge, see [`EventList::new`].
    /// `watch`: over `ops`, or empty to watch nothing.
    pub fn new(
        model: &M,
        ops: Vec<SearchOp<'history, M::Input, M::Output>>,
        sorted_events: (&[u32], &[u32]),
        scratch: Option<Scratch<M::State>>,
        watch: ReadWatch,
    ) -> Search<'history, M> {
        assert!(ops.len() < (u32::MAX / 2) as usize, "a partition's events must fit in u32 ids");
        let events = EventList::new(&ops, sorted_events.0, sorted_events.1);
        let linearized = LinearizedSet::new(ops.len());
        let memo = match scratch {
            Some(Scratch(mut memo)) => {
                memo.clear(linearized.words.len());
                memo
            }
            None => Memo::new(linearized.words.len()),
        };
        let entry = events.first();
        let ops_count = ops.len();
        Search {
            choices: Vec::with_capacity(ops.len()),
            ops,
            events,
            linearized,
            memo,
            memo_bytes: 0,
            state: model.initial_state(),
            longest: Vec::new(),
            stuck_at_longest: None,
            entry,
            decided: false,
            guide: None,
            seen_through: 0,
            compared_through: 0,
            watch,
            stranding_dropped: 0,
            rejoined_at: None,
            steps_ignoring_state: vec![None; ops_count],
        }
    }

    /// A search that replays `guide`'s prefix, then searches on and rejoins the guide's order
    /// as soon as it reaches one of its configurations. Its failure is
    /// [`SearchOutcome::GuideExhausted`], not a verdict.
    pub fn guided(
        model: &M,
        ops: Vec<SearchOp<'history, M::Input, M::Output>>,
        sorted_events: (&[u32], &[u32]),
        scratch: Option<Scratch<M::State>>,
        watch: ReadWatch,
        guide: Guide<M::State>,
    ) -> Search<'history, M> {
        let mut search = Search::new(model, ops, sorted_events, scratch, watch);
        let mut guide = guide;
        guide.extend_states(model, &search.ops, guide.prefix_len);
        for &op in &guide.order[..guide.prefix_len] {
            // Forced: backtracking into the prefix ends the search.
            let state_before = std::mem::replace(&mut search.state, guide.states[search.choices.len() + 1].clone());
            let latest_call = search.latest_call().max(search.ops[op as usize].call_position);
            search.choices.push(Choice { op, state_before, forced: true, latest_call });
            // A prefix of a linearization strands no read: only the counts matter here.
            search.watch.linearize(op);
            search.linearized.flip(op);
            search.events.lift(op);
        }
        debug_assert_eq!(search.linearized.hash, guide.set_hashes[guide.prefix_len]);
        search.entry = search.events.first();
        search.guide = Some(guide);
        search
    }

    /// After a new choice: the guide's order completes the search if the configuration is one
    /// the guide passed through and the joined order keeps real time under the new positions.
    /// The chosen prefix keeps real time by construction, and the guide's remainders were
    /// checked once ([`Guide::new`]), so what is left to check is that nothing in the remainder
    /// returned before the latest call of the prefix: O(1) before the set comparison.
    fn rejoined_guide(&mut self, model: &M) -> Option<Vec<usize>> {
        let latest_call = self.latest_call();
        let Search { guide, ops, linearized, state, choices, .. } = self;
        let guide = guide.as_mut()?;
        let length = choices.len();
        if length <= guide.prefix_len
            || length > guide.order.len()
            || guide.set_hashes[length] != linearized.hash
            || !guide.others_may_be_left_out
            || !guide.remainder_in_time[length]
            || guide.remainder_earliest_return[length] < latest_call
            || !guide.order[..length].iter().all(|&op| linearized.contains(op))
        {
            return None;
        }
        guide.extend_states(model, ops, length);
        if guide.states[length] != *state {
            return None;
        }
        let order: Vec<u32> =
            choices.iter().map(|choice| choice.op).chain(guide.order[length..].iter().copied()).collect();
        debug_assert!(respects_real_time(ops.len(), &order, |op| {
            (ops[op as usize].call_position, ops[op as usize].return_position)
        }));
        Some(order.into_iter().map(|op| op as usize).collect())
    }

    /// The latest call among the operations chosen so far (0 before any).
    fn latest_call(&self) -> u64 {
        self.choices.last().map_or(0, |choice| choice.latest_call)
    }

    /// After [`SearchOutcome::GuideExhausted`]: the same search without its guide, to run again
    /// from the start. Its memo is kept: every configuration in it was explored to the end
    /// without completing (rejoining the guide only adds completions, and a configuration's
    /// completions depend on nothing else), so the plain search need not explore it again (a
    /// fresh one spent a fifth of `long-flushdb-never-returned` seed 9 doing so). What the guided
    /// search looked at is kept too ([`Stuck::seen_through`], [`Stuck::depends_through`]): a
    /// failure resting on its memo depends on it.
    pub fn drop_guide(&mut self) {
        assert!(self.decided && self.guide.is_some(), "only an exhausted guided search drops its guide");
        debug_assert!(self.choices.is_empty(), "exhausted: backtracked through its guide's prefix");
        self.guide = None;
        self.decided = false;
        self.rejoined_at = None;
        self.entry = self.events.first();
    }

    /// After [`SearchOutcome::Linearizable`]: the state after each prefix of the order found,
    /// from the choices made and the guide's states after the place it was rejoined; `None`
    /// if the guide's states were not all known.
    pub fn witness_states(&self) -> Option<Vec<M::State>> {
        let mut states: Vec<M::State> = self.choices.iter().map(|choice| choice.state_before.clone()).collect();
        states.push(self.state.clone());
        if let Some(length) = self.rejoined_at {
            let guide = self.guide.as_ref().expect("rejoined a guide");
            if guide.states.len() != guide.order.len() + 1 {
                return None;
            }
            states.extend_from_slice(&guide.states[length + 1..]);
        }
        Some(states)
    }

    /// Branches dropped because they stranded a read (see [`ReadWatch`]).
    pub fn stranding_dropped(&self) -> u64 {
        self.stranding_dropped
    }

    /// Memo bytes this search holds on the meter's account.
    pub fn memo_bytes(&self) -> usize {
        self.memo_bytes
    }

    /// Ends the search (decided or not), keeping its storage for another.
    pub fn into_scratch(self) -> Scratch<M::State> {
        Scratch(self.memo)
    }

    /// Searches on for at most `steps_max` steps. `Undecided` means the allowance ran out: call
    /// again to continue. Any other outcome is final.
    pub fn run(&mut self, model: &M, meter: &mut Meter, steps_max: u64) -> SearchOutcome {
        assert!(!self.decided, "a decided search is not run again");
        let outcome = self.walk(model, meter, steps_max);
        self.decided = !matches!(outcome, SearchOutcome::Undecided);
        outcome
    }

    fn walk(&mut self, model: &M, meter: &mut Meter, steps_max: u64) -> SearchOutcome {
        let mut steps_left = steps_max;
        while self.entry != NO_ENTRY {
            if steps_left == 0 {
                return SearchOutcome::Undecided;
            }
            if let Err(reason) = meter.charge_step() {
                return SearchOutcome::OutOfBudget(reason);
            }
            steps_left -= 1;
            let entry = self.entry;
            let op = entry / 2;
            self.seen_through = self.seen_through.max(self.entry_position(entry));
            if entry.is_multiple_of(2) {
                if self.ops[op as usize].effect_class.is_some() && self.is_dominated(op) {
                    self.entry = self.events.next[entry as usize];
                    continue;
                }
                let candidate = &self.ops[op as usize];
                let stepped = if model.step_ignores_state(&self.state, candidate.input) {
                    let reused = &mut self.steps_ignoring_state[op as usize];
                    match reused {
                        Some(next_state) => Some(next_state.clone()),
                        None => {
                            let stepped = model.step(&self.state, candidate.input, candidate.output);
                            reused.clone_from(&stepped);
                            stepped
                        }
                    }
                } else {
                    model.step(&self.state, candidate.input, candidate.output)
                };
                if let Some(next_state) = stepped {
                    if self.watch.linearize(op) {
                        self.watch.unlinearize(op);
                        self.stranding_dropped += 1;
                        self.entry = self.events.next[entry as usize];
                        continue;
                    }
                    self.linearized.flip(op);
                    let hash = self.linearized.hash ^ hash_of(&next_state).rotate_left(17);
                    let growth = self.memo.growth_bytes();
                    if growth >= GROWTH_CHECKED_BYTES_MIN {
                        if let Err(reason) = meter.check_growth(growth) {
                            return SearchOutcome::OutOfBudget(reason);
                        }
                    }
                    if self.memo.insert(hash, &self.linearized.words, &next_state) {
                        let entry_bytes = self.memo.entry_bytes();
                        self.memo_bytes += entry_bytes;
                        if let Err(reason) = meter.charge_memo(entry_bytes) {
                            return SearchOutcome::OutOfBudget(reason);
                        }
                        // A read that fits now can go now: any linearization placing it later can
                        // move it here (it changes no state and waits for nothing more), so if this
                        // placement fails so does every alternative at this step.
                        let forced = model.is_read_only(candidate.input);
                        let state_before = std::mem::replace(&mut self.state, next_state);
                        let latest_call = self.latest_call().max(candidate.call_position);
                        self.choices.push(Choice { op, state_before, forced, latest_call });
                        self.events.lift(op);
                        if self.choices.len() > self.longest.len() {
                            self.longest.clear();
                            self.longest.extend(self.choices.iter().map(|choice| choice.op));
                            self.stuck_at_longest = None;
                        }
                        if let Some(order) = self.rejoined_guide(model) {
                            self.rejoined_at = Some(self.choices.len());
                            return SearchOutcome::Linearizable(order);
                        }
                        self.entry = self.events.first();
                        continue;
                    }
                    self.linearized.flip(op);
                    self.watch.unlinearize(op);
                }
                self.entry = self.events.next[entry as usize];
            } else {
                if self.choices.len() == self.longest.len() && self.stuck_at_longest.is_none() {
                    self.stuck_at_longest = Some((op, pending_calls_before(&self.events, entry)));
                }
                match self.backtrack() {
                    Some(undone) => self.entry = self.events.next[2 * undone as usize],
                    None => return self.stuck(op),
                }
            }
        }
        SearchOutcome::Linearizable(self.choices.iter().map(|choice| choice.op as usize).collect())
    }

    /// Whether another pending global of `op`'s effect class must return no later than `op`: then
    /// trying `op` next is pointless. Any linearization placing `op` next and that one later can
    /// swap the two (both are called, the other returns no earlier than where `op` was placed,
    /// and `op` returns no earlier than where the other was), with the same states throughout.
    /// Pending means called before the first return left in the list: every entry from the head
    /// to there is a call.
    fn is_dominated(&mut self, op: u32) -> bool {
        let candidate = &self.ops[op as usize];
        let mut entry = self.events.first();
        // Bounded by the list length: the walk stops at the first return entry.
        while entry != NO_ENTRY && entry.is_multiple_of(2) {
            let other_op = entry / 2;
            self.seen_through = self.seen_through.max(self.ops[other_op as usize].call_position);
            let other = &self.ops[other_op as usize];
            if other_op != op && other.effect_class == candidate.effect_class {
                // Which returns first is known from the earlier return's position alone.
                let earlier_return = other.return_position.min(candidate.return_position);
                self.compared_through = self.compared_through.max(earlier_return);
                if (other.return_position, other_op) < (candidate.return_position, op) {
                    return true;
                }
            }
            entry = self.events.next[entry as usize];
        }
        false
    }

    fn entry_position(&self, entry: u32) -> u64 {
        let op = &self.ops[(entry / 2) as usize];
        if entry.is_multiple_of(2) {
            op.call_position
        } else {
            op.return_position
        }
    }

    /// Undoes forced choices and then one free choice, whose next alternative is to be tried;
    /// `None` when no free choice is left.
    fn backtrack(&mut self) -> Option<u32> {
        while let Some(Choice { op, state_before, forced, .. }) = self.choices.pop() {
            self.state = state_before;
            self.watch.unlinearize(op);
            self.linearized.flip(op);
            self.events.unlift(op);
            if !forced {
                return Some(op);
            }
        }
        None
    }

    fn stuck(&mut self, blocked_now: u32) -> SearchOutcome {
        if self.guide.is_some() {
            return SearchOutcome::GuideExhausted;
        }
        let (blocked, pending) = self.stuck_at_longest.take().unwrap_or((blocked_now, vec![blocked_now]));
        SearchOutcome::NotLinearizable(Stuck {
            longest_prefix: self.longest.iter().map(|&op| op as usize).collect(),
            blocked: blocked as usize,
            pending: pending.iter().map(|&op| op as usize).collect(),
            seen_through: self.seen_through,
            depends_through: self.seen_through.max(self.compared_through),
            stranding_dropped: self.stranding_dropped > 0,
        })
    }
}

/// The operations whose calls precede `return_entry` in the list: the ones that could have gone
/// next, the blocked one included.
fn pending_calls_before(events: &EventList, return_entry: u32) -> Vec<u32> {
    let mut pending = Vec::new();
    let mut entry = events.first();
    // Bounded by the list length: the walk stops at `return_entry`, which is linked.
    while entry != NO_ENTRY && entry != return_entry {
        if entry.is_multiple_of(2) {
            pending.push(entry / 2);
        }
        entry = events.next[entry as usize];
    }
    pending.push(return_entry / 2);
    pending.sort_unstable();
    pending.dedup();
    pending
}
