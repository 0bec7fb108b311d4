//! A V2 connection's input batch: the protocol magic, parsing every complete command,
//! the auth rules and topic-creation holds that make commands wait, routing each
//! command to its executor, error replies, and resuming once the wait is over.
//! At `--log-level=debug` every command is logged as Go's nsqd does
//! (`PROTOCOL(V2): client(1) SUB t c`, bodies and secrets left out); the line is
//! only formatted when debug is on.

use super::auth_flow::AuthStep;
use super::codec::{out, out_len, send_error, take_input};
use super::commit::BatchMarks;
use super::conn::V2Conn;
use super::handler::V2Handler;
use super::publish::{self, publish_name};
use crate::proto::{self, Command, ProtoError, MAGIC_V2};
use crate::reactor::{ConnId, Handler, Net};
use crate::registry::lock;
use crate::registry::{ClientId, Registry};
use std::fmt;
use std::time::Instant;

impl V2Handler {
    /// Parses and executes every complete command in the connection's input.
    pub(super) fn process(&mut self, net: &mut Net<V2Conn>, id: ConnId) {
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
        if conn.state.owed.is_full() || conn.state.close_when_paid {
            // Until the held replies are out (`commit.rs` resumes it).
            net.hold_reads(id, true);
            return;
        }
        let layered = conn.state.layered();
        let Some(input) = take_input(conn) else {
            net.close(id);
            return;
        };
        let client = conn.state.client;
        if conn.state.tls.is_some() {
            self.tls_progress(net, id);
        }
        let now = Instant::now();
        let mut used = 0;
        // IDENTIFY turned TLS or compression on: what follows it in `input` is not
        // plain, so it goes back through the layers.
        let mut switched = false;
        // Where the frames stood before the batch, and before its first publish.
        let mut marks = BatchMarks {
            start: net.conn(id).map_or(0, |c| out_len(c)),
            first_publish: None,
        };
        let mut fatal = false;
        // An IDENTIFY or AUTH waits for the replies owed before it.
        let mut barrier = false;
        let mut registry = lock(&self.registry);
        let disk_writes = registry.disk_writes();
        while used < input.len() {
            let Some(conn) = net.conn(id) else {
                break;
            };
            let ctx = self.parse_context(&conn.state);
            let result = match proto::parse(&input[used..], &ctx) {
                Ok(None) => break,
                Ok(Some((command, _)))
                    if self.waits_for_owed(
                        &conn.state,
                        &command,
                        marks.first_publish.is_some(),
                    ) =>
                {
                    barrier = true;
                    break;
                }
                Ok(Some((command, n))) => match self.auth_step(net, id, &command, now) {
                    AuthStep::Proceed => {
                        if let Some(topic) = held_new_topic(&mut registry, &command) {
                            // As Go's nsqd, the command goes on once lookupd's
                            // channels exist (see `woken`).
                            self.creating.insert(client, topic);
                            break;
                        }
                        used += n;
                        if marks.first_publish.is_none() {
                            let name = publish_name(&command);
                            marks.first_publish = name.zip(out(net, id)).map(|(c, o)| (o.len(), c));
                        }
                        log::debug!("PROTOCOL(V2): client({client}) {}", Shown(&command));
                        let result = self.execute(&mut registry, net, id, client, command, now);
                        switched = !layered
                            && result.is_ok()
                            && net.conn(id).is_some_and(|c| c.state.layered());
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
                    fatal = true;
                    break;
                }
            }
            if switched {
                break;
            }
        }
        // Only a batch that wrote to a disk queue waits for an fsync (a publish to an
        // ephemeral topic, or into memory, has nothing to sync); its ticket is taken
        // under the lock, so the flush that collects the write covers the ticket.
        let wrote_disk = registry.disk_writes() != disk_writes;
        let ticket = match used > 0 || fatal {
            true => (self.persister).settle(marks.first_publish.is_some() && wrote_disk),
            false => None,
        };
        drop(registry);
        if used > 0 || fatal {
            self.hold_replies(net, id, marks, ticket);
        }
        if fatal {
            self.close_after_replies(net, id);
        }
        if let Some(conn) = net.conn(id) {
            let mut input = input;
            input.drain(..used);
            if layered && !switched {
                conn.state.plain_in = input;
            } else {
                conn.input = input;
            }
        }
        if switched {
            self.process(net, id);
        }
        if barrier {
            match net.conn(id).map(|c| c.state.owed.is_empty()) {
                // Nothing was owed after all (the publishes needed no fsync): go on.
                Some(true) => self.process(net, id),
                // `commit.rs` resumes it once the replies are out.
                Some(false) => net.hold_reads(id, true),
                None => {}
            }
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
            Command::Sub { .. }
            | Command::Rdy(_)
            | Command::Fin(_)
            | Command::Req { .. }
            | Command::Touch(_)
            | Command::Cls => self.consume(registry, net, id, client, command, now),
            Command::Nop => Ok(()),
            Command::Pub { .. } | Command::Mpub { .. } | Command::Dpub { .. } => {
                publish::execute(registry, net, id, client, command, now)
            }
        }
    }

    /// Runs the commands that waited (for an auth answer or a topic's release), then
    /// closes the connection if its peer had closed meanwhile and nothing waits now.
    pub(super) fn resume(&mut self, net: &mut Net<V2Conn>, id: ConnId) {
        self.process(net, id);
        let Some(conn) = net.conn(id) else {
            return;
        };
        if conn.state.peer_closed && !self.waiting(&conn.state) {
            self.read_closed(net, id);
        }
    }
}

impl V2Handler {
    /// True while the connection has commands (an auth answer, a topic's release) or
    /// replies (a group commit) to wait for.
    pub(super) fn waiting(&self, conn: &super::conn::V2Conn) -> bool {
        conn.auth_pending || self.creating.contains_key(&conn.client) || !conn.owed.is_empty()
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

/// A command as the debug log shows it: its name and parameters, never a body or
/// an AUTH secret.
struct Shown<'a, 'b>(&'a Command<'b>);

impl fmt::Display for Shown<'_, '_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let id = |id: &[u8]| String::from_utf8_lossy(id).into_owned();
        match self.0 {
            Command::Identify(body) => write!(f, "IDENTIFY ({} bytes)", body.len()),
            Command::Auth(_) => f.write_str("AUTH"),
            Command::Sub { topic, channel } => write!(f, "SUB {topic} {channel}"),
            Command::Rdy(Some(count)) => write!(f, "RDY {count}"),
            Command::Rdy(None) => f.write_str("RDY (closing: ignored)"),
            Command::Fin(msg) => write!(f, "FIN {}", id(msg)),
            Command::Req { id: msg, delay_ms } => write!(f, "REQ {} {delay_ms}", id(msg)),
            Command::Touch(msg) => write!(f, "TOUCH {}", id(msg)),
            Command::Cls => f.write_str("CLS"),
            Command::Nop => f.write_str("NOP"),
            Command::Pub { topic, body } => write!(f, "PUB {topic} ({} bytes)", body.len()),
            Command::Mpub { topic, bodies } => {
                write!(f, "MPUB {topic} ({} messages)", bodies.len())
            }
            Command::Dpub {
                topic,
                defer_ms,
                body,
            } => write!(f, "DPUB {topic} {defer_ms} ({} bytes)", body.len()),
        }
    }
}
