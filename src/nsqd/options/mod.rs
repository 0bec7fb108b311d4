//! nsqd's options: every command-line flag Go nsqd accepts, its default, and
//! the checks Go nsqd applies before starting.
//!
//! [`parse_args`] turns `argv[1..]` into a [`Command`]: run with [`Options`],
//! print help, or print the version. A rejected command line comes back as the
//! one-line message the binary prints to stderr before exiting with status 2.
//!
//! Files (each imports only those listed before it):
//! - `settings.rs`: [`Options`] and Go's defaults.
//! - `specs.rs`: the flag table (names, kinds, defaults, help) and config keys.
//! - `checks.rs`: reading the parsed flags into [`Options`], with Go's checks.

mod checks;
mod settings;
mod specs;

pub use settings::Options;
pub(crate) use specs::config_key;
#[cfg(test)]
use specs::config_keys;

use crate::flags;
use checks::options_from;
use specs::flag_specs;

/// What the command line asks nsqd to do.
pub type Command = flags::Invocation<Options>;

/// Parses nsqd's command line (and the `--config` file it names, keys as Go nsqd's).
/// `args` excludes the program name (`argv[1..]`).
pub fn parse_args(args: &[String]) -> Result<Command, String> {
    let specs = flag_specs(&Options::default());
    flags::parse_program_with_keys("nsqd", &specs, &config_key, args, options_from)
}

#[cfg(test)]
mod tests;
