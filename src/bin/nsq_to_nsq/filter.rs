//! nsq_to_nsq's JSON filter (`--require-json-field`, `--require-json-value`,
//! `--whitelist-json-field`): which messages pass, and the body each one is
//! republished with. Pure functions of the flags and the body; no I/O, no logging
//! (the handler logs what a [`Verdict`] asks for).
//!
//! Go's rules (v1.3.0, `json.Unmarshal` into a `map[string]interface{}`):
//!
//! | body | verdict |
//! |---|---|
//! | not a JSON object (text, array, number) | [`Verdict::NotJson`]: log, FIN |
//! | required field absent, no required value | [`Verdict::Drop`]: FIN silently |
//! | required field absent, required value set | [`Verdict::MissingField`]: REQ + backoff |
//! | field a string | passes only if equal to the value |
//! | field a number | passes only if the value parses as a float and is equal |
//! | field bool, null, object or array (value set) | dropped |
//! | whitelist given | a new object of the listed fields that exist, keys sorted |
//!
//! One deliberate difference: Go decodes every number as a `float64`, so integers
//! beyond 2^53 come out rounded; here integers are kept exactly (serde_json keeps
//! them as integers). Whole-number floats are written as integers (`1.0` → `1`), as
//! Go does, and every other value is re-encoded by [`nsq::common::json::to_string`]
//! (Go's escaping of `<`, `>`, `&`).

use serde_json::{Map, Number, Value};
use std::borrow::Cow;
use std::collections::BTreeMap;

#[cfg(test)]
#[path = "filter_tests.rs"]
mod tests;

/// The filter flags, checked once at start.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Filter {
    /// `--require-json-field`: "" means no requirement.
    require_field: String,
    /// `--require-json-value`: "" means any value passes.
    require_value: String,
    /// The required value as a float, when it parses as one (Go's `ParseFloat`).
    require_number: Option<f64>,
    /// `--whitelist-json-field`, in the order given.
    whitelist: Vec<String>,
}

/// What to do with one message.
#[derive(Debug, Clone, PartialEq)]
pub enum Verdict<'a> {
    /// Republish this body (the original bytes unless a whitelist rewrote it).
    Pass(Cow<'a, [u8]>),
    /// Drop it silently: FIN, nothing published.
    Drop,
    /// Not a JSON object: log `Unable to decode json: <body>`, then FIN.
    NotJson,
    /// The required field is absent while a value is required: log `missing field to
    /// check required value` and fail the handler (REQ with backoff).
    MissingField,
}

impl Filter {
    /// A filter from the flag values; `require_value` is ignored without a field.
    pub fn new(require_field: &str, require_value: &str, whitelist: Vec<String>) -> Filter {
        Filter {
            require_field: require_field.to_string(),
            require_value: require_value.to_string(),
            require_number: parse_go_float(require_value),
            whitelist,
        }
    }

    /// True when messages are decoded at all (a field is required or a whitelist set);
    /// otherwise every body passes unchanged, JSON or not.
    pub fn is_active(&self) -> bool {
        !self.require_field.is_empty() || !self.whitelist.is_empty()
    }

    /// The verdict on one message body.
    pub fn apply<'a>(&self, body: &'a [u8]) -> Verdict<'a> {
        if !self.is_active() {
            return Verdict::Pass(Cow::Borrowed(body));
        }
        let object = match serde_json::from_slice::<Value>(body) {
            Ok(Value::Object(map)) => map,
            // Go's Unmarshal of `null` into a map succeeds with an empty map.
            Ok(Value::Null) => Map::new(),
            Ok(_) | Err(_) => return Verdict::NotJson,
        };
        if let Some(verdict) = self.check_required(&object) {
            return verdict;
        }
        if self.whitelist.is_empty() {
            return Verdict::Pass(Cow::Borrowed(body));
        }
        Verdict::Pass(Cow::Owned(self.whitelisted(object).into_bytes()))
    }

    /// `Some` when the required field keeps the message from passing.
    fn check_required(&self, object: &Map<String, Value>) -> Option<Verdict<'static>> {
        if self.require_field.is_empty() {
            return None;
        }
        let Some(value) = object.get(&self.require_field) else {
            return Some(if self.require_value.is_empty() {
                Verdict::Drop
            } else {
                Verdict::MissingField
            });
        };
        if self.require_value.is_empty() {
            return None;
        }
        let equal = match value {
            Value::String(s) => *s == self.require_value,
            Value::Number(n) => match (self.require_number, n.as_f64()) {
                (Some(want), Some(got)) => want == got,
                _ => false,
            },
            // Go gives up on comparing bools, nulls, objects and arrays.
            _ => false,
        };
        (!equal).then_some(Verdict::Drop)
    }

    /// The whitelisted fields that exist, as a new JSON object with sorted keys.
    fn whitelisted(&self, mut object: Map<String, Value>) -> String {
        let mut out: BTreeMap<String, Value> = BTreeMap::new();
        // A field listed twice was moved on its first mention; the second finds nothing.
        for key in &self.whitelist {
            if let Some(value) = object.remove(key) {
                out.insert(key.clone(), whole_float_as_integer(value));
            }
        }
        nsq::common::json::to_string(&out)
    }
}

/// 2^63: the first float beyond `i64`.
const TWO_TO_63: f64 = 9_223_372_036_854_775_808.0;

/// Go's "avoid printing int as float": a float equal to its `int64` conversion is
/// written as that integer; any other value is kept.
fn whole_float_as_integer(value: Value) -> Value {
    match &value {
        Value::Number(n) if n.is_f64() => {
            let f = n.as_f64().unwrap_or(f64::NAN);
            // Within i64's range (2^63 itself is out: Go's conversion overflows).
            if f.fract() == 0.0 && (-TWO_TO_63..TWO_TO_63).contains(&f) {
                Value::Number(Number::from(f as i64))
            } else {
                value
            }
        }
        _ => value,
    }
}

/// `strconv.ParseFloat(s, 64)` closely enough for a flag value: decimal and
/// exponent forms, `inf`/`nan` spellings; `None` when it is not a number.
fn parse_go_float(s: &str) -> Option<f64> {
    if s.is_empty() || s.trim() != s {
        return None;
    }
    s.parse::<f64>().ok()
}
