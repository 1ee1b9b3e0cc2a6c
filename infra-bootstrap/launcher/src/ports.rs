//! Loopback ports.

use std::net::{Ipv4Addr, SocketAddr, TcpListener};

use anyhow::Context as _;

/// A TCP port on 127.0.0.1 that was free a moment ago. The OS hands out ephemeral ports
/// round-robin, so a port just released is unlikely to be handed out again soon; another
/// program may still take it first, and then the component fails to start and says so.
pub fn free_port() -> anyhow::Result<u16> {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).context("binding 127.0.0.1:0")?;
    Ok(listener.local_addr()?.port())
}

/// `preferred` when nothing listens there (and `any` is false), else a free port.
pub fn pick_port(preferred: u16, any: bool) -> anyhow::Result<u16> {
    if !any && TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], preferred))).is_ok() {
        return Ok(preferred);
    }
    free_port()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_taken_preferred_port_is_replaced() {
        let taken = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).expect("bind");
        let port = taken.local_addr().expect("addr").port();
        assert_ne!(pick_port(port, false).expect("port"), port);
        drop(taken);
        assert_eq!(pick_port(port, false).expect("port"), port);
    }
}
