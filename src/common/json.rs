//! JSON as Go's `encoding/json` writes it, shared by every program: strings escape
//! `<`, `>`, `&`, U+2028 and U+2029 as `\u003c`..., other control characters as
//! `\u00XX`, and floats are never written with an exponent between 1e-6 and 1e21
//! (else as `1e+21`). [`to_string`] serializes any `Serialize` value that way.

use serde::Serialize;
use std::fmt::Write as _;
use std::io;

/// A `serde_json` formatter that writes strings and floats as Go does.
#[derive(Debug, Default)]
pub struct GoFormatter;

impl serde_json::ser::Formatter for GoFormatter {
    fn write_string_fragment<W: ?Sized + io::Write>(
        &mut self,
        writer: &mut W,
        fragment: &str,
    ) -> io::Result<()> {
        let mut start = 0;
        for (i, ch) in fragment.char_indices() {
            if matches!(ch, '<' | '>' | '&' | '\u{2028}' | '\u{2029}') {
                writer.write_all(&fragment.as_bytes()[start..i])?;
                write!(writer, "\\u{:04x}", ch as u32)?;
                start = i + ch.len_utf8();
            }
        }
        writer.write_all(&fragment.as_bytes()[start..])
    }

    fn write_char_escape<W: ?Sized + io::Write>(
        &mut self,
        writer: &mut W,
        escape: serde_json::ser::CharEscape,
    ) -> io::Result<()> {
        use serde_json::ser::CharEscape::*;
        let s: &[u8] = match escape {
            Quote => b"\\\"",
            ReverseSolidus => b"\\\\",
            LineFeed => b"\\n",
            CarriageReturn => b"\\r",
            Tab => b"\\t",
            Solidus => b"/",
            Backspace => return writer.write_all(b"\\u0008"),
            FormFeed => return writer.write_all(b"\\u000c"),
            AsciiControl(byte) => return write!(writer, "\\u{byte:04x}"),
        };
        writer.write_all(s)
    }

    fn write_f64<W: ?Sized + io::Write>(&mut self, writer: &mut W, value: f64) -> io::Result<()> {
        let mut out = String::new();
        push_json_f64(&mut out, value);
        writer.write_all(out.as_bytes())
    }
}

/// `value` as Go's `json.Marshal` writes it (see [`GoFormatter`]).
pub fn to_string<T: Serialize + ?Sized>(value: &T) -> String {
    let mut out = Vec::new();
    let mut ser = serde_json::Serializer::with_formatter(&mut out, GoFormatter);
    if value.serialize(&mut ser).is_err() {
        return String::from("null");
    }
    String::from_utf8(out).unwrap_or_default()
}

/// Appends `s` as a JSON string the way Go's `encoding/json` writes it (`<`, `>`,
/// `&`, U+2028 and U+2029 escaped too).
pub fn push_json_str(out: &mut String, s: &str) {
    out.push('"');
    for ch in s.chars() {
        match ch {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '<' | '>' | '&' | '\u{2028}' | '\u{2029}' => {
                let _ = write!(out, "\\u{:04x}", ch as u32);
            }
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// Appends a float the way Go's `encoding/json` writes a `float64`.
pub fn push_json_f64(out: &mut String, v: f64) {
    if !v.is_finite() {
        out.push('0');
        return;
    }
    let abs = v.abs();
    if abs != 0.0 && !(1e-6..1e21).contains(&abs) {
        let s = format!("{v:e}");
        match s.split_once('e') {
            Some((mantissa, exp)) if !exp.starts_with('-') => {
                let _ = write!(out, "{mantissa}e+{exp}");
            }
            _ => out.push_str(&s),
        }
    } else {
        let _ = write!(out, "{v}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_and_floats_as_go_writes_them() {
        let s = "a<b>&c\u{2028}\"\\\n\r\t\u{8}\u{c}\u{1}é";
        let want = r#""a\u003cb\u003e\u0026c\u2028\"\\\n\r\t\u0008\u000c\u0001é""#;
        assert_eq!(to_string(s), want);
        let mut pushed = String::new();
        push_json_str(&mut pushed, s);
        assert_eq!(pushed, want);
        assert_eq!(
            to_string(&[0.5, 1e21, 1e-7, 100.0, 123456789.125]),
            "[0.5,1e+21,1e-7,100,123456789.125]"
        );
    }
}
