//! `make install`'s script, `scripts/install.sh <bindir> <prefix>`, run on the debug
//! binaries this test build made: exactly the six programs and tools land in
//! `<prefix>/bin`, executable, and `nsq_bench` does not.

mod common;

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::Command;

#[test]
fn install_script_copies_the_nine_programs_and_not_nsq_bench() {
    let bindir = Path::new(env!("CARGO_BIN_EXE_nsqd")).parent().unwrap();
    assert!(
        bindir.join("nsq_bench").exists(),
        "the test needs nsq_bench built"
    );
    let scratch = common::temp_dir("install");
    let prefix = scratch.join("usr/local");
    let out = Command::new("bash")
        .arg(concat!(env!("CARGO_MANIFEST_DIR"), "/scripts/install.sh"))
        .arg(bindir)
        .arg(&prefix)
        .output()
        .expect("run scripts/install.sh");
    assert!(out.status.success(), "{out:?}");
    let mut landed: Vec<String> = std::fs::read_dir(prefix.join("bin"))
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    landed.sort();
    assert_eq!(
        landed,
        [
            "nsq_stat",
            "nsq_tail",
            "nsq_to_file",
            "nsq_to_http",
            "nsq_to_nsq",
            "nsqadmin",
            "nsqd",
            "nsqlookupd",
            "to_nsq"
        ]
    );
    for name in &landed {
        let path = prefix.join("bin").join(name);
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o755, "{name}");
        let version = Command::new(&path).arg("--version").output().unwrap();
        assert!(version.status.success(), "{name}: {version:?}");
    }
    std::fs::remove_dir_all(&scratch).unwrap();
}

#[test]
fn install_script_refuses_a_directory_without_the_binaries() {
    let scratch = common::temp_dir("install-empty");
    let out = Command::new("bash")
        .arg(concat!(env!("CARGO_MANIFEST_DIR"), "/scripts/install.sh"))
        .arg(&scratch)
        .arg(scratch.join("prefix"))
        .output()
        .expect("run scripts/install.sh");
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    assert!(String::from_utf8_lossy(&out.stderr).contains("missing"));
    assert!(!scratch.join("prefix").exists());
    std::fs::remove_dir_all(&scratch).unwrap();
}
