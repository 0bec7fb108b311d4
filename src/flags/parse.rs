//! The command-line syntax of Go's `flag` package: `-name` or `--name`, `-name=value`
//! or `-name value`, booleans alone, repeatable list flags, stopping at the first
//! non-flag or `--`; and the typed getters on the [`Parsed`] result.

use super::config_file::FileValue;
use super::spec::{FlagError, FlagKind, FlagSpec};
use super::values::{parse_bool, parse_duration, parse_unsigned, split_sign};
use std::collections::HashMap;
use std::time::Duration;

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

    /// Sets the flags the command line left unset from `values` (a config file's), as
    /// if given; returns those that took effect.
    pub fn fill_unset(&mut self, values: Vec<FileValue>) -> Vec<FileValue> {
        let mut used = Vec::new();
        for value in values {
            if !self.given.contains_key(value.flag) {
                self.given.insert(value.flag, value.values.clone());
                used.push(value);
            }
        }
        used
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
