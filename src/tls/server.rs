//! A TLS server: [`ServerTls`], the configuration built once from PEM files and the
//! client-certificate policy, and [`ServerSession`], one connection's sans-IO state.
//! A session never touches a socket: the caller feeds it received bytes and sends
//! what it hands back, so an event loop can drive thousands without blocking.

use super::files::{load_certs, load_key, load_roots, provider, system_roots, versions};
use super::names::{cipher_suite_name, version_name};
use super::{cert_name, ClientAuth, ServerSpec, TlsInfo};
use rustls::client::danger::HandshakeSignatureValid;
use rustls::crypto::WebPkiSupportedAlgorithms;
use rustls::pki_types::{CertificateDer, UnixTime};
use rustls::server::danger::{ClientCertVerified, ClientCertVerifier};
use rustls::server::WebPkiClientVerifier;
use rustls::{DigitallySignedStruct, DistinguishedName, SignatureScheme};
use std::io::{Read, Write};
use std::sync::Arc;

/// A server configuration, cheap to clone; one per listener kind.
#[derive(Clone)]
pub struct ServerTls(Arc<rustls::ServerConfig>);

impl std::fmt::Debug for ServerTls {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ServerTls")
    }
}

impl ServerTls {
    /// Builds the configuration `spec` describes; the error is one line naming the
    /// file or setting at fault.
    pub fn new(spec: &ServerSpec) -> Result<ServerTls, String> {
        let provider = provider();
        let certs = load_certs(&spec.cert)?;
        let key = load_key(&spec.key)?;
        let builder = rustls::ServerConfig::builder_with_provider(provider.clone())
            .with_protocol_versions(versions(spec.min_version))
            .map_err(|e| format!("TLS: {e}"))?;
        let verifier: Arc<dyn ClientCertVerifier> = match spec.client_auth {
            ClientAuth::None => WebPkiClientVerifier::no_client_auth(),
            ClientAuth::Require => {
                Arc::new(AnyClientCert(provider.signature_verification_algorithms))
            }
            ClientAuth::RequireVerify => {
                // Without a root CA file, Go verifies against the system's CAs.
                let roots = Arc::new(match spec.root_ca.as_str() {
                    "" => system_roots()?,
                    path => load_roots(path)?,
                });
                WebPkiClientVerifier::builder_with_provider(roots, provider)
                    .build()
                    .map_err(|e| format!("failed to load root CA {:?}: {e}", spec.root_ca))?
            }
        };
        let config = builder
            .with_client_cert_verifier(verifier)
            .with_single_cert(certs, key)
            .map_err(|e| {
                format!(
                    "failed to load key pair {:?} {:?}: {e}",
                    spec.cert, spec.key
                )
            })?;
        Ok(ServerTls(Arc::new(config)))
    }
}

/// `--tls-client-auth-policy=require`: any certificate, as Go's `RequireAnyClientCert`;
/// the handshake signature still proves the client holds its key.
#[derive(Debug)]
struct AnyClientCert(WebPkiSupportedAlgorithms);

impl ClientCertVerifier for AnyClientCert {
    fn root_hint_subjects(&self) -> &[DistinguishedName] {
        &[]
    }

    fn verify_client_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _now: UnixTime,
    ) -> Result<ClientCertVerified, rustls::Error> {
        Ok(ClientCertVerified::assertion())
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

/// One connection's server-side TLS state, sans-IO.
pub struct ServerSession(Box<rustls::ServerConnection>);

impl std::fmt::Debug for ServerSession {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ServerSession")
    }
}

impl ServerSession {
    /// A session waiting for the client's hello.
    pub fn new(tls: &ServerTls) -> Result<ServerSession, String> {
        let mut conn = rustls::ServerConnection::new(tls.0.clone()).map_err(|e| e.to_string())?;
        // What is written is handed out at once (`write`), so the only plaintext kept
        // is what waits for the handshake to end: a few frames.
        conn.set_buffer_limit(None);
        Ok(ServerSession(Box::new(conn)))
    }

    /// Takes the bytes the peer sent: the plaintext they carry goes onto `plain`,
    /// anything the session must answer (handshake, alerts) onto `wire`. An error
    /// means the connection is broken (a TLS alert may be in `wire`); `Ok(true)` means
    /// the peer ended the stream with close_notify.
    pub fn read(
        &mut self,
        mut raw: &[u8],
        plain: &mut Vec<u8>,
        wire: &mut Vec<u8>,
    ) -> Result<bool, String> {
        let conn = &mut self.0;
        let mut closed = false;
        loop {
            if !raw.is_empty() {
                conn.read_tls(&mut raw).map_err(|e| e.to_string())?;
            }
            let state = match conn.process_new_packets() {
                Ok(state) => state,
                Err(e) => {
                    let _ = conn.write_tls(wire);
                    return Err(e.to_string());
                }
            };
            let mut want = state.plaintext_bytes_to_read();
            while want > 0 {
                let start = plain.len();
                plain.resize(start + want, 0);
                let n = conn.reader().read(&mut plain[start..]).unwrap_or(0);
                plain.truncate(start + n);
                if n == 0 {
                    break;
                }
                want -= n;
            }
            closed |= state.peer_has_closed();
            if raw.is_empty() {
                break;
            }
        }
        self.drain(wire);
        Ok(closed)
    }

    /// Encrypts `plain` onto `wire` (kept until the handshake ends, then sent).
    pub fn write(&mut self, plain: &[u8], wire: &mut Vec<u8>) {
        // The buffer limit is off, so the whole of `plain` is taken.
        let _ = self.0.writer().write_all(plain);
        self.drain(wire);
    }

    /// Moves whatever the session wants to send onto `wire`.
    pub fn drain(&mut self, wire: &mut Vec<u8>) {
        while self.0.wants_write() {
            match self.0.write_tls(wire) {
                Ok(0) | Err(_) => break,
                Ok(_) => {}
            }
        }
    }

    /// True until the handshake has finished.
    pub fn is_handshaking(&self) -> bool {
        self.0.is_handshaking()
    }

    /// Queues a close_notify alert onto `wire`.
    pub fn close(&mut self, wire: &mut Vec<u8>) {
        self.0.send_close_notify();
        self.drain(wire);
    }

    /// What the handshake agreed; `None` while it runs.
    pub fn info(&self) -> Option<TlsInfo> {
        let conn = &self.0;
        if conn.is_handshaking() {
            return None;
        }
        let version = conn.protocol_version().map(|v| {
            let n = u16::from(v);
            version_name(((n >> 8) as u8, n as u8))
        });
        let suite = conn.negotiated_cipher_suite().map(|s| {
            let name = s.suite().as_str().unwrap_or("");
            cipher_suite_name(name)
        });
        let common_name = conn
            .peer_certificates()
            .and_then(|c| c.first())
            .map(|c| cert_name::common_name(c))
            .unwrap_or_default();
        Some(TlsInfo {
            version: version.unwrap_or_default(),
            cipher_suite: suite.unwrap_or_default(),
            negotiated_protocol: conn
                .alpn_protocol()
                .map(|p| String::from_utf8_lossy(p).into_owned())
                .unwrap_or_default(),
            common_name,
        })
    }
}
