//! From a history to the checker's inputs: answerless reads dropped, the events of the keyed
//! operations numbered in time order, keys grouped into partitions, and each global operation's
//! interval measured in those events.

use std::collections::BTreeMap;

use super::{Footprint, Model, Parts};
use crate::history::Operation;

/// An event index meaning "never": the return of an operation that did not return.
pub(crate) const NEVER: u32 = u32::MAX;

/// A set of keys no keyed operation connects to any other key, with its operations.
pub(crate) struct Partition {
    pub name: String,
    /// History indices of its keyed operations.
    pub ops: Vec<usize>,
    /// Indices (in [`Prepared::event_count`] numbering) of its operations' events, ascending.
    pub event_indices: Vec<u32>,
    /// The global operations its search holds after its keyed operations, ascending: every
    /// global of all keys, and the split operations with a part on its keys. Per global: its
    /// index in [`Prepared::globals`] and the index of the part here (`NEVER`: not split).
    pub globals: Vec<(usize, u32)>,
    /// `events_before` for every event index up to `event_count`, when that fits
    /// [`EVENTS_BEFORE_TABLES_MAX`]: the placement search asks for it per global, per partition,
    /// per check.
    events_before_table: Vec<u32>,
}

/// Entries of all partitions' `events_before` tables together (4 bytes each): past this, a
/// binary search answers instead.
const EVENTS_BEFORE_TABLES_MAX: usize = 4 << 20;

impl Partition {
    /// How many of this partition's events come before global event index `event`.
    pub fn events_before(&self, event: u32) -> u32 {
        match self.events_before_table.get(event as usize) {
            Some(&before) => before,
            None => self.event_indices.partition_point(|&index| index < event) as u32,
        }
    }
}

/// A global operation and where its point may lie: after `lo` and at most `hi` keyed events.
#[derive(Clone, Debug)]
pub(crate) struct GlobalOp {
    pub op: usize,
    pub lo: u32,
    /// `event_count` when the operation never returned (it may also never have happened).
    pub hi: u32,
    pub returned: bool,
    /// `None` for a global of all keys (FLUSHDB); for an operation split into parts (see
    /// [`Model::split_into_parts`]), the partition of each part, in part order.
    pub part_partitions: Option<Vec<usize>>,
}

/// The inputs of the partition searches. A split operation is a global operation over the
/// partitions of its parts.
pub(crate) struct Prepared<M: Model> {
    /// Number of call and return events of keyed operations.
    pub event_count: u32,
    /// Per history index: the event index of its call, or `NEVER` if not a kept keyed op.
    pub call_event: Vec<u32>,
    /// Per history index: the event index of its return, `NEVER` if it never returned.
    pub return_event: Vec<u32>,
    pub partitions: Vec<Partition>,
    pub globals: Vec<GlobalOp>,
    /// Per global: its parts when it is a split operation.
    pub parts: Vec<Option<ModelParts<M>>>,
}

/// A model's [`Parts`].
pub(crate) type ModelParts<M> = Parts<<M as Model>::Key, <M as Model>::Input, <M as Model>::Output>;

/// Event sort key: time, calls before returns at equal times, then history index.
type EventKey = (u64, u8, usize);

impl<M: Model> Prepared<M> {
    /// `split`: whether operations the model can split into parts are split (see
    /// [`SplitOperations`](super::SplitOperations)); otherwise they join their keys.
    pub fn new(model: &M, ops: &[Operation<M::Input, M::Output>], split_operations: bool) -> Prepared<M> {
        let mut keyed: Vec<(usize, Vec<M::Key>)> = Vec::new();
        let mut global_ops: Vec<usize> = Vec::new();
        // History index and parts of each operation split into parts.
        let mut split: Vec<(usize, ModelParts<M>)> = Vec::new();
        for (index, op) in ops.iter().enumerate() {
            // No answer and no possible effect: it constrains nothing.
            if op.output.is_none() && model.is_read_only(&op.input) {
                continue;
            }
            match model.footprint(&op.input) {
                Footprint::Global => global_ops.push(index),
                Footprint::Keys(keys) => match model.split_into_parts(&op.input, op.output.as_ref()) {
                    Some(parts) if split_operations && keys.len() >= 2 => split.push((index, parts)),
                    _ => keyed.push((index, keys)),
                },
            }
        }
        // Two parts in one partition (another operation joins their keys) would put one
        // operation twice in a search: such an operation stays whole. Each pass keeps at least
        // one more whole, so the passes are bounded by the split operations.
        let (partitions, part_partitions) = loop {
            let part_keys: Vec<&M::Key> =
                split.iter().flat_map(|(_, parts)| parts.parts.iter().map(|(key, _)| key)).collect();
            let (partitions, partition_of_key) = partition_by_keys(&keyed, &part_keys);
            let part_partitions: Vec<Vec<usize>> = split
                .iter()
                .map(|(_, parts)| parts.parts.iter().map(|(key, _)| partition_of_key[key]).collect())
                .collect();
            let shared = part_partitions.iter().position(|partitions| {
                let distinct: std::collections::BTreeSet<&usize> = partitions.iter().collect();
                distinct.len() < partitions.len()
            });
            match shared {
                None => break (partitions, part_partitions),
                Some(position) => {
                    let (index, _) = split.remove(position);
                    let Footprint::Keys(keys) = model.footprint(&ops[index].input) else {
                        unreachable!("split ops are keyed")
                    };
                    keyed.push((index, keys));
                    keyed.sort_by_key(|(index, _)| *index);
                }
            }
        };
        let mut events: Vec<EventKey> = Vec::with_capacity(keyed.len() * 2);
        for (index, _) in &keyed {
            let op = &ops[*index];
            events.push((op.call.0, 0, *index));
            if let Some(returned) = op.returned {
                events.push((returned.0, 1, *index));
            }
        }
        events.sort_unstable();
        assert!(events.len() < NEVER as usize, "too many events for u32 indices");
        let mut call_event = vec![NEVER; ops.len()];
        let mut return_event = vec![NEVER; ops.len()];
        for (event_index, &(_, kind, index)) in events.iter().enumerate() {
            if kind == 0 {
                call_event[index] = event_index as u32;
            } else {
                return_event[index] = event_index as u32;
            }
        }
        let event_count = events.len() as u32;
        let interval = |index: usize, part_partitions: Option<Vec<usize>>| {
            let op = &ops[index];
            let lo = events.partition_point(|&event| event < (op.call.0, 0, index)) as u32;
            let hi = match op.returned {
                Some(returned) => events.partition_point(|&event| event < (returned.0, 1, index)) as u32,
                None => event_count,
            };
            GlobalOp { op: index, lo, hi, returned: op.returned.is_some(), part_partitions }
        };
        let mut globals: Vec<GlobalOp> = global_ops.iter().map(|&index| interval(index, None)).collect();
        let mut parts: Vec<Option<ModelParts<M>>> = (0..globals.len()).map(|_| None).collect();
        for ((index, op_parts), partitions) in split.into_iter().zip(part_partitions) {
            globals.push(interval(index, Some(partitions)));
            parts.push(Some(op_parts));
        }
        let mut partitions = partitions;
        let partition_count = partitions.len();
        let mut partition_globals: Vec<Vec<(usize, u32)>> = vec![Vec::new(); partition_count];
        for (global, op) in globals.iter().enumerate() {
            match &op.part_partitions {
                None => partition_globals.iter_mut().for_each(|list| list.push((global, NEVER))),
                Some(part_partitions) => {
                    for (part, &partition) in part_partitions.iter().enumerate() {
                        partition_globals[partition].push((global, part as u32));
                    }
                }
            }
        }
        for (partition, list) in partitions.iter_mut().zip(partition_globals) {
            partition.globals = list;
            partition.event_indices = partition
                .ops
                .iter()
                .flat_map(|&index| [call_event[index], return_event[index]])
                .filter(|&event| event != NEVER)
                .collect();
            partition.event_indices.sort_unstable();
        }
        if partition_count.saturating_mul(event_count as usize + 1) <= EVENTS_BEFORE_TABLES_MAX {
            for partition in &mut partitions {
                let mut table = Vec::with_capacity(event_count as usize + 1);
                let mut before = 0u32;
                for event in 0..=event_count {
                    table.push(before);
                    before += u32::from(partition.event_indices.get(before as usize) == Some(&event));
                }
                partition.events_before_table = table;
            }
        }
        Prepared { event_count, call_event, return_event, partitions, globals, parts }
    }

    /// Whether any operation was split into parts (see [`Model::split_into_parts`]).
    pub fn has_split_operations(&self) -> bool {
        self.parts.iter().any(Option::is_some)
    }
}

/// Groups keyed operations into connected components of keys (a multi-key DEL kept whole
/// joins its keys); `part_keys`, the keys of split operations' parts, join nothing but have a
/// partition. Also returns each key's partition.
fn partition_by_keys<Key: Ord + Clone + std::fmt::Debug>(
    keyed: &[(usize, Vec<Key>)],
    part_keys: &[&Key],
) -> (Vec<Partition>, BTreeMap<Key, usize>) {
    let mut key_ids: BTreeMap<Key, usize> = BTreeMap::new();
    let mut parent: Vec<usize> = Vec::new();
    let mut op_roots: Vec<Option<usize>> = Vec::with_capacity(keyed.len());
    let mut key_id = |key: &Key, parent: &mut Vec<usize>| {
        let next_id = key_ids.len();
        *key_ids.entry(key.clone()).or_insert_with(|| {
            parent.push(next_id);
            next_id
        })
    };
    for (_, keys) in keyed {
        let mut first_root = None;
        for key in keys {
            let id = key_id(key, &mut parent);
            let root = find_root(&mut parent, id);
            match first_root {
                None => first_root = Some(root),
                Some(first) if first != root => parent[root] = first,
                Some(_) => {}
            }
        }
        op_roots.push(first_root);
    }
    for key in part_keys {
        key_id(key, &mut parent);
    }
    let mut names: BTreeMap<usize, Vec<Key>> = BTreeMap::new();
    for (key, id) in &key_ids {
        let root = find_root(&mut parent, *id);
        names.entry(root).or_default().push(key.clone());
    }
    // Every group of keys is a partition, with or without keyed operations; operations naming
    // no key (DEL with no arguments) each stand alone.
    let mut groups: BTreeMap<(usize, usize), Vec<usize>> = names.keys().map(|&root| ((root, 0), Vec::new())).collect();
    for ((index, _), root) in keyed.iter().zip(&op_roots) {
        let group = match root {
            Some(root) => (find_root(&mut parent, *root), 0),
            None => (usize::MAX, *index),
        };
        groups.entry(group).or_default().push(*index);
    }
    let mut partition_of_root: BTreeMap<usize, usize> = BTreeMap::new();
    let partitions = groups
        .into_iter()
        .enumerate()
        .map(|(partition_index, ((root, _), ops))| {
            partition_of_root.insert(root, partition_index);
            let name = match names.get(&root) {
                // A model with a single unit key (a register) has one partition: the history.
                Some(keys) if keys.len() == 1 && format!("{:?}", keys[0]) == "()" => "the history".to_string(),
                Some(keys) if keys.len() == 1 => format!("key {:?}", keys[0]),
                Some(keys) => format!("keys {keys:?}"),
                None => "no key".to_string(),
            };
            Partition { name, ops, event_indices: Vec::new(), globals: Vec::new(), events_before_table: Vec::new() }
        })
        .collect();
    let partition_of_key =
        key_ids.iter().map(|(key, &id)| (key.clone(), partition_of_root[&find_root(&mut parent, id)])).collect();
    (partitions, partition_of_key)
}

/// Union-find root with path halving (iterative; bounded by the number of keys).
fn find_root(parent: &mut [usize], mut id: usize) -> usize {
    while parent[id] != id {
        parent[id] = parent[parent[id]];
        id = parent[id];
    }
    id
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::linearizability::generate::{flushdb_history, HistoryShape};
    use crate::linearizability::kv::KvModel;

    #[test]
    fn the_events_before_table_answers_what_the_binary_search_does() {
        let shape = HistoryShape { ops_total: 400, two_key_del_per_mille: 20, ..HistoryShape::default() };
        let prepared = Prepared::new(&KvModel, &flushdb_history(5, &shape), true);
        assert!(prepared.partitions.iter().all(|partition| !partition.events_before_table.is_empty()));
        for partition in &prepared.partitions {
            for event in (0..=prepared.event_count).chain([NEVER]) {
                let searched = partition.event_indices.partition_point(|&index| index < event) as u32;
                assert_eq!(partition.events_before(event), searched, "{} at {event}", partition.name);
            }
        }
    }
}
