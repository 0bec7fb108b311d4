//! The V2 connection handler: plugs nsqd into the reactor. It checks the magic, parses
//! commands with `proto`, executes them against the registry, writes the replies,
//! keeps each connection's heartbeat and read deadline, and after every round pumps
//! deliveries from the registry into the consumers' output buffers.
//!
//! Fatal errors are answered and the connection closed; only FIN, REQ and TOUCH
//! failures leave it open.
//!
//! With `--auth-http-address`, AUTH asks the auth server from a thread of its own:
//! the connection's later commands wait in its input buffer until the answer comes
//! back through the reactor's waker. SUB and publishes need an AUTH first and a
//! matching authorization; an expired one is re-queried the same way.
//!
//! A publish or SUB that creates a topic while lookupd is configured waits the same
//! way (it and every later command of that connection) until the topic's channel
//! pre-creation has finished (`nsqd::lookup_peers`), as Go's nsqd blocks the command;
//! every other connection is served meanwhile.
//!
//! The registry lock is taken once per batch of commands read from a socket and once
//! per round for the pump — never across a socket write.

use super::auth::{AuthError, AuthServers, Authorizations};
use super::durability::Persister;
use super::identify::{self, IdentifyLimits, Negotiated};
use crate::compress::Codec;
use crate::proto::{self, ClientState, Command, Limits, ParseContext, ProtoError, MAGIC_V2};
use crate::reactor::{ConnId, Connection, Handler, Net, Timers, Wakeup};
use crate::registry::{lock, SharedRegistry};
use crate::registry::{ClientId, ClientInfo, Registry};
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
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
    /// The auth servers (`--auth-http-address`); `None`: AUTH is disabled.
    pub auth: Option<AuthServers>,
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
    /// What AUTH was granted, and the secret (for re-queries once it expires).
    auth: Option<(Authorizations, String)>,
    /// An auth-server query is running: commands wait in the input buffer.
    auth_pending: bool,
    /// A re-query found no authorizations left: every SUB and publish is refused.
    auth_revoked: bool,
    /// The peer closed its sending side while commands were waiting: the connection
    /// is closed once they have run.
    peer_closed: bool,
    /// Deflate or snappy, once IDENTIFY negotiated it: input is decoded into
    /// `plain_in`, and frames are staged in `plain_out` and encoded just before each
    /// flush.
    codec: Option<Codec>,
    plain_in: Vec<u8>,
    plain_out: Vec<u8>,
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

/// An auth server's answer for one connection, from a query thread.
struct AuthAnswer {
    client: ClientId,
    /// True for AUTH itself (which gets a reply), false for a re-query.
    first: bool,
    secret: String,
    result: Result<Authorizations, AuthError>,
}

/// What the auth rules say about a parsed command.
enum AuthStep {
    /// Execute it.
    Proceed,
    /// A query started; `consume`: the command was AUTH itself (else it runs again
    /// once the answer is in).
    Wait { consume: bool },
    /// Refused with this error.
    Refuse(ProtoError),
}

/// nsqd's V2 protocol, as a reactor handler.
pub struct V2Handler {
    registry: SharedRegistry,
    persister: Arc<Persister>,
    config: V2Config,
    conns: HashMap<ClientId, ConnId>,
    next_client: ClientId,
    registry_timer: Option<Instant>,
    /// Auth answers waiting for the loop (which the query threads wake).
    auth_answers: Arc<Mutex<Vec<AuthAnswer>>>,
    /// Connections whose command created a topic still held for channel
    /// pre-creation, by the topic: their commands wait until its release.
    creating: HashMap<ClientId, String>,
    wakeup: Wakeup,
}

impl V2Handler {
    /// A handler serving `registry`; `wakeup` wakes its loop when an auth answer is in.
    pub fn new(
        registry: SharedRegistry,
        config: V2Config,
        persister: Arc<Persister>,
        wakeup: Wakeup,
    ) -> V2Handler {
        V2Handler {
            registry,
            persister,
            config,
            conns: HashMap::new(),
            next_client: 1,
            registry_timer: None,
            auth_answers: Arc::default(),
            creating: HashMap::new(),
            wakeup,
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
        if conn.state.auth_pending || self.creating.contains_key(&conn.state.client) {
            return;
        }
        let compressed = conn.state.codec.is_some();
        let input = if compressed {
            let raw = std::mem::take(&mut conn.input);
            let state = &mut conn.state;
            if let Some(Err(e)) = state
                .codec
                .as_mut()
                .map(|d| d.decode(&raw, &mut state.plain_in))
            {
                log::info!("client({}) bad compressed stream: {e}", state.client);
                net.close(id);
                return;
            }
            std::mem::take(&mut conn.state.plain_in)
        } else {
            std::mem::take(&mut conn.input)
        };
        let client = conn.state.client;
        let now = Instant::now();
        let mut used = 0;
        // IDENTIFY turned compression on: what follows it in `input` is compressed.
        let mut switched = false;
        // Where the output stood before the batch's first publish, and its command.
        let mut first_publish: Option<(usize, &'static str)> = None;
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
                Ok(Some((command, n))) => match self.auth_step(net, id, &command, now) {
                    AuthStep::Proceed => {
                        if let Some(topic) = held_new_topic(&mut registry, &command) {
                            // As Go's nsqd, the command goes on once lookupd's
                            // channels exist (see `woken`).
                            self.creating.insert(client, topic);
                            break;
                        }
                        used += n;
                        if first_publish.is_none() {
                            let name = publish_name(&command);
                            first_publish = name.zip(out(net, id)).map(|(c, o)| (o.len(), c));
                        }
                        let result = self.execute(&mut registry, net, id, client, command, now);
                        switched = !compressed
                            && result.is_ok()
                            && net.conn(id).is_some_and(|c| c.state.codec.is_some());
                        result
                    }
                    AuthStep::Wait { consume } => {
                        used += if consume { n } else { 0 };
                        break;
                    }
                    AuthStep::Refuse(e) => {
                        used += n;
                        Err(e)
                    }
                },
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
            if switched {
                break;
            }
        }
        // With --sync-every=1, fsync (group-committing the batch) before the replies are
        // flushed at the end of the round; never with the registry lock held. Should
        // it fail, the OKs owed since the batch's first publish are taken back: that
        // publish is answered with its error instead, and the connection closed.
        drop(registry);
        if let Err(e) = self.persister.settle(&self.registry) {
            if let Some((mark, command)) = first_publish {
                if let Some(out) = out(net, id) {
                    out.truncate(mark);
                }
                let e = pub_failed(command)(e);
                send_error(net, id, &e);
                log::info!("client({client}) fatal: {e}");
                net.close(id);
            }
        }
        if let Some(conn) = net.conn(id) {
            let mut input = input;
            input.drain(..used);
            if compressed && !switched {
                conn.state.plain_in = input;
            } else {
                conn.input = input;
            }
        }
        if switched {
            self.process(net, id);
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
                (registry.publish(topic, [body], 0, now)).map_err(pub_failed("PUB"))?;
                registry.count_publish(client, topic, 1);
                send_response(net, id, b"OK");
                Ok(())
            }
            Command::Mpub { topic, bodies } => {
                (registry.publish(topic, bodies, 0, now)).map_err(pub_failed("MPUB"))?;
                registry.count_publish(client, topic, bodies.len() as u64);
                send_response(net, id, b"OK");
                Ok(())
            }
            Command::Dpub {
                topic,
                defer_ms,
                body,
            } => {
                (registry.publish(topic, [body], defer_ms, now)).map_err(pub_failed("DPUB"))?;
                registry.count_publish(client, topic, 1);
                send_response(net, id, b"OK");
                Ok(())
            }
        }
    }

    /// Applies the auth rules to `command` (nothing to do without auth servers).
    fn auth_step(
        &self,
        net: &mut Net<V2Conn>,
        id: ConnId,
        command: &Command<'_>,
        now: Instant,
    ) -> AuthStep {
        let Some(servers) = &self.config.auth else {
            return AuthStep::Proceed;
        };
        let Some(conn) = net.conn(id) else {
            return AuthStep::Proceed;
        };
        let (name, topic, channel) = match command {
            Command::Auth(secret) => {
                if conn.state.auth.is_some() {
                    return AuthStep::Refuse(ProtoError::fatal("E_INVALID", "AUTH already set"));
                }
                let secret = String::from_utf8_lossy(secret).into_owned();
                self.start_auth_query(servers, conn, true, secret);
                return AuthStep::Wait { consume: true };
            }
            Command::Sub { topic, channel } => ("SUB", *topic, *channel),
            Command::Pub { topic, .. } => ("PUB", *topic, ""),
            Command::Mpub { topic, .. } => ("MPUB", *topic, ""),
            Command::Dpub { topic, .. } => ("DPUB", *topic, ""),
            _ => return AuthStep::Proceed,
        };
        let Some((granted, secret)) = &conn.state.auth else {
            let text = format!("AUTH required before {name}");
            return AuthStep::Refuse(ProtoError::fatal("E_AUTH_FIRST", text));
        };
        if granted.is_expired(now) && !conn.state.auth_revoked {
            let secret = secret.clone();
            self.start_auth_query(servers, conn, false, secret);
            return AuthStep::Wait { consume: false };
        }
        if !conn.state.auth_revoked && granted.allows(topic, channel, name == "SUB") {
            return AuthStep::Proceed;
        }
        let text = format!(
            "AUTH failed for {name} on {} {}",
            proto::go_quote(topic.as_bytes()),
            proto::go_quote(channel.as_bytes())
        );
        AuthStep::Refuse(ProtoError::fatal("E_UNAUTHORIZED", text))
    }

    /// Asks the auth servers about `secret` from a thread of its own; the answer
    /// comes back through `auth_answers` and the waker.
    fn start_auth_query(
        &self,
        servers: &AuthServers,
        conn: &mut crate::reactor::Connection<V2Conn>,
        first: bool,
        secret: String,
    ) {
        conn.state.auth_pending = true;
        let (client, ip) = (conn.state.client, conn.peer.ip().to_string());
        let (servers, answers, wakeup) = (
            servers.clone(),
            self.auth_answers.clone(),
            self.wakeup.clone(),
        );
        let spawned = std::thread::Builder::new()
            .name("nsqd-auth".into())
            .spawn(move || {
                let result = servers.query(&ip, false, &secret);
                let answer = AuthAnswer {
                    client,
                    first,
                    secret,
                    result,
                };
                answers
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .push(answer);
                wakeup.wake();
            });
        if let Err(e) = spawned {
            log::error!("client({client}) cannot start an auth query: {e}");
            let answer = AuthAnswer {
                client,
                first,
                secret: String::new(),
                result: Err(AuthError::Failed(e.to_string())),
            };
            self.auth_answers
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .push(answer);
            self.wakeup.wake();
        }
    }

    /// Applies an auth server's answer, then carries on with the commands that waited.
    fn auth_answered(&mut self, net: &mut Net<V2Conn>, answer: AuthAnswer) {
        let Some(&id) = self.conns.get(&answer.client) else {
            return;
        };
        let Some(conn) = net.conn(id) else {
            return;
        };
        conn.state.auth_pending = false;
        let client = answer.client;
        let granted = match answer.result {
            Ok(granted) => granted,
            Err(AuthError::NoAuthorizations) if !answer.first => {
                // As Go: the empty grant stands, so the waiting command is refused.
                conn.state.auth_revoked = true;
                self.resume(net, id);
                return;
            }
            Err(e) => {
                let err = match e {
                    AuthError::Failed(reason) => {
                        log::warn!("client({client}) auth failed: {reason}");
                        ProtoError::fatal("E_AUTH_FAILED", "AUTH failed")
                    }
                    AuthError::NoAuthorizations => {
                        ProtoError::fatal("E_UNAUTHORIZED", "AUTH no authorizations found")
                    }
                };
                send_error(net, id, &err);
                net.close(id);
                return;
            }
        };
        if answer.first {
            let reply = serde_json::json!({
                "identity": granted.identity,
                "identity_url": granted.identity_url,
                "permission_count": granted.permission_count(),
            });
            send_response(net, id, reply.to_string().as_bytes());
        }
        if let Some(info) = lock(&self.registry).clients.get_mut(&client) {
            info.auth_identity = Some((granted.identity.clone(), granted.identity_url.clone()));
        }
        if let Some(conn) = net.conn(id) {
            conn.state.auth = Some((granted, answer.secret));
        }
        self.resume(net, id);
    }

    /// Runs the commands that waited (for an auth answer or a topic's release), then
    /// closes the connection if its peer had closed meanwhile and nothing waits now.
    fn resume(&mut self, net: &mut Net<V2Conn>, id: ConnId) {
        self.process(net, id);
        let Some(conn) = net.conn(id) else {
            return;
        };
        let waiting = conn.state.auth_pending || self.creating.contains_key(&conn.state.client);
        if conn.state.peer_closed && !waiting {
            self.read_closed(net, id);
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
        if req.feature_negotiation != Some(true) {
            send_response(net, id, b"OK");
            return Ok(());
        }
        let both = identify::deflate_granted(&req, &self.config.identify).is_some()
            && identify::snappy_granted(&req, &self.config.identify);
        if both {
            let text = "cannot enable both deflate and snappy compression";
            return Err(ProtoError::fatal("E_IDENTIFY_FAILED", text));
        }
        let json = identify::reply_json(&req, &settings, &self.config.identify);
        send_response(net, id, &json);
        let (codec, name) = match identify::deflate_granted(&req, &self.config.identify) {
            Some(level) => (Codec::deflate(level), "deflate"),
            None if identify::snappy_granted(&req, &self.config.identify) => {
                (Codec::snappy(), "snappy")
            }
            None => (None, ""),
        };
        if let Some(conn) = net.conn(id).filter(|c| c.state.codec.is_none()) {
            if codec.is_some() {
                // Everything after the JSON reply is compressed, both ways.
                conn.state.codec = codec;
                send_response(net, id, b"OK");
                if let Some(info) = registry.clients.get_mut(&client) {
                    info.compression = name;
                }
            }
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
                auth_identity: None,
                compression: "",
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
            auth: None,
            auth_pending: false,
            auth_revoked: false,
            peer_closed: false,
            codec: None,
            plain_in: Vec::new(),
            plain_out: Vec::new(),
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
        if conn.state.auth_pending || self.creating.contains_key(&conn.state.client) {
            // Commands are waiting: they run, then the connection closes.
            conn.state.peer_closed = true;
            return;
        }
        if conn.state.magic_ok && !conn.input.is_empty() {
            let ctx = ParseContext {
                state: conn.state.state,
                heartbeats_enabled: conn.state.settings.heartbeat_interval.is_some(),
                limits: &self.config.limits,
            };
            let state = &mut conn.state;
            if let Some(d) = state.codec.as_mut() {
                let _ = d.decode(&conn.input, &mut state.plain_in);
            }
            let pending = match &state.codec {
                Some(_) => &state.plain_in,
                None => &conn.input,
            };
            if let Some(e) = proto::parse_at_eof(pending, &ctx) {
                send_error(net, id, &e);
            }
        }
        net.close(id);
    }

    fn closed(&mut self, _net: &mut Net<V2Conn>, _id: ConnId, conn: V2Conn) {
        self.conns.remove(&conn.client);
        if self.conns.capacity() > 4 * self.conns.len() + 64 {
            self.conns.shrink_to_fit(); // a burst of connections is gone: give it back
        }
        self.creating.remove(&conn.client);
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

    fn woken(&mut self, net: &mut Net<V2Conn>) {
        // Other threads mark work in the registry (round_end pumps it), hand over
        // auth answers, or release topics that connections wait on.
        let answers =
            std::mem::take(&mut *self.auth_answers.lock().unwrap_or_else(|p| p.into_inner()));
        for answer in answers {
            self.auth_answered(net, answer);
        }
        if !self.creating.is_empty() {
            let registry = lock(&self.registry);
            let released: Vec<ClientId> = (self.creating.iter())
                .filter(|(_, topic)| !registry.is_held(topic))
                .map(|(&client, _)| client)
                .collect();
            drop(registry);
            for client in released {
                self.creating.remove(&client);
                if let Some(&id) = self.conns.get(&client) {
                    self.resume(net, id);
                }
            }
        }
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
            if let Some(out) = out(net, id) {
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

    fn before_flush(&mut self, conn: &mut Connection<V2Conn>) {
        let state = &mut conn.state;
        if let Some(d) = state.codec.as_mut() {
            if !state.plain_out.is_empty() {
                d.encode(&state.plain_out, &mut conn.output);
                state.plain_out.clear();
            }
        }
    }
}

/// Creates the topic a publish or SUB names, if missing: its name when that started a
/// channel pre-creation hold, so the command must wait for the release.
fn held_new_topic(registry: &mut Registry, command: &Command<'_>) -> Option<String> {
    let topic = match command {
        Command::Pub { topic, .. }
        | Command::Mpub { topic, .. }
        | Command::Dpub { topic, .. }
        | Command::Sub { topic, .. } => *topic,
        _ => return None,
    };
    registry.create_topic(topic).then(|| topic.to_string())
}

/// Where frames for `id` go: its output buffer, or the plain staging buffer that is
/// compressed before the flush. Marks the connection for flushing; `None` once closing.
fn out(net: &mut Net<V2Conn>, id: ConnId) -> Option<&mut Vec<u8>> {
    net.output(id)?;
    let conn = net.conn(id)?;
    Some(match conn.state.codec {
        Some(_) => &mut conn.state.plain_out,
        None => &mut conn.output,
    })
}

fn send_response(net: &mut Net<V2Conn>, id: ConnId, data: &[u8]) {
    if let Some(out) = out(net, id) {
        proto::write_response(out, data);
    }
}

fn send_error(net: &mut Net<V2Conn>, id: ConnId, err: &ProtoError) {
    if let Some(out) = out(net, id) {
        proto::write_error(out, err);
    }
}

/// The name of a publish command (`None` for the others).
fn publish_name(command: &Command<'_>) -> Option<&'static str> {
    match command {
        Command::Pub { .. } => Some("PUB"),
        Command::Mpub { .. } => Some("MPUB"),
        Command::Dpub { .. } => Some("DPUB"),
        _ => None,
    }
}

/// The fatal error of a publish the disk refused: `E_PUB_FAILED PUB failed <err>`
/// (MPUB, DPUB likewise), as Go's nsqd answers.
fn pub_failed(command: &'static str) -> impl FnOnce(std::io::Error) -> ProtoError {
    let code = match command {
        "MPUB" => "E_MPUB_FAILED",
        "DPUB" => "E_DPUB_FAILED",
        _ => "E_PUB_FAILED",
    };
    move |e| ProtoError::fatal(code, format!("{command} failed {e}"))
}

fn show_id(id: &proto::MessageId) -> String {
    String::from_utf8_lossy(id).into_owned()
}
