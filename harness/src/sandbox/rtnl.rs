//! The few rtnetlink requests a sandbox needs: bring a link up, add an address.
//!
//! Netlink rather than ioctls because IPv6 addresses must be added with `IFA_F_NODAD`: added by
//! ioctl they stay tentative for a while and bind() fails (13 times in 20, design §3).

use std::io;
use std::net::IpAddr;
use std::time::Duration;

use netlink_packet_core::{
    NetlinkHeader, NetlinkMessage, NetlinkPayload, NLM_F_ACK, NLM_F_CREATE, NLM_F_DUMP, NLM_F_EXCL,
    NLM_F_REPLACE, NLM_F_REQUEST,
};
use netlink_packet_route::address::{AddressAttribute, AddressFlags, AddressMessage};
use netlink_packet_route::link::{
    AfSpecInet6, AfSpecUnspec, In6AddrGenMode, LinkAttribute, LinkFlags, LinkMessage,
};
use netlink_packet_route::tc::{TcAttribute, TcHandle, TcMessage};
use netlink_packet_route::{AddressFamily, RouteNetlinkMessage};
use netlink_sys::{protocols::NETLINK_ROUTE, Socket, SocketAddr};

/// A netlink route socket, bound to the namespace of the thread that opened it.
pub struct Rtnl {
    socket: Socket,
    seq: u32,
}

impl Rtnl {
    pub fn open() -> io::Result<Rtnl> {
        let mut socket = Socket::new(NETLINK_ROUTE)?;
        socket.bind_auto()?;
        socket.connect(&SocketAddr::new(0, 0))?;
        set_recv_timeout(&socket, Duration::from_secs(2))?;
        Ok(Rtnl { socket, seq: 0 })
    }

    pub fn link_up(&mut self, index: u32) -> io::Result<()> {
        let mut msg = LinkMessage::default();
        msg.header.index = index;
        msg.header.flags = LinkFlags::Up;
        msg.header.change_mask = LinkFlags::Up;
        self.request(RouteNetlinkMessage::SetLink(msg), 0)
    }

    /// Sets the link's MTU (packetdrill's `--mtu`).
    pub fn set_mtu(&mut self, index: u32, mtu: u32) -> io::Result<()> {
        let mut msg = LinkMessage::default();
        msg.header.index = index;
        msg.attributes.push(LinkAttribute::Mtu(mtu));
        self.request(RouteNetlinkMessage::SetLink(msg), 0)
    }

    /// No automatic IPv6 link-local address on the link (addr_gen_mode none), so no duplicate
    /// address detection and no router solicitation: what `net.ipv6.conf.*.addr_gen_mode`
    /// does, without a sysctl (opening /proc/sys costs more the more namespaces the machine
    /// has seen: every dead namespace's dentries share the lookup's hash chain).
    pub fn no_ipv6_link_local(&mut self, index: u32) -> io::Result<()> {
        let mut msg = LinkMessage::default();
        msg.header.index = index;
        msg.attributes
            .push(LinkAttribute::AfSpecUnspec(vec![AfSpecUnspec::Inet6(
                vec![AfSpecInet6::AddrGenMode(In6AddrGenMode::None)],
            )]));
        self.request(RouteNetlinkMessage::SetLink(msg), 0)
    }

    /// Adds `addr/prefix_len` to the link; IPv6 addresses skip duplicate address detection.
    pub fn add_address(&mut self, index: u32, addr: IpAddr, prefix_len: u8) -> io::Result<()> {
        let mut msg = AddressMessage::default();
        msg.header.index = index;
        msg.header.prefix_len = prefix_len;
        msg.header.family = match addr {
            IpAddr::V4(_) => AddressFamily::Inet,
            IpAddr::V6(_) => AddressFamily::Inet6,
        };
        msg.attributes.push(AddressAttribute::Local(addr));
        msg.attributes.push(AddressAttribute::Address(addr));
        if addr.is_ipv6() {
            msg.attributes
                .push(AddressAttribute::Flags(AddressFlags::Nodad));
        }
        self.request(
            RouteNetlinkMessage::NewAddress(msg),
            NLM_F_CREATE | NLM_F_EXCL,
        )
    }

    /// Routes `addr/len` through the link, for peers outside the link's prefix.
    pub fn add_route(&mut self, index: u32, addr: IpAddr, len: u8) -> io::Result<()> {
        use netlink_packet_route::route::{
            RouteAddress, RouteAttribute, RouteHeader, RouteMessage, RouteProtocol, RouteScope,
            RouteType,
        };
        let mut msg = RouteMessage::default();
        // The destination is the network: the address with the host bits cleared.
        let (family, dest) = match addr {
            IpAddr::V4(a) => {
                let mask = u32::MAX
                    .checked_shl(32 - u32::from(len.min(32)))
                    .unwrap_or(0);
                let net = std::net::Ipv4Addr::from(u32::from(a) & mask);
                (AddressFamily::Inet, RouteAddress::Inet(net))
            }
            IpAddr::V6(a) => {
                let mask = u128::MAX
                    .checked_shl(128 - u32::from(len.min(128)))
                    .unwrap_or(0);
                let net = std::net::Ipv6Addr::from(u128::from(a) & mask);
                (AddressFamily::Inet6, RouteAddress::Inet6(net))
            }
        };
        msg.header.address_family = family;
        msg.header.destination_prefix_length = len;
        msg.header.table = RouteHeader::RT_TABLE_MAIN;
        msg.header.protocol = RouteProtocol::Boot;
        msg.header.scope = RouteScope::Link;
        msg.header.kind = RouteType::Unicast;
        msg.attributes.push(RouteAttribute::Destination(dest));
        msg.attributes.push(RouteAttribute::Oif(index));
        self.request(
            RouteNetlinkMessage::NewRoute(msg),
            NLM_F_CREATE | NLM_F_EXCL,
        )
    }

    /// Replaces the link's root queueing discipline with `noqueue`.
    ///
    /// With a queue (TUN devices get pfifo_fast), a packet the stack sends while another CPU
    /// is running the queue can wait there while the barrier's echo reply, in a band of higher
    /// priority, overtakes it. Without one, every packet reaches the TUN in the sender's own
    /// context, in the order it was sent, and the barrier holds.
    pub fn set_noqueue(&mut self, index: u32) -> io::Result<()> {
        let mut msg = TcMessage::default();
        msg.header.index = index as i32;
        msg.header.parent = TcHandle::ROOT;
        msg.attributes
            .push(TcAttribute::Kind("noqueue".to_string()));
        self.request(
            RouteNetlinkMessage::NewQueueDiscipline(msg),
            NLM_F_CREATE | NLM_F_REPLACE,
        )
    }

    /// Adds a root queueing discipline of `kind` with no options, as `tc qdisc add dev DEV
    /// root KIND` asks it (create, exclusive).
    pub fn add_root_qdisc(&mut self, index: u32, kind: &str) -> io::Result<()> {
        let mut msg = TcMessage::default();
        msg.header.index = index as i32;
        msg.header.parent = TcHandle::ROOT;
        msg.attributes.push(TcAttribute::Kind(kind.to_string()));
        self.request(
            RouteNetlinkMessage::NewQueueDiscipline(msg),
            NLM_F_CREATE | NLM_F_EXCL,
        )
    }

    /// The root queueing discipline of the link: its queue length and its drop count.
    pub fn root_qdisc_stats(&mut self, index: u32) -> io::Result<Option<(u32, u32)>> {
        let mut tc = TcMessage::default();
        tc.header.index = index as i32;
        self.send(RouteNetlinkMessage::GetQueueDiscipline(tc), NLM_F_DUMP)?;
        let mut found = None;
        self.replies(16384, |payload| match payload {
            NetlinkPayload::Done(_) => Some(Ok(found)),
            NetlinkPayload::Error(e) => e
                .code
                .map(|code| Err(io::Error::from_raw_os_error(-code.get()))),
            NetlinkPayload::InnerMessage(RouteNetlinkMessage::NewQueueDiscipline(q))
                if q.header.index == index as i32 && q.header.parent == TcHandle::ROOT =>
            {
                for a in &q.attributes {
                    if let TcAttribute::Stats(s) = a {
                        found = Some((s.qlen, s.drops));
                    }
                }
                None
            }
            _ => None,
        })
    }

    /// Sends one request and waits for its acknowledgement.
    fn request(&mut self, payload: RouteNetlinkMessage, flags: u16) -> io::Result<()> {
        self.send(payload, NLM_F_ACK | flags)?;
        self.replies(8192, |payload| match payload {
            NetlinkPayload::Error(e) => Some(match e.code {
                None => Ok(()),
                Some(code) => Err(io::Error::from_raw_os_error(-code.get())),
            }),
            _ => None,
        })
    }

    /// Sends `payload` as the next request (its own sequence number), with `flags` beside
    /// NLM_F_REQUEST.
    fn send(&mut self, payload: RouteNetlinkMessage, flags: u16) -> io::Result<()> {
        self.seq += 1;
        let mut header = NetlinkHeader::default();
        header.flags = NLM_F_REQUEST | flags;
        header.sequence_number = self.seq;
        let mut msg = NetlinkMessage::new(header, NetlinkPayload::from(payload));
        msg.finalize();
        let mut buf = vec![0; msg.buffer_len()];
        msg.serialize(&mut buf);
        self.socket.send(&buf, 0)?;
        Ok(())
    }

    /// Reads replies to the last request (read buffers of `capacity` bytes; the socket's
    /// receive timeout bounds each read) and hands each message's payload to `each` until
    /// it returns the answer.
    fn replies<T>(
        &mut self,
        capacity: usize,
        mut each: impl FnMut(NetlinkPayload<RouteNetlinkMessage>) -> Option<io::Result<T>>,
    ) -> io::Result<T> {
        loop {
            let mut reply = Vec::with_capacity(capacity);
            self.socket.recv(&mut reply, 0)?;
            let mut at = 0;
            while at < reply.len() {
                let msg = NetlinkMessage::<RouteNetlinkMessage>::deserialize(&reply[at..])
                    .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e.to_string()))?;
                let len = msg.header.length as usize;
                if msg.header.sequence_number == self.seq {
                    if let Some(answer) = each(msg.payload) {
                        return answer;
                    }
                }
                if len == 0 {
                    break;
                }
                at += len;
            }
        }
    }
}

pub(super) fn set_recv_timeout(socket: &Socket, timeout: Duration) -> io::Result<()> {
    use std::os::fd::AsRawFd;
    let tv = libc::timeval {
        tv_sec: timeout.as_secs() as libc::time_t,
        tv_usec: libc::suseconds_t::from(timeout.subsec_micros()),
    };
    // SAFETY: a valid socket descriptor and a timeval that outlives the call.
    let rc = unsafe {
        libc::setsockopt(
            socket.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_RCVTIMEO,
            (&tv as *const libc::timeval).cast(),
            std::mem::size_of::<libc::timeval>() as libc::socklen_t,
        )
    };
    if rc == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}
