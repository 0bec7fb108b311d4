//! TLS below every program, on rustls (cargo feature `tls`, the `ring` provider):
//! server configurations built from PEM files and nsqd's flags ([`ServerSpec`]), and a
//! sans-IO server session ([`ServerSession`]) that turns received bytes into plaintext
//! and plaintext into bytes to send — one more buffer layer that an event loop drives
//! without ever blocking on it.
//!
//! Without the feature the same names exist, but [`ServerTls::new`] refuses, so a
//! program built without TLS says so at start instead of ignoring a TLS flag.
//!
//! Files:
//! - `names.rs`: Go's names for TLS versions and cipher suites, and the `tls1.x` flag
//!   values.
//! - `cert_name.rs`: the subject common name of a DER certificate.
//! - `server.rs`: [`ServerTls`] (the configuration) and [`ServerSession`].
//! - `disabled.rs`: the same API in a build without the feature.
//!
//! It imports nothing else of the crate.

mod names;

#[cfg(feature = "tls")]
mod cert_name;
#[cfg(not(feature = "tls"))]
mod disabled;
#[cfg(feature = "tls")]
mod server;

#[cfg(not(feature = "tls"))]
pub use disabled::{ServerSession, ServerTls};
pub use names::MinVersion;
#[cfg(feature = "tls")]
pub use server::{ServerSession, ServerTls};

/// True when this build speaks TLS.
pub const ENABLED: bool = cfg!(feature = "tls");

/// Which clients must show a certificate (`--tls-client-auth-policy`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ClientAuth {
    /// No certificate is asked for.
    #[default]
    None,
    /// `require`: any certificate (its signature over the handshake is still checked).
    Require,
    /// `require-verify`: a certificate that chains to the root CA file.
    RequireVerify,
}

/// What a TLS server is made of: the files and policies nsqd's flags name.
#[derive(Debug, Clone, Default)]
pub struct ServerSpec {
    /// PEM file with the certificate chain (`--tls-cert`).
    pub cert: String,
    /// PEM file with the private key (`--tls-key`).
    pub key: String,
    /// PEM file of CA certificates that client certificates must chain to
    /// (`--tls-root-ca-file`).
    pub root_ca: String,
    /// Which clients must show a certificate.
    pub client_auth: ClientAuth,
    /// The lowest version offered (`--tls-min-version`).
    pub min_version: MinVersion,
}

/// What a finished handshake agreed, as nsqd's `/stats` and auth queries report it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TlsInfo {
    /// `TLS1.2` or `TLS1.3`.
    pub version: String,
    /// Go's name of the cipher suite, e.g. `TLS_AES_128_GCM_SHA256`.
    pub cipher_suite: String,
    /// The ALPN protocol agreed, `""` when none.
    pub negotiated_protocol: String,
    /// The common name of the client certificate's subject, `""` when none.
    pub common_name: String,
}
