//! A TUN device: the wire between the harness and the kernel under test.
//!
//! IFF_TUN | IFF_NO_PI gives raw IP packets with no link header and no packet-info prefix, the
//! format the codec parses and pcapng's LINKTYPE_RAW stores. The descriptor is non-blocking:
//! every wait is a poll with a deadline.

use std::fs::{File, OpenOptions};
use std::io::{self, Read, Write};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd};
use std::os::unix::fs::OpenOptionsExt;
use std::time::Duration;

use nix::poll::{ppoll, PollFd, PollFlags};

const TUNSETIFF: libc::c_ulong = 0x4004_54ca;

/// The longest single sleep: its wake-up slack (0.1 %) stays under 50 µs.
pub const MAX_WAIT_SLICE: Duration = Duration::from_millis(50);
const TUNSETPERSIST: libc::c_ulong = 0x4004_54cb;

#[repr(C)]
struct IfReq {
    name: [u8; libc::IFNAMSIZ],
    flags: libc::c_short,
    _pad: [u8; 22],
}

#[derive(Debug)]
pub struct Tun {
    file: File,
    name: String,
    index: u32,
}

impl Tun {
    /// Creates the device in the calling thread's network namespace.
    pub fn create(name: &str) -> io::Result<Tun> {
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
            flags: (libc::IFF_TUN | libc::IFF_NO_PI) as libc::c_short,
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
    pub fn send(&self, packet: &[u8]) -> io::Result<()> {
        let n = (&self.file).write(packet)?;
        if n != packet.len() {
            return Err(io::Error::new(
                io::ErrorKind::WriteZero,
                format!("TUN took {n} of {} bytes", packet.len()),
            ));
        }
        Ok(())
    }

    /// One packet the kernel sent, if one is queued.
    pub fn try_recv(&self, buf: &mut [u8]) -> io::Result<Option<usize>> {
        match (&self.file).read(buf) {
            Ok(n) => Ok(Some(n)),
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => Ok(None),
            Err(e) => Err(e),
        }
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

impl AsFd for Tun {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.file.as_fd()
    }
}
