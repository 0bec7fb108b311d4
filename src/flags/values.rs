//! Value parsers with Go's syntax: `strconv.ParseBool`, unsigned integers with Go's
//! base prefixes, and Go durations (`1m30s`, `250ms`). Pure functions of a string.

use std::time::Duration;

/// Go's `strconv.ParseBool`.
pub fn parse_bool(s: &str) -> Option<bool> {
    match s {
        "1" | "t" | "T" | "TRUE" | "true" | "True" => Some(true),
        "0" | "f" | "F" | "FALSE" | "false" | "False" => Some(false),
        _ => None,
    }
}

pub(super) fn split_sign(s: &str) -> (bool, &str) {
    match s.as_bytes().first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    }
}

/// Unsigned integer with Go's base prefixes (`0x`, `0o`, `0b`, leading `0` = octal).
pub(super) fn parse_unsigned(s: &str) -> Result<u64, &'static str> {
    let lower = s.to_ascii_lowercase();
    let (radix, digits) = if let Some(d) = lower.strip_prefix("0x") {
        (16, d)
    } else if let Some(d) = lower.strip_prefix("0o") {
        (8, d)
    } else if let Some(d) = lower.strip_prefix("0b") {
        (2, d)
    } else if lower.len() > 1 && lower.starts_with('0') {
        (8, &lower[1..])
    } else {
        (10, lower.as_str())
    };
    if digits.is_empty() || !digits.chars().all(|c| c.is_digit(radix)) {
        return Err("parse error");
    }
    u64::from_str_radix(digits, radix).map_err(|_| "value out of range")
}

const NANOS_PER_SEC: u128 = 1_000_000_000;

/// Parses a Go duration: a sequence of decimal numbers, each with an optional
/// fraction and a unit (`ns`, `us`, `µs`, `ms`, `s`, `m`, `h`), e.g. `1m30s`,
/// `1.5s`, `250ms`. A bare `0` is allowed; other unitless numbers, negative
/// durations and values beyond Go's range (about 292 years) are rejected.
pub fn parse_duration(s: &str) -> Option<Duration> {
    let (negative, mut rest) = split_sign(s);
    if rest == "0" {
        return Some(Duration::ZERO);
    }
    if rest.is_empty() {
        return None;
    }
    let mut total: u128 = 0;
    while !rest.is_empty() {
        let int_len = rest
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(rest.len());
        let (int_digits, after) = rest.split_at(int_len);
        let (frac_digits, after) = match after.strip_prefix('.') {
            Some(f) => f.split_at(f.find(|c: char| !c.is_ascii_digit()).unwrap_or(f.len())),
            None => ("", after),
        };
        if int_digits.is_empty() && frac_digits.is_empty() {
            return None;
        }
        let unit_len = after
            .find(|c: char| c == '.' || c.is_ascii_digit())
            .unwrap_or(after.len());
        let (unit, after) = after.split_at(unit_len);
        let unit_nanos: u128 = match unit {
            "ns" => 1,
            "us" | "\u{b5}s" | "\u{3bc}s" => 1_000,
            "ms" => 1_000_000,
            "s" => NANOS_PER_SEC,
            "m" => 60 * NANOS_PER_SEC,
            "h" => 3600 * NANOS_PER_SEC,
            _ => return None,
        };
        let whole: u128 = if int_digits.is_empty() {
            0
        } else {
            int_digits.parse().ok()?
        };
        // Digits past the 18th cannot change a nanosecond count; ignore them.
        let frac_digits = &frac_digits[..frac_digits.len().min(18)];
        let frac: u128 = if frac_digits.is_empty() {
            0
        } else {
            frac_digits.parse().ok()?
        };
        let scale = 10u128.pow(frac_digits.len() as u32);
        total = total
            .checked_add(whole.checked_mul(unit_nanos)?)?
            .checked_add(frac * unit_nanos / scale)?;
        if total > i64::MAX as u128 {
            return None;
        }
        rest = after;
    }
    if negative && total != 0 {
        return None;
    }
    Some(Duration::from_nanos(u64::try_from(total).ok()?))
}
