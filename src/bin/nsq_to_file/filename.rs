//! Output file names: `--filename-format` with `<TOPIC>`, `<HOST>` and `<PID>`
//! filled in once per topic, `<DATETIME>` at each rotation and `<REV>` as `-000000`
//! when a file is opened; and Go's rule that `<REV>` must be present whenever a
//! name can be reused (gzip, rotation, a work dir) and is dropped otherwise.

use crate::options::Options;
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
mod tests {
    use super::*;
    use std::time::{Duration, UNIX_EPOCH};

    fn opts(args: &[&str]) -> Options {
        let mut all = vec![
            "--nsqd-tcp-address=h:1",
            "--topic=t",
            "--host-identifier=box",
        ];
        all.extend_from_slice(args);
        let all: Vec<String> = all.iter().map(|s| s.to_string()).collect();
        let parsed = nsq::flags::parse(&crate::options::specs(), &all).unwrap();
        crate::options::options(&parsed).unwrap()
    }

    #[test]
    fn rev_is_dropped_unless_names_can_be_reused() {
        assert_eq!(template(&opts(&[]), "t").unwrap(), "t.box.<DATETIME>.log");
        assert_eq!(
            template(&opts(&["--rotate-size=5"]), "t").unwrap(),
            "t.box<REV>.<DATETIME>.log"
        );
        assert_eq!(
            template(&opts(&["--rotate-interval=1m"]), "t").unwrap(),
            "t.box<REV>.<DATETIME>.log"
        );
        assert_eq!(
            template(&opts(&["--work-dir=/elsewhere"]), "t").unwrap(),
            "t.box<REV>.<DATETIME>.log"
        );
    }

    #[test]
    fn placeholders() {
        let o = opts(&[
            "--filename-format=<PID>/<TOPIC>-<HOST>",
            "--host-identifier=<SHORT_HOST>+x",
        ]);
        let name = template(&o, "events").unwrap();
        let short = nsq::client::config::hostname();
        let short = short.split('.').next().unwrap();
        assert_eq!(name, format!("{}/events-{short}+x", std::process::id()));
        let t = UNIX_EPOCH + Duration::from_secs(1_709_214_330);
        assert_eq!(
            at("a.<DATETIME>.<DATETIME>", "%Y-%m-%d_%H", t),
            "a.2024-02-29_13.2024-02-29_13"
        );
        assert_eq!(with_rev("a<REV>.log", 1), "a-000001.log");
        assert_eq!(with_rev("a.log", 1), "a.log");
    }

    #[cfg(feature = "gzip")]
    #[test]
    fn gzip_names_end_in_gz() {
        assert_eq!(
            template(&opts(&["--gzip"]), "t").unwrap(),
            "t.box<REV>.<DATETIME>.log.gz"
        );
        let o = opts(&["--gzip", "--filename-format=<TOPIC><REV>.gz"]);
        assert_eq!(template(&o, "t").unwrap(), "t<REV>.gz");
    }
}
