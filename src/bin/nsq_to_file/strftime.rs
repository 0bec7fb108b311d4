//! The `--datetime-format` directives Go's nsq_to_file understands (its `strftime.go`,
//! copied from jehiah/go-strftime), rendered in UTC.
//!
//! Supported: `%Y %y %m %B %b %d %A %a %H %I %M %S %p %Z %z %%`. Anything else,
//! including an unknown directive such as `%j` or a trailing `%`, is copied as is,
//! as Go does. Unlike Go, which feeds the result to `time.Format` as a layout, plain
//! text is never reinterpreted (in Go a literal `1` or `Jan` would become the month).
//! Go formats local time; this port formats UTC, so `%Z` is `UTC` and `%z` `+0000`.

use nsq::common::gotime::civil_from_days;
use std::fmt::Write;
use std::time::{SystemTime, UNIX_EPOCH};

const MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];

const WEEKDAYS: [&str; 7] = [
    "Sunday",
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
];

/// A UTC calendar time, broken down.
struct Civil {
    year: u64,
    month: usize,
    day: u64,
    weekday: usize,
    hour: u64,
    minute: u64,
    second: u64,
}

impl Civil {
    fn at(t: SystemTime) -> Civil {
        // Times before 1970 cannot come from the clock of a running tool.
        let secs = t.duration_since(UNIX_EPOCH).unwrap_or_default().as_secs();
        let days = secs / 86_400;
        let (year, month, day) = civil_from_days(days);
        Civil {
            year,
            month: (month as usize).clamp(1, 12),
            day,
            // 1970-01-01 was a Thursday.
            weekday: ((days + 4) % 7) as usize,
            hour: secs % 86_400 / 3600,
            minute: secs % 3600 / 60,
            second: secs % 60,
        }
    }
}

/// `format` with its directives replaced by the parts of `t` (UTC).
pub fn strftime(format: &str, t: SystemTime) -> String {
    let c = Civil::at(t);
    let mut out = String::with_capacity(format.len() + 8);
    let mut chars = format.chars().peekable();
    while let Some(ch) = chars.next() {
        if ch != '%' {
            out.push(ch);
            continue;
        }
        let Some(&directive) = chars.peek() else {
            out.push('%');
            break;
        };
        let month = MONTHS[c.month - 1];
        let weekday = WEEKDAYS[c.weekday];
        let hour12 = match c.hour % 12 {
            0 => 12,
            h => h,
        };
        // Writing to a String cannot fail.
        let _ = match directive {
            'Y' => write!(out, "{}", c.year),
            'y' => write!(out, "{:02}", c.year % 100),
            'm' => write!(out, "{:02}", c.month),
            'B' => write!(out, "{month}"),
            'b' => write!(out, "{}", &month[..3]),
            'd' => write!(out, "{:02}", c.day),
            'A' => write!(out, "{weekday}"),
            'a' => write!(out, "{}", &weekday[..3]),
            'H' => write!(out, "{:02}", c.hour),
            'I' => write!(out, "{hour12:02}"),
            'M' => write!(out, "{:02}", c.minute),
            'S' => write!(out, "{:02}", c.second),
            'p' => write!(out, "{}", if c.hour < 12 { "AM" } else { "PM" }),
            'Z' => write!(out, "UTC"),
            'z' => write!(out, "+0000"),
            '%' => write!(out, "%"),
            _ => {
                out.push('%');
                continue;
            }
        };
        chars.next();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn at(secs: u64) -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(secs)
    }

    #[test]
    fn the_default_format() {
        // 2024-02-29 13:45:30 UTC, a Thursday.
        assert_eq!(strftime("%Y-%m-%d_%H", at(1_709_214_330)), "2024-02-29_13");
    }

    #[test]
    fn every_directive() {
        let t = at(1_709_214_330);
        assert_eq!(
            strftime("%Y %y %m %B %b %d %A %a %H %I %M %S %p %Z %z %%", t),
            "2024 24 02 February Feb 29 Thursday Thu 13 01 45 30 PM UTC +0000 %"
        );
        assert_eq!(strftime("%I%p", at(0)), "12AM");
        assert_eq!(strftime("%A", at(3 * 86_400)), "Sunday");
    }

    #[test]
    fn unknown_directives_and_plain_text_stay_literal() {
        let t = at(1_709_214_330);
        assert_eq!(strftime("%j %q 1 Jan 2006 %", t), "%j %q 1 Jan 2006 %");
        assert_eq!(strftime("%Y/%m/%d", t), "2024/02/29");
        assert_eq!(strftime("", t), "");
        assert_eq!(strftime("é%Yé", t), "é2024é");
    }
}
