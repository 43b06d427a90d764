//! The reference key-value state machine. The primary, the replicas and the checkers all use it,
//! so a divergence can only come from *which* commands ran in *which* order — the replication
//! path under test — never from two implementations of SET disagreeing.
//!
//! ```
//! use replsim_model::{command::{Command, Db, Response}, store::Store};
//! let mut store = Store::default();
//! store.execute(&Command::set(Db(0), "a", "1"));
//! assert_eq!(store.execute(&Command::get(Db(0), "a")), Response::Value(Some("1".into())));
//! store.execute(&Command::FlushDb { db: Db(0) });
//! assert!(store.is_empty());
//! ```

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::command::{Command, Db, Key, Response, Value};

/// Databases to keys to values. Empty databases are never stored, so two stores holding the same
/// keys compare equal whatever was flushed on the way.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Store {
    databases: BTreeMap<Db, BTreeMap<Key, Value>>,
}

impl Store {
    pub fn execute(&mut self, command: &Command) -> Response {
        match command {
            Command::Get { db, key } => Response::Value(self.get(*db, key).cloned()),
            Command::Set { db, key, value } => {
                self.databases.entry(*db).or_default().insert(key.clone(), value.clone());
                Response::Ok
            }
            Command::Del { db, keys } => {
                let mut deleted = 0;
                if let Some(database) = self.databases.get_mut(db) {
                    for key in keys {
                        deleted += u64::from(database.remove(key).is_some());
                    }
                    if database.is_empty() {
                        self.databases.remove(db);
                    }
                }
                Response::Count(deleted)
            }
            Command::FlushDb { db } => {
                self.databases.remove(db);
                Response::Ok
            }
            Command::FlushAll { .. } => {
                self.databases.clear();
                Response::Ok
            }
        }
    }

    pub fn get(&self, db: Db, key: &str) -> Option<&Value> {
        self.databases.get(&db)?.get(key)
    }

    pub fn is_empty(&self) -> bool {
        self.databases.is_empty()
    }

    pub fn len(&self) -> usize {
        self.databases.values().map(BTreeMap::len).sum()
    }

    /// Every (db, key, value), ordered by db then key.
    pub fn iter(&self) -> impl Iterator<Item = (Db, &Key, &Value)> {
        self.databases.iter().flat_map(|(db, database)| database.iter().map(move |(key, value)| (*db, key, value)))
    }

    /// Keys whose values differ between the two stores, ordered by db then key.
    pub fn differing_keys(&self, other: &Store) -> Vec<(Db, Key)> {
        let mut keys: Vec<(Db, Key)> = self.iter().chain(other.iter()).map(|(db, key, _)| (db, key.clone())).collect();
        keys.sort();
        keys.dedup();
        keys.retain(|(db, key)| self.get(*db, key) != other.get(*db, key));
        keys
    }
}
