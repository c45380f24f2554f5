//! The kernel's own send time of each packet the stack hands the TUN device.
//!
//! A packet read from the TUN carries no time: stamped when the harness reads it, it is as
//! late as the harness's thread was descheduled, and on a loaded machine that lateness was
//! blamed on the stack (a SYN "5 to 8 ms late" that the kernel had sent on time). The TUN
//! descriptor is not a socket, so neither `SO_TIMESTAMPING` nor `SIOCGSTAMP` applies to it.
//! A packet socket bound to the device is: the kernel hands it a copy of every outgoing
//! packet in `dev_queue_xmit_nit()`, just before the device's transmit function, and stamps
//! the copy there (`net_timestamp_set()`). That instant, in the context that sent the
//! packet, is when the kernel sent it.
//!
//! The copies are only for their stamps: the TUN stays the wire. Both see the packets in the
//! same order (the tap runs under the device's transmit lock, right before the TUN queues
//! the packet), so the stamp of a packet read from the TUN is the first queued copy with the
//! same bytes; copies with no TUN counterpart (a packet the TUN dropped) are skipped.

use std::io;
use std::os::fd::{AsRawFd, OwnedFd};
use std::sync::OnceLock;
use std::time::Duration;

use nix::sys::socket::{
    recvmsg, setsockopt, socket, sockopt, AddressFamily, ControlMessageOwned, MsgFlags, SockFlag,
    SockType, TimestampingFlag,
};

/// Bytes compared between a TUN packet and a copy: every header of a TCP segment (60 + 60).
const COMPARED: usize = 128;

/// Room for many copies: a burst of full-sized segments is queued here until read.
const RECV_BUFFER: libc::c_int = 4 << 20;

const ETH_P_ALL: u16 = 0x0003;

/// `sll_pkttype` of a packet the host sent (linux/if_packet.h).
const PACKET_OUTGOING: u32 = 4;

/// The copies of what the stack sends on one device, with the kernel's send times.
pub struct Tap {
    fd: OwnedFd,
    buf: [u8; COMPARED],
}

/// What [`Tap::sent`] found for a packet.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stamp {
    /// `CLOCK_REALTIME` when the kernel sent it.
    Sent(Duration),
    /// No copy, or one without a stamp (the kernel turns stamping on for the whole machine
    /// a moment after it is first asked: a packet sent in between has none).
    Unknown,
}

impl Tap {
    /// The socket itself, for closing elsewhere (see `sandbox::reaper`).
    pub fn into_fd(self) -> OwnedFd {
        self.fd
    }

    /// A packet socket on device `ifindex` of the calling thread's network namespace that
    /// receives only what the host sends there, stamped in software.
    pub fn open(ifindex: u32) -> io::Result<Tap> {
        keep_stamping_on();
        let fd = socket(
            AddressFamily::Packet,
            SockType::Datagram,
            SockFlag::SOCK_NONBLOCK | SockFlag::SOCK_CLOEXEC,
            None,
        )?;
        attach_outgoing_filter(&fd)?;
        let flags = TimestampingFlag::SOF_TIMESTAMPING_SOFTWARE
            | TimestampingFlag::SOF_TIMESTAMPING_RX_SOFTWARE;
        setsockopt(&fd, sockopt::Timestamping, &flags)?;
        if setsockopt(&fd, sockopt::RcvBufForce, &(RECV_BUFFER as usize)).is_err() {
            setsockopt(&fd, sockopt::RcvBuf, &(RECV_BUFFER as usize))?;
        }
        // Bound only now, with the filter in place: until then the socket receives nothing.
        // SAFETY: sockaddr_ll is plain data; zeroed is a valid value to fill in.
        let mut addr: libc::sockaddr_ll = unsafe { std::mem::zeroed() };
        addr.sll_family = libc::AF_PACKET as u16;
        addr.sll_protocol = ETH_P_ALL.to_be();
        addr.sll_ifindex = ifindex as i32;
        // SAFETY: binds a valid descriptor to a sockaddr_ll of the size given.
        let rc = unsafe {
            libc::bind(
                fd.as_raw_fd(),
                (&addr as *const libc::sockaddr_ll).cast(),
                std::mem::size_of::<libc::sockaddr_ll>() as libc::socklen_t,
            )
        };
        if rc < 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(Tap {
            fd,
            buf: [0; COMPARED],
        })
    }

    /// When the kernel sent `packet`, just read from the TUN: the first queued copy with its
    /// bytes, skipping (and dropping) copies of packets the TUN never delivered.
    pub fn sent(&mut self, packet: &[u8]) -> io::Result<Stamp> {
        let want = &packet[..packet.len().min(COMPARED)];
        loop {
            let mut iov = [io::IoSliceMut::new(&mut self.buf)];
            let mut cmsg = nix::cmsg_space!([nix::sys::time::TimeSpec; 3]);
            let msg = match recvmsg::<()>(
                self.fd.as_raw_fd(),
                &mut iov,
                Some(&mut cmsg),
                MsgFlags::MSG_DONTWAIT | MsgFlags::MSG_TRUNC,
            ) {
                Ok(m) => m,
                Err(nix::errno::Errno::EAGAIN) => return Ok(Stamp::Unknown),
                Err(nix::errno::Errno::EINTR) => continue,
                Err(e) => return Err(e.into()),
            };
            // With MSG_TRUNC, the packet's whole length, however much was copied.
            let len = msg.bytes;
            let stamp = msg.cmsgs()?.find_map(|c| match c {
                ControlMessageOwned::ScmTimestampsns(ts) => {
                    let d = Duration::from(ts.system);
                    (!d.is_zero()).then_some(d)
                }
                _ => None,
            });
            let copied = len.min(COMPARED);
            if len == packet.len() && self.buf[..copied] == *want {
                return Ok(stamp.map_or(Stamp::Unknown, Stamp::Sent));
            }
        }
    }
}

/// Keeps the kernel's packet stamping on for the life of the process. The kernel turns it on
/// while any socket asks for stamps and off when the last one closes, each time through a
/// deferred work item that patches code on every CPU; a sandbox's tap closing and the next
/// one opening would toggle it for every check, and packets sent before it came back on
/// would have no stamp. One socket, made in the namespace the process started in (the
/// first sandbox is made from there) and never bound, holds it on.
fn keep_stamping_on() {
    static HOLDER: OnceLock<Option<OwnedFd>> = OnceLock::new();
    HOLDER.get_or_init(|| {
        let fd = socket(
            AddressFamily::Inet,
            SockType::Datagram,
            SockFlag::SOCK_CLOEXEC,
            None,
        )
        .ok()?;
        let flags = TimestampingFlag::SOF_TIMESTAMPING_SOFTWARE
            | TimestampingFlag::SOF_TIMESTAMPING_RX_SOFTWARE;
        setsockopt(&fd, sockopt::Timestamping, &flags).ok()?;
        Some(fd)
    });
}

/// A classic BPF program that keeps packets the host sends (`PACKET_OUTGOING`), whole, and
/// drops the rest before they are copied: the harness's own injected packets also pass the
/// device, inbound.
fn attach_outgoing_filter(fd: &OwnedFd) -> io::Result<()> {
    const SKF_AD_OFF: u32 = 0xffff_f000;
    const SKF_AD_PKTTYPE: u32 = 4;
    let ins = |code: u16, jt: u8, jf: u8, k: u32| libc::sock_filter { code, jt, jf, k };
    let program = [
        // ld [pkttype]
        ins(
            (libc::BPF_LD | libc::BPF_W | libc::BPF_ABS) as u16,
            0,
            0,
            SKF_AD_OFF + SKF_AD_PKTTYPE,
        ),
        // jeq #PACKET_OUTGOING, keep, drop
        ins(
            (libc::BPF_JMP | libc::BPF_JEQ | libc::BPF_K) as u16,
            0,
            1,
            PACKET_OUTGOING,
        ),
        ins((libc::BPF_RET | libc::BPF_K) as u16, 0, 0, u32::MAX),
        ins((libc::BPF_RET | libc::BPF_K) as u16, 0, 0, 0),
    ];
    let prog = libc::sock_fprog {
        len: program.len() as u16,
        filter: program.as_ptr() as *mut libc::sock_filter,
    };
    // SAFETY: SO_ATTACH_FILTER copies the program the sock_fprog points to, which outlives
    // the call.
    let rc = unsafe {
        libc::setsockopt(
            fd.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_ATTACH_FILTER,
            (&prog as *const libc::sock_fprog).cast(),
            std::mem::size_of::<libc::sock_fprog>() as libc::socklen_t,
        )
    };
    if rc < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// `CLOCK_REALTIME` now, the clock the kernel stamps packets with.
pub fn realtime_now() -> Duration {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default()
}
