//! Where a program is on the network: resolving `host:port` flags to an address,
//! and the hostname Go's `os.Hostname` reports (broadcast address and node ID
//! defaults).

use std::io;
use std::net::{SocketAddr, ToSocketAddrs};

/// Resolves `host:port` to the first address it names.
pub fn resolve(addr: &str) -> io::Result<SocketAddr> {
    addr.to_socket_addrs()?.next().ok_or_else(|| {
        io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("no address for {addr}"),
        )
    })
}

/// An I/O error in the OS's words, as Go prints them: `address already in use`, not
/// `Address already in use (os error 98)`.
pub fn reason(e: &io::Error) -> String {
    let text = e.to_string();
    let text = match text.rfind(" (os error ") {
        Some(at) if text.ends_with(')') => text[..at].to_string(),
        _ => text,
    };
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_lowercase().chain(chars).collect(),
        None => text,
    }
}

/// The OS hostname as Go's `os.Hostname` sees it on Linux
/// (`/proc/sys/kernel/hostname`, trimmed), or `localhost` if unreadable or empty.
pub fn hostname() -> String {
    let name = std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap_or_default();
    match name.trim() {
        "" => "localhost".to_string(),
        trimmed => trimmed.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reasons_read_like_go() {
        let e = io::Error::from_raw_os_error(98);
        assert_eq!(reason(&e), "address already in use");
        assert_eq!(reason(&io::Error::other("Custom")), "custom");
    }

    #[test]
    fn hostname_is_never_empty() {
        let name = hostname();
        assert!(!name.is_empty());
        assert_eq!(name, name.trim());
    }

    #[test]
    fn resolve_takes_the_first_address() {
        let addr = resolve("127.0.0.1:4150").unwrap();
        assert_eq!(addr, "127.0.0.1:4150".parse().unwrap());
        assert!(resolve("127.0.0.1").is_err(), "no port");
    }
}
