//! What can go wrong talking to nsqd, as one error type for the whole client.

use std::fmt;
use std::io;

/// A client error.
///
/// ```no_run
/// use nsq::client::{Config, Error, Producer};
///
/// let producer = Producer::new("127.0.0.1:4150", Config::default())?;
/// match producer.publish("events", b"") {
///     Err(e) if e.code() == Some("E_BAD_MESSAGE") => eprintln!("empty bodies are refused: {e}"),
///     Err(Error::NotConnected) => eprintln!("nsqd is down; the next publish dials again"),
///     other => other?,
/// }
/// # Ok::<(), nsq::client::Error>(())
/// ```
#[derive(Debug)]
pub enum Error {
    /// Dialing, reading or writing failed.
    Io(io::Error),
    /// nsqd answered with an error frame, e.g. `E_BAD_TOPIC PUB topic name "a b" is not valid`.
    Protocol(String),
    /// The connection was lost (or never made) before the command was answered.
    NotConnected,
    /// The producer or consumer was stopped.
    Stopped,
    /// A configuration value is invalid; the text says which and why.
    Config(String),
    /// A topic or channel name is invalid.
    InvalidName(String),
    /// nsqd requires AUTH and no `auth_secret` is configured, or AUTH failed.
    Auth(String),
    /// nsqd sent bytes this client cannot make sense of.
    BadFrame(String),
    /// The TLS handshake failed (certificate not trusted, no common version, ...).
    Tls(String),
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Io(e) => write!(f, "{e}"),
            Error::Protocol(text) => write!(f, "{text}"),
            Error::NotConnected => f.write_str("not connected"),
            Error::Stopped => f.write_str("stopped"),
            Error::Config(text) => write!(f, "invalid config: {text}"),
            Error::InvalidName(text) => write!(f, "{text}"),
            Error::Auth(text) => write!(f, "auth: {text}"),
            Error::BadFrame(text) => write!(f, "bad frame: {text}"),
            Error::Tls(text) => write!(f, "{text}"),
        }
    }
}

impl std::error::Error for Error {}

impl From<io::Error> for Error {
    fn from(e: io::Error) -> Error {
        Error::Io(e)
    }
}

impl Error {
    /// The `E_...` code of a protocol error (`None` for other errors).
    pub fn code(&self) -> Option<&str> {
        match self {
            Error::Protocol(text) => text.split(' ').next(),
            _ => None,
        }
    }
}
