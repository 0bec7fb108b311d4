//! The nsqd program: its options, the V2 protocol handler, IDENTIFY negotiation and the
//! server that ties them to a listener. `src/bin/nsqd.rs` is a thin main over this.

pub mod identify;
pub mod node_id;
pub mod options;
pub mod server;
pub mod v2;
