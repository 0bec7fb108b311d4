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
