//! Porcupine's key-value model: `get`, `put` and `append` on string values, missing keys read as
//! the empty string.
//!
//! ```
//! use replsim_model::linearizability::porcupine_kv::{KvInput, KvOutput, PorcupineKvModel};
//! use replsim_model::linearizability::Model;
//! let append = KvInput::Append { key: "k".into(), value: "x".into() };
//! let state = PorcupineKvModel.step(&PorcupineKvModel.initial_state(), &append, Some(&KvOutput::Ok)).unwrap();
//! let get = KvInput::Get { key: "k".into() };
//! assert!(PorcupineKvModel.step(&state, &get, Some(&KvOutput::Value("x".into()))).is_some());
//! ```

use std::fmt;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use super::{Footprint, Model};

#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum KvInput {
    Get { key: String },
    Put { key: String, value: String },
    Append { key: String, value: String },
}

#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum KvOutput {
    Value(String),
    Ok,
}

#[derive(Clone, Copy, Debug, Default)]
pub struct PorcupineKvModel;

impl KvInput {
    pub fn key(&self) -> &str {
        match self {
            KvInput::Get { key } | KvInput::Put { key, .. } | KvInput::Append { key, .. } => key,
        }
    }
}

impl Model for PorcupineKvModel {
    type Input = KvInput;
    type Output = KvOutput;
    type State = KvState;
    type Key = String;

    fn initial_state(&self) -> KvState {
        KvState { hash: 0, keys: Keys::None }
    }

    fn step(&self, state: &Self::State, input: &KvInput, output: Option<&KvOutput>) -> Option<Self::State> {
        match (input, output) {
            (KvInput::Get { .. }, None) => Some(state.clone()),
            (KvInput::Get { key }, Some(KvOutput::Value(read))) => {
                let matches = match state.value_of(key) {
                    Some(current) => current.equals_str(read),
                    None => read.is_empty(),
                };
                matches.then(|| state.clone())
            }
            (KvInput::Put { key, value }, None | Some(KvOutput::Ok)) => Some(state.with_write(key, Write::Put(value))),
            (KvInput::Append { key, value }, None | Some(KvOutput::Ok)) => {
                if value.is_empty() {
                    return Some(state.clone());
                }
                Some(state.with_write(key, Write::Append(value)))
            }
            _ => None,
        }
    }

    fn footprint(&self, input: &KvInput) -> Footprint<String> {
        Footprint::Keys(vec![input.key().to_string()])
    }

    fn is_read_only(&self, input: &KvInput) -> bool {
        matches!(input, KvInput::Get { .. })
    }

    fn describe(&self, input: &KvInput, output: Option<&KvOutput>) -> String {
        match output {
            Some(output) => format!("{input} -> {output}"),
            None => format!("{input} -> ?"),
        }
    }
}

/// The model's state: every key's value. Absent keys read as "" and are not stored, so equal
/// contents are equal states.
///
/// The search keeps every state it explores, so a state is kept to one allocation per write:
/// a partition holds a single key, which is stored inline, and the value's new link holds its
/// piece inline when it is short.
#[derive(Clone)]
pub struct KvState {
    /// Wrapping sum of the entries' [`entry_hash`]es, so one write changes it in O(1).
    hash: u64,
    keys: Keys,
}

#[derive(Clone)]
enum Keys {
    None,
    One(Entry),
    /// Two or more, sorted by key.
    Many(Arc<[Entry]>),
}

#[derive(Clone, Debug, PartialEq, Eq)]
struct Entry {
    key: Arc<str>,
    value: Value,
}

impl KvState {
    fn entries(&self) -> &[Entry] {
        match &self.keys {
            Keys::None => &[],
            Keys::One(entry) => std::slice::from_ref(entry),
            Keys::Many(entries) => entries,
        }
    }

    fn value_of(&self, key: &str) -> Option<&Value> {
        self.entries().iter().find(|entry| *entry.key == *key).map(|entry| &entry.value)
    }

    /// The state after `write` to `key`; the hash is updated incrementally.
    fn with_write(&self, key: &str, write: Write<'_>) -> KvState {
        let entries = self.entries();
        let position = entries.iter().position(|entry| *entry.key == *key);
        let current = position.map(|index| &entries[index]);
        let mut hash = self.hash;
        if let Some(entry) = current {
            hash = hash.wrapping_sub(entry_hash(key, entry.value.0.hash));
        }
        let value = match write {
            Write::Put("") => None,
            Write::Put(text) => Some(Value::new(None, text)),
            Write::Append(suffix) => Some(Value::new(current.map(|entry| &entry.value), suffix)),
        };
        let written = value.map(|value| {
            hash = hash.wrapping_add(entry_hash(key, value.0.hash));
            let key = current.map_or_else(|| Arc::from(key), |entry| Arc::clone(&entry.key));
            Entry { key, value }
        });
        let keys = match (entries.len() - usize::from(position.is_some()), written) {
            (0, None) => Keys::None,
            (0, Some(entry)) => Keys::One(entry),
            (_, written) => {
                let mut next: Vec<Entry> = entries.iter().filter(|entry| *entry.key != *key).cloned().collect();
                next.extend(written);
                next.sort_by(|left, right| left.key.cmp(&right.key));
                match next.len() {
                    1 => Keys::One(next.remove(0)),
                    _ => Keys::Many(next.into()),
                }
            }
        };
        KvState { hash, keys }
    }
}

impl PartialEq for KvState {
    fn eq(&self, other: &KvState) -> bool {
        self.hash == other.hash && self.entries() == other.entries()
    }
}

impl Eq for KvState {}

impl std::hash::Hash for KvState {
    fn hash<H: std::hash::Hasher>(&self, hasher: &mut H) {
        hasher.write_u64(self.hash);
    }
}

impl fmt::Debug for KvState {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.debug_map().entries(self.entries().iter().map(|entry| (&entry.key, &entry.value))).finish()
    }
}

/// A non-empty value, kept as the chain of pieces that built it: an append adds one link instead
/// of copying the whole string (values in Porcupine's kv tests grow to kilobytes by appends of a
/// few bytes, and the search appends in every order it tries). Comparisons walk the chain from
/// the end, where values built in different orders differ first, so a mismatch is usually found
/// in the last piece.
#[derive(Clone)]
struct Value(Arc<Link>);

struct Link {
    /// The value this piece was appended to; `None` for a value's first piece (a put, or the
    /// first append to an absent key).
    previous: Option<Arc<Link>>,
    piece: Piece,
    /// Length in bytes of the whole value, this piece included.
    length: usize,
    /// Polynomial hash of the whole value: equal strings hash alike whatever their pieces.
    hash: u64,
}

/// Pieces up to this many bytes live inside their link (Porcupine's appends are ~10 bytes).
const PIECE_INLINE_MAX: usize = 22;

enum Piece {
    Inline { length: u8, bytes: [u8; PIECE_INLINE_MAX] },
    Boxed(Box<[u8]>),
}

impl Piece {
    fn new(text: &str) -> Piece {
        if text.len() <= PIECE_INLINE_MAX {
            let mut bytes = [0; PIECE_INLINE_MAX];
            bytes[..text.len()].copy_from_slice(text.as_bytes());
            Piece::Inline { length: text.len() as u8, bytes }
        } else {
            Piece::Boxed(text.as_bytes().into())
        }
    }

    fn as_bytes(&self) -> &[u8] {
        match self {
            Piece::Inline { length, bytes } => &bytes[..usize::from(*length)],
            Piece::Boxed(bytes) => bytes,
        }
    }
}

impl Value {
    fn new(previous: Option<&Value>, piece: &str) -> Value {
        let (length, hash) = previous.map_or((0, 0), |value| (value.0.length, value.0.hash));
        Value(Arc::new(Link {
            previous: previous.map(|value| Arc::clone(&value.0)),
            piece: Piece::new(piece),
            length: length + piece.len(),
            hash: polynomial_hash(hash, piece),
        }))
    }

    /// The pieces, last first.
    fn pieces_from_end(&self) -> impl Iterator<Item = &[u8]> {
        std::iter::successors(Some(&*self.0), |link| link.previous.as_deref()).map(|link| link.piece.as_bytes())
    }

    fn equals_str(&self, text: &str) -> bool {
        self.0.length == text.len() && same_bytes_from_end(self.pieces_from_end(), std::iter::once(text.as_bytes()))
    }

    fn to_string_lossy(&self) -> String {
        let mut pieces: Vec<&[u8]> = self.pieces_from_end().collect();
        pieces.reverse();
        String::from_utf8_lossy(&pieces.concat()).into_owned()
    }
}

impl PartialEq for Value {
    fn eq(&self, other: &Value) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
            || (self.0.length == other.0.length
                && self.0.hash == other.0.hash
                && same_bytes_from_end(self.pieces_from_end(), other.pieces_from_end()))
    }
}

impl Eq for Value {}

impl fmt::Debug for Value {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.to_string_lossy().fmt(formatter)
    }
}

/// Dropping a long chain link by link would recurse once per piece: unwind it in a loop instead,
/// stopping at the first link another value still shares.
impl Drop for Link {
    fn drop(&mut self) {
        let mut previous = self.previous.take();
        while let Some(link) = previous {
            previous = match Arc::try_unwrap(link) {
                Ok(mut unshared) => unshared.previous.take(),
                Err(_shared) => None,
            };
        }
    }
}

/// Whether two byte strings of equal total length, each given as pieces from its end, are
/// equal. The pieces may be cut at different places.
fn same_bytes_from_end<'a>(
    mut left: impl Iterator<Item = &'a [u8]>,
    mut right: impl Iterator<Item = &'a [u8]>,
) -> bool {
    let (mut left_piece, mut right_piece): (&[u8], &[u8]) = (&[], &[]);
    // Each turn consumes at least one byte or one piece, so the loop is bounded by the lengths.
    loop {
        if left_piece.is_empty() {
            match left.next() {
                Some(piece) => left_piece = piece,
                None => return right_piece.is_empty() && right.all(<[u8]>::is_empty),
            }
            continue;
        }
        if right_piece.is_empty() {
            match right.next() {
                Some(piece) => right_piece = piece,
                None => return false,
            }
            continue;
        }
        let common = left_piece.len().min(right_piece.len());
        let (left_rest, left_tail) = left_piece.split_at(left_piece.len() - common);
        let (right_rest, right_tail) = right_piece.split_at(right_piece.len() - common);
        if left_tail != right_tail {
            return false;
        }
        (left_piece, right_piece) = (left_rest, right_rest);
    }
}

const HASH_BASE: u64 = 0x100_0000_01B3;

fn polynomial_hash(start: u64, text: &str) -> u64 {
    text.bytes().fold(start, |hash, byte| hash.wrapping_mul(HASH_BASE).wrapping_add(u64::from(byte) + 1))
}

/// An entry's share of the state hash: the state hash is the wrapping sum over entries, so one
/// entry changes it in O(1).
fn entry_hash(key: &str, value_hash: u64) -> u64 {
    let mixed = polynomial_hash(0, key) ^ value_hash.rotate_left(29);
    mixed.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ (mixed >> 31)
}

/// What a write does to a key's value.
enum Write<'input> {
    Put(&'input str),
    Append(&'input str),
}

impl fmt::Display for KvInput {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            KvInput::Get { key } => write!(formatter, "get {key:?}"),
            KvInput::Put { key, value } => write!(formatter, "put {key:?} {value:?}"),
            KvInput::Append { key, value } => write!(formatter, "append {key:?} {value:?}"),
        }
    }
}

impl fmt::Display for KvOutput {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            KvOutput::Value(value) => write!(formatter, "{value:?}"),
            KvOutput::Ok => write!(formatter, "ok"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(steps: &[KvInput]) -> KvState {
        steps.iter().fold(PorcupineKvModel.initial_state(), |state, input| {
            PorcupineKvModel.step(&state, input, Some(&KvOutput::Ok)).expect("writes always apply")
        })
    }

    fn append(key: &str, value: &str) -> KvInput {
        KvInput::Append { key: key.into(), value: value.into() }
    }

    fn put(key: &str, value: &str) -> KvInput {
        KvInput::Put { key: key.into(), value: value.into() }
    }

    fn reads(state: &KvState, key: &str, value: &str) -> bool {
        let get = KvInput::Get { key: key.into() };
        PorcupineKvModel.step(state, &get, Some(&KvOutput::Value(value.into()))).is_some()
    }

    #[test]
    fn the_same_string_built_from_different_pieces_is_the_same_state() {
        let by_appends = run(&[append("k", "ab"), append("k", "c"), append("j", "x")]);
        let by_other_appends = run(&[append("j", "x"), append("k", "a"), append("k", "bc")]);
        let by_put = run(&[put("k", "abc"), put("j", "x")]);
        assert_eq!(by_appends, by_other_appends);
        assert_eq!(by_appends, by_put);
        assert_eq!(by_appends.hash, by_put.hash);
        assert!(reads(&by_appends, "k", "abc") && reads(&by_appends, "j", "x"));
    }

    #[test]
    fn values_that_differ_anywhere_are_different_states() {
        let base = run(&[append("k", "ab"), append("k", "c")]);
        for other in
            [run(&[append("k", "ac"), append("k", "c")]), run(&[append("k", "abcd")]), run(&[append("k", "ab")])]
        {
            assert_ne!(base, other);
        }
        assert!(!reads(&base, "k", "xbc") && !reads(&base, "k", "abx") && !reads(&base, "k", "ab"));
    }

    #[test]
    fn an_empty_put_reads_as_a_missing_key() {
        let emptied = run(&[append("k", "a"), put("k", "")]);
        assert_eq!(emptied, PorcupineKvModel.initial_state());
        assert!(reads(&emptied, "k", ""));
        let three_then_two = run(&[put("c", "3"), put("a", "1"), put("b", "2"), put("a", "")]);
        assert_eq!(three_then_two, run(&[put("b", "2"), put("c", "3")]));
        assert!(
            reads(&three_then_two, "a", "") && reads(&three_then_two, "b", "2") && reads(&three_then_two, "c", "3")
        );
    }

    #[test]
    fn long_pieces_compare_like_short_ones() {
        let long = "y".repeat(3 * PIECE_INLINE_MAX);
        let by_long_append = run(&[append("k", "x"), append("k", &long)]);
        assert_eq!(by_long_append, run(&[put("k", &format!("x{long}"))]));
        assert!(reads(&by_long_append, "k", &format!("x{long}")) && !reads(&by_long_append, "k", &long));
    }

    #[test]
    fn a_long_chain_of_appends_drops_without_deep_recursion() {
        let mut state = PorcupineKvModel.initial_state();
        for _ in 0..200_000 {
            state = PorcupineKvModel.step(&state, &append("k", "x"), None).expect("appends apply");
        }
        assert!(reads(&state, "k", &"x".repeat(200_000)));
        drop(state);
    }
}
