//! nsqd's TLS flags as one server configuration, built once at start and shared by
//! the HTTPS listener and the V2 upgrade: `--tls-cert`, `--tls-key`,
//! `--tls-root-ca-file`, `--tls-client-auth-policy` and `--tls-min-version`, read as
//! Go's `buildTLSConfig` reads them.

use super::options::Options;
use crate::tls::{ClientAuth, MinVersion, ServerSpec, ServerTls};

/// What Go prefixes a TLS configuration error with at start.
const PREFIX: &str = "failed to build TLS config - ";

/// The server specification the options describe. An unknown client-auth policy
/// asks for no certificate, as Go's `default:` case (`NoClientCert`).
pub fn server_spec(opts: &Options) -> ServerSpec {
    ServerSpec {
        cert: opts.tls_cert.clone(),
        key: opts.tls_key.clone(),
        root_ca: opts.tls_root_ca_file.clone(),
        client_auth: match opts.tls_client_auth_policy.as_str() {
            "require" => ClientAuth::Require,
            "require-verify" => ClientAuth::RequireVerify,
            _ => ClientAuth::None,
        },
        // The options were checked at parse time; an unknown value keeps the default.
        min_version: MinVersion::parse(&opts.tls_min_version).unwrap_or_default(),
    }
}

/// The TLS server configuration: `None` when neither `--tls-cert` nor `--tls-key` is
/// set (no TLS, no HTTPS listener); an error line, prefixed as Go's, when one is
/// missing or a file does not load.
pub fn server_tls(opts: &Options) -> Result<Option<ServerTls>, String> {
    if opts.tls_cert.is_empty() && opts.tls_key.is_empty() {
        return Ok(None);
    }
    // Go's `tls.LoadX509KeyPair("", key)` fails opening the empty name.
    for (flag, path) in [("--tls-cert", &opts.tls_cert), ("--tls-key", &opts.tls_key)] {
        if path.is_empty() {
            return Err(format!(
                "{PREFIX}open : no such file or directory ({flag} is not set)"
            ));
        }
    }
    ServerTls::new(&server_spec(opts))
        .map(Some)
        .map_err(|e| format!("{PREFIX}{e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn opts(cert: &str, key: &str, policy: &str, min: &str) -> Options {
        Options {
            tls_cert: cert.into(),
            tls_key: key.into(),
            tls_client_auth_policy: policy.into(),
            tls_root_ca_file: "ca.pem".into(),
            tls_min_version: min.into(),
            ..Options::default()
        }
    }

    #[test]
    fn the_spec_follows_the_flags() {
        let spec = server_spec(&opts("c.pem", "k.pem", "require-verify", "tls1.3"));
        assert_eq!((spec.cert.as_str(), spec.key.as_str()), ("c.pem", "k.pem"));
        assert_eq!(spec.root_ca, "ca.pem");
        assert_eq!(spec.client_auth, ClientAuth::RequireVerify);
        assert_eq!(spec.min_version, MinVersion::Tls13);
        let spec = server_spec(&opts("c", "k", "require", "tls1.2"));
        assert_eq!(
            (spec.client_auth, spec.min_version),
            (ClientAuth::Require, MinVersion::Tls12)
        );
        let spec = server_spec(&opts("c", "k", "", ""));
        assert_eq!(
            (spec.client_auth, spec.min_version),
            (ClientAuth::None, MinVersion::Tls10)
        );
        assert_eq!(
            server_spec(&opts("c", "k", "whatever", "")).client_auth,
            ClientAuth::None
        );
    }

    #[test]
    fn no_cert_and_no_key_is_no_tls_and_one_alone_is_an_error() {
        assert!(server_tls(&opts("", "", "", "")).unwrap().is_none());
        let err = server_tls(&opts("", "k.pem", "", "")).unwrap_err();
        assert!(err.starts_with(PREFIX), "{err}");
        assert!(err.contains("--tls-cert"), "{err}");
        let err = server_tls(&opts("c.pem", "", "", "")).unwrap_err();
        assert!(err.contains("--tls-key"), "{err}");
        let err =
            server_tls(&opts("/nonexistent/c.pem", "/nonexistent/k.pem", "", "")).unwrap_err();
        assert!(err.starts_with(PREFIX), "{err}");
    }
}
