//! Certificates made by the test itself (rcgen; no key is committed) and a raw V2
//! client over TLS (rustls), for the TLS tests of nsqd, its HTTPS listener and the
//! tools. Every file lives in a temp dir of its own.

use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// A certificate authority and what it signed, as PEM files in `dir`.
pub struct Pki {
    /// The directory holding the files.
    pub dir: PathBuf,
    /// The CA certificate (`--tls-root-ca-file`).
    pub ca: PathBuf,
    /// nsqd's certificate for `localhost` and `127.0.0.1`, and its key.
    pub server_cert: PathBuf,
    pub server_key: PathBuf,
    /// A client certificate with subject CN `test-client`, and its key.
    pub client_cert: PathBuf,
    pub client_key: PathBuf,
    ca_key: KeyPair,
    ca_params: CertificateParams,
}

fn ca_params(name: &str) -> CertificateParams {
    let mut params = CertificateParams::new(Vec::<String>::new()).expect("ca params");
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.distinguished_name.push(DnType::CommonName, name);
    params
}

impl Pki {
    /// A fresh CA in a temp dir, a server certificate and a client certificate.
    pub fn new(tag: &str) -> Pki {
        let dir = super::temp_dir(&format!("tls-{tag}"));
        let ca_key = KeyPair::generate().expect("ca key");
        let ca_params = ca_params("nsq-rs test CA");
        let ca_cert = ca_params.self_signed(&ca_key).expect("ca cert");
        let ca = dir.join("ca.pem");
        std::fs::write(&ca, ca_cert.pem()).expect("write ca");
        let mut pki = Pki {
            server_cert: dir.join("server.pem"),
            server_key: dir.join("server.key"),
            client_cert: dir.join("client.pem"),
            client_key: dir.join("client.key"),
            dir,
            ca,
            ca_key,
            ca_params,
        };
        let names = vec!["localhost".to_string(), "127.0.0.1".to_string()];
        let (cert, key) = (pki.server_cert.clone(), pki.server_key.clone());
        pki.sign(names, "localhost", &cert, &key);
        let (cert, key) = (pki.client_cert.clone(), pki.client_key.clone());
        pki.sign(vec!["test-client".to_string()], "test-client", &cert, &key);
        pki
    }

    /// Signs a new certificate with subject CN `cn` into `cert` and `key`.
    pub fn sign(&mut self, names: Vec<String>, cn: &str, cert: &Path, key: &Path) {
        let mut params = CertificateParams::new(names).expect("params");
        params.distinguished_name.push(DnType::CommonName, cn);
        let leaf_key = KeyPair::generate().expect("leaf key");
        let issuer = Issuer::from_params(&self.ca_params, &self.ca_key);
        let leaf = params.signed_by(&leaf_key, &issuer).expect("sign");
        std::fs::write(cert, leaf.pem()).expect("write cert");
        std::fs::write(key, leaf_key.serialize_pem()).expect("write key");
    }

    /// The nsqd flags that turn TLS on with this PKI's server certificate.
    pub fn server_args(&self) -> Vec<String> {
        vec![
            format!("--tls-cert={}", self.server_cert.display()),
            format!("--tls-key={}", self.server_key.display()),
        ]
    }

    /// A client trusting this CA but presenting `other`'s client certificate.
    pub fn client_config_with_cert_of(&self, other: &Pki) -> Arc<rustls::ClientConfig> {
        let cert = (&*other.client_cert, &*other.client_key);
        client_config(&self.ca, Some(cert), false)
    }

    /// A rustls server configuration with this PKI's server certificate (for fake
    /// HTTPS servers in tests).
    pub fn server_config(&self) -> Arc<rustls::ServerConfig> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let chain = CertificateDer::pem_file_iter(&self.server_cert)
            .expect("read cert")
            .map(|c| c.expect("cert pem"))
            .collect();
        let key = PrivateKeyDer::from_pem_file(&self.server_key).expect("read key");
        let config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .expect("versions")
            .with_no_client_auth()
            .with_single_cert(chain, key)
            .expect("server cert");
        Arc::new(config)
    }

    /// A rustls client configuration trusting this CA, with the client certificate
    /// when `with_cert`, offering only TLS 1.2 when `tls12_only`.
    pub fn client_config(&self, with_cert: bool, tls12_only: bool) -> Arc<rustls::ClientConfig> {
        client_config(
            &self.ca,
            with_cert.then(|| (&*self.client_cert, &*self.client_key)),
            tls12_only,
        )
    }
}

impl Drop for Pki {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A rustls client configuration trusting the CA in `ca`, presenting `cert` (PEM
/// certificate and key files) when given.
pub fn client_config(
    ca: &Path,
    cert: Option<(&Path, &Path)>,
    tls12_only: bool,
) -> Arc<rustls::ClientConfig> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut roots = rustls::RootCertStore::empty();
    for c in CertificateDer::pem_file_iter(ca).expect("read ca") {
        roots.add(c.expect("ca pem")).expect("add ca");
    }
    let versions: &[&rustls::SupportedProtocolVersion] = if tls12_only {
        &[&rustls::version::TLS12]
    } else {
        rustls::ALL_VERSIONS
    };
    let builder = rustls::ClientConfig::builder_with_provider(provider)
        .with_protocol_versions(versions)
        .expect("versions")
        .with_root_certificates(roots);
    let config = match cert {
        Some((cert, key)) => {
            let chain = CertificateDer::pem_file_iter(cert)
                .expect("read cert")
                .map(|c| c.expect("cert pem"))
                .collect();
            let key = PrivateKeyDer::from_pem_file(key).expect("read key");
            builder
                .with_client_auth_cert(chain, key)
                .expect("client cert")
        }
        None => builder.with_no_client_auth(),
    };
    Arc::new(config)
}

/// A blocking TLS stream to `localhost` over `tcp` (the V2 upgrade: call it after
/// reading IDENTIFY's JSON reply). The handshake runs on first use.
pub fn wrap(
    config: Arc<rustls::ClientConfig>,
    tcp: std::net::TcpStream,
) -> rustls::StreamOwned<rustls::ClientConnection, std::net::TcpStream> {
    let name = ServerName::try_from("localhost").expect("server name");
    let conn = rustls::ClientConnection::new(config, name).expect("client connection");
    rustls::StreamOwned::new(conn, tcp)
}

/// A raw V2 client on TLS, with compression on top when negotiated, as nsqd's
/// upgrade goes: magic and IDENTIFY plain, the JSON reply plain, then TLS.
pub struct TlsV2 {
    /// The TLS stream.
    pub stream: rustls::StreamOwned<rustls::ClientConnection, std::net::TcpStream>,
    codec: Option<nsq::compress::Codec>,
    /// Plaintext read but not yet consumed (decompressed once compression is on).
    buf: Vec<u8>,
}

/// Connects to `addr`, sends the magic and IDENTIFY `json` (which should ask
/// `tls_v1`), reads the plain JSON reply and returns it with the stream still plain.
pub fn identify_plain(
    addr: std::net::SocketAddr,
    json: &str,
) -> (std::net::TcpStream, serde_json::Value) {
    use std::io::{Read, Write};
    let mut tcp = std::net::TcpStream::connect(addr).expect("connect");
    tcp.set_read_timeout(Some(super::WAIT)).expect("timeout");
    tcp.write_all(b"  V2").expect("magic");
    tcp.write_all(&super::command_bytes("IDENTIFY", Some(json.as_bytes())))
        .expect("identify");
    let mut header = [0u8; 8];
    tcp.read_exact(&mut header).expect("identify reply");
    let size = i32::from_be_bytes([header[0], header[1], header[2], header[3]]);
    let mut data = vec![0u8; size as usize - 4];
    tcp.read_exact(&mut data).expect("identify reply body");
    assert_eq!(
        &header[4..],
        &[0, 0, 0, 0],
        "IDENTIFY failed: {}",
        String::from_utf8_lossy(&data)
    );
    let json = serde_json::from_slice(&data).expect("identify reply json");
    (tcp, json)
}

impl TlsV2 {
    /// IDENTIFY asking for TLS (and what `extra` adds, e.g. `,"snappy":true`), the
    /// handshake with `config`, and the `OK` inside TLS; the JSON reply is returned.
    pub fn connect(
        addr: std::net::SocketAddr,
        config: Arc<rustls::ClientConfig>,
        extra: &str,
    ) -> (TlsV2, serde_json::Value) {
        let json = format!(
            r#"{{"feature_negotiation":true,"tls_v1":true,"client_id":"tls-test"{extra}}}"#
        );
        let (tcp, reply) = identify_plain(addr, &json);
        assert_eq!(reply["tls_v1"], true, "nsqd did not grant TLS: {reply}");
        let mut c = TlsV2 {
            stream: wrap(config, tcp),
            codec: None,
            buf: Vec::new(),
        };
        c.expect_response("OK");
        (c, reply)
    }

    /// Turns compression on (after the JSON granted it) and reads its `OK`.
    pub fn compress(&mut self, codec: nsq::compress::Codec) {
        let mut codec = codec;
        let mut plain = Vec::new();
        codec
            .decode(&std::mem::take(&mut self.buf), &mut plain)
            .expect("decode");
        self.buf = plain;
        self.codec = Some(codec);
        self.expect_response("OK");
    }

    /// Writes raw command bytes (compressed when compression is on).
    pub fn send(&mut self, bytes: &[u8]) {
        use std::io::Write;
        let wire = match self.codec.as_mut() {
            Some(codec) => {
                let mut out = Vec::new();
                codec.encode(bytes, &mut out);
                out
            }
            None => bytes.to_vec(),
        };
        self.stream.write_all(&wire).expect("send");
        self.stream.flush().expect("flush");
    }

    /// `line\n` and, if given, the size and body.
    pub fn command(&mut self, line: &str, body: Option<&[u8]>) {
        self.send(&super::command_bytes(line, body));
    }

    /// Reads one frame (heartbeats answered and skipped); an error when the
    /// connection ends.
    pub fn try_frame(&mut self) -> Result<super::Frame, String> {
        use std::io::Read;
        loop {
            if self.buf.len() >= 8 {
                let size = i32::from_be_bytes([self.buf[0], self.buf[1], self.buf[2], self.buf[3]])
                    as usize;
                if self.buf.len() >= 4 + size {
                    let frame_type =
                        i32::from_be_bytes([self.buf[4], self.buf[5], self.buf[6], self.buf[7]]);
                    let data = self.buf[8..4 + size].to_vec();
                    self.buf.drain(..4 + size);
                    if frame_type == 0 && data == b"_heartbeat_" {
                        self.send(b"NOP\n");
                        continue;
                    }
                    return Ok(super::Frame { frame_type, data });
                }
            }
            let mut chunk = [0u8; 16 * 1024];
            let n = self.stream.read(&mut chunk).map_err(|e| e.to_string())?;
            if n == 0 {
                return Err("closed".into());
            }
            match self.codec.as_mut() {
                Some(codec) => codec
                    .decode(&chunk[..n], &mut self.buf)
                    .map_err(|e| e.to_string())?,
                None => self.buf.extend_from_slice(&chunk[..n]),
            }
        }
    }

    /// The next frame; the test fails if the connection ends.
    pub fn frame(&mut self) -> super::Frame {
        self.try_frame().unwrap_or_else(|e| panic!("no frame: {e}"))
    }

    /// Expects a response frame with exactly `text`.
    pub fn expect_response(&mut self, text: &str) {
        let f = self.frame();
        assert_eq!((f.frame_type, f.text()), (0, text.to_string()));
    }

    /// Reads the next message.
    pub fn message(&mut self) -> super::Msg {
        let f = self.frame();
        assert_eq!(f.frame_type, 2, "expected a message, got {:?}", f.text());
        super::decode_message(&f.data)
    }
}
