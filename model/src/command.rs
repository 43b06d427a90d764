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
use std::hash::{Hash, Hasher};
use std::ops::Deref;
use std::sync::Arc;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

pub type Key = String;

/// A value as SET writes it and GET reads it: text, reference-counted so that a checker state,
/// a binlog entry or a replica's store that holds it shares the bytes instead of copying them (a
/// linearizability search steps a SET thousands of times; with 1 MB values, copying was the
/// memory). Reads as a `str`, and serializes as a plain string.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Value(Arc<str>);

/// Bytes of each end of a value that its hash reads.
const VALUE_HASHED_END_BYTES: usize = 32;

/// Reads the length and the two ends only: a checker state is hashed at every step it makes,
/// and hashing a whole 1 MB value each time was the search's time. Values that differ only in
/// the middle share a hash, and an equality test tells them apart.
impl Hash for Value {
    fn hash<H: Hasher>(&self, hasher: &mut H) {
        let bytes = self.0.as_bytes();
        let end = VALUE_HASHED_END_BYTES.min(bytes.len());
        hasher.write_usize(bytes.len());
        hasher.write(&bytes[..end]);
        hasher.write(&bytes[bytes.len() - end..]);
    }
}

impl Value {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl Deref for Value {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

impl From<&str> for Value {
    fn from(text: &str) -> Value {
        Value(Arc::from(text))
    }
}

impl From<String> for Value {
    fn from(text: String) -> Value {
        Value(Arc::from(text))
    }
}

impl PartialEq<str> for Value {
    fn eq(&self, other: &str) -> bool {
        *self.0 == *other
    }
}

impl fmt::Debug for Value {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&*self.0, formatter)
    }
}

impl fmt::Display for Value {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&*self.0, formatter)
    }
}

impl Serialize for Value {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for Value {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Value, D::Error> {
        String::deserialize(deserializer).map(Value::from)
    }
}

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
