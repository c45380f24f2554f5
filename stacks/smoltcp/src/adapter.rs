//! tcpcheck's [`Stack`] for [`SmoltcpStack`]: the seam a stack author implements. Each
//! socket call is the inherent method of the same name (stack.rs); this file adds the
//! clock, the packets and what the stack declares about itself.

use std::io;
use std::net::{Shutdown, SocketAddr};
use std::time::Duration;

use nix::errno::Errno;
use smoltcp::socket::tcp::State;
use tcpcheck::stack::{
    CallResult, Capabilities, Capability, Clock, Fd, Packet, SockOpt, Stack, TcpState, Wait,
};

use crate::engine::{Panicked, Sent};
use crate::stack::SmoltcpStack;

/// What smoltcp 0.14 has, as the adapter offers it. Everything not named here is missing,
/// and a check that needs it is "not applicable" (the crate's docs say why for each).
pub fn capabilities() -> Capabilities {
    [
        Capability::Ipv6,
        // SO_LINGER {1, 0}: `tcp::Socket::abort()`. A linger with a timeout is not offered.
        Capability::Linger,
        // SHUT_WR is `tcp::Socket::close()`, smoltcp's own half-close.
        Capability::HalfClose,
        Capability::ConnectionState,
        Capability::NoDelay,
        Capability::Buffers,
        Capability::ReuseAddr,
        Capability::Sack,
        Capability::Timestamps,
        Capability::WindowScale,
        Capability::Blocking,
    ]
    .into_iter()
    .collect()
}

fn packet(s: Sent) -> Packet {
    Packet {
        at: s.at,
        read_at: s.at,
        bytes: s.bytes,
        gso_size: None,
    }
}

fn crashed(p: Panicked) -> io::Error {
    io::Error::other(p)
}

fn tcp_state(s: State) -> TcpState {
    match s {
        State::Closed => TcpState::Close,
        State::Listen => TcpState::Listen,
        State::SynSent => TcpState::SynSent,
        State::SynReceived => TcpState::SynRecv,
        State::Established => TcpState::Established,
        State::FinWait1 => TcpState::FinWait1,
        State::FinWait2 => TcpState::FinWait2,
        State::CloseWait => TcpState::CloseWait,
        State::Closing => TcpState::Closing,
        State::LastAck => TcpState::LastAck,
        State::TimeWait => TcpState::TimeWait,
    }
}

impl Stack for SmoltcpStack {
    fn name(&self) -> String {
        "smoltcp 0.14".to_string()
    }

    fn capabilities(&self) -> Capabilities {
        capabilities()
    }

    fn clock(&self) -> Clock {
        Clock::Virtual
    }

    fn now(&self) -> Duration {
        self.engine.now()
    }

    fn inject(&mut self, packet: &[u8]) -> io::Result<()> {
        if let Some(p) = self.panicked() {
            return Err(crashed(p.clone()));
        }
        self.note_injected(packet);
        self.engine.wire.inbound.push_back(packet.to_vec());
        self.poll().map_err(crashed)
    }

    fn settle(&mut self) -> io::Result<Vec<Packet>> {
        self.poll().map_err(crashed)?;
        let mut out = Vec::new();
        while let Some(s) = self.engine.pop_sent() {
            out.push(packet(s));
        }
        Ok(out)
    }

    fn next_packet(&mut self, deadline: Duration) -> io::Result<Option<Packet>> {
        Ok(self.next_sent(deadline).map_err(crashed)?.map(packet))
    }

    fn socket(&mut self, v6: bool) -> CallResult<Fd> {
        SmoltcpStack::socket(self, v6)
    }

    fn bind(&mut self, fd: Fd, addr: SocketAddr) -> CallResult<()> {
        SmoltcpStack::bind(self, fd, addr)
    }

    fn listen(&mut self, fd: Fd, backlog: i32) -> CallResult<()> {
        SmoltcpStack::listen(self, fd, backlog)
    }

    fn accept(&mut self, fd: Fd, wait: Wait) -> CallResult<(Fd, SocketAddr)> {
        SmoltcpStack::accept(self, fd, wait)
    }

    fn connect(&mut self, fd: Fd, addr: SocketAddr) -> CallResult<()> {
        SmoltcpStack::connect(self, fd, addr)
    }

    fn write(&mut self, fd: Fd, data: &[u8]) -> CallResult<usize> {
        SmoltcpStack::write(self, fd, data)
    }

    fn read(&mut self, fd: Fd, max: usize, wait: Wait) -> CallResult<Vec<u8>> {
        SmoltcpStack::read(self, fd, max, wait)
    }

    fn shutdown(&mut self, fd: Fd, how: Shutdown) -> CallResult<()> {
        SmoltcpStack::shutdown(self, fd, how)
    }

    fn close(&mut self, fd: Fd) -> CallResult<()> {
        SmoltcpStack::close(self, fd)
    }

    fn setsockopt(&mut self, fd: Fd, opt: SockOpt) -> CallResult<()> {
        SmoltcpStack::setsockopt(self, fd, opt)
    }

    fn take_error(&mut self, fd: Fd) -> CallResult<Option<Errno>> {
        SmoltcpStack::take_error(self, fd)
    }

    fn set_nonblocking(&mut self, fd: Fd, on: bool) -> CallResult<()> {
        SmoltcpStack::set_nonblocking(self, fd, on)
    }

    fn writable(&mut self, fd: Fd) -> CallResult<bool> {
        SmoltcpStack::writable(self, fd)
    }

    fn state(&mut self, fd: Fd) -> io::Result<TcpState> {
        SmoltcpStack::state(self, fd)
            .map(tcp_state)
            .map_err(|e| io::Error::other(e.to_string()))
    }

    fn end(&mut self) -> io::Result<usize> {
        Ok(self.abort_all())
    }
}
