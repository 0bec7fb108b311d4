//! What the V2 parser knows about a connection besides its bytes: the client's state
//! (with the numbers `/stats` reports) and the server's limits. Plain data, no I/O.

/// Where a V2 client is in its life; the numbers are what `/stats` reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClientState {
    /// Connected, not subscribed: may IDENTIFY, AUTH, SUB and publish.
    Init,
    /// Subscribed to one channel: may RDY, FIN, REQ, TOUCH, CLS and publish.
    Subscribed,
    /// Sent CLS: RDY is ignored, no more messages are sent.
    Closing,
}

impl ClientState {
    /// The number `/stats` shows for this state.
    pub fn as_number(self) -> i32 {
        match self {
            ClientState::Init => 0,
            ClientState::Subscribed => 3,
            ClientState::Closing => 4,
        }
    }
}

/// The server limits that decide whether a command is acceptable.
#[derive(Debug, Clone)]
pub struct Limits {
    /// `--max-msg-size`: largest single message body.
    pub max_msg_size: u64,
    /// `--max-body-size`: largest IDENTIFY, AUTH or MPUB body.
    pub max_body_size: u64,
    /// `--max-rdy-count`: largest RDY.
    pub max_rdy_count: u64,
    /// `--max-req-timeout` in milliseconds: largest DPUB delay.
    pub max_req_timeout_ms: u64,
}

/// What the parser needs to know about the connection besides its bytes.
#[derive(Debug, Clone, Copy)]
pub struct ParseContext<'a> {
    /// The connection's state.
    pub state: ClientState,
    /// False when the client negotiated `heartbeat_interval: -1` (SUB is then refused).
    pub heartbeats_enabled: bool,
    /// The server's limits.
    pub limits: &'a Limits,
    /// TLS is required and this connection has not turned it on: every command but
    /// IDENTIFY is refused, before anything else is checked.
    pub tls_missing: bool,
}
