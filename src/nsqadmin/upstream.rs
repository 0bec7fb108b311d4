//! nsqadmin's calls to nsqd and nsqlookupd: one blocking HTTP request each, with
//! the `--http-client-*` timeouts and TLS, answered as Go's nsqadmin words its
//! errors (`got response 404 Not Found "{\"message\":\"TOPIC_NOT_FOUND\"}"`,
//! `Get "http://...": dial tcp ADDR: connect: connection refused`), and a fan-out
//! that asks many nodes at once, one thread per node.

use crate::http::client::{self, Timeouts};
use crate::tls::ClientTls;
use serde::de::DeserializeOwned;

/// How nsqadmin reaches its nodes.
pub struct Upstream {
    pub(super) timeouts: Timeouts,
    pub(super) tls: Option<ClientTls>,
    /// Log each call at debug, not info (the background sampler's calls).
    pub(super) quiet: bool,
}

/// `http://` in front of an address without a scheme.
pub fn url(addr: &str, path_and_query: &str) -> String {
    let lower = addr.to_ascii_lowercase();
    match lower.starts_with("http://") || lower.starts_with("https://") {
        true => format!("{}{path_and_query}", addr.trim_end_matches('/')),
        false => format!("http://{addr}{path_and_query}"),
    }
}

impl Upstream {
    /// `GET url`: the body of a 200 answer, or the error in Go's words.
    pub fn get(&self, url: &str) -> Result<Vec<u8>, String> {
        self.call("GET", url, true)
    }

    /// `POST url` without a body: `Ok` for a 200 answer.
    pub fn post(&self, url: &str) -> Result<(), String> {
        self.call("POST", url, true).map(drop)
    }

    /// `GET url`, decoded as JSON into `T`.
    pub fn get_json<T: DeserializeOwned>(&self, url: &str) -> Result<T, String> {
        let body = self.get(url)?;
        serde_json::from_slice(&body).map_err(|e| format!("failed to decode JSON from {url} - {e}"))
    }

    fn call(&self, method: &str, url: &str, retry_https: bool) -> Result<Vec<u8>, String> {
        match self.quiet {
            true => log::debug!("CI: querying {url}"),
            false => log::info!("CI: querying {url}"),
        }
        let sent = match method {
            "POST" => client::post_with(url, b"", self.timeouts, self.tls.as_ref()),
            _ => client::get_with(url, self.timeouts, self.tls.as_ref()),
        };
        let resp = sent.map_err(|e| {
            let verb = if method == "POST" { "Post" } else { "Get" };
            let host_port = client::parse_url(url, "/").map(|t| t.host_port);
            format!(
                "{verb} \"{url}\": {}",
                client::go_reason(&e, &host_port.unwrap_or_default())
            )
        })?;
        if resp.status == 200 {
            return Ok(resp.body);
        }
        // A node that requires TLS names its HTTPS port: Go retries there once.
        if resp.status == 403 && retry_https && url.starts_with("http://") {
            let port = serde_json::from_slice::<serde_json::Value>(&resp.body)
                .ok()
                .and_then(|v| v["https_port"].as_u64());
            if let (Some(port), Ok(target)) = (port, client::parse_url(url, "/")) {
                let host = target.host_port.rsplit_once(':').map_or("", |(h, _)| h);
                let https = format!("https://{host}:{port}{}", target.path);
                return self.call(method, &https, false);
            }
        }
        Err(format!(
            "got response {} {} {:?}",
            resp.status,
            crate::http::reason_phrase(resp.status),
            String::from_utf8_lossy(&resp.body)
        ))
    }
}

/// Runs `f` on every item at once, one thread each; the results in item order.
pub fn fan_out<I: Sync, T: Send>(
    items: &[I],
    f: impl Fn(&I) -> Result<T, String> + Sync,
) -> Vec<Result<T, String>> {
    std::thread::scope(|scope| {
        let handles: Vec<_> = items
            .iter()
            .map(|item| {
                let f = &f;
                scope.spawn(move || f(item))
            })
            .collect();
        handles
            .into_iter()
            .map(|h| {
                h.join()
                    .unwrap_or_else(|_| Err("query thread panicked".into()))
            })
            .collect()
    })
}

/// The successes of a fan-out to `kind` nodes ("nsqd", "nsqlookupd") and the
/// errors of the others (a warning); an error when none answered, or none was
/// asked: `failed to query any nsqd: <errors>`.
pub fn gather<T>(
    results: Vec<Result<T, String>>,
    kind: &str,
) -> Result<(Vec<T>, Vec<String>), String> {
    let mut ok = Vec::new();
    let mut errors = Vec::new();
    for result in results {
        match result {
            Ok(value) => ok.push(value),
            Err(e) => errors.push(e),
        }
    }
    if ok.is_empty() {
        return Err(format!("failed to query any {kind}: {}", errors.join("\n")));
    }
    Ok((ok, errors))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_get_a_scheme_once() {
        assert_eq!(url("127.0.0.1:4151", "/info"), "http://127.0.0.1:4151/info");
        assert_eq!(url("https://h:4152/", "/info"), "https://h:4152/info");
    }

    #[test]
    fn gather_is_partial_or_a_total_failure() {
        let (ok, errors) = gather(vec![Ok(1), Err("down".to_string())], "nsqd").unwrap();
        assert_eq!((ok, errors), (vec![1], vec!["down".to_string()]));
        let none: Vec<Result<u8, String>> = Vec::new();
        assert_eq!(
            gather(none, "nsqd").unwrap_err(),
            "failed to query any nsqd: "
        );
        let all = gather::<u8>(vec![Err("a".into()), Err("b".into())], "nsqlookupd");
        assert_eq!(all.unwrap_err(), "failed to query any nsqlookupd: a\nb");
    }

    #[test]
    fn fan_out_keeps_item_order() {
        let got = fan_out(&[3, 1, 2], |n| Ok::<_, String>(n * 10));
        assert_eq!(got, vec![Ok(30), Ok(10), Ok(20)]);
    }
}
