//! NSQ-style log lines on stderr.
//!
//! This module owns the process logger: lines look like Go nsqd's,
//! `[nsqd] 2026/11/24 10:00:00.000000 INFO: message` (prefix, UTC date and time with
//! microseconds, level word, message), and the mapping of nsqd's `--log-level` words
//! onto `log` filters. The level is `log`'s global maximum only, so
//! `PUT /config/log_level` takes effect at once.
//!
//! Each line, newline included, is formatted into one buffer and handed to stderr in
//! one write, so programs sharing a terminal or a pipe never interleave mid-line.
//! [`Repeats`] collapses one message logged over and over (a lookupd that is down, a
//! full disk) into the first line and a count of the repeats.

use crate::common::gotime::civil_from_days;
use std::fmt;
use std::io::{self, Write};
use std::sync::Mutex;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

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
        let mut line = format_line(&self.prefix, now, record.level(), record.args());
        line.push('\n');
        // A closed stderr must not take the process down.
        let _ = write_line(&mut io::stderr().lock(), &line);
    }

    fn flush(&self) {}
}

/// Writes one whole line (newline included) with a single `write` call when the sink
/// takes it all, as stderr does; only a short write makes a second call for the rest.
pub fn write_line(sink: &mut dyn Write, line: &str) -> io::Result<()> {
    sink.write_all(line.as_bytes())
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

/// A `--log-level` value, lower-cased, or the flag error every program prints for
/// an unknown one (`invalid value "loud" for flag -log-level: invalid log-level 'loud'`).
pub fn level_flag(value: &str) -> Result<String, String> {
    match parse_level(value) {
        Some(_) => Ok(value.to_ascii_lowercase()),
        None => Err(format!(
            "invalid value {value:?} for flag -log-level: invalid log-level '{value}'"
        )),
    }
}

/// Go's numbering of log levels (`/config/log_level`): debug 1 … fatal 5.
pub fn level_number(level: &str) -> u8 {
    match level.to_ascii_lowercase().as_str() {
        "debug" => 1,
        "info" => 2,
        "warn" | "warning" => 3,
        "error" => 4,
        _ => 5,
    }
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

/// Collapses one message logged again and again: the first occurrence is logged at
/// once; identical ones within `every` of the last report are only counted, and the
/// count is reported as `<message> (repeated N more times)` with the next occurrence
/// after `every`, when the message changes, or on [`Repeats::reset`] (the failure
/// ended). One instance per source of errors (a lookupd peer, a consumer's discovery).
#[derive(Debug)]
pub struct Repeats {
    every: Duration,
    state: Mutex<RepeatState>,
}

#[derive(Debug, Default)]
struct RepeatState {
    /// The message last reported, its level and when.
    last: Option<(String, Level, Instant)>,
    /// Identical messages since that report, not logged.
    suppressed: u64,
}

impl Repeats {
    /// Reports one message at most once per `every` while it repeats.
    pub const fn new(every: Duration) -> Repeats {
        Repeats {
            every,
            state: Mutex::new(RepeatState {
                last: None,
                suppressed: 0,
            }),
        }
    }

    /// Logs `message` at `level` unless it repeats the last report within the interval.
    pub fn log(&self, level: Level, message: impl fmt::Display) {
        for (level, line) in self.note(level, message.to_string(), Instant::now()) {
            log::log!(level, "{line}");
        }
    }

    /// The failure ended: reports any uncounted repeats and forgets the message, so
    /// the next failure is logged at once.
    pub fn reset(&self) {
        let mut state = self.lock();
        let more = std::mem::take(&mut state.suppressed);
        if let Some((text, level, _)) = state.last.take() {
            if more > 0 {
                log::log!(level, "{}", repeated(&text, more));
            }
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, RepeatState> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The lines to log for one occurrence of `text` at `now` (none when counted).
    fn note(&self, level: Level, text: String, now: Instant) -> Vec<(Level, String)> {
        let mut state = self.lock();
        let mut lines = Vec::new();
        let more = state.suppressed;
        match &state.last {
            Some((last, _, at)) if *last == text && now.duration_since(*at) < self.every => {
                state.suppressed += 1;
                return lines;
            }
            Some((last, _, _)) if *last == text => lines.push((level, repeated(&text, more))),
            Some((last, last_level, _)) => {
                if more > 0 {
                    lines.push((*last_level, repeated(last, more)));
                }
                lines.push((level, text.clone()));
            }
            None => lines.push((level, text.clone())),
        }
        state.suppressed = 0;
        state.last = Some((text, level, now));
        lines
    }
}

/// `text`, with the count of unlogged repeats when there were any.
fn repeated(text: &str, more: u64) -> String {
    match more {
        0 => text.to_string(),
        1 => format!("{text} (repeated 1 more time)"),
        _ => format!("{text} (repeated {more} more times)"),
    }
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

    /// A sink that records each write call.
    #[derive(Default)]
    struct Calls(Vec<Vec<u8>>);

    impl Write for Calls {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            self.0.push(buf.to_vec());
            Ok(buf.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn a_line_is_one_write_call() {
        let mut line = format_line("[nsqd] ", Duration::ZERO, Level::Info, "hello");
        line.push('\n');
        let mut sink = Calls::default();
        write_line(&mut sink, &line).unwrap();
        assert_eq!(
            sink.0,
            vec![b"[nsqd] 1970/01/01 00:00:00.000000 INFO: hello\n".to_vec()]
        );
    }

    #[test]
    fn repeats_are_counted_then_reported() {
        let r = Repeats::new(Duration::from_secs(1));
        let t0 = Instant::now();
        let at = |ms| t0 + Duration::from_millis(ms);
        let note = |text: &str, ms| r.note(Level::Error, text.to_string(), at(ms));
        let lines = |v: Vec<(Level, String)>| v.into_iter().map(|(_, l)| l).collect::<Vec<_>>();
        assert_eq!(lines(note("down", 0)), ["down"]);
        assert!(note("down", 1).is_empty());
        assert!(note("down", 999).is_empty());
        assert_eq!(lines(note("down", 1000)), ["down (repeated 2 more times)"]);
        assert_eq!(lines(note("down", 2000)), ["down"]);
        assert!(note("down", 2001).is_empty());
        // A different message reports the old one's repeats first.
        assert_eq!(
            lines(note("refused", 2002)),
            ["down (repeated 1 more time)", "refused"]
        );
        assert_eq!(lines(note("down", 2003)), ["down"]);
        assert!(note("down", 2004).is_empty());
        r.reset();
        assert_eq!(r.lock().suppressed, 0);
        assert_eq!(lines(note("down", 2005)), ["down"]);
    }
}
