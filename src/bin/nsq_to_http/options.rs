//! nsq_to_http's command line: Go's flags with Go's defaults (plus the client TLS
//! flags, `--tls` and `--tls-*`, as the other tools take them), the `--consumer-opt`
//! check Go's flag parser makes (exit 2), and the checks Go's `main` makes, in the
//! same order and with the same messages (exit 1) — the misleading
//! `--header value format should be 'key=value'` included.

use nsq::client::Config;
use nsq::flags::{FlagKind, FlagSpec, Parsed};
use nsq::http::client::Timeouts;
use std::time::Duration;

/// The `--content-type` default, which Go compares against to see if it was changed.
const DEFAULT_CONTENT_TYPE: &str = "application/octet-stream";

/// A zero Go timeout means "none"; ours stands for it with a long one.
const NO_TIMEOUT: Duration = Duration::from_secs(10 * 365 * 24 * 3600);

/// The flag table, with Go's names, defaults and help texts.
pub fn specs() -> Vec<FlagSpec> {
    use FlagKind as K;
    vec![
        FlagSpec::new("version", K::Bool, false, "print version string"),
        FlagSpec::new("topic", K::String, "", "nsq topic"),
        FlagSpec::new("channel", K::String, "nsq_to_http", "nsq channel"),
        FlagSpec::new("max-in-flight", K::Int, 200, "max number of messages to allow in flight"),
        FlagSpec::new("n", K::Int, 100, "number of concurrent publishers"),
        FlagSpec::new("mode", K::String, "hostpool", "the upstream request mode options: round-robin, hostpool (default), epsilon-greedy"),
        FlagSpec::new("sample", K::Float, "1", "% of messages to publish (float b/w 0 -> 1)"),
        FlagSpec::new("http-client-connect-timeout", K::Duration, "2s", "timeout for HTTP connect"),
        FlagSpec::new("http-client-request-timeout", K::Duration, "20s", "timeout for HTTP request"),
        FlagSpec::new("status-every", K::Int, 250, "the # of requests between logging status (per handler), 0 disables"),
        FlagSpec::new("content-type", K::String, DEFAULT_CONTENT_TYPE, "the Content-Type used for POST requests"),
        FlagSpec::new("post", K::List, "", "HTTP address to make a POST request to.  data will be in the body (may be given multiple times)"),
        FlagSpec::new("header", K::List, "", "Custom header for HTTP requests (may be given multiple times)"),
        FlagSpec::new("get", K::List, "", "HTTP address to make a GET request to. '%s' will be printf replaced with data (may be given multiple times)"),
        FlagSpec::new("nsqd-tcp-address", K::List, "", "nsqd TCP address (may be given multiple times)"),
        FlagSpec::new("lookupd-http-address", K::List, "", "lookupd HTTP address (may be given multiple times)"),
        FlagSpec::new("consumer-opt", K::List, "", "option to passthrough to nsq.Consumer (may be given multiple times, http://godoc.org/github.com/nsqio/go-nsq#Config)"),
    ]
    .into_iter()
    .chain(nsq::client::tls_flags::specs())
    .collect()
}

/// Whether requests are POSTs of the body or GETs of a URL template.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    /// `--post`: the body is the message.
    Post,
    /// `--get`: the message, query-escaped, replaces the template's `%s`.
    Get,
}

/// Everything nsq_to_http reads from its command line, checked.
#[derive(Debug, Clone)]
pub struct Options {
    /// `--topic`.
    pub topic: String,
    /// `--channel`.
    pub channel: String,
    /// `--nsqd-tcp-address`.
    pub nsqd_tcp_addrs: Vec<String>,
    /// `--lookupd-http-address`.
    pub lookupd_http_addrs: Vec<String>,
    /// POST or GET, from which of `--post`/`--get` was given.
    pub method: Method,
    /// The `--post` URLs or `--get` templates, in flag order.
    pub addresses: Vec<String>,
    /// `--header`s as (name, value), split at the first `:` and trimmed, in order.
    pub headers: Vec<(String, String)>,
    /// `--content-type`.
    pub content_type: String,
    /// `--mode`, as given (any unknown word is nsq_to_http's "all" mode).
    pub mode: String,
    /// `--n`: handler threads, so requests at once.
    pub handlers: i64,
    /// `--sample`: the fraction of messages sent.
    pub sample: f64,
    /// `--http-client-connect-timeout` and `--http-client-request-timeout`.
    pub timeouts: Timeouts,
    /// `--status-every` (0: no status lines).
    pub status_every: usize,
    /// The consumer's go-nsq configuration (`--consumer-opt`, `--max-in-flight`, TLS).
    pub config: Config,
}

/// Go's flag parser checks every value as it reads it: a number, a float, a duration
/// or a boolean that does not parse is a flag error (`invalid value "x" for flag -n:
/// parse error`), not a failed check later.
pub fn check_values(specs: &[FlagSpec], p: &Parsed) -> Result<(), String> {
    for spec in specs {
        let checked = match spec.kind {
            FlagKind::Bool => p.get_bool(spec.name).map(drop),
            FlagKind::Int => p.get_i64(spec.name).map(drop),
            FlagKind::Uint => p.get_u64(spec.name).map(drop),
            FlagKind::Float => p.get_f64(spec.name).map(drop),
            FlagKind::Duration => p.get_duration(spec.name).map(drop),
            FlagKind::String | FlagKind::List => Ok(()),
        };
        checked.map_err(|e| e.to_string())?;
    }
    Ok(())
}

/// Go's flag parser applies each `--consumer-opt` as it reads it: an unknown key or
/// a value that does not parse is a flag error, `invalid value "nosuch,1" for flag
/// -consumer-opt: invalid option nosuch`. Bounds are checked with the whole
/// configuration, when the consumer is made (exit 1).
pub fn check_consumer_opts(p: &Parsed) -> Result<(), String> {
    let mut scratch = Config::default();
    for opt in p.get_list("consumer-opt").map_err(|e| e.to_string())? {
        if let Err(e) = scratch.set_flag(&opt) {
            let reason = match e {
                nsq::client::Error::Config(text) => match text.strip_prefix("unknown option ") {
                    Some(name) => format!("invalid option {}", name.trim_matches('"')),
                    None => text,
                },
                other => other.to_string(),
            };
            return Err(format!(
                "invalid value {opt:?} for flag -consumer-opt: {reason}"
            ));
        }
    }
    Ok(())
}

/// Go's `parseCustomHeaders`: `Name: value`, split at the first `:`, both sides
/// trimmed and non-empty.
fn parse_headers(raw: &[String]) -> Option<Vec<(String, String)>> {
    raw.iter()
        .map(|h| {
            let (name, value) = h.split_once(':')?;
            let (name, value) = (name.trim(), value.trim());
            (!name.is_empty() && !value.is_empty()).then(|| (name.to_string(), value.to_string()))
        })
        .collect()
}

/// A Go timeout flag: 0 means no timeout.
fn timeout(p: &Parsed, name: &str) -> Result<Duration, String> {
    let d = p.get_duration(name).map_err(|e| e.to_string())?;
    Ok(if d.is_zero() { NO_TIMEOUT } else { d })
}

/// Checks the parsed flags as Go's `main` does, in its order, and builds the options.
pub fn options(p: &Parsed) -> Result<Options, String> {
    let s = |name: &str| p.get_string(name).map_err(|e| e.to_string());
    let list = |name: &str| p.get_list(name).map_err(|e| e.to_string());
    let int = |name: &str| p.get_i64(name).map_err(|e| e.to_string());
    let headers =
        parse_headers(&list("header")?).ok_or("--header value format should be 'key=value'")?;
    let (topic, channel) = (s("topic")?, s("channel")?);
    if topic.is_empty() || channel.is_empty() {
        return Err("--topic and --channel are required".into());
    }
    let (posts, gets) = (list("post")?, list("get")?);
    let content_type = s("content-type")?;
    if content_type != DEFAULT_CONTENT_TYPE {
        if posts.is_empty() {
            return Err("--content-type only used with --post".into());
        }
        if content_type.is_empty() {
            return Err("--content-type requires a value when used".into());
        }
    }
    let (nsqd_tcp_addrs, lookupd_http_addrs) =
        (list("nsqd-tcp-address")?, list("lookupd-http-address")?);
    if nsqd_tcp_addrs.is_empty() && lookupd_http_addrs.is_empty() {
        return Err("--nsqd-tcp-address or --lookupd-http-address required".into());
    }
    if !nsqd_tcp_addrs.is_empty() && !lookupd_http_addrs.is_empty() {
        return Err("use --nsqd-tcp-address or --lookupd-http-address not both".into());
    }
    if gets.is_empty() && posts.is_empty() {
        return Err("--get or --post required".into());
    }
    if !gets.is_empty() && !posts.is_empty() {
        return Err("use --get or --post not both".into());
    }
    if gets.iter().any(|g| g.matches("%s").count() != 1) {
        return Err("invalid GET address - must be a printf string".into());
    }
    let sample = p.get_f64("sample").map_err(|e| e.to_string())?;
    // Go's comparison, word for word: NaN passes it (and then samples nothing out).
    #[allow(clippy::manual_range_contains)]
    if sample > 1.0 || sample < 0.0 {
        return Err("ERROR: --sample must be between 0.0 and 1.0".into());
    }
    let (method, addresses) = if posts.is_empty() {
        (Method::Get, gets)
    } else {
        (Method::Post, posts)
    };
    let max_in_flight = int("max-in-flight")?;
    let max_in_flight = u64::try_from(max_in_flight)
        .map_err(|_| format!("invalid max_in_flight ! {max_in_flight} < 0"))?;
    let config = nsq::client::tls_flags::tool_config(
        p,
        "consumer-opt",
        &list("consumer-opt")?,
        max_in_flight,
        "nsq_to_http",
    )?;
    Ok(Options {
        topic,
        channel,
        nsqd_tcp_addrs,
        lookupd_http_addrs,
        method,
        addresses,
        headers,
        content_type,
        mode: s("mode")?,
        handlers: int("n")?,
        sample,
        timeouts: Timeouts {
            connect: timeout(p, "http-client-connect-timeout")?,
            total: timeout(p, "http-client-request-timeout")?,
        },
        status_every: usize::try_from(int("status-every")?).unwrap_or(0),
        config,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<Options, String> {
        let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
        let parsed = nsq::flags::parse(&specs(), &args).map_err(|e| e.to_string())?;
        check_values(&specs(), &parsed)?;
        check_consumer_opts(&parsed)?;
        options(&parsed)
    }

    const NSQD: &str = "--nsqd-tcp-address=127.0.0.1:4150";
    const POST: &str = "--post=http://127.0.0.1:9998/in";

    #[test]
    fn go_defaults() {
        let o = parse(&[NSQD, "--topic=t", POST]).unwrap();
        assert_eq!(o.channel, "nsq_to_http");
        assert_eq!(o.method, Method::Post);
        assert_eq!(o.content_type, "application/octet-stream");
        assert_eq!((o.mode.as_str(), o.handlers), ("hostpool", 100));
        assert_eq!((o.sample, o.status_every), (1.0, 250));
        assert_eq!(o.timeouts.connect, Duration::from_secs(2));
        assert_eq!(o.timeouts.total, Duration::from_secs(20));
        assert_eq!(o.config.max_in_flight, 200);
        assert!(o.config.user_agent.starts_with("nsq_to_http/1.3.0 "));
    }

    #[test]
    fn headers_split_at_the_first_colon() {
        let o = parse(&[
            NSQD,
            "--topic=t",
            POST,
            "--header=X-Api-Key: s3cret",
            "--header=X-Two:b:c",
        ])
        .unwrap();
        let want = [("X-Api-Key", "s3cret"), ("X-Two", "b:c")];
        let got: Vec<(&str, &str)> = o
            .headers
            .iter()
            .map(|(n, v)| (n.as_str(), v.as_str()))
            .collect();
        assert_eq!(got, want);
    }

    #[test]
    fn gos_checks_in_gos_order() {
        let err = |args: &[&str]| parse(args).unwrap_err();
        let bad_header = "--header value format should be 'key=value'";
        assert_eq!(err(&["--header=X-A=1"]), bad_header);
        assert_eq!(err(&["--header=X-A:"]), bad_header);
        assert_eq!(err(&["--header=: v"]), bad_header);
        assert_eq!(err(&[]), "--topic and --channel are required");
        assert_eq!(
            err(&["--topic=t", "--channel="]),
            "--topic and --channel are required"
        );
        assert_eq!(
            err(&["--topic=t", "--content-type=a/b"]),
            "--content-type only used with --post"
        );
        assert_eq!(
            err(&["--topic=t", "--content-type="]),
            "--content-type only used with --post"
        );
        assert_eq!(
            err(&["--topic=t", POST, "--content-type="]),
            "--content-type requires a value when used"
        );
        assert_eq!(
            err(&["--topic=t", POST]),
            "--nsqd-tcp-address or --lookupd-http-address required"
        );
        assert_eq!(
            err(&["--topic=t", NSQD, "--lookupd-http-address=127.0.0.1:4161"]),
            "use --nsqd-tcp-address or --lookupd-http-address not both"
        );
        assert_eq!(err(&["--topic=t", NSQD]), "--get or --post required");
        assert_eq!(
            err(&["--topic=t", NSQD, POST, "--get=http://h/?d=%s"]),
            "use --get or --post not both"
        );
        let printf = "invalid GET address - must be a printf string";
        assert_eq!(err(&["--topic=t", NSQD, "--get=http://h/"]), printf);
        assert_eq!(
            err(&["--topic=t", NSQD, "--get=http://h/?a=%s&b=%s"]),
            printf
        );
        let sample = "ERROR: --sample must be between 0.0 and 1.0";
        assert_eq!(err(&["--topic=t", NSQD, POST, "--sample=1.5"]), sample);
        assert_eq!(err(&["--topic=t", NSQD, POST, "--sample=-0.1"]), sample);
    }

    #[test]
    fn consumer_opts_are_checked_like_flags() {
        let e = parse(&["--consumer-opt=nosuch,1"]).unwrap_err();
        assert_eq!(
            e,
            "invalid value \"nosuch,1\" for flag -consumer-opt: invalid option nosuch"
        );
        let e = parse(&["--consumer-opt=max_attempts,x"]).unwrap_err();
        assert!(
            e.starts_with("invalid value \"max_attempts,x\" for flag -consumer-opt: "),
            "{e}"
        );
        let e = parse(&["--n=abc"]).unwrap_err();
        assert_eq!(e, "invalid value \"abc\" for flag -n: parse error");
        let o = parse(&[
            NSQD,
            "--topic=t",
            POST,
            "--consumer-opt=max_in_flight,7",
            "--max-in-flight=9",
        ])
        .unwrap();
        assert_eq!(o.config.max_in_flight, 9, "--max-in-flight wins, as in Go");
    }

    #[test]
    fn get_templates_and_zero_timeouts() {
        let o = parse(&[
            NSQD,
            "--topic=t",
            "--get=http://h/get?data=%s&x=1",
            "--http-client-request-timeout=0",
            "--status-every=0",
        ])
        .unwrap();
        assert_eq!(o.method, Method::Get);
        assert_eq!(o.addresses, ["http://h/get?data=%s&x=1"]);
        assert_eq!(o.timeouts.total, NO_TIMEOUT);
        assert_eq!(o.status_every, 0);
    }
}
