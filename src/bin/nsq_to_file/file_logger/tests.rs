//! Unit tests of [`super::FileLogger`] on real temp dirs: rotation, revisions,
//! appends, work-dir moves, nested names and gzip members.

use super::*;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, UNIX_EPOCH};

static NEXT: AtomicUsize = AtomicUsize::new(0);

fn temp_dir() -> PathBuf {
    let n = NEXT.fetch_add(1, Ordering::SeqCst);
    let dir = std::env::temp_dir().join(format!("nsq_to_file-unit-{}-{n}", std::process::id()));
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(&dir).unwrap();
    dir
}

fn logger(args: &[String]) -> FileLogger {
    let mut all = vec![
        "--nsqd-tcp-address=h:1".to_string(),
        "--topic=t".to_string(),
        "--host-identifier=box".to_string(),
        "--datetime-format=%Y%m%d%H".to_string(),
    ];
    all.extend_from_slice(args);
    let parsed = nsq::flags::parse(&crate::options::specs(), &all).unwrap();
    let opts = crate::options::options(&parsed).unwrap();
    FileLogger::new(Arc::new(opts), "t").unwrap()
}

/// 2024-02-29 13:45:30 UTC.
fn now() -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(1_709_214_330)
}

fn names(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

#[test]
fn rotates_by_size_and_by_name() {
    let dir = temp_dir();
    let mut f = logger(&[
        format!("--output-dir={}", dir.display()),
        "--rotate-size=10".into(),
    ]);
    assert!(f.needs_rotation(now()), "no file open yet");
    f.update_file(now()).unwrap();
    f.write_message(b"0123456789").unwrap();
    assert!(f.needs_rotation(now()), "11 bytes > 10");
    f.update_file(now()).unwrap();
    f.write_message(b"abc").unwrap();
    assert!(!f.needs_rotation(now()));
    assert!(
        f.needs_rotation(now() + Duration::from_secs(3600)),
        "next hour"
    );
    f.update_file(now() + Duration::from_secs(3600)).unwrap();
    f.close().unwrap();
    assert_eq!(
        names(&dir),
        [
            "t.box-000000.2024022913.log",
            "t.box-000000.2024022914.log",
            "t.box-000001.2024022913.log"
        ]
    );
    let first = fs::read(dir.join("t.box-000000.2024022913.log")).unwrap();
    assert_eq!(first, b"0123456789\n");
    let _ = fs::remove_dir_all(dir);
}

#[test]
fn appends_to_a_small_existing_file_and_skips_a_big_one() {
    let dir = temp_dir();
    fs::write(dir.join("t.box-000000.2024022913.log"), b"0123456789AB\n").unwrap();
    fs::write(dir.join("t.box-000001.2024022913.log"), b"x\n").unwrap();
    let mut f = logger(&[
        format!("--output-dir={}", dir.display()),
        "--rotate-size=10".into(),
    ]);
    f.update_file(now()).unwrap();
    f.write_message(b"y").unwrap();
    f.close().unwrap();
    assert_eq!(
        fs::read(dir.join("t.box-000001.2024022913.log")).unwrap(),
        b"x\ny\n"
    );
    let _ = fs::remove_dir_all(dir);
}

#[test]
fn work_dir_files_move_without_overwriting() {
    let (work, out) = (temp_dir(), temp_dir());
    fs::write(out.join("t.box-000000.2024022913.log"), b"old\n").unwrap();
    let mut f = logger(&[
        format!("--output-dir={}", out.display()),
        format!("--work-dir={}", work.display()),
    ]);
    f.update_file(now()).unwrap();
    assert_eq!(
        names(&work),
        ["t.box-000001.2024022913.log"],
        "a name taken in the output dir is skipped"
    );
    f.write_message(b"one").unwrap();
    // Someone else takes the name before the move: the next revision is used.
    fs::write(out.join("t.box-000001.2024022913.log"), b"theirs\n").unwrap();
    f.close().unwrap();
    assert!(names(&work).is_empty());
    assert_eq!(
        fs::read(out.join("t.box-000000.2024022913.log")).unwrap(),
        b"old\n"
    );
    assert_eq!(
        fs::read(out.join("t.box-000001.2024022913.log")).unwrap(),
        b"theirs\n"
    );
    assert_eq!(
        fs::read(out.join("t.box-000002.2024022913.log")).unwrap(),
        b"one\n"
    );
    let _ = fs::remove_dir_all(work);
    let _ = fs::remove_dir_all(out);
}

#[test]
fn names_may_hold_directories() {
    let dir = temp_dir();
    let mut f = logger(&[
        format!("--output-dir={}", dir.display()),
        "--filename-format=/<TOPIC>/<DATETIME>.log".into(),
        "--datetime-format=%Y/%m/%d".into(),
    ]);
    f.update_file(now()).unwrap();
    f.write_message(b"m").unwrap();
    f.close().unwrap();
    assert_eq!(fs::read(dir.join("t/2024/02/29.log")).unwrap(), b"m\n");
    let _ = fs::remove_dir_all(dir);
}

#[cfg(feature = "gzip")]
#[test]
fn gzip_files_are_concatenated_members() {
    use std::io::Read;
    let dir = temp_dir();
    let mut f = logger(&[format!("--output-dir={}", dir.display()), "--gzip".into()]);
    f.update_file(now()).unwrap();
    f.write_message(b"one").unwrap();
    f.sync().unwrap();
    f.write_message(b"two").unwrap();
    f.close().unwrap();
    let raw = fs::read(dir.join("t.box-000000.2024022913.log.gz")).unwrap();
    let members = raw.windows(3).filter(|w| w == &[0x1f, 0x8b, 0x08]).count();
    assert!(members >= 2, "one gzip member per sync");
    let mut text = String::new();
    flate2::read::MultiGzDecoder::new(&raw[..])
        .read_to_string(&mut text)
        .unwrap();
    assert_eq!(text, "one\ntwo\n");
    let _ = fs::remove_dir_all(dir);
}
