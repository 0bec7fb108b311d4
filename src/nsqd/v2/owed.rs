//! The replies a V2 connection owes until a group commit covers its publishes
//! (`--sync-every=1`): the plain frames from the first OK that waits for an fsync on,
//! in command order, cut into chunks by the commit ticket each waits for. Whatever a
//! later command answers (an OK, an error) joins the last chunk, so nothing
//! overtakes an owed OK. Plain data: `v2/commit.rs` holds and releases.

use crate::nsqd::durability::Ticket;
use std::collections::VecDeque;

/// Held replies above which the connection's input waits (about 100,000 OKs).
pub(super) const MAX_HELD: usize = 1 << 20;

/// A connection's held replies.
#[derive(Debug, Default)]
pub(super) struct Owed {
    held: Vec<u8>,
    chunks: VecDeque<Chunk>,
}

/// Replies released together, once `ticket` is committed.
#[derive(Debug)]
struct Chunk {
    ticket: Ticket,
    /// Where the chunk ends in `held`.
    end: usize,
    /// Where its first publish reply starts in `held`, and that command: should the
    /// commit fail, what comes before still goes out, then that command's error.
    publish: usize,
    command: &'static str,
}

/// A commit that failed: the command whose reply was the first it covered, and why.
#[derive(Debug, PartialEq, Eq)]
pub(super) struct Failed {
    pub(super) command: &'static str,
    pub(super) error: String,
}

impl Owed {
    /// Nothing held.
    pub(super) fn is_empty(&self) -> bool {
        self.chunks.is_empty()
    }

    /// So much is held that no more input should be read for now.
    pub(super) fn is_full(&self) -> bool {
        self.held.len() >= MAX_HELD
    }

    /// Holds one batch's replies behind what is held already. `publish`: where in
    /// `replies` the batch's first publish reply starts, its command, and the ticket
    /// that covers the batch's publishes (the batch opens a chunk); without it the
    /// replies join the last chunk.
    pub(super) fn hold(&mut self, replies: &[u8], publish: Option<(usize, &'static str, Ticket)>) {
        let base = self.held.len();
        self.held.extend_from_slice(replies);
        let end = self.held.len();
        match publish {
            Some((at, command, ticket)) => self.chunks.push_back(Chunk {
                ticket,
                end,
                publish: (base + at).min(end),
                command,
            }),
            None => {
                if let Some(last) = self.chunks.back_mut() {
                    last.end = end;
                }
            }
        }
    }

    /// Appends to `out` the replies of every chunk whose commit is done, in order;
    /// `outcome` says how a ticket's commit ended (`None`: still pending). At the first
    /// failed commit its chunk's replies before its first publish go out, everything
    /// else held is dropped, and the failure is returned.
    pub(super) fn release(
        &mut self,
        out: &mut Vec<u8>,
        outcome: impl Fn(Ticket) -> Option<Result<(), String>>,
    ) -> Result<(), Failed> {
        let mut upto = 0;
        let mut result = Ok(());
        while let Some(chunk) = self.chunks.front() {
            match outcome(chunk.ticket) {
                None => break,
                Some(Ok(())) => {
                    upto = chunk.end;
                    self.chunks.pop_front();
                }
                Some(Err(error)) => {
                    upto = chunk.publish;
                    result = Err(Failed {
                        command: chunk.command,
                        error,
                    });
                    self.chunks.clear();
                    break;
                }
            }
        }
        out.extend_from_slice(&self.held[..upto]);
        if self.chunks.is_empty() {
            self.held = Vec::new();
        } else {
            self.held.drain(..upto);
            for chunk in &mut self.chunks {
                chunk.end -= upto;
                chunk.publish = chunk.publish.saturating_sub(upto);
            }
        }
        result
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn done_upto(n: Ticket) -> impl Fn(Ticket) -> Option<Result<(), String>> {
        move |t| (t <= n).then_some(Ok(()))
    }

    #[test]
    fn releases_chunks_in_order_as_their_commits_end() {
        let mut owed = Owed::default();
        owed.hold(b"a1", Some((0, "PUB", 1)));
        owed.hold(b"e", None); // an error after the first OK rides with it
        owed.hold(b"xb2", Some((1, "PUB", 2)));
        let mut out = Vec::new();
        assert_eq!(owed.release(&mut out, done_upto(0)), Ok(()));
        assert!(out.is_empty());
        assert_eq!(owed.release(&mut out, done_upto(1)), Ok(()));
        assert_eq!(out, b"a1e");
        assert!(!owed.is_empty());
        assert_eq!(owed.release(&mut out, done_upto(5)), Ok(()));
        assert_eq!(out, b"a1exb2");
        assert!(owed.is_empty());
    }

    #[test]
    fn a_failed_commit_releases_only_what_precedes_its_first_publish() {
        let mut owed = Owed::default();
        owed.hold(b"ok1", Some((0, "PUB", 1)));
        owed.hold(b"sub-okMPUB-ok", Some((6, "MPUB", 2)));
        owed.hold(b"ok3", Some((0, "PUB", 3)));
        let mut out = Vec::new();
        let failed = owed.release(&mut out, |t| match t {
            1 => Some(Ok(())),
            _ => Some(Err("disk".into())),
        });
        assert_eq!(
            failed,
            Err(Failed {
                command: "MPUB",
                error: "disk".into()
            })
        );
        assert_eq!(out, b"ok1sub-ok");
        assert!(owed.is_empty());
    }

    #[test]
    fn fills_up_past_the_limit() {
        let mut owed = Owed::default();
        owed.hold(&vec![0; MAX_HELD - 1], Some((0, "PUB", 1)));
        assert!(!owed.is_full());
        owed.hold(b"x", None);
        assert!(owed.is_full());
    }
}
