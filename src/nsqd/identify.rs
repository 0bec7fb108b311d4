//! IDENTIFY: decoding the client's JSON, validating each setting exactly as nsqd does
//! (same ranges, same error texts, same order), and the JSON reply of feature
//! negotiation. Pure functions: no sockets, no registry.

use crate::proto::ProtoError;
use serde::{Deserialize, Serialize};
use std::time::Duration;

/// nsqd's fixed client timeout; the default heartbeat is half of it.
pub const CLIENT_TIMEOUT: Duration = Duration::from_secs(60);
/// Default output buffer size in bytes.
pub const DEFAULT_OUTPUT_BUFFER_SIZE: i64 = 16 * 1024;

/// The server settings IDENTIFY is checked against and reports.
#[derive(Debug, Clone)]
pub struct IdentifyLimits {
    /// `--msg-timeout`.
    pub msg_timeout: Duration,
    /// `--max-msg-timeout`.
    pub max_msg_timeout: Duration,
    /// `--max-heartbeat-interval`.
    pub max_heartbeat_interval: Duration,
    /// `--output-buffer-timeout`.
    pub output_buffer_timeout: Duration,
    /// `--min-output-buffer-timeout`.
    pub min_output_buffer_timeout: Duration,
    /// `--max-output-buffer-timeout`.
    pub max_output_buffer_timeout: Duration,
    /// `--max-output-buffer-size`.
    pub max_output_buffer_size: i64,
    /// `--max-rdy-count`.
    pub max_rdy_count: u64,
    /// `--max-deflate-level`.
    pub max_deflate_level: i64,
    /// `--auth-http-address` is set: clients must AUTH before SUB and publishing.
    pub auth_required: bool,
    /// `--deflate` in a build that has the codec: clients may ask for deflate.
    pub deflate_enabled: bool,
    /// `--snappy` in a build that has the codec: clients may ask for snappy.
    pub snappy_enabled: bool,
    /// `--tls-cert` and `--tls-key` are set: clients may ask for TLS.
    pub tls_enabled: bool,
}

/// The fields of an IDENTIFY body; all optional, unknown keys ignored.
#[derive(Debug, Default, Deserialize)]
pub struct IdentifyRequest {
    /// Free text shown in stats.
    pub client_id: Option<String>,
    /// Free text shown in stats.
    pub hostname: Option<String>,
    /// e.g. `go-nsq/1.1.0`.
    pub user_agent: Option<String>,
    /// `true` asks for the JSON reply.
    pub feature_negotiation: Option<bool>,
    /// ms; -1 disables, 0 keeps the default.
    pub heartbeat_interval: Option<i64>,
    /// bytes; -1 write-through, 0 keeps the default.
    pub output_buffer_size: Option<i64>,
    /// ms; -1 disables, 0 keeps the default.
    pub output_buffer_timeout: Option<i64>,
    /// 0..=99.
    pub sample_rate: Option<i64>,
    /// ms; 0 keeps the default.
    pub msg_timeout: Option<i64>,
    /// Asks for TLS.
    pub tls_v1: Option<bool>,
    /// Asks for snappy.
    pub snappy: Option<bool>,
    /// Asks for deflate.
    pub deflate: Option<bool>,
    /// Deflate level wanted.
    pub deflate_level: Option<i64>,
}

/// Shown as Go's nsqd logs it (`%+v` of its struct, unset fields as Go's zero values):
/// `{ClientID:vm Hostname:vm HeartbeatInterval:30000 ... MsgTimeout:0}`.
impl std::fmt::Display for IdentifyRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let text = |v: &Option<String>| v.clone().unwrap_or_default();
        let num = |v: Option<i64>| v.unwrap_or(0);
        let flag = |v: Option<bool>| v.unwrap_or(false);
        write!(
            f,
            "{{ClientID:{} Hostname:{} HeartbeatInterval:{} OutputBufferSize:{} \
             OutputBufferTimeout:{} FeatureNegotiation:{} TLSv1:{} Deflate:{} \
             DeflateLevel:{} Snappy:{} SampleRate:{} UserAgent:{} MsgTimeout:{}}}",
            text(&self.client_id),
            text(&self.hostname),
            num(self.heartbeat_interval),
            num(self.output_buffer_size),
            num(self.output_buffer_timeout),
            flag(self.feature_negotiation),
            flag(self.tls_v1),
            flag(self.deflate),
            num(self.deflate_level),
            flag(self.snappy),
            num(self.sample_rate),
            text(&self.user_agent),
            num(self.msg_timeout),
        )
    }
}

/// A connection's negotiated settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Negotiated {
    /// `None` when heartbeats are disabled.
    pub heartbeat_interval: Option<Duration>,
    /// Output buffer size in bytes.
    pub output_buffer_size: i64,
    /// Output buffer timeout; zero = no timed flush.
    pub output_buffer_timeout: Duration,
    /// 0 = off.
    pub sample_rate: u8,
    /// In-flight timeout.
    pub msg_timeout: Duration,
}

impl Negotiated {
    /// The settings of a connection that has not identified.
    pub fn defaults(limits: &IdentifyLimits) -> Negotiated {
        Negotiated {
            heartbeat_interval: Some(CLIENT_TIMEOUT / 2),
            output_buffer_size: DEFAULT_OUTPUT_BUFFER_SIZE,
            output_buffer_timeout: limits.output_buffer_timeout,
            sample_rate: 0,
            msg_timeout: limits.msg_timeout,
        }
    }
}

fn bad(desc: String) -> ProtoError {
    ProtoError::fatal("E_BAD_BODY", format!("IDENTIFY {desc}"))
}

fn ms(d: Duration) -> i64 {
    d.as_millis() as i64
}

/// Decodes an IDENTIFY body; anything but a JSON object of the right types fails.
pub fn decode(body: &[u8]) -> Result<IdentifyRequest, ProtoError> {
    let failed = || bad("failed to decode JSON body".to_string());
    let value: serde_json::Value = serde_json::from_slice(body).map_err(|_| failed())?;
    if !value.is_object() {
        return Err(failed());
    }
    serde_json::from_value(value).map_err(|_| failed())
}

/// Applies `req` on top of `current`, checking each setting in nsqd's order.
pub fn negotiate(
    req: &IdentifyRequest,
    current: &Negotiated,
    limits: &IdentifyLimits,
) -> Result<Negotiated, ProtoError> {
    let mut n = current.clone();
    match req.heartbeat_interval.unwrap_or(0) {
        -1 => n.heartbeat_interval = None,
        0 => {}
        v if v >= 1000 && v <= ms(limits.max_heartbeat_interval) => {
            n.heartbeat_interval = Some(Duration::from_millis(v as u64))
        }
        v => return Err(bad(format!("heartbeat interval ({v}) is invalid"))),
    }
    let timeout = req.output_buffer_timeout.unwrap_or(0);
    match timeout {
        -1 => n.output_buffer_timeout = Duration::ZERO,
        0 => {}
        v if v >= ms(limits.min_output_buffer_timeout)
            && v <= ms(limits.max_output_buffer_timeout) =>
        {
            n.output_buffer_timeout = Duration::from_millis(v as u64)
        }
        v => return Err(bad(format!("output buffer timeout ({v}) is invalid"))),
    }
    match req.output_buffer_size.unwrap_or(0) {
        -1 => {
            n.output_buffer_size = 1;
            n.output_buffer_timeout = Duration::ZERO;
        }
        0 => {}
        v if v >= 64 && v <= limits.max_output_buffer_size => n.output_buffer_size = v,
        v => return Err(bad(format!("output buffer size ({v}) is invalid"))),
    }
    match req.sample_rate.unwrap_or(0) {
        v @ 0..=99 => n.sample_rate = v as u8,
        v => return Err(bad(format!("sample rate ({v}) is invalid"))),
    }
    match req.msg_timeout.unwrap_or(0) {
        0 => {}
        v if v >= 1000 && v <= ms(limits.max_msg_timeout) => {
            n.msg_timeout = Duration::from_millis(v as u64)
        }
        v => return Err(bad(format!("msg timeout ({v}) is invalid"))),
    }
    Ok(n)
}

/// The feature-negotiation reply, keys in nsqd's order.
#[derive(Debug, Serialize)]
struct Reply<'a> {
    max_rdy_count: u64,
    version: &'a str,
    max_msg_timeout: i64,
    msg_timeout: i64,
    tls_v1: bool,
    deflate: bool,
    deflate_level: i64,
    max_deflate_level: i64,
    snappy: bool,
    sample_rate: u8,
    auth_required: bool,
    output_buffer_size: i64,
    output_buffer_timeout: i64,
    topology_region: &'a str,
    topology_zone: &'a str,
}

/// The deflate level granted to `req`, if deflate is granted: it must ask with
/// `feature_negotiation` and `deflate`, and the server must allow it.
pub fn deflate_granted(req: &IdentifyRequest, limits: &IdentifyLimits) -> Option<u32> {
    let asked = req.feature_negotiation == Some(true) && req.deflate == Some(true);
    (asked && limits.deflate_enabled).then(|| deflate_level(req, true, limits) as u32)
}

/// True when TLS is granted to `req` (asked with `feature_negotiation`, and nsqd has
/// a certificate and key).
pub fn tls_granted(req: &IdentifyRequest, limits: &IdentifyLimits) -> bool {
    req.feature_negotiation == Some(true) && req.tls_v1 == Some(true) && limits.tls_enabled
}

/// True when snappy is granted to `req` (asked with `feature_negotiation`, allowed).
pub fn snappy_granted(req: &IdentifyRequest, limits: &IdentifyLimits) -> bool {
    req.feature_negotiation == Some(true) && req.snappy == Some(true) && limits.snappy_enabled
}

/// nsqd's level: the requested one when deflate is granted, else 6; capped.
fn deflate_level(req: &IdentifyRequest, deflate: bool, limits: &IdentifyLimits) -> i64 {
    let wanted = match req.deflate_level {
        Some(level) if deflate && level > 0 => level,
        _ => 6,
    };
    wanted.min(limits.max_deflate_level)
}

/// The JSON document answering an IDENTIFY with `feature_negotiation: true`.
pub fn reply_json(req: &IdentifyRequest, n: &Negotiated, limits: &IdentifyLimits) -> Vec<u8> {
    let deflate = deflate_granted(req, limits).is_some();
    let reply = Reply {
        max_rdy_count: limits.max_rdy_count,
        version: crate::NSQ_VERSION,
        max_msg_timeout: ms(limits.max_msg_timeout),
        msg_timeout: ms(n.msg_timeout),
        tls_v1: tls_granted(req, limits),
        deflate,
        deflate_level: deflate_level(req, deflate, limits),
        max_deflate_level: limits.max_deflate_level,
        snappy: snappy_granted(req, limits),
        sample_rate: n.sample_rate,
        auth_required: limits.auth_required,
        output_buffer_size: n.output_buffer_size,
        output_buffer_timeout: ms(n.output_buffer_timeout),
        topology_region: "",
        topology_zone: "",
    };
    serde_json::to_vec(&reply).unwrap_or_else(|_| b"{}".to_vec())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shown_as_gos_nsqd_logs_it() {
        let req = IdentifyRequest {
            client_id: Some("vm".into()),
            user_agent: Some("to_nsq/1.3.0".into()),
            feature_negotiation: Some(true),
            heartbeat_interval: Some(30000),
            ..Default::default()
        };
        assert_eq!(
            req.to_string(),
            "{ClientID:vm Hostname: HeartbeatInterval:30000 OutputBufferSize:0 \
             OutputBufferTimeout:0 FeatureNegotiation:true TLSv1:false Deflate:false \
             DeflateLevel:0 Snappy:false SampleRate:0 UserAgent:to_nsq/1.3.0 MsgTimeout:0}"
        );
    }

    fn limits() -> IdentifyLimits {
        IdentifyLimits {
            msg_timeout: Duration::from_secs(60),
            max_msg_timeout: Duration::from_secs(900),
            max_heartbeat_interval: Duration::from_secs(60),
            output_buffer_timeout: Duration::from_millis(250),
            min_output_buffer_timeout: Duration::from_millis(25),
            max_output_buffer_timeout: Duration::from_secs(30),
            max_output_buffer_size: 65536,
            max_rdy_count: 2500,
            max_deflate_level: 6,
            auth_required: false,
            deflate_enabled: false,
            snappy_enabled: false,
            tls_enabled: false,
        }
    }

    fn try_json(json: &str) -> Result<Negotiated, String> {
        let l = limits();
        let req = decode(json.as_bytes()).map_err(|e| e.to_string())?;
        negotiate(&req, &Negotiated::defaults(&l), &l).map_err(|e| e.to_string())
    }

    #[test]
    fn defaults_reply_matches_the_go_capture() {
        let l = limits();
        let req = decode(b"{\"feature_negotiation\":true}").unwrap();
        let n = negotiate(&req, &Negotiated::defaults(&l), &l).unwrap();
        let reply = String::from_utf8(reply_json(&req, &n, &l)).unwrap();
        assert_eq!(
            reply,
            "{\"max_rdy_count\":2500,\"version\":\"1.3.0\",\"max_msg_timeout\":900000,\
             \"msg_timeout\":60000,\"tls_v1\":false,\"deflate\":false,\"deflate_level\":6,\
             \"max_deflate_level\":6,\"snappy\":false,\"sample_rate\":0,\"auth_required\":false,\
             \"output_buffer_size\":16384,\"output_buffer_timeout\":250,\
             \"topology_region\":\"\",\"topology_zone\":\"\"}"
        );
    }

    #[test]
    fn each_bad_value_gets_nsqds_error() {
        let cases = [
            (
                "{\"heartbeat_interval\":100}",
                "E_BAD_BODY IDENTIFY heartbeat interval (100) is invalid",
            ),
            (
                "{\"heartbeat_interval\":-2}",
                "E_BAD_BODY IDENTIFY heartbeat interval (-2) is invalid",
            ),
            (
                "{\"heartbeat_interval\":60001}",
                "E_BAD_BODY IDENTIFY heartbeat interval (60001) is invalid",
            ),
            (
                "{\"output_buffer_timeout\":1}",
                "E_BAD_BODY IDENTIFY output buffer timeout (1) is invalid",
            ),
            (
                "{\"output_buffer_size\":10}",
                "E_BAD_BODY IDENTIFY output buffer size (10) is invalid",
            ),
            (
                "{\"sample_rate\":100}",
                "E_BAD_BODY IDENTIFY sample rate (100) is invalid",
            ),
            (
                "{\"msg_timeout\":999}",
                "E_BAD_BODY IDENTIFY msg timeout (999) is invalid",
            ),
            (
                "{\"msg_timeout\":\"x\"}",
                "E_BAD_BODY IDENTIFY failed to decode JSON body",
            ),
            ("[1]", "E_BAD_BODY IDENTIFY failed to decode JSON body"),
            ("{", "E_BAD_BODY IDENTIFY failed to decode JSON body"),
        ];
        for (json, want) in cases {
            assert_eq!(try_json(json).unwrap_err(), want, "{json}");
        }
    }

    #[test]
    fn timeout_is_checked_before_size() {
        let err = try_json("{\"output_buffer_timeout\":1,\"output_buffer_size\":1}").unwrap_err();
        assert!(err.contains("timeout (1)"), "{err}");
    }

    #[test]
    fn accepted_values_apply() {
        let n = try_json(
            "{\"heartbeat_interval\":1000,\"msg_timeout\":1000,\"sample_rate\":10,\
              \"output_buffer_size\":-1,\"short_id\":\"x\"}",
        )
        .unwrap();
        assert_eq!(n.heartbeat_interval, Some(Duration::from_secs(1)));
        assert_eq!(n.msg_timeout, Duration::from_secs(1));
        assert_eq!(n.sample_rate, 10);
        assert_eq!(n.output_buffer_size, 1);
        assert_eq!(n.output_buffer_timeout, Duration::ZERO);
        assert_eq!(
            try_json("{\"heartbeat_interval\":-1}")
                .unwrap()
                .heartbeat_interval,
            None
        );
    }
}
