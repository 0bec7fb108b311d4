//! Loading what TLS is made of: certificates, keys and CA stores from PEM files (or
//! the system's CA bundle, where Go's `crypto/x509` finds it), the `ring` provider,
//! and the protocol versions a minimum allows. Shared by the server and client sides.

use rustls::crypto::{ring, CryptoProvider};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::RootCertStore;
use std::sync::Arc;

/// Reads every certificate of a PEM file; an error names the file.
pub(super) fn load_certs(path: &str) -> Result<Vec<CertificateDer<'static>>, String> {
    let certs = CertificateDer::pem_file_iter(path)
        .and_then(|it| it.collect::<Result<Vec<_>, _>>())
        .map_err(|e| format!("failed to load certificate {path:?}: {e}"))?;
    if certs.is_empty() {
        return Err(format!(
            "failed to load certificate {path:?}: no certificate in it"
        ));
    }
    Ok(certs)
}

/// Reads the private key of a PEM file.
pub(super) fn load_key(path: &str) -> Result<PrivateKeyDer<'static>, String> {
    PrivateKeyDer::from_pem_file(path).map_err(|e| format!("failed to load key {path:?}: {e}"))
}

/// A store of the CA certificates in a PEM file.
pub(super) fn load_roots(path: &str) -> Result<RootCertStore, String> {
    let mut roots = RootCertStore::empty();
    for cert in load_certs(path)? {
        roots
            .add(cert)
            .map_err(|e| format!("failed to load root CA {path:?}: {e}"))?;
    }
    Ok(roots)
}

/// The `ring` provider every configuration here uses.
pub(super) fn provider() -> Arc<CryptoProvider> {
    Arc::new(ring::default_provider())
}

/// The protocol versions offered for `min`: TLS 1.3 alone, or 1.2 and 1.3.
pub(super) fn versions(
    min: super::MinVersion,
) -> &'static [&'static rustls::SupportedProtocolVersion] {
    static TLS13_ONLY: [&rustls::SupportedProtocolVersion; 1] = [&rustls::version::TLS13];
    if min == super::MinVersion::Tls13 {
        &TLS13_ONLY
    } else {
        rustls::ALL_VERSIONS
    }
}

/// Where Go looks for the system's CA bundle on Linux and the BSDs, in order.
const SYSTEM_BUNDLES: &[&str] = &[
    "/etc/ssl/certs/ca-certificates.crt",
    "/etc/pki/tls/certs/ca-bundle.crt",
    "/etc/ssl/ca-bundle.pem",
    "/etc/pki/tls/cacert.pem",
    "/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem",
    "/etc/ssl/cert.pem",
];

/// The system CA bundle: `$SSL_CERT_FILE`, else the first bundle file that exists.
pub(super) fn system_roots() -> Result<RootCertStore, String> {
    let from_env = std::env::var("SSL_CERT_FILE")
        .ok()
        .filter(|p| !p.is_empty());
    let path = match from_env {
        Some(path) => path,
        None => SYSTEM_BUNDLES
            .iter()
            .find(|p| std::path::Path::new(p).is_file())
            .map(|p| p.to_string())
            .ok_or("no root CA: set tls_root_ca_file (--tls-root-ca-file), no system CA bundle was found")?,
    };
    let certs = CertificateDer::pem_file_iter(&path)
        .and_then(|it| it.collect::<Result<Vec<_>, _>>())
        .map_err(|e| format!("failed to load system CA bundle {path:?}: {e}"))?;
    let mut roots = RootCertStore::empty();
    let (added, _) = roots.add_parsable_certificates(certs);
    if added == 0 {
        return Err(format!(
            "system CA bundle {path:?} holds no usable certificate"
        ));
    }
    Ok(roots)
}
