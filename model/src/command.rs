//! The command set replsim's key-value store speaks: a small, Redis-shaped subset.
//!
//! ```
//! use replsim_model::command::{Command, Db};
//! let set = Command::set(Db(0), "a", "1");
//! assert_eq!(set.to_string(), "SET a 1");
//! assert_eq!(set.dispatch_key(), "a");
//! assert_eq!(Command::FlushDb { db: Db(0) }.dispatch_key(), "flushdb");
//! ```

use std::fmt;

use serde::{Deserialize, Serialize};

pub type Key = String;
pub type Value = String;

/// A logical database, as chosen by Redis' `SELECT n`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Db(pub u8);

impl fmt::Display for Db {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(formatter, "db{}", self.0)
    }
}

/// One client command. Every command names the database it runs in (the connection's `SELECT`),
/// so a command is meaningful without connection state, as a binlog entry must be.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Command {
    Get {
        db: Db,
        key: Key,
    },
    Set {
        db: Db,
        key: Key,
        value: Value,
    },
    /// Multi-key, as in Redis: deletes every listed key, answers how many existed.
    Del {
        db: Db,
        keys: Vec<Key>,
    },
    FlushDb {
        db: Db,
    },
    /// Clears every database. `db` is the database the issuing connection had selected, which is
    /// where Pika logs it when it logs FLUSHALL as one entry.
    FlushAll {
        db: Db,
    },
}

impl Command {
    pub fn get(db: Db, key: impl Into<Key>) -> Command {
        Command::Get { db, key: key.into() }
    }

    pub fn set(db: Db, key: impl Into<Key>, value: impl Into<Value>) -> Command {
        Command::Set { db, key: key.into(), value: value.into() }
    }

    pub fn del<K: Into<Key>>(db: Db, keys: impl IntoIterator<Item = K>) -> Command {
        Command::Del { db, keys: keys.into_iter().map(Into::into).collect() }
    }

    pub fn db(&self) -> Db {
        match self {
            Command::Get { db, .. }
            | Command::Set { db, .. }
            | Command::Del { db, .. }
            | Command::FlushDb { db }
            | Command::FlushAll { db } => *db,
        }
    }

    pub fn name(&self) -> &'static str {
        match self {
            Command::Get { .. } => "GET",
            Command::Set { .. } => "SET",
            Command::Del { .. } => "DEL",
            Command::FlushDb { .. } => "FLUSHDB",
            Command::FlushAll { .. } => "FLUSHALL",
        }
    }

    /// Whether the command changes state, and so is written to the binlog.
    pub fn is_write(&self) -> bool {
        !matches!(self, Command::Get { .. })
    }

    /// Global commands touch keys they do not name: no per-key ordering can protect them.
    pub fn is_global(&self) -> bool {
        matches!(self, Command::FlushDb { .. } | Command::FlushAll { .. })
    }

    /// The keys the command names, in argument order.
    pub fn keys(&self) -> &[Key] {
        match self {
            Command::Get { key, .. } | Command::Set { key, .. } => std::slice::from_ref(key),
            Command::Del { keys, .. } => keys,
            Command::FlushDb { .. } | Command::FlushAll { .. } => &[],
        }
    }

    /// What Pika's replica hashes to pick an apply worker: `argv[1]` when the command has one,
    /// else the lower-case command name (`pika_repl_client.cc`: `argv.size() >= 2 ? argv[1] :
    /// argv[0]`). So FLUSHDB always lands on the worker of the string "flushdb".
    pub fn dispatch_key(&self) -> &str {
        match self.keys().first() {
            Some(key) => key,
            None => match self {
                Command::FlushAll { .. } => "flushall",
                _ => "flushdb",
            },
        }
    }

    /// Whether the command can change `key` in `db`.
    pub fn touches(&self, db: Db, key: &str) -> bool {
        match self {
            Command::Get { .. } => false,
            Command::FlushAll { .. } => true,
            Command::FlushDb { db: flushed } => *flushed == db,
            Command::Set { .. } | Command::Del { .. } => {
                self.db() == db && self.keys().iter().any(|named| named == key)
            }
        }
    }
}

impl fmt::Display for Command {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Databases other than 0 are shown the way redis-cli shows a selected db.
        if self.db() != Db(0) {
            write!(formatter, "[{}] ", self.db())?;
        }
        match self {
            Command::Get { key, .. } => write!(formatter, "GET {key}"),
            Command::Set { key, value, .. } => write!(formatter, "SET {key} {value}"),
            Command::Del { keys, .. } => write!(formatter, "DEL {}", keys.join(" ")),
            Command::FlushDb { .. } => write!(formatter, "FLUSHDB"),
            Command::FlushAll { .. } => write!(formatter, "FLUSHALL"),
        }
    }
}

/// What a store answers to a command.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Response {
    Ok,
    /// `GET`: the value, or nil.
    Value(Option<Value>),
    /// `DEL`: how many of the named keys existed.
    Count(u64),
}

impl fmt::Display for Response {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Response::Ok => write!(formatter, "OK"),
            Response::Value(Some(value)) => write!(formatter, "{value}"),
            Response::Value(None) => write!(formatter, "nil"),
            Response::Count(count) => write!(formatter, "(integer) {count}"),
        }
    }
}
