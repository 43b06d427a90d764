//! Reads after a catch-up: a client that waited until the replica looked caught up — by the
//! signals the system exposes — and then read from it must see the primary's binlog through the
//! offset it waited for. Pika's signals (`lag=0`, the replica's binlog offset) say what was
//! *received*; a reader right after them can still see what the apply workers have not written.
//!
//! ```text
//!   primary binlog:  1:SET a v1 ─ 2:SET a v2            INFO: lag=(db0:0), replica binlog_offset=2
//!   replica:         received 2, applied 1   ──► reader: GET a = v1   (expected v2) → stale
//! ```
//!
//! ```
//! use replsim_model::binlog::{BinlogEntry, Offset};
//! use replsim_model::check::{caught_up::check_read_after_catch_up, NodeSnapshot, SimTime};
//! use replsim_model::command::{Command, Db};
//! use replsim_model::store::Store;
//! let binlog = vec![
//!     BinlogEntry { offset: Offset(1), command: Command::set(Db(0), "a", "v1") },
//!     BinlogEntry { offset: Offset(2), command: Command::set(Db(0), "a", "v2") },
//! ];
//! let mut store = Store::default();
//! store.execute(&binlog[0].command);
//! let read = NodeSnapshot { node: "replica-1".into(), offset: Offset(1), store, at: SimTime(0) };
//! let stale = check_read_after_catch_up(&binlog, Offset(2), &read).unwrap();
//! assert!(stale.to_string().contains("a=v1"));
//! assert!(check_read_after_catch_up(&binlog, Offset(1), &read).is_none());
//! ```

use crate::binlog::{replay, BinlogEntry, Offset};
use crate::check::diff::StoreDiff;
use crate::check::NodeSnapshot;

/// Compares what a reader saw on a replica (`read`) with the primary's binlog replayed through
/// `caught_up_at`, the offset the replica was taken to have caught up with. `None`: not stale.
pub fn check_read_after_catch_up(
    binlog: &[BinlogEntry],
    caught_up_at: Offset,
    read: &NodeSnapshot,
) -> Option<StoreDiff> {
    let end = (caught_up_at.0 as usize).min(binlog.len());
    let expected = replay(binlog, Offset(end as u64));
    StoreDiff::between(&read.node, binlog, caught_up_at, &read.store, &expected)
}
