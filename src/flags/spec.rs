//! The flag table and its errors: what a flag holds ([`FlagKind`]), how a program
//! declares one ([`FlagSpec`]), and why a command line is refused ([`FlagError`]), in
//! Go's wording. Plain data, no parsing.

use std::fmt;

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
