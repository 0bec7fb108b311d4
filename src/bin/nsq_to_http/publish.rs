//! One HTTP request per message and address, as Go's `PostPublisher` and
//! `GetPublisher` make it: the headers (`User-Agent: nsq_to_http v1.3.0`, the POST
//! `Content-Type`, then each `--header`, set over them by canonical name), the GET
//! URL (the template printf'ed with the query-escaped body), the success rule (POST:
//! any 2xx; GET: exactly 200) and Go's error texts (`got status code 500`,
//! `Post "URL": dial tcp ADDR: connect: connection refused`, the response-header
//! timeout). Requests go through `nsq::http::client`, connections kept between
//! them as Go's transport keeps them (`KeepAlive`).

use crate::gofmt::sprintf;
use crate::options::{Method, Options};
use crate::redirect::{self, MAX_REDIRECTS};
use nsq::http::client::{go_reason, parse_url, KeepAlive, Target, Timeouts};
use nsq::tls::{ClientSpec, ClientTls};

/// Headers Go's client writes itself: a `--header` of these names is not sent.
const OWN_HEADERS: [&str; 5] = [
    "Host",
    "Content-Length",
    "Transfer-Encoding",
    "Trailer",
    "Connection",
];

/// Makes the request for one message to one address.
pub struct Publisher {
    method: Method,
    addresses: Vec<String>,
    /// POST: each address parsed once (a bad one fails each of its requests).
    targets: Vec<Result<Target, String>>,
    headers: Vec<(String, String)>,
    timeouts: Timeouts,
    /// The system's CA bundle for `https://` addresses, loaded once.
    tls: Option<ClientTls>,
    /// Connections kept between requests, as Go's transport keeps them.
    pool: KeepAlive,
}

impl Publisher {
    /// The publisher for `opts`' addresses, headers and timeouts.
    pub fn new(opts: &Options) -> Publisher {
        let targets = match opts.method {
            Method::Post => opts.addresses.iter().map(|a| parse_target(a)).collect(),
            Method::Get => Vec::new(),
        };
        let https = opts.addresses.iter().any(|a| {
            a.get(..8)
                .is_some_and(|s| s.eq_ignore_ascii_case("https://"))
        });
        let tls = if https {
            // Without one, each https request reports why (request_to tries again).
            ClientTls::new(&ClientSpec::default()).ok()
        } else {
            None
        };
        Publisher {
            method: opts.method,
            addresses: opts.addresses.clone(),
            targets,
            headers: headers(opts),
            timeouts: opts.timeouts,
            tls,
            pool: KeepAlive::new(),
        }
    }

    /// The number of addresses.
    pub fn len(&self) -> usize {
        self.addresses.len()
    }

    /// The address at `i`, as given.
    pub fn address(&self, i: usize) -> &str {
        &self.addresses[i]
    }

    /// Sends `body` to address `i`; the error is Go's text.
    pub fn publish(&self, i: usize, body: &[u8]) -> Result<(), String> {
        let (op, url, parsed, payload) = match self.method {
            Method::Post => {
                let url = self.addresses[i].clone();
                (("POST", "Post"), url, self.targets[i].clone(), body)
            }
            Method::Get => {
                let url = sprintf(
                    &self.addresses[i],
                    &nsq::http::client::query_escape_bytes(body),
                );
                let parsed = parse_target(&url);
                (("GET", "Get"), url, parsed, &[][..])
            }
        };
        let (mut method, mut url, mut payload) = (op.0, url, payload);
        let mut target = parsed.map_err(|why| format!("{} \"{url}\": {why}", op.1))?;
        let first = url.clone();
        let mut referer: Option<String> = None;
        for redirects in 0..=MAX_REDIRECTS {
            let mut headers: Vec<(&str, &str)> = self
                .headers
                .iter()
                .filter(|(n, _)| redirects == 0 || redirect::keeps_header(n, &first, &url))
                .map(|(n, v)| (n.as_str(), v.as_str()))
                .collect();
            if let Some(r) = referer.as_deref() {
                if !headers
                    .iter()
                    .any(|(n, _)| n.eq_ignore_ascii_case("Referer"))
                {
                    headers.push(("Referer", r));
                }
            }
            let response = self
                .pool
                .request(
                    method,
                    &target,
                    &headers,
                    payload,
                    self.timeouts,
                    self.tls.as_ref(),
                )
                .map_err(|e| format!("{} \"{url}\": {}", op.1, go_reason(&e, &target.host_port)))?;
            let next = match response.location.as_deref() {
                Some(location) if !location.is_empty() => {
                    redirect::next_method(response.status, method)
                        .map(|next| (next, location.to_string()))
                }
                _ => None,
            };
            let Some(((next_method, keep_body), location)) = next else {
                let ok = match self.method {
                    Method::Post => (200..300).contains(&response.status),
                    Method::Get => response.status == 200,
                };
                if !ok {
                    return Err(format!("got status code {}", response.status));
                }
                return Ok(());
            };
            if redirects == MAX_REDIRECTS {
                break;
            }
            let next_url = redirect::resolve(&url, &location);
            target =
                parse_target(&next_url).map_err(|why| format!("{} \"{next_url}\": {why}", op.1))?;
            referer = redirect::referer(&url, &next_url);
            method = next_method;
            if !keep_body {
                payload = &[];
            }
            url = next_url;
        }
        Err(format!(
            "{} \"{url}\": stopped after {MAX_REDIRECTS} redirects",
            op.1
        ))
    }
}

/// An address as a request target; Go's `unsupported protocol scheme` otherwise.
fn parse_target(url: &str) -> Result<Target, String> {
    let scheme = url.split_once("://").map_or("", |(s, _)| s);
    if !scheme.eq_ignore_ascii_case("http") && !scheme.eq_ignore_ascii_case("https") {
        return Err(format!("unsupported protocol scheme {scheme:?}"));
    }
    parse_url(url, "/")
}

/// The request headers: User-Agent, the POST Content-Type, then each `--header` set
/// over them by canonical name (the last one given wins), and Go's transport's
/// `Accept-Encoding: gzip` unless a `--header` set it.
fn headers(opts: &Options) -> Vec<(String, String)> {
    let mut out = vec![(
        "User-Agent".to_string(),
        format!("nsq_to_http v{}", nsq::NSQ_VERSION),
    )];
    if opts.method == Method::Post {
        out.push(("Content-Type".to_string(), opts.content_type.clone()));
    }
    let mut custom: Vec<(String, String)> = Vec::new();
    for (name, value) in &opts.headers {
        let name = canonical(name);
        if OWN_HEADERS.contains(&name.as_str()) {
            continue;
        }
        match out.iter_mut().find(|(n, _)| *n == name) {
            Some(slot) => slot.1 = value.clone(),
            None => {
                custom.retain(|(n, _)| *n != name);
                custom.push((name, value.clone()));
            }
        }
    }
    // Go writes the headers it was given sorted by name.
    custom.sort();
    out.extend(custom);
    if !out.iter().any(|(n, _)| n == "Accept-Encoding") {
        out.push(("Accept-Encoding".to_string(), "gzip".to_string()));
    }
    out
}

/// Go's `textproto.CanonicalMIMEHeaderKey`: `x-api-key` → `X-Api-Key`; a name with
/// a byte that is not a token character is left as it is.
fn canonical(name: &str) -> String {
    let token = |b: u8| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b);
    if !name.bytes().all(token) {
        return name.to_string();
    }
    let mut upper = true;
    name.chars()
        .map(|c| {
            let out = if upper {
                c.to_ascii_uppercase()
            } else {
                c.to_ascii_lowercase()
            };
            upper = c == '-';
            out
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bodies_are_query_escaped_like_go() {
        assert_eq!(
            nsq::http::client::query_escape_bytes(b"hello world"),
            "hello+world"
        );
        assert_eq!(
            nsq::http::client::query_escape_bytes(b"{\"a\":1}"),
            "%7B%22a%22%3A1%7D"
        );
        assert_eq!(
            nsq::http::client::query_escape_bytes("x&y=z/ü+".as_bytes()),
            "x%26y%3Dz%2F%C3%BC%2B"
        );
        assert_eq!(nsq::http::client::query_escape_bytes(&[0xff, b'~']), "%FF~");
    }

    fn headers_for(args: &[&str]) -> Vec<(String, String)> {
        let mut all = vec!["--topic=t", "--nsqd-tcp-address=h:1"];
        all.extend(args);
        let all: Vec<String> = all.iter().map(|a| a.to_string()).collect();
        let parsed = nsq::flags::parse(&crate::options::specs(), &all).unwrap();
        headers(&crate::options::options(&parsed).unwrap())
    }

    #[test]
    fn headers_are_set_over_the_defaults() {
        let pairs = |h: Vec<(String, String)>| -> Vec<String> {
            h.into_iter().map(|(n, v)| format!("{n}: {v}")).collect()
        };
        let post = headers_for(&["--post=http://h/", "--header=x-b: 2", "--header=X-A: 1"]);
        let want = "User-Agent: nsq_to_http v1.3.0,Content-Type: application/octet-stream,X-A: 1,X-B: 2,Accept-Encoding: gzip";
        assert_eq!(pairs(post), want.split(',').collect::<Vec<_>>());
        let get = headers_for(&[
            "--get=http://h/?d=%s",
            "--header=user-agent: me",
            "--header=Host: x",
            "--header=Accept-Encoding: identity",
        ]);
        let want = ["User-Agent: me", "Accept-Encoding: identity"];
        assert_eq!(pairs(get), want, "no Content-Type on GET; Host is Go's own");
    }

    #[test]
    fn header_names_are_canonical() {
        assert_eq!(canonical("x-api-key"), "X-Api-Key");
        assert_eq!(canonical("USER-AGENT"), "User-Agent");
        assert_eq!(canonical("x y"), "x y");
    }

    #[test]
    fn addresses_need_a_scheme() {
        assert_eq!(
            parse_target("127.0.0.1:9998/in").unwrap_err(),
            "unsupported protocol scheme \"\""
        );
        assert_eq!(
            parse_target("ftp://h/").unwrap_err(),
            "unsupported protocol scheme \"ftp\""
        );
        let t = parse_target("http://127.0.0.1:9998").unwrap();
        assert_eq!(
            (t.host_port.as_str(), t.path.as_str()),
            ("127.0.0.1:9998", "/")
        );
    }
}
