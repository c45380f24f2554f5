//! What a stack has beyond the core of TCP: declared by the stack, consulted by the runner
//! and the explorer before they use it, so a check that needs what a stack lacks is "not
//! applicable" rather than a pass or a failure.

use std::fmt;
use std::io;

/// One thing only some stacks have. The set is open to growth (`#[non_exhaustive]`): a stack
/// declares what it has, and anything it does not name it lacks.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum Capability {
    /// IPv6 on the wire.
    Ipv6,
    /// An AF_INET6 socket talking IPv4 through IPv4-mapped addresses (`::ffff:192.0.2.1`).
    V4MappedV6,
    /// listen()'s backlog bounds the accept queue, several connections wait there, and a
    /// listener's unaccepted connections are reset when it closes (as BSD sockets do).
    ListenBacklog,
    /// SO_LINGER, and with it close() that aborts with a RST (linger 0).
    Linger,
    /// shutdown() of one direction (SHUT_WR, SHUT_RD) leaving the other open.
    HalfClose,
    /// The stack tells a connection's TCP state ([`super::Stack::state`]).
    ConnectionState,
    /// Linux's `TCP_INFO` ([`super::Stack::tcp_info`]): `%{ assert tcpi_... }%` blocks.
    TcpInfo,
    /// A listener's accept and SYN queue lengths, observed into the trace.
    ListenerQueues,
    /// Every TCP connection the stack holds, descriptor or not ([`super::Stack::connections`]):
    /// request sockets, TIME-WAIT.
    ConnectionTable,
    /// Named settings (Linux sysctls, `net.ipv4.tcp_*`): backquoted `sysctl` commands.
    Settings,
    /// Shell commands run beside the stack (backquoted commands other than sysctl).
    Shell,
    /// SO_KEEPALIVE and the TCP_KEEP* options.
    KeepAlive,
    /// TCP_NODELAY (Nagle's algorithm off).
    NoDelay,
    /// TCP_QUICKACK.
    QuickAck,
    /// TCP_USER_TIMEOUT.
    UserTimeout,
    /// TCP_MAXSEG.
    MaxSeg,
    /// SO_RCVBUF and SO_SNDBUF.
    Buffers,
    /// SO_REUSEADDR.
    ReuseAddr,
    /// Selective acknowledgements (RFC 2018) negotiated and sent.
    Sack,
    /// The timestamps option (RFC 7323) negotiated and sent.
    Timestamps,
    /// Window scaling (RFC 7323) negotiated.
    WindowScale,
    /// Blocking calls on a socket in blocking mode (accept, connect, read, write that wait).
    Blocking,
    /// The stack makes Linux's choices where RFC 9293 leaves them free (when to ACK, how to
    /// segment, its timers, the errno of a call): what a script written against Linux needs
    /// when its line pins such a choice and the model allows what the stack did instead.
    LinuxChoices,
    /// Linux's own system calls beyond the BSD core, made on the stack's descriptors
    /// ([`super::Stack::raw_fd`]): send flags, sendmsg/recvmsg with ancillary data, ioctl,
    /// poll, epoll, options the seam does not name.
    LinuxCalls,
}

impl Capability {
    /// Every capability, in declaration order.
    pub const ALL: [Capability; 24] = [
        Capability::Ipv6,
        Capability::V4MappedV6,
        Capability::ListenBacklog,
        Capability::Linger,
        Capability::HalfClose,
        Capability::ConnectionState,
        Capability::TcpInfo,
        Capability::ListenerQueues,
        Capability::ConnectionTable,
        Capability::Settings,
        Capability::Shell,
        Capability::KeepAlive,
        Capability::NoDelay,
        Capability::QuickAck,
        Capability::UserTimeout,
        Capability::MaxSeg,
        Capability::Buffers,
        Capability::ReuseAddr,
        Capability::Sack,
        Capability::Timestamps,
        Capability::WindowScale,
        Capability::Blocking,
        Capability::LinuxChoices,
        Capability::LinuxCalls,
    ];

    /// The name reports print (`needs linger`) and scripts use (`// needs: linger`).
    pub fn name(self) -> &'static str {
        match self {
            Capability::Ipv6 => "ipv6",
            Capability::V4MappedV6 => "ipv4-mapped-ipv6",
            Capability::ListenBacklog => "listen-backlog",
            Capability::Linger => "linger",
            Capability::HalfClose => "half-close",
            Capability::ConnectionState => "connection-state",
            Capability::TcpInfo => "tcp-info",
            Capability::ListenerQueues => "listener-queues",
            Capability::ConnectionTable => "connection-table",
            Capability::Settings => "settings",
            Capability::Shell => "shell",
            Capability::KeepAlive => "keep-alive",
            Capability::NoDelay => "no-delay",
            Capability::QuickAck => "quick-ack",
            Capability::UserTimeout => "user-timeout",
            Capability::MaxSeg => "max-seg",
            Capability::Buffers => "buffers",
            Capability::ReuseAddr => "reuse-addr",
            Capability::Sack => "sack",
            Capability::Timestamps => "timestamps",
            Capability::WindowScale => "window-scale",
            Capability::Blocking => "blocking",
            Capability::LinuxChoices => "linux-choices",
            Capability::LinuxCalls => "linux-calls",
        }
    }

    /// The capability named `name` (as [`Capability::name`] spells it).
    pub fn parse(name: &str) -> Option<Capability> {
        Capability::ALL.into_iter().find(|c| c.name() == name)
    }

    fn bit(self) -> u64 {
        1 << (self as u32)
    }

    /// An error saying this capability is missing, which [`needed`] recognises: for a stack
    /// whose optional method was called anyway.
    pub fn missing(self) -> io::Error {
        io::Error::new(io::ErrorKind::Unsupported, Needs(self))
    }
}

impl fmt::Display for Capability {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The payload of [`Capability::missing`]'s error.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Needs(pub Capability);

impl fmt::Display for Needs {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "not applicable (needs {})", self.0)
    }
}

impl std::error::Error for Needs {}

/// The capability an error from [`Capability::missing`] names, if it is one.
pub fn needed(e: &io::Error) -> Option<Capability> {
    e.get_ref()
        .and_then(|inner| inner.downcast_ref::<Needs>())
        .map(|n| n.0)
}

/// A set of capabilities, as a stack declares them.
#[derive(Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct Capabilities(u64);

impl Capabilities {
    /// No capability: the core of TCP alone (IPv4, socket, bind, listen, accept, connect,
    /// read, write, close, non-blocking calls).
    pub const NONE: Capabilities = Capabilities(0);

    /// Every capability there is.
    pub fn all() -> Capabilities {
        Capability::ALL.into_iter().collect()
    }

    /// This set with `c` added.
    pub fn with(self, c: Capability) -> Capabilities {
        Capabilities(self.0 | c.bit())
    }

    /// This set without `c`.
    pub fn without(self, c: Capability) -> Capabilities {
        Capabilities(self.0 & !c.bit())
    }

    /// Whether `c` is in the set.
    pub fn has(self, c: Capability) -> bool {
        self.0 & c.bit() != 0
    }

    /// The first of `needs` this set lacks.
    pub fn lacks(self, needs: impl IntoIterator<Item = Capability>) -> Option<Capability> {
        needs.into_iter().find(|c| !self.has(*c))
    }

    /// The capabilities in the set, in [`Capability::ALL`]'s order.
    pub fn iter(self) -> impl Iterator<Item = Capability> {
        Capability::ALL.into_iter().filter(move |c| self.has(*c))
    }
}

impl FromIterator<Capability> for Capabilities {
    fn from_iter<I: IntoIterator<Item = Capability>>(iter: I) -> Self {
        iter.into_iter()
            .fold(Capabilities::NONE, Capabilities::with)
    }
}

impl fmt::Debug for Capabilities {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_set().entries(self.iter()).finish()
    }
}

impl fmt::Display for Capabilities {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<&str> = self.iter().map(Capability::name).collect();
        f.write_str(&names.join(", "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_capability_has_its_own_bit_and_name() {
        assert!(Capability::ALL.len() < 64);
        let all = Capabilities::all();
        for c in Capability::ALL {
            assert!(all.has(c));
            assert!(!all.without(c).has(c));
            assert_eq!(Capability::parse(c.name()), Some(c));
        }
        assert_eq!(all.iter().count(), Capability::ALL.len());
    }

    #[test]
    fn a_missing_capability_survives_the_trip_through_io_error() {
        let e = Capability::Linger.missing();
        assert_eq!(needed(&e), Some(Capability::Linger));
        assert_eq!(e.to_string(), "not applicable (needs linger)");
        assert_eq!(needed(&io::Error::other("x")), None);
    }

    #[test]
    fn lacks_names_the_first_missing() {
        let set = Capabilities::NONE.with(Capability::Ipv6);
        assert_eq!(
            set.lacks([Capability::Ipv6, Capability::Linger, Capability::Sack]),
            Some(Capability::Linger)
        );
        assert_eq!(set.lacks([Capability::Ipv6]), None);
    }
}
