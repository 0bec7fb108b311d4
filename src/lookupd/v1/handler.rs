//! The V1 connection as a reactor handler: checks the magic, feeds the buffered bytes
//! to [`crate::proto::v1`]'s parser, answers `[int32 size][data]`, closes after an
//! error, and removes an nsqd's registrations when its connection goes. What each
//! command does to the DB is in `commands`.

use super::identity::Identity;
use crate::lookupd::db::Db;
use crate::proto::v1::{self as wire, MAGIC_V1};
use crate::proto::ProtoError;
use crate::reactor::{ConnId, Handler, Net, Timers};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Instant;

/// Largest IDENTIFY body accepted. nsqd's is about 200 bytes; Go lookupd has no limit
/// (and panics on a negative size), we refuse anything above this.
pub const MAX_IDENTIFY_BODY: usize = 1024 * 1024;

/// One V1 connection's protocol state.
#[derive(Debug)]
pub struct V1Conn {
    pub(super) peer: SocketAddr,
    /// `peer` as text: the peer id in the DB.
    pub(super) peer_id: String,
    pub(super) magic_ok: bool,
    pub(super) identified: bool,
}

/// nsqlookupd's V1 protocol, as a reactor handler.
pub struct V1Handler {
    pub(super) db: Arc<Mutex<Db>>,
    pub(super) identity: Identity,
    pub(super) reply: Vec<u8>,
    pub(super) max_body: usize,
}

pub(super) fn lock(db: &Mutex<Db>) -> MutexGuard<'_, Db> {
    db.lock().unwrap_or_else(|p| p.into_inner())
}

impl V1Handler {
    /// A handler registering nsqds in `db` and describing itself as `identity`.
    pub fn new(db: Arc<Mutex<Db>>, identity: Identity) -> V1Handler {
        let reply = identity.reply_json().into_bytes();
        V1Handler {
            db,
            identity,
            reply,
            max_body: MAX_IDENTIFY_BODY,
        }
    }

    /// What this handler answers IDENTIFY with.
    pub fn identity(&self) -> &Identity {
        &self.identity
    }

    /// Parses and executes every complete command in the connection's input.
    fn process(&mut self, net: &mut Net<V1Conn>, id: ConnId) {
        let Some(conn) = net.conn(id) else {
            return;
        };
        if !conn.state.magic_ok {
            if conn.input.len() < MAGIC_V1.len() {
                return;
            }
            let magic = String::from_utf8_lossy(&conn.input[..4]).into_owned();
            if conn.input[..4] != MAGIC_V1[..] {
                log::error!("client({}) bad protocol magic '{magic}'", conn.peer);
                send_error(net, id, &ProtoError::bad_protocol());
                net.close(id);
                return;
            }
            log::info!("CLIENT({}): desired protocol magic '{magic}'", conn.peer);
            conn.state.magic_ok = true;
            conn.input.drain(..4);
        }
        let input = std::mem::take(&mut conn.input);
        let mut used = 0;
        while used < input.len() {
            let Some(conn) = net.conn(id) else {
                return;
            };
            let result = match wire::parse(&input[used..], conn.state.identified, self.max_body) {
                Ok(None) => break,
                Ok(Some((command, n))) => {
                    used += n;
                    self.execute(&mut conn.state, command)
                }
                Err(e) => Err(e),
            };
            match result {
                Ok(reply) => {
                    if let Some(out) = net.output(id) {
                        wire::write_response(out, reply);
                    }
                }
                Err(e) => {
                    fatal(net, id, &e);
                    return;
                }
            }
        }
        if let Some(conn) = net.conn(id) {
            let mut input = input;
            input.drain(..used);
            conn.input = input;
        }
    }
}

fn send_error(net: &mut Net<V1Conn>, id: ConnId, err: &ProtoError) {
    if let Some(out) = net.output(id) {
        wire::write_error(out, err);
    }
}

/// Answers a (always fatal) error and closes, logging as nsqlookupd does.
fn fatal(net: &mut Net<V1Conn>, id: ConnId, err: &ProtoError) {
    if let Some(conn) = net.conn(id) {
        log::error!("[{}] - {err}", conn.peer);
    }
    send_error(net, id, err);
    net.close(id);
}

impl Handler for V1Handler {
    type Conn = V1Conn;

    fn accepted(&mut self, _timers: &mut Timers, _id: ConnId, peer: SocketAddr) -> V1Conn {
        log::info!("TCP: new client({peer})");
        V1Conn {
            peer,
            peer_id: peer.to_string(),
            magic_ok: false,
            identified: false,
        }
    }

    fn readable(&mut self, net: &mut Net<V1Conn>, id: ConnId) {
        self.process(net, id);
    }

    fn read_closed(&mut self, net: &mut Net<V1Conn>, id: ConnId) {
        let Some(conn) = net.conn(id) else {
            return;
        };
        if !conn.state.magic_ok {
            log::error!(
                "failed to read protocol version from client({}) - EOF",
                conn.peer
            );
        } else if let Some(e) =
            wire::parse_at_eof(&conn.input, conn.state.identified, self.max_body)
        {
            fatal(net, id, &e);
        }
        net.close(id);
    }

    fn closed(&mut self, _net: &mut Net<V1Conn>, _id: ConnId, conn: V1Conn) {
        if conn.magic_ok {
            log::info!("PROTOCOL(V1): [{}] exiting ioloop", conn.peer);
        }
        if conn.identified {
            lock(&self.db).remove_peer(&conn.peer_id);
            log::info!("DB: client({}) removed from every registration", conn.peer);
        }
    }

    fn timer(&mut self, _net: &mut Net<V1Conn>, _key: u64, _now: Instant) {}

    fn woken(&mut self, _net: &mut Net<V1Conn>) {}

    fn round_end(&mut self, _net: &mut Net<V1Conn>) {}

    fn stopping(&mut self, net: &mut Net<V1Conn>) {
        log::info!("TCP: closing {} clients", net.ids().len());
    }
}
