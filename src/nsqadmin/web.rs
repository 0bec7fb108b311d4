//! nsqadmin's routes under `--base-path` (NSQADMIN.md §4, §9), answered as Go's
//! httprouter does (404 `NOT_FOUND`, 405 with `Allow`, `OPTIONS`, a trailing slash
//! redirected): the page shell for every UI path, the UI files, `/ping`, `/api/*`
//! and `/config/:opt`. The UI (`ui/`) is hand-written HTML, CSS and JavaScript,
//! embedded in the binary (or read from `--dev-static-dir`).

use super::context::{error, v1, Admin};
use super::{actions, api, config};
use crate::http::{Request, Response, Router};
use std::sync::Arc;

/// The UI's files: name, contents, content type.
const ASSETS: [(&str, &str, &str); 5] = [
    (
        "app.js",
        include_str!("ui/app.js"),
        "application/javascript; charset=utf-8",
    ),
    (
        "pages.js",
        include_str!("ui/pages.js"),
        "application/javascript; charset=utf-8",
    ),
    (
        "charts.js",
        include_str!("ui/charts.js"),
        "application/javascript; charset=utf-8",
    ),
    (
        "style.css",
        include_str!("ui/style.css"),
        "text/css; charset=utf-8",
    ),
    (
        "index.html",
        include_str!("ui/index.html"),
        "text/html; charset=utf-8",
    ),
];

/// The router: one handler that routes by itself (paths have two parameters).
pub fn router(admin: Arc<Admin>) -> Router {
    let mut router = Router::new();
    router.not_found(move |req| route(&admin, req));
    router
}

/// A path segment, percent-decoded (`%23` in `t%23ephemeral`); `+`, `&` and a bad
/// escape stay as they are (a name with them is then refused by the node).
fn decode(segment: &str) -> String {
    let bytes = segment.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok());
        match (bytes[i], hex.and_then(|h| u8::from_str_radix(h, 16).ok())) {
            (b'%', Some(b)) => {
                out.push(b);
                i += 3;
            }
            (b, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// What a path under the base is: its allowed methods, and the handler.
fn route(admin: &Admin, req: &Request) -> Response {
    let base = admin.options().base_path;
    let rel = if base == "/" {
        Some(req.path.as_str())
    } else if req.path == base {
        Some("/")
    } else {
        req.path.strip_prefix(&base).filter(|r| r.starts_with('/'))
    };
    let Some(rel) = rel else {
        return error(404, "NOT_FOUND");
    };
    if rel.len() > 1 && rel.ends_with('/') || (base != "/" && rel == "/" && req.path.ends_with('/'))
    {
        let target = req.path.trim_end_matches('/');
        let target = if target.is_empty() { "/" } else { target };
        // httprouter: 301 for GET, 307 (method and body kept) for the others.
        let status = if req.method == "GET" { 301 } else { 307 };
        return Response::new(status, "").header("Location", target);
    }
    let segments: Vec<String> = rel
        .split('/')
        .skip(1)
        .filter(|s| !s.is_empty())
        .map(decode)
        .collect();
    let s: Vec<&str> = segments.iter().map(String::as_str).collect();
    let m = req.method.as_str();
    let (allowed, resp): (&[&str], Option<Response>) = match s.as_slice() {
        []
        | ["topics"]
        | ["topics", _]
        | ["topics", _, _]
        | ["nodes"]
        | ["nodes", _]
        | ["counter"]
        | ["lookup"] => (&["GET"], (m == "GET").then(|| shell(admin, req))),
        ["ping"] => (
            &["GET"],
            (m == "GET").then(|| v1(Response::text(200, "OK"))),
        ),
        ["static", asset] => (&["GET"], (m == "GET").then(|| asset_file(admin, asset))),
        ["api", "topics"] => (
            &["GET", "POST"],
            match m {
                "GET" => Some(api::topics(admin, req)),
                "POST" => Some(actions::create(admin, req)),
                _ => None,
            },
        ),
        ["api", "topics", t] => (
            &["DELETE", "GET", "POST"],
            match m {
                "GET" => Some(api::topic(admin, t)),
                "POST" => Some(actions::act(admin, req, t, None)),
                "DELETE" => Some(actions::delete(admin, req, t, None)),
                _ => None,
            },
        ),
        ["api", "topics", t, c] => (
            &["DELETE", "GET", "POST"],
            match m {
                "GET" => Some(api::channel(admin, t, c)),
                "POST" => Some(actions::act(admin, req, t, Some(c))),
                "DELETE" => Some(actions::delete(admin, req, t, Some(c))),
                _ => None,
            },
        ),
        ["api", "nodes"] => (&["GET"], (m == "GET").then(|| api::nodes(admin))),
        ["api", "nodes", n] => (
            &["DELETE", "GET"],
            match m {
                "GET" => Some(api::node(admin, n)),
                "DELETE" => Some(actions::tombstone(admin, req, n)),
                _ => None,
            },
        ),
        ["api", "counter"] => (&["GET"], (m == "GET").then(|| api::counter(admin))),
        ["api", "rates", "topics", t] => {
            (&["GET"], (m == "GET").then(|| api::rates(admin, t, None)))
        }
        ["api", "rates", "topics", t, c] => (
            &["GET"],
            (m == "GET").then(|| api::rates(admin, t, Some(c))),
        ),
        ["config", opt] => (
            &["GET", "PUT"],
            matches!(m, "GET" | "PUT").then(|| config::handle(admin, req, opt)),
        ),
        _ => return error(404, "NOT_FOUND"),
    };
    if let Some(resp) = resp {
        return resp;
    }
    let allow = format!("{}, OPTIONS", allowed.join(", "));
    match m {
        "OPTIONS" => Response::new(200, "").header("Allow", &allow),
        _ => error(405, "METHOD_NOT_ALLOWED").header("Allow", &allow),
    }
}

/// The page shell: `index.html` with the globals the UI reads filled in.
fn shell(admin: &Admin, req: &Request) -> Response {
    let o = admin.options();
    let base = match o.base_path.as_str() {
        "/" => "/".to_string(),
        b => format!("{b}/"),
    };
    let json = |v: &[String]| crate::common::json::to_string(v);
    let html = asset_text(admin, "index.html")
        .replace("{{BASE_PATH}}", &base)
        .replace("{{VERSION}}", crate::NSQ_VERSION)
        .replace(
            "{{IS_ADMIN}}",
            if admin.is_admin(req) { "true" } else { "false" },
        )
        .replace("{{NSQLOOKUPD}}", &json(&admin.cluster.lookupds()))
        .replace(
            "{{SAMPLE_INTERVAL}}",
            &admin.rates.interval.as_secs().max(1).to_string(),
        );
    Response::new(200, html).header("Content-Type", "text/html; charset=utf-8")
}

/// A UI file's text: from `--dev-static-dir` when set, else the embedded one.
fn asset_text(admin: &Admin, name: &str) -> String {
    let dir = admin.options().dev_static_dir;
    if !dir.is_empty() {
        if let Ok(text) = std::fs::read_to_string(std::path::Path::new(&dir).join(name)) {
            return text;
        }
    }
    ASSETS
        .iter()
        .find(|(n, _, _)| *n == name)
        .map(|(_, t, _)| t.to_string())
        .unwrap_or_default()
}

/// `GET /static/:asset`.
fn asset_file(admin: &Admin, name: &str) -> Response {
    match ASSETS.iter().find(|(n, _, _)| *n == name) {
        Some((_, _, kind)) => {
            Response::new(200, asset_text(admin, name)).header("Content-Type", kind)
        }
        None => Response::text(404, "NOT_FOUND"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::nsqadmin::cluster::Cluster;
    use crate::nsqadmin::options::Options;
    use crate::nsqadmin::rates::Rates;
    use crate::nsqadmin::upstream::Upstream;
    use std::sync::RwLock;
    use std::time::Duration;

    fn admin(base: &str) -> Admin {
        let o = Options {
            base_path: base.into(),
            nsqd_http_addresses: vec!["127.0.0.1:1".into()],
            ..Options::default()
        };
        Admin {
            cluster: Arc::new(Cluster {
                upstream: Upstream {
                    timeouts: Duration::from_millis(100).into(),
                    tls: None,
                    quiet: false,
                },
                lookupds: Arc::new(RwLock::new(Vec::new())),
                nsqds: o.nsqd_http_addresses.clone(),
            }),
            options: RwLock::new(o),
            rates: Arc::new(Rates::new(Duration::from_secs(5), Duration::from_secs(60))),
            notifier: None,
            hostname: "h".into(),
        }
    }

    fn get(a: &Admin, method: &str, path: &str) -> Response {
        route(a, &Request::new(method, path, b""))
    }

    #[test]
    fn routes_live_under_the_base_path() {
        let a = admin("/nsq/ui");
        assert_eq!(get(&a, "GET", "/nsq/ui/ping").status, 200);
        assert_eq!(get(&a, "GET", "/ping").status, 404, "outside the base");
        let shell = get(&a, "GET", "/nsq/ui");
        assert_eq!(shell.status, 200);
        let html = String::from_utf8_lossy(&shell.body).to_string();
        assert!(html.contains("/nsq/ui/static/"), "assets under the base");
        for p in [
            "{{BASE_PATH}}",
            "{{VERSION}}",
            "{{IS_ADMIN}}",
            "{{NSQLOOKUPD}}",
            "{{SAMPLE_INTERVAL}}",
        ] {
            assert!(!html.contains(p), "{p} filled");
        }
        let slash = get(&a, "GET", "/nsq/ui/");
        assert_eq!(
            (slash.status, slash.get_header("Location")),
            (301, Some("/nsq/ui"))
        );
        assert_eq!(get(&a, "GET", "/nsq/ui/topics/t/c").status, 200);
        assert_eq!(get(&a, "GET", "/nsq/ui/static/app.js").status, 200);
        assert_eq!(get(&a, "GET", "/nsq/ui/static/nope.js").status, 404);
    }

    #[test]
    fn httprouter_answers_for_methods_and_slashes() {
        let a = admin("/");
        let put = get(&a, "PUT", "/api/nodes");
        assert_eq!(
            (put.status, put.get_header("Allow")),
            (405, Some("GET, OPTIONS"))
        );
        assert_eq!(
            get(&a, "OPTIONS", "/api/topics/t").get_header("Allow"),
            Some("DELETE, GET, POST, OPTIONS")
        );
        let slash = get(&a, "GET", "/api/topics/");
        assert_eq!(
            (slash.status, slash.get_header("Location")),
            (301, Some("/api/topics"))
        );
        let slash = get(&a, "POST", "/api/topics/");
        assert_eq!(
            (slash.status, slash.get_header("Location")),
            (307, Some("/api/topics"))
        );
        assert_eq!(get(&a, "GET", "/info").status, 404);
        assert_eq!(decode("t%23ephemeral"), "t#ephemeral");
        assert_eq!(decode("orders&x"), "orders&x");
        assert_eq!(decode("a+b%2"), "a+b%2");
        // The only nsqd is down: no node answered.
        let down = get(&a, "GET", "/api/nodes");
        assert_eq!(down.status, 502);
        assert!(String::from_utf8_lossy(&down.body)
            .contains("UPSTREAM_ERROR: failed to query any nsqd"));
    }
}
