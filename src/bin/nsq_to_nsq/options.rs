//! nsq_to_nsq's command line: Go's flags with Go's defaults and help texts, the
//! flag values Go's `flag` package refuses (exit 2: a bad `--consumer-opt`, a
//! non-number `--max-in-flight`), and the checks Go's `main` makes afterwards, in
//! the same order and with the same messages (exit 1).
//!
//! There are no `--tls*` flags, as in Go: TLS is `--consumer-opt=tls_v1` (source)
//! and `--producer-opt=tls_v1` (destinations), each side on its own.

use crate::filter::Filter;
use nsq::client::pool::Mode;
use nsq::client::{tls_flags, Config};
use nsq::flags::{FlagError, FlagKind, FlagSpec, Parsed};

/// Everything nsq_to_nsq needs from its command line, checked.
#[derive(Debug)]
pub struct Options {
    /// `--topic`: the source topics, one consumer each.
    pub topics: Vec<String>,
    /// `--channel`: the source channel of every topic.
    pub channel: String,
    /// `--destination-topic`: "" republishes each topic under its own name.
    pub destination_topic: String,
    /// `--nsqd-tcp-address`: source nsqds (xor `lookupd`).
    pub nsqd: Vec<String>,
    /// `--lookupd-http-address`: source nsqlookupds (xor `nsqd`).
    pub lookupd: Vec<String>,
    /// `--destination-nsqd-tcp-address`: one producer each.
    pub destinations: Vec<String>,
    /// `--mode`: how a destination is chosen per message.
    pub mode: Mode,
    /// `--status-every`: status line window; 0 disables.
    pub status_every: usize,
    /// The JSON filter flags.
    pub filter: Filter,
    /// The consumers' go-nsq configuration (`--consumer-opt`, `--max-in-flight`).
    pub consumer: Config,
    /// The producers' go-nsq configuration (`--producer-opt`).
    pub producer: Config,
}

/// The flag table, with Go's names, defaults and help texts.
pub fn specs() -> Vec<FlagSpec> {
    use FlagKind as K;
    vec![
        FlagSpec::new("version", K::Bool, false, "print version string"),
        FlagSpec::new("topic", K::List, "", "nsq topic (may be given multiple times)"),
        FlagSpec::new("channel", K::String, "nsq_to_nsq", "nsq channel"),
        FlagSpec::new("destination-topic", K::String, "", "use this destination topic for all consumed topics (default is consumed topic name)"),
        FlagSpec::new("max-in-flight", K::Int, 200, "max number of messages to allow in flight"),
        FlagSpec::new("status-every", K::Int, 250, "the # of requests between logging status (per destination), 0 disables"),
        FlagSpec::new("mode", K::String, "hostpool", "the upstream request mode options: round-robin, hostpool (default), epsilon-greedy"),
        FlagSpec::new("nsqd-tcp-address", K::List, "", "nsqd TCP address (may be given multiple times)"),
        FlagSpec::new("destination-nsqd-tcp-address", K::List, "", "destination nsqd TCP address (may be given multiple times)"),
        FlagSpec::new("lookupd-http-address", K::List, "", "lookupd HTTP address (may be given multiple times)"),
        FlagSpec::new("whitelist-json-field", K::List, "", "for JSON messages: pass this field (may be given multiple times)"),
        FlagSpec::new("require-json-field", K::String, "", "for JSON messages: only pass messages that contain this field"),
        FlagSpec::new("require-json-value", K::String, "", "for JSON messages: only pass messages in which the required field has this value"),
        FlagSpec::new("consumer-opt", K::List, "", "option to passthrough to nsq.Consumer (may be given multiple times, see http://godoc.org/github.com/nsqio/go-nsq#Config)"),
        FlagSpec::new("producer-opt", K::List, "", "option to passthrough to nsq.Producer (may be given multiple times, see http://godoc.org/github.com/nsqio/go-nsq#Config)"),
    ]
}

/// The values Go's `flag` package itself refuses, in Go's words (`invalid value
/// "nosuch,1" for flag -consumer-opt: invalid option nosuch`): the caller exits 2.
/// go-nsq checks an option's value and bounds as the flag is set.
pub fn check_flag_values(p: &Parsed) -> Result<(), String> {
    for name in ["max-in-flight", "status-every"] {
        p.get_i64(name).map_err(|e| e.to_string())?;
    }
    for flag in ["consumer-opt", "producer-opt"] {
        for opt in p.get_list(flag).map_err(|e| e.to_string())? {
            let mut config = Config::default();
            let checked = config.set_flag(&opt).and_then(|()| config.validate());
            if let Err(e) = checked {
                return Err(
                    FlagError::invalid_value(flag, &opt, go_option_error(&opt, e)).to_string(),
                );
            }
        }
    }
    Ok(())
}

/// go-nsq's wording for a refused option: `invalid option NAME` for an unknown one,
/// else the reason without our `invalid config: ` lead.
fn go_option_error(opt: &str, e: nsq::client::Error) -> String {
    let text = match e {
        nsq::client::Error::Config(text) => text,
        other => other.to_string(),
    };
    if text.starts_with("unknown option") {
        let name = opt.split_once(',').map_or(opt, |(name, _)| name);
        return format!("invalid option {name}");
    }
    text
}

/// Checks the parsed flags as Go's `main` does, in its order, and builds the options.
pub fn options(p: &Parsed) -> Result<Options, String> {
    let s = |name: &str| p.get_string(name).map_err(|e| e.to_string());
    let list = |name: &str| p.get_list(name).map_err(|e| e.to_string());
    let int = |name: &str| p.get_i64(name).map_err(|e| e.to_string());
    let topics = list("topic")?;
    let channel = s("channel")?;
    if topics.is_empty() || channel.is_empty() {
        return Err("--topic and --channel are required".into());
    }
    if topics
        .iter()
        .any(|t| !nsq::proto::is_valid_name(t.as_bytes()))
    {
        return Err("--topic is invalid".into());
    }
    let destination_topic = s("destination-topic")?;
    if !destination_topic.is_empty() && !nsq::proto::is_valid_name(destination_topic.as_bytes()) {
        return Err("--destination-topic is invalid".into());
    }
    if !nsq::proto::is_valid_name(channel.as_bytes()) {
        return Err("--channel is invalid".into());
    }
    let (nsqd, lookupd) = (list("nsqd-tcp-address")?, list("lookupd-http-address")?);
    if nsqd.is_empty() && lookupd.is_empty() {
        return Err("--nsqd-tcp-address or --lookupd-http-address required".into());
    }
    if !nsqd.is_empty() && !lookupd.is_empty() {
        return Err("use --nsqd-tcp-address or --lookupd-http-address not both".into());
    }
    let destinations = list("destination-nsqd-tcp-address")?;
    if destinations.is_empty() {
        return Err("--destination-nsqd-tcp-address required".into());
    }
    let max_in_flight = int("max-in-flight")?;
    // go-nsq refuses it when the consumer is made, in its own words.
    let max_in_flight = u64::try_from(max_in_flight)
        .map_err(|_| format!("invalid max_in_flight ! {max_in_flight} < 0"))?;
    // No TLS flags here (Go has none): an empty set of them leaves the configs alone.
    let no_tls = nsq::flags::parse(&tls_flags::specs(), &[]).map_err(|e| e.to_string())?;
    let consumer = tls_flags::tool_config(
        &no_tls,
        "consumer-opt",
        &list("consumer-opt")?,
        max_in_flight,
        "nsq_to_nsq",
    )?;
    let producer = tls_flags::tool_config(
        &no_tls,
        "producer-opt",
        &list("producer-opt")?,
        1,
        "nsq_to_nsq",
    )?;
    Ok(Options {
        topics,
        channel,
        destination_topic,
        nsqd,
        lookupd,
        destinations,
        // Any other word is round-robin, without a complaint, as in Go.
        mode: Mode::parse(&s("mode")?, Mode::RoundRobin),
        // Go would panic on a negative window; here it disables the lines.
        status_every: int("status-every")?.max(0) as usize,
        filter: Filter::new(
            &s("require-json-field")?,
            &s("require-json-value")?,
            list("whitelist-json-field")?,
        ),
        consumer,
        producer,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parsed(args: &[&str]) -> Parsed {
        let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
        nsq::flags::parse(&specs(), &args).expect("flags parse")
    }

    fn parse(args: &[&str]) -> Result<Options, String> {
        let p = parsed(args);
        check_flag_values(&p)?;
        options(&p)
    }

    const SRC: &str = "--nsqd-tcp-address=127.0.0.1:4150";
    const DST: &str = "--destination-nsqd-tcp-address=127.0.0.2:4250";

    #[test]
    fn go_defaults() {
        let o = parse(&[SRC, DST, "--topic=t"]).unwrap();
        assert_eq!(o.channel, "nsq_to_nsq");
        assert_eq!(o.destination_topic, "");
        assert_eq!(o.mode, Mode::HostPool);
        assert_eq!(o.status_every, 250);
        assert_eq!(o.consumer.max_in_flight, 200);
        assert!(!o.filter.is_active());
        assert!(o.consumer.user_agent.starts_with("nsq_to_nsq/1.3.0 "));
        assert!(o.producer.user_agent.starts_with("nsq_to_nsq/1.3.0 "));
        assert!(!o.consumer.tls_v1 && !o.producer.tls_v1);
    }

    #[test]
    fn repeatable_flags_modes_and_opts() {
        let o = parse(&[
            "--lookupd-http-address=127.0.0.1:4161",
            "--lookupd-http-address=127.0.0.1:4162",
            "--topic=t1",
            "--topic=t2",
            "--channel=copy",
            DST,
            "--destination-nsqd-tcp-address=127.0.0.1:4150",
            "--mode=bogus",
            "--consumer-opt=max_in_flight,7",
            "--consumer-opt=default_requeue_delay,1s",
            "--producer-opt=client_id,n2n-prod",
            "--max-in-flight=9",
            "--status-every=3",
        ])
        .unwrap();
        assert_eq!(o.topics, ["t1", "t2"]);
        assert_eq!((o.lookupd.len(), o.destinations.len()), (2, 2));
        assert_eq!(o.mode, Mode::RoundRobin, "an unknown mode is round-robin");
        assert_eq!(o.consumer.max_in_flight, 9, "--max-in-flight wins");
        assert_eq!(o.consumer.default_requeue_delay.as_secs(), 1);
        assert_eq!(o.producer.client_id, "n2n-prod");
        assert_eq!(o.status_every, 3);
        for (word, mode) in [
            ("round-robin", Mode::RoundRobin),
            ("hostpool", Mode::HostPool),
            ("epsilon-greedy", Mode::EpsilonGreedy),
        ] {
            let o = parse(&[SRC, DST, "--topic=t", &format!("--mode={word}")]).unwrap();
            assert_eq!(o.mode, mode);
        }
    }

    #[test]
    fn gos_checks_in_gos_order() {
        let err = |args: &[&str]| parse(args).unwrap_err();
        assert_eq!(err(&[]), "--topic and --channel are required");
        assert_eq!(
            err(&["--topic=t", "--channel="]),
            "--topic and --channel are required"
        );
        assert_eq!(
            err(&["--topic=ok", "--topic=b@d", "--channel=b@d"]),
            "--topic is invalid"
        );
        assert_eq!(
            err(&["--topic=t", "--destination-topic=b@d", "--channel=b@d"]),
            "--destination-topic is invalid"
        );
        assert_eq!(err(&["--topic=t", "--channel=b@d"]), "--channel is invalid");
        assert_eq!(
            err(&["--topic=t", DST]),
            "--nsqd-tcp-address or --lookupd-http-address required"
        );
        assert_eq!(
            err(&["--topic=t", SRC, "--lookupd-http-address=h:1", DST]),
            "use --nsqd-tcp-address or --lookupd-http-address not both"
        );
        assert_eq!(
            err(&["--topic=t", SRC]),
            "--destination-nsqd-tcp-address required"
        );
        assert_eq!(
            err(&["--topic=t", SRC, DST, "--max-in-flight=-1"]),
            "invalid max_in_flight ! -1 < 0"
        );
        assert!(parse(&["--topic=t#ephemeral", "--channel=c#ephemeral", SRC, DST]).is_ok());
    }

    #[test]
    fn refused_flag_values_in_gos_words() {
        let bad = |args: &[&str]| check_flag_values(&parsed(args)).unwrap_err();
        assert_eq!(
            bad(&["--consumer-opt=nosuch,1"]),
            r#"invalid value "nosuch,1" for flag -consumer-opt: invalid option nosuch"#
        );
        assert_eq!(
            bad(&["--producer-opt=nosuch"]),
            r#"invalid value "nosuch" for flag -producer-opt: invalid option nosuch"#
        );
        assert!(bad(&["--consumer-opt=max_attempts,x"])
            .starts_with(r#"invalid value "max_attempts,x" for flag -consumer-opt: "#));
        assert_eq!(
            bad(&["--consumer-opt=read_timeout,1ms"]),
            r#"invalid value "read_timeout,1ms" for flag -consumer-opt: invalid read_timeout ! 1ms < 100ms"#
        );
        assert_eq!(
            bad(&["--max-in-flight=lots"]),
            r#"invalid value "lots" for flag -max-in-flight: parse error"#
        );
        assert!(check_flag_values(&parsed(&["--consumer-opt=snappy,false"])).is_ok());
    }
}
