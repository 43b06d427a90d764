//! Values a scenario file writes as text: durations (`5ms`), ranges of them (`1ms..4ms`), counts
//! (`3`, `1..=4`), operations (`SET x 1`), targets (`replica-1`), references to an operation
//! (`client 2 op 1`). Each reads with `FromStr` and writes with `Display`, so a file read and
//! written again says the same thing.
//!
//! ```
//! use replsim_scenarios::file::text::{parse_duration, DurationRange};
//! use std::time::Duration;
//! assert_eq!(parse_duration("250us"), Ok(Duration::from_micros(250)));
//! let range: DurationRange = "1ms..4ms".parse().unwrap();
//! assert_eq!((range.min, range.max), (Duration::from_millis(1), Duration::from_millis(4)));
//! assert_eq!(range.to_string(), "1ms..4ms");
//! ```

use std::fmt;
use std::marker::PhantomData;
use std::ops::RangeInclusive;
use std::str::FromStr;
use std::time::Duration;

use replsim_sim::workload::{ScriptedOp, Target};
use serde::de::{self, Deserializer, Visitor};
use serde::{Deserialize, Serialize, Serializer};

use crate::regression::{op_text, parse_op};

/// Units of a duration, largest first (the writer picks the largest that divides exactly).
const UNITS: [(&str, u64); 6] = [
    ("h", 3_600_000_000_000),
    ("m", 60_000_000_000),
    ("s", 1_000_000_000),
    ("ms", 1_000_000),
    ("us", 1_000),
    ("ns", 1),
];

/// A whole number and a unit: `0`, `250us`, `5ms`, `2s`, `10m`, `1h`.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let bad = || format!("invalid duration '{text}' (expected a whole number and a unit: 250us, 5ms, 2s, 10m)");
    if text == "0" {
        return Ok(Duration::ZERO);
    }
    let split = text.find(|char: char| !char.is_ascii_digit()).ok_or_else(bad)?;
    let (number, unit) = text.split_at(split);
    let number: u64 = number.parse().map_err(|_| bad())?;
    let (_, unit_ns) = UNITS.iter().find(|(name, _)| *name == unit).ok_or_else(bad)?;
    number.checked_mul(*unit_ns).map(Duration::from_nanos).ok_or_else(bad)
}

/// The shortest exact text of `duration` (`1500us`, `2s`).
pub fn duration_text(duration: Duration) -> String {
    let nanos = duration.as_nanos();
    if nanos == 0 {
        return "0ms".to_string();
    }
    let (unit, unit_ns) =
        UNITS.iter().find(|(_, unit_ns)| nanos.is_multiple_of(u128::from(*unit_ns))).unwrap_or(&UNITS[5]);
    format!("{}{unit}", nanos / u128::from(*unit_ns))
}

/// A duration written as text.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DurationText(pub Duration);

impl FromStr for DurationText {
    type Err = String;
    fn from_str(text: &str) -> Result<DurationText, String> {
        parse_duration(text).map(DurationText)
    }
}

impl fmt::Display for DurationText {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(&duration_text(self.0))
    }
}

/// `1ms..4ms` (both ends included), or one duration `3ms` for a fixed value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DurationRange {
    pub min: Duration,
    pub max: Duration,
}

impl DurationRange {
    pub fn fixed(duration: Duration) -> DurationRange {
        DurationRange { min: duration, max: duration }
    }
}

impl FromStr for DurationRange {
    type Err = String;
    fn from_str(text: &str) -> Result<DurationRange, String> {
        let (min, max) = match text.split_once("..") {
            Some((min, max)) => (parse_duration(min)?, parse_duration(max.trim_start_matches('='))?),
            None => {
                let fixed = parse_duration(text)?;
                (fixed, fixed)
            }
        };
        if min > max {
            return Err(format!("range '{text}' runs backwards (its start is after its end)"));
        }
        Ok(DurationRange { min, max })
    }
}

/// One place's stalls: `"1% 50ms..2s"` — the share of tasks that stall (a percentage, up to four
/// decimals) and the range their log-uniform pause is drawn from; `"0%"` turns them off.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StallText(pub replsim_sim::stall::Stall);

impl FromStr for StallText {
    type Err = String;
    fn from_str(text: &str) -> Result<StallText, String> {
        let bad = || format!("invalid stall '{text}' (expected PERCENT% MIN..MAX, e.g. \"1% 50ms..2s\")");
        let mut parts = text.split_whitespace();
        let percent = parts.next().and_then(|part| part.strip_suffix('%')).ok_or_else(bad)?;
        let percent: f64 = percent.parse().map_err(|_| bad())?;
        if !(0.0..=100.0).contains(&percent) {
            return Err(bad());
        }
        let range = match parts.next() {
            Some(range) => range.parse::<DurationRange>()?,
            None if percent == 0.0 => DurationRange::fixed(Duration::ZERO),
            None => return Err(bad()),
        };
        if parts.next().is_some() {
            return Err(bad());
        }
        let per_million = (percent * 10_000.0).round() as u32;
        Ok(StallText(replsim_sim::stall::Stall { per_million, min: range.min, max: range.max }))
    }
}

impl fmt::Display for StallText {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        let percent = f64::from(self.0.per_million) / 10_000.0;
        if self.0.is_off() {
            return formatter.write_str("0%");
        }
        write!(formatter, "{percent}% {}", DurationRange { min: self.0.min, max: self.0.max })
    }
}

impl fmt::Display for DurationRange {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.min == self.max {
            formatter.write_str(&duration_text(self.min))
        } else {
            write!(formatter, "{}..{}", duration_text(self.min), duration_text(self.max))
        }
    }
}

/// A count or a range of counts: `3`, `1..=4` or `1..5` (Rust's meaning: 5 excluded).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CountRange(pub RangeInclusive<usize>);

impl FromStr for CountRange {
    type Err = String;
    fn from_str(text: &str) -> Result<CountRange, String> {
        let bad = || format!("invalid count '{text}' (expected N, A..=B or A..B)");
        let number = |text: &str| text.trim().parse::<usize>().map_err(|_| bad());
        let range = if let Some((start, end)) = text.split_once("..=") {
            number(start)?..=number(end)?
        } else if let Some((start, end)) = text.split_once("..") {
            let end = number(end)?.checked_sub(1).ok_or_else(bad)?;
            number(start)?..=end
        } else {
            let count = number(text)?;
            count..=count
        };
        if range.is_empty() {
            return Err(format!("count range '{text}' is empty"));
        }
        Ok(CountRange(range))
    }
}

impl fmt::Display for CountRange {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.start() == self.0.end() {
            write!(formatter, "{}", self.0.start())
        } else {
            write!(formatter, "{}..={}", self.0.start(), self.0.end())
        }
    }
}

impl Serialize for CountRange {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        if self.0.start() == self.0.end() {
            serializer.serialize_u64(*self.0.start() as u64)
        } else {
            serializer.collect_str(self)
        }
    }
}

impl<'de> Deserialize<'de> for CountRange {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<CountRange, D::Error> {
        struct CountVisitor;
        impl Visitor<'_> for CountVisitor {
            type Value = CountRange;
            fn expecting(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
                formatter.write_str("a count (3) or a range of counts (\"1..=4\")")
            }
            fn visit_i64<E: de::Error>(self, count: i64) -> Result<CountRange, E> {
                let count = usize::try_from(count).map_err(|_| E::custom(format!("count {count} is negative")))?;
                Ok(CountRange(count..=count))
            }
            fn visit_u64<E: de::Error>(self, count: u64) -> Result<CountRange, E> {
                let count = usize::try_from(count).map_err(|_| E::custom("count too large"))?;
                Ok(CountRange(count..=count))
            }
            fn visit_str<E: de::Error>(self, text: &str) -> Result<CountRange, E> {
                text.parse().map_err(E::custom)
            }
        }
        deserializer.deserialize_any(CountVisitor)
    }
}

/// Where a client's operation goes: `primary` or `replica-N` (1-based).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TargetText(pub Target);

impl FromStr for TargetText {
    type Err = String;
    fn from_str(text: &str) -> Result<TargetText, String> {
        if text == "primary" {
            return Ok(TargetText(Target::Primary));
        }
        let replica = text
            .strip_prefix("replica-")
            .and_then(|number| number.parse::<usize>().ok())
            .and_then(|number| number.checked_sub(1))
            .ok_or_else(|| format!("unknown node '{text}' (expected primary or replica-N, N from 1)"))?;
        Ok(TargetText(Target::Replica(replica)))
    }
}

impl fmt::Display for TargetText {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Target::Primary => formatter.write_str("primary"),
            Target::Replica(index) => write!(formatter, "replica-{}", index + 1),
        }
    }
}

/// One operation as text: `SET x 1`, `DEL a b`, `GET x`, `FLUSHDB`, `FLUSHALL`, optionally with a
/// think time before it (`+2ms`), a database (`[db1]`) and a replica serving a read
/// (`GET x @replica-1`) — the syntax of regression lines.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OpLine(pub ScriptedOp);

const COMMANDS: [&str; 5] = ["SET", "GET", "DEL", "FLUSHDB", "FLUSHALL"];

impl FromStr for OpLine {
    type Err = String;
    fn from_str(text: &str) -> Result<OpLine, String> {
        let command = text
            .split_whitespace()
            .find(|word| !word.starts_with('+') && !word.starts_with("[db"))
            .ok_or_else(|| "empty operation (expected a command such as \"SET x 1\")".to_string())?;
        if !COMMANDS.contains(&command) {
            return Err(format!(
                "unknown command '{command}' in \"{}\" (expected SET k v, GET k, DEL k.., FLUSHDB or FLUSHALL)",
                text.trim()
            ));
        }
        let op = parse_op(text)?;
        if op.label.is_some() || !op.after.is_empty() {
            return Err(format!(
                "\"{}\": ordering is written `{{ op = \"…\", after = \"client N op K\" }}`",
                text.trim()
            ));
        }
        Ok(OpLine(op))
    }
}

impl fmt::Display for OpLine {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        let op = ScriptedOp { label: None, after: Vec::new(), ..self.0.clone() };
        match op_text(&op) {
            Ok(text) => formatter.write_str(&text),
            Err(problem) => write!(formatter, "<unwritable operation: {problem}>"),
        }
    }
}

/// `client 2 op 1`: the first operation of the phase's second client (both 1-based).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct OpRef {
    pub client: usize,
    pub op: usize,
}

impl FromStr for OpRef {
    type Err = String;
    fn from_str(text: &str) -> Result<OpRef, String> {
        let bad = || format!("invalid reference '{text}' (expected \"client N op K\", both from 1)");
        match text.split_whitespace().collect::<Vec<_>>().as_slice() {
            ["client", client, "op", op] => {
                let client: usize = client.parse().map_err(|_| bad())?;
                let op: usize = op.parse().map_err(|_| bad())?;
                if client == 0 || op == 0 {
                    return Err(bad());
                }
                Ok(OpRef { client, op })
            }
            _ => Err(bad()),
        }
    }
}

impl fmt::Display for OpRef {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(formatter, "client {} op {}", self.client, self.op)
    }
}

/// A value read with `T::from_str` and written with `T`'s `Display`: parse errors carry the
/// value's place in the file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Text<T>(pub T);

impl<T: fmt::Display> Serialize for Text<T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(&self.0)
    }
}

impl<'de, T> Deserialize<'de> for Text<T>
where
    T: FromStr,
    T::Err: fmt::Display,
{
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Text<T>, D::Error> {
        struct TextVisitor<T>(PhantomData<T>);
        impl<T> Visitor<'_> for TextVisitor<T>
        where
            T: FromStr,
            T::Err: fmt::Display,
        {
            type Value = Text<T>;
            fn expecting(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
                formatter.write_str("a string")
            }
            fn visit_str<E: de::Error>(self, text: &str) -> Result<Text<T>, E> {
                text.parse().map(Text).map_err(E::custom)
            }
        }
        deserializer.deserialize_str(TextVisitor(PhantomData))
    }
}

/// One reference or a list of them: `after = "client 1 op 1"` or `after = ["client 1 op 1", …]`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct OpRefs(pub Vec<OpRef>);

impl Serialize for OpRefs {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self.0.as_slice() {
            [one] => serializer.collect_str(one),
            many => serializer.collect_seq(many.iter().map(ToString::to_string)),
        }
    }
}

impl<'de> Deserialize<'de> for OpRefs {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<OpRefs, D::Error> {
        struct RefsVisitor;
        impl<'de> Visitor<'de> for RefsVisitor {
            type Value = OpRefs;
            fn expecting(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
                formatter.write_str("\"client N op K\" or a list of them")
            }
            fn visit_str<E: de::Error>(self, text: &str) -> Result<OpRefs, E> {
                text.parse().map(|reference| OpRefs(vec![reference])).map_err(E::custom)
            }
            fn visit_seq<A: de::SeqAccess<'de>>(self, mut seq: A) -> Result<OpRefs, A::Error> {
                let mut references = Vec::new();
                while let Some(Text(reference)) = seq.next_element::<Text<OpRef>>()? {
                    references.push(reference);
                }
                Ok(OpRefs(references))
            }
        }
        deserializer.deserialize_any(RefsVisitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_and_ranges_read_back_as_written() {
        for text in ["1ms..4ms", "3ms", "250us..1500us", "0ms..2s"] {
            assert_eq!(text.parse::<DurationRange>().unwrap().to_string(), text);
        }
        assert!("4ms..1ms".parse::<DurationRange>().unwrap_err().contains("backwards"));
        for bad in ["", "1.5ms", "3d", "ms", "-1ms"] {
            assert!(parse_duration(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn counts_take_rusts_range_syntax() {
        assert_eq!("1..=3".parse::<CountRange>().unwrap().0, 1..=3);
        assert_eq!("1..3".parse::<CountRange>().unwrap().0, 1..=2);
        assert_eq!("2".parse::<CountRange>().unwrap().0, 2..=2);
        assert!("3..1".parse::<CountRange>().is_err());
    }

    #[test]
    fn an_unknown_command_is_named() {
        let problem = "INCR x".parse::<OpLine>().unwrap_err();
        assert!(problem.contains("unknown command 'INCR'"), "{problem}");
        assert_eq!("+2ms [db1] GET x @replica-1".parse::<OpLine>().unwrap().to_string(), "+2ms [db1] GET x @replica-1");
    }
}
