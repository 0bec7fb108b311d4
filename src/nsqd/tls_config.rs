//! nsqd's TLS flags as a [`ServerSpec`], and the one [`ServerTls`] built from them at
//! start, shared by the V2 listener and the HTTPS listener. Go's start-up rules: no
//! TLS when neither cert nor key is set; anything unreadable is an error.

use super::options::Options;
use crate::tls::{ClientAuth, ClientSpec, ClientTls, MinVersion, ServerSpec, ServerTls};

/// The server side of TLS as nsqd's flags describe it.
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
        min_version: MinVersion::parse(&opts.tls_min_version).unwrap_or_default(),
    }
}

/// The TLS configuration, `None` when neither `--tls-cert` nor `--tls-key` is set;
/// the error is Go's (`failed to build TLS config - <reason>`, or TLS required
/// without a certificate), which nsqd reports at start, exiting 1.
pub fn server_tls(opts: &Options) -> Result<Option<ServerTls>, String> {
    if opts.tls_cert.is_empty() && opts.tls_key.is_empty() {
        if opts.tls_required != "false" {
            return Err("cannot require TLS client connections without TLS key and cert".into());
        }
        return Ok(None);
    }
    let spec = server_spec(opts);
    let tls = ServerTls::new(&spec).map_err(|e| format!("failed to build TLS config - {e}"))?;
    // Go's default (tls1.0) is not worth a warning at every start; a lower value
    // asked for explicitly is.
    if spec.min_version.below_floor() && spec.min_version != MinVersion::default() {
        log::warn!(
            "--tls-min-version={}: TLS 1.2 is the lowest version nsq-rs offers (rustls); older clients are refused",
            spec.min_version.as_str()
        );
    }
    Ok(Some(tls))
}

/// TLS for the auth servers given as `https://` URLs (Go's client TLS config: the CA of
/// `--tls-root-ca-file`, else the system's, and `--tls-min-version`); `None` when no
/// auth server is asked over HTTPS.
pub fn auth_client_tls(opts: &Options) -> Result<Option<ClientTls>, String> {
    let https = |a: &String| {
        a.get(..8)
            .is_some_and(|s| s.eq_ignore_ascii_case("https://"))
    };
    if !opts.auth_http_addresses.iter().any(https) {
        return Ok(None);
    }
    let spec = ClientSpec {
        root_ca: opts.tls_root_ca_file.clone(),
        min_version: MinVersion::parse(&opts.tls_min_version).unwrap_or_default(),
        ..ClientSpec::default()
    };
    ClientTls::new(&spec)
        .map(Some)
        .map_err(|e| format!("failed to build TLS config - {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_tls_unless_asked_and_required_tls_needs_a_certificate() {
        assert!(matches!(server_tls(&Options::default()), Ok(None)));
        let required = Options {
            tls_required: "tcp-https".into(),
            ..Options::default()
        };
        assert_eq!(
            server_tls(&required).err().as_deref(),
            Some("cannot require TLS client connections without TLS key and cert")
        );
        let key_only = Options {
            tls_key: "/nonexistent/key.pem".into(),
            ..Options::default()
        };
        let err = server_tls(&key_only).err().unwrap_or_default();
        assert!(err.starts_with("failed to build TLS config - "), "{err}");
    }

    #[test]
    fn flags_map_to_the_spec() {
        let opts = Options {
            tls_client_auth_policy: "require-verify".into(),
            tls_min_version: "tls1.3".into(),
            ..Options::default()
        };
        let spec = server_spec(&opts);
        assert_eq!(spec.client_auth, ClientAuth::RequireVerify);
        assert_eq!(spec.min_version, MinVersion::Tls13);
    }
}
