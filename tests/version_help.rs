//! Every binary answers `--version` and `--help` the same way: `--version` prints one
//! line `<prog> v1.3.0 (nsq-rs x.y.z)` on stdout and exits 0 (as Go's
//! `nsqd v1.3.0 (built w/go1.21)`); `--help` (and `-h`, `-help`) prints the usage on
//! stderr, nothing on stdout, and exits 0, as nsqd does.

use std::process::{Command, Output, Stdio};

/// Every binary the crate builds, with its path.
const BINARIES: [(&str, &str); 10] = [
    ("nsqd", env!("CARGO_BIN_EXE_nsqd")),
    ("nsqlookupd", env!("CARGO_BIN_EXE_nsqlookupd")),
    ("nsqadmin", env!("CARGO_BIN_EXE_nsqadmin")),
    ("to_nsq", env!("CARGO_BIN_EXE_to_nsq")),
    ("nsq_tail", env!("CARGO_BIN_EXE_nsq_tail")),
    ("nsq_stat", env!("CARGO_BIN_EXE_nsq_stat")),
    ("nsq_to_file", env!("CARGO_BIN_EXE_nsq_to_file")),
    ("nsq_to_nsq", env!("CARGO_BIN_EXE_nsq_to_nsq")),
    ("nsq_to_http", env!("CARGO_BIN_EXE_nsq_to_http")),
    ("nsq_bench", env!("CARGO_BIN_EXE_nsq_bench")),
];

fn run(path: &str, arg: &str) -> Output {
    Command::new(path)
        .arg(arg)
        .stdin(Stdio::null())
        .output()
        .expect("run binary")
}

#[test]
fn version_is_one_line_on_stdout_and_exits_0() {
    let want_tail = format!(
        " v{} (nsq-rs {})\n",
        nsq::NSQ_VERSION,
        env!("CARGO_PKG_VERSION")
    );
    for (name, path) in BINARIES {
        for arg in ["--version", "-version"] {
            let out = run(path, arg);
            let stdout = String::from_utf8_lossy(&out.stdout);
            assert_eq!(out.status.code(), Some(0), "{name} {arg}: {out:?}");
            assert_eq!(stdout, format!("{name}{want_tail}"), "{name} {arg}");
            assert!(out.stderr.is_empty(), "{name} {arg}: stderr {out:?}");
        }
    }
}

#[test]
fn version_line_matches_the_library() {
    assert_eq!(
        nsq::version_line("nsqd"),
        format!("nsqd v1.3.0 (nsq-rs {})", env!("CARGO_PKG_VERSION"))
    );
}

#[test]
fn help_is_usage_on_stderr_and_exits_0() {
    for (name, path) in BINARIES {
        for arg in ["--help", "-help", "-h"] {
            let out = run(path, arg);
            let stderr = String::from_utf8_lossy(&out.stderr);
            assert_eq!(out.status.code(), Some(0), "{name} {arg}: {out:?}");
            assert!(out.stdout.is_empty(), "{name} {arg}: stdout {out:?}");
            assert!(
                stderr.starts_with(&format!("Usage of {name}:\n"))
                    || stderr.starts_with(&format!("Usage: {name} ")),
                "{name} {arg}: {stderr}"
            );
            assert!(stderr.contains("-version"), "{name} {arg}: {stderr}");
        }
    }
}
