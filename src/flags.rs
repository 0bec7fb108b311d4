//! Go-style command-line flags, shared by every nsq-rs program.
//!
//! This module owns the command-line syntax of Go's `flag` package: `-name` or
//! `--name`, a value as `-name=value` or `-name value`, booleans as `-name` or
//! `-name=false`, repeatable list flags, parsing that stops at the first
//! non-flag argument or at `--`, and Go's error messages. It also owns Go's
//! duration syntax (`1m30s`, `250ms`) both ways, and the help text in the
//! layout of Go's `flag.PrintDefaults`.
//!
//! A program describes its flags as a table of [`FlagSpec`]s, calls [`parse`],
//! then reads typed values out of the [`Parsed`] result.

use std::collections::HashMap;
use std::fmt;
use std::time::Duration;

/// What a flag holds: decides how it is parsed and how help shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FlagKind {
    /// `-name` alone means true; a value only as `-name=false`.
    Bool,
    /// Text, shown in help as `string` with a quoted default.
    String,
    /// A signed integer (Go `int`/`int64`).
    Int,
    /// An unsigned integer (Go `uint`/`uint64`).
    Uint,
    /// A floating-point number.
    Float,
    /// A Go duration such as `60s` or `1m30s`.
    Duration,
    /// A repeatable flag: each occurrence appends one value.
    List,
}

/// One flag a program accepts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FlagSpec {
    /// The name without dashes, e.g. `mem-queue-size`.
    pub name: &'static str,
    /// What the flag holds.
    pub kind: FlagKind,
    /// The value used when the flag is not given, in flag syntax (`60s`, `true`).
    pub default: String,
    /// One-line help text.
    pub usage: &'static str,
}

impl FlagSpec {
    /// A flag spec; `default` is written the way a user would type it.
    pub fn new(
        name: &'static str,
        kind: FlagKind,
        default: impl ToString,
        usage: &'static str,
    ) -> Self {
        FlagSpec {
            name,
            kind,
            default: default.to_string(),
            usage,
        }
    }
}

/// Why a command line was rejected; `Display` gives Go's wording.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FlagError {
    /// `-h`, `-help` or `--help` was given (and no such flag is defined).
    Help,
    /// A malformed flag such as `---x` or `-=x`.
    BadSyntax(String),
    /// A flag that is not in the table.
    NotDefined(String),
    /// A non-boolean flag at the end of the line, with no value.
    NeedsArgument(String),
    /// A boolean flag whose `=value` is not a Go boolean.
    InvalidBool {
        /// Flag name.
        flag: String,
        /// The value given.
        value: String,
        /// Why it was rejected, e.g. `parse error`.
        reason: String,
    },
    /// A value that does not parse as the flag's type.
    InvalidValue {
        /// Flag name.
        flag: String,
        /// The value given.
        value: String,
        /// Why it was rejected, e.g. `parse error`.
        reason: String,
    },
}

impl FlagError {
    /// An [`FlagError::InvalidValue`] for `flag`; programs use it for their own checks.
    pub fn invalid_value(flag: &str, value: &str, reason: impl ToString) -> Self {
        FlagError::InvalidValue {
            flag: flag.to_string(),
            value: value.to_string(),
            reason: reason.to_string(),
        }
    }
}

impl fmt::Display for FlagError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FlagError::Help => write!(f, "flag: help requested"),
            FlagError::BadSyntax(arg) => write!(f, "bad flag syntax: {arg}"),
            FlagError::NotDefined(name) => write!(f, "flag provided but not defined: -{name}"),
            FlagError::NeedsArgument(name) => write!(f, "flag needs an argument: -{name}"),
            FlagError::InvalidBool {
                flag,
                value,
                reason,
            } => {
                write!(f, "invalid boolean value {value:?} for -{flag}: {reason}")
            }
            FlagError::InvalidValue {
                flag,
                value,
                reason,
            } => {
                write!(f, "invalid value {value:?} for flag -{flag}: {reason}")
            }
        }
    }
}

impl std::error::Error for FlagError {}

/// The outcome of [`parse`]: the values given per flag, plus defaults and positionals.
#[derive(Debug, Clone, Default)]
pub struct Parsed {
    defaults: HashMap<&'static str, String>,
    given: HashMap<&'static str, Vec<String>>,
    positional: Vec<String>,
}

/// Parses `args` (without the program name) against `specs`, the way Go's
/// `FlagSet.Parse` does.
pub fn parse(specs: &[FlagSpec], args: &[String]) -> Result<Parsed, FlagError> {
    let mut parsed = Parsed {
        defaults: specs.iter().map(|s| (s.name, s.default.clone())).collect(),
        ..Parsed::default()
    };
    let mut rest = args.iter();
    while let Some(arg) = rest.as_slice().first() {
        if arg.len() < 2 || !arg.starts_with('-') {
            break; // first non-flag argument
        }
        rest.next();
        if arg == "--" {
            break;
        }
        let body = arg.strip_prefix("--").unwrap_or(&arg[1..]);
        if body.is_empty() || body.starts_with('-') || body.starts_with('=') {
            return Err(FlagError::BadSyntax(arg.clone()));
        }
        let (name, inline) = match body.split_once('=') {
            Some((name, value)) => (name, Some(value)),
            None => (body, None),
        };
        let Some(spec) = specs.iter().find(|s| s.name == name) else {
            if name == "h" || name == "help" {
                return Err(FlagError::Help);
            }
            return Err(FlagError::NotDefined(name.to_string()));
        };
        let value = match (spec.kind, inline) {
            (_, Some(value)) => value.to_string(),
            (FlagKind::Bool, None) => "true".to_string(),
            (_, None) => rest
                .next()
                .cloned()
                .ok_or_else(|| FlagError::NeedsArgument(name.to_string()))?,
        };
        let values = parsed.given.entry(spec.name).or_default();
        if spec.kind != FlagKind::List {
            values.clear();
        }
        values.push(value);
    }
    parsed.positional = rest.cloned().collect();
    Ok(parsed)
}

impl Parsed {
    /// The arguments left after the flags (after the first non-flag or `--`).
    pub fn args(&self) -> &[String] {
        &self.positional
    }

    /// Whether the flag appeared on the command line.
    pub fn is_set(&self, name: &str) -> bool {
        self.given.contains_key(name)
    }

    /// The last value given for `name`, else its default.
    pub fn get_string(&self, name: &str) -> Result<String, FlagError> {
        match self.given.get(name).and_then(|v| v.last()) {
            Some(value) => Ok(value.clone()),
            None => self
                .defaults
                .get(name)
                .cloned()
                .ok_or_else(|| FlagError::NotDefined(name.to_string())),
        }
    }

    /// Every value given for a list flag, in order; if none, the default
    /// (when it is non-empty) as the only element.
    pub fn get_list(&self, name: &str) -> Result<Vec<String>, FlagError> {
        match self.given.get(name) {
            Some(values) => Ok(values.clone()),
            None => {
                let default = self.get_string(name)?;
                Ok(if default.is_empty() {
                    Vec::new()
                } else {
                    vec![default]
                })
            }
        }
    }

    /// The flag as a boolean, accepting Go's `strconv.ParseBool` spellings.
    pub fn get_bool(&self, name: &str) -> Result<bool, FlagError> {
        let value = self.get_string(name)?;
        parse_bool(&value).ok_or_else(|| FlagError::InvalidBool {
            flag: name.to_string(),
            value,
            reason: "parse error".to_string(),
        })
    }

    /// The flag as a signed integer (Go `strconv.ParseInt(s, 0, 64)` syntax).
    pub fn get_i64(&self, name: &str) -> Result<i64, FlagError> {
        let value = self.get_string(name)?;
        let (negative, digits) = split_sign(&value);
        let magnitude = parse_unsigned(digits)
            .map_err(|reason| FlagError::invalid_value(name, &value, reason))?;
        let signed = if negative {
            0i128 - i128::from(magnitude)
        } else {
            i128::from(magnitude)
        };
        i64::try_from(signed)
            .map_err(|_| FlagError::invalid_value(name, &value, "value out of range"))
    }

    /// The flag as an unsigned integer (Go `strconv.ParseUint(s, 0, 64)` syntax).
    pub fn get_u64(&self, name: &str) -> Result<u64, FlagError> {
        let value = self.get_string(name)?;
        parse_unsigned(&value).map_err(|reason| FlagError::invalid_value(name, &value, reason))
    }

    /// The flag as a floating-point number.
    pub fn get_f64(&self, name: &str) -> Result<f64, FlagError> {
        let value = self.get_string(name)?;
        value
            .trim()
            .parse::<f64>()
            .map_err(|_| FlagError::invalid_value(name, &value, "parse error"))
    }

    /// The flag as a Go duration (see [`parse_duration`]).
    pub fn get_duration(&self, name: &str) -> Result<Duration, FlagError> {
        let value = self.get_string(name)?;
        parse_duration(&value).ok_or_else(|| FlagError::invalid_value(name, &value, "parse error"))
    }
}

/// Go's `strconv.ParseBool`.
pub fn parse_bool(s: &str) -> Option<bool> {
    match s {
        "1" | "t" | "T" | "TRUE" | "true" | "True" => Some(true),
        "0" | "f" | "F" | "FALSE" | "false" | "False" => Some(false),
        _ => None,
    }
}

fn split_sign(s: &str) -> (bool, &str) {
    match s.as_bytes().first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    }
}

/// Unsigned integer with Go's base prefixes (`0x`, `0o`, `0b`, leading `0` = octal).
fn parse_unsigned(s: &str) -> Result<u64, &'static str> {
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

/// Help text in the layout of Go's `flag.Usage`: `Usage of <program>:` and then
/// every flag, sorted by name, as `  -name type` with the indented usage and
/// `(default ...)` unless the default is the type's zero value.
pub fn usage(program: &str, specs: &[FlagSpec]) -> String {
    let mut sorted: Vec<&FlagSpec> = specs.iter().collect();
    sorted.sort_by_key(|s| s.name);
    let mut out = format!("Usage of {program}:\n");
    for spec in sorted {
        let mut line = format!("  -{}", spec.name);
        let placeholder = match spec.kind {
            FlagKind::Bool => "",
            FlagKind::String => "string",
            FlagKind::Int => "int",
            FlagKind::Uint => "uint",
            FlagKind::Float => "float",
            FlagKind::Duration => "duration",
            FlagKind::List => "value",
        };
        if !placeholder.is_empty() {
            line.push(' ');
            line.push_str(placeholder);
        }
        line.push_str(if line.len() <= 4 { "\t" } else { "\n    \t" });
        line.push_str(&spec.usage.replace('\n', "\n    \t"));
        if !is_zero_value(spec) {
            match spec.kind {
                FlagKind::String => line.push_str(&format!(" (default {:?})", spec.default)),
                _ => line.push_str(&format!(" (default {})", spec.default)),
            }
        }
        out.push_str(&line);
        out.push('\n');
    }
    out
}

fn is_zero_value(spec: &FlagSpec) -> bool {
    let zero = match spec.kind {
        FlagKind::Bool => "false",
        FlagKind::Int | FlagKind::Uint | FlagKind::Float => "0",
        FlagKind::Duration => "0s",
        FlagKind::String | FlagKind::List => "",
    };
    spec.default.is_empty() || spec.default == zero
}

/// What a program's command line asks for.
#[derive(Debug, Clone, PartialEq)]
pub enum Invocation<T> {
    /// Start the program with these options.
    Run(Box<T>),
    /// Print this help text (to stderr, like Go) and exit 0.
    Help(String),
    /// Print the version and exit 0.
    Version,
}

/// Parses a program's command line (`args` excludes the program name): `-help`,
/// `-version`, the unsupported `-config`, then `build` turns the flags into options.
///
/// Unlike Go, which ignores them, leftover positional arguments are rejected, so a
/// mistaken `-deflate false` does not silently mean `-deflate`.
pub fn parse_program<T>(
    program: &str,
    specs: &[FlagSpec],
    args: &[String],
    build: impl FnOnce(&Parsed) -> Result<T, String>,
) -> Result<Invocation<T>, String> {
    let parsed = match parse(specs, args) {
        Ok(parsed) => parsed,
        Err(FlagError::Help) => return Ok(Invocation::Help(usage(program, specs))),
        Err(e) => return Err(e.to_string()),
    };
    if let Some(extra) = parsed.args().first() {
        return Err(format!(
            "unexpected argument {extra:?} (flags come as -name=value)"
        ));
    }
    if parsed.get_bool("version").map_err(|e| e.to_string())? {
        return Ok(Invocation::Version);
    }
    if !parsed
        .get_string("config")
        .map_err(|e| e.to_string())?
        .is_empty()
    {
        return Err("--config is not supported yet; pass flags".to_string());
    }
    build(&parsed).map(|opts| Invocation::Run(Box::new(opts)))
}

/// Parses a tool's command line (`to_nsq`, `nsq_tail`, ...; `args` excludes the
/// program name): `None` after printing help (`-help`) or the version (`-version`,
/// which every tool defines) — the caller exits 0; leftover positional arguments
/// are rejected.
pub fn parse_tool(
    program: &str,
    specs: &[FlagSpec],
    args: &[String],
) -> Result<Option<Parsed>, String> {
    let parsed = match parse(specs, args) {
        Ok(parsed) => parsed,
        Err(FlagError::Help) => {
            eprint!("{}", usage(program, specs));
            return Ok(None);
        }
        Err(e) => return Err(e.to_string()),
    };
    if let Some(extra) = parsed.args().first() {
        return Err(format!(
            "unexpected argument {extra:?} (flags come as -name=value)"
        ));
    }
    if parsed.get_bool("version").map_err(|e| e.to_string())? {
        println!("{program} v{}", crate::NSQ_VERSION);
        return Ok(None);
    }
    Ok(Some(parsed))
}

/// Test helpers for programs' option parsers.
#[cfg(test)]
pub(crate) mod program_tests {
    use super::Invocation;

    type ParseArgs<T> = fn(&[String]) -> Result<Invocation<T>, String>;

    fn call<T>(parse: ParseArgs<T>, args: &[&str]) -> Result<Invocation<T>, String> {
        let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
        parse(&args)
    }

    /// The options `args` give; fails the test unless they mean "run".
    pub(crate) fn run<T: std::fmt::Debug>(parse: ParseArgs<T>, args: &[&str]) -> T {
        match call(parse, args) {
            Ok(Invocation::Run(opts)) => *opts,
            other => panic!("expected Run, got {other:?}"),
        }
    }

    /// The error `args` give; fails the test unless they are refused.
    pub(crate) fn err<T: std::fmt::Debug>(parse: ParseArgs<T>, args: &[&str]) -> String {
        match call(parse, args) {
            Err(e) => e,
            other => panic!("expected an error, got {other:?}"),
        }
    }

    /// What `args` mean.
    pub(crate) fn parse<T>(parse: ParseArgs<T>, args: &[&str]) -> Result<Invocation<T>, String> {
        call(parse, args)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn specs() -> Vec<FlagSpec> {
        vec![
            FlagSpec::new("name", FlagKind::String, "def", "a name"),
            FlagSpec::new("count", FlagKind::Int, 10, "a count"),
            FlagSpec::new("size", FlagKind::Uint, 0, "a size"),
            FlagSpec::new("ratio", FlagKind::Float, 0.5, "a ratio"),
            FlagSpec::new("on", FlagKind::Bool, false, "a switch"),
            FlagSpec::new("wait", FlagKind::Duration, "1m0s", "a wait"),
            FlagSpec::new("peer", FlagKind::List, "", "peers"),
        ]
    }

    fn run(args: &[&str]) -> Result<Parsed, FlagError> {
        let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
        parse(&specs(), &args)
    }

    fn err(args: &[&str]) -> String {
        match run(args) {
            Ok(_) => "no error".to_string(),
            Err(e) => e.to_string(),
        }
    }

    #[test]
    fn defaults_when_nothing_given() {
        let p = run(&[]).unwrap();
        assert_eq!(p.get_string("name").unwrap(), "def");
        assert_eq!(p.get_i64("count").unwrap(), 10);
        assert_eq!(p.get_u64("size").unwrap(), 0);
        assert_eq!(p.get_f64("ratio").unwrap(), 0.5);
        assert!(!p.get_bool("on").unwrap());
        assert_eq!(p.get_duration("wait").unwrap(), Duration::from_secs(60));
        assert!(p.get_list("peer").unwrap().is_empty());
        assert!(!p.is_set("name"));
    }

    #[test]
    fn value_forms_and_dashes() {
        let p = run(&["-name=a", "--count", "-3", "--size=0x10", "-wait", "1.5s"]).unwrap();
        assert_eq!(p.get_string("name").unwrap(), "a");
        assert_eq!(p.get_i64("count").unwrap(), -3);
        assert_eq!(p.get_u64("size").unwrap(), 16);
        assert_eq!(p.get_duration("wait").unwrap(), Duration::from_millis(1500));
        assert!(p.is_set("name"));
    }

    #[test]
    fn last_scalar_wins_and_lists_append() {
        let p = run(&["-name=a", "-name=b", "-peer", "x:1", "--peer=y:2"]).unwrap();
        assert_eq!(p.get_string("name").unwrap(), "b");
        assert_eq!(p.get_list("peer").unwrap(), vec!["x:1", "y:2"]);
    }

    #[test]
    fn booleans() {
        assert!(run(&["-on"]).unwrap().get_bool("on").unwrap());
        assert!(run(&["--on=T"]).unwrap().get_bool("on").unwrap());
        assert!(!run(&["-on=False"]).unwrap().get_bool("on").unwrap());
        // `-on false` sets true and stops at the positional "false".
        let p = run(&["-on", "false", "-name=x"]).unwrap();
        assert!(p.get_bool("on").unwrap());
        assert_eq!(p.args(), ["false", "-name=x"]);
        assert_eq!(p.get_string("name").unwrap(), "def");
        let e = run(&["-on=yes"]).unwrap().get_bool("on").unwrap_err();
        assert_eq!(
            e.to_string(),
            "invalid boolean value \"yes\" for -on: parse error"
        );
    }

    #[test]
    fn stops_at_positional_and_double_dash() {
        assert_eq!(run(&["-on", "x", "-on"]).unwrap().args(), ["x", "-on"]);
        assert_eq!(run(&["--", "-on"]).unwrap().args(), ["-on"]);
        assert_eq!(run(&["-", "-on"]).unwrap().args(), ["-", "-on"]);
    }

    #[test]
    fn go_error_messages() {
        assert_eq!(err(&["-nope"]), "flag provided but not defined: -nope");
        assert_eq!(err(&["--nope=1"]), "flag provided but not defined: -nope");
        assert_eq!(err(&["-count"]), "flag needs an argument: -count");
        assert_eq!(err(&["---x"]), "bad flag syntax: ---x");
        assert_eq!(err(&["-=x"]), "bad flag syntax: -=x");
        for help in ["-h", "-help", "--help", "--h"] {
            assert_eq!(run(&[help]).unwrap_err(), FlagError::Help);
        }
        let p = run(&["-count=abc", "-size=-1", "-wait=60", "-ratio=x"]).unwrap();
        assert_eq!(
            p.get_i64("count").unwrap_err().to_string(),
            "invalid value \"abc\" for flag -count: parse error"
        );
        assert_eq!(
            p.get_u64("size").unwrap_err().to_string(),
            "invalid value \"-1\" for flag -size: parse error"
        );
        assert_eq!(
            p.get_duration("wait").unwrap_err().to_string(),
            "invalid value \"60\" for flag -wait: parse error"
        );
        assert!(p.get_f64("ratio").is_err());
        let p = run(&["-count=9223372036854775808"]).unwrap();
        assert_eq!(
            p.get_i64("count").unwrap_err().to_string(),
            "invalid value \"9223372036854775808\" for flag -count: value out of range"
        );
        assert!(run(&[]).unwrap().get_string("missing").is_err());
    }

    #[test]
    fn value_may_start_with_dash() {
        assert_eq!(
            run(&["-name", "-on"]).unwrap().get_string("name").unwrap(),
            "-on"
        );
    }

    #[test]
    fn integer_bases() {
        assert_eq!(parse_unsigned("0o17"), Ok(15));
        assert_eq!(parse_unsigned("017"), Ok(15));
        assert_eq!(parse_unsigned("0b101"), Ok(5));
        assert_eq!(parse_unsigned("0"), Ok(0));
        assert!(parse_unsigned("08").is_err());
        assert!(parse_unsigned("").is_err());
        assert!(parse_unsigned("1_000").is_err());
    }

    #[test]
    fn durations_parse_like_go() {
        let ok = |s: &str| parse_duration(s).unwrap();
        assert_eq!(ok("0"), Duration::ZERO);
        assert_eq!(ok("-0"), Duration::ZERO);
        assert_eq!(ok("60s"), Duration::from_secs(60));
        assert_eq!(ok("1m30s"), Duration::from_secs(90));
        assert_eq!(ok("250ms"), Duration::from_millis(250));
        assert_eq!(ok("1h"), Duration::from_secs(3600));
        assert_eq!(ok("500us"), Duration::from_micros(500));
        assert_eq!(ok("500µs"), Duration::from_micros(500));
        assert_eq!(ok("500μs"), Duration::from_micros(500));
        assert_eq!(ok("100ns"), Duration::from_nanos(100));
        assert_eq!(ok("1.5s"), Duration::from_millis(1500));
        assert_eq!(ok(".5s"), Duration::from_millis(500));
        assert_eq!(ok("1.s"), Duration::from_secs(1));
        assert_eq!(ok("+2h45m"), Duration::from_secs(2 * 3600 + 45 * 60));
        assert_eq!(ok("1.0000000001s"), Duration::from_secs(1));
        for bad in [
            "",
            "60",
            "1.5",
            "s",
            ".s",
            "-1s",
            "1x",
            "1s2",
            "1d",
            "9999999999h",
            "+",
            "1..5s",
        ] {
            assert_eq!(parse_duration(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn durations_format_like_go() {
        use crate::common::gotime::format_duration;
        let f = |nanos: u64| format_duration(Duration::from_nanos(nanos));
        assert_eq!(f(0), "0s");
        assert_eq!(f(100), "100ns");
        assert_eq!(f(1_500), "1.5µs");
        assert_eq!(f(25_000_000), "25ms");
        assert_eq!(f(250_000_000), "250ms");
        assert_eq!(format_duration(Duration::from_millis(1500)), "1.5s");
        assert_eq!(format_duration(Duration::from_secs(2)), "2s");
        assert_eq!(format_duration(Duration::from_secs(60)), "1m0s");
        assert_eq!(format_duration(Duration::from_secs(900)), "15m0s");
        assert_eq!(format_duration(Duration::from_secs(3600)), "1h0m0s");
        assert_eq!(
            format_duration(Duration::from_millis(9_900_500)),
            "2h45m0.5s"
        );
        for s in ["1m0s", "250ms", "1.5µs", "2h45m0.5s", "100ns"] {
            assert_eq!(format_duration(parse_duration(s).unwrap()), s);
        }
    }

    #[test]
    fn usage_matches_go_print_defaults() {
        let mut specs = specs();
        specs.push(FlagSpec::new("v", FlagKind::Bool, false, "verbose"));
        let text = usage("prog", &specs);
        let expected = "Usage of prog:\n\
            \x20 -count int\n    \ta count (default 10)\n\
            \x20 -name string\n    \ta name (default \"def\")\n\
            \x20 -on\n    \ta switch\n\
            \x20 -peer value\n    \tpeers\n\
            \x20 -ratio float\n    \ta ratio (default 0.5)\n\
            \x20 -size uint\n    \ta size\n\
            \x20 -v\tverbose\n\
            \x20 -wait duration\n    \ta wait (default 1m0s)\n";
        assert_eq!(text, expected);
    }
}
