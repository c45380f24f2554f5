//! A TUN device: the wire between the harness and the kernel under test.
//!
//! IFF_TUN | IFF_NO_PI gives raw IP packets with no link header and no packet-info prefix, the
//! format the codec parses and pcapng's LINKTYPE_RAW stores. The descriptor is non-blocking:
//! every wait is a poll with a deadline.
//!
//! IFF_VNET_HDR puts a `struct virtio_net_hdr` before every packet, both ways, as packetdrill
//! opens its TUN: with the offloads packetdrill turns on (`TUNSETOFFLOAD`, see
//! [`Offload`]) the kernel hands the device TCP segments larger than the MSS (TSO/GSO: one
//! packet standing for a train of `gso_size` segments) with only the pseudo-header part of
//! the TCP checksum filled in, as it would hand a NIC. [`Tun::try_recv`] finishes that
//! checksum as the NIC would, so what is read is a valid IP packet, and reports the
//! segment size the packet stands for.

use std::fs::{File, OpenOptions};
use std::io::{self, Read, Write};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd};
use std::os::unix::fs::OpenOptionsExt;
use std::time::Duration;

use nix::poll::{ppoll, PollFd, PollFlags};

const TUNSETIFF: libc::c_ulong = 0x4004_54ca;
/// `_IOW('T', 208, unsigned int)`.
const TUNSETOFFLOAD: libc::c_ulong = 0x4004_54d0;
const TUN_F_CSUM: libc::c_ulong = 0x01;
const TUN_F_TSO4: libc::c_ulong = 0x02;
const TUN_F_TSO6: libc::c_ulong = 0x04;
const TUN_F_TSO_ECN: libc::c_ulong = 0x08;

/// `struct virtio_net_hdr` (linux/virtio_net.h), in the host's byte order (the TUN's
/// default): flags, gso_type, hdr_len, gso_size, csum_start, csum_offset.
pub const VNET_HDR_LEN: usize = 10;
const VIRTIO_NET_HDR_F_NEEDS_CSUM: u8 = 1;
const VIRTIO_NET_HDR_GSO_NONE: u8 = 0;
const VIRTIO_NET_HDR_GSO_TCPV4: u8 = 1;
const VIRTIO_NET_HDR_GSO_TCPV6: u8 = 4;
const VIRTIO_NET_HDR_GSO_ECN: u8 = 0x80;

/// The longest single sleep: its wake-up slack (0.1 %) stays under 50 µs.
pub const MAX_WAIT_SLICE: Duration = Duration::from_millis(50);
const TUNSETPERSIST: libc::c_ulong = 0x4004_54cb;

#[repr(C)]
struct IfReq {
    name: [u8; libc::IFNAMSIZ],
    flags: libc::c_short,
    _pad: [u8; 22],
}

/// What the kernel may leave to the device, as `TUNSETOFFLOAD` tells it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Offload {
    /// Checksums and TCP segmentation (IPv4, IPv6, with ECN): packetdrill's
    /// `TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6 | TUN_F_TSO_ECN`, a typical Ethernet device.
    Packetdrill,
    /// Nothing: every packet whole, checksummed, at most one MSS of TCP payload.
    None,
}

/// One packet read from the TUN.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Received {
    /// Its length in the buffer, without the virtio header.
    pub len: usize,
    /// For a TCP segment the kernel left to the device to cut (GSO): the size of each segment
    /// it stands for, `gso_size`. `None` for a packet meant to go on the wire as it is.
    pub gso_size: Option<u16>,
    /// Where the checksum finished here is, and what the kernel had left in it: the bytes
    /// the kernel sent, for [`crate::io::tap::Tap::sent`] to recognise.
    pub partial: Option<(usize, [u8; 2])>,
}

#[derive(Debug)]
pub struct Tun {
    file: File,
    name: String,
    index: u32,
}

impl Tun {
    /// Creates the device in the calling thread's network namespace.
    pub fn create(name: &str, offload: Offload) -> io::Result<Tun> {
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .custom_flags(libc::O_NONBLOCK | libc::O_CLOEXEC)
            .open("/dev/net/tun")
            .map_err(|e| {
                io::Error::new(
                    e.kind(),
                    format!(
                        "cannot open /dev/net/tun: {e}. tcpcheck injects packets through a TUN \
                         device: run as root, or make /dev/net/tun readable and writable by \
                         your user (see README, \"Running without root\")"
                    ),
                )
            })?;
        let mut req = IfReq {
            name: [0; libc::IFNAMSIZ],
            flags: (libc::IFF_TUN | libc::IFF_NO_PI | libc::IFF_VNET_HDR) as libc::c_short,
            _pad: [0; 22],
        };
        if name.len() >= libc::IFNAMSIZ {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "interface name too long",
            ));
        }
        req.name[..name.len()].copy_from_slice(name.as_bytes());
        // SAFETY: TUNSETIFF reads and writes a struct ifreq, which IfReq lays out.
        let rc = unsafe { libc::ioctl(file.as_raw_fd(), TUNSETIFF as _, &mut req) };
        if rc < 0 {
            let e = io::Error::last_os_error();
            return Err(io::Error::new(e.kind(), format!("TUNSETIFF {name}: {e}")));
        }
        // Persistent, so closing the descriptor does not unregister the device there and then:
        // unregistering waits for RCU grace periods, 15 to 50 ms per sandbox on this machine.
        // The device goes with its namespace instead, torn down in the background by the
        // kernel's namespace cleanup, which batches many namespaces per grace period.
        // SAFETY: TUNSETPERSIST takes an integer argument.
        let rc = unsafe { libc::ioctl(file.as_raw_fd(), TUNSETPERSIST as _, 1 as libc::c_ulong) };
        if rc < 0 {
            let e = io::Error::last_os_error();
            return Err(io::Error::new(
                e.kind(),
                format!("TUNSETPERSIST {name}: {e}"),
            ));
        }
        let flags = match offload {
            Offload::Packetdrill => TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6 | TUN_F_TSO_ECN,
            Offload::None => 0,
        };
        // SAFETY: TUNSETOFFLOAD takes an integer argument.
        let rc = unsafe { libc::ioctl(file.as_raw_fd(), TUNSETOFFLOAD as _, flags) };
        if rc < 0 {
            let e = io::Error::last_os_error();
            return Err(io::Error::new(
                e.kind(),
                format!("TUNSETOFFLOAD {name}: {e}"),
            ));
        }
        let index = nix::net::if_::if_nametoindex(name)?;
        Ok(Tun {
            file,
            name: name.to_string(),
            index,
        })
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn index(&self) -> u32 {
        self.index
    }

    /// Hands one packet to the kernel. For TUN this runs the kernel's receive path in the
    /// calling thread, so by the time it returns the kernel has reacted (see `Sandbox::settle`).
    ///
    /// The packet goes with a zero virtio header (checksum complete, no segmentation), so the
    /// kernel checks its checksum as it would a NIC's.
    pub fn send(&self, packet: &[u8]) -> io::Result<()> {
        self.send_gso(packet, None)
    }

    /// Like [`Tun::send`], but a TCP segment with `gso_size` stands for a train of segments
    /// of that size, as a NIC's receive offload (GRO/LRO) would hand it up: packetdrill's
    /// `--mss`. Its checksum must be complete.
    pub fn send_gso(&self, packet: &[u8], gso_size: Option<u16>) -> io::Result<()> {
        let mut hdr = [0u8; VNET_HDR_LEN];
        if let Some(size) = gso_size {
            hdr[1] = match packet.first().map(|b| b >> 4) {
                Some(6) => VIRTIO_NET_HDR_GSO_TCPV6,
                _ => VIRTIO_NET_HDR_GSO_TCPV4,
            };
            hdr[4..6].copy_from_slice(&size.to_ne_bytes());
        } else {
            hdr[1] = VIRTIO_NET_HDR_GSO_NONE;
        }
        let iov = [io::IoSlice::new(&hdr), io::IoSlice::new(packet)];
        let n = (&self.file).write_vectored(&iov)?;
        if n != VNET_HDR_LEN + packet.len() {
            return Err(io::Error::new(
                io::ErrorKind::WriteZero,
                format!("TUN took {n} of {} bytes", VNET_HDR_LEN + packet.len()),
            ));
        }
        Ok(())
    }

    /// One packet the kernel sent, if one is queued, copied to the start of `buf`.
    ///
    /// A checksum left to the device (`NEEDS_CSUM`) is finished here, as the NIC would.
    /// Wrong offsets from the kernel are an error, never a packet passed on half made.
    pub fn try_recv(&self, buf: &mut [u8]) -> io::Result<Option<Received>> {
        let mut hdr = [0u8; VNET_HDR_LEN];
        let n = {
            let mut iov = [io::IoSliceMut::new(&mut hdr), io::IoSliceMut::new(buf)];
            match (&self.file).read_vectored(&mut iov) {
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(None),
                Err(e) => return Err(e),
            }
        };
        let bad = |what: String| io::Error::new(io::ErrorKind::InvalidData, what);
        if n < VNET_HDR_LEN {
            return Err(bad(format!("TUN read of {n} bytes: no virtio header")));
        }
        let len = n - VNET_HDR_LEN;
        if len == buf.len() {
            return Err(bad(format!(
                "TUN packet of {len} bytes or more: longer than the buffer"
            )));
        }
        let u16_at = |i: usize| u16::from_ne_bytes([hdr[i], hdr[i + 1]]);
        let (flags, gso_type, gso_size) = (hdr[0], hdr[1], u16_at(4));
        let mut partial = None;
        if flags & VIRTIO_NET_HDR_F_NEEDS_CSUM != 0 {
            let start = usize::from(u16_at(6));
            let field = start + usize::from(u16_at(8));
            if field + 2 > len {
                return Err(bad(format!(
                    "TUN packet of {len} bytes with its checksum left at {field}"
                )));
            }
            partial = Some((field, [buf[field], buf[field + 1]]));
            finish_checksum(&mut buf[..len], start, field);
        }
        let gso_size = match gso_type & !VIRTIO_NET_HDR_GSO_ECN {
            VIRTIO_NET_HDR_GSO_NONE => None,
            VIRTIO_NET_HDR_GSO_TCPV4 | VIRTIO_NET_HDR_GSO_TCPV6 if gso_size > 0 => Some(gso_size),
            other => {
                return Err(bad(format!(
                    "TUN packet with GSO type {other} and size {gso_size}, which tcpcheck \
                     never turned on"
                )))
            }
        };
        Ok(Some(Received {
            len,
            gso_size,
            partial,
        }))
    }

    /// Waits until a packet is queued or `timeout` passes; true if readable.
    ///
    /// ppoll takes a nanosecond timeout served by a high-resolution timer, so waiting for a
    /// scripted instant needs no busy loop (poll's millisecond timeout would). The kernel lets
    /// a sleeping poll wake up to 0.1 % of its timeout late (`select_estimate_accuracy`):
    /// 4.5 ms on a 4.5 s wait, more than the 4 ms tolerance of a script. So one call sleeps at
    /// most [`MAX_WAIT_SLICE`] and may return `false` early; callers loop to their deadline.
    pub fn wait_readable(&self, timeout: Duration) -> io::Result<bool> {
        let mut fds = [PollFd::new(self.file.as_fd(), PollFlags::POLLIN)];
        let timeout = nix::sys::time::TimeSpec::from_duration(timeout.min(MAX_WAIT_SLICE));
        loop {
            match ppoll(&mut fds, Some(timeout), None) {
                Ok(n) => return Ok(n > 0),
                Err(nix::errno::Errno::EINTR) => continue,
                Err(e) => return Err(e.into()),
            }
        }
    }
}

/// What a NIC does with `NEEDS_CSUM`: the field at `field` holds the pseudo-header's sum;
/// the ones' complement sum of everything from `start` on, that field included, is
/// complemented and stored there (RFC 1071).
fn finish_checksum(packet: &mut [u8], start: usize, field: usize) {
    let mut sum: u32 = 0;
    let mut chunks = packet[start..].chunks_exact(2);
    for c in &mut chunks {
        sum += u32::from(u16::from_be_bytes([c[0], c[1]]));
    }
    if let [last] = chunks.remainder() {
        sum += u32::from(*last) << 8;
    }
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    packet[field..field + 2].copy_from_slice(&(!(sum as u16)).to_be_bytes());
}

impl AsFd for Tun {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.file.as_fd()
    }
}
