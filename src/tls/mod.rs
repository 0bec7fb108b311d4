//! TLS below every program, on rustls (cargo feature `tls`, the `ring` provider):
//! server configurations built from PEM files and nsqd's flags ([`ServerSpec`]), and a
//! sans-IO server session ([`ServerSession`]) that turns received bytes into plaintext
//! and plaintext into bytes to send — one more buffer layer that an event loop drives
//! without ever blocking on it. On the client side, configurations from go-nsq's
//! options ([`ClientSpec`] → [`ClientTls`]) and a blocking connection split into a
//! [`ClientReader`] and a [`ClientWriter`] that may run on different threads.
//!
//! Without the feature the same names exist, but [`ServerTls::new`] and
//! [`ClientTls::new`] refuse, so a program built without TLS says so at start instead
//! of ignoring a TLS flag.
//!
//! Files:
//! - `names.rs`: Go's names for TLS versions and cipher suites, and the `tls1.x` flag
//!   values.
//! - `cert_name.rs`: the subject common name of a DER certificate.
//! - `files.rs`: PEM certificates, keys and CA stores (or the system bundle), the
//!   provider and the versions a minimum allows.
//! - `server.rs`: [`ServerTls`] (the configuration) and [`ServerSession`].
//! - `client.rs`: [`ClientTls`] (the configuration, the handshake), [`ClientReader`]
//!   and [`ClientWriter`].
//! - `disabled.rs`: the same API in a build without the feature.
//!
//! It imports nothing else of the crate.

mod names;

#[cfg(feature = "tls")]
mod cert_name;
#[cfg(feature = "tls")]
mod client;
#[cfg(not(feature = "tls"))]
mod disabled;
#[cfg(feature = "tls")]
mod files;
#[cfg(feature = "tls")]
mod server;

#[cfg(feature = "tls")]
pub use client::{ClientReader, ClientTls, ClientWriter};
#[cfg(not(feature = "tls"))]
pub use disabled::{ClientReader, ClientTls, ClientWriter, ServerSession, ServerTls};
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

/// What a TLS client is made of: go-nsq's `tls_*` options.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ClientSpec {
    /// PEM file of the CA certificates the server's certificate must chain to
    /// (`tls_root_ca_file`); empty: the system's CA bundle.
    pub root_ca: String,
    /// PEM file with the client certificate chain (`tls_cert`), shown when the
    /// server asks; given with `key` or not at all.
    pub cert: String,
    /// PEM file with the client certificate's private key (`tls_key`).
    pub key: String,
    /// Accept any server certificate (`tls_insecure_skip_verify`); the handshake
    /// signature is still checked, but anyone in the middle can present one.
    pub insecure_skip_verify: bool,
    /// The lowest version offered (`tls_min_version`).
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
