//! Loopback ports.

use std::net::TcpListener;

/// A free 127.0.0.1 port: bind port 0, read the port, release it. Another process may take it
/// before the caller binds, so services started on it retry on "address already in use".
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("bind 127.0.0.1:0")
}
