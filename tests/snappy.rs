//! Snappy on a V2 connection (feature `snappy`): after IDENTIFY grants it, both
//! directions use the snappy framing format, checked with `snap`'s own stream codec.
#![cfg(feature = "snappy")]

mod common;

use common::{command_bytes as command, Nsqd, WAIT};
use std::io::{Read, Write};
use std::net::TcpStream;

/// Reads one frame exactly (no bytes past it): (type, data).
fn read_frame(r: &mut impl Read) -> (i32, Vec<u8>) {
    let mut size = [0u8; 4];
    r.read_exact(&mut size).expect("frame size");
    let mut rest = vec![0u8; i32::from_be_bytes(size) as usize];
    r.read_exact(&mut rest).expect("frame");
    let kind = i32::from_be_bytes(rest[..4].try_into().unwrap());
    (kind, rest[4..].to_vec())
}

fn text(r: &mut impl Read) -> String {
    let (kind, data) = read_frame(r);
    assert_ne!(kind, 2, "unexpected message");
    String::from_utf8(data).unwrap()
}

/// IDENTIFY asking for snappy.
fn ask_snappy(s: &mut TcpStream) {
    let ask = br#"{"feature_negotiation":true,"snappy":true}"#;
    s.write_all(&command("IDENTIFY", Some(ask))).unwrap();
}

fn connect(nsqd: &Nsqd) -> TcpStream {
    let mut s = TcpStream::connect(nsqd.tcp).unwrap();
    s.set_read_timeout(Some(WAIT)).unwrap();
    s.write_all(b"  V2").unwrap();
    s
}

#[test]
fn identify_grants_snappy_then_everything_is_framed() {
    let nsqd = Nsqd::start(&[]);
    let mut s = connect(&nsqd);
    ask_snappy(&mut s);
    let reply: serde_json::Value = serde_json::from_str(&text(&mut s)).unwrap();
    assert_eq!(reply["snappy"], true, "{reply}");
    assert_eq!(reply["deflate"], false, "{reply}");
    let mut reader = snap::read::FrameDecoder::new(s.try_clone().unwrap());
    let mut writer = snap::write::FrameEncoder::new(s);
    assert_eq!(text(&mut reader), "OK", "the upgrade's OK comes framed");
    let body = vec![b'z'; 100_000]; // compressible, and more than one 64 KiB block
    let mut batch = command("PUB framed", Some(&body));
    batch.extend(command("SUB framed c", None));
    batch.extend(command("RDY 1", None));
    writer.write_all(&batch).unwrap();
    writer.flush().unwrap();
    assert_eq!(text(&mut reader), "OK");
    assert_eq!(text(&mut reader), "OK");
    let (kind, data) = read_frame(&mut reader);
    assert_eq!(kind, 2);
    assert_eq!(&data[26..], &body[..]);
    let id = String::from_utf8(data[10..26].to_vec()).unwrap();
    writer
        .write_all(&command(&format!("FIN {id}"), None))
        .unwrap();
    writer.write_all(&command("CLS", None)).unwrap();
    writer.flush().unwrap();
    assert_eq!(text(&mut reader), "CLOSE_WAIT");
    common::assert_drained(&nsqd, "framed");
}

#[test]
fn deflate_and_snappy_together_are_refused_and_snappy_off_stays_plain() {
    let nsqd = Nsqd::start(&[]);
    let mut s = connect(&nsqd);
    let both = br#"{"feature_negotiation":true,"snappy":true,"deflate":true}"#;
    s.write_all(&command("IDENTIFY", Some(both))).unwrap();
    let (kind, data) = read_frame(&mut s);
    if cfg!(feature = "deflate") {
        assert_eq!(kind, 1);
        assert_eq!(
            data,
            b"E_IDENTIFY_FAILED cannot enable both deflate and snappy compression"
        );
    } else {
        assert!(String::from_utf8_lossy(&data).contains("\"snappy\":true"));
    }

    let nsqd = Nsqd::start(&["--snappy=false"]);
    let mut s = connect(&nsqd);
    ask_snappy(&mut s);
    assert!(text(&mut s).contains("\"snappy\":false"));
    s.write_all(&command("PUB plain", Some(b"x"))).unwrap();
    assert_eq!(text(&mut s), "OK");
}

#[test]
fn a_corrupt_snappy_stream_closes_the_connection() {
    let nsqd = Nsqd::start(&[]);
    let mut s = connect(&nsqd);
    ask_snappy(&mut s);
    text(&mut s);
    // A stored chunk with a wrong CRC, after a proper stream identifier.
    s.write_all(b"\xff\x06\x00\x00sNaPpY\x01\x05\x00\x00\xde\xad\xbe\xefx")
        .unwrap();
    let closed = common::closed_by_peer(&mut s);
    assert!(closed, "nsqd hangs up on a bad CRC");
}

#[test]
fn the_client_library_speaks_snappy() {
    let config = nsq::client::Config {
        snappy: true,
        max_in_flight: 100,
        ..Default::default()
    };
    let mut bodies: Vec<Vec<u8>> = (0..1000).map(|i| format!("m{i}").into_bytes()).collect();
    bodies.push(vec![b'q'; 200_000]); // more than one 64 KiB snappy block
    common::client_round_trip(config, "client_snappy", bodies, "\"snappy\":true");
}
