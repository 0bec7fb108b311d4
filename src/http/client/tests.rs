//! Unit tests of the HTTP client, against fake servers on loopback sockets.

use super::*;
use std::io::{self, ErrorKind, Read, Write};
use std::net::TcpListener;
use std::thread::{self, JoinHandle};
use std::time::Duration;

/// A generous deadline: it only turns a hang into a failure.
const T: Duration = Duration::from_secs(30);

/// Reads one request from a test server's socket: the head and a Content-Length
/// body (shared with other modules' fake servers).
pub(crate) fn read_request(s: &mut std::net::TcpStream) -> Vec<u8> {
    s.set_read_timeout(Some(T)).unwrap();
    let mut req = Vec::new();
    let mut byte = [0u8; 1];
    while !req.ends_with(b"\r\n\r\n") && s.read(&mut byte).unwrap() == 1 {
        req.push(byte[0]);
    }
    let head = String::from_utf8_lossy(&req).to_ascii_lowercase();
    let len: usize = head
        .lines()
        .find_map(|l| l.strip_prefix("content-length: "))
        .map_or(0, |v| v.trim().parse().unwrap());
    let mut body = vec![0u8; len];
    s.read_exact(&mut body).unwrap();
    req.extend_from_slice(&body);
    req
}

/// A one-connection server on 127.0.0.1:0: reads the request head (and a
/// Content-Length body), writes `reply`, closes; joins to the request bytes.
fn serve(reply: &'static [u8]) -> (String, JoinHandle<Vec<u8>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    let handle = thread::spawn(move || {
        let (mut s, _) = listener.accept().unwrap();
        let req = read_request(&mut s);
        s.write_all(reply).unwrap();
        req
    });
    (addr, handle)
}

fn get_from(reply: &'static [u8]) -> io::Result<Response> {
    let (addr, server) = serve(reply);
    let result = get(&format!("http://{addr}/ping"), T);
    server.join().unwrap();
    result
}

#[test]
fn content_length_body_and_request_shape() {
    let (addr, server) = serve(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhelloEXTRA");
    let r = get(&format!("{addr}/stats?format=json"), T).unwrap();
    assert_eq!(
        r,
        Response {
            status: 200,
            body: b"hello".to_vec(),
            location: None,
        }
    );
    let req = String::from_utf8(server.join().unwrap()).unwrap();
    assert!(
        req.starts_with("GET /stats?format=json HTTP/1.1\r\n"),
        "{req}"
    );
    assert!(req.contains(&format!("\r\nHost: {addr}\r\n")), "{req}");
    assert!(req.contains("\r\nConnection: close\r\n"), "{req}");
    assert!(req.contains("\r\nAccept: application/vnd.nsq; version=1.0\r\n"));
    assert!(!req.contains("Content-Length"), "{req}");
}

#[test]
fn chunked_body_with_extensions_and_trailers() {
    let r = get_from(
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n\
          5;ext=1\r\nhello\r\n6\r\n world\r\n0\r\nX-Trailer: y\r\n\r\n",
    )
    .unwrap();
    assert_eq!((r.status, r.body), (200, b"hello world".to_vec()));
}

#[test]
fn body_until_eof() {
    let r = get_from(b"HTTP/1.1 404 Not Found\r\nX-A: b\r\n\r\nnot here").unwrap();
    assert_eq!((r.status, r.body), (404, b"not here".to_vec()));
}

#[test]
fn interim_100_continue_is_skipped() {
    let r = get_from(b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 204 No Content\r\n\r\n").unwrap();
    assert_eq!((r.status, r.body), (204, Vec::new()));
}

#[test]
fn post_sends_body_with_length() {
    let (addr, server) = serve(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nOK");
    let r = post(&format!("http://{addr}/pub?topic=t"), b"msg", T).unwrap();
    assert_eq!((r.status, r.body), (200, b"OK".to_vec()));
    let req = String::from_utf8(server.join().unwrap()).unwrap();
    assert!(req.starts_with("POST /pub?topic=t HTTP/1.1\r\n"), "{req}");
    assert!(req.contains("\r\nContent-Length: 3\r\n"), "{req}");
    assert!(req.ends_with("\r\n\r\nmsg"), "{req}");
}

#[test]
fn early_answer_to_an_unread_body_is_returned() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    let server = thread::spawn(move || {
        let (mut s, _) = listener.accept().unwrap();
        s.write_all(b"HTTP/1.1 413 Payload Too Large\r\nContent-Length: 3\r\n\r\nbig")
            .unwrap();
        // Read a little, then close with most of the body unread.
        let _ = s.read(&mut [0u8; 1024]);
    });
    let body = vec![b'x'; 8 << 20];
    let r = post(&format!("{addr}/pub?topic=t"), &body, T).unwrap();
    assert_eq!((r.status, r.body), (413, b"big".to_vec()));
    server.join().unwrap();
}

#[test]
fn malformed_responses_are_errors() {
    let cases: [(&'static [u8], ErrorKind); 7] = [
        (b"garbage\r\n\r\n", ErrorKind::InvalidData),
        (
            b"HTTP/1.1 200 OK\r\nContent-Length: x\r\n\r\n",
            ErrorKind::InvalidData,
        ),
        (
            b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab",
            ErrorKind::InvalidData,
        ),
        (
            b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc",
            ErrorKind::UnexpectedEof,
        ),
        (
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
            ErrorKind::InvalidData,
        ),
        (
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabcd\r\n0\r\n\r\n",
            ErrorKind::InvalidData,
        ),
        (b"HTTP/1.1 200 OK\r\nContent-", ErrorKind::UnexpectedEof),
    ];
    for (reply, kind) in cases {
        let err = get_from(reply).unwrap_err();
        assert_eq!(
            err.kind(),
            kind,
            "{:?}: {err}",
            String::from_utf8_lossy(reply)
        );
    }
}

#[test]
fn oversized_bodies_are_refused() {
    let err = get_from(b"HTTP/1.1 200 OK\r\nContent-Length: 67108865\r\n\r\n").unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidData);
    let err =
        get_from(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nFFFFFFFFFFFFFFFF\r\n")
            .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidData);
    let err =
        get_from(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1FFFFFFFFFFFFFFFFFF\r\n")
            .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidData);
}

/// A server that accepts and never answers: the request fails with `TimedOut`, and
/// a generous connect timeout does not stretch the total deadline. The server keeps
/// the connection open until the client has given up, so only the client's own
/// deadline can end the request; with the connect timeout of an hour as the limit
/// instead, the [`T`] wait below turns the hang into a failure.
#[test]
fn silent_server_times_out() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    let (gave_up, client_done) = std::sync::mpsc::channel::<()>();
    let server = thread::spawn(move || {
        let (s, _) = listener.accept().unwrap();
        let _ = client_done.recv_timeout(T + T);
        drop(s);
    });
    let timeouts = Timeouts {
        connect: Duration::from_secs(3600),
        total: Duration::from_millis(200),
    };
    let (result_tx, result_rx) = std::sync::mpsc::channel();
    thread::spawn(move || {
        let _ = result_tx.send(get(&addr, timeouts));
    });
    let result = result_rx
        .recv_timeout(T)
        .expect("the total deadline ends the request, not the connect timeout");
    gave_up.send(()).unwrap();
    let err = result.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::TimedOut, "{err}");
    server.join().unwrap();
    assert_eq!(
        Timeouts::from(T),
        Timeouts {
            connect: T,
            total: T
        }
    );
}

#[test]
fn refused_connection_is_an_error() {
    let addr = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    assert!(get(&addr.to_string(), T).is_err());
}

#[test]
fn bad_requests_are_refused_before_connecting() {
    let bad = [
        request("GE T", "127.0.0.1:1", "/", &[], &[], T),
        request("GET", "127.0.0.1:1", "/a b", &[], &[], T),
        request("GET", "127.0.0.1:1", "/", &[("X", "a\r\nB: c")], &[], T),
        request("GET", "127.0.0.1:1", "/", &[("X:Y", "v")], &[], T),
        get("ftp://127.0.0.1:1/", T),
    ];
    for result in bad {
        assert_eq!(result.unwrap_err().kind(), ErrorKind::InvalidInput);
    }
}

#[test]
fn split_url_forms() {
    let ok = |a: &str, d: &str| split_url(a, d).unwrap();
    let pair = |h: &str, p: &str| (h.to_string(), p.to_string());
    assert_eq!(ok("127.0.0.1:4151", "/"), pair("127.0.0.1:4151", "/"));
    assert_eq!(ok("http://h:4161", "/lookup"), pair("h:4161", "/lookup"));
    assert_eq!(ok("HTTP://h:1/", "/x"), pair("h:1", "/"));
    assert_eq!(
        ok("http://h:1/stats?format=json&topic=t#frag", "/"),
        pair("h:1", "/stats?format=json&topic=t")
    );
    assert_eq!(ok("h:1?topic=t", "/lookup"), pair("h:1", "/lookup?topic=t"));
    assert_eq!(ok("h:1?b=2", "/s?a=1"), pair("h:1", "/s?a=1&b=2"));
    assert_eq!(
        ok("http://example.com/p", "/"),
        pair("example.com:80", "/p")
    );
    assert_eq!(ok("[::1]:4151", "/"), pair("[::1]:4151", "/"));
    assert_eq!(ok("[::1]", "/"), pair("[::1]:80", "/"));
    let err = split_url("https://h:4152/stats", "/").unwrap_err();
    assert!(err.contains("https is not supported"), "{err}");
    let target = parse_url("https://h/stats", "/").unwrap();
    assert_eq!(
        target,
        Target {
            https: true,
            host_port: "h:443".into(),
            path: "/stats".into()
        }
    );
    assert!(!parse_url("HTTP://h:1/", "/").unwrap().https);
    if !crate::tls::ENABLED {
        let e = get("https://127.0.0.1:1/", T).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidInput);
        assert!(e.to_string().contains("no TLS"), "{e}");
    }
    for bad in [
        "",
        "http://",
        "/path",
        "ftp://h:1",
        "h:1/a b",
        "h:1\r\nX: y",
    ] {
        assert!(split_url(bad, "/").is_err(), "{bad:?}");
    }
}

#[test]
fn escapes_and_joins_like_go() {
    assert_eq!(query_escape("t#ephemeral"), "t%23ephemeral");
    assert_eq!(query_escape("a b&c=d"), "a+b%26c%3Dd");
    assert_eq!(query_escape("ok.-_~9"), "ok.-_~9");
    assert_eq!(join_host_port("::1", 4150), "[::1]:4150");
    assert_eq!(join_host_port("127.0.0.1", 4151), "127.0.0.1:4151");
}

#[test]
fn failures_read_like_go() {
    let refused = io::Error::from(ErrorKind::ConnectionRefused);
    assert_eq!(
        go_reason(&refused, "127.0.0.1:4999"),
        "dial tcp 127.0.0.1:4999: connect: connection refused"
    );
    let late = io::Error::new(ErrorKind::TimedOut, "request timed out");
    assert!(go_reason(&late, "h:1").starts_with("net/http: timeout awaiting response headers"));
}

#[test]
fn a_redirect_gives_its_location() {
    let (addr, server) = serve(
        b"HTTP/1.1 307 Temporary Redirect\r\nlocation: /new?a=1 \r\nContent-Length: 0\r\n\r\n",
    );
    let r = get(&format!("{addr}/old"), T).unwrap();
    assert_eq!((r.status, r.location.as_deref()), (307, Some("/new?a=1")));
    server.join().unwrap();
}
