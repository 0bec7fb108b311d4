//! Output file names: `--filename-format` with `<TOPIC>`, `<HOST>` and `<PID>`
//! filled in once per topic, `<DATETIME>` at each rotation and `<REV>` as `-000000`
//! when a file is opened; and Go's rule that `<REV>` must be present whenever a
//! name can be reused (gzip, rotation, a work dir) and is dropped otherwise.
//!
//! It reads the checked [`Options`] from `settings` only, never the flag
//! parsing in `options` (which calls [`template`] to check `<REV>` at startup).

use crate::settings::Options;
use crate::strftime::strftime;
use std::time::SystemTime;

/// The placeholder replaced by the revision.
pub const REV: &str = "<REV>";

/// The topic's name template, still holding `<DATETIME>` (and `<REV>` when needed).
pub fn template(opts: &Options, topic: &str) -> Result<String, String> {
    let hostname = nsq::client::config::hostname();
    let short = hostname.split('.').next().unwrap_or(&hostname).to_string();
    let identifier = if opts.host_identifier.is_empty() {
        short
    } else {
        opts.host_identifier
            .replace("<SHORT_HOST>", &short)
            .replace("<HOSTNAME>", &hostname)
    };
    let mut name = opts.filename_format.clone();
    let reusable = opts.gzip_level.is_some()
        || opts.rotate_size > 0
        || !opts.rotate_interval.is_zero()
        || opts.work_dir != opts.output_dir;
    if reusable {
        if !name.contains(REV) {
            return Err(
                "missing <REV> in --filename-format when gzip, rotation, or work dir enabled"
                    .into(),
            );
        }
    } else {
        name = name.replace(REV, "");
    }
    name = name
        .replace("<TOPIC>", topic)
        .replace("<HOST>", &identifier)
        .replace("<PID>", &std::process::id().to_string());
    if opts.gzip_level.is_some() && !name.ends_with(".gz") {
        name.push_str(".gz");
    }
    Ok(name)
}

/// The template with `<DATETIME>` for `now` (still holding `<REV>`, if any).
pub fn at(template: &str, datetime_format: &str, now: SystemTime) -> String {
    template.replace("<DATETIME>", &strftime(datetime_format, now))
}

/// The name with `<REV>` as revision `rev`, e.g. `-000001`.
pub fn with_rev(name: &str, rev: u32) -> String {
    name.replace(REV, &format!("-{rev:06}"))
}

#[cfg(test)]
mod tests;
