//! Go's formats for time, shared by every program: `time.Duration.String` (flag
//! defaults, `/stats` text, `--help`), RFC 3339 in UTC, and the calendar date of a
//! Unix day. Formatting only; parsing a duration is in [`crate::flags`].

use std::time::Duration;

const NANOS_PER_SEC: u128 = 1_000_000_000;

/// Formats a duration the way Go's `time.Duration.String` does:
/// `0s`, `100ns`, `1.5µs`, `250ms`, `1.5s`, `1m0s`, `1h0m0s`.
pub fn format_duration(d: Duration) -> String {
    let nanos = d.as_nanos();
    match nanos {
        0 => "0s".to_string(),
        1..=999 => format!("{nanos}ns"),
        1_000..=999_999 => format!("{}\u{b5}s", decimal(nanos, 1_000)),
        1_000_000..=999_999_999 => format!("{}ms", decimal(nanos, 1_000_000)),
        _ => {
            let secs = nanos / NANOS_PER_SEC;
            let mut out = String::new();
            if secs >= 3600 {
                out.push_str(&format!("{}h", secs / 3600));
            }
            if secs >= 60 {
                out.push_str(&format!("{}m", secs / 60 % 60));
            }
            out.push_str(&format!(
                "{}s",
                decimal(nanos % (60 * NANOS_PER_SEC), NANOS_PER_SEC)
            ));
            out
        }
    }
}

/// `n / div` as a decimal with trailing zeros of the fraction dropped.
fn decimal(n: u128, div: u128) -> String {
    let (whole, frac) = (n / div, n % div);
    if frac == 0 {
        return whole.to_string();
    }
    let width = div.to_string().len() - 1;
    let frac = format!("{frac:0width$}");
    format!("{whole}.{}", frac.trim_end_matches('0'))
}

/// Unix seconds as RFC 3339 in UTC (`2026-11-24T02:20:29Z`).
pub fn rfc3339_utc(unix: i64) -> String {
    let unix = unix.max(0) as u64;
    let (year, month, day) = civil_from_days(unix / 86_400);
    let secs = unix % 86_400;
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        secs / 3600,
        (secs / 60) % 60,
        secs % 60
    )
}

/// Proleptic Gregorian (year, month, day) of a day count since 1970-01-01
/// (Howard Hinnant's `civil_from_days`, for non-negative day counts).
pub fn civil_from_days(days: u64) -> (u64, u64, u64) {
    let z = days + 719_468;
    let era = z / 146_097;
    let doe = z % 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + u64::from(month <= 2);
    (year, month, day)
}
