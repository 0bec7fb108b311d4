//! Unit tests of `config_file.rs`: TOML values to flag text by kind, unknown keys,
//! Go's wording for unreadable files, and blaming a rejected value on its key.

use super::config_file::{blame, convert, default_config_key, load, FileValue};
use super::spec::{FlagKind as K, FlagSpec};

fn specs() -> Vec<FlagSpec> {
    vec![
        FlagSpec::new("config", K::String, "", "path to config file"),
        FlagSpec::new("version", K::Bool, false, "print version string"),
        FlagSpec::new("tcp-address", K::String, "", ""),
        FlagSpec::new("mem-queue-size", K::Int, 1, ""),
        FlagSpec::new("max-msg-timeout", K::Duration, "15m", ""),
        FlagSpec::new("msg-timeout", K::Duration, "60s", ""),
        FlagSpec::new("ratio", K::Float, 1, ""),
        FlagSpec::new("deflate", K::Bool, true, ""),
        FlagSpec::new("lookupd-tcp-address", K::List, "", ""),
    ]
}

fn key_of(flag: &str) -> Option<String> {
    match flag {
        "lookupd-tcp-address" => Some("nsqlookupd_tcp_addresses".to_string()),
        other => default_config_key(other),
    }
}

fn values(text: &str) -> Result<Vec<(&'static str, Vec<String>)>, String> {
    let table: toml::Table = text.parse().expect("valid TOML");
    convert(&table, &specs(), &key_of)
        .map(|vs| vs.into_iter().map(|v| (v.flag, v.values)).collect())
}

fn one(text: &str) -> Vec<String> {
    let mut all = values(text).unwrap();
    assert_eq!(all.len(), 1, "{text}");
    all.remove(0).1
}

#[test]
fn default_keys_swap_dashes_and_skip_config_and_version() {
    assert_eq!(
        default_config_key("mem-queue-size").as_deref(),
        Some("mem_queue_size")
    );
    assert_eq!(default_config_key("config"), None);
    assert_eq!(default_config_key("version"), None);
}

#[test]
fn each_kind_becomes_flag_text() {
    assert_eq!(one("tcp_address = \"0.0.0.0:4150\""), ["0.0.0.0:4150"]);
    assert_eq!(one("tcp_address = 4150"), ["4150"]);
    assert_eq!(one("mem_queue_size = 10000"), ["10000"]);
    assert_eq!(one("mem_queue_size = \"10\""), ["10"]);
    assert_eq!(one("msg_timeout = \"60s\""), ["60s"]);
    assert_eq!(one("msg_timeout = 1500"), ["1500ms"]);
    assert_eq!(one("ratio = 0.5"), ["0.5"]);
    assert_eq!(one("ratio = 1"), ["1"]);
    assert_eq!(one("deflate = false"), ["false"]);
    assert_eq!(one("deflate = \"tcp-https\""), ["tcp-https"]);
    assert_eq!(
        one("nsqlookupd_tcp_addresses = [\"a:4160\", \"b:4160\"]"),
        ["a:4160", "b:4160"]
    );
    assert_eq!(
        one("nsqlookupd_tcp_addresses = \"a:1,b:2\""),
        ["a:1", "b:2"]
    );
    assert_eq!(one("nsqlookupd_tcp_addresses = []"), Vec::<String>::new());
}

#[test]
fn keys_match_only_config_names() {
    let all = values("msg_timeout = \"1s\"\nmem_queue_size = 5").unwrap();
    assert_eq!(all[0].0, "mem-queue-size");
    assert_eq!(all[1].0, "msg-timeout");
    assert_eq!(
        values("mem-queue-size = 5"),
        Err("unknown key \"mem-queue-size\"".into())
    );
    assert_eq!(
        values("lookupd_tcp_address = []"),
        Err("unknown key \"lookupd_tcp_address\"".into())
    );
    assert_eq!(
        values("config = \"x\""),
        Err("unknown key \"config\"".into())
    );
    assert_eq!(
        values("[mem_queue]\nsize = 1"),
        Err("unknown key \"mem_queue\"".into())
    );
}

#[test]
fn wrong_types_name_the_key() {
    let err = |text: &str| values(text).unwrap_err();
    assert_eq!(
        err("mem_queue_size = 1.5"),
        "key \"mem_queue_size\": invalid value 1.5: expected an integer"
    );
    assert_eq!(
        err("msg_timeout = 1.5"),
        "key \"msg_timeout\": invalid value 1.5: expected a duration string like \"60s\""
    );
    assert_eq!(
        err("deflate = 1"),
        "key \"deflate\": invalid value 1: expected a boolean"
    );
    assert_eq!(
        err("tcp_address = [\"a\"]"),
        "key \"tcp_address\": invalid value [\"a\"]: expected a string"
    );
    assert_eq!(
        err("nsqlookupd_tcp_addresses = [true]"),
        "key \"nsqlookupd_tcp_addresses\": invalid value [true]: expected an array of strings or numbers"
    );
}

#[test]
fn unreadable_and_malformed_files_use_go_words() {
    let missing = "/nonexistent/nsq-rs.toml";
    assert_eq!(
        load(missing, &specs(), &key_of),
        Err(format!(
            "failed to load config file {missing} - open {missing}: no such file or directory"
        ))
    );
    let path = std::env::temp_dir().join(format!("nsq-rs-cfg-unit-{}.toml", std::process::id()));
    std::fs::write(&path, "mem_queue_size = 1\nmem_queue_size = 2\n").unwrap();
    let p = path.display().to_string();
    assert_eq!(
        load(&p, &specs(), &key_of),
        Err(format!(
            "failed to load config file {p} - line 2: duplicate key"
        ))
    );
    std::fs::write(&path, "nope = 1\n").unwrap();
    assert_eq!(
        load(&p, &specs(), &key_of),
        Err(format!("--config={p}: unknown key \"nope\""))
    );
    let _ = std::fs::remove_file(path);
}

#[test]
fn blame_finds_whole_flag_names_set_by_the_file() {
    let from_file = vec![
        FileValue {
            flag: "msg-timeout",
            key: "msg_timeout".into(),
            values: vec!["x".into()],
        },
        FileValue {
            flag: "mem-queue-size",
            key: "mem_queue_size".into(),
            values: vec!["-1".into()],
        },
    ];
    assert_eq!(
        blame("--mem-queue-size must be >= 0".into(), "/c", &from_file),
        "--config=/c: key \"mem_queue_size\": --mem-queue-size must be >= 0"
    );
    assert_eq!(
        blame(
            "invalid value \"x\" for flag -msg-timeout: parse error".into(),
            "/c",
            &from_file
        ),
        "--config=/c: key \"msg_timeout\": invalid value \"x\" for flag -msg-timeout: parse error"
    );
    // `-msg-timeout` inside `--max-msg-timeout` is another flag, not set by the file.
    assert_eq!(
        blame("--max-msg-timeout must be >= 1s".into(), "/c", &from_file),
        "--max-msg-timeout must be >= 1s"
    );
    assert_eq!(
        blame("--msg-timeouts".into(), "/c", &from_file),
        "--msg-timeouts"
    );
}
