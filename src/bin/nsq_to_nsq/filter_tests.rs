//! Unit tests of the JSON filter ([`super::Filter`]): the rows of Go's table and the
//! examples observed with Go's nsq_to_nsq v1.3.0.

use super::*;

fn whitelist(fields: &[&str]) -> Vec<String> {
    fields.iter().map(|f| f.to_string()).collect()
}

fn pass(body: &str) -> Verdict<'static> {
    Verdict::Pass(Cow::Owned(body.as_bytes().to_vec()))
}

/// The filter of the observed run: require `kind`=`a`, whitelist `id`,`f`,`big`,`missing`.
fn observed() -> Filter {
    Filter::new("kind", "a", whitelist(&["id", "f", "big", "missing"]))
}

#[test]
fn the_observed_examples() {
    let f = observed();
    assert_eq!(
        f.apply(br#"{"id":1,"kind":"a","extra":"x","f":1.5}"#),
        pass(r#"{"f":1.5,"id":1}"#)
    );
    assert_eq!(
        f.apply(br#"{"id":4,"kind":"a","n":2.0,"big":12345678901}"#),
        pass(r#"{"big":12345678901,"id":4}"#)
    );
    assert_eq!(f.apply(br#"{"id":2,"kind":"b"}"#), Verdict::Drop);
    assert_eq!(f.apply(br#"{"id":5,"kind":5}"#), Verdict::Drop);
    assert_eq!(f.apply(b"not json"), Verdict::NotJson);
    assert_eq!(f.apply(b"[1,2]"), Verdict::NotJson);
    assert_eq!(f.apply(br#"{"id":3}"#), Verdict::MissingField);
}

#[test]
fn inactive_filter_passes_any_body_unchanged() {
    let f = Filter::new("", "ignored without a field", Vec::new());
    assert!(!f.is_active());
    for body in [&b"not json"[..], b"", b"{\"a\":1.0}"] {
        assert_eq!(f.apply(body), Verdict::Pass(Cow::Borrowed(body)));
    }
}

#[test]
fn required_field_without_value() {
    let f = Filter::new("kind", "", Vec::new());
    assert!(f.is_active());
    // Present with any value: the original bytes, untouched.
    let body = br#"{ "kind" : null, "x": 1.0 }"#;
    assert_eq!(f.apply(body), Verdict::Pass(Cow::Borrowed(&body[..])));
    assert_eq!(f.apply(br#"{"other":1}"#), Verdict::Drop);
    assert_eq!(f.apply(b"null"), Verdict::Drop, "Go: null is an empty map");
    assert_eq!(f.apply(b"\"text\""), Verdict::NotJson);
    assert_eq!(f.apply(b"12"), Verdict::NotJson);
    assert_eq!(f.apply(br#"{"kind":1} trailing"#), Verdict::NotJson);
}

#[test]
fn string_and_number_comparisons() {
    let s = Filter::new("k", "a", Vec::new());
    assert!(matches!(s.apply(br#"{"k":"a"}"#), Verdict::Pass(_)));
    assert_eq!(s.apply(br#"{"k":"A"}"#), Verdict::Drop);
    assert_eq!(s.apply(br#"{"k":"a "}"#), Verdict::Drop);

    let n = Filter::new("k", "5", Vec::new());
    for body in [r#"{"k":5}"#, r#"{"k":5.0}"#, r#"{"k":5e0}"#, r#"{"k":"5"}"#] {
        assert!(
            matches!(n.apply(body.as_bytes()), Verdict::Pass(_)),
            "{body}"
        );
    }
    assert_eq!(
        n.apply(br#"{"k":"5.0"}"#),
        Verdict::Drop,
        "strings compare as text"
    );
    assert_eq!(n.apply(br#"{"k":6}"#), Verdict::Drop);
    let f = Filter::new("k", "1.5e1", Vec::new());
    assert!(matches!(f.apply(br#"{"k":15}"#), Verdict::Pass(_)));
    assert_eq!(f.apply(br#"{"k":"15"}"#), Verdict::Drop);

    // Other kinds never pass a value check, even a matching-looking one.
    let t = Filter::new("k", "true", Vec::new());
    for body in [
        r#"{"k":true}"#,
        r#"{"k":null}"#,
        r#"{"k":[true]}"#,
        r#"{"k":{"true":1}}"#,
    ] {
        assert_eq!(t.apply(body.as_bytes()), Verdict::Drop, "{body}");
    }
    // A value that is not a number never equals a number.
    assert_eq!(
        Filter::new("k", "five", Vec::new()).apply(br#"{"k":5}"#),
        Verdict::Drop
    );
    assert_eq!(
        Filter::new("k", "5", Vec::new()).apply(br#"{"x":5}"#),
        Verdict::MissingField
    );
}

#[test]
fn whitelist_rewrites_with_sorted_keys_and_whole_floats_as_integers() {
    let f = Filter::new("", "", whitelist(&["z", "a", "m", "f", "absent", "a"]));
    assert_eq!(
        f.apply(br#"{"m":{"y":2.0,"b":[1.0,0.5]},"f":-3.0,"a":"<&>","z":1e3,"q":1}"#),
        pass(r#"{"a":"\u003c\u0026\u003e","f":-3,"m":{"b":[1,0.5],"y":2},"z":1000}"#)
    );
    // Integers are kept exactly (Go would round beyond 2^53), huge floats stay floats.
    assert_eq!(
        f.apply(br#"{"a":12345678901234567891,"f":1e21,"z":-9007199254740993}"#),
        pass(r#"{"a":12345678901234567891,"f":1e+21,"z":-9007199254740993}"#)
    );
    // Nothing listed exists: an empty object; not an object: the decode error.
    assert_eq!(f.apply(br#"{"q":1}"#), pass("{}"));
    assert_eq!(f.apply(b"null"), pass("{}"));
    assert_eq!(f.apply(b"[{\"a\":1}]"), Verdict::NotJson);
}

#[test]
fn the_required_field_is_removed_unless_listed() {
    let f = Filter::new("kind", "a", whitelist(&["id"]));
    assert_eq!(f.apply(br#"{"id":7,"kind":"a"}"#), pass(r#"{"id":7}"#));
    let f = Filter::new("kind", "a", whitelist(&["id", "kind"]));
    assert_eq!(
        f.apply(br#"{"kind":"a","id":7}"#),
        pass(r#"{"id":7,"kind":"a"}"#)
    );
}

#[test]
fn go_float_parsing_of_the_required_value() {
    assert_eq!(parse_go_float("2"), Some(2.0));
    assert_eq!(parse_go_float("-1.5e3"), Some(-1500.0));
    assert_eq!(parse_go_float(""), None);
    assert_eq!(parse_go_float(" 2"), None);
    assert_eq!(parse_go_float("a"), None);
}
