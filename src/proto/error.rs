//! The NSQ protocol error: its code (`E_INVALID`, `E_BAD_TOPIC`, ...), its text, whether
//! the connection closes after it, and its wire text `E_CODE text`. No I/O.

use std::fmt;

/// An NSQ protocol error: its code, its text, and whether the connection closes after it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProtoError {
    /// The code, e.g. `E_INVALID`.
    pub code: &'static str,
    /// The human text after the code (empty for `E_BAD_PROTOCOL`).
    pub desc: String,
    /// Fatal errors are sent and then the connection is closed.
    pub fatal: bool,
}

impl ProtoError {
    /// A fatal error: answered, then the connection is closed.
    pub fn fatal(code: &'static str, desc: impl Into<String>) -> ProtoError {
        ProtoError {
            code,
            desc: desc.into(),
            fatal: true,
        }
    }

    /// A client error: answered, and the connection goes on.
    pub fn client(code: &'static str, desc: impl Into<String>) -> ProtoError {
        ProtoError {
            code,
            desc: desc.into(),
            fatal: false,
        }
    }

    /// The error for a bad magic.
    pub fn bad_protocol() -> ProtoError {
        ProtoError::fatal("E_BAD_PROTOCOL", "")
    }
}

impl fmt::Display for ProtoError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.desc.is_empty() {
            f.write_str(self.code)
        } else {
            write!(f, "{} {}", self.code, self.desc)
        }
    }
}

pub(super) fn invalid(desc: impl Into<String>) -> ProtoError {
    ProtoError::fatal("E_INVALID", desc)
}
