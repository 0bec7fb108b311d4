//! A torn queue meta file (garbage, empty, or a read position past the write position)
//! must not drop the intact data files beside it: nsqd reads them again from the
//! lowest-numbered one at offset 0 (redelivery rather than loss), logs it, and leaves
//! no data file behind once everything is consumed.
mod common;

use common::{http, Nsqd};
use std::collections::BTreeSet;

/// nsqd with every message on disk, in files of about 16 KiB.
const ARGS: [&str; 2] = ["--mem-queue-size=0", "--max-bytes-per-file=16384"];

/// The data files of channel `t:c` in `dir`.
fn data_files(dir: &std::path::Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .expect("data dir")
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|n| n.starts_with("t:c.diskqueue.0") && n.ends_with(".dat"))
        .collect();
    names.sort();
    names
}

/// `meta`: what the channel's meta file holds before the restart (`None`: removed).
fn torn_meta_case(name: &str, meta: Option<&[u8]>) {
    let data = common::temp_dir(name);
    let mut nsqd = Nsqd::start_in(data.clone(), &ARGS);
    assert_eq!(
        http(nsqd.http, "POST", "/topic/create?topic=t", b"").status,
        200
    );
    assert_eq!(
        http(nsqd.http, "POST", "/channel/create?topic=t&channel=c", b"").status,
        200
    );
    let mut c = nsqd.client();
    let bodies: Vec<Vec<u8>> = (0..1000).map(|i| format!("{i:04}").into_bytes()).collect();
    for chunk in bodies.chunks(100) {
        let refs: Vec<&[u8]> = chunk.iter().map(Vec::as_slice).collect();
        c.mpub("t", &refs);
    }
    drop(c);
    nsqd.signal("TERM");
    assert_eq!(nsqd.wait_exit(), Some(0));
    // Keep the data dir: the next nsqd takes it over.
    std::mem::forget(nsqd);
    assert!(data_files(&data).len() > 1, "{:?}", data_files(&data));

    let meta_path = data.join("t:c.diskqueue.meta.dat");
    match meta {
        Some(meta) => std::fs::write(&meta_path, meta).unwrap(),
        None => std::fs::remove_file(&meta_path).unwrap(),
    }
    let nsqd = Nsqd::start_in(data.clone(), &ARGS);
    let mut consumer = common::consumer(&nsqd, "{}", "t", "c", 200);
    let mut got = BTreeSet::new();
    while got.len() < 1000 {
        let m = consumer.read_message();
        got.insert(m.body.clone());
        consumer.fin(&m.id);
    }
    let want: BTreeSet<Vec<u8>> = bodies.into_iter().collect();
    assert_eq!(got, want, "{name}: every intact message delivered");
    common::wait_log(|| nsqd.log_text(), "recovering");
    common::eventually("the consumed files to be removed", || {
        data_files(&data).len() <= 1
    });
}

#[test]
fn a_garbage_meta_file_delivers_every_intact_message() {
    torn_meta_case("garbage", Some(b"\x00\xffnot a meta file\n"));
}

#[test]
fn an_empty_meta_file_delivers_every_intact_message() {
    torn_meta_case("empty", Some(b""));
}

#[test]
fn a_read_position_past_the_write_position_delivers_every_intact_message() {
    torn_meta_case("ahead", Some(b"1000\n9,0\n2,100\n"));
}

#[test]
fn a_missing_meta_file_delivers_every_intact_message() {
    torn_meta_case("missing", None);
}
