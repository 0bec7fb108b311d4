//! The V2 connection handler: plugs nsqd into the reactor. It checks the magic, parses
//! commands with `proto`, executes them against the registry, writes the replies,
//! keeps each connection's heartbeat and read deadline, and after every round pumps
//! deliveries from the registry into the consumers' output buffers.
//!
//! Fatal errors are answered and the connection closed; only FIN, REQ and TOUCH
//! failures leave it open.
//!
//! With `--sync-every=1` a publish's OK is held until the syncer thread's group
//! commit covers it (`commit.rs`); the loop never waits for the disk.
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
//!
//! Files (each imports only those listed before it):
//! - `owed.rs`: replies held until a group commit covers them (plain data).
//! - `handler.rs`: the handler's state ([`V2Config`], [`V2Handler`]) and its constructor.
//! - `conn.rs`: one connection's protocol state ([`V2Conn`]) and its timer deadline.
//! - `codec.rs`: where a connection's frames go, and the negotiated compression around them.
//! - `negotiate.rs`: IDENTIFY (settings, heartbeat, compression switch).
//! - `consumer.rs`: SUB, RDY, FIN, REQ, TOUCH, CLS.
//! - `publish.rs`: PUB, MPUB, DPUB.
//! - `commit.rs`: holding a batch's replies for its group commit, releasing them.
//! - `auth_flow.rs`: the auth rules per command, auth queries and their answers.
//! - `dispatch.rs`: a connection's input batch — magic, parsing, routing, waiting.
//! - `timers.rs`: the registry's deadline and each connection's heartbeat and read timeout.
//! - `delivery.rs`: the end-of-round pump from the registry into output buffers.
//! - `events.rs`: the reactor callbacks (`impl Handler`), delegating to the above.

mod auth_flow;
mod codec;
mod commit;
mod conn;
mod consumer;
mod delivery;
mod dispatch;
mod events;
mod handler;
mod negotiate;
mod owed;
mod publish;
mod timers;

pub use conn::V2Conn;
pub use handler::{V2Config, V2Handler};
