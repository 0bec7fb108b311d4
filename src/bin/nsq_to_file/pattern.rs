//! `--topic-pattern`: a regular expression over topic names. Go's nsq_to_file uses
//! RE2; the `regex` crate follows the same syntax. It is optional: built without the
//! `topic-pattern` feature, a pattern is refused with a message saying how to build.

/// A compiled `--topic-pattern`.
#[cfg(feature = "topic-pattern")]
#[derive(Debug, Clone)]
pub struct Pattern(regex_lite::Regex);

#[cfg(feature = "topic-pattern")]
impl Pattern {
    /// Compiles `source`; the error is the regex crate's description.
    pub fn new(source: &str) -> Result<Pattern, String> {
        regex_lite::Regex::new(source)
            .map(Pattern)
            .map_err(|e| e.to_string())
    }

    /// The pattern as given.
    pub fn as_str(&self) -> &str {
        self.0.as_str()
    }

    /// True when the pattern matches anywhere in `text` (unanchored, as in Go).
    pub fn is_match(&self, text: &str) -> bool {
        self.0.is_match(text)
    }
}

/// A compiled `--topic-pattern` (none can exist without the `topic-pattern` feature).
#[cfg(not(feature = "topic-pattern"))]
#[derive(Debug, Clone)]
pub enum Pattern {}

#[cfg(not(feature = "topic-pattern"))]
impl Pattern {
    /// Always refused: this build has no regular expressions.
    pub fn new(_source: &str) -> Result<Pattern, String> {
        Err("nsq_to_file was built without regular expressions; \
             rebuild with `cargo build --features topic-pattern`"
            .to_string())
    }

    /// The pattern as given.
    pub fn as_str(&self) -> &str {
        match *self {}
    }

    /// True when the pattern matches `text`.
    pub fn is_match(&self, _text: &str) -> bool {
        match *self {}
    }
}
