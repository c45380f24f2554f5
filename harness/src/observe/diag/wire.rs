//! The netlink messages of inet_diag: decoding a dump's datagrams, and the socket id of an
//! exact lookup.

use std::io;
use std::net::{IpAddr, Ipv6Addr, SocketAddr, SocketAddrV4, SocketAddrV6};

use netlink_packet_core::{
    DoneBuffer, ErrorBuffer, NetlinkBuffer, NlasIterator, Parseable, NLMSG_DONE, NLMSG_ERROR,
    NLMSG_NOOP, NLMSG_OVERRUN, NLM_F_DUMP_INTR,
};
use netlink_packet_sock_diag::constants::{AF_INET, AF_INET6, INET_DIAG_INFO, SOCK_DIAG_BY_FAMILY};
use netlink_packet_sock_diag::inet::{InetResponseHeader, SocketId};
use nix::sys::socket::AddressFamily;

use super::DiagSocket;
use crate::observe::tcp_info::{TcpInfo, TcpState};

/// `sizeof(struct inet_diag_msg)`: the fixed header before the attributes.
const INET_DIAG_MSG_LEN: usize = 72;
/// Offset of `idiag_expires` in `struct inet_diag_msg`.
const EXPIRES_OFFSET: usize = 52;

impl DiagSocket {
    /// Decodes one `struct inet_diag_msg` plus attributes (a `SOCK_DIAG_BY_FAMILY` payload).
    ///
    /// The fixed part goes through netlink-packet-sock-diag, but the timer fields are read
    /// here: the crate folds them into a `Timer` enum that drops `expires` for `TIME_WAIT` and
    /// `retransmits` for every timer but the retransmit one.
    pub(super) fn parse(payload: &[u8]) -> io::Result<DiagSocket> {
        if payload.len() < INET_DIAG_MSG_LEN {
            return Err(invalid(format!(
                "inet_diag_msg of {} bytes, expected at least {INET_DIAG_MSG_LEN}",
                payload.len()
            )));
        }
        let header = InetResponseHeader::parse(&payload[..INET_DIAG_MSG_LEN])
            .map_err(|e| invalid(format!("inet_diag_msg: {e}")))?;
        let family = match header.family {
            AF_INET => AddressFamily::Inet,
            AF_INET6 => AddressFamily::Inet6,
            other => return Err(invalid(format!("inet_diag_msg of family {other}"))),
        };
        let id = &header.socket_id;
        let expires_ms = u32::from_ne_bytes(
            payload[EXPIRES_OFFSET..EXPIRES_OFFSET + 4]
                .try_into()
                .expect("4 bytes"),
        );
        // The kernel stores the cookie as two native-endian u32 halves, low half first.
        let lo = u32::from_ne_bytes(id.cookie[..4].try_into().expect("4 bytes"));
        let hi = u32::from_ne_bytes(id.cookie[4..].try_into().expect("4 bytes"));

        let mut tcp_info = None;
        for nla in NlasIterator::new(&payload[INET_DIAG_MSG_LEN..]) {
            let nla = nla.map_err(|e| invalid(format!("inet_diag attribute: {e}")))?;
            if nla.kind() == INET_DIAG_INFO {
                tcp_info = Some(TcpInfo::from_bytes(nla.value()));
            }
        }

        Ok(DiagSocket {
            family,
            state: TcpState::from_u8(payload[1]),
            src: socket_addr(id.source_address, id.source_port, id.interface_id),
            dst: socket_addr(id.destination_address, id.destination_port, id.interface_id),
            interface: id.interface_id,
            timer: payload[2],
            expires_ms,
            retransmits: payload[3],
            recv_q: header.recv_queue,
            send_q: header.send_queue,
            uid: header.uid,
            inode: header.inode,
            cookie: u64::from(hi) << 32 | u64::from(lo),
            tcp_info,
        })
    }
}

fn socket_addr(ip: IpAddr, port: u16, interface: u32) -> SocketAddr {
    match ip {
        IpAddr::V4(ip) => SocketAddr::V4(SocketAddrV4::new(ip, port)),
        IpAddr::V6(ip) => {
            // Match what getsockname() reports: a scope id only where the address needs one.
            let scope = if needs_scope(&ip) { interface } else { 0 };
            SocketAddr::V6(SocketAddrV6::new(ip, port, 0, scope))
        }
    }
}

fn needs_scope(ip: &Ipv6Addr) -> bool {
    let s = ip.segments()[0];
    (s & 0xffc0) == 0xfe80 || (ip.is_multicast() && (s & 0x000f) <= 2)
}

pub(super) fn invalid(msg: String) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, msg)
}

pub(super) fn family_byte(family: AddressFamily) -> io::Result<u8> {
    match family {
        AddressFamily::Inet => Ok(AF_INET),
        AddressFamily::Inet6 => Ok(AF_INET6),
        other => Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("inet_diag dumps AF_INET or AF_INET6, not {other:?}"),
        )),
    }
}

/// What one datagram of a dump told us.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum DumpProgress {
    More,
    Done,
}

/// Decodes one received datagram of the dump answering request `seq`, appending sockets to
/// `out`. Messages with another sequence number are leftovers of an abandoned dump and are
/// skipped.
pub(super) fn parse_datagram(
    buf: &[u8],
    seq: u32,
    out: &mut Vec<DiagSocket>,
    interrupted: &mut bool,
) -> io::Result<DumpProgress> {
    let mut off = 0;
    while off < buf.len() {
        let msg = NetlinkBuffer::new_checked(&buf[off..])
            .map_err(|e| invalid(format!("netlink message at offset {off}: {e}")))?;
        let len = msg.length() as usize;
        off += (len + 3) & !3;
        if msg.sequence_number() != seq {
            continue;
        }
        if msg.flags() & NLM_F_DUMP_INTR != 0 {
            *interrupted = true;
        }
        let payload = msg.payload();
        match msg.message_type() {
            NLMSG_NOOP => {}
            NLMSG_DONE => {
                // The kernel ends a dump with an int: 0, or a negative errno if it failed
                // part-way after sending some sockets.
                let code = DoneBuffer::new_checked(payload).map_or(0, |d| d.code());
                if code < 0 {
                    return Err(io::Error::from_raw_os_error(-code));
                }
                return Ok(DumpProgress::Done);
            }
            NLMSG_ERROR => {
                let err = ErrorBuffer::new_checked(payload)
                    .map_err(|e| invalid(format!("NLMSG_ERROR: {e}")))?;
                return match err.code() {
                    // An ACK; we never ask for one, but it ends the exchange all the same.
                    None => Ok(DumpProgress::Done),
                    Some(code) => Err(io::Error::from_raw_os_error(code.get().abs())),
                };
            }
            NLMSG_OVERRUN => return Err(invalid("NLMSG_OVERRUN".to_string())),
            SOCK_DIAG_BY_FAMILY => out.push(DiagSocket::parse(payload)?),
            other => return Err(invalid(format!("unexpected netlink message type {other}"))),
        }
    }
    Ok(DumpProgress::More)
}
/// The address family and exact socket id of a pair of endpoints of one family, for the
/// kernel's one-socket lookup (`inet_diag_find_one_icsk()`): no cookie
/// (INET_DIAG_NOCOOKIE), so whatever socket holds these endpoints now.
pub(super) fn exact(local: SocketAddr, remote: SocketAddr) -> io::Result<(u8, SocketId)> {
    let family = match (local, remote) {
        (SocketAddr::V4(_), SocketAddr::V4(_)) => AF_INET,
        (SocketAddr::V6(_), SocketAddr::V6(_)) => AF_INET6,
        _ => {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("{local} and {remote} are of different families"),
            ))
        }
    };
    let socket_id = SocketId {
        source_port: local.port(),
        destination_port: remote.port(),
        source_address: local.ip(),
        destination_address: remote.ip(),
        interface_id: 0,
        cookie: [0xff; 8],
    };
    Ok((family, socket_id))
}

#[cfg(test)]
mod tests;
