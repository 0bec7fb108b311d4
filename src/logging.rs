//! NSQ-style log lines on stderr.
//!
//! This module owns the process logger: lines look like Go nsqd's,
//! `[nsqd] 2026/11/24 10:00:00.000000 INFO: message` (prefix, UTC date and time with
//! microseconds, level word, message), and the mapping of nsqd's `--log-level` words
//! onto `log` filters. The level is `log`'s global maximum only, so
//! `PUT /config/log_level` takes effect at once.

use crate::common::gotime::civil_from_days;
use std::fmt;
use std::io::Write;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use log::{Level, LevelFilter};

/// The process logger: one formatted line per record, written to stderr at once.
struct StderrLogger {
    prefix: String,
}

impl log::Log for StderrLogger {
    fn enabled(&self, metadata: &log::Metadata<'_>) -> bool {
        metadata.level() <= log::max_level()
    }

    fn log(&self, record: &log::Record<'_>) {
        if !self.enabled(record.metadata()) {
            return;
        }
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default();
        let line = format_line(&self.prefix, now, record.level(), record.args());
        // A closed stderr must not take the process down.
        let _ = writeln!(std::io::stderr().lock(), "{line}");
    }

    fn flush(&self) {}
}

/// Installs the global logger writing NSQ-style lines to stderr.
///
/// `prefix` is printed as given (it normally ends with a space, e.g. `"[nsqd] "`);
/// `level` is one of debug/info/warn/error/fatal. An unknown level is an error.
/// If a logger is already installed, the first one stays (the level is still set).
pub fn init(prefix: &str, level: &str) -> Result<(), String> {
    let filter = parse_level(level).ok_or_else(|| format!("invalid log-level '{level}'"))?;
    let logger = Box::leak(Box::new(StderrLogger {
        prefix: prefix.to_string(),
    }));
    // An already-installed logger is not an error: tests and embedders may call init repeatedly.
    let _ = log::set_logger(logger);
    log::set_max_level(filter);
    Ok(())
}

/// Maps an nsqd `--log-level` word (any case) to a filter; `fatal` maps to `Error`.
pub fn parse_level(level: &str) -> Option<LevelFilter> {
    match level.to_ascii_lowercase().as_str() {
        "debug" => Some(LevelFilter::Debug),
        "info" => Some(LevelFilter::Info),
        "warn" | "warning" => Some(LevelFilter::Warn),
        "error" | "fatal" => Some(LevelFilter::Error),
        _ => None,
    }
}

/// One log line without its newline: `<prefix><timestamp> <LEVEL>: <message>`,
/// with `since_epoch` the time since the Unix epoch.
pub fn format_line(
    prefix: &str,
    since_epoch: Duration,
    level: Level,
    message: impl fmt::Display,
) -> String {
    let word = match level {
        Level::Error => "ERROR",
        Level::Warn => "WARNING",
        Level::Info => "INFO",
        Level::Debug | Level::Trace => "DEBUG",
    };
    format!(
        "{prefix}{} {word}: {message}",
        format_timestamp(since_epoch)
    )
}

/// Formats a time since the Unix epoch as UTC `YYYY/MM/DD HH:MM:SS.micros`,
/// the layout of Go's `log.Ldate|log.Ltime|log.Lmicroseconds`.
pub fn format_timestamp(since_epoch: Duration) -> String {
    let secs = since_epoch.as_secs();
    let (year, month, day) = civil_from_days(secs / 86_400);
    let (hour, minute, second) = (secs % 86_400 / 3600, secs % 3600 / 60, secs % 60);
    let micros = since_epoch.subsec_micros();
    format!("{year:04}/{month:02}/{day:02} {hour:02}:{minute:02}:{second:02}.{micros:06}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps() {
        assert_eq!(
            format_timestamp(Duration::ZERO),
            "1970/01/01 00:00:00.000000"
        );
        // 2024-02-29 13:45:30.123456 UTC
        let leap_day = Duration::new(1_709_214_330, 123_456_789);
        assert_eq!(format_timestamp(leap_day), "2024/02/29 13:45:30.123456");
        assert_eq!(
            format_timestamp(Duration::from_secs(1_709_251_199)),
            "2024/02/29 23:59:59.000000"
        );
        assert_eq!(
            format_timestamp(Duration::from_secs(1_709_251_200)),
            "2024/03/01 00:00:00.000000"
        );
        assert_eq!(
            format_timestamp(Duration::from_secs(951_782_400)),
            "2000/02/29 00:00:00.000000"
        );
        assert_eq!(
            format_timestamp(Duration::from_secs(1_798_761_599)),
            "2026/12/31 23:59:59.000000"
        );
    }

    #[test]
    fn lines_look_like_go_nsqd() {
        let t = Duration::from_secs(1_795_514_400); // 2026-11-24 10:00:00 UTC
        assert_eq!(
            format_line("[nsqd] ", t, Level::Info, "TCP: listening on [::]:4150"),
            "[nsqd] 2026/11/24 10:00:00.000000 INFO: TCP: listening on [::]:4150"
        );
        assert_eq!(
            format_line("", t, Level::Warn, "x"),
            "2026/11/24 10:00:00.000000 WARNING: x"
        );
        assert!(format_line("p ", t, Level::Error, 7).ends_with(" ERROR: 7"));
        assert!(format_line("p ", t, Level::Debug, "d").ends_with(" DEBUG: d"));
    }

    #[test]
    fn levels() {
        assert_eq!(parse_level("debug"), Some(LevelFilter::Debug));
        assert_eq!(parse_level("INFO"), Some(LevelFilter::Info));
        assert_eq!(parse_level("Warn"), Some(LevelFilter::Warn));
        assert_eq!(parse_level("error"), Some(LevelFilter::Error));
        assert_eq!(parse_level("fatal"), Some(LevelFilter::Error));
        assert_eq!(parse_level("verbose"), None);
        assert_eq!(parse_level(""), None);
    }

    #[test]
    fn init_twice_is_fine_and_bad_level_is_an_error() {
        assert!(init("[test] ", "info").is_ok());
        assert!(init("[test] ", "debug").is_ok());
        assert_eq!(
            init("[test] ", "loud"),
            Err("invalid log-level 'loud'".to_string())
        );
    }
}
