//! Following redirects as Go's `http.Client` does: at most ten; a 301, 302 or 303
//! turns a POST into a GET without a body, a 307 or 308 repeats the method and the
//! body; a relative `Location` is resolved against the URL that answered it; the
//! next request's `Referer` is that URL (none from `https` to `http`), and the
//! `Authorization`, `Www-Authenticate`, `Cookie` and `Cookie2` headers go only to
//! the same host or its subdomains. Plain functions over URL strings, no I/O.

/// Redirects followed before giving up (Go's default policy).
pub const MAX_REDIRECTS: usize = 10;

/// Headers Go keeps from another host.
const SENSITIVE: [&str; 4] = ["Authorization", "Www-Authenticate", "Cookie", "Cookie2"];

/// After `status` answered `method`: the next method and whether the body goes
/// again; `None` if `status` is not a redirect Go follows.
pub fn next_method(status: u16, method: &'static str) -> Option<(&'static str, bool)> {
    match status {
        301..=303 if method == "GET" || method == "HEAD" => Some((method, false)),
        301..=303 => Some(("GET", false)),
        307 | 308 => Some((method, true)),
        _ => None,
    }
}

/// An absolute URL split into (scheme, authority, path and query); the fragment dropped.
fn split(url: &str) -> (&str, &str, &str) {
    let url = url.split_once('#').map_or(url, |(before, _)| before);
    let (scheme, rest) = url.split_once("://").unwrap_or(("http", url));
    let at = rest.find(['/', '?']).unwrap_or(rest.len());
    (scheme, &rest[..at], &rest[at..])
}

/// True if `s` starts with a URL scheme (`letter *(letter / digit / + / - / .) :`).
fn has_scheme(s: &str) -> bool {
    match s.split_once(':') {
        Some((scheme, _)) => {
            scheme.starts_with(|c: char| c.is_ascii_alphabetic())
                && scheme
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c))
        }
        None => false,
    }
}

/// RFC 3986's remove_dot_segments on a path (no query).
fn remove_dots(path: &str) -> String {
    let mut out: Vec<&str> = Vec::new();
    let segments: Vec<&str> = path.split('/').skip(1).collect();
    for (i, seg) in segments.iter().enumerate() {
        let last = i + 1 == segments.len();
        match *seg {
            "." if last => out.push(""),
            "." => {}
            ".." => {
                out.pop();
                if last {
                    out.push("");
                }
            }
            s => out.push(s),
        }
    }
    format!("/{}", out.join("/"))
}

/// `location` resolved against `base` (an absolute `http(s)://` URL), as Go's
/// `URL.ResolveReference` does.
pub fn resolve(base: &str, location: &str) -> String {
    let location = location
        .split_once('#')
        .map_or(location, |(before, _)| before);
    let (scheme, authority, base_target) = split(base);
    if has_scheme(location) {
        return location.to_string();
    }
    if let Some(rest) = location.strip_prefix("//") {
        return format!("{scheme}://{rest}");
    }
    let base_path = base_target.split('?').next().unwrap_or("");
    let (path, query) = match location.split_once('?') {
        Some((p, q)) => (p, Some(q)),
        None => (location, None),
    };
    let path = if path.is_empty() {
        base_path.to_string()
    } else if path.starts_with('/') {
        remove_dots(path)
    } else {
        let dir = base_path.rfind('/').map_or("/", |at| &base_path[..=at]);
        remove_dots(&format!("{dir}{path}"))
    };
    let path = if path.is_empty() {
        "/".to_string()
    } else {
        path
    };
    let query = match (query, location.is_empty()) {
        (Some(q), _) => format!("?{q}"),
        // An empty reference keeps the base's query.
        (None, true) => base_target
            .split_once('?')
            .map_or(String::new(), |(_, q)| format!("?{q}")),
        (None, false) => String::new(),
    };
    format!("{scheme}://{authority}{path}{query}")
}

/// The host of an absolute URL, without user info, port or brackets, lowercased.
fn host(url: &str) -> String {
    let authority = split(url).1;
    let authority = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let host = match authority.strip_prefix('[') {
        Some(v6) => v6.split(']').next().unwrap_or(""),
        None => authority.split(':').next().unwrap_or(""),
    };
    host.to_ascii_lowercase()
}

/// The `Referer` for a request to `next` redirected from `last`: `last` without
/// user info, or none from `https` to `http`.
pub fn referer(last: &str, next: &str) -> Option<String> {
    let (last_scheme, authority, target) = split(last);
    if last_scheme.eq_ignore_ascii_case("https") && split(next).0.eq_ignore_ascii_case("http") {
        return None;
    }
    let authority = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    Some(format!("{last_scheme}://{authority}{target}"))
}

/// True if the header `name` of the first request (to `initial`) goes to `dest`:
/// every header but the sensitive ones, which go only to the same host or a subdomain.
pub fn keeps_header(name: &str, initial: &str, dest: &str) -> bool {
    if !SENSITIVE.iter().any(|s| s.eq_ignore_ascii_case(name)) {
        return true;
    }
    let (i, d) = (host(initial), host(dest));
    d == i || d.ends_with(&format!(".{i}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn methods_change_as_go_changes_them() {
        assert_eq!(next_method(302, "POST"), Some(("GET", false)));
        assert_eq!(next_method(301, "GET"), Some(("GET", false)));
        assert_eq!(next_method(303, "POST"), Some(("GET", false)));
        assert_eq!(next_method(307, "POST"), Some(("POST", true)));
        assert_eq!(next_method(308, "POST"), Some(("POST", true)));
        assert_eq!(next_method(304, "GET"), None);
        assert_eq!(next_method(200, "POST"), None);
    }

    #[test]
    fn locations_resolve_as_url_resolve_reference() {
        let base = "http://h:8080/a/b/c?q=1";
        for (location, want) in [
            ("https://x/y", "https://x/y"),
            ("//other:1/p", "http://other:1/p"),
            ("/new?z=2", "http://h:8080/new?z=2"),
            ("d", "http://h:8080/a/b/d"),
            ("../d", "http://h:8080/a/d"),
            ("./", "http://h:8080/a/b/"),
            ("?z=3", "http://h:8080/a/b/c?z=3"),
            ("", "http://h:8080/a/b/c?q=1"),
            ("/x#frag", "http://h:8080/x"),
            ("/../../x", "http://h:8080/x"),
        ] {
            assert_eq!(resolve(base, location), want, "{location:?}");
        }
        assert_eq!(resolve("http://h:1", "p"), "http://h:1/p");
    }

    #[test]
    fn referer_and_sensitive_headers_follow_go() {
        assert_eq!(
            referer("http://u:p@h/a?b=1", "http://h/c").as_deref(),
            Some("http://h/a?b=1")
        );
        assert_eq!(referer("https://h/a", "http://h/c"), None);
        assert!(keeps_header("X-Api", "http://a/", "http://b/"));
        assert!(keeps_header("Authorization", "http://a:1/", "http://A:2/x"));
        assert!(keeps_header("authorization", "http://a/", "http://sub.a/"));
        assert!(!keeps_header("Authorization", "http://a/", "http://b/"));
        assert!(!keeps_header("Cookie", "http://a/", "http://xa/"));
    }
}
