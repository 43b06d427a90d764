//! `INFO replication`, as Redis and Pika write it: the role, the link, and the replication
//! offset — the only progress a black box exposes.
//!
//! ```text
//! Redis primary: role:master  master_repl_offset:100
//! Redis replica: role:slave   master_link_status:up  slave_repl_offset:100
//! Pika (either): role:…       db0:binlog_offset=2 394,safety_purge=…  (one line per database)
//!                             slave_repl_offset:209715594  (sum of filenum × binlog-file-size + offset)
//! ```
//!
//! Pika's fields are those of `InfoCmd::InfoReplication` (`src/pika_admin.cc:1154-1282` at
//! `218b68bb`). Pika acks a batch once appended, before it is applied (`../shared/PIKA-AS-MERGED.md`),
//! so "caught up" there means received, not applied; Redis applies as it reads.
//!
//! ```
//! use replsim_scenarios::live::info::ReplicationInfo;
//! let primary = ReplicationInfo::parse("role:master\r\nmaster_repl_offset:100\r\n").unwrap();
//! let replica = ReplicationInfo::parse("role:slave\r\nmaster_link_status:up\r\nslave_repl_offset:90\r\n").unwrap();
//! assert!(!replica.offset.reached(&primary.offset));
//! ```

use std::collections::BTreeMap;
use std::fmt;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    Primary,
    Replica,
}

/// Where a node's replication stream stands.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ReplicationOffset {
    /// Redis: bytes of the replication stream (`master_repl_offset` on a primary,
    /// `slave_repl_offset` on a replica).
    Redis(u64),
    /// Pika: each database's binlog position (file number, offset in file), and Pika's own total.
    Pika { databases: BTreeMap<String, (u64, u64)>, total: u64 },
}

impl ReplicationOffset {
    /// Whether a replica at `self` has everything the primary had at `primary`.
    pub fn reached(&self, primary: &ReplicationOffset) -> bool {
        match (self, primary) {
            (ReplicationOffset::Redis(replica), ReplicationOffset::Redis(primary)) => replica >= primary,
            (
                ReplicationOffset::Pika { databases: replica, .. },
                ReplicationOffset::Pika { databases: primary, .. },
            ) => primary.iter().all(|(db, position)| replica.get(db).is_some_and(|replica| replica >= position)),
            _ => false,
        }
    }

    /// One number for reports.
    pub fn total(&self) -> u64 {
        match self {
            ReplicationOffset::Redis(offset) => *offset,
            ReplicationOffset::Pika { total, .. } => *total,
        }
    }
}

impl fmt::Display for ReplicationOffset {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(formatter, "{}", self.total())
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReplicationInfo {
    pub role: Role,
    /// `master_link_status` of a replica; `None` on a primary.
    pub link_up: Option<bool>,
    pub offset: ReplicationOffset,
}

/// Text that is not an `INFO replication` this module understands.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("INFO replication: {0}")]
pub struct InfoError(pub String);

impl ReplicationInfo {
    /// Parses the reply to `INFO replication` (lines `field:value`, `#` comments, CRLF or LF).
    pub fn parse(text: &str) -> Result<ReplicationInfo, InfoError> {
        let mut fields: BTreeMap<&str, &str> = BTreeMap::new();
        let mut pika_databases = BTreeMap::new();
        for line in text.lines().map(str::trim).filter(|line| !line.is_empty() && !line.starts_with('#')) {
            let Some((field, value)) = line.split_once(':') else { continue };
            if let Some(position) = value.strip_prefix("binlog_offset=") {
                pika_databases.insert(field.to_string(), parse_pika_position(field, position)?);
            } else {
                fields.insert(field, value);
            }
        }
        let role = match fields.get("role") {
            Some(&"master") => Role::Primary,
            Some(role) if role.contains("slave") || role.contains("replica") => Role::Replica,
            Some(role) => return Err(InfoError(format!("unknown role '{role}'"))),
            None => return Err(InfoError("no role field: not a Redis or Pika server?".to_string())),
        };
        let link_up = match fields.get("master_link_status") {
            Some(status) => Some(*status == "up"),
            None if role == Role::Replica => return Err(InfoError("a replica without master_link_status".into())),
            None => None,
        };
        let number = |field: &str| -> Result<u64, InfoError> {
            let value = fields.get(field).ok_or_else(|| InfoError(format!("no {field} field")))?;
            value.parse().map_err(|_| InfoError(format!("{field}:{value} is not a number")))
        };
        let offset = if !pika_databases.is_empty() {
            ReplicationOffset::Pika { databases: pika_databases, total: number("slave_repl_offset")? }
        } else if role == Role::Primary {
            ReplicationOffset::Redis(number("master_repl_offset")?)
        } else {
            ReplicationOffset::Redis(number("slave_repl_offset")?)
        };
        Ok(ReplicationInfo { role, link_up, offset })
    }
}

/// `2 394` (Pika writes file number and offset separated by a space) up to the next comma.
fn parse_pika_position(db: &str, text: &str) -> Result<(u64, u64), InfoError> {
    let position = text.split(',').next().unwrap_or("");
    let bad = || InfoError(format!("{db}:binlog_offset={position} is not 'filenum offset'"));
    let (file, offset) = position.split_once(' ').ok_or_else(bad)?;
    Ok((file.trim().parse().map_err(|_| bad())?, offset.trim().parse().map_err(|_| bad())?))
}
