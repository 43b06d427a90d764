//! `INFO replication`, rendered the way Redis and Pika do (`key:value` lines, replicas as
//! `slaveN:ip=…,port=…,…`) and parsed back by the catch-up step, which, like an operator, only
//! learns about replication through this text.
//!
//! ```
//! use replsim_sim::info::{PrimaryInfo, ReplicaLine, LinkState};
//! use replsim_model::binlog::Offset;
//! let info = PrimaryInfo {
//!     master_repl_offset: Offset(7),
//!     replicas: vec![ReplicaLine {
//!         ip: "10.0.0.2".into(), port: 9221, state: LinkState::Online,
//!         offset: Offset(7), applied_offset: Offset(6),
//!     }],
//! };
//! let text = info.render();
//! assert!(text.contains("slave0:ip=10.0.0.2,port=9221,state=online,offset=7,applied_offset=6,lag=0"));
//! assert_eq!(PrimaryInfo::parse(&text).unwrap(), info);
//! ```

use std::fmt::Write;

use replsim_model::binlog::Offset;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LinkState {
    /// Handshake done, binlog streaming.
    Online,
    /// Handshake or full sync in progress.
    Syncing,
    /// The connection is gone; the replica is expected to reconnect.
    Offline,
}

impl LinkState {
    fn as_str(self) -> &'static str {
        match self {
            LinkState::Online => "online",
            LinkState::Syncing => "syncing",
            LinkState::Offline => "offline",
        }
    }

    fn parse(text: &str) -> Option<LinkState> {
        [LinkState::Online, LinkState::Syncing, LinkState::Offline].into_iter().find(|state| state.as_str() == text)
    }
}

/// One `slaveN:` line. `offset` is what the replica acknowledged as written to its binlog (what
/// Pika acks); `applied_offset` what it acknowledged as applied to its store.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReplicaLine {
    pub ip: String,
    pub port: u16,
    pub state: LinkState,
    pub offset: Offset,
    pub applied_offset: Offset,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PrimaryInfo {
    pub master_repl_offset: Offset,
    pub replicas: Vec<ReplicaLine>,
}

#[derive(Debug, PartialEq, Eq, thiserror::Error)]
#[error("malformed INFO replication: {0}")]
pub struct MalformedInfo(String);

impl PrimaryInfo {
    pub fn render(&self) -> String {
        let mut text = String::from("# Replication(MASTER)\r\nrole:master\r\n");
        let _ = write!(text, "connected_slaves:{}\r\n", self.replicas.len());
        for (index, line) in self.replicas.iter().enumerate() {
            let lag = self.master_repl_offset.0.saturating_sub(line.offset.0);
            let _ = write!(
                text,
                "slave{index}:ip={},port={},state={},offset={},applied_offset={},lag={lag}\r\n",
                line.ip,
                line.port,
                line.state.as_str(),
                line.offset,
                line.applied_offset
            );
        }
        let _ = write!(text, "master_repl_offset:{}\r\n", self.master_repl_offset);
        text
    }

    pub fn parse(text: &str) -> Result<PrimaryInfo, MalformedInfo> {
        let mut master_repl_offset = None;
        let mut replicas = Vec::new();
        for field in fields(text) {
            let (name, value) = field?;
            if name == "master_repl_offset" {
                master_repl_offset = Some(parse_offset(value)?);
            } else if name.starts_with("slave") {
                replicas.push(parse_replica_line(value)?);
            }
        }
        let master_repl_offset =
            master_repl_offset.ok_or_else(|| MalformedInfo("no master_repl_offset".to_string()))?;
        Ok(PrimaryInfo { master_repl_offset, replicas })
    }
}

/// The `name:value` lines of an INFO text, without headers and blank lines.
fn fields(text: &str) -> impl Iterator<Item = Result<(&str, &str), MalformedInfo>> {
    text.lines()
        .map(str::trim)
        .filter(|line| !line.is_empty() && !line.starts_with('#'))
        .map(|line| line.split_once(':').ok_or_else(|| MalformedInfo(format!("no ':' in {line:?}"))))
}

/// The value of `name=` in a `a=1,b=2` list.
fn field_in<'text>(text: &'text str, name: &str) -> Result<&'text str, MalformedInfo> {
    text.split(',')
        .find_map(|pair| pair.strip_prefix(name).and_then(|rest| rest.strip_prefix('=')))
        .ok_or_else(|| MalformedInfo(format!("no {name}= in {text:?}")))
}

fn parse_offset(text: &str) -> Result<Offset, MalformedInfo> {
    text.parse().map(Offset).map_err(|_| MalformedInfo(format!("bad offset {text:?}")))
}

fn parse_replica_line(text: &str) -> Result<ReplicaLine, MalformedInfo> {
    let field = |name: &str| field_in(text, name);
    Ok(ReplicaLine {
        ip: field("ip")?.to_string(),
        port: field("port")?.parse().map_err(|_| MalformedInfo(format!("bad port in {text:?}")))?,
        state: LinkState::parse(field("state")?).ok_or_else(|| MalformedInfo(format!("bad state in {text:?}")))?,
        offset: parse_offset(field("offset")?)?,
        applied_offset: parse_offset(field("applied_offset")?)?,
    })
}

/// `INFO replication` on a replica.
pub fn render_replica_info(primary_ip: &str, link_up: bool, received: Offset, applied: Offset) -> String {
    format!(
        "# Replication(SLAVE)\r\nrole:slave\r\nmaster_host:{primary_ip}\r\nmaster_port:{}\r\n\
         master_link_status:{}\r\nslave_read_only:1\r\nslave_repl_offset:{received}\r\n\
         slave_applied_offset:{applied}\r\n",
        crate::wire::CLIENT_PORT,
        if link_up { "up" } else { "down" },
    )
}

/// One replica in the primary's `INFO replication` as Pika renders it (`pika_server.cc:594-612`):
/// no offsets, only the lag of what the primary has *sent* behind its binlog.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PikaReplicaLine {
    pub ip: String,
    pub port: u16,
    pub lag: u64,
}

/// The primary's `INFO replication` under `info-as-pika`.
///
/// ```
/// use replsim_sim::info::{PikaPrimaryInfo, PikaReplicaLine};
/// use replsim_model::binlog::Offset;
/// let info = PikaPrimaryInfo {
///     binlog_offset: Offset(9),
///     replicas: vec![PikaReplicaLine { ip: "10.0.0.2".into(), port: 9221, lag: 2 }],
/// };
/// let text = info.render();
/// assert!(text.contains("slave0:ip=10.0.0.2,port=9221,conn_fd=0,lag=(db0:2)"));
/// assert_eq!(PikaPrimaryInfo::parse(&text).unwrap(), info);
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PikaPrimaryInfo {
    pub binlog_offset: Offset,
    pub replicas: Vec<PikaReplicaLine>,
}

impl PikaPrimaryInfo {
    pub fn render(&self) -> String {
        let mut text = String::from("# Replication(MASTER)\r\nrole:master\r\n");
        let _ = write!(text, "connected_slaves:{}\r\n", self.replicas.len());
        for (index, line) in self.replicas.iter().enumerate() {
            let _ = write!(
                text,
                "slave{index}:ip={},port={},conn_fd={index},lag=(db0:{})\r\n",
                line.ip, line.port, line.lag
            );
        }
        let _ = write!(text, "db0:binlog_offset={}\r\n", self.binlog_offset);
        text
    }

    pub fn parse(text: &str) -> Result<PikaPrimaryInfo, MalformedInfo> {
        let mut binlog_offset = None;
        let mut replicas = Vec::new();
        for field in fields(text) {
            let (name, value) = field?;
            if name == "db0" {
                binlog_offset = Some(parse_binlog_offset(value)?);
            } else if name.starts_with("slave") {
                let field = |name: &str| field_in(value, name);
                let lag = field("lag")?
                    .strip_prefix("(db0:")
                    .and_then(|rest| rest.strip_suffix(')'))
                    .and_then(|lag| lag.parse().ok())
                    .ok_or_else(|| MalformedInfo(format!("bad lag in {value:?}")))?;
                replicas.push(PikaReplicaLine {
                    ip: field("ip")?.to_string(),
                    port: field("port")?.parse().map_err(|_| MalformedInfo(format!("bad port in {value:?}")))?,
                    lag,
                });
            }
        }
        let binlog_offset = binlog_offset.ok_or_else(|| MalformedInfo("no db0:binlog_offset".to_string()))?;
        Ok(PikaPrimaryInfo { binlog_offset, replicas })
    }
}

fn parse_binlog_offset(text: &str) -> Result<Offset, MalformedInfo> {
    parse_offset(field_in(text, "binlog_offset")?)
}

/// `INFO replication` on a replica under `info-as-pika` (`pika_admin.cc:1261-1282`): the link
/// status and the binlog offset received, nothing about what was applied.
pub fn render_replica_info_as_pika(primary_ip: &str, link_up: bool, received: Offset) -> String {
    format!(
        "# Replication(SLAVE)\r\nrole:slave\r\nmaster_host:{primary_ip}\r\nmaster_port:{}\r\n\
         master_link_status:{}\r\nslave_read_only:1\r\nslave_repl_offset:{received}\r\n\
         db0:binlog_offset={received}\r\n",
        crate::wire::CLIENT_PORT,
        if link_up { "up" } else { "down" },
    )
}

/// What a Pika user reads from a replica's `INFO replication`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PikaReplicaInfo {
    pub link_up: bool,
    pub binlog_offset: Offset,
}

impl PikaReplicaInfo {
    /// ```
    /// use replsim_sim::info::{render_replica_info_as_pika, PikaReplicaInfo};
    /// use replsim_model::binlog::Offset;
    /// let text = render_replica_info_as_pika("10.0.0.1", true, Offset(4));
    /// let info = PikaReplicaInfo::parse(&text).unwrap();
    /// assert_eq!(info, PikaReplicaInfo { link_up: true, binlog_offset: Offset(4) });
    /// ```
    pub fn parse(text: &str) -> Result<PikaReplicaInfo, MalformedInfo> {
        let mut link_up = None;
        let mut binlog_offset = None;
        for field in fields(text) {
            match field? {
                ("master_link_status", status) => link_up = Some(status == "up"),
                ("db0", value) => binlog_offset = Some(parse_binlog_offset(value)?),
                _ => {}
            }
        }
        Ok(PikaReplicaInfo {
            link_up: link_up.ok_or_else(|| MalformedInfo("no master_link_status".to_string()))?,
            binlog_offset: binlog_offset.ok_or_else(|| MalformedInfo("no db0:binlog_offset".to_string()))?,
        })
    }
}
