//! Go-style command-line flags, shared by every nsq-rs program.
//!
//! This module owns the command-line syntax of Go's `flag` package: `-name` or
//! `--name`, a value as `-name=value` or `-name value`, booleans as `-name` or
//! `-name=false`, repeatable list flags, parsing that stops at the first
//! non-flag argument or at `--`, and Go's error messages. It also owns Go's
//! duration syntax (`1m30s`, `250ms`) both ways, and the help text in the
//! layout of Go's `flag.PrintDefaults`.
//!
//! `--config=FILE` (`config_file`) gives the same flags from a TOML file, as Go's
//! nsqd and nsqlookupd read it.
//!
//! A program describes its flags as a table of [`FlagSpec`]s, calls [`parse`],
//! then reads typed values out of the [`Parsed`] result.

pub mod config_file;
mod parse;
mod program;
mod spec;
mod usage;
mod values;

pub use parse::{parse, Parsed};
pub use program::{parse_program, parse_program_with_keys, parse_tool, Invocation};
pub use spec::{FlagError, FlagKind, FlagSpec};
pub use usage::usage;
pub use values::{parse_bool, parse_duration};

#[cfg(test)]
use values::parse_unsigned;

/// Test helpers for programs' option parsers.
#[cfg(test)]
pub(crate) mod program_tests;

#[cfg(test)]
mod tests;

#[cfg(test)]
mod config_file_tests;
