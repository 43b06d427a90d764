//! Standard output that fails once, cleanly: `replsim list >/dev/full` is one line on stderr and
//! exit 2, not a panic in `println!` (exit 101) nor a complaint per trace event.
//!
//! Every command prints through [`outln!`] (or [`Stdout`] as a `Write`, for the trace). The first
//! write error is kept and every later write is dropped; `main` then reports that error as the
//! command's result. A long command asks [`failed`] to stop early rather than compute output
//! nobody can read. A closed pipe (`replsim fuzz | head`) never gets here: `main` restores
//! SIGPIPE's default action, which ends the process quietly as Unix tools do.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;

use crate::UsageError;

static FAILED: AtomicBool = AtomicBool::new(false);
static FIRST_ERROR: Mutex<Option<String>> = Mutex::new(None);

/// `println!` through [`Stdout`].
macro_rules! outln {
    ($($argument:tt)*) => {
        $crate::output::write_line(format_args!($($argument)*))
    };
}
pub(crate) use outln;

/// Writes one line to stdout, unless stdout has already failed.
pub fn write_line(line: std::fmt::Arguments<'_>) {
    let _ = writeln!(Stdout, "{line}");
}

/// Whether a write to stdout has failed (the rest of the output is being dropped).
pub fn failed() -> bool {
    FAILED.load(Ordering::Relaxed)
}

/// The error to end the command with when stdout failed, after flushing what is buffered.
pub fn finish() -> Option<UsageError> {
    let _ = Stdout.flush();
    let error = FIRST_ERROR.lock().map(|error| error.clone()).unwrap_or_default()?;
    Some(UsageError::Invalid(format!("cannot write to standard output: {error}")))
}

fn record(error: &std::io::Error) {
    if !FAILED.swap(true, Ordering::Relaxed) {
        if let Ok(mut first) = FIRST_ERROR.lock() {
            *first = Some(error.to_string());
        }
    }
}

/// The process's stdout, recording its first error and swallowing every write after it.
pub struct Stdout;

impl Write for Stdout {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        if failed() {
            return Ok(bytes.len());
        }
        std::io::stdout().write(bytes).or_else(|error| {
            record(&error);
            Ok(bytes.len())
        })
    }

    fn flush(&mut self) -> std::io::Result<()> {
        if failed() {
            return Ok(());
        }
        std::io::stdout().flush().or_else(|error| {
            record(&error);
            Ok(())
        })
    }
}

/// Refuses two output flags naming one file (`--history-out F --trace-out F`), which would leave
/// one output overwritten by the other. `outputs` are (flag, path) pairs; `None` is not given.
pub fn distinct_outputs(outputs: &[(&str, Option<&PathBuf>)]) -> Result<(), UsageError> {
    let given: Vec<(&str, PathBuf)> =
        outputs.iter().filter_map(|(flag, path)| path.map(|path| (*flag, resolved(path)))).collect();
    for (index, (flag, path)) in given.iter().enumerate() {
        if let Some((other_flag, _)) = given[..index].iter().find(|(_, other)| other == path) {
            return Err(UsageError::Invalid(format!(
                "{other_flag} and {flag} name the same file {}: one would overwrite the other",
                path.display()
            )));
        }
    }
    Ok(())
}

/// `path` made absolute with its directory's symlinks and `..` resolved, so that `F`, `./F` and
/// `dir/../F` compare equal; the file itself need not exist yet.
fn resolved(path: &Path) -> PathBuf {
    let absolute = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
    if let Ok(canonical) = absolute.canonicalize() {
        return canonical;
    }
    match (absolute.parent(), absolute.file_name()) {
        (Some(parent), Some(name)) => parent.canonicalize().map(|parent| parent.join(name)).unwrap_or(absolute),
        _ => absolute,
    }
}
