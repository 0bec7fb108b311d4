//! A TLS client: [`ClientTls`], the configuration built once from a [`ClientSpec`]
//! (root CAs, an optional client certificate, the lowest version, or no verification
//! at all), and a blocking connection split in two halves for the V2 client, whose
//! reader and writer run on different threads: [`ClientReader`] reads the socket
//! without holding any lock and only locks to decrypt, [`ClientWriter`] locks to
//! encrypt and send. Both send TLS records under the same lock, so records leave in
//! the order rustls numbered them (alerts and key updates included).
//!
//! With no `root_ca` and no `insecure_skip_verify`, the system's CA bundle is used:
//! `$SSL_CERT_FILE`, or the first of the files Go's `crypto/x509` looks for on Linux.

use super::files::{load_certs, load_key, load_roots, provider, system_roots, versions};
use super::ClientSpec;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::WebPkiSupportedAlgorithms;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{ClientConnection, DigitallySignedStruct, SignatureScheme};
use std::io::{self, ErrorKind, Read, Write};
use std::net::TcpStream;
use std::sync::{Arc, Mutex, MutexGuard};

/// A client configuration, cheap to clone; one per program (or per [`ClientSpec`]).
///
/// ```no_run
/// use nsq::tls::{ClientSpec, ClientTls};
///
/// let spec = ClientSpec { root_ca: "ca.pem".into(), ..ClientSpec::default() };
/// let tls = ClientTls::new(&spec)?;
/// let tcp = std::net::TcpStream::connect("127.0.0.1:4150")?;
/// let (mut reader, writer) = tls.handshake("127.0.0.1:4150", &tcp, &[])?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone)]
pub struct ClientTls(Arc<rustls::ClientConfig>);

impl std::fmt::Debug for ClientTls {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ClientTls")
    }
}

impl ClientTls {
    /// Builds the configuration `spec` describes; the error is one line naming the
    /// file or setting at fault. A client certificate needs both `cert` and `key`.
    pub fn new(spec: &ClientSpec) -> Result<ClientTls, String> {
        let provider = provider();
        let builder = rustls::ClientConfig::builder_with_provider(provider.clone())
            .with_protocol_versions(versions(spec.min_version))
            .map_err(|e| format!("TLS: {e}"))?;
        let builder = if spec.insecure_skip_verify {
            let verifier = AnyServerCert(provider.signature_verification_algorithms);
            builder
                .dangerous()
                .with_custom_certificate_verifier(Arc::new(verifier))
        } else if spec.root_ca.is_empty() {
            builder.with_root_certificates(system_roots()?)
        } else {
            builder.with_root_certificates(load_roots(&spec.root_ca)?)
        };
        let config = match (spec.cert.is_empty(), spec.key.is_empty()) {
            (true, true) => builder.with_no_client_auth(),
            (false, false) => builder
                .with_client_auth_cert(load_certs(&spec.cert)?, load_key(&spec.key)?)
                .map_err(|e| {
                    format!(
                        "failed to load key pair {:?} {:?}: {e}",
                        spec.cert, spec.key
                    )
                })?,
            _ => return Err("tls_cert and tls_key must be given together".into()),
        };
        Ok(ClientTls(Arc::new(config)))
    }

    /// Runs the client handshake on `sock` (blocking, within the socket's read and
    /// write timeouts) with the server named by the host of `host_port` (an IP
    /// address is checked against the certificate's IP names). `early` holds bytes
    /// already read from the socket after the plaintext part of the protocol.
    ///
    /// The error says `TLS handshake with <host_port>: ...`; its kind is `TimedOut`
    /// past a socket timeout, `UnexpectedEof` when the server closed, `InvalidData`
    /// when TLS itself failed (an untrusted certificate, no common version).
    pub fn handshake(
        &self,
        host_port: &str,
        sock: &TcpStream,
        early: &[u8],
    ) -> io::Result<(ClientReader, ClientWriter)> {
        let fail = |e: io::Error| handshake_error(host_port, e);
        let name =
            server_name(host_port).map_err(|e| io::Error::new(ErrorKind::InvalidInput, e))?;
        let mut conn = ClientConnection::new(self.0.clone(), name)
            .map_err(|e| fail(io::Error::new(ErrorKind::InvalidData, e)))?;
        // Everything written is sent at once, so nothing piles up inside rustls.
        conn.set_buffer_limit(None);
        let mut shared = Shared {
            conn,
            sock: sock.try_clone()?,
        };
        let mut plain = Vec::new();
        shared.feed(early, &mut plain).map_err(fail)?;
        let mut raw = vec![0u8; 16 * 1024];
        let mut reader_sock = sock.try_clone()?;
        while shared.conn.is_handshaking() {
            shared.flush().map_err(fail)?;
            if !shared.conn.is_handshaking() {
                break;
            }
            let n = match reader_sock.read(&mut raw) {
                Ok(0) => {
                    let closed = io::Error::new(ErrorKind::UnexpectedEof, "connection closed");
                    return Err(fail(closed));
                }
                Ok(n) => n,
                Err(e) if e.kind() == ErrorKind::Interrupted => continue,
                Err(e) => return Err(fail(e)),
            };
            shared.feed(&raw[..n], &mut plain).map_err(fail)?;
        }
        shared.flush().map_err(fail)?;
        let shared = Arc::new(Mutex::new(shared));
        let reader = ClientReader {
            shared: shared.clone(),
            sock: reader_sock,
            raw,
            plain,
            pos: 0,
        };
        Ok((reader, ClientWriter { shared }))
    }
}

/// `e` with the handshake and server named; a socket timeout becomes `TimedOut`.
fn handshake_error(host_port: &str, e: io::Error) -> io::Error {
    let kind = match e.kind() {
        ErrorKind::WouldBlock | ErrorKind::TimedOut => ErrorKind::TimedOut,
        kind => kind,
    };
    let what = if kind == ErrorKind::TimedOut {
        "timed out".to_string()
    } else {
        e.to_string()
    };
    io::Error::new(kind, format!("TLS handshake with {host_port}: {what}"))
}

/// The server name of `host_port` (`host:port`, `[v6]:port` or a bare host).
fn server_name(host_port: &str) -> Result<ServerName<'static>, String> {
    let host = match host_port.strip_prefix('[') {
        Some(v6) => v6.split(']').next().unwrap_or(v6),
        None => match host_port.rsplit_once(':') {
            Some((host, port)) if !host.contains(':') && !port.is_empty() => host,
            _ => host_port,
        },
    };
    ServerName::try_from(host.to_string())
        .map_err(|e| format!("invalid TLS server name {host:?}: {e}"))
}

/// The connection state both halves share, and a socket clone to send on.
struct Shared {
    conn: ClientConnection,
    sock: TcpStream,
}

impl Shared {
    /// Hands `raw` to rustls, moves the plaintext it carries onto `plain`, and sends
    /// what rustls must answer (handshake messages, alerts, key updates).
    fn feed(&mut self, mut raw: &[u8], plain: &mut Vec<u8>) -> io::Result<()> {
        while !raw.is_empty() {
            self.conn.read_tls(&mut raw)?;
            if let Err(e) = self.conn.process_new_packets() {
                // Tell the server why, when we can; the error is what matters.
                let _ = self.flush();
                return Err(io::Error::new(ErrorKind::InvalidData, e));
            }
            match self.conn.reader().read_to_end(plain) {
                Ok(_) => {}
                Err(e) if e.kind() == ErrorKind::WouldBlock => {}
                // UnexpectedEof: the socket's end is seen by the reader itself.
                Err(e) if e.kind() == ErrorKind::UnexpectedEof => {}
                Err(e) => return Err(e),
            }
        }
        self.flush()
    }

    /// Sends every TLS record rustls has queued.
    fn flush(&mut self) -> io::Result<()> {
        while self.conn.wants_write() {
            if self.conn.write_tls(&mut self.sock)? == 0 {
                return Err(ErrorKind::WriteZero.into());
            }
        }
        Ok(())
    }
}

fn lock(shared: &Mutex<Shared>) -> MutexGuard<'_, Shared> {
    shared.lock().unwrap_or_else(|p| p.into_inner())
}

/// The receiving half: plaintext from the server. `read` returns 0 when the server
/// ended the stream (close_notify, or the socket closing).
pub struct ClientReader {
    shared: Arc<Mutex<Shared>>,
    sock: TcpStream,
    raw: Vec<u8>,
    plain: Vec<u8>,
    pos: usize,
}

impl std::fmt::Debug for ClientReader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ClientReader")
    }
}

impl Read for ClientReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        loop {
            if self.pos < self.plain.len() {
                let n = buf.len().min(self.plain.len() - self.pos);
                buf[..n].copy_from_slice(&self.plain[self.pos..self.pos + n]);
                self.pos += n;
                if self.pos == self.plain.len() {
                    self.plain.clear();
                    self.pos = 0;
                }
                return Ok(n);
            }
            if buf.is_empty() || peer_closed(&mut lock(&self.shared).conn) {
                return Ok(0);
            }
            // Blocks without the lock: the writer keeps sending meanwhile.
            let n = match self.sock.read(&mut self.raw) {
                Ok(0) => return Ok(0),
                Ok(n) => n,
                Err(e) if e.kind() == ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            };
            lock(&self.shared).feed(&self.raw[..n], &mut self.plain)?;
        }
    }
}

/// True once the server's close_notify has been read (or the connection broke).
fn peer_closed(conn: &mut ClientConnection) -> bool {
    conn.process_new_packets()
        .map(|s| s.peer_has_closed())
        .unwrap_or(true)
}

/// The sending half; clones share the connection.
#[derive(Clone)]
pub struct ClientWriter {
    shared: Arc<Mutex<Shared>>,
}

impl std::fmt::Debug for ClientWriter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ClientWriter")
    }
}

impl ClientWriter {
    /// Encrypts `plain` and sends it whole (within the socket's write timeout).
    pub fn write_all(&self, plain: &[u8]) -> io::Result<()> {
        let mut shared = lock(&self.shared);
        shared.conn.writer().write_all(plain)?;
        shared.flush()
    }

    /// Sends a close_notify alert (best effort; the socket stays open).
    pub fn close_notify(&self) {
        let mut shared = lock(&self.shared);
        shared.conn.send_close_notify();
        let _ = shared.flush();
    }
}

/// `insecure_skip_verify`: any certificate is accepted, as Go's
/// `InsecureSkipVerify`; the handshake signature is still checked against it.
#[derive(Debug)]
struct AnyServerCert(WebPkiSupportedAlgorithms);

impl ServerCertVerifier for AnyServerCert {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.0)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.0)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.supported_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn server_names_from_addresses() {
        let dns = |s: &str| format!("{:?}", server_name(s).unwrap());
        assert!(dns("localhost:4150").contains("localhost"));
        assert!(dns("127.0.0.1:4150").contains("IpAddress"));
        assert!(dns("[::1]:4150").contains("IpAddress"));
        assert!(dns("nsqd.example").contains("nsqd.example"));
        assert!(server_name("bad name:1").is_err());
    }

    #[test]
    fn half_a_key_pair_and_missing_files_are_refused() {
        let spec = ClientSpec {
            cert: "client.pem".into(),
            insecure_skip_verify: true,
            ..ClientSpec::default()
        };
        let e = ClientTls::new(&spec).unwrap_err();
        assert!(e.contains("together"), "{e}");
        let spec = ClientSpec {
            root_ca: "/nonexistent/ca.pem".into(),
            ..ClientSpec::default()
        };
        let e = ClientTls::new(&spec).unwrap_err();
        assert!(e.contains("/nonexistent/ca.pem"), "{e}");
        let spec = ClientSpec {
            insecure_skip_verify: true,
            ..ClientSpec::default()
        };
        assert!(ClientTls::new(&spec).is_ok());
    }
}
