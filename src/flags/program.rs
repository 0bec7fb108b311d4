//! A whole program's or tool's command line: `-help`, `-version`, `-config=FILE`
//! (values from a TOML file under the command line's), leftover arguments refused,
//! then the program's own options.

use super::config_file::{self, default_config_key};
use super::parse::{parse, Parsed};
use super::spec::{FlagError, FlagSpec};
use super::usage::usage;

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
/// `-version`, `-config=FILE` (each key the flag name with `-` → `_`), then `build`
/// turns the flags into options.
///
/// Unlike Go, which ignores them, leftover positional arguments are rejected, so a
/// mistaken `-deflate false` does not silently mean `-deflate`.
pub fn parse_program<T>(
    program: &str,
    specs: &[FlagSpec],
    args: &[String],
    build: impl FnOnce(&Parsed) -> Result<T, String>,
) -> Result<Invocation<T>, String> {
    parse_program_with_keys(program, specs, &default_config_key, args, build)
}

/// [`parse_program`] for a program whose config file names some flags differently:
/// `key_of` gives a flag's config key (`None`: not settable from the file).
///
/// A value the file sets and `build` rejects comes back naming its key.
pub fn parse_program_with_keys<T>(
    program: &str,
    specs: &[FlagSpec],
    key_of: &dyn Fn(&str) -> Option<String>,
    args: &[String],
    build: impl FnOnce(&Parsed) -> Result<T, String>,
) -> Result<Invocation<T>, String> {
    let mut parsed = match parse(specs, args) {
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
    let path = parsed.get_string("config").map_err(|e| e.to_string())?;
    if path.is_empty() {
        return build(&parsed).map(|opts| Invocation::Run(Box::new(opts)));
    }
    let from_file = parsed.fill_unset(config_file::load(&path, specs, key_of)?);
    build(&parsed)
        .map(|opts| Invocation::Run(Box::new(opts)))
        .map_err(|e| config_file::blame(e, &path, &from_file))
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
        println!("{}", crate::version_line(program));
        return Ok(None);
    }
    Ok(Some(parsed))
}
