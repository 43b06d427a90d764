//! `--duration` values: a whole number and a unit, `500ms`, `90s`, `10m`, `2h`.
//!
//! Four units cover every budget a fuzz or shrink run takes; a crate for it would be bigger
//! than this file.

use std::time::Duration;

pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let bad = || format!("invalid duration '{text}' (expected a number and a unit: 500ms, 90s, 10m, 2h)");
    let split = text.find(|char: char| !char.is_ascii_digit()).ok_or_else(bad)?;
    let (number, unit) = text.split_at(split);
    let number: u64 = number.parse().map_err(|_| bad())?;
    let unit_ms: u64 = match unit {
        "ms" => 1,
        "s" => 1_000,
        "m" => 60_000,
        "h" => 3_600_000,
        _ => return Err(bad()),
    };
    number.checked_mul(unit_ms).map(Duration::from_millis).ok_or_else(bad)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_as_people_write_them() {
        assert_eq!(parse_duration("10m"), Ok(Duration::from_secs(600)));
        assert_eq!(parse_duration("250ms"), Ok(Duration::from_millis(250)));
        for bad in ["", "10", "m", "1.5s", "10 m", "-1s", "3d"] {
            assert!(parse_duration(bad).is_err(), "{bad}");
        }
    }
}
