//! The regular expressions of authorizations: `regex` (RE2 syntax, as Go's `regexp`)
//! behind the `auth` feature; without it no pattern can exist, so no authorization can.

/// True when this build can check authorizations (the `auth` feature, which brings the
/// `regex` crate); nsqd refuses `--auth-http-address` otherwise.
pub const SUPPORTED: bool = cfg!(feature = "auth");

/// A compiled topic or channel regex.
#[cfg(feature = "auth")]
#[derive(Debug, Clone)]
pub(super) struct Pattern(regex_lite::Regex);

#[cfg(feature = "auth")]
impl Pattern {
    pub(super) fn new(source: &str) -> Result<Pattern, String> {
        regex_lite::Regex::new(source)
            .map(Pattern)
            .map_err(|e| e.to_string())
    }

    /// Matches anywhere in `text` unless the pattern anchors itself, as Go's `MatchString`.
    pub(super) fn is_match(&self, text: &str) -> bool {
        self.0.is_match(text)
    }
}

/// A compiled regex (none can exist without the `auth` feature).
#[cfg(not(feature = "auth"))]
#[derive(Debug, Clone)]
pub(super) enum Pattern {}

#[cfg(not(feature = "auth"))]
impl Pattern {
    pub(super) fn new(_source: &str) -> Result<Pattern, String> {
        Err("built without the auth feature".into())
    }

    pub(super) fn is_match(&self, _text: &str) -> bool {
        match *self {}
    }
}
