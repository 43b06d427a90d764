//! One RESP connection to one server, through the `redis` crate's synchronous client: connect
//! and every request bounded by a timeout, replies turned into replsim's [`Response`]s, and
//! errors sorted into what the caller must tell apart (no answer, refused, not RESP).
//!
//! ```no_run
//! use std::time::Duration;
//! use replsim_model::command::{Command, Db};
//! use replsim_scenarios::live::client::{Address, Connection};
//! let address: Address = "127.0.0.1:6379".parse().unwrap();
//! let mut primary = Connection::open(&address, Duration::from_secs(2)).unwrap();
//! primary.execute(&Command::set(Db(0), "a", "1")).unwrap();
//! ```

use std::fmt;
use std::net::{IpAddr, ToSocketAddrs};
use std::str::FromStr;
use std::time::Duration;

use redis::{ConnectionLike, Value};
use replsim_model::command::{Command, Response};

/// `HOST:PORT` of a server (`[::1]:6379` for IPv6).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Address {
    pub host: String,
    pub port: u16,
}

impl FromStr for Address {
    type Err = String;

    fn from_str(text: &str) -> Result<Address, String> {
        let bad = || format!("invalid address '{text}' (expected HOST:PORT, e.g. 127.0.0.1:6379)");
        let (host, port) = text.rsplit_once(':').ok_or_else(bad)?;
        let host = host.trim_start_matches('[').trim_end_matches(']');
        if host.is_empty() {
            return Err(bad());
        }
        let port: u16 = port.parse().map_err(|_| bad())?;
        if port == 0 {
            return Err(bad());
        }
        Ok(Address { host: host.to_string(), port })
    }
}

impl fmt::Display for Address {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.host.contains(':') {
            write!(formatter, "[{}]:{}", self.host, self.port)
        } else {
            write!(formatter, "{}:{}", self.host, self.port)
        }
    }
}

impl Address {
    pub fn loopback(port: u16) -> Address {
        Address { host: "127.0.0.1".to_string(), port }
    }

    /// Whether every address the host resolves to is a loopback address (an unresolvable host
    /// is not).
    pub fn is_loopback(&self) -> bool {
        if let Ok(ip) = self.host.parse::<IpAddr>() {
            return ip.is_loopback();
        }
        match (self.host.as_str(), self.port).to_socket_addrs() {
            Ok(addresses) => {
                let addresses: Vec<_> = addresses.collect();
                !addresses.is_empty() && addresses.iter().all(|address| address.ip().is_loopback())
            }
            Err(_) => false,
        }
    }

    fn url(&self) -> String {
        format!("redis://{self}/")
    }
}

/// Why one request got no usable answer.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum RequestError {
    #[error("cannot connect: {0}")]
    Connect(String),
    #[error("no answer within {0:?}")]
    Timeout(Duration),
    #[error("connection lost: {0}")]
    Io(String),
    /// The server answered with an error reply (`-ERR …`).
    #[error("refused: {0}")]
    Refused(String),
    /// The server answered something that is not RESP, or not the reply this command has.
    #[error("unexpected reply: {0}")]
    Unexpected(String),
}

impl RequestError {
    /// The request may have reached the server and taken effect.
    pub fn is_indeterminate(&self) -> bool {
        matches!(self, RequestError::Timeout(_) | RequestError::Io(_))
    }

    /// Replies a replica gives while it syncs or loads, which say nothing about its data.
    pub fn is_replica_unavailable(&self) -> bool {
        match self {
            RequestError::Refused(message) => {
                message.starts_with("LOADING") || message.starts_with("MASTERDOWN") || message.starts_with("BUSY")
            }
            RequestError::Connect(_) => true,
            other => other.is_indeterminate(),
        }
    }
}

pub struct Connection {
    inner: redis::Connection,
    timeout: Duration,
    selected_db: u8,
}

impl Connection {
    /// Connects within `timeout`, sets the same bound on every later read and write, and checks
    /// the server speaks RESP with a PING.
    pub fn open(address: &Address, timeout: Duration) -> Result<Connection, RequestError> {
        let client =
            redis::Client::open(address.url()).map_err(|error| RequestError::Connect(one_line(&error.to_string())))?;
        let inner = client.get_connection_with_timeout(timeout).map_err(|error| match classify(error, timeout) {
            RequestError::Io(problem) => RequestError::Connect(problem),
            other => other,
        })?;
        let bound = Some(timeout);
        inner.set_read_timeout(bound).map_err(|error| RequestError::Connect(one_line(&error.to_string())))?;
        inner.set_write_timeout(bound).map_err(|error| RequestError::Connect(one_line(&error.to_string())))?;
        let mut connection = Connection { inner, timeout, selected_db: 0 };
        match connection.request(&["PING"])? {
            Value::SimpleString(pong) if pong == "PONG" => Ok(connection),
            Value::Okay => Ok(connection),
            other => Err(RequestError::Unexpected(format!("PING answered {other:?}"))),
        }
    }

    /// Sends one command and waits (at most the timeout) for its reply.
    pub fn request(&mut self, arguments: &[&str]) -> Result<Value, RequestError> {
        let mut command = redis::cmd(arguments[0]);
        for argument in &arguments[1..] {
            command.arg(*argument);
        }
        match self.inner.req_command(&command) {
            Ok(Value::ServerError(error)) => {
                let detail = error.details().unwrap_or("");
                Err(RequestError::Refused(format!("{} {detail}", error.code()).trim_end().to_string()))
            }
            Ok(value) => Ok(value),
            Err(error) => Err(classify(error, self.timeout)),
        }
    }

    /// A command whose reply is text (`INFO`, `CONFIG GET` values).
    pub fn request_text(&mut self, arguments: &[&str]) -> Result<String, RequestError> {
        match self.request(arguments)? {
            Value::BulkString(bytes) => Ok(String::from_utf8_lossy(&bytes).into_owned()),
            Value::SimpleString(text) => Ok(text),
            Value::VerbatimString { text, .. } => Ok(text),
            Value::Okay => Ok("OK".to_string()),
            other => Err(RequestError::Unexpected(format!("{} answered {other:?}", arguments.join(" ")))),
        }
    }

    pub fn select(&mut self, db: u8) -> Result<(), RequestError> {
        if self.selected_db != db {
            self.request(&["SELECT", &db.to_string()])?;
            self.selected_db = db;
        }
        Ok(())
    }

    /// Runs one of replsim's commands in its database.
    pub fn execute(&mut self, command: &Command) -> Result<Response, RequestError> {
        self.select(command.db().0)?;
        let reply = match command {
            Command::Get { key, .. } => self.request(&["GET", key])?,
            Command::Set { key, value, .. } => self.request(&["SET", key, value])?,
            Command::Del { keys, .. } => {
                let mut arguments = vec!["DEL"];
                arguments.extend(keys.iter().map(String::as_str));
                self.request(&arguments)?
            }
            Command::FlushDb { .. } => self.request(&["FLUSHDB"])?,
            Command::FlushAll { .. } => self.request(&["FLUSHALL"])?,
        };
        response_of(command, reply)
    }
}

/// Sorts the client crate's errors into what a caller must tell apart.
fn classify(error: redis::RedisError, timeout: Duration) -> RequestError {
    if error.is_timeout() {
        return RequestError::Timeout(timeout);
    }
    let text = one_line(&error.to_string());
    if matches!(error.kind(), redis::ErrorKind::Parse | redis::ErrorKind::UnexpectedReturnType) {
        return RequestError::Unexpected(text);
    }
    if error.is_io_error() || error.is_connection_dropped() {
        return RequestError::Io(text);
    }
    match error.code() {
        Some(code) => RequestError::Refused(format!("{code} {}", error.detail().unwrap_or("")).trim_end().to_string()),
        None => RequestError::Unexpected(text),
    }
}

/// Error texts of the client crate can span lines; a report is one line.
fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn response_of(command: &Command, reply: Value) -> Result<Response, RequestError> {
    match (command, reply) {
        (Command::Get { .. }, Value::Nil) => Ok(Response::Value(None)),
        (Command::Get { .. }, Value::BulkString(bytes)) => {
            Ok(Response::Value(Some(String::from_utf8_lossy(&bytes).as_ref().into())))
        }
        (Command::Del { .. }, Value::Int(count)) if count >= 0 => Ok(Response::Count(count as u64)),
        (Command::Set { .. } | Command::FlushDb { .. } | Command::FlushAll { .. }, Value::Okay) => Ok(Response::Ok),
        (Command::Set { .. } | Command::FlushDb { .. } | Command::FlushAll { .. }, Value::SimpleString(text))
            if text == "OK" =>
        {
            Ok(Response::Ok)
        }
        (command, reply) => Err(RequestError::Unexpected(format!("{} answered {reply:?}", command.name()))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_read_as_people_write_them() {
        assert_eq!("127.0.0.1:6379".parse(), Ok(Address::loopback(6379)));
        assert_eq!("[::1]:7000".parse::<Address>().map(|address| address.to_string()), Ok("[::1]:7000".to_string()));
        for bad in ["", "6379", "host:", ":6379", "host:0", "host:99999", "host:port"] {
            assert!(bad.parse::<Address>().is_err(), "{bad}");
        }
    }

    #[test]
    fn only_loopback_hosts_count_as_loopback() {
        assert!(Address::loopback(1).is_loopback());
        assert!("[::1]:1".parse::<Address>().unwrap().is_loopback());
        assert!("localhost:1".parse::<Address>().unwrap().is_loopback());
        assert!(!"10.1.2.3:1".parse::<Address>().unwrap().is_loopback());
        assert!(!"192.0.2.7:6379".parse::<Address>().unwrap().is_loopback());
    }
}
