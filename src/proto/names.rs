//! Topic and channel names: the validity rule, the `#ephemeral` suffix, and Go's `%q`
//! quoting used when a bad name is echoed back in an error text. No I/O.

/// The suffix that marks a topic or channel as ephemeral.
pub const EPHEMERAL_SUFFIX: &str = "#ephemeral";

/// True when `name` is a valid topic or channel name:
/// `^[.a-zA-Z0-9_-]+(#ephemeral)?$`, 1 to 64 bytes in all.
pub fn is_valid_name(name: &[u8]) -> bool {
    if name.is_empty() || name.len() > 64 {
        return false;
    }
    let base = name
        .strip_suffix(EPHEMERAL_SUFFIX.as_bytes())
        .unwrap_or(name);
    !base.is_empty()
        && base
            .iter()
            .all(|&b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
}

/// The name as a `&str` when it is valid (valid names are ASCII).
pub fn valid_name(name: &[u8]) -> Option<&str> {
    if is_valid_name(name) {
        std::str::from_utf8(name).ok()
    } else {
        None
    }
}

/// True for names ending in `#ephemeral`.
pub fn is_ephemeral(name: &str) -> bool {
    name.ends_with(EPHEMERAL_SUFFIX)
}

/// Quotes bytes as Go's `%q` does, so error texts match nsqd's.
pub fn go_quote(raw: &[u8]) -> String {
    let mut out = String::with_capacity(raw.len() + 2);
    out.push('"');
    for chunk in raw.utf8_chunks() {
        for c in chunk.valid().chars() {
            match c {
                '"' => out.push_str("\\\""),
                '\\' => out.push_str("\\\\"),
                '\x07' => out.push_str("\\a"),
                '\x08' => out.push_str("\\b"),
                '\x0c' => out.push_str("\\f"),
                '\n' => out.push_str("\\n"),
                '\r' => out.push_str("\\r"),
                '\t' => out.push_str("\\t"),
                '\x0b' => out.push_str("\\v"),
                c if (c as u32) < 0x20 || c as u32 == 0x7f => {
                    out.push_str(&format!("\\x{:02x}", c as u32))
                }
                c if !go_printable(c) && (c as u32) < 0x10000 => {
                    out.push_str(&format!("\\u{:04x}", c as u32))
                }
                c if !go_printable(c) => out.push_str(&format!("\\U{:08x}", c as u32)),
                c => out.push(c),
            }
        }
        for b in chunk.invalid() {
            out.push_str(&format!("\\x{b:02x}"));
        }
    }
    out.push('"');
    out
}

/// Go's `strconv.IsPrint`, closely enough for error texts: controls, format
/// characters and every space but U+0020 are not printable.
fn go_printable(c: char) -> bool {
    let u = c as u32;
    !(c.is_control()
        || (c.is_whitespace() && c != ' ')
        || matches!(u, 0xad | 0x600..=0x605 | 0x61c | 0x6dd | 0x70f | 0x180e)
        || matches!(u, 0x200b..=0x200f | 0x2028..=0x202e | 0x2060..=0x206f | 0xfeff)
        || matches!(u, 0xfff9..=0xfffb | 0xe0001..=0xe007f | 0xd800..=0xdfff)
        || matches!(u, 0xe000..=0xf8ff | 0xf0000..=0x10ffff))
}
