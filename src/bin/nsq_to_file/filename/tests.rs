//! Unit tests of the output file names.

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
