//! Deferred acknowledgements (`--sync-every=1`): after a batch that published, its
//! replies from the first publish on are held ([`Owed`]) with the group-commit ticket
//! that covers them, instead of going out; the reactor goes on serving every
//! connection, and when the syncer thread wakes it after a commit, the replies whose
//! tickets are committed are released in each connection's command order. A failed
//! commit answers its first publish with `E_PUB_FAILED` (MPUB, DPUB likewise) and
//! closes the connection, as Go's nsqd does for a failed write.
//!
//! While replies are held, IDENTIFY and AUTH wait (their answer must follow them, and
//! IDENTIFY may switch the stream to TLS or compression); a fatal error, or the
//! peer's close, closes the connection only once what is held has gone out.

use super::codec::send_error;
use super::conn::V2Conn;
use super::handler::V2Handler;
use super::owed::Failed;
use super::publish::pub_failed;
use crate::nsqd::durability::Ticket;
use crate::proto::Command;
use crate::reactor::{ConnId, Net};

/// Where a batch's replies stand in the connection's frame buffer, taken while it
/// runs: its start, and where the first publish's reply starts, with its command.
pub(super) struct BatchMarks {
    pub(super) start: usize,
    pub(super) first_publish: Option<(usize, &'static str)>,
}

impl V2Handler {
    /// True if `command` must wait until the connection's held replies are out:
    /// IDENTIFY and AUTH, when replies are held or this batch published.
    pub(super) fn waits_for_owed(
        &self,
        conn: &V2Conn,
        command: &Command<'_>,
        batch_published: bool,
    ) -> bool {
        self.persister.sync_every_write()
            && matches!(command, Command::Identify(_) | Command::Auth(_))
            && (batch_published || !conn.owed.is_empty())
    }

    /// After a batch ran (registry lock released): holds its replies behind `ticket`,
    /// the group commit its publishes need (taken under the lock), and behind what
    /// the connection owed already, so none goes out before its fsync. Without a
    /// ticket (no `--sync-every=1`, nothing written to disk) only what is owed
    /// already keeps the replies back.
    pub(super) fn hold_replies(
        &mut self,
        net: &mut Net<V2Conn>,
        id: ConnId,
        marks: BatchMarks,
        ticket: Option<Ticket>,
    ) {
        let Some(conn) = net.conn(id) else {
            return;
        };
        let publish = marks.first_publish.zip(ticket);
        if publish.is_none() && conn.state.owed.is_empty() {
            return;
        }
        let from = match (&publish, conn.state.owed.is_empty()) {
            (Some(((at, _), _)), true) => *at,
            _ => marks.start,
        };
        let state = &mut conn.state;
        let frames = match state.layered() {
            true => &mut state.plain_out,
            false => &mut conn.output,
        };
        let replies = frames.split_off(from.min(frames.len()));
        let publish = publish.map(|((at, command), ticket)| (at - from, command, ticket));
        state.owed.hold(&replies, publish);
        self.owing.insert(state.client);
    }

    /// Closes `id` once its held replies are out (at once when none are held).
    pub(super) fn close_after_replies(&mut self, net: &mut Net<V2Conn>, id: ConnId) {
        match net.conn(id) {
            Some(conn) if !conn.state.owed.is_empty() => {
                conn.state.close_when_paid = true;
                net.hold_reads(id, true);
            }
            _ => net.close(id),
        }
    }

    /// After a wake-up: releases every held reply whose commit ended, then lets the
    /// connections whose input waited go on.
    pub(super) fn release_owed(&mut self, net: &mut Net<V2Conn>) {
        let done = self.persister.committed();
        if self.owing.is_empty() || done == self.released {
            return;
        }
        self.released = done;
        let owing: Vec<_> = self.owing.iter().copied().collect();
        for client in owing {
            let Some(&id) = self.conns.get(&client) else {
                self.owing.remove(&client);
                continue;
            };
            if let Err(failed) = self.release_conn(net, id) {
                self.owing.remove(&client);
                let e = pub_failed(failed.command)(std::io::Error::other(failed.error));
                send_error(net, id, &e);
                log::info!("client({client}) fatal: {e}");
                net.close(id);
                continue;
            }
            let Some(conn) = net.conn(id) else {
                self.owing.remove(&client);
                continue;
            };
            if !conn.state.owed.is_empty() {
                if !conn.state.owed.is_full() {
                    net.hold_reads(id, false);
                    self.process(net, id);
                }
                continue;
            }
            self.owing.remove(&client);
            if conn.state.close_when_paid {
                net.close(id);
                continue;
            }
            net.hold_reads(id, false);
            self.resume(net, id);
        }
    }

    /// Moves `id`'s replies whose commits ended to its output.
    fn release_conn(&mut self, net: &mut Net<V2Conn>, id: ConnId) -> Result<(), Failed> {
        if net.output(id).is_none() {
            return Ok(()); // closing: nothing more goes out
        }
        let Some(conn) = net.conn(id) else {
            return Ok(());
        };
        let state = &mut conn.state;
        let frames = match state.layered() {
            true => &mut state.plain_out,
            false => &mut conn.output,
        };
        let persister = &self.persister;
        state.owed.release(frames, |t: Ticket| persister.outcome(t))
    }
}
