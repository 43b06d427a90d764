//! Reading a file a user named, with a size limit: every input replsim reads (regression files,
//! histories, failures files and summaries) goes through here, so `/dev/urandom` or `/dev/zero`
//! given as a file is one clear error instead of memory that grows without bound.
//!
//! ```
//! use replsim_scenarios::input::{read_text, REGRESSION_FILE_BYTES_MAX};
//! let error = read_text("/dev/zero".as_ref(), REGRESSION_FILE_BYTES_MAX, "regression file").unwrap_err();
//! assert_eq!(error.to_string(), "/dev/zero: more than 16 MiB, the limit for a regression file");
//! ```

use std::fs::File;
use std::io::Read;
use std::path::Path;

/// A regression file holds hand-sized lines of shrunk cases: the shipped ones are a few KiB.
pub const REGRESSION_FILE_BYTES_MAX: u64 = 16 << 20;
/// A scenario file is a page or two of TOML.
pub const SCENARIO_FILE_BYTES_MAX: u64 = 16 << 20;
/// Recorded histories: Porcupine's and Jepsen's largest are about 1 MiB.
pub const HISTORY_FILE_BYTES_MAX: u64 = 64 << 20;
/// A failures file or a `fuzz --json` summary: about 2 KiB per failing run, so a quarter of a
/// million failing runs per file.
pub const FUZZ_OUTPUT_BYTES_MAX: u64 = 512 << 20;

#[derive(Debug, thiserror::Error)]
pub enum InputError {
    #[error("{path}: {source}")]
    Read { path: String, source: std::io::Error },
    #[error("{path}: more than {limit}, the limit for a {what}", limit = mebibytes(*.limit_bytes))]
    TooLarge { path: String, limit_bytes: u64, what: &'static str },
    #[error("{path}: not UTF-8 text (is it a {what}?)")]
    NotText { path: String, what: &'static str },
}

impl InputError {
    /// Whether the file was not there at all (a regression file about to be created).
    pub fn is_not_found(&self) -> bool {
        matches!(self, InputError::Read { source, .. } if source.kind() == std::io::ErrorKind::NotFound)
    }
}

fn mebibytes(bytes: u64) -> String {
    format!("{} MiB", bytes >> 20)
}

/// The bytes of `path`, or an error when it holds more than `limit_bytes`. `what` names the kind of
/// file in the error (`"history file"`).
pub fn read_bytes(path: &Path, limit_bytes: u64, what: &'static str) -> Result<Vec<u8>, InputError> {
    let display = || path.display().to_string();
    let file = File::open(path).map_err(|source| InputError::Read { path: display(), source })?;
    let mut bytes = Vec::new();
    // One byte past the limit tells a file of exactly the limit from a larger one.
    file.take(limit_bytes.saturating_add(1))
        .read_to_end(&mut bytes)
        .map_err(|source| InputError::Read { path: display(), source })?;
    if bytes.len() as u64 > limit_bytes {
        return Err(InputError::TooLarge { path: display(), limit_bytes, what });
    }
    Ok(bytes)
}

/// [`read_bytes`] for a text file.
pub fn read_text(path: &Path, limit_bytes: u64, what: &'static str) -> Result<String, InputError> {
    let bytes = read_bytes(path, limit_bytes, what)?;
    String::from_utf8(bytes).map_err(|_| InputError::NotText { path: path.display().to_string(), what })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_within_the_limit_is_read_whole_and_one_byte_more_is_refused() {
        let path = std::env::temp_dir().join(format!("replsim-input-{}.txt", std::process::id()));
        std::fs::write(&path, "0123456789").unwrap();
        assert_eq!(read_text(&path, 10, "test file").unwrap(), "0123456789");
        let error = read_text(&path, 9, "test file").unwrap_err();
        assert!(matches!(error, InputError::TooLarge { limit_bytes: 9, .. }), "{error}");
        std::fs::remove_file(&path).unwrap();
        assert!(read_text(&path, 10, "test file").unwrap_err().is_not_found());
    }

    #[test]
    fn an_endless_device_is_refused_at_the_limit() {
        let error = read_bytes("/dev/urandom".as_ref(), 1 << 20, "history file").unwrap_err();
        assert_eq!(error.to_string(), "/dev/urandom: more than 1 MiB, the limit for a history file");
    }
}
