//! Forward checking inside a partition search: a read of a value needs the key to hold that
//! value where it is linearized. Once every write of the value is linearized nothing can put
//! it back, so if the key then changes away from it while a read of it is still to be
//! linearized, that read is stranded: no completion exists, and the search drops the branch at
//! once instead of trying every order of the operations in between until the read's return.
//!
//! ```text
//! SET a 1   |-----|                 linearized: SET a 1, then SET a 2 -
//! SET a 2      |-----|              the read of 1 (not linearized yet, its only write
//! GET a -> 1          |-------|     behind) is stranded: drop the branch at SET a 2
//! ```
//!
//! On `20000-ops` a partition's search spent most of its steps in a few dense stretches
//! (30-odd writes and reads of one key and ten FLUSHDBs overlapping), ordering operations
//! after a write had already stranded a read called later.
//!
//! Which operations write or read which value comes from [`Model::effect_on_key`]; a key on
//! which some operation's effect is [`KeyEffect::Unknown`] is not watched. Every count depends
//! only on the set of operations linearized, so the memo stays sound, and nothing here depends
//! on where any operation lies in time (a stranded read stays so wherever it is): the
//! search's failures depend on no more than they did.
//!
//! [`Model::effect_on_key`]: super::Model::effect_on_key

use std::collections::HashMap;
use std::hash::BuildHasherDefault;

use super::intervals::KeyEffect;
use super::search::FastHasher;

/// In [`Entry::Leaves`]: the key is left holding no watched value (absent, or a value nobody
/// reads).
const NO_VALUE: u32 = u32::MAX;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Entry {
    /// The operation writes this value (by id).
    Writes(u32),
    /// The operation reads this value.
    Reads(u32),
    /// Afterwards the key (by index) holds this value, or [`NO_VALUE`].
    Leaves { key: u32, value: u32 },
}

/// The counts of one partition search: see the module docs.
#[derive(Clone, Debug, Default)]
pub(crate) struct ReadWatch {
    /// Operation `op`'s entries are `entries[first[op]..first[op + 1]]`: writes and reads
    /// first, then what it leaves.
    first: Vec<u32>,
    entries: Vec<Entry>,
    /// Per value id: its key's index.
    value_key: Vec<u32>,
    /// Per value id: its reads and its writes not linearized.
    reads_left: Vec<u32>,
    writes_left: Vec<u32>,
    /// Per key index: its stranded values (reads left, no writes left).
    stranded: Vec<u32>,
}

/// Value ids by (key index, value hash).
type ValueIds = HashMap<(usize, u64), u32, BuildHasherDefault<FastHasher>>;

/// The watch of a partition's keyed operations, built once (they never change), from which
/// each search's watch is made by adding the globals ([`WatchPlan::watch`]): building it all
/// per search was a twentieth of a check of `20000-ops`.
pub(crate) struct WatchPlan {
    keyed: ReadWatch,
    keyed_count: usize,
    /// Per key index: whether it is watched (no keyed operation's effect on it is unknown).
    watched: Vec<bool>,
    value_ids: ValueIds,
}

impl WatchPlan {
    /// `effect(op, key)` of each of `keyed_count` keyed operations on each of `key_count` keys.
    pub(crate) fn new(keyed_count: usize, key_count: usize, effect: impl Fn(usize, usize) -> KeyEffect) -> WatchPlan {
        let (keyed, watched, value_ids) = ReadWatch::build(keyed_count, key_count, &effect);
        WatchPlan { keyed, keyed_count, watched, value_ids }
    }

    /// The watch over `op_count` operations, the keyed ones first; `effect(op, key)` as for
    /// [`WatchPlan::new`], asked only of the others unless they need the watch built anew.
    pub(crate) fn watch(&self, op_count: usize, effect: impl Fn(usize, usize) -> KeyEffect) -> ReadWatch {
        let mut watch = self.keyed.clone();
        watch.first.pop();
        for global in self.keyed_count..op_count {
            // A value only a global reads (a keyed write of it was not counted), or an effect
            // the keyed operations did not rule out: build it all anew.
            if watch.push_op(&self.watched, &self.value_ids, true, |key| effect(global, key)).is_none() {
                return self.rebuilt(op_count, &effect);
            }
        }
        watch.first.push(watch.entries.len() as u32);
        watch.count_stranded();
        watch
    }

    fn rebuilt(&self, op_count: usize, effect: &impl Fn(usize, usize) -> KeyEffect) -> ReadWatch {
        ReadWatch::build(op_count, self.watched.len(), effect).0
    }
}

impl ReadWatch {
    /// The watch over `op_count` operations on `key_count` keys; `effect(op, key)` as
    /// [`Model::effect_on_key`](super::Model::effect_on_key) gives it.
    #[cfg(test)]
    pub(crate) fn new(op_count: usize, key_count: usize, effect: impl Fn(usize, usize) -> KeyEffect) -> ReadWatch {
        ReadWatch::build(op_count, key_count, &effect).0
    }

    /// The watch, which keys it watches, and the ids of the values read.
    fn build(
        op_count: usize,
        key_count: usize,
        effect: &impl Fn(usize, usize) -> KeyEffect,
    ) -> (ReadWatch, Vec<bool>, ValueIds) {
        let watched: Vec<bool> =
            (0..key_count).map(|key| (0..op_count).all(|op| effect(op, key) != KeyEffect::Unknown)).collect();
        // Only values somebody reads are watched.
        let mut value_ids = ValueIds::default();
        let mut watch = ReadWatch { stranded: vec![0; key_count], ..ReadWatch::default() };
        for op in 0..op_count {
            for key in (0..key_count).filter(|&key| watched[key]) {
                if let KeyEffect::ObservesValue(hash) = effect(op, key) {
                    let next_id = watch.value_key.len() as u32;
                    let id = *value_ids.entry((key, hash)).or_insert(next_id);
                    if id == next_id {
                        watch.value_key.push(key as u32);
                        watch.reads_left.push(0);
                        watch.writes_left.push(0);
                    }
                    watch.reads_left[id as usize] += 1;
                }
            }
        }
        for op in 0..op_count {
            // Reads were counted above; every value read has its id and no watched key an
            // unknown effect, so this cannot fail.
            watch.push_op(&watched, &value_ids, false, |key| effect(op, key)).expect("every value read has an id");
        }
        watch.first.push(watch.entries.len() as u32);
        watch.count_stranded();
        (watch, watched, value_ids)
    }

    /// Appends an operation's entries, `effect(key)` giving its effect on each watched key;
    /// `count_reads`: whether its reads are counted here (not yet counted). `None` if it reads
    /// a value without an id or its effect on a watched key is unknown (then the watch must
    /// be built anew); the entries are then incomplete.
    fn push_op(
        &mut self,
        watched: &[bool],
        value_ids: &ValueIds,
        count_reads: bool,
        effect: impl Fn(usize) -> KeyEffect,
    ) -> Option<()> {
        self.first.push(self.entries.len() as u32);
        let mut leaves = Vec::new();
        for key in (0..watched.len()).filter(|&key| watched[key]) {
            let value_id = |hash| value_ids.get(&(key, hash)).copied();
            let left = match effect(key) {
                KeyEffect::Writes(hash) => match value_id(hash) {
                    Some(value) => {
                        self.entries.push(Entry::Writes(value));
                        self.writes_left[value as usize] += 1;
                        value
                    }
                    None => NO_VALUE,
                },
                KeyEffect::ObservesValue(hash) => {
                    let value = value_id(hash)?;
                    self.entries.push(Entry::Reads(value));
                    if count_reads {
                        self.reads_left[value as usize] += 1;
                    }
                    continue;
                }
                KeyEffect::Unknown => return None,
                KeyEffect::Clears | KeyEffect::ObservesPresentThenClears | KeyEffect::ObservesAbsent => NO_VALUE,
                KeyEffect::Nothing => continue,
            };
            leaves.push(Entry::Leaves { key: key as u32, value: left });
        }
        self.entries.extend_from_slice(&leaves);
        Some(())
    }

    /// Counts the stranded values per key afresh.
    fn count_stranded(&mut self) {
        self.stranded.fill(0);
        for value in 0..self.value_key.len() as u32 {
            if self.is_stranded(value) {
                self.stranded[self.value_key[value as usize] as usize] += 1;
            }
        }
    }

    fn is_stranded(&self, value: u32) -> bool {
        self.reads_left[value as usize] > 0 && self.writes_left[value as usize] == 0
    }

    /// `op`'s entries; none in an empty watch ([`ReadWatch::default`]), which watches nothing.
    fn entries_of(&self, op: u32) -> std::ops::Range<usize> {
        match self.first.get(op as usize..op as usize + 2) {
            Some(&[first, end]) => first as usize..end as usize,
            _ => 0..0,
        }
    }

    /// Counts `op` as linearized, and says whether a read is left stranded: a key `op` changes
    /// is left without a value that a read still needs and no write can bring back. Either
    /// way [`ReadWatch::unlinearize`] undoes it.
    pub(crate) fn linearize(&mut self, op: u32) -> bool {
        let mut strands = false;
        for index in self.entries_of(op) {
            match self.entries[index] {
                Entry::Writes(value) => {
                    let was = self.is_stranded(value);
                    self.writes_left[value as usize] -= 1;
                    self.restrand(value, was);
                }
                Entry::Reads(value) => {
                    let was = self.is_stranded(value);
                    self.reads_left[value as usize] -= 1;
                    self.restrand(value, was);
                }
                Entry::Leaves { key, value } => {
                    // A stranded value the key is left holding is not lost (yet).
                    let kept = value != NO_VALUE && self.is_stranded(value);
                    strands |= self.stranded[key as usize] > u32::from(kept);
                }
            }
        }
        strands
    }

    /// Undoes [`ReadWatch::linearize`] of `op`.
    pub(crate) fn unlinearize(&mut self, op: u32) {
        for index in self.entries_of(op) {
            match self.entries[index] {
                Entry::Writes(value) => {
                    let was = self.is_stranded(value);
                    self.writes_left[value as usize] += 1;
                    self.restrand(value, was);
                }
                Entry::Reads(value) => {
                    let was = self.is_stranded(value);
                    self.reads_left[value as usize] += 1;
                    self.restrand(value, was);
                }
                Entry::Leaves { .. } => {}
            }
        }
    }

    /// Keeps the per-key count after `value`'s counts changed (`was`: stranded before).
    fn restrand(&mut self, value: u32, was: bool) {
        let key = self.value_key[value as usize] as usize;
        match (was, self.is_stranded(value)) {
            (false, true) => self.stranded[key] += 1,
            (true, false) => self.stranded[key] -= 1,
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Operations on one key: 0 `SET 1`, 1 `SET 2`, 2 `GET -> 1`, 3 `FLUSHDB`.
    fn watch() -> ReadWatch {
        let effects = [KeyEffect::Writes(1), KeyEffect::Writes(2), KeyEffect::ObservesValue(1), KeyEffect::Clears];
        ReadWatch::new(effects.len(), 1, |op, _| effects[op])
    }

    #[test]
    fn a_write_after_the_only_write_of_a_value_still_read_strands_the_read() {
        let mut watch = watch();
        assert!(!watch.linearize(0), "SET 1 leaves the key holding the value the read needs");
        assert!(watch.linearize(1), "SET 2 overwrites it with the read still to come");
        watch.unlinearize(1);
        assert!(!watch.linearize(2), "the read, then ...");
        assert!(!watch.linearize(1), "... SET 2 strands nothing");
        assert!(!watch.linearize(3));
    }

    #[test]
    fn a_change_before_the_value_is_written_strands_nothing() {
        let mut watch = watch();
        assert!(!watch.linearize(1), "SET 2 first: SET 1 can still come");
        assert!(!watch.linearize(3), "FLUSHDB too");
        assert!(!watch.linearize(0), "SET 1 leaves the key holding what the read needs");
        assert!(!watch.linearize(2));
    }

    #[test]
    fn a_read_of_a_value_nobody_writes_is_stranded_from_the_start() {
        let effects = [KeyEffect::ObservesValue(7), KeyEffect::Clears];
        let mut watch = ReadWatch::new(effects.len(), 1, |op, _| effects[op]);
        assert!(watch.linearize(1), "any change of the key loses the value for good");
    }

    #[test]
    fn a_key_with_an_unknown_effect_is_not_watched() {
        let effects = [KeyEffect::Writes(1), KeyEffect::Writes(2), KeyEffect::ObservesValue(1), KeyEffect::Unknown];
        let mut watch = ReadWatch::new(effects.len(), 1, |op, _| effects[op]);
        assert!(!watch.linearize(0));
        assert!(!watch.linearize(1), "not watched: the unknown operation might write 1 back");
    }

    /// Built once for the keyed operations and then per search with the globals, the watch is
    /// the one built over all of them — also when a global's effect sends it back to building
    /// anew (a read of a value no keyed operation reads, an unknown effect).
    #[test]
    fn a_plan_with_globals_added_is_the_watch_built_over_all() {
        let mut seed = 0x5EED_u64;
        let mut below = |n: u64| {
            seed = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
            (seed >> 33) % n
        };
        for _ in 0..2_000 {
            let (keyed_count, global_count, key_count) = (below(8) as usize, below(4) as usize, 1 + below(2) as usize);
            let effects: Vec<Vec<KeyEffect>> = (0..keyed_count + global_count)
                .map(|op| {
                    (0..key_count)
                        .map(|_| match below(if op < keyed_count { 6 } else { 8 }) {
                            0 => KeyEffect::Nothing,
                            1 => KeyEffect::Clears,
                            2 => KeyEffect::ObservesAbsent,
                            3 | 4 => KeyEffect::Writes(below(3)),
                            5 => KeyEffect::ObservesValue(below(3)),
                            6 => KeyEffect::ObservesPresentThenClears,
                            _ => KeyEffect::Unknown,
                        })
                        .collect()
                })
                .collect();
            let effect = |op: usize, key: usize| effects[op][key];
            let plan = WatchPlan::new(keyed_count, key_count, effect);
            let whole = ReadWatch::new(keyed_count + global_count, key_count, effect);
            assert_eq!(format!("{:?}", plan.watch(keyed_count + global_count, effect)), format!("{whole:?}"));
        }
    }

    #[test]
    fn unlinearize_restores_every_count() {
        let mut watch = watch();
        let before = format!("{watch:?}");
        for op in [0, 1, 3, 2] {
            watch.linearize(op);
        }
        for op in [2, 3, 1, 0] {
            watch.unlinearize(op);
        }
        assert_eq!(format!("{watch:?}"), before);
    }
}
