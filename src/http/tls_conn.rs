//! One HTTPS connection's TLS layer: a [`crate::tls::ServerSession`] between the
//! socket buffers the event loop owns and the HTTP parser. Received bytes are fed
//! through it and the plaintext kept here for the parser; responses are encrypted
//! straight onto the connection's output. Handshake answers and alerts go onto the
//! same output, so the loop flushes them like any response. It never blocks and never
//! panics on what a peer sends: a TLS error is an `Err` that closes this connection.

use crate::tls::{ServerSession, ServerTls};

/// What Go's `net/http` answers a plain HTTP request sent to an HTTPS listener.
const PLAIN_HTTP_ANSWER: &[u8] =
    b"HTTP/1.0 400 Bad Request\r\n\r\nClient sent an HTTP request to an HTTPS server.\n";

/// The first five bytes Go recognises as a plain HTTP request (`looksLikeHTTP`).
const HTTP_STARTS: [&[u8; 5]; 5] = [b"GET /", b"HEAD ", b"POST ", b"PUT /", b"OPTIO"];

/// A plaintext buffer left empty keeps at most this much capacity.
const IDLE_BUFFER: usize = 4096;

/// The TLS state of one connection and the plaintext it has decrypted.
#[derive(Debug)]
pub struct TlsConn {
    session: ServerSession,
    /// Decrypted bytes the HTTP parser has not consumed yet.
    pub plain: Vec<u8>,
    /// The first bytes the peer sent (up to five, held back from the session until
    /// all five are here), to recognise plain HTTP.
    first: Vec<u8>,
}

impl TlsConn {
    /// A connection waiting for the client's hello.
    pub fn new(tls: &ServerTls) -> Result<TlsConn, String> {
        Ok(TlsConn {
            session: ServerSession::new(tls)?,
            plain: Vec::new(),
            first: Vec::new(),
        })
    }

    /// Feeds bytes received from the peer: their plaintext lands in [`TlsConn::plain`],
    /// whatever must be sent back (handshake, alerts) onto `wire`. `Ok(true)` means the
    /// peer sent close_notify. On `Err` the connection is broken; `wire` holds the alert
    /// to send before closing (or Go's plain `400` when the peer spoke plain HTTP).
    pub fn feed(&mut self, raw: &[u8], wire: &mut Vec<u8>) -> Result<bool, String> {
        // As Go, the first five bytes (a record header) are looked at before anything
        // is parsed, so plain HTTP is recognised however its first bytes were split.
        let held: Vec<u8>;
        let mut raw = raw;
        if self.first.len() < 5 {
            let take = (5 - self.first.len()).min(raw.len());
            self.first.extend_from_slice(&raw[..take]);
            if self.first.len() < 5 {
                return Ok(false);
            }
            held = [&self.first[..], &raw[take..]].concat();
            raw = &held;
        }
        let before = wire.len();
        match self.session.read(raw, &mut self.plain, wire) {
            Ok(closed) => Ok(closed),
            Err(e) => {
                if self.session.is_handshaking() && self.looks_like_http() {
                    wire.truncate(before);
                    wire.extend_from_slice(PLAIN_HTTP_ANSWER);
                }
                Err(e)
            }
        }
    }

    fn looks_like_http(&self) -> bool {
        HTTP_STARTS.iter().any(|s| self.first == s[..])
    }

    /// Encrypts `plain` onto `wire` (held by the session until the handshake ends).
    pub fn send(&mut self, plain: &[u8], wire: &mut Vec<u8>) {
        self.session.write(plain, wire);
    }

    /// Queues close_notify onto `wire` when the handshake has finished (before that
    /// there is nothing to close politely).
    pub fn close(&mut self, wire: &mut Vec<u8>) {
        if !self.session.is_handshaking() {
            self.session.close(wire);
        }
    }

    /// Gives back the plaintext buffer's memory once the parser has consumed it all.
    pub fn shrink(&mut self) {
        if self.plain.is_empty() && self.plain.capacity() > IDLE_BUFFER {
            self.plain = Vec::new();
        }
    }
}

#[cfg(all(test, feature = "tls"))]
mod tests {
    use super::*;
    use std::sync::Arc;

    /// A server configuration over a fresh self-signed certificate for `localhost`,
    /// and a client trusting it.
    fn pair(tag: &str) -> (ServerTls, Arc<rustls::ClientConfig>) {
        let key = rcgen::KeyPair::generate().unwrap();
        let params = rcgen::CertificateParams::new(vec!["localhost".into()]).unwrap();
        let cert = params.self_signed(&key).unwrap();
        let dir =
            std::env::temp_dir().join(format!("nsq-rs-tls-conn-{}-{tag}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let (cert_path, key_path) = (dir.join("cert.pem"), dir.join("key.pem"));
        std::fs::write(&cert_path, cert.pem()).unwrap();
        std::fs::write(&key_path, key.serialize_pem()).unwrap();
        let spec = crate::tls::ServerSpec {
            cert: cert_path.display().to_string(),
            key: key_path.display().to_string(),
            ..Default::default()
        };
        let server = ServerTls::new(&spec).unwrap();
        let _ = std::fs::remove_dir_all(&dir);
        let mut roots = rustls::RootCertStore::empty();
        roots.add(cert.der().clone()).unwrap();
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let client = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_root_certificates(roots)
            .with_no_client_auth();
        (server, Arc::new(client))
    }

    /// Moves the client's pending bytes into `conn`, and `conn`'s answer back.
    fn exchange(client: &mut rustls::ClientConnection, conn: &mut TlsConn) {
        let mut raw = Vec::new();
        while client.wants_write() {
            client.write_tls(&mut raw).unwrap();
        }
        let mut wire = Vec::new();
        assert!(!conn.feed(&raw, &mut wire).unwrap());
        let mut back = &wire[..];
        while !back.is_empty() {
            client.read_tls(&mut back).unwrap();
            client.process_new_packets().unwrap();
        }
    }

    #[test]
    fn a_request_and_its_answer_cross_the_layer() {
        use std::io::{Read, Write};
        let (server, client_config) = pair("roundtrip");
        let mut conn = TlsConn::new(&server).unwrap();
        let name = rustls::pki_types::ServerName::try_from("localhost").unwrap();
        let mut client = rustls::ClientConnection::new(client_config, name).unwrap();
        client
            .writer()
            .write_all(b"GET /ping HTTP/1.1\r\n\r\n")
            .unwrap();
        for _ in 0..4 {
            exchange(&mut client, &mut conn);
        }
        assert!(!client.is_handshaking());
        assert_eq!(conn.plain, b"GET /ping HTTP/1.1\r\n\r\n");
        let mut wire = Vec::new();
        conn.send(b"HTTP/1.1 200 OK\r\n\r\n", &mut wire);
        conn.close(&mut wire);
        let mut back = &wire[..];
        while !back.is_empty() {
            client.read_tls(&mut back).unwrap();
        }
        let state = client.process_new_packets().unwrap();
        assert!(state.peer_has_closed());
        let mut got = Vec::new();
        let _ = client.reader().read_to_end(&mut got);
        assert_eq!(got, b"HTTP/1.1 200 OK\r\n\r\n");
    }

    #[test]
    fn garbage_is_an_error_and_plain_http_gets_go_s_400() {
        let (server, _) = pair("garbage");
        let mut conn = TlsConn::new(&server).unwrap();
        let mut wire = Vec::new();
        assert!(conn.feed(&[0xff; 64], &mut wire).is_err());
        // Byte by byte: held until a record header is complete.
        let mut conn = TlsConn::new(&server).unwrap();
        assert!(!conn.feed(&[0xff], &mut wire).unwrap());
        assert!(!conn.feed(&[0xff; 3], &mut wire).unwrap());
        assert!(conn.feed(&[0xff], &mut wire).is_err());

        let mut conn = TlsConn::new(&server).unwrap();
        let mut wire = Vec::new();
        // Split across reads: the first five bytes are still recognised.
        assert!(!conn.feed(b"GE", &mut wire).unwrap());
        assert!(conn.feed(b"T /ping HTTP/1.1\r\n\r\n", &mut wire).is_err());
        assert_eq!(wire, PLAIN_HTTP_ANSWER);
        assert!(conn.plain.is_empty());
    }
}
