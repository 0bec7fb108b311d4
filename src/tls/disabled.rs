//! The TLS API (server and client) in a build without the `tls` feature: nothing
//! can be made, so a program asked for TLS refuses at start with one line.

use super::{ClientSpec, ServerSpec, TlsInfo};

/// A server configuration; never made in this build.
#[derive(Debug, Clone)]
pub struct ServerTls(Never);

/// One connection's TLS state; never made in this build.
#[derive(Debug)]
pub struct ServerSession(Never);

#[derive(Debug, Clone)]
enum Never {}

const NOT_BUILT: &str = "this build has no TLS (cargo feature \"tls\")";

impl ServerTls {
    /// Always refuses: this build has no TLS.
    pub fn new(_spec: &ServerSpec) -> Result<ServerTls, String> {
        Err(NOT_BUILT.to_string())
    }
}

impl ServerSession {
    /// Never reached: no [`ServerTls`] exists.
    pub fn new(tls: &ServerTls) -> Result<ServerSession, String> {
        match tls.0 {}
    }
    /// Never reached.
    pub fn read(
        &mut self,
        _raw: &[u8],
        _plain: &mut Vec<u8>,
        _wire: &mut Vec<u8>,
    ) -> Result<bool, String> {
        match self.0 {}
    }
    /// Never reached.
    pub fn write(&mut self, _plain: &[u8], _wire: &mut Vec<u8>) {
        match self.0 {}
    }
    /// Never reached.
    pub fn drain(&mut self, _wire: &mut Vec<u8>) {
        match self.0 {}
    }
    /// Never reached.
    pub fn is_handshaking(&self) -> bool {
        match self.0 {}
    }
    /// Never reached.
    pub fn close(&mut self, _wire: &mut Vec<u8>) {
        match self.0 {}
    }
    /// Never reached.
    pub fn info(&self) -> Option<TlsInfo> {
        match self.0 {}
    }
}

/// A client configuration; never made in this build.
#[derive(Debug, Clone)]
pub struct ClientTls(Never);

/// The receiving half of a client connection; never made in this build.
#[derive(Debug)]
pub struct ClientReader(Never);

/// The sending half of a client connection; never made in this build.
#[derive(Debug, Clone)]
pub struct ClientWriter(Never);

impl ClientTls {
    /// Always refuses: this build has no TLS.
    pub fn new(_spec: &ClientSpec) -> Result<ClientTls, String> {
        Err(NOT_BUILT.to_string())
    }
    /// Never reached: no [`ClientTls`] exists.
    pub fn handshake(
        &self,
        _host_port: &str,
        _sock: &std::net::TcpStream,
        _early: &[u8],
    ) -> std::io::Result<(ClientReader, ClientWriter)> {
        match self.0 {}
    }
}

impl std::io::Read for ClientReader {
    fn read(&mut self, _buf: &mut [u8]) -> std::io::Result<usize> {
        match self.0 {}
    }
}

impl ClientWriter {
    /// Never reached.
    pub fn write_all(&self, _plain: &[u8]) -> std::io::Result<()> {
        match self.0 {}
    }
    /// Never reached.
    pub fn close_notify(&self) {
        match self.0 {}
    }
}
