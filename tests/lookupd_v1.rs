//! Black-box tests of nsqlookupd's V1 TCP protocol against the real binary: the exact
//! bytes Go nsqd sends and the exact replies, every error (answered, then closed),
//! malformed input that must not hurt the server, and the registrations as the HTTP
//! API then shows them.

mod common;

use common::{eventually, http, Lookupd, WAIT};
use serde_json::{json, Value};
use std::io::{ErrorKind, Read, Write};
use std::net::{Shutdown, TcpStream};

/// The IDENTIFY body Go nsqd 1.3 sends (§4.2), byte for byte. Its ports are data that
/// lookupd hands back; nothing listens on them and lookupd never dials them.
const NSQD_IDENTIFY: &str = r#"{"broadcast_address":"127.0.0.1","hostname":"vm","http_port":7151,"tcp_port":7150,"version":"1.3.0","topology_region":"","topology_zone":""}"#;

fn connect(lookupd: &Lookupd) -> TcpStream {
    let s = TcpStream::connect(lookupd.tcp).expect("connect");
    s.set_read_timeout(Some(WAIT)).unwrap();
    s.set_nodelay(true).unwrap();
    s
}

fn identify(json: &str) -> Vec<u8> {
    let mut v = b"IDENTIFY\n".to_vec();
    v.extend_from_slice(&(json.len() as i32).to_be_bytes());
    v.extend_from_slice(json.as_bytes());
    v
}

/// `[int32 size][data]`, returned whole so tests can assert the size bytes too.
fn read_raw(s: &mut TcpStream) -> Vec<u8> {
    let mut size = [0u8; 4];
    s.read_exact(&mut size).expect("response size");
    let len = i32::from_be_bytes(size);
    assert!((0..1 << 20).contains(&len), "bad size {len}");
    let mut data = vec![0u8; len as usize];
    s.read_exact(&mut data).expect("response data");
    [size.to_vec(), data].concat()
}

fn read_text(s: &mut TcpStream) -> String {
    String::from_utf8(read_raw(s)[4..].to_vec()).expect("utf-8 response")
}

fn expect_closed(s: &mut TcpStream) {
    let mut buf = [0u8; 64];
    match s.read(&mut buf) {
        Ok(0) => {}
        Err(e) if e.kind() == ErrorKind::ConnectionReset => {}
        other => panic!("expected close, got {other:?}"),
    }
}

/// A connection that has sent the magic and nsqd's IDENTIFY, reply checked.
fn identified(lookupd: &Lookupd) -> TcpStream {
    let mut s = connect(lookupd);
    s.write_all(b"  V1").unwrap();
    s.write_all(&identify(NSQD_IDENTIFY)).unwrap();
    let reply: Value = serde_json::from_str(&read_text(&mut s)).expect("JSON reply");
    assert_eq!(reply["tcp_port"], json!(lookupd.tcp.port()));
    s
}

fn lookup(lookupd: &Lookupd, topic: &str) -> (u16, Value) {
    let r = http(lookupd.http, "GET", &format!("/lookup?topic={topic}"), b"");
    let body = if r.status == 200 {
        r.json()
    } else {
        Value::Null
    };
    (r.status, body)
}

/// Sends `bytes` on a fresh connection; expects exactly `reply`, then a close.
fn fatal(lookupd: &Lookupd, bytes: &[u8], reply: &str) {
    let mut s = connect(lookupd);
    s.write_all(bytes).unwrap();
    assert_eq!(
        read_text(&mut s),
        reply,
        "input {:?}",
        String::from_utf8_lossy(bytes)
    );
    expect_closed(&mut s);
}

#[test]
fn go_nsqd_session_exact_bytes() {
    let lookupd = Lookupd::start(&[]);
    let mut s = connect(&lookupd);
    let me = s.local_addr().unwrap().to_string();
    s.write_all(b"  V1").unwrap();
    s.write_all(&identify(NSQD_IDENTIFY)).unwrap();
    let raw = read_raw(&mut s);
    let text = String::from_utf8(raw[4..].to_vec()).unwrap();
    let reply: Value = serde_json::from_str(&text).expect("JSON reply");
    let hostname = reply["hostname"].as_str().expect("hostname").to_string();
    assert!(!hostname.is_empty());
    // Keys sorted as Go marshals a map; our broadcast address and real ports.
    let want = format!(
        r#"{{"broadcast_address":"127.0.0.1","hostname":{},"http_port":{},"tcp_port":{},"version":"1.3.0"}}"#,
        serde_json::to_string(&hostname).unwrap(),
        lookupd.http.port(),
        lookupd.tcp.port()
    );
    assert_eq!(text, want);
    assert_eq!(&raw[..4], &(want.len() as i32).to_be_bytes());

    for line in [&b"REGISTER t c\n"[..], b"REGISTER t\n", b"PING\n"] {
        s.write_all(line).unwrap();
        assert_eq!(read_raw(&mut s), b"\0\0\0\x02OK");
    }
    let (status, body) = lookup(&lookupd, "t");
    assert_eq!(status, 200);
    assert_eq!(body["channels"], json!(["c"]));
    let producers = body["producers"].as_array().expect("producers");
    assert_eq!(producers.len(), 1, "{body}");
    let p = &producers[0];
    assert_eq!(p["remote_address"], json!(me));
    assert_eq!(p["hostname"], json!("vm"));
    assert_eq!(p["broadcast_address"], json!("127.0.0.1"));
    assert_eq!(p["tcp_port"], json!(7150));
    assert_eq!(p["http_port"], json!(7151));
    assert_eq!(p["version"], json!("1.3.0"));
    let topics = http(lookupd.http, "GET", "/topics", b"").json();
    assert_eq!(topics["topics"], json!(["t"]));
    let nodes = http(lookupd.http, "GET", "/nodes", b"").json();
    assert_eq!(nodes["producers"][0]["topics"], json!(["t"]));

    s.write_all(b"UNREGISTER t c\n").unwrap();
    assert_eq!(read_raw(&mut s), b"\0\0\0\x02OK");
    // Not ephemeral: the channel key stays; the producer is still on the topic.
    let (_, body) = lookup(&lookupd, "t");
    assert_eq!(body["channels"], json!(["c"]));
    assert_eq!(body["producers"].as_array().unwrap().len(), 1);

    drop(s);
    eventually("the producer to leave /lookup", || {
        let (status, body) = lookup(&lookupd, "t");
        status == 200 && body["producers"] == json!([])
    });
    let nodes = http(lookupd.http, "GET", "/nodes", b"").json();
    assert_eq!(nodes["producers"], json!([]));
    // The log is read by another thread: wait for the line rather than assume it.
    let want = format!(" INFO: DB: client({me}) REGISTER category:topic key:t subkey:");
    eventually("the REGISTER log line", || {
        lookupd
            .log_text()
            .lines()
            .any(|l| l.starts_with("[nsqlookupd] ") && l.ends_with(&want))
    });
}

#[test]
fn unregister_and_ephemeral_keys() {
    let lookupd = Lookupd::start(&[]);
    let mut s = identified(&lookupd);
    s.write_all(b"REGISTER t c#ephemeral\nREGISTER t d\nREGISTER e#ephemeral\n")
        .unwrap();
    for _ in 0..3 {
        assert_eq!(read_text(&mut s), "OK");
    }
    let channels = |lookupd: &Lookupd| {
        let mut v: Vec<String> = http(lookupd.http, "GET", "/channels?topic=t", b"").json()
            ["channels"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c.as_str().unwrap().to_string())
            .collect();
        v.sort();
        v
    };
    assert_eq!(channels(&lookupd), ["c#ephemeral", "d"]);
    s.write_all(b"UNREGISTER t c#ephemeral\nUNREGISTER e#ephemeral\nUNREGISTER t\n")
        .unwrap();
    for _ in 0..3 {
        assert_eq!(read_text(&mut s), "OK");
    }
    // The ephemeral channel and topic went with their last producer; the rest stay.
    assert_eq!(channels(&lookupd), ["d"]);
    assert_eq!(lookup(&lookupd, "e#ephemeral").0, 404);
    let (status, body) = lookup(&lookupd, "t");
    assert_eq!((status, body["producers"].clone()), (200, json!([])));
}

#[test]
fn two_nsqds_are_two_producers() {
    let lookupd = Lookupd::start(&[]);
    let mut a = identified(&lookupd);
    let mut b = identified(&lookupd);
    for s in [&mut a, &mut b] {
        s.write_all(b"REGISTER t\n").unwrap();
        assert_eq!(read_text(s), "OK");
    }
    let (_, body) = lookup(&lookupd, "t");
    assert_eq!(body["producers"].as_array().unwrap().len(), 2);
    drop(a);
    eventually("one producer left", || {
        lookup(&lookupd, "t").1["producers"]
            .as_array()
            .is_some_and(|p| p.len() == 1)
    });
}

#[test]
fn every_error_is_answered_then_closed() {
    let lookupd = Lookupd::start(&[]);
    fatal(&lookupd, b"  V2", "E_BAD_PROTOCOL");
    fatal(&lookupd, b"  V1FOO\n", "E_INVALID invalid command FOO");
    fatal(&lookupd, b"  V1\n", "E_INVALID invalid command ");
    fatal(
        &lookupd,
        b"  V1REGISTER t\n",
        "E_INVALID client must IDENTIFY",
    );
    fatal(
        &lookupd,
        b"  V1UNREGISTER t c\n",
        "E_INVALID client must IDENTIFY",
    );
    let identified_cases: [(&[u8], &str); 8] = [
        (
            b"REGISTER\n",
            "E_INVALID REGISTER insufficient number of params",
        ),
        (
            b"UNREGISTER\n",
            "E_INVALID UNREGISTER insufficient number of params",
        ),
        (
            b"REGISTER b@d c\n",
            "E_BAD_TOPIC REGISTER topic name 'b@d' is not valid",
        ),
        (
            b"UNREGISTER b@d\n",
            "E_BAD_TOPIC UNREGISTER topic name 'b@d' is not valid",
        ),
        (
            b"REGISTER t b@d\n",
            "E_BAD_CHANNEL REGISTER channel name 'b@d' is not valid",
        ),
        (
            b"UNREGISTER t b@d\n",
            "E_BAD_CHANNEL UNREGISTER channel name 'b@d' is not valid",
        ),
        (b"IDENTIFY\n", "E_INVALID cannot IDENTIFY again"),
        (b"NOP\n", "E_INVALID invalid command NOP"),
    ];
    for (line, want) in identified_cases {
        let mut s = identified(&lookupd);
        s.write_all(line).unwrap();
        assert_eq!(read_text(&mut s), want);
        expect_closed(&mut s);
    }
    let body = |json: &str| [b"  V1".as_slice(), &identify(json)].concat();
    let decode = "E_BAD_BODY IDENTIFY failed to decode JSON body";
    let missing = "E_BAD_BODY IDENTIFY missing fields";
    fatal(&lookupd, &body("{not json"), decode);
    fatal(&lookupd, &body(r#"{"tcp_port":"x"}"#), decode);
    fatal(&lookupd, &body("{}"), missing);
    fatal(
        &lookupd,
        &body(r#"{"broadcast_address":"h","tcp_port":0,"http_port":1,"version":"1"}"#),
        missing,
    );
    fatal(
        &lookupd,
        &body(r#"{"broadcast_address":"h","tcp_port":1,"http_port":1}"#),
        missing,
    );
    // EOF inside the body: Go's read errors.
    for (bytes, want) in [
        (
            &b"  V1IDENTIFY\n\0\0"[..],
            "E_BAD_BODY IDENTIFY failed to read body size",
        ),
        (
            b"  V1IDENTIFY\n\0\0\0\x40{\"broadcast",
            "E_BAD_BODY IDENTIFY failed to read body",
        ),
    ] {
        let mut s = connect(&lookupd);
        s.write_all(bytes).unwrap();
        s.shutdown(Shutdown::Write).unwrap();
        assert_eq!(read_text(&mut s), want);
        expect_closed(&mut s);
    }
    // Nothing half-registered stayed behind.
    let nodes = http(lookupd.http, "GET", "/nodes", b"").json();
    assert_eq!(nodes["producers"], json!([]));
}

#[test]
fn malformed_input_never_kills_the_server() {
    let lookupd = Lookupd::start(&[]);
    // A negative size panics Go's lookupd; we refuse it, as we do a huge one.
    let mut s = connect(&lookupd);
    s.write_all(b"  V1IDENTIFY\n\xff\xff\xff\xf0").unwrap();
    let text = read_text(&mut s);
    assert!(text.starts_with("E_BAD_BODY IDENTIFY "), "{text}");
    expect_closed(&mut s);
    let mut s = connect(&lookupd);
    s.write_all(b"  V1IDENTIFY\n\x7f\xff\xff\xff").unwrap();
    let text = read_text(&mut s);
    assert!(text.starts_with("E_BAD_BODY IDENTIFY "), "{text}");
    expect_closed(&mut s);
    // Garbage, with and without the magic; bad magic; a truncated body; a bare close.
    let mut seed = 0x2545_f491_4f6c_dd1du64;
    for round in 0..40usize {
        let mut bytes = match round % 4 {
            0 => b"  V1".to_vec(),
            1 => b"  V1IDENTIFY\n\0\0\x01\0{".to_vec(),
            2 => Vec::new(),
            _ => b"  V1REGISTER t\n".to_vec(),
        };
        for _ in 0..round * 13 % 300 {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            bytes.push(seed as u8);
        }
        let mut s = connect(&lookupd);
        let _ = s.write_all(&bytes);
        let _ = s.shutdown(Shutdown::Write);
        let mut sink = Vec::new();
        let _ = s.read_to_end(&mut sink);
    }
    let mut s = connect(&lookupd);
    s.write_all(b"  V").unwrap();
    drop(s);
    // A good nsqd still works, over TCP and HTTP.
    let mut s = identified(&lookupd);
    s.write_all(b"REGISTER alive\n").unwrap();
    assert_eq!(read_text(&mut s), "OK");
    assert_eq!(lookup(&lookupd, "alive").0, 200);
    assert_eq!(http(lookupd.http, "GET", "/ping", b"").text(), "OK");
}
