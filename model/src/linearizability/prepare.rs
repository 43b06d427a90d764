//! From a history to the checker's inputs: answerless reads dropped, the events of the keyed
//! operations numbered in time order, keys grouped into partitions, and each global operation's
//! interval measured in those events.

use std::collections::BTreeMap;

use super::{Footprint, Model};
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
}

impl Partition {
    /// How many of this partition's events come before global event index `event`.
    pub fn events_before(&self, event: u32) -> u32 {
        self.event_indices.partition_point(|&index| index < event) as u32
    }
}

/// A global operation and where its point may lie: after `lo` and at most `hi` keyed events.
#[derive(Clone, Copy, Debug)]
pub(crate) struct GlobalOp {
    pub op: usize,
    pub lo: u32,
    /// `event_count` when the operation never returned (it may also never have happened).
    pub hi: u32,
    pub returned: bool,
}

pub(crate) struct Prepared {
    /// Number of call and return events of keyed operations.
    pub event_count: u32,
    /// Per history index: the event index of its call, or `NEVER` if not a kept keyed op.
    pub call_event: Vec<u32>,
    /// Per history index: the event index of its return, `NEVER` if it never returned.
    pub return_event: Vec<u32>,
    pub partitions: Vec<Partition>,
    pub globals: Vec<GlobalOp>,
    /// Per history index: its index in `globals`, or `NEVER` if it is not a global operation.
    pub global_of_op: Vec<u32>,
}

/// Event sort key: time, calls before returns at equal times, then history index.
type EventKey = (u64, u8, usize);

impl Prepared {
    pub fn new<M: Model>(model: &M, ops: &[Operation<M::Input, M::Output>]) -> Prepared {
        let mut keyed: Vec<(usize, Vec<M::Key>)> = Vec::new();
        let mut global_ops: Vec<usize> = Vec::new();
        for (index, op) in ops.iter().enumerate() {
            // No answer and no possible effect: it constrains nothing.
            if op.output.is_none() && model.is_read_only(&op.input) {
                continue;
            }
            match model.footprint(&op.input) {
                Footprint::Global => global_ops.push(index),
                Footprint::Keys(keys) => keyed.push((index, keys)),
            }
        }
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
        let globals = global_ops
            .iter()
            .map(|&index| {
                let op = &ops[index];
                let lo = events.partition_point(|&event| event < (op.call.0, 0, index)) as u32;
                let hi = match op.returned {
                    Some(returned) => events.partition_point(|&event| event < (returned.0, 1, index)) as u32,
                    None => event_count,
                };
                GlobalOp { op: index, lo, hi, returned: op.returned.is_some() }
            })
            .collect();
        let partitions = partition_by_keys(keyed, &call_event, &return_event);
        let mut global_of_op = vec![NEVER; ops.len()];
        for (global, &op) in global_ops.iter().enumerate() {
            global_of_op[op] = global as u32;
        }
        Prepared { event_count, call_event, return_event, partitions, globals, global_of_op }
    }

    /// The index in `globals` of history operation `op`, if it is a global operation.
    pub fn global(&self, op: usize) -> Option<usize> {
        match self.global_of_op[op] {
            NEVER => None,
            global => Some(global as usize),
        }
    }
}

/// Groups keyed operations into connected components of keys (a multi-key DEL joins its keys).
fn partition_by_keys<Key: Ord + Clone + std::fmt::Debug>(
    keyed: Vec<(usize, Vec<Key>)>,
    call_event: &[u32],
    return_event: &[u32],
) -> Vec<Partition> {
    let mut key_ids: BTreeMap<Key, usize> = BTreeMap::new();
    let mut parent: Vec<usize> = Vec::new();
    let mut op_roots: Vec<Option<usize>> = Vec::with_capacity(keyed.len());
    for (_, keys) in &keyed {
        let mut first_root = None;
        for key in keys {
            let next_id = key_ids.len();
            let id = *key_ids.entry(key.clone()).or_insert_with(|| {
                parent.push(next_id);
                next_id
            });
            let root = find_root(&mut parent, id);
            match first_root {
                None => first_root = Some(root),
                Some(first) if first != root => parent[root] = first,
                Some(_) => {}
            }
        }
        op_roots.push(first_root);
    }
    let mut names: BTreeMap<usize, Vec<Key>> = BTreeMap::new();
    for (key, id) in &key_ids {
        let root = find_root(&mut parent, *id);
        names.entry(root).or_default().push(key.clone());
    }
    // Operations naming no key (DEL with no arguments) each stand alone.
    let mut groups: BTreeMap<(usize, usize), Vec<usize>> = BTreeMap::new();
    for ((index, _), root) in keyed.iter().zip(&op_roots) {
        let group = match root {
            Some(root) => (find_root(&mut parent, *root), 0),
            None => (usize::MAX, *index),
        };
        groups.entry(group).or_default().push(*index);
    }
    groups
        .into_iter()
        .map(|((root, _), ops)| {
            let name = match names.get(&root) {
                // A model with a single unit key (a register) has one partition: the history.
                Some(keys) if keys.len() == 1 && format!("{:?}", keys[0]) == "()" => "the history".to_string(),
                Some(keys) if keys.len() == 1 => format!("key {:?}", keys[0]),
                Some(keys) => format!("keys {keys:?}"),
                None => "no key".to_string(),
            };
            let mut event_indices: Vec<u32> = ops
                .iter()
                .flat_map(|&index| [call_event[index], return_event[index]])
                .filter(|&event| event != NEVER)
                .collect();
            event_indices.sort_unstable();
            Partition { name, ops, event_indices }
        })
        .collect()
}

/// Union-find root with path halving (iterative; bounded by the number of keys).
fn find_root(parent: &mut [usize], mut id: usize) -> usize {
    while parent[id] != id {
        parent[id] = parent[parent[id]];
        id = parent[id];
    }
    id
}
