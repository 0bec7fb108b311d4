//! Go's `fmt.Sprintf(template, arg)` for one string argument, as nsq_to_http's
//! `--get` runs it: the template is a printf format, so besides its one `%s` every
//! other `%` sequence is a verb too (`100%25` becomes `100%!(NOVERB)`, `%2F` eats the
//! argument as `%!F(string=...)`). Flags, width and precision are honoured for
//! `%s`/`%v`/`%q`/`%x`/`%X`; explicit argument indexes (`%[1]s`) and `*` widths are
//! not (they print as bad verbs). Pure text, no I/O.

/// `fmt.Sprintf(template, arg)`.
pub fn sprintf(template: &str, arg: &str) -> String {
    let mut out = String::with_capacity(template.len() + arg.len());
    let mut arg_left = Some(arg);
    let mut chars = template.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        let mut spec = Spec::default();
        while let Some(&f) = chars.peek() {
            match f {
                '-' => spec.minus = true,
                '0' => spec.zero = true,
                '#' => spec.sharp = true,
                '+' | ' ' => {}
                _ => break,
            }
            chars.next();
        }
        spec.width = digits(&mut chars);
        if chars.peek() == Some(&'.') {
            chars.next();
            spec.precision = Some(digits(&mut chars).unwrap_or(0));
        }
        let Some(verb) = chars.next() else {
            out.push_str("%!(NOVERB)");
            break;
        };
        if verb == '%' {
            out.push('%');
            continue;
        }
        match arg_left.take() {
            None => out.push_str(&format!("%!{verb}(MISSING)")),
            Some(a) => out.push_str(&spec.render(verb, a)),
        }
    }
    if let Some(a) = arg_left {
        out.push_str(&format!("%!(EXTRA string={a})"));
    }
    out
}

/// A verb's flags, width and precision.
#[derive(Debug, Default)]
struct Spec {
    minus: bool,
    zero: bool,
    sharp: bool,
    width: Option<usize>,
    precision: Option<usize>,
}

impl Spec {
    /// One verb applied to the string argument.
    fn render(&self, verb: char, arg: &str) -> String {
        let text = match verb {
            's' | 'v' => match self.precision {
                Some(p) => arg.chars().take(p).collect(),
                None => arg.to_string(),
            },
            'q' if self.sharp && !arg.contains('`') && !arg.chars().any(char::is_control) => {
                format!("`{arg}`")
            }
            'q' => quote(arg),
            'x' => hex(arg, false, self.precision),
            'X' => hex(arg, true, self.precision),
            _ => return format!("%!{verb}(string={arg})"),
        };
        self.pad(text)
    }

    /// Pads to the width: spaces (or zeros with `0`), on the left unless `-`.
    fn pad(&self, text: String) -> String {
        let len = text.chars().count();
        let Some(width) = self.width.filter(|&w| w > len) else {
            return text;
        };
        let fill = if self.zero && !self.minus { '0' } else { ' ' };
        let padding: String = std::iter::repeat_n(fill, width - len).collect();
        if self.minus {
            text + &padding
        } else {
            padding + &text
        }
    }
}

/// A run of decimal digits, if any.
fn digits(chars: &mut std::iter::Peekable<std::str::Chars<'_>>) -> Option<usize> {
    let mut n: Option<usize> = None;
    while let Some(d) = chars.peek().and_then(|c| c.to_digit(10)) {
        n = Some(n.unwrap_or(0).saturating_mul(10).saturating_add(d as usize));
        chars.next();
    }
    n
}

/// Go's `strconv.Quote` for the text a `--get` sees (query-escaped: plain ASCII).
fn quote(s: &str) -> String {
    let mut out = String::from('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if (c as u32) < 0x20 || c as u32 == 0x7f => {
                out.push_str(&format!("\\x{:02x}", c as u32))
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// `%x`/`%X` of a string: its bytes in hex (the precision limits the bytes).
fn hex(s: &str, upper: bool, precision: Option<usize>) -> String {
    let bytes = &s.as_bytes()[..precision.map_or(s.len(), |p| p.min(s.len()))];
    bytes
        .iter()
        .map(|b| {
            if upper {
                format!("{b:02X}")
            } else {
                format!("{b:02x}")
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::sprintf;

    #[test]
    fn the_one_verb_takes_the_argument() {
        assert_eq!(
            sprintf("http://h/get?data=%s&x=1", "hello+world"),
            "http://h/get?data=hello+world&x=1"
        );
        assert_eq!(
            sprintf("%v|%5s|%-5s|%.2s|%05s", "ab"),
            "ab|%!s(MISSING)|%!s(MISSING)|%!s(MISSING)|%!s(MISSING)"
        );
        assert_eq!(sprintf("[%5s]", "ab"), "[   ab]");
        assert_eq!(sprintf("[%-5s]", "ab"), "[ab   ]");
        assert_eq!(sprintf("[%.1s]", "ab"), "[a]");
        assert_eq!(sprintf("[%05s]", "ab"), "[000ab]");
        assert_eq!(sprintf("%q %x", "a\"b"), "\"a\\\"b\" %!x(MISSING)");
        assert_eq!(sprintf("%X", "hi"), "6869");
    }

    #[test]
    fn other_percent_sequences_are_verbs_as_in_go() {
        // Observed with Go's nsq_to_http: `...&b=100%25` → `...&b=100%!(NOVERB)`.
        assert_eq!(
            sprintf("http://h/g?a=%s&b=100%25", "x"),
            "http://h/g?a=x&b=100%!(NOVERB)"
        );
        assert_eq!(
            sprintf("/a%2Fb?d=%s", "x"),
            "/a%!F(string=x)b?d=%!s(MISSING)"
        );
        assert_eq!(sprintf("100%% %s", "x"), "100% x");
        assert_eq!(sprintf("%%s", "x"), "%s%!(EXTRA string=x)");
        assert_eq!(sprintf("%d", "x"), "%!d(string=x)");
        assert_eq!(sprintf("ü%s", "x"), "üx");
    }
}
