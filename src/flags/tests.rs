//! Unit tests of the flag syntax, the value parsers and the help text.

use super::*;
use std::time::Duration;

fn specs() -> Vec<FlagSpec> {
    vec![
        FlagSpec::new("name", FlagKind::String, "def", "a name"),
        FlagSpec::new("count", FlagKind::Int, 10, "a count"),
        FlagSpec::new("size", FlagKind::Uint, 0, "a size"),
        FlagSpec::new("ratio", FlagKind::Float, 0.5, "a ratio"),
        FlagSpec::new("on", FlagKind::Bool, false, "a switch"),
        FlagSpec::new("wait", FlagKind::Duration, "1m0s", "a wait"),
        FlagSpec::new("peer", FlagKind::List, "", "peers"),
    ]
}

fn run(args: &[&str]) -> Result<Parsed, FlagError> {
    let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
    parse(&specs(), &args)
}

fn err(args: &[&str]) -> String {
    match run(args) {
        Ok(_) => "no error".to_string(),
        Err(e) => e.to_string(),
    }
}

#[test]
fn defaults_when_nothing_given() {
    let p = run(&[]).unwrap();
    assert_eq!(p.get_string("name").unwrap(), "def");
    assert_eq!(p.get_i64("count").unwrap(), 10);
    assert_eq!(p.get_u64("size").unwrap(), 0);
    assert_eq!(p.get_f64("ratio").unwrap(), 0.5);
    assert!(!p.get_bool("on").unwrap());
    assert_eq!(p.get_duration("wait").unwrap(), Duration::from_secs(60));
    assert!(p.get_list("peer").unwrap().is_empty());
    assert!(!p.is_set("name"));
}

#[test]
fn value_forms_and_dashes() {
    let p = run(&["-name=a", "--count", "-3", "--size=0x10", "-wait", "1.5s"]).unwrap();
    assert_eq!(p.get_string("name").unwrap(), "a");
    assert_eq!(p.get_i64("count").unwrap(), -3);
    assert_eq!(p.get_u64("size").unwrap(), 16);
    assert_eq!(p.get_duration("wait").unwrap(), Duration::from_millis(1500));
    assert!(p.is_set("name"));
}

#[test]
fn last_scalar_wins_and_lists_append() {
    let p = run(&["-name=a", "-name=b", "-peer", "x:1", "--peer=y:2"]).unwrap();
    assert_eq!(p.get_string("name").unwrap(), "b");
    assert_eq!(p.get_list("peer").unwrap(), vec!["x:1", "y:2"]);
}

#[test]
fn booleans() {
    assert!(run(&["-on"]).unwrap().get_bool("on").unwrap());
    assert!(run(&["--on=T"]).unwrap().get_bool("on").unwrap());
    assert!(!run(&["-on=False"]).unwrap().get_bool("on").unwrap());
    // `-on false` sets true and stops at the positional "false".
    let p = run(&["-on", "false", "-name=x"]).unwrap();
    assert!(p.get_bool("on").unwrap());
    assert_eq!(p.args(), ["false", "-name=x"]);
    assert_eq!(p.get_string("name").unwrap(), "def");
    let e = run(&["-on=yes"]).unwrap().get_bool("on").unwrap_err();
    assert_eq!(
        e.to_string(),
        "invalid boolean value \"yes\" for -on: parse error"
    );
}

#[test]
fn stops_at_positional_and_double_dash() {
    assert_eq!(run(&["-on", "x", "-on"]).unwrap().args(), ["x", "-on"]);
    assert_eq!(run(&["--", "-on"]).unwrap().args(), ["-on"]);
    assert_eq!(run(&["-", "-on"]).unwrap().args(), ["-", "-on"]);
}

#[test]
fn go_error_messages() {
    assert_eq!(err(&["-nope"]), "flag provided but not defined: -nope");
    assert_eq!(err(&["--nope=1"]), "flag provided but not defined: -nope");
    assert_eq!(err(&["-count"]), "flag needs an argument: -count");
    assert_eq!(err(&["---x"]), "bad flag syntax: ---x");
    assert_eq!(err(&["-=x"]), "bad flag syntax: -=x");
    for help in ["-h", "-help", "--help", "--h"] {
        assert_eq!(run(&[help]).unwrap_err(), FlagError::Help);
    }
    let p = run(&["-count=abc", "-size=-1", "-wait=60", "-ratio=x"]).unwrap();
    assert_eq!(
        p.get_i64("count").unwrap_err().to_string(),
        "invalid value \"abc\" for flag -count: parse error"
    );
    assert_eq!(
        p.get_u64("size").unwrap_err().to_string(),
        "invalid value \"-1\" for flag -size: parse error"
    );
    assert_eq!(
        p.get_duration("wait").unwrap_err().to_string(),
        "invalid value \"60\" for flag -wait: parse error"
    );
    assert!(p.get_f64("ratio").is_err());
    let p = run(&["-count=9223372036854775808"]).unwrap();
    assert_eq!(
        p.get_i64("count").unwrap_err().to_string(),
        "invalid value \"9223372036854775808\" for flag -count: value out of range"
    );
    assert!(run(&[]).unwrap().get_string("missing").is_err());
}

#[test]
fn value_may_start_with_dash() {
    assert_eq!(
        run(&["-name", "-on"]).unwrap().get_string("name").unwrap(),
        "-on"
    );
}

#[test]
fn integer_bases() {
    assert_eq!(parse_unsigned("0o17"), Ok(15));
    assert_eq!(parse_unsigned("017"), Ok(15));
    assert_eq!(parse_unsigned("0b101"), Ok(5));
    assert_eq!(parse_unsigned("0"), Ok(0));
    assert!(parse_unsigned("08").is_err());
    assert!(parse_unsigned("").is_err());
    assert!(parse_unsigned("1_000").is_err());
}

#[test]
fn durations_parse_like_go() {
    let ok = |s: &str| parse_duration(s).unwrap();
    assert_eq!(ok("0"), Duration::ZERO);
    assert_eq!(ok("-0"), Duration::ZERO);
    assert_eq!(ok("60s"), Duration::from_secs(60));
    assert_eq!(ok("1m30s"), Duration::from_secs(90));
    assert_eq!(ok("250ms"), Duration::from_millis(250));
    assert_eq!(ok("1h"), Duration::from_secs(3600));
    assert_eq!(ok("500us"), Duration::from_micros(500));
    assert_eq!(ok("500µs"), Duration::from_micros(500));
    assert_eq!(ok("500μs"), Duration::from_micros(500));
    assert_eq!(ok("100ns"), Duration::from_nanos(100));
    assert_eq!(ok("1.5s"), Duration::from_millis(1500));
    assert_eq!(ok(".5s"), Duration::from_millis(500));
    assert_eq!(ok("1.s"), Duration::from_secs(1));
    assert_eq!(ok("+2h45m"), Duration::from_secs(2 * 3600 + 45 * 60));
    assert_eq!(ok("1.0000000001s"), Duration::from_secs(1));
    for bad in [
        "",
        "60",
        "1.5",
        "s",
        ".s",
        "-1s",
        "1x",
        "1s2",
        "1d",
        "9999999999h",
        "+",
        "1..5s",
    ] {
        assert_eq!(parse_duration(bad), None, "{bad:?}");
    }
}

#[test]
fn durations_format_like_go() {
    use crate::common::gotime::format_duration;
    let f = |nanos: u64| format_duration(Duration::from_nanos(nanos));
    assert_eq!(f(0), "0s");
    assert_eq!(f(100), "100ns");
    assert_eq!(f(1_500), "1.5µs");
    assert_eq!(f(25_000_000), "25ms");
    assert_eq!(f(250_000_000), "250ms");
    assert_eq!(format_duration(Duration::from_millis(1500)), "1.5s");
    assert_eq!(format_duration(Duration::from_secs(2)), "2s");
    assert_eq!(format_duration(Duration::from_secs(60)), "1m0s");
    assert_eq!(format_duration(Duration::from_secs(900)), "15m0s");
    assert_eq!(format_duration(Duration::from_secs(3600)), "1h0m0s");
    assert_eq!(
        format_duration(Duration::from_millis(9_900_500)),
        "2h45m0.5s"
    );
    for s in ["1m0s", "250ms", "1.5µs", "2h45m0.5s", "100ns"] {
        assert_eq!(format_duration(parse_duration(s).unwrap()), s);
    }
}

#[test]
fn usage_matches_go_print_defaults() {
    let mut specs = specs();
    specs.push(FlagSpec::new("v", FlagKind::Bool, false, "verbose"));
    let text = usage("prog", &specs);
    let expected = "Usage of prog:\n\
        \x20 -count int\n    \ta count (default 10)\n\
        \x20 -name string\n    \ta name (default \"def\")\n\
        \x20 -on\n    \ta switch\n\
        \x20 -peer value\n    \tpeers\n\
        \x20 -ratio float\n    \ta ratio (default 0.5)\n\
        \x20 -size uint\n    \ta size\n\
        \x20 -v\tverbose\n\
        \x20 -wait duration\n    \ta wait (default 1m0s)\n";
    assert_eq!(text, expected);
}
