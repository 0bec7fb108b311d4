//! Unit tests of the disk queue: round trips, rolling files, recovery from torn or
//! corrupt files and metadata, and a model check against a plain FIFO.

use super::*;
use std::collections::VecDeque;
use std::fs::{self, OpenOptions};
use std::io::{Seek, SeekFrom, Write};
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};

/// A directory under the system temp dir, removed on drop (also when a test panics).
struct TempDir(PathBuf);

impl TempDir {
    fn new(tag: &str) -> TempDir {
        static N: AtomicU64 = AtomicU64::new(0);
        let n = N.fetch_add(1, Ordering::Relaxed);
        let path = std::env::temp_dir().join(format!("nsq-dq-{tag}-{}-{n}", std::process::id()));
        let _ = fs::remove_dir_all(&path);
        fs::create_dir_all(&path).expect("create temp dir");
        TempDir(path)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

fn config(max_bytes_per_file: u64) -> Config {
    Config {
        max_bytes_per_file,
        min_msg_size: 26,
        max_msg_size: 1024,
        sync_every: 2500,
    }
}

/// A valid record of `len` (>= 26) bytes that names its `seq`.
fn record(seq: u64, len: usize) -> Vec<u8> {
    let mut r = format!("rec-{seq:08}-").into_bytes();
    r.resize(len.max(26), b'a' + (seq % 26) as u8);
    r
}

/// The file names in `dir`, sorted.
fn names(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = fs::read_dir(dir)
        .expect("read dir")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

fn meta_text(dir: &Path, name: &str) -> String {
    fs::read_to_string(dir.join(format!("{name}.diskqueue.meta.dat"))).expect("meta")
}

fn drain(dq: &mut DiskQueue) -> Vec<Vec<u8>> {
    std::iter::from_fn(|| dq.get()).collect()
}

struct XorShift(u64);

impl XorShift {
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

#[test]
fn meta_format_and_rollover_names_match_go() {
    let tmp = TempDir::new("format");
    let dir = &tmp.0;
    // The reference capture: --max-bytes-per-file 100, 35-byte records -> 70-byte files.
    let mut dq = DiskQueue::open(dir, "t", config(100)).unwrap();
    for i in 0..4 {
        dq.put(&record(i, 31)).unwrap();
    }
    assert!(dq.needs_sync(), "a rollover asks for a sync");
    dq.sync().unwrap();
    assert!(!dq.dirty() && !dq.needs_sync());
    assert_eq!(meta_text(dir, "t"), "4\n0,0\n1,70\n");
    assert_eq!(
        names(dir),
        [
            "t.diskqueue.000000.dat",
            "t.diskqueue.000001.dat",
            "t.diskqueue.meta.dat"
        ]
    );
    let file0 = fs::read(dir.join("t.diskqueue.000000.dat")).unwrap();
    assert_eq!(file0.len(), 70);
    assert_eq!(&file0[..4], &[0, 0, 0, 31]);
    assert_eq!(&file0[4..35], &record(0, 31)[..]);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        for n in ["t.diskqueue.000000.dat", "t.diskqueue.meta.dat"] {
            let mode = fs::metadata(dir.join(n)).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600, "{n}");
        }
    }
    dq.close().unwrap();

    let mut dq = DiskQueue::open(dir, "t", config(100)).unwrap();
    assert_eq!(dq.depth(), 4);
    assert_eq!(dq.get().unwrap(), record(0, 31));
    assert_eq!(dq.get().unwrap(), record(1, 31));
    assert!(
        !dir.join("t.diskqueue.000000.dat").exists(),
        "a read file is deleted as the reader passes it"
    );
    assert!(dq.needs_sync());
    assert_eq!(drain(&mut dq), [record(2, 31), record(3, 31)]);
    assert_eq!(dq.depth(), 0);
    dq.close().unwrap();
    assert_eq!(meta_text(dir, "t"), "0\n1,70\n1,70\n");

    let mut dq = DiskQueue::open(dir, "t", config(100)).unwrap();
    assert_eq!(dq.get(), None);
    dq.put(&record(4, 31)).unwrap();
    dq.sync().unwrap();
    assert_eq!(
        meta_text(dir, "t"),
        "1\n2,0\n2,35\n",
        "read file 1 was done, so it went with the roll"
    );
    assert_eq!(
        names(dir),
        ["t.diskqueue.000002.dat", "t.diskqueue.meta.dat"]
    );
    assert_eq!(dq.get().unwrap(), record(4, 31));
    dq.close().unwrap();
}

#[test]
fn file_numbers_grow_past_six_digits() {
    let tmp = TempDir::new("digits");
    let dir = &tmp.0;
    fs::write(dir.join("q.diskqueue.meta.dat"), "0\n999999,0\n999999,0\n").unwrap();
    let mut dq = DiskQueue::open(dir, "q", config(40)).unwrap();
    dq.put(&record(0, 30)).unwrap();
    dq.put(&record(1, 30)).unwrap();
    dq.close().unwrap();
    assert_eq!(
        names(dir),
        [
            "q.diskqueue.1000000.dat",
            "q.diskqueue.999999.dat",
            "q.diskqueue.meta.dat"
        ]
    );
    let mut dq = DiskQueue::open(dir, "q", config(40)).unwrap();
    assert_eq!(drain(&mut dq), [record(0, 30), record(1, 30)]);
}

/// Random puts, gets, syncs and restarts against a `VecDeque` model, with files so small
/// that nearly every put rolls.
#[test]
fn matches_a_fifo_model() {
    for seed in [1u64, 7, 0xdead_beef, 2026] {
        let tmp = TempDir::new("model");
        let dir = &tmp.0;
        let mut rng = XorShift(seed);
        let mut model: VecDeque<Vec<u8>> = VecDeque::new();
        let mut cfg = config(200);
        cfg.sync_every = 50;
        let mut dq = DiskQueue::open(dir, "m", cfg.clone()).unwrap();
        let mut seq = 0u64;
        for step in 0..2000 {
            match rng.below(100) {
                0..=48 => {
                    let r = record(seq, 1 + rng.below(300) as usize);
                    seq += 1;
                    dq.put(&r).unwrap();
                    model.push_back(r);
                }
                49..=96 => assert_eq!(dq.get(), model.pop_front(), "seed {seed} step {step}"),
                97..=98 => {
                    if dq.needs_sync() || rng.below(2) == 0 {
                        dq.sync().unwrap();
                    }
                }
                _ => {
                    dq.close().unwrap();
                    dq = DiskQueue::open(dir, "m", cfg.clone()).unwrap();
                }
            }
            assert_eq!(dq.depth(), model.len() as u64, "seed {seed} step {step}");
            for (num, _) in dq.data_files().unwrap() {
                assert!(
                    (dq.read_num..=dq.write_num).contains(&num),
                    "stray file {num}, seed {seed}"
                );
            }
        }
        assert_eq!(drain(&mut dq), Vec::from(model), "seed {seed}");
        assert!(
            !names(dir).iter().any(|n| n.ends_with(".bad")),
            "seed {seed}"
        );
        dq.close().unwrap();
    }
}

#[test]
fn crash_without_sync_keeps_synced_records() {
    for forget in [true, false] {
        let tmp = TempDir::new("crash");
        let dir = &tmp.0;
        let mut dq = DiskQueue::open(dir, "c", config(1 << 20)).unwrap();
        for i in 0..10 {
            dq.put(&record(i, 40)).unwrap();
        }
        assert_eq!(dq.get().unwrap(), record(0, 40));
        dq.sync().unwrap();
        assert_eq!(dq.get().unwrap(), record(1, 40));
        for i in 10..20 {
            dq.put(&record(i, 40)).unwrap();
        }
        if forget {
            std::mem::forget(dq); // kill -9: buffered records never reach the file
        } else {
            drop(dq); // buffered records are written, nothing is fsynced or recorded in meta
        }
        assert_eq!(meta_text(dir, "c"), "9\n0,44\n0,440\n");

        let mut dq = DiskQueue::open(dir, "c", config(1 << 20)).unwrap();
        let depth = if forget { 9 } else { 19 };
        assert_eq!(
            dq.depth(),
            depth,
            "the old meta's, plus records past its position"
        );
        dq.put(&record(100, 40)).unwrap();
        dq.sync().unwrap();
        let expect_file = if forget { 0 } else { 1 };
        assert_eq!(dq.write_num, expect_file, "forget={forget}");
        if !forget {
            assert!(
                dir.join("c.diskqueue.000001.dat").exists(),
                "unsynced writes: resume in a new file"
            );
        }
        let got = drain(&mut dq);
        let mut want: Vec<Vec<u8>> = (1..10).map(|i| record(i, 40)).collect();
        if !forget {
            want.extend((10..20).map(|i| record(i, 40)));
        }
        want.push(record(100, 40));
        assert_eq!(got, want, "forget={forget}");
        assert_eq!(dq.depth(), 0);
        assert!(!names(dir).iter().any(|n| n.ends_with(".bad")));
        dq.close().unwrap();
    }
}

#[test]
fn unsynced_rollovers_are_salvaged_without_overwriting() {
    let tmp = TempDir::new("salvage");
    let dir = &tmp.0;
    let mut dq = DiskQueue::open(dir, "s", config(100)).unwrap();
    dq.put(&record(0, 31)).unwrap();
    dq.sync().unwrap(); // meta: write file 0 at 35
    for i in 1..6 {
        dq.put(&record(i, 31)).unwrap(); // files 0, 1, 2 written, never recorded
    }
    drop(dq);
    // First restart skips to file 3, then crashes before a sync...
    let mut dq = DiskQueue::open(dir, "s", config(100)).unwrap();
    assert_eq!(dq.write_num, 3);
    dq.put(&record(6, 31)).unwrap();
    drop(dq);
    // ...so the second must skip file 3 as well.
    let mut dq = DiskQueue::open(dir, "s", config(100)).unwrap();
    assert_eq!(dq.write_num, 4);
    dq.put(&record(7, 31)).unwrap();
    assert_eq!(
        drain(&mut dq),
        (0..8).map(|i| record(i, 31)).collect::<Vec<_>>()
    );
    dq.close().unwrap();
}

/// Three files of two records each; returns the records.
fn three_files(dir: &Path) -> Vec<Vec<u8>> {
    let mut dq = DiskQueue::open(dir, "x", config(100)).unwrap();
    let recs: Vec<Vec<u8>> = (0..6).map(|i| record(i, 40)).collect();
    for r in &recs {
        dq.put(r).unwrap();
    }
    dq.close().unwrap();
    assert_eq!(names(dir).len(), 4);
    recs
}

fn patch(path: &Path, at: u64, bytes: &[u8]) {
    let mut f = OpenOptions::new().write(true).open(path).unwrap();
    f.seek(SeekFrom::Start(at)).unwrap();
    f.write_all(bytes).unwrap();
}

#[test]
fn corrupt_files_are_renamed_bad_and_reading_goes_on() {
    let file1 = "x.diskqueue.000001.dat";
    type Damage = fn(&Path);
    let cases: [(&str, Damage); 4] = [
        ("short length", |p| patch(p, 44, &10u32.to_be_bytes())),
        ("huge length", |p| {
            patch(p, 44, &0x7fff_ffffu32.to_be_bytes())
        }),
        ("negative length", |p| patch(p, 44, &(-5i32).to_be_bytes())),
        ("truncated", |p| {
            OpenOptions::new()
                .write(true)
                .open(p)
                .unwrap()
                .set_len(60)
                .unwrap()
        }),
    ];
    for (what, damage) in cases {
        let tmp = TempDir::new("corrupt");
        let dir = &tmp.0;
        let recs = three_files(dir);
        damage(&dir.join(file1));
        let mut dq = DiskQueue::open(dir, "x", config(100)).unwrap();
        let got = drain(&mut dq);
        // File 1's first record survives; the rest of it is lost.
        let want: Vec<&Vec<u8>> = [0, 1, 2, 4, 5].iter().map(|&i| &recs[i]).collect();
        assert_eq!(got.iter().collect::<Vec<_>>(), want, "{what}");
        assert!(dir.join(format!("{file1}.bad")).exists(), "{what}");
        assert_eq!(dq.depth(), 0, "{what}: reset at the tail");
        assert!(dq.needs_sync());
        dq.close().unwrap();
        assert_eq!(
            names(dir),
            [
                format!("{file1}.bad"),
                "x.diskqueue.000002.dat".into(),
                "x.diskqueue.meta.dat".into()
            ]
        );
    }
}

#[test]
fn corrupt_write_file_moves_writing_on() {
    let tmp = TempDir::new("corrupt-w");
    let dir = &tmp.0;
    let mut dq = DiskQueue::open(dir, "w", config(1 << 20)).unwrap();
    for i in 0..3 {
        dq.put(&record(i, 40)).unwrap();
    }
    dq.close().unwrap();
    patch(&dir.join("w.diskqueue.000000.dat"), 0, &[0xff; 4]);
    let mut dq = DiskQueue::open(dir, "w", config(1 << 20)).unwrap();
    assert_eq!(dq.get(), None);
    assert_eq!((dq.read_num, dq.write_num, dq.depth()), (1, 1, 0));
    dq.put(&record(9, 40)).unwrap();
    assert_eq!(drain(&mut dq), [record(9, 40)]);
    dq.close().unwrap();
    assert_eq!(
        names(dir),
        [
            "w.diskqueue.000000.dat.bad",
            "w.diskqueue.000001.dat",
            "w.diskqueue.meta.dat"
        ]
    );
    assert_eq!(meta_text(dir, "w"), "0\n1,44\n1,44\n");
}

#[test]
fn reader_at_end_of_write_file_survives_a_roll() {
    // Go renames the finished file .bad here (the EOF quirk); we just move on.
    let tmp = TempDir::new("eof");
    let dir = &tmp.0;
    let mut dq = DiskQueue::open(dir, "e", config(100)).unwrap();
    dq.put(&record(0, 40)).unwrap();
    dq.put(&record(1, 40)).unwrap();
    assert_eq!(drain(&mut dq), [record(0, 40), record(1, 40)]);
    dq.put(&record(2, 40)).unwrap(); // rolls
    assert!(!dir.join("e.diskqueue.000000.dat").exists());
    assert_eq!(dq.get().unwrap(), record(2, 40));
    assert!(!names(dir).iter().any(|n| n.ends_with(".bad")));
    dq.close().unwrap();
}

#[test]
fn bad_files_and_other_queues_are_ignored() {
    let tmp = TempDir::new("ignore");
    let dir = &tmp.0;
    fs::write(dir.join("q.diskqueue.000000.dat.bad"), b"junk").unwrap();
    fs::write(dir.join("q:ch.diskqueue.000005.dat"), b"other queue").unwrap();
    let mut dq = DiskQueue::open(dir, "q", config(100)).unwrap();
    assert_eq!(dq.write_num, 0);
    dq.put(&record(0, 30)).unwrap();
    assert_eq!(drain(&mut dq), [record(0, 30)]);
    dq.delete().unwrap();
    assert_eq!(names(dir), ["q:ch.diskqueue.000005.dat"]);
}

#[test]
fn garbled_or_missing_meta_reads_every_data_file_again_from_the_start() {
    for meta in [
        Some("garbage"),
        Some(""),
        Some("3\n0,0\n"),
        Some("1\n-1,0\n0,0\n"),
        Some("1\n9,0\n3,0\n"),
        None,
    ] {
        let tmp = TempDir::new("garbled");
        let dir = &tmp.0;
        let mut old = DiskQueue::open(dir, "g", config(100)).unwrap();
        for i in 0..7 {
            old.put(&record(i, 30)).unwrap(); // 34 bytes a record, two a file: files 0..=3
        }
        old.close().unwrap();
        match meta {
            Some(meta) => fs::write(dir.join("g.diskqueue.meta.dat"), meta).unwrap(),
            None => fs::remove_file(dir.join("g.diskqueue.meta.dat")).unwrap(),
        }
        let mut dq = DiskQueue::open(dir, "g", config(100)).unwrap();
        assert_eq!(
            (dq.depth(), dq.read_num, dq.write_num),
            (7, 0, 4),
            "{meta:?}"
        );
        dq.put(&record(7, 30)).unwrap();
        let want: Vec<Vec<u8>> = (0..8).map(|i| record(i, 30)).collect();
        assert_eq!(drain(&mut dq), want, "{meta:?}");
        dq.close().unwrap();
        assert_eq!(meta_text(dir, "g"), "0\n4,34\n4,34\n", "{meta:?}");
        assert_eq!(
            names(dir),
            ["g.diskqueue.000004.dat", "g.diskqueue.meta.dat"],
            "{meta:?}: no data file left behind"
        );
    }
}

#[test]
fn missing_files_are_skipped_in_one_step() {
    let tmp = TempDir::new("missing");
    let dir = &tmp.0;
    let mut dq = DiskQueue::open(dir, "g", config(1 << 20)).unwrap();
    dq.put(&record(0, 30)).unwrap();
    dq.close().unwrap();
    fs::rename(
        dir.join("g.diskqueue.000000.dat"),
        dir.join("g.diskqueue.000005.dat"),
    )
    .unwrap();
    fs::write(dir.join("g.diskqueue.meta.dat"), "3\n0,0\n1000000000,0\n").unwrap();
    let mut dq = DiskQueue::open(dir, "g", config(1 << 20)).unwrap();
    assert_eq!(drain(&mut dq), [record(0, 30)]);
    assert_eq!((dq.depth(), dq.read_num), (0, 1_000_000_000));
}

#[test]
fn read_position_ahead_of_write_is_reset() {
    let tmp = TempDir::new("ahead");
    let dir = &tmp.0;
    fs::write(dir.join("a.diskqueue.meta.dat"), "2\n3,10\n2,0\n").unwrap();
    let mut dq = DiskQueue::open(dir, "a", config(100)).unwrap();
    assert_eq!((dq.depth(), dq.get()), (0, None));
    dq.put(&record(0, 30)).unwrap();
    assert_eq!(drain(&mut dq), [record(0, 30)]);
}

#[test]
fn empty_removes_files_and_stale_sync_jobs_do_not_revive_meta() {
    let tmp = TempDir::new("empty");
    let dir = &tmp.0;
    fs::write(dir.join("e.diskqueue.000000.dat.bad"), b"old").unwrap();
    let mut dq = DiskQueue::open(dir, "e", config(100)).unwrap();
    for i in 0..5 {
        dq.put(&record(i, 40)).unwrap();
    }
    dq.sync().unwrap();
    dq.put(&record(5, 40)).unwrap();
    let stale = dq.sync_job().unwrap();
    dq.empty().unwrap();
    stale.run().unwrap();
    assert_eq!(
        names(dir),
        ["e.diskqueue.000000.dat.bad"],
        "data files and meta gone"
    );
    assert_eq!((dq.depth(), dq.get()), (0, None));
    assert!(dq.needs_sync());
    dq.put(&record(6, 40)).unwrap();
    dq.sync().unwrap();
    assert_eq!(meta_text(dir, "e"), "1\n3,0\n3,44\n");
    assert_eq!(drain(&mut dq), [record(6, 40)]);
    dq.delete().unwrap();
    assert_eq!(names(dir), Vec::<String>::new());
}

#[test]
fn sync_jobs_fsync_rolled_files_and_never_go_backwards() {
    let tmp = TempDir::new("jobs");
    let dir = &tmp.0;
    let mut dq = DiskQueue::open(dir, "j", config(100)).unwrap();
    for i in 0..3 {
        dq.put(&record(i, 40)).unwrap();
    }
    assert_eq!(dq.owed.len(), 1, "the rolled file's fsync is owed");
    let older = dq.sync_job().unwrap();
    assert_eq!(older.files.len(), 2);
    assert!(dq.owed.is_empty());
    dq.put(&record(3, 40)).unwrap();
    let newer = dq.sync_job().unwrap();
    newer.run().unwrap();
    older.run().unwrap();
    assert_eq!(meta_text(dir, "j"), "4\n0,0\n1,88\n");
    assert!(!names(dir).iter().any(|n| n.ends_with(".tmp")));
    dq.close().unwrap();
}

#[test]
fn sync_counters() {
    let tmp = TempDir::new("counters");
    let dir = &tmp.0;
    let mut cfg = config(1 << 20);
    cfg.sync_every = 3;
    let mut dq = DiskQueue::open(dir, "n", cfg).unwrap();
    assert!(!dq.dirty() && !dq.needs_sync());
    dq.put(&record(0, 30)).unwrap();
    assert!(dq.dirty() && !dq.needs_sync());
    dq.put(&record(1, 30)).unwrap();
    dq.get().unwrap();
    assert!(dq.needs_sync(), "reads and writes both count");
    dq.sync().unwrap();
    assert!(!dq.dirty());
    assert_eq!(dq.get().unwrap(), record(1, 30));
    dq.close().unwrap();
}

#[test]
fn put_rejects_sizes_out_of_range() {
    let tmp = TempDir::new("sizes");
    let mut dq = DiskQueue::open(&tmp.0, "s", config(100)).unwrap();
    assert!(dq.put(&[0; 25]).is_err());
    assert!(dq.put(&[0; 1025]).is_err());
    dq.put(&[7; 1024]).unwrap(); // bigger than a file: goes alone into a fresh one
    dq.put(&[8; 26]).unwrap();
    assert_eq!(drain(&mut dq), [vec![7; 1024], vec![8; 26]]);
    assert!(!dq.dirty() || dq.depth() == 0);
}

#[test]
fn takes_over_a_go_nsqd_data_dir() {
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/fixtures");
    let src = fixtures.join("go-nsqd-1.3.0-data");
    let expected =
        fs::read_to_string(fixtures.join("go-nsqd-1.3.0-expected.json")).unwrap_or_else(|e| {
            panic!(
                "fixtures at {} (shared/ beside the repo): {e}",
                fixtures.display()
            )
        });
    let expected: serde_json::Value = serde_json::from_str(&expected).unwrap();
    let tmp = TempDir::new("go");
    let dir = &tmp.0;
    for entry in fs::read_dir(&src).unwrap() {
        let entry = entry.unwrap();
        let to = dir.join(entry.file_name());
        fs::copy(entry.path(), &to).unwrap();
        let mut perms = fs::metadata(&to).unwrap().permissions();
        #[allow(clippy::permissions_set_readonly_false)]
        perms.set_readonly(false);
        fs::set_permissions(&to, perms).unwrap();
    }
    let cfg = Config {
        max_bytes_per_file: 100 * 1024 * 1024,
        min_msg_size: 26,
        max_msg_size: 1_048_576 + 26,
        sync_every: 2500,
    };
    let queues = [
        "fixture_topic",
        "fixture_topic:ch_a",
        "fixture_topic:ch_paused",
        "fixture_nochannel",
        "fixture_paused_topic",
        "fixture_paused_topic:c",
        "fixture_empty",
    ];
    for name in queues {
        let want = &expected[name];
        let unread = want["unread"].as_array().unwrap();
        let mut dq = DiskQueue::open(dir, name, cfg.clone()).unwrap();
        assert_eq!(dq.depth(), want["depth"].as_u64().unwrap(), "{name}");
        assert_eq!(dq.depth(), unread.len() as u64, "{name}");
        for (i, w) in unread.iter().enumerate() {
            let got = dq
                .get()
                .unwrap_or_else(|| panic!("{name}: record {i} missing"));
            let msg = crate::proto::decode_message(&got).unwrap();
            assert_eq!(
                std::str::from_utf8(&msg.id).unwrap(),
                w["id"].as_str().unwrap(),
                "{name} #{i}"
            );
            assert_eq!(
                u64::from(msg.attempts),
                w["attempts"].as_u64().unwrap(),
                "{name} #{i}"
            );
            let hex: String = msg.body.iter().map(|b| format!("{b:02x}")).collect();
            assert_eq!(hex, w["body_hex"].as_str().unwrap(), "{name} #{i}");
        }
        assert_eq!(dq.get(), None, "{name}");
        assert_eq!(dq.depth(), 0, "{name}");
        dq.close().unwrap();
    }
    assert!(!names(dir).iter().any(|n| n.ends_with(".bad")));
    // Go's single-file queues keep their write file: reading never deletes it.
    assert_eq!(
        meta_text(dir, "fixture_topic:ch_a"),
        "0\n0,43485\n0,43485\n"
    );
    assert_eq!(meta_text(dir, "fixture_empty"), "0\n0,0\n0,0\n");
}

#[test]
fn on_disk_says_whether_a_stop_has_anything_to_write() {
    let tmp = TempDir::new("on-disk");
    let dir = &tmp.0;
    let mut dq = DiskQueue::open(dir, "q", config(1000)).unwrap();
    assert!(!dq.on_disk(), "a new queue gets its meta file, as in Go");
    dq.sync().unwrap();
    assert_eq!(meta_text(dir, "q"), "0\n0,0\n0,0\n");
    assert_eq!(names(dir), ["q.diskqueue.meta.dat"]);
    assert!(dq.on_disk(), "synced, empty");
    dq.put(&record(0, 30)).unwrap();
    assert!(!dq.on_disk(), "a buffered record");
    dq.sync().unwrap();
    assert!(dq.on_disk(), "synced");
    drop(dq);
    let mut dq = DiskQueue::open(dir, "q", config(1000)).unwrap();
    assert!(dq.on_disk(), "reopened from its meta file");
    assert_eq!(drain(&mut dq), [record(0, 30)]);
    assert!(!dq.on_disk(), "the read position moved");
    dq.sync().unwrap();
    assert!(dq.on_disk());
    dq.empty().unwrap();
    assert!(!dq.on_disk(), "emptied: the meta file is gone");
    drop(dq);
    fs::write(dir.join("q.diskqueue.meta.dat"), "garbage").unwrap();
    let dq = DiskQueue::open(dir, "q", config(1000)).unwrap();
    assert!(!dq.on_disk(), "a garbled meta file must be replaced");
}

#[test]
fn commit_jobs_fsync_records_only_and_a_crash_keeps_and_counts_them() {
    let tmp = TempDir::new("commit");
    let dir = &tmp.0;
    let cfg = Config {
        sync_every: 1,
        ..config(1 << 20)
    };
    let mut dq = DiskQueue::open(dir, "c", cfg.clone()).unwrap();
    dq.put(&record(0, 30)).unwrap();
    let first = dq.commit_job().unwrap();
    assert!(
        !first.data_only,
        "a new write file: the meta and directory too"
    );
    first.run().unwrap();
    let meta = meta_text(dir, "c");
    assert_eq!(meta, "1\n0,0\n0,34\n");
    for i in 1..4 {
        dq.put(&record(i, 30)).unwrap();
        let job = dq.commit_job().unwrap();
        assert!(job.data_only && job.files.len() == 1, "{job:?}");
        job.run().unwrap();
    }
    assert_eq!(
        meta_text(dir, "c"),
        meta,
        "the meta waits for a forced sync"
    );
    assert_eq!(dq.get().unwrap(), record(0, 30));
    let read_only = dq.commit_job().unwrap();
    assert!(read_only.files.is_empty(), "a read owes no fsync");
    assert!(dq.dirty(), "the meta is owed");
    // A crash: no clean close, no meta written.
    std::mem::forget(dq);
    let mut back = DiskQueue::open(dir, "c", cfg).unwrap();
    assert_eq!(
        back.depth(),
        4,
        "the records past the meta's position are counted"
    );
    for i in 0..4 {
        assert_eq!(back.get().unwrap(), record(i, 30));
    }
    assert_eq!(back.get(), None);
    back.put(&record(9, 30)).unwrap();
    back.sync().unwrap();
    drop(back);
    let mut again = DiskQueue::open(dir, "c", config(1 << 20)).unwrap();
    assert_eq!(again.get().unwrap(), record(9, 30), "nothing overwritten");
}
