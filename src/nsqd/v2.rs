//! The V2 connection handler: plugs nsqd into the reactor. It checks the magic, parses
//! commands with `proto`, executes them against the registry, writes the replies,
//! keeps each connection's heartbeat and read deadline, and after every round pumps
//! deliveries from the registry into the consumers' output buffers.
//!
//! Fatal errors are answered and the connection closed; only FIN, REQ and TOUCH
//! failures leave it open. The registry lock is taken once per batch of commands read
//! from a socket and once per round for the pump — never across a socket write.

use super::durability::Persister;
use super::identify::{self, IdentifyLimits, Negotiated};
use crate::proto::{self, ClientState, Command, Limits, ParseContext, ProtoError, MAGIC_V2};
use crate::reactor::{ConnId, Handler, Net, Timers};
use crate::registry::{ClientId, ClientInfo, Registry};
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

/// Everything the V2 handler needs to know about the server.
#[derive(Debug, Clone)]
pub struct V2Config {
    /// Command limits for the parser.
    pub limits: Limits,
    /// IDENTIFY ranges and reply values.
    pub identify: IdentifyLimits,
    /// `--max-req-timeout`: REQ delays are clamped to it.
    pub max_req_timeout: Duration,
}

/// The registry as shared between threads.
pub type SharedRegistry = Arc<Mutex<Registry>>;

/// Locks the registry; a panic elsewhere must not take the broker down with it.
pub fn lock(registry: &Mutex<Registry>) -> MutexGuard<'_, Registry> {
    registry
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Timer key of the registry's deadlines; connection timers use their client id (≥ 1).
const REGISTRY_TIMER: u64 = 0;

/// One V2 connection's protocol state.
#[derive(Debug)]
pub struct V2Conn {
    client: ClientId,
    magic_ok: bool,
    state: ClientState,
    settings: Negotiated,
    last_read: Instant,
    next_heartbeat: Instant,
    /// When this connection's live timer fires; earlier-set timers that fire later
    /// than planned are recognised as stale by comparing against it.
    timer_at: Instant,
}

impl V2Conn {
    fn read_deadline(&self) -> Option<Instant> {
        self.settings
            .heartbeat_interval
            .map(|hb| self.last_read + hb * 2)
    }

    fn next_timer(&self) -> Option<Instant> {
        self.read_deadline().map(|d| d.min(self.next_heartbeat))
    }
}

/// nsqd's V2 protocol, as a reactor handler.
pub struct V2Handler {
    registry: SharedRegistry,
    persister: Arc<Persister>,
    config: V2Config,
    conns: HashMap<ClientId, ConnId>,
    next_client: ClientId,
    registry_timer: Option<Instant>,
}

impl V2Handler {
    /// A handler serving `registry`.
    pub fn new(registry: SharedRegistry, config: V2Config, persister: Arc<Persister>) -> V2Handler {
        V2Handler {
            registry,
            persister,
            config,
            conns: HashMap::new(),
            next_client: 1,
            registry_timer: None,
        }
    }

    fn arm_conn_timer(timers: &mut Timers, conn: &mut V2Conn) {
        if let Some(at) = conn.next_timer() {
            conn.timer_at = at;
            timers.set(at, conn.client);
        }
    }

    /// Parses and executes every complete command in the connection's input.
    fn process(&mut self, net: &mut Net<V2Conn>, id: ConnId) {
        let Some(conn) = net.conn(id) else {
            return;
        };
        if !conn.state.magic_ok {
            if conn.input.len() < MAGIC_V2.len() {
                return;
            }
            if conn.input[..4] != MAGIC_V2[..] {
                log::info!("client({}) bad protocol magic", conn.peer);
                send_error(net, id, &ProtoError::bad_protocol());
                net.close(id);
                return;
            }
            conn.state.magic_ok = true;
            conn.input.drain(..4);
        }
        let input = std::mem::take(&mut conn.input);
        let client = conn.state.client;
        let now = Instant::now();
        let mut used = 0;
        let mut registry = lock(&self.registry);
        while used < input.len() {
            let Some(conn) = net.conn(id) else {
                break;
            };
            let ctx = ParseContext {
                state: conn.state.state,
                heartbeats_enabled: conn.state.settings.heartbeat_interval.is_some(),
                limits: &self.config.limits,
            };
            let result = match proto::parse(&input[used..], &ctx) {
                Ok(None) => break,
                Ok(Some((command, n))) => {
                    used += n;
                    self.execute(&mut registry, net, id, client, command, now)
                }
                Err(e) => Err(e),
            };
            if let Err(e) = result {
                send_error(net, id, &e);
                if e.fatal {
                    log::info!("client({client}) fatal: {e}");
                    net.close(id);
                    break;
                }
            }
        }
        // With --sync-every=1, fsync (group-committing the batch) before the replies
        // are flushed at the end of the round; never with the registry lock held.
        drop(registry);
        self.persister.settle(&self.registry);
        if let Some(conn) = net.conn(id) {
            let mut input = input;
            input.drain(..used);
            conn.input = input;
        }
    }

    fn execute(
        &self,
        registry: &mut Registry,
        net: &mut Net<V2Conn>,
        id: ConnId,
        client: ClientId,
        command: Command<'_>,
        now: Instant,
    ) -> Result<(), ProtoError> {
        match command {
            Command::Identify(body) => self.identify(registry, net, id, client, body, now),
            Command::Auth(_) => Err(ProtoError::fatal("E_AUTH_DISABLED", "AUTH disabled")),
            Command::Sub { topic, channel } => {
                registry
                    .subscribe(client, topic, channel, now)
                    .map_err(|e| ProtoError::fatal("E_SUB_FAILED", e.to_string()))?;
                if let Some(conn) = net.conn(id) {
                    conn.state.state = ClientState::Subscribed;
                }
                send_response(net, id, b"OK");
                Ok(())
            }
            Command::Rdy(None) => Ok(()),
            Command::Rdy(Some(count)) => {
                registry.rdy(client, count);
                Ok(())
            }
            Command::Fin(msg_id) => registry.finish(client, &msg_id).map_err(|e| {
                ProtoError::client(
                    "E_FIN_FAILED",
                    format!("FIN {} failed {}", show_id(&msg_id), e.text()),
                )
            }),
            Command::Req {
                id: msg_id,
                delay_ms,
            } => {
                let max = self.config.max_req_timeout;
                let mut delay = Duration::from_millis(delay_ms);
                if delay > max {
                    log::info!("client({client}) REQ timeout {delay_ms}ms clamped to {max:?}");
                    delay = max;
                }
                registry.requeue(client, &msg_id, delay, now).map_err(|e| {
                    ProtoError::client(
                        "E_REQ_FAILED",
                        format!("REQ {} failed {}", show_id(&msg_id), e.text()),
                    )
                })
            }
            Command::Touch(msg_id) => registry.touch(client, &msg_id, now).map_err(|e| {
                ProtoError::client(
                    "E_TOUCH_FAILED",
                    format!("TOUCH {} failed {}", show_id(&msg_id), e.text()),
                )
            }),
            Command::Cls => {
                registry.close_wait(client);
                if let Some(conn) = net.conn(id) {
                    conn.state.state = ClientState::Closing;
                }
                send_response(net, id, b"CLOSE_WAIT");
                Ok(())
            }
            Command::Nop => Ok(()),
            Command::Pub { topic, body } => {
                registry.publish(topic, [body], 0, now);
                registry.count_publish(client, topic, 1);
                send_response(net, id, b"OK");
                Ok(())
            }
            Command::Mpub { topic, bodies } => {
                registry.publish(topic, bodies, 0, now);
                registry.count_publish(client, topic, bodies.len() as u64);
                send_response(net, id, b"OK");
                Ok(())
            }
            Command::Dpub {
                topic,
                defer_ms,
                body,
            } => {
                registry.publish(topic, [body], defer_ms, now);
                registry.count_publish(client, topic, 1);
                send_response(net, id, b"OK");
                Ok(())
            }
        }
    }

    fn identify(
        &self,
        registry: &mut Registry,
        net: &mut Net<V2Conn>,
        id: ConnId,
        client: ClientId,
        body: &[u8],
        now: Instant,
    ) -> Result<(), ProtoError> {
        let req = identify::decode(body)?;
        let Some((conn, timers)) = net.conn_and_timers(id) else {
            return Ok(());
        };
        let settings = identify::negotiate(&req, &conn.state.settings, &self.config.identify)?;
        let heartbeat_changed =
            settings.heartbeat_interval != conn.state.settings.heartbeat_interval;
        conn.state.settings = settings.clone();
        if heartbeat_changed {
            if let Some(hb) = settings.heartbeat_interval {
                conn.state.next_heartbeat = now + hb;
            }
            Self::arm_conn_timer(timers, &mut conn.state);
        }
        if let Some(info) = registry.clients.get_mut(&client) {
            info.client_id = req.client_id.clone().unwrap_or_default();
            info.hostname = req.hostname.clone().unwrap_or_default();
            info.user_agent = req.user_agent.clone().unwrap_or_default();
            info.msg_timeout = settings.msg_timeout;
            info.sample_rate = settings.sample_rate;
            info.heartbeat_interval = settings.heartbeat_interval;
            info.output_buffer_size = settings.output_buffer_size;
            info.output_buffer_timeout = settings.output_buffer_timeout;
        }
        log::debug!("client({client}) IDENTIFY: {req:?}");
        if req.feature_negotiation == Some(true) {
            let json = identify::reply_json(&req, &settings, &self.config.identify);
            send_response(net, id, &json);
        } else {
            send_response(net, id, b"OK");
        }
        Ok(())
    }
}

impl Handler for V2Handler {
    type Conn = V2Conn;

    fn accepted(&mut self, timers: &mut Timers, id: ConnId, peer: SocketAddr) -> V2Conn {
        let client = self.next_client;
        self.next_client += 1;
        self.conns.insert(client, id);
        let now = Instant::now();
        let settings = Negotiated::defaults(&self.config.identify);
        let ip = peer.ip().to_string();
        lock(&self.registry).add_client(
            client,
            ClientInfo {
                remote: peer,
                client_id: ip.clone(),
                hostname: ip,
                user_agent: String::new(),
                state: ClientState::Init,
                msg_timeout: settings.msg_timeout,
                sample_rate: 0,
                heartbeat_interval: settings.heartbeat_interval,
                output_buffer_size: settings.output_buffer_size,
                output_buffer_timeout: settings.output_buffer_timeout,
                connect_ts: crate::registry::message::unix_nanos() / 1_000_000_000,
                subscription: None,
                pub_counts: Default::default(),
            },
        );
        log::info!("TCP: new client({peer})");
        let mut conn = V2Conn {
            client,
            magic_ok: false,
            state: ClientState::Init,
            next_heartbeat: now + settings.heartbeat_interval.unwrap_or_default(),
            settings,
            last_read: now,
            timer_at: now,
        };
        Self::arm_conn_timer(timers, &mut conn);
        conn
    }

    fn readable(&mut self, net: &mut Net<V2Conn>, id: ConnId) {
        if let Some(conn) = net.conn(id) {
            conn.state.last_read = Instant::now();
        }
        self.process(net, id);
    }

    fn read_closed(&mut self, net: &mut Net<V2Conn>, id: ConnId) {
        let Some(conn) = net.conn(id) else {
            return;
        };
        if !conn.state.magic_ok || conn.input.is_empty() {
            return;
        }
        let ctx = ParseContext {
            state: conn.state.state,
            heartbeats_enabled: conn.state.settings.heartbeat_interval.is_some(),
            limits: &self.config.limits,
        };
        if let Some(e) = proto::parse_at_eof(&conn.input, &ctx) {
            send_error(net, id, &e);
        }
    }

    fn closed(&mut self, _net: &mut Net<V2Conn>, _id: ConnId, conn: V2Conn) {
        self.conns.remove(&conn.client);
        lock(&self.registry).remove_client(conn.client);
        log::info!("PROTOCOL(V2): client({}) exiting ioloop", conn.client);
    }

    fn timer(&mut self, net: &mut Net<V2Conn>, key: u64, now: Instant) {
        if key == REGISTRY_TIMER {
            self.registry_timer = None;
            lock(&self.registry).expire(now);
            return;
        }
        let Some(&id) = self.conns.get(&key) else {
            return;
        };
        let Some(conn) = net.conn(id) else {
            return;
        };
        let state = &mut conn.state;
        if state.timer_at > now {
            return; // stale: a later timer is live
        }
        let Some(hb) = state.settings.heartbeat_interval else {
            return;
        };
        if state.read_deadline().is_some_and(|d| d <= now) {
            log::info!("client({key}) timed out: no data for {:?}", hb * 2);
            net.close(id);
            return;
        }
        if state.next_heartbeat <= now {
            state.next_heartbeat = (state.next_heartbeat + hb).max(now);
            send_response(net, id, proto::HEARTBEAT);
        }
        if let Some((conn, timers)) = net.conn_and_timers(id) {
            Self::arm_conn_timer(timers, &mut conn.state);
        }
    }

    fn woken(&mut self, _net: &mut Net<V2Conn>) {
        // Other threads only mark work in the registry; round_end pumps it.
    }

    fn round_end(&mut self, net: &mut Net<V2Conn>) {
        let now = Instant::now();
        let conns = &self.conns;
        let mut registry = lock(&self.registry);
        for client in registry.take_kicked() {
            if let Some(&id) = conns.get(&client) {
                net.close(id);
            }
        }
        registry.pump(now, |client, msg| {
            let Some(&id) = conns.get(&client) else {
                return;
            };
            if let Some(out) = net.output(id) {
                proto::write_message(out, msg.timestamp, msg.attempts, &msg.id, &msg.body);
            }
        });
        if let Some(at) = registry.next_deadline() {
            if self.registry_timer.is_none_or(|armed| at < armed) {
                self.registry_timer = Some(at);
                net.timers.set(at, REGISTRY_TIMER);
            }
        }
    }

    fn stopping(&mut self, _net: &mut Net<V2Conn>) {
        log::info!("TCP: closing {} clients", self.conns.len());
    }
}

fn send_response(net: &mut Net<V2Conn>, id: ConnId, data: &[u8]) {
    if let Some(out) = net.output(id) {
        proto::write_response(out, data);
    }
}

fn send_error(net: &mut Net<V2Conn>, id: ConnId, err: &ProtoError) {
    if let Some(out) = net.output(id) {
        proto::write_error(out, err);
    }
}

fn show_id(id: &proto::MessageId) -> String {
    String::from_utf8_lossy(id).into_owned()
}
