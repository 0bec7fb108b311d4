//! `--tls-root-ca-file`: the rustls client every worker wraps its TCP connection in
//! after IDENTIFY's plain JSON reply (NSQ-PROTOCOL.md §9). One configuration is built
//! per run (ring provider, the CA file as the only roots) and shared by the workers;
//! the server name is the host of `--nsqd-tcp-address` (an IP address or a DNS name).
//!
//! Without the cargo feature `tls` the type exists but cannot be made: `main` refuses
//! the flag before any worker starts.

use crate::Options;
use std::io;

#[cfg(feature = "tls")]
pub(super) use enabled::{TlsClient, TlsStream};

/// The TLS client of a run, or `None` when `--tls-root-ca-file` is not set.
pub(super) fn from_options(opts: &Options) -> io::Result<Option<TlsClient>> {
    if opts.tls_root_ca_file.is_empty() {
        return Ok(None);
    }
    #[cfg(feature = "tls")]
    return TlsClient::new(&opts.tls_root_ca_file, &opts.nsqd_tcp_address).map(Some);
    #[cfg(not(feature = "tls"))]
    Err(io::Error::other(crate::TLS_NOT_BUILT))
}

/// A TLS client; never made in this build.
#[cfg(not(feature = "tls"))]
pub(super) enum TlsClient {}

#[cfg(feature = "tls")]
mod enabled {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, ServerName};
    use rustls::{ClientConfig, ClientConnection, RootCertStore, StreamOwned};
    use std::io;
    use std::net::TcpStream;
    use std::sync::Arc;

    /// A blocking TLS connection to nsqd; the handshake runs on its first read or write.
    pub(in crate::client) type TlsStream = StreamOwned<ClientConnection, TcpStream>;

    /// The configuration and server name every worker's connection uses.
    pub(in crate::client) struct TlsClient {
        config: Arc<ClientConfig>,
        name: ServerName<'static>,
    }

    /// The host part of `host:port`, `[v6]:port` or a bare host.
    pub(super) fn host_of(addr: &str) -> &str {
        if let Some(rest) = addr.strip_prefix('[') {
            return rest.split(']').next().unwrap_or(rest);
        }
        match addr.rsplit_once(':') {
            Some((host, _port)) => host,
            None => addr,
        }
    }

    fn invalid(msg: String) -> io::Error {
        io::Error::new(io::ErrorKind::InvalidInput, msg)
    }

    impl TlsClient {
        /// Trusts the CA certificates in the PEM file `ca_file`; verifies nsqd's
        /// certificate against the host of `addr`.
        pub(in crate::client) fn new(ca_file: &str, addr: &str) -> io::Result<TlsClient> {
            let mut roots = RootCertStore::empty();
            let certs = CertificateDer::pem_file_iter(ca_file)
                .map_err(|e| invalid(format!("--tls-root-ca-file {ca_file}: {e}")))?;
            for cert in certs {
                let cert =
                    cert.map_err(|e| invalid(format!("--tls-root-ca-file {ca_file}: {e}")))?;
                roots
                    .add(cert)
                    .map_err(|e| invalid(format!("--tls-root-ca-file {ca_file}: {e}")))?;
            }
            if roots.is_empty() {
                return Err(invalid(format!(
                    "--tls-root-ca-file {ca_file}: no certificate in it"
                )));
            }
            let provider = Arc::new(rustls::crypto::ring::default_provider());
            let config = ClientConfig::builder_with_provider(provider)
                .with_safe_default_protocol_versions()
                .map_err(|e| invalid(format!("TLS versions: {e}")))?
                .with_root_certificates(roots)
                .with_no_client_auth();
            let host = host_of(addr);
            let name = ServerName::try_from(host.to_string()).map_err(|e| {
                invalid(format!(
                    "--nsqd-tcp-address {addr}: server name {host:?}: {e}"
                ))
            })?;
            Ok(TlsClient {
                config: Arc::new(config),
                name,
            })
        }

        /// Wraps `tcp` (which must have read IDENTIFY's reply and nothing more).
        pub(in crate::client) fn wrap(&self, tcp: TcpStream) -> io::Result<TlsStream> {
            let conn = ClientConnection::new(self.config.clone(), self.name.clone())
                .map_err(io::Error::other)?;
            Ok(StreamOwned::new(conn, tcp))
        }
    }
}

#[cfg(all(test, feature = "tls"))]
mod tests {
    use super::enabled::host_of;

    #[test]
    fn host_of_addresses() {
        assert_eq!(host_of("127.0.0.1:4150"), "127.0.0.1");
        assert_eq!(host_of("localhost:4150"), "localhost");
        assert_eq!(host_of("[::1]:4150"), "::1");
        assert_eq!(host_of("nsqd"), "nsqd");
    }
}
