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
