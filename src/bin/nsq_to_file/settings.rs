//! [`Options`]: everything nsq_to_file reads from its command line, once checked.
//! Plain data, shared by the flag parsing in `options` and by the rest of the tool
//! (`filename`, the loggers, the router); it imports nothing of the tool.

use crate::pattern::Pattern;
use nsq::client::Config;
use std::path::PathBuf;
use std::time::Duration;

/// Everything the tool reads from its command line, checked.
#[derive(Debug, Clone)]
pub struct Options {
    /// `--topic`: topics to consume (none: discover them through lookupd).
    pub topics: Vec<String>,
    /// `--topic-pattern`: only topics matching it are consumed.
    pub topic_pattern: Option<Pattern>,
    /// `--topic-refresh`: how often lookupd's topic list is read when discovering.
    pub topic_refresh: Duration,
    /// `--channel`.
    pub channel: String,
    /// `--nsqd-tcp-address`.
    pub nsqd_tcp_addrs: Vec<String>,
    /// `--lookupd-http-address`.
    pub lookupd_http_addrs: Vec<String>,
    /// `--max-in-flight`: also the number of written messages that forces a sync.
    pub max_in_flight: usize,
    /// `--http-client-connect-timeout` and `--http-client-request-timeout`: the
    /// deadlines of one lookupd `/topics` query.
    pub http_timeouts: nsq::http::client::Timeouts,
    /// `--log-prefix`.
    pub log_prefix: String,
    /// `--log-level`.
    pub log_level: String,
    /// `--output-dir`.
    pub output_dir: PathBuf,
    /// `--work-dir` (defaults to the output dir).
    pub work_dir: PathBuf,
    /// `--datetime-format`.
    pub datetime_format: String,
    /// `--filename-format`.
    pub filename_format: String,
    /// `--host-identifier`.
    pub host_identifier: String,
    /// `--gzip` with `--gzip-level`: the level when gzip is on.
    pub gzip_level: Option<u32>,
    /// `--skip-empty-files`.
    pub skip_empty_files: bool,
    /// `--rotate-size` in bytes (0: off).
    pub rotate_size: u64,
    /// `--rotate-interval` (zero: off).
    pub rotate_interval: Duration,
    /// `--sync-interval`.
    pub sync_interval: Duration,
    /// The consumer settings shared by every topic (`--consumer-opt`, `--max-in-flight`).
    pub config: Config,
}
