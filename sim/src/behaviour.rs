//! Behaviours of Pika as merged: each [`Behaviour`] switches one part of the system under test from
//! replsim's idealised replication to what Pika's code does (`../shared/PIKA-AS-MERGED.md` cites
//! the lines). A cluster carries a [`Behaviours`] set; the empty set — the `ideal` profile — is
//! today's idealised system and the default, the `pika` profile turns every behaviour on. A fix for
//! one of the races these behaviours open is the absence of its behaviour: `pika,-ack-on-receive`
//! is Pika with acks sent after the apply.
//!
//! ```
//! use replsim_sim::behaviour::{Behaviour, Behaviours};
//! let faithful: Behaviours = "pika".parse().unwrap();
//! assert_eq!(faithful.len(), Behaviour::ALL.len());
//! let fixed: Behaviours = "pika,-multi-exec,-ack-on-receive".parse().unwrap();
//! assert!(!fixed.has(Behaviour::MultiExec) && fixed.has(Behaviour::InfoAsPika));
//! assert_eq!("ideal".parse::<Behaviours>().unwrap().to_string(), "ideal");
//! assert!("pika,-no-such-thing".parse::<Behaviours>().is_err());
//! assert!("ack-on-receive,-ack-on-receive".parse::<Behaviours>().is_err());
//! ```

use std::collections::BTreeSet;
use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// One switch: on, the system under test does what Pika does; off, what the ideal model does.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Behaviour {
    /// The replica's apply pipeline as shipped: `sync-thread-num` = 6 workers, each a FIFO of at
    /// most 1000 tasks that blocks the binlog thread when full (`pika_repl_client.cc:121-150`,
    /// `conf/pika.conf:58,65`; one binlog thread per database, `db % 1`).
    PikaDispatch,
    /// The replica acks the offset it appended to its binlog, before the writes apply
    /// (`pika_repl_bgworker.cc:154-167`): the primary never learns an applied offset.
    AckOnReceive,
    /// `INFO replication` as Pika renders it: no applied offset; the primary's `lag` is computed
    /// from the offset it sent (`pika_server.cc:594-612`), the replica shows its binlog offset.
    /// The harness decides "caught up" from these fields only.
    InfoAsPika,
    /// The replica persists its binlog position on every append and its store on every apply;
    /// queued writes live in memory only and are lost by a kill (`pika_binlog.cc:233-237`).
    DurabilityAsPika,
    /// TrySync from a replica ahead of the primary is answered with an error, not a full sync
    /// (`pika_repl_server_conn.cc:189-202`).
    TsyncAheadError,
    /// A full sync swaps in the new store without draining the writes still queued for the apply
    /// workers (`pika_db.cc:505-509,546-578`).
    FullSyncNoDrain,
    /// The primary appends FLUSHDB/FLUSHALL to its binlog after releasing the exclusive lock that
    /// executed it (`pika_admin.cc:502-518`, `pika_command.cc:879`); other writes keep the lock.
    FlushLoggedAfterUnlock,
    /// Clients send FLUSHDB and FLUSHALL inside MULTI … EXEC, where they log nothing
    /// (`pika_transaction.cc:57-71`; keyed sub-commands log one entry each, as outside EXEC).
    MultiExec,
}

impl Behaviour {
    pub const ALL: [Behaviour; 8] = [
        Behaviour::PikaDispatch,
        Behaviour::AckOnReceive,
        Behaviour::InfoAsPika,
        Behaviour::DurabilityAsPika,
        Behaviour::TsyncAheadError,
        Behaviour::FullSyncNoDrain,
        Behaviour::FlushLoggedAfterUnlock,
        Behaviour::MultiExec,
    ];

    /// The one name table.
    pub fn name(self) -> &'static str {
        match self {
            Behaviour::PikaDispatch => "pika-dispatch",
            Behaviour::AckOnReceive => "ack-on-receive",
            Behaviour::InfoAsPika => "info-as-pika",
            Behaviour::DurabilityAsPika => "durability-as-pika",
            Behaviour::TsyncAheadError => "tsync-ahead-error",
            Behaviour::FullSyncNoDrain => "full-sync-no-drain",
            Behaviour::FlushLoggedAfterUnlock => "flush-logged-after-unlock",
            Behaviour::MultiExec => "multi-exec",
        }
    }

    /// The race of PIKA-AS-MERGED.md this behaviour opens (1–5; `docs/findings.md` has one
    /// section each), or `None` for the behaviours that open none.
    pub fn race(self) -> Option<u8> {
        match self {
            Behaviour::FlushLoggedAfterUnlock => Some(1),
            Behaviour::DurabilityAsPika => Some(2),
            Behaviour::FullSyncNoDrain => Some(3),
            Behaviour::AckOnReceive | Behaviour::InfoAsPika => Some(4),
            Behaviour::MultiExec => Some(5),
            Behaviour::PikaDispatch | Behaviour::TsyncAheadError => None,
        }
    }

    /// One line for `replsim list`.
    pub fn summary(self) -> &'static str {
        match self {
            Behaviour::PikaDispatch => "6 apply workers, 1000-task FIFOs that block the binlog thread",
            Behaviour::AckOnReceive => "acks the received binlog offset before the writes apply",
            Behaviour::InfoAsPika => "INFO replication without an applied offset; lag from the sent offset",
            Behaviour::DurabilityAsPika => "binlog position durable on append; queued writes lost on a kill",
            Behaviour::TsyncAheadError => "TrySync from a replica ahead of the primary gets an error, no full sync",
            Behaviour::FullSyncNoDrain => "a full sync does not drain the writes queued before it",
            Behaviour::FlushLoggedAfterUnlock => "the primary logs FLUSHDB/FLUSHALL after releasing its lock",
            Behaviour::MultiExec => "FLUSHDB/FLUSHALL sent inside MULTI/EXEC, where they are not logged",
        }
    }
}

impl fmt::Display for Behaviour {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(self.name())
    }
}

/// A named set of behaviours.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Profile {
    /// None: replsim's idealised replication (the default).
    Ideal,
    /// Every behaviour: Pika as merged.
    Pika,
}

impl Profile {
    pub const ALL: [Profile; 2] = [Profile::Ideal, Profile::Pika];

    pub fn name(self) -> &'static str {
        match self {
            Profile::Ideal => "ideal",
            Profile::Pika => "pika",
        }
    }

    pub fn behaviours(self) -> Behaviours {
        match self {
            Profile::Ideal => Behaviours::default(),
            Profile::Pika => Behaviours(Behaviour::ALL.into_iter().collect()),
        }
    }
}

impl FromStr for Profile {
    type Err = BehaviourError;

    fn from_str(text: &str) -> Result<Profile, BehaviourError> {
        Profile::ALL
            .into_iter()
            .find(|profile| profile.name() == text)
            .ok_or_else(|| BehaviourError::UnknownProfile { name: text.to_string() })
    }
}

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum BehaviourError {
    #[error("unknown behaviour '{name}' (expected one of: {known})", known = Behaviour::ALL.map(Behaviour::name).join(", "))]
    UnknownBehaviour { name: String },
    #[error("unknown profile '{name}' (expected one of: ideal, pika)")]
    UnknownProfile { name: String },
    #[error("behaviour '{name}' is both switched on and off")]
    Contradictory { name: String },
    #[error("'-{name}' turns off a behaviour that is not on (start from a profile that has it, e.g. 'pika,-{name}')")]
    NotOn { name: String },
}

/// The behaviours a cluster runs with, in name-table order.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Behaviours(BTreeSet<Behaviour>);

impl Behaviours {
    pub fn has(&self, behaviour: Behaviour) -> bool {
        self.0.contains(&behaviour)
    }

    pub fn is_ideal(&self) -> bool {
        self.0.is_empty()
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn iter(&self) -> impl Iterator<Item = Behaviour> + '_ {
        self.0.iter().copied()
    }

    pub fn insert(&mut self, behaviour: Behaviour) {
        self.0.insert(behaviour);
    }

    pub fn remove(&mut self, behaviour: Behaviour) {
        self.0.remove(&behaviour);
    }

    /// These behaviours with every race fixed: the behaviours that open a race turned off.
    pub fn with_races_fixed(&self) -> Behaviours {
        Behaviours(self.0.iter().copied().filter(|behaviour| behaviour.race().is_none()).collect())
    }

    /// `base` changed by `list`: a comma list of profile names (whose behaviours are added),
    /// behaviour names (added) and `-NAME` (removed: the fix for that behaviour's race).
    pub fn parse_onto(base: Behaviours, list: &str) -> Result<Behaviours, BehaviourError> {
        let mut behaviours = base;
        let mut added = BTreeSet::new();
        let mut removed = BTreeSet::new();
        for word in list.split(',').map(str::trim).filter(|word| !word.is_empty()) {
            if let Some(name) = word.strip_prefix('-') {
                let behaviour = behaviour_named(name)?;
                if !behaviours.has(behaviour) {
                    return Err(BehaviourError::NotOn { name: name.to_string() });
                }
                removed.insert(behaviour);
                behaviours.remove(behaviour);
            } else if let Ok(profile) = word.parse::<Profile>() {
                // A profile is a starting point: naming `-X` after it is how its fixes are written.
                for behaviour in profile.behaviours().iter() {
                    behaviours.insert(behaviour);
                }
            } else {
                let behaviour = behaviour_named(word)?;
                added.insert(behaviour);
                behaviours.insert(behaviour);
            }
        }
        if let Some(both) = added.intersection(&removed).next() {
            return Err(BehaviourError::Contradictory { name: both.name().to_string() });
        }
        Ok(behaviours)
    }
}

fn behaviour_named(name: &str) -> Result<Behaviour, BehaviourError> {
    Behaviour::ALL
        .into_iter()
        .find(|behaviour| behaviour.name() == name)
        .ok_or_else(|| BehaviourError::UnknownBehaviour { name: name.to_string() })
}

/// `ideal`, `pika`, `pika,-NAME,…` (whichever is shorter to read), or the list of what is on.
impl fmt::Display for Behaviours {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_ideal() {
            return formatter.write_str(Profile::Ideal.name());
        }
        let missing: Vec<&str> =
            Behaviour::ALL.into_iter().filter(|behaviour| !self.has(*behaviour)).map(Behaviour::name).collect();
        if missing.len() < self.len() {
            formatter.write_str(Profile::Pika.name())?;
            for name in missing {
                write!(formatter, ",-{name}")?;
            }
            return Ok(());
        }
        let on: Vec<&str> = self.iter().map(Behaviour::name).collect();
        formatter.write_str(&on.join(","))
    }
}

impl FromStr for Behaviours {
    type Err = BehaviourError;

    fn from_str(text: &str) -> Result<Behaviours, BehaviourError> {
        Behaviours::parse_onto(Behaviours::default(), text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_set_is_written_as_text_that_reads_back_as_itself() {
        let sets = ["ideal", "pika", "pika,-multi-exec", "ack-on-receive,info-as-pika", "multi-exec"];
        for text in sets {
            let behaviours: Behaviours = text.parse().unwrap();
            assert_eq!(behaviours.to_string().parse::<Behaviours>().unwrap(), behaviours, "{text}");
        }
        for behaviour in Behaviour::ALL {
            let mut one = Behaviours::default();
            one.insert(behaviour);
            assert_eq!(one.to_string(), behaviour.name());
            assert_eq!(one.to_string().parse::<Behaviours>().unwrap(), one);
        }
    }

    #[test]
    fn bad_lists_name_the_problem() {
        assert_eq!(
            "pika,-acks".parse::<Behaviours>().unwrap_err(),
            BehaviourError::UnknownBehaviour { name: "acks".to_string() }
        );
        assert_eq!(
            "-multi-exec".parse::<Behaviours>().unwrap_err(),
            BehaviourError::NotOn { name: "multi-exec".to_string() }
        );
        assert_eq!(
            "pika,-multi-exec,multi-exec".parse::<Behaviours>().unwrap_err(),
            BehaviourError::Contradictory { name: "multi-exec".to_string() }
        );
    }
}
