//! Listening sockets as every nsq-rs program opens them: `SO_REUSEADDR` (as Go sets
//! it) and a listen backlog of [`BACKLOG`] — Go's programs get the kernel's
//! `somaxconn` (4096 on current Linux), where `std` and `mio` ask for 128 or 1024, so
//! a burst of connects would otherwise lose SYNs and stall for a second.

use socket2::{Domain, Protocol, Socket, Type};
use std::io;
use std::net::{SocketAddr, TcpListener};

/// The listen backlog of every listener.
pub const BACKLOG: i32 = 4096;

/// Binds a TCP listener on `addr` with [`BACKLOG`].
pub fn bind(addr: SocketAddr) -> io::Result<TcpListener> {
    let socket = Socket::new(Domain::for_address(addr), Type::STREAM, Some(Protocol::TCP))?;
    socket.set_reuse_address(true)?;
    if addr.is_ipv6() {
        // As Go: "[::]:port" listens on IPv4 too.
        let _ = socket.set_only_v6(false);
    }
    socket.bind(&addr.into())?;
    socket.listen(BACKLOG)?;
    Ok(socket.into())
}

/// A listener that could not be opened, said as Go says it:
/// `listen (ADDR) failed - REASON`, with `ADDR` as given on the command line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListenError {
    /// The address as the flag gave it.
    pub addr: String,
    /// Why, in the OS's words (`address already in use`, `missing port in address`).
    pub reason: String,
}

impl std::fmt::Display for ListenError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "listen ({}) failed - {}", self.addr, self.reason)
    }
}

impl std::error::Error for ListenError {}

/// Resolves the flag value `addr` (`host:port`) and binds it as [`bind`] does; a
/// failure names the address and its own cause.
pub fn bind_flag(addr: &str) -> Result<TcpListener, ListenError> {
    let failed = |reason: String| ListenError {
        addr: addr.to_string(),
        reason,
    };
    if !addr.contains(':') {
        // Go's net.SplitHostPort: "address nonsense: missing port in address".
        return Err(failed(format!("address {addr}: missing port in address")));
    }
    let resolved = crate::common::net::resolve(addr).map_err(|e| failed(reason(&e)))?;
    bind(resolved).map_err(|e| failed(reason(&e)))
}

/// An I/O error in the OS's words, as Go prints them (see [`crate::common::net::reason`]).
pub use crate::common::net::reason;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_taken_port_and_a_missing_port_name_the_address() {
        let taken = TcpListener::bind("127.0.0.1:0").expect("bind");
        let addr = taken.local_addr().expect("addr").to_string();
        let e = bind_flag(&addr).expect_err("taken");
        assert_eq!(
            e.to_string(),
            format!("listen ({addr}) failed - address already in use")
        );
        let e = bind_flag("nonsense").expect_err("no port");
        assert_eq!(
            e.to_string(),
            "listen (nonsense) failed - address nonsense: missing port in address"
        );
    }
}
