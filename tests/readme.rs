//! The README's shell examples run, top to bottom: every ```` ```sh ```` block of
//! README.md, in order, each under `bash -e`, against nsqlookupd, nsqd and nsqadmin
//! started as `make run` starts them (default ports 4150/4151/4160/4161/4171,
//! `--broadcast-address=127.0.0.1`). So that the default ports cannot collide with other tests or the host,
//! everything runs inside a private network namespace (`unshare -rn`, loopback only),
//! in a scratch directory, with the cargo-built binaries first on `PATH`. A block after
//! a `<!-- readme-test: skip -->` line is not run (`make run`, `make install`, ...).
//! Needs `unshare`, `ip` and `curl` (CI installs them); without them it fails saying so.

mod common;

use std::fmt::Write as _;
use std::path::Path;
use std::process::Command;

/// The line that keeps the next fenced block from being run.
const SKIP: &str = "<!-- readme-test: skip -->";

/// One ```` ```sh ```` block: the README line its fence opens on, and its text.
#[derive(Debug, PartialEq)]
struct Block {
    line: usize,
    text: String,
}

/// The `sh` blocks of `readme` to run, in order, and how many were marked skip.
fn sh_blocks(readme: &str) -> (Vec<Block>, usize) {
    let (mut blocks, mut skipped) = (Vec::new(), 0);
    let mut skip_next = false;
    let mut open: Option<(bool, Block)> = None;
    for (i, line) in readme.lines().enumerate() {
        let trimmed = line.trim();
        if let Some((run, block)) = open.as_mut() {
            if trimmed == "```" {
                let (run, block) = (
                    *run,
                    std::mem::replace(
                        block,
                        Block {
                            line: 0,
                            text: String::new(),
                        },
                    ),
                );
                open = None;
                if run {
                    blocks.push(block);
                }
            } else if *run {
                block.text.push_str(line);
                block.text.push('\n');
            }
            continue;
        }
        if trimmed == SKIP {
            skip_next = true;
        } else if let Some(lang) = trimmed.strip_prefix("```") {
            let sh = lang == "sh";
            if sh && skip_next {
                skipped += 1;
            }
            let block = Block {
                line: i + 1,
                text: String::new(),
            };
            open = Some((sh && !skip_next, block));
            skip_next = false;
        } else if !trimmed.is_empty() {
            skip_next = false;
        }
    }
    assert!(open.is_none(), "README.md: a fenced block is never closed");
    (blocks, skipped)
}

#[test]
fn blocks_are_found_in_order_and_the_marker_skips_one() {
    let text = "intro\n```sh\necho one\n```\n<!-- readme-test: skip -->\n```sh\nmake run\n```\n\
                ```rust\nlet x = 1;\n```\n```\nplain\n```\n```sh\necho two\necho three\n```\n";
    let (blocks, skipped) = sh_blocks(text);
    assert_eq!(skipped, 1);
    assert_eq!(
        blocks,
        [
            Block {
                line: 2,
                text: "echo one\n".into()
            },
            Block {
                line: 15,
                text: "echo two\necho three\n".into()
            },
        ]
    );
}

/// The script run inside the namespace: loopback up, the three programs started as
/// `make run` does, then each block; prints `README-BLOCK-FAILED <n> <rc>` and exits 1
/// at the first failing block, `README-ALL-RAN` after the last.
fn script(bindir: &Path, blocks: usize) -> String {
    let mut s = String::new();
    writeln!(
        s,
        r#"set -u
ip link set lo up || {{ echo "readme test: cannot bring up lo in the namespace" >&2; exit 1; }}
export PATH="{bindir}:$PATH"
nsqlookupd --broadcast-address=127.0.0.1 2>lookupd.log &
lookupd=$!
mkdir -p data
nsqd --data-path=data --broadcast-address=127.0.0.1 --lookupd-tcp-address=127.0.0.1:4160 2>nsqd.log &
nsqd=$!
nsqadmin --lookupd-http-address=127.0.0.1:4161 2>nsqadmin.log &
admin=$!
trap 'kill -TERM $admin $nsqd $lookupd 2>/dev/null; wait $admin $nsqd $lookupd' EXIT
for i in $(seq 600); do
    if curl -sf http://127.0.0.1:4151/ping >/dev/null \
        && curl -sf http://127.0.0.1:4171/ping >/dev/null \
        && curl -sf http://127.0.0.1:4161/nodes | grep -q '"tcp_port":4150'; then
        break
    fi
    sleep 0.1
done
curl -sf http://127.0.0.1:4161/nodes | grep -q '"tcp_port":4150' \
    || {{ echo "readme test: nsqd and nsqlookupd did not come up" >&2; exit 1; }}
mkdir work"#,
        bindir = bindir.display()
    )
    .unwrap();
    for n in 1..=blocks {
        writeln!(
            s,
            r#"echo "README-BLOCK {n}"
(cd work && bash -e ../block{n}.sh) || {{ echo "README-BLOCK-FAILED {n} $?"; exit 1; }}"#
        )
        .unwrap();
    }
    s.push_str("echo README-ALL-RAN\n");
    s
}

#[test]
fn readme_shell_examples_run_top_to_bottom() {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md"))
        .expect("read README.md");
    let (blocks, _) = sh_blocks(&readme);
    assert!(!blocks.is_empty(), "README.md has no sh block to run");
    for tool in ["unshare", "ip", "curl", "timeout"] {
        let found = Command::new("sh")
            .args(["-c", &format!("command -v {tool}")])
            .output()
            .is_ok_and(|o| o.status.success());
        assert!(
            found,
            "tests/readme.rs needs `{tool}` (CI installs it in .ci/run)"
        );
    }
    let probe = Command::new("unshare").args(["-rn", "true"]).output();
    assert!(
        probe.as_ref().is_ok_and(|o| o.status.success()),
        "tests/readme.rs needs a private network namespace (`unshare -rn`: root or user \
         namespaces on Linux) so the README's default ports cannot collide: {probe:?}"
    );
    let bindir = Path::new(env!("CARGO_BIN_EXE_nsqd")).parent().unwrap();
    for bin in [
        env!("CARGO_BIN_EXE_nsqlookupd"),
        env!("CARGO_BIN_EXE_nsqadmin"),
        env!("CARGO_BIN_EXE_nsq_tail"),
    ] {
        assert_eq!(Path::new(bin).parent(), Some(bindir));
    }
    let scratch = common::temp_dir("readme");
    for (n, block) in blocks.iter().enumerate() {
        std::fs::write(scratch.join(format!("block{}.sh", n + 1)), &block.text).unwrap();
    }
    std::fs::write(scratch.join("run.sh"), script(bindir, blocks.len())).unwrap();
    // Generous: the whole README gets ten minutes; `timeout` signals the script's
    // whole process group, background programs included.
    let out = Command::new("unshare")
        .args(["-rn", "timeout", "-k", "10", "600", "bash", "run.sh"])
        .current_dir(&scratch)
        .output()
        .expect("run unshare");
    let stdout = String::from_utf8_lossy(&out.stdout);
    if !stdout.contains("README-ALL-RAN") {
        let log = |name: &str| std::fs::read_to_string(scratch.join(name)).unwrap_or_default();
        let failed = stdout
            .lines()
            .find_map(|l| l.strip_prefix("README-BLOCK-FAILED "))
            .and_then(|rest| rest.split(' ').next()?.parse::<usize>().ok());
        let what = match failed {
            Some(n) => format!(
                "README.md block {n} (the ```sh fence on line {}) failed:\n{}",
                blocks[n - 1].line,
                blocks[n - 1].text
            ),
            None => format!("the README run did not finish ({:?})", out.status),
        };
        panic!(
            "{what}\n--- output\n{stdout}\n--- stderr\n{}\n--- nsqd.log\n{}\n--- lookupd.log\n{}\n(scratch dir kept: {})",
            String::from_utf8_lossy(&out.stderr),
            log("nsqd.log"),
            log("lookupd.log"),
            scratch.display()
        );
    }
    assert!(out.status.success(), "{out:?}");
    std::fs::remove_dir_all(&scratch).unwrap();
}
