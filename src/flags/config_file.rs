//! `--config=FILE`: a TOML file of option values, as Go's nsqd and nsqlookupd read it
//! (BurntSushi/toml, then go-options). Each key is a flag's config name (the flag name
//! with `-` → `_`, unless the program renames it) and each value is turned into the
//! text the command line would give that flag, so every value is checked exactly as a
//! flag is. Values from the file sit between the command line (which wins) and the
//! defaults.
//!
//! What a key's TOML value may be, by the flag's kind (go-options' coercions):
//! - string flags: a string, or a number (written as Go's `%d`);
//! - booleans: a boolean or a string (`"true"`, and nsqd's `"tcp-https"`);
//! - integers and floats: a number or a string;
//! - durations: a string in Go's syntax (`"60s"`), or an integer meaning
//!   milliseconds (go-options: "treat like ms");
//! - lists: an array (each element a string or a number) or a comma-separated string.
//!
//! Unlike Go, which ignores them, unknown keys are refused, and every refusal names the
//! key.

use super::spec::{FlagKind, FlagSpec};
use toml::{Table, Value};

/// One option the file sets: the flag, its config key, and its values in flag syntax
/// (several only for a list flag).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileValue {
    /// The flag name, e.g. `mem-queue-size`.
    pub flag: &'static str,
    /// The key as written in the file, e.g. `mem_queue_size`.
    pub key: String,
    /// The value(s) as the command line would give them.
    pub values: Vec<String>,
}

/// The config key of `flag` by default: its name with `-` → `_`; `None` for the flags
/// that cannot be set from a file (`config`, `version`).
pub fn default_config_key(flag: &str) -> Option<String> {
    match flag {
        "config" | "version" => None,
        name => Some(name.replace('-', "_")),
    }
}

/// Reads the TOML file at `path` and converts it to flag values for `specs`, each flag
/// found by its config key (`key_of`). A message for `--config` on failure: Go's
/// `failed to load config file ...` for a missing, unreadable or malformed file,
/// `--config=PATH: ...` naming the key for an unknown key or a value of the wrong type.
pub fn load(
    path: &str,
    specs: &[FlagSpec],
    key_of: &dyn Fn(&str) -> Option<String>,
) -> Result<Vec<FileValue>, String> {
    let failed = |why: String| format!("failed to load config file {path} - {why}");
    let text = std::fs::read_to_string(path).map_err(|e| failed(io_reason(path, &e)))?;
    let table: Table = text
        .parse()
        .map_err(|e: toml::de::Error| failed(toml_reason(&text, e.message(), e.span())))?;
    convert(&table, specs, key_of).map_err(|why| format!("--config={path}: {why}"))
}

/// Converts a parsed file to flag values, in key order.
pub fn convert(
    table: &Table,
    specs: &[FlagSpec],
    key_of: &dyn Fn(&str) -> Option<String>,
) -> Result<Vec<FileValue>, String> {
    let mut out = Vec::new();
    for (key, value) in table {
        let spec = specs
            .iter()
            .find(|s| key_of(s.name).as_deref() == Some(key.as_str()))
            .ok_or_else(|| format!("unknown key {key:?}"))?;
        let values = flag_text(spec.kind, value).map_err(|want| {
            format!(
                "key {key:?}: invalid value {}: expected {want}",
                show(value)
            )
        })?;
        out.push(FileValue {
            flag: spec.name,
            key: key.clone(),
            values,
        });
    }
    Ok(out)
}

/// `value` in flag syntax for a flag of `kind`, or what was expected instead.
fn flag_text(kind: FlagKind, value: &Value) -> Result<Vec<String>, &'static str> {
    let one = |text: String| Ok(vec![text]);
    match (kind, value) {
        (FlagKind::List, Value::Array(items)) => items
            .iter()
            .map(|item| scalar(item).ok_or("an array of strings or numbers"))
            .collect(),
        (FlagKind::List, Value::String(s)) => Ok(s.split(',').map(str::to_string).collect()),
        (FlagKind::List, v) => scalar(v).map(|s| vec![s]).ok_or("an array"),
        (FlagKind::Bool, Value::Boolean(b)) => one(b.to_string()),
        (FlagKind::Bool, Value::String(s)) => one(s.clone()),
        (FlagKind::Bool, _) => Err("a boolean"),
        (FlagKind::Duration, Value::String(s)) => one(s.clone()),
        (FlagKind::Duration, Value::Integer(ms)) => one(format!("{ms}ms")),
        (FlagKind::Duration, _) => Err("a duration string like \"60s\""),
        (FlagKind::Int | FlagKind::Uint, Value::Integer(n)) => one(n.to_string()),
        (FlagKind::Int | FlagKind::Uint, Value::String(s)) => one(s.clone()),
        (FlagKind::Int | FlagKind::Uint, _) => Err("an integer"),
        (FlagKind::Float, Value::Integer(_) | Value::Float(_) | Value::String(_)) => {
            one(scalar(value).unwrap_or_default())
        }
        (FlagKind::Float, _) => Err("a number"),
        (FlagKind::String, Value::String(_) | Value::Integer(_) | Value::Float(_)) => {
            one(scalar(value).unwrap_or_default())
        }
        (FlagKind::String, _) => Err("a string"),
    }
}

/// A string or number as text; `None` for booleans, dates, arrays and tables.
fn scalar(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Integer(n) => Some(n.to_string()),
        Value::Float(f) => Some(f.to_string()),
        _ => None,
    }
}

/// A value as written in TOML, for messages.
fn show(value: &Value) -> String {
    match value {
        Value::String(s) => format!("{s:?}"),
        Value::Integer(n) => n.to_string(),
        Value::Float(f) => f.to_string(),
        Value::Boolean(b) => b.to_string(),
        Value::Datetime(d) => d.to_string(),
        Value::Array(items) => {
            let items: Vec<String> = items.iter().map(show).collect();
            format!("[{}]", items.join(", "))
        }
        Value::Table(_) => "a table".to_string(),
    }
}

/// Go's wording for a file that cannot be read: `open PATH: no such file or directory`.
fn io_reason(path: &str, e: &std::io::Error) -> String {
    let text = e.to_string();
    let text = text.split(" (os error").next().unwrap_or(&text);
    let mut chars = text.chars();
    let lowered = match chars.next() {
        Some(first) => first.to_lowercase().chain(chars).collect(),
        None => String::new(),
    };
    format!("open {path}: {lowered}")
}

/// A TOML syntax error on one line: `line N: what`.
fn toml_reason(text: &str, message: &str, span: Option<std::ops::Range<usize>>) -> String {
    let message = message.trim().replace('\n', "; ");
    match span {
        Some(span) => {
            let before = text.get(..span.start).unwrap_or(text);
            let line = before.matches('\n').count() + 1;
            format!("line {line}: {message}")
        }
        None => message,
    }
}

/// Prefixes a rejected value's message with the config key it came from, when the
/// message names (as `-flag`) a flag that the file set and the command line did not.
pub fn blame(message: String, path: &str, from_file: &[FileValue]) -> String {
    let mut candidates: Vec<&FileValue> = from_file.iter().collect();
    candidates.sort_by_key(|v| std::cmp::Reverse(v.flag.len()));
    match candidates.iter().find(|v| names_flag(&message, v.flag)) {
        Some(v) => format!("--config={path}: key {:?}: {message}", v.key),
        None => message,
    }
}

/// Whether `message` mentions `-flag` as a whole flag name.
fn names_flag(message: &str, flag: &str) -> bool {
    let needle = format!("-{flag}");
    let is_name = |c: char| c.is_ascii_alphanumeric() || c == '-' || c == '_';
    message.match_indices(&needle).any(|(at, _)| {
        let before = message[..at].chars().next_back();
        let after = message[at + needle.len()..].chars().next();
        !before.is_some_and(|c| c.is_ascii_alphanumeric()) && !after.is_some_and(is_name)
    })
}
