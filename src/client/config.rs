//! Client configuration under go-nsq's option names (`nsq.NewConfig()`), settable by
//! name from text (as the tools' `--producer-opt` / `--consumer-opt` flags do) and
//! validated with go-nsq's bounds, including the TLS options (`tls_v1`,
//! `tls_root_ca_file`, `tls_cert`, `tls_key`, `tls_insecure_skip_verify`,
//! `tls_min_version`) that make the [`ClientTls`] a connection upgrades with.

use super::Error;
use crate::common::gotime::format_duration;
use crate::flags::{parse_bool, parse_duration};
use crate::tls::{ClientSpec, ClientTls, MinVersion};
use std::time::Duration;

/// How the consumer's backoff grows after failures.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BackoffStrategy {
    /// `backoff_multiplier × 2^level`.
    Exponential,
    /// A random duration up to `backoff_multiplier × 2^level`.
    FullJitter,
}

/// Every setting of a producer or consumer. `Config::default()` is go-nsq's
/// `NewConfig()`.
///
/// ```
/// use nsq::client::Config;
/// use std::time::Duration;
///
/// let mut config = Config { max_in_flight: 100, ..Config::default() };
/// config.set("heartbeat_interval", "10s")?;        // by go-nsq's name
/// config.set_flag("max_attempts,3")?;              // a --consumer-opt value
/// config.validate()?;
/// assert_eq!(config.heartbeat_interval, Some(Duration::from_secs(10)));
/// config.set("sample_rate", "100")?;
/// assert_eq!(
///     config.validate().unwrap_err().to_string(),
///     "invalid config: invalid sample_rate ! 100 > 99"
/// );
/// # Ok::<(), nsq::client::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct Config {
    /// Deadline to establish a TCP connection.
    pub dial_timeout: Duration,
    /// Deadline for a read; must exceed `heartbeat_interval`.
    pub read_timeout: Duration,
    /// Deadline for a write.
    pub write_timeout: Duration,
    /// Consumer: how often lookupd is polled (also the reconnect interval without it).
    pub lookupd_poll_interval: Duration,
    /// Consumer: fraction of the interval used as random jitter on the first poll.
    pub lookupd_poll_jitter: f64,
    /// Consumer: deadline of a lookupd query.
    pub lookupd_poll_timeout: Duration,
    /// Consumer: requeue delay per attempt when a handler fails.
    pub default_requeue_delay: Duration,
    /// Consumer: largest automatic requeue delay.
    pub max_requeue_delay: Duration,
    /// Consumer: how backoff durations grow.
    pub backoff_strategy: BackoffStrategy,
    /// Consumer: longest backoff.
    pub max_backoff_duration: Duration,
    /// Consumer: the unit of backoff.
    pub backoff_multiplier: Duration,
    /// Consumer: a message delivered more often than this is given up (0: never).
    pub max_attempts: u16,
    /// Consumer: an idle connection gives up its RDY after this long.
    pub low_rdy_idle_timeout: Duration,
    /// Consumer: how long a connection may hold a low RDY before it is redistributed.
    pub low_rdy_timeout: Duration,
    /// Consumer: how often RDY is redistributed when connections exceed max_in_flight.
    pub rdy_redistribute_interval: Duration,
    /// Sent in IDENTIFY.
    pub client_id: String,
    /// Sent in IDENTIFY.
    pub hostname: String,
    /// Sent in IDENTIFY.
    pub user_agent: String,
    /// Requested heartbeat interval (`None`: heartbeats disabled, -1 on the wire).
    pub heartbeat_interval: Option<Duration>,
    /// Consumer: percentage of messages to receive (0: all).
    pub sample_rate: u8,
    /// Ask nsqd for TLS (needs the `tls` feature); the connection upgrades when
    /// nsqd grants it and stays plain when it does not, as go-nsq's.
    pub tls_v1: bool,
    /// TLS: PEM file of the CAs nsqd's certificate must chain to (empty: the
    /// system's CA bundle).
    pub tls_root_ca_file: String,
    /// TLS: accept any server certificate.
    pub tls_insecure_skip_verify: bool,
    /// TLS: PEM file of the client certificate, shown when nsqd asks for one.
    pub tls_cert: String,
    /// TLS: PEM file of the client certificate's key.
    pub tls_key: String,
    /// TLS: the lowest version offered (`tls1.0`..`tls1.3`; TLS 1.2 is the floor).
    pub tls_min_version: MinVersion,
    /// TLS: a ready configuration (go-nsq's `tls_config`); when set, the file
    /// options above are not read.
    pub tls_config: Option<ClientTls>,
    /// Ask nsqd for deflate (needs the `deflate` feature).
    pub deflate: bool,
    /// Deflate level (1..=9).
    pub deflate_level: u8,
    /// Ask nsqd for snappy (needs the `snappy` feature).
    pub snappy: bool,
    /// Requested server-side output buffer size in bytes (-1 disables).
    pub output_buffer_size: i64,
    /// Requested server-side output buffer timeout (`None`: -1 on the wire).
    pub output_buffer_timeout: Option<Duration>,
    /// Consumer: messages in flight at once over all connections.
    pub max_in_flight: u64,
    /// Requested message timeout (zero: the server's default).
    pub msg_timeout: Duration,
    /// Largest frame accepted from the server, in bytes (0: no limit).
    pub max_msg_size: u64,
    /// Sent with AUTH when the server asks for it.
    pub auth_secret: String,
    /// Sent in IDENTIFY.
    pub topology_region: String,
    /// Sent in IDENTIFY.
    pub topology_zone: String,
}

/// The local host name (from `/proc` or `$HOSTNAME`), `"localhost"` if unknown.
pub fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .or_else(|| std::env::var("HOSTNAME").ok())
        .map(|h| h.trim().to_string())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "localhost".to_string())
}

impl Default for Config {
    fn default() -> Config {
        let host = hostname();
        let short = host.split('.').next().unwrap_or(&host).to_string();
        Config {
            dial_timeout: Duration::from_secs(1),
            read_timeout: Duration::from_secs(60),
            write_timeout: Duration::from_secs(1),
            lookupd_poll_interval: Duration::from_secs(60),
            lookupd_poll_jitter: 0.3,
            lookupd_poll_timeout: Duration::from_secs(60),
            default_requeue_delay: Duration::from_secs(90),
            max_requeue_delay: Duration::from_secs(15 * 60),
            backoff_strategy: BackoffStrategy::Exponential,
            max_backoff_duration: Duration::from_secs(120),
            backoff_multiplier: Duration::from_secs(1),
            max_attempts: 5,
            low_rdy_idle_timeout: Duration::from_secs(10),
            low_rdy_timeout: Duration::from_secs(30),
            rdy_redistribute_interval: Duration::from_secs(5),
            client_id: short,
            hostname: host,
            user_agent: format!("nsq-rs/{}", env!("CARGO_PKG_VERSION")),
            heartbeat_interval: Some(Duration::from_secs(30)),
            sample_rate: 0,
            tls_v1: false,
            tls_root_ca_file: String::new(),
            tls_insecure_skip_verify: false,
            tls_cert: String::new(),
            tls_key: String::new(),
            tls_min_version: MinVersion::Tls10,
            tls_config: None,
            deflate: false,
            deflate_level: 6,
            snappy: false,
            output_buffer_size: 16384,
            output_buffer_timeout: Some(Duration::from_millis(250)),
            max_in_flight: 1,
            msg_timeout: Duration::ZERO,
            max_msg_size: 0,
            auth_secret: String::new(),
            topology_region: String::new(),
            topology_zone: String::new(),
        }
    }
}

fn bad(name: &str, value: &str, why: &str) -> Error {
    Error::Config(format!("{name}: {value:?} is not {why}"))
}

fn duration(name: &str, value: &str) -> Result<Duration, Error> {
    parse_duration(value).ok_or_else(|| bad(name, value, "a duration (e.g. 1s, 250ms)"))
}

fn optional_duration(name: &str, value: &str) -> Result<Option<Duration>, Error> {
    match value {
        "-1" | "-1ms" | "-1s" => Ok(None),
        _ => duration(name, value).map(Some),
    }
}

fn number<T: std::str::FromStr>(name: &str, value: &str) -> Result<T, Error> {
    value
        .parse()
        .map_err(|_| bad(name, value, "a number in range"))
}

fn boolean(name: &str, value: &str) -> Result<bool, Error> {
    parse_bool(value).ok_or_else(|| bad(name, value, "a boolean"))
}

fn range<T: PartialOrd + std::fmt::Display>(name: &str, v: T, min: T, max: T) -> Result<(), Error> {
    if v < min {
        return Err(Error::Config(format!("invalid {name} ! {v} < {min}")));
    }
    if v > max {
        return Err(Error::Config(format!("invalid {name} ! {v} > {max}")));
    }
    Ok(())
}

fn duration_range(name: &str, v: Duration, min: Duration, max: Duration) -> Result<(), Error> {
    if v < min {
        let (v, min) = (format_duration(v), format_duration(min));
        return Err(Error::Config(format!("invalid {name} ! {v} < {min}")));
    }
    if v > max {
        let (v, max) = (format_duration(v), format_duration(max));
        return Err(Error::Config(format!("invalid {name} ! {v} > {max}")));
    }
    Ok(())
}

const MS: Duration = Duration::from_millis(1);
const SEC: Duration = Duration::from_secs(1);
const MIN: Duration = Duration::from_secs(60);

impl Config {
    /// Sets option `name` (go-nsq's name, e.g. `max_in_flight` or `max-in-flight`)
    /// from text: durations as `1s`/`250ms`, booleans as `true`/`false`. The value is
    /// range-checked by [`Config::validate`], not here.
    pub fn set(&mut self, name: &str, value: &str) -> Result<(), Error> {
        let name = name.replace('-', "_");
        let name = name.as_str();
        match name {
            "dial_timeout" => self.dial_timeout = duration(name, value)?,
            "read_timeout" => self.read_timeout = duration(name, value)?,
            "write_timeout" => self.write_timeout = duration(name, value)?,
            "lookupd_poll_interval" => self.lookupd_poll_interval = duration(name, value)?,
            "lookupd_poll_jitter" => self.lookupd_poll_jitter = number(name, value)?,
            "lookupd_poll_timeout" => self.lookupd_poll_timeout = duration(name, value)?,
            "default_requeue_delay" => self.default_requeue_delay = duration(name, value)?,
            "max_requeue_delay" => self.max_requeue_delay = duration(name, value)?,
            "backoff_strategy" => {
                self.backoff_strategy = match value {
                    "" | "exponential" => BackoffStrategy::Exponential,
                    "full_jitter" => BackoffStrategy::FullJitter,
                    _ => return Err(bad(name, value, "exponential or full_jitter")),
                }
            }
            "max_backoff_duration" => self.max_backoff_duration = duration(name, value)?,
            "backoff_multiplier" => self.backoff_multiplier = duration(name, value)?,
            "max_attempts" => self.max_attempts = number(name, value)?,
            "low_rdy_idle_timeout" => self.low_rdy_idle_timeout = duration(name, value)?,
            "low_rdy_timeout" => self.low_rdy_timeout = duration(name, value)?,
            "rdy_redistribute_interval" => self.rdy_redistribute_interval = duration(name, value)?,
            "client_id" => self.client_id = value.to_string(),
            "hostname" => self.hostname = value.to_string(),
            "user_agent" => self.user_agent = value.to_string(),
            "heartbeat_interval" => self.heartbeat_interval = optional_duration(name, value)?,
            "sample_rate" => self.sample_rate = number(name, value)?,
            "tls_v1" => self.tls_v1 = boolean(name, value)?,
            "tls_root_ca_file" => self.tls_root_ca_file = value.to_string(),
            "tls_insecure_skip_verify" => self.tls_insecure_skip_verify = boolean(name, value)?,
            "tls_cert" => self.tls_cert = value.to_string(),
            "tls_key" => self.tls_key = value.to_string(),
            "tls_min_version" => {
                self.tls_min_version = MinVersion::parse(value)
                    .ok_or_else(|| bad(name, value, "ssl3.0, tls1.0, tls1.1, tls1.2 or tls1.3"))?
            }
            "deflate" => self.deflate = boolean(name, value)?,
            "deflate_level" => self.deflate_level = number(name, value)?,
            "snappy" => self.snappy = boolean(name, value)?,
            "output_buffer_size" => self.output_buffer_size = number(name, value)?,
            "output_buffer_timeout" => self.output_buffer_timeout = optional_duration(name, value)?,
            "max_in_flight" => self.max_in_flight = number(name, value)?,
            "msg_timeout" => self.msg_timeout = duration(name, value)?,
            "max_msg_size" => self.max_msg_size = number(name, value)?,
            "auth_secret" => self.auth_secret = value.to_string(),
            "topology_region" => self.topology_region = value.to_string(),
            "topology_zone" => self.topology_zone = value.to_string(),
            _ => return Err(Error::Config(format!("unknown option {name:?}"))),
        }
        Ok(())
    }

    /// Applies one `--producer-opt` / `--consumer-opt` value as go-nsq's `ConfigFlag`
    /// does: `name,value`, or `name` alone for a boolean set to true.
    pub fn set_flag(&mut self, opt: &str) -> Result<(), Error> {
        match opt.split_once(',') {
            Some((name, value)) => self.set(name, value),
            None => self.set(opt, "true"),
        }
    }

    /// Checks every value against go-nsq's bounds; the error names the option.
    pub fn validate(&self) -> Result<(), Error> {
        duration_range("dial_timeout", self.dial_timeout, MS, 5 * MIN)?;
        duration_range("read_timeout", self.read_timeout, 100 * MS, 5 * MIN)?;
        duration_range("write_timeout", self.write_timeout, 100 * MS, 5 * MIN)?;
        duration_range(
            "lookupd_poll_interval",
            self.lookupd_poll_interval,
            10 * MS,
            5 * MIN,
        )?;
        range("lookupd_poll_jitter", self.lookupd_poll_jitter, 0.0, 1.0)?;
        duration_range(
            "lookupd_poll_timeout",
            self.lookupd_poll_timeout,
            10 * MS,
            5 * MIN,
        )?;
        duration_range(
            "default_requeue_delay",
            self.default_requeue_delay,
            Duration::ZERO,
            60 * MIN,
        )?;
        duration_range(
            "max_requeue_delay",
            self.max_requeue_delay,
            Duration::ZERO,
            60 * MIN,
        )?;
        duration_range(
            "max_backoff_duration",
            self.max_backoff_duration,
            Duration::ZERO,
            60 * MIN,
        )?;
        duration_range(
            "backoff_multiplier",
            self.backoff_multiplier,
            Duration::ZERO,
            60 * MIN,
        )?;
        duration_range(
            "low_rdy_idle_timeout",
            self.low_rdy_idle_timeout,
            SEC,
            5 * MIN,
        )?;
        duration_range("low_rdy_timeout", self.low_rdy_timeout, SEC, 5 * MIN)?;
        duration_range(
            "rdy_redistribute_interval",
            self.rdy_redistribute_interval,
            MS,
            5 * SEC,
        )?;
        range("sample_rate", self.sample_rate, 0, 99)?;
        range("deflate_level", self.deflate_level, 1, 9)?;
        range("output_buffer_size", self.output_buffer_size, -1, i64::MAX)?;
        if let Some(hb) = self.heartbeat_interval {
            if hb >= self.read_timeout {
                return Err(Error::Config(format!(
                    "heartbeat_interval {} must be less than read_timeout {}",
                    format_duration(hb),
                    format_duration(self.read_timeout)
                )));
            }
        }
        let unsupported = [
            (
                "tls_v1",
                self.tls_v1 && !crate::tls::ENABLED,
                "build with --features tls",
            ),
            (
                "deflate",
                self.deflate && !crate::compress::DEFLATE,
                "build with --features deflate",
            ),
            (
                "snappy",
                self.snappy && !crate::compress::SNAPPY,
                "build with --features snappy",
            ),
        ];
        for (name, on, why) in unsupported {
            if on {
                return Err(Error::Config(format!(
                    "{name} is not supported by this client: {why}"
                )));
            }
        }
        if self.deflate && self.snappy {
            return Err(Error::Config(
                "cannot enable both deflate and snappy".into(),
            ));
        }
        Ok(())
    }

    /// The TLS options as a [`ClientSpec`].
    pub fn tls_spec(&self) -> ClientSpec {
        ClientSpec {
            root_ca: self.tls_root_ca_file.clone(),
            cert: self.tls_cert.clone(),
            key: self.tls_key.clone(),
            insecure_skip_verify: self.tls_insecure_skip_verify,
            min_version: self.tls_min_version,
        }
    }

    /// The TLS configuration a connection upgrades with: `tls_config`, or one built
    /// from the `tls_*` file options (an [`Error::Config`] naming the file at fault).
    pub fn client_tls(&self) -> Result<ClientTls, Error> {
        match &self.tls_config {
            Some(tls) => Ok(tls.clone()),
            None => {
                ClientTls::new(&self.tls_spec()).map_err(|e| Error::Config(format!("tls: {e}")))
            }
        }
    }

    /// Validates, and with `tls_v1` or any TLS file option builds the TLS
    /// configuration once (reading its files now, so a bad one is refused before
    /// anything is dialed; it also serves `https://` lookupd addresses).
    pub(crate) fn prepared(mut self) -> Result<Config, Error> {
        self.validate()?;
        let wanted = self.tls_v1
            || self.tls_insecure_skip_verify
            || !self.tls_root_ca_file.is_empty()
            || !self.tls_cert.is_empty()
            || !self.tls_key.is_empty();
        if wanted && self.tls_config.is_none() {
            self.tls_config = Some(self.client_tls()?);
        }
        Ok(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tls_options_by_go_nsq_name() {
        let mut c = Config::default();
        c.set_flag("tls_v1").unwrap();
        c.set("tls_root_ca_file", "/ca.pem").unwrap();
        c.set("tls-cert", "/c.pem").unwrap();
        c.set("tls_key", "/c.key").unwrap();
        c.set_flag("tls_insecure_skip_verify,true").unwrap();
        c.set("tls_min_version", "tls1.3").unwrap();
        assert!(c.tls_v1 && c.tls_insecure_skip_verify);
        assert_eq!(
            c.tls_spec(),
            ClientSpec {
                root_ca: "/ca.pem".into(),
                cert: "/c.pem".into(),
                key: "/c.key".into(),
                insecure_skip_verify: true,
                min_version: MinVersion::Tls13,
            }
        );
        let e = c.set("tls_min_version", "tls9").unwrap_err().to_string();
        assert!(e.contains("tls_min_version"), "{e}");
        // The files do not exist: refused before anything is dialed.
        let e = c.prepared().unwrap_err().to_string();
        if crate::tls::ENABLED {
            assert!(e.contains("/c.pem"), "{e}");
        } else {
            assert!(e.contains("--features tls"), "{e}");
        }
    }

    #[test]
    fn defaults_are_go_nsqs_and_valid() {
        let c = Config::default();
        c.validate().unwrap();
        assert_eq!(c.max_in_flight, 1);
        assert_eq!(c.max_attempts, 5);
        assert_eq!(c.heartbeat_interval, Some(Duration::from_secs(30)));
        assert_eq!(c.default_requeue_delay, Duration::from_secs(90));
        assert_eq!(c.lookupd_poll_interval, Duration::from_secs(60));
    }

    #[test]
    fn options_are_set_by_go_nsq_name() {
        let mut c = Config::default();
        c.set_flag("max_in_flight,200").unwrap();
        c.set("heartbeat-interval", "5s").unwrap();
        c.set("backoff_strategy", "full_jitter").unwrap();
        c.set("output_buffer_timeout", "-1").unwrap();
        assert_eq!(c.max_in_flight, 200);
        assert_eq!(c.heartbeat_interval, Some(Duration::from_secs(5)));
        assert_eq!(c.backoff_strategy, BackoffStrategy::FullJitter);
        assert_eq!(c.output_buffer_timeout, None);
        c.validate().unwrap();
    }

    #[test]
    fn bad_values_get_errors_naming_the_option() {
        let mut c = Config::default();
        let e = c.set("max_in_flight", "lots").unwrap_err().to_string();
        assert!(e.contains("max_in_flight"), "{e}");
        let e = c.set("no_such_option", "1").unwrap_err().to_string();
        assert!(e.contains("no_such_option"), "{e}");
        c.set("sample_rate", "100").unwrap();
        let e = c.validate().unwrap_err().to_string();
        assert_eq!(e, "invalid config: invalid sample_rate ! 100 > 99");
        let mut c = Config::default();
        c.set("heartbeat_interval", "2m").unwrap();
        let e = c.validate().unwrap_err().to_string();
        assert!(e.contains("must be less than read_timeout"), "{e}");
        let mut c = Config::default();
        c.set("tls_v1", "true").unwrap();
        assert_eq!(
            c.validate().is_ok(),
            crate::tls::ENABLED,
            "tls needs its feature"
        );
        let mut c = Config::default();
        c.set("snappy", "true").unwrap();
        assert_eq!(
            c.validate().is_ok(),
            crate::compress::SNAPPY,
            "snappy needs its feature"
        );
        c.set("deflate", "true").unwrap();
        assert!(c.validate().is_err(), "never both");
    }
}
