//! Replica reads judged from outside: no binlog, only the primary's client history (real-time
//! intervals and replies), the primary's state at known points, and what each replica answered.
//! Used by live mode against real servers, where [`super::replica_reads`] has no binlog to
//! replay.
//!
//! A read of a replica must return the key's value after some prefix of *an* order the
//! primary's history admits, and a session's prefixes never go backwards. Which order the
//! primary really took is unknown when writes overlap, so a violation is reported only when
//! *every* admitted order rules the read out — read `v1` after `v2` is reported only if each
//! write of `v1` returned before any write of `v2` was called:
//!
//! ```text
//! client 1  |-SET a v1-|   |-SET a v2-|
//! replica session          |-GET a -> v2-|  |-GET a -> v1-|   <- backwards: every order has v1 before v2
//! client 2       |--SET a v3------------------------|
//! replica session                   |-GET a -> v3-| |-GET a -> v2-|  <- not reported: v3 may precede v2
//! ```
//!
//! A *floor* is the primary's state at a moment after which every replica should hold at least
//! that state (live mode: once the replicas' offsets reached the primary's after a phase, or the
//! catch-up deadline passed). A read called after a floor counts as if the session had seen the
//! floor's value of its key: a replica serving an older value then is a stale read.
//!
//! ```
//! use replsim_model::check::black_box_reads::{check_black_box_reads, ReplicaSession};
//! use replsim_model::check::SimTime;
//! use replsim_model::command::{Command, Db, Response};
//! use replsim_model::history::Operation;
//! let op = |call, returned, input, output| Operation {
//!     client: 1, call: SimTime(call), returned: Some(SimTime(returned)), input, output: Some(output),
//! };
//! let primary = vec![
//!     op(0, 1, Command::set(Db(0), "a", "v1"), Response::Ok),
//!     op(2, 3, Command::set(Db(0), "a", "v2"), Response::Ok),
//! ];
//! let read = |call, value: &str| op(call, call + 1, Command::get(Db(0), "a"), Response::Value(Some(value.into())));
//! let forwards = ReplicaSession { name: "replica-1".into(), reads: vec![read(4, "v1"), read(6, "v2")] };
//! assert!(check_black_box_reads(&primary, &[], &[forwards]).is_empty());
//! let backwards = ReplicaSession { name: "replica-1".into(), reads: vec![read(4, "v2"), read(6, "v1")] };
//! assert_eq!(check_black_box_reads(&primary, &[], &[backwards]).len(), 1);
//! ```

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};

use crate::check::SimTime;
use crate::command::{Command, Db, Key, Response, Value};
use crate::history::Operation;
use crate::store::Store;

/// The primary's state at `at`; reads called from then on must reflect at least this state.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Floor {
    pub at: SimTime,
    /// What the floor is, for reports ("end of phase 1").
    pub label: String,
    pub store: Store,
}

/// The reads one session (one connection of one client to one replica) made, in call order.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReplicaSession {
    /// Names the replica and the session in reports ("replica-1 client 2 connection 0").
    pub name: String,
    pub reads: Vec<Operation<Command, Response>>,
}

/// What made the session know a newer value than the one it read.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Evidence {
    /// An earlier read of the same session returned `value`.
    EarlierRead { read: usize, value: Value },
    /// The floor held `value` for the key.
    Floor { label: String, at: SimTime, value: Value },
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ReadFault {
    /// No operation on the primary ever wrote this value to this key.
    NeverWritten,
    /// Every write of the value was called after the read had returned.
    ReadBeforeWritten { first_write_call: SimTime },
    /// Every order the primary admits puts the value before one the session already knew.
    Stale { newer: Evidence },
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BlackBoxReadViolation {
    pub session: String,
    /// Index of the read in its session.
    pub read: usize,
    pub db: Db,
    pub key: Key,
    pub value: Option<Value>,
    pub fault: ReadFault,
}

impl fmt::Display for BlackBoxReadViolation {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        let value = self.value.as_deref().unwrap_or("nil");
        let get = Command::get(self.db, self.key.clone());
        write!(formatter, "{}: {get} -> {value} (read #{})", self.session, self.read)?;
        match &self.fault {
            ReadFault::NeverWritten => {
                write!(formatter, ", but no operation on the primary ever wrote {value} to {}", self.key)
            }
            ReadFault::ReadBeforeWritten { first_write_call } => {
                write!(formatter, ", returned before any write of {value} was called (the first at {first_write_call})")
            }
            ReadFault::Stale { newer: Evidence::EarlierRead { read, value: newer } } => write!(
                formatter,
                ", but read #{read} of this session already returned {newer}, and every write of {value} \
                 returned before any write of {newer} was called: the session went backwards"
            ),
            ReadFault::Stale { newer: Evidence::Floor { label, at, value: newer } } => write!(
                formatter,
                ", but the primary held {}={newer} at {at} ({label}), which every replica had to reach, \
                 and every write of {value} returned before any write of {newer} was called: a stale read",
                self.key
            ),
        }
    }
}

/// The primary's operations that can change one key, sorted out once.
#[derive(Default)]
struct KeyWrites<'history> {
    /// SETs by value.
    sets: BTreeMap<&'history str, Vec<&'history Operation<Command, Response>>>,
    /// DELs naming the key, FLUSHDBs of its database, FLUSHALLs.
    deletes: Vec<&'history Operation<Command, Response>>,
}

/// `first` certainly took effect before `second`: it returned before `second` was called.
fn precedes(first: &Operation<Command, Response>, second: &Operation<Command, Response>) -> bool {
    first.returned.is_some_and(|returned| returned < second.call)
}

impl KeyWrites<'_> {
    /// Every write of `older` precedes every write of `newer` (both must have writes).
    fn set_before_set(&self, older: &str, newer: &str) -> bool {
        match (self.sets.get(older), self.sets.get(newer)) {
            (Some(older), Some(newer)) => older.iter().all(|old| newer.iter().all(|new| precedes(old, new))),
            _ => false,
        }
    }

    /// No deletion of the key can come after a write of `value`.
    fn no_delete_after(&self, value: &str) -> bool {
        match self.sets.get(value) {
            Some(writes) => self.deletes.iter().all(|delete| writes.iter().all(|write| precedes(delete, write))),
            None => false,
        }
    }
}

fn writes_by_key(primary: &[Operation<Command, Response>]) -> BTreeMap<(Db, &str), KeyWrites<'_>> {
    let mut keys: BTreeMap<(Db, &str), KeyWrites<'_>> = BTreeMap::new();
    for operation in primary {
        if let Command::Set { db, key, value } = &operation.input {
            keys.entry((*db, key.as_str())).or_default().sets.entry(value.as_str()).or_default().push(operation);
        }
    }
    for operation in primary.iter().filter(|operation| operation.input.is_write()) {
        if matches!(operation.input, Command::Set { .. }) {
            continue;
        }
        for ((db, key), writes) in keys.iter_mut() {
            if operation.input.touches(*db, key) {
                writes.deletes.push(operation);
            }
        }
    }
    keys
}

/// Checks every answered GET of every session; other operations are ignored. `floors` may come
/// in any order.
pub fn check_black_box_reads(
    primary: &[Operation<Command, Response>],
    floors: &[Floor],
    sessions: &[ReplicaSession],
) -> Vec<BlackBoxReadViolation> {
    let writes = writes_by_key(primary);
    let no_writes = KeyWrites::default();
    let mut floors: Vec<&Floor> = floors.iter().collect();
    floors.sort_by_key(|floor| floor.at);
    let mut violations = Vec::new();
    for session in sessions {
        let mut seen: BTreeMap<(Db, &str), Vec<Evidence>> = BTreeMap::new();
        let mut order: Vec<usize> = (0..session.reads.len()).collect();
        order.sort_by_key(|&index| (session.reads[index].call, index));
        for index in order {
            let read = &session.reads[index];
            let (Command::Get { db, key }, Some(Response::Value(value))) = (&read.input, &read.output) else {
                continue;
            };
            let key_writes = writes.get(&(*db, key.as_str())).unwrap_or(&no_writes);
            let floor = floors.iter().rev().find(|floor| floor.at <= read.call);
            let floor_evidence = floor.and_then(|floor| {
                floor.store.get(*db, key).map(|value| Evidence::Floor {
                    label: floor.label.clone(),
                    at: floor.at,
                    value: value.clone(),
                })
            });
            let known = seen.entry((*db, key.as_str())).or_default();
            let fault = judge_read(key_writes, read, value.as_deref(), floor_evidence.iter().chain(known.iter()));
            if let Some(fault) = fault {
                violations.push(BlackBoxReadViolation {
                    session: session.name.clone(),
                    read: index,
                    db: *db,
                    key: key.clone(),
                    value: value.clone(),
                    fault,
                });
            }
            if let Some(value) = value {
                known.push(Evidence::EarlierRead { read: index, value: value.clone() });
            }
        }
    }
    violations
}

fn evidence_value(evidence: &Evidence) -> &str {
    match evidence {
        Evidence::EarlierRead { value, .. } | Evidence::Floor { value, .. } => value,
    }
}

fn judge_read<'evidence>(
    key_writes: &KeyWrites<'_>,
    read: &Operation<Command, Response>,
    value: Option<&str>,
    mut known: impl Iterator<Item = &'evidence Evidence>,
) -> Option<ReadFault> {
    let stale = |newer: &Evidence| ReadFault::Stale { newer: newer.clone() };
    match value {
        Some(value) => {
            let Some(sets) = key_writes.sets.get(value) else { return Some(ReadFault::NeverWritten) };
            if let Some(returned) = read.returned {
                let first_write_call = sets.iter().map(|set| set.call).min().unwrap_or(SimTime(0));
                if first_write_call > returned {
                    return Some(ReadFault::ReadBeforeWritten { first_write_call });
                }
            }
            known
                .find(|newer| evidence_value(newer) != value && key_writes.set_before_set(value, evidence_value(newer)))
                .map(stale)
        }
        None => known.find(|newer| key_writes.no_delete_after(evidence_value(newer))).map(stale),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn op(client: u64, call: u64, returned: u64, input: Command, output: Response) -> Operation<Command, Response> {
        Operation { client, call: SimTime(call), returned: Some(SimTime(returned)), input, output: Some(output) }
    }

    fn set(call: u64, returned: u64, value: &str) -> Operation<Command, Response> {
        op(1, call, returned, Command::set(Db(0), "a", value), Response::Ok)
    }

    fn read(call: u64, value: Option<&str>) -> Operation<Command, Response> {
        op(9, call, call + 1, Command::get(Db(0), "a"), Response::Value(value.map(Value::from)))
    }

    fn session(reads: Vec<Operation<Command, Response>>) -> Vec<ReplicaSession> {
        vec![ReplicaSession { name: "replica-1".into(), reads }]
    }

    fn floor(at: u64, value: &str) -> Floor {
        let mut store = Store::default();
        store.execute(&Command::set(Db(0), "a", value));
        Floor { at: SimTime(at), label: "end of phase 1".into(), store }
    }

    #[test]
    fn a_session_moving_forwards_passes() {
        let primary = vec![set(0, 1, "v1"), set(2, 3, "v2")];
        assert!(check_black_box_reads(
            &primary,
            &[],
            &session(vec![read(0, None), read(4, Some("v1")), read(6, Some("v2"))])
        )
        .is_empty());
    }

    #[test]
    fn a_session_going_back_to_an_older_write_is_caught() {
        let primary = vec![set(0, 1, "v1"), set(2, 3, "v2")];
        let violations = check_black_box_reads(&primary, &[], &session(vec![read(4, Some("v2")), read(6, Some("v1"))]));
        assert_eq!(violations.len(), 1);
        assert!(matches!(violations[0].fault, ReadFault::Stale { newer: Evidence::EarlierRead { read: 0, .. } }));
        assert!(violations[0].to_string().contains("went backwards"), "{}", violations[0]);
    }

    #[test]
    fn overlapping_writes_may_be_seen_in_either_order() {
        let primary = vec![set(0, 10, "v1"), set(5, 15, "v2")];
        assert!(
            check_black_box_reads(&primary, &[], &session(vec![read(20, Some("v2")), read(22, Some("v1"))])).is_empty()
        );
    }

    #[test]
    fn a_value_the_primary_never_wrote_is_caught() {
        let primary = vec![set(0, 1, "v1")];
        let violations = check_black_box_reads(&primary, &[], &session(vec![read(4, Some("rogue"))]));
        assert_eq!(violations[0].fault, ReadFault::NeverWritten);
    }

    #[test]
    fn a_value_read_before_its_write_was_called_is_caught() {
        let primary = vec![set(50, 51, "v1")];
        let violations = check_black_box_reads(&primary, &[], &session(vec![read(4, Some("v1"))]));
        assert!(matches!(violations[0].fault, ReadFault::ReadBeforeWritten { .. }));
    }

    #[test]
    fn nil_after_a_value_needs_a_delete_that_can_follow_it() {
        let primary = vec![set(0, 1, "v1")];
        assert_eq!(check_black_box_reads(&primary, &[], &session(vec![read(4, Some("v1")), read(6, None)])).len(), 1);
        let flushed = vec![set(0, 1, "v1"), op(2, 2, 3, Command::FlushDb { db: Db(0) }, Response::Ok)];
        assert!(check_black_box_reads(&flushed, &[], &session(vec![read(4, Some("v1")), read(6, None)])).is_empty());
    }

    #[test]
    fn a_read_older_than_the_floor_is_stale() {
        let primary = vec![set(0, 1, "v1"), set(2, 3, "v2")];
        let violations = check_black_box_reads(&primary, &[floor(10, "v2")], &session(vec![read(12, Some("v1"))]));
        assert_eq!(violations.len(), 1);
        assert!(violations[0].to_string().contains("a stale read"), "{}", violations[0]);
        assert!(check_black_box_reads(&primary, &[floor(10, "v2")], &session(vec![read(5, Some("v1"))])).is_empty());
        assert!(check_black_box_reads(&primary, &[floor(10, "v2")], &session(vec![read(12, Some("v2"))])).is_empty());
    }

    #[test]
    fn an_unanswered_write_may_have_happened_at_any_time() {
        let mut lost = set(0, 1, "v1");
        lost.returned = None;
        lost.output = None;
        let primary = vec![lost, set(2, 3, "v2")];
        assert!(
            check_black_box_reads(&primary, &[], &session(vec![read(4, Some("v2")), read(6, Some("v1"))])).is_empty()
        );
    }
}
