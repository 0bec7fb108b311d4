//! Deflate on a V2 connection (feature `deflate`): after IDENTIFY grants it, both
//! directions are raw DEFLATE, checked here with an independent codec.
#![cfg(feature = "deflate")]

mod common;

use common::{command_bytes, Nsqd, WAIT};
use flate2::{Compress, Compression, Decompress, FlushCompress, FlushDecompress};
use std::io::{Read, Write};
use std::net::TcpStream;

/// A raw V2 client whose traffic, once switched, is deflated both ways.
struct Client {
    stream: TcpStream,
    deflate: Option<(Compress, Decompress)>,
    plain: Vec<u8>,
}

impl Client {
    fn connect(nsqd: &Nsqd) -> Client {
        let stream = TcpStream::connect(nsqd.tcp).unwrap();
        stream.set_read_timeout(Some(WAIT)).unwrap();
        let mut c = Client {
            stream,
            deflate: None,
            plain: Vec::new(),
        };
        c.stream.write_all(b"  V2").unwrap();
        c
    }

    /// From now on both directions are deflated; bytes already read past the last
    /// plain frame were compressed.
    fn switch(&mut self) {
        self.deflate = Some((
            Compress::new(Compression::new(3), false),
            Decompress::new(false),
        ));
        let early = std::mem::take(&mut self.plain);
        self.inflate(&early);
    }

    fn inflate(&mut self, mut input: &[u8]) {
        let Some((_, dec)) = &mut self.deflate else {
            self.plain.extend_from_slice(input);
            return;
        };
        while !input.is_empty() {
            self.plain.reserve(65536);
            let before = dec.total_in();
            dec.decompress_vec(input, &mut self.plain, FlushDecompress::None)
                .unwrap();
            input = &input[(dec.total_in() - before) as usize..];
        }
    }

    fn send(&mut self, bytes: &[u8]) {
        let wire = match &mut self.deflate {
            None => bytes.to_vec(),
            Some((enc, _)) => {
                let mut out = Vec::with_capacity(bytes.len() + 1024);
                enc.compress_vec(bytes, &mut out, FlushCompress::Sync)
                    .unwrap();
                out
            }
        };
        self.stream.write_all(&wire).unwrap();
    }

    /// The next frame: (type, data).
    fn read_frame(&mut self) -> (i32, Vec<u8>) {
        loop {
            if self.plain.len() >= 8 {
                let size = i32::from_be_bytes(self.plain[..4].try_into().unwrap()) as usize;
                if self.plain.len() >= 4 + size {
                    let kind = i32::from_be_bytes(self.plain[4..8].try_into().unwrap());
                    let data = self.plain[8..4 + size].to_vec();
                    self.plain.drain(..4 + size);
                    return (kind, data);
                }
            }
            let mut buf = [0u8; 65536];
            let n = self.stream.read(&mut buf).expect("read");
            assert!(n > 0, "nsqd closed the connection");
            self.inflate(&buf[..n]);
        }
    }

    fn text(&mut self) -> String {
        let (kind, data) = self.read_frame();
        assert_ne!(kind, 2, "unexpected message");
        String::from_utf8(data).unwrap()
    }
}

const ASK: &str = r#"{"feature_negotiation":true,"deflate":true,"deflate_level":3}"#;

#[test]
fn identify_grants_deflate_then_everything_is_compressed() {
    let nsqd = Nsqd::start(&["--max-deflate-level=9"]);
    let mut c = Client::connect(&nsqd);
    c.send(&command_bytes("IDENTIFY", Some(ASK.as_bytes())));
    let reply: serde_json::Value = serde_json::from_str(&c.text()).unwrap();
    assert_eq!(
        (reply["deflate"].as_bool(), reply["deflate_level"].as_u64()),
        (Some(true), Some(3))
    );
    c.switch();
    assert_eq!(c.text(), "OK", "the upgrade's OK comes compressed");
    let mut batch = command_bytes("PUB zipped", Some(b"hello deflate"));
    batch.extend(command_bytes("SUB zipped c", None));
    batch.extend(command_bytes("RDY 1", None));
    c.send(&batch);
    assert_eq!(c.text(), "OK");
    assert_eq!(c.text(), "OK");
    let (kind, data) = c.read_frame();
    assert_eq!(kind, 2);
    assert_eq!(&data[26..], b"hello deflate");
    let id = String::from_utf8(data[10..26].to_vec()).unwrap();
    c.send(&command_bytes(&format!("FIN {id}"), None));
    c.send(&command_bytes("CLS", None));
    assert_eq!(c.text(), "CLOSE_WAIT");
    common::assert_drained(&nsqd, "zipped");
}

#[test]
fn commands_sent_right_behind_identify_are_read_compressed() {
    let nsqd = Nsqd::start(&[]);
    let mut c = Client::connect(&nsqd);
    // IDENTIFY in clear and, in the same write, a PUB already deflated.
    let mut wire = command_bytes("IDENTIFY", Some(ASK.as_bytes()));
    let mut enc = Compress::new(Compression::new(6), false);
    let mut zipped = Vec::with_capacity(1024);
    enc.compress_vec(
        &command_bytes("PUB eager", Some(b"right away")),
        &mut zipped,
        FlushCompress::Sync,
    )
    .unwrap();
    wire.extend_from_slice(&zipped);
    c.stream.write_all(&wire).unwrap();
    assert!(c.text().contains("\"deflate\":true"));
    c.switch();
    // Keep writing with the same compressor the PUB used.
    c.deflate.as_mut().unwrap().0 = enc;
    assert_eq!(c.text(), "OK");
    assert_eq!(c.text(), "OK", "the eager PUB");
    let stats = common::http(nsqd.http, "GET", "/stats?format=json&topic=eager", b"").text();
    assert!(stats.contains("\"message_count\":1"), "{stats}");
}

#[test]
fn deflate_disabled_or_not_asked_stays_plain() {
    let nsqd = Nsqd::start(&["--deflate=false"]);
    let mut c = Client::connect(&nsqd);
    c.send(&command_bytes("IDENTIFY", Some(ASK.as_bytes())));
    assert!(c.text().contains("\"deflate\":false"));
    c.send(&command_bytes("PUB plain", Some(b"x")));
    assert_eq!(c.text(), "OK", "no upgrade OK, no compression");

    let nsqd = Nsqd::start(&[]);
    let mut c = Client::connect(&nsqd);
    c.send(&command_bytes("IDENTIFY", Some(br#"{"deflate":true}"#)));
    assert_eq!(c.text(), "OK", "without feature negotiation, no upgrade");
    c.send(&command_bytes("PUB plain", Some(b"x")));
    assert_eq!(c.text(), "OK");
}

#[test]
fn a_corrupt_deflate_stream_closes_the_connection() {
    let nsqd = Nsqd::start(&[]);
    let mut c = Client::connect(&nsqd);
    c.send(&command_bytes("IDENTIFY", Some(ASK.as_bytes())));
    c.text();
    c.switch();
    assert_eq!(c.text(), "OK");
    c.stream.write_all(&[0xff; 64]).unwrap();
    let closed = common::closed_by_peer(&mut c.stream);
    assert!(closed, "nsqd hangs up on garbage");
    let mut again = Client::connect(&nsqd);
    again.send(&command_bytes("PUB fine", Some(b"y")));
    assert_eq!(again.text(), "OK", "and goes on serving others");
}

#[test]
fn the_client_library_speaks_deflate() {
    let config = nsq::client::Config {
        deflate: true,
        deflate_level: 5,
        max_in_flight: 100,
        ..Default::default()
    };
    let bodies = (0..2000).map(|i| format!("m{i}").into_bytes()).collect();
    common::client_round_trip(config, "client_deflate", bodies, "\"deflate\":true");
}
