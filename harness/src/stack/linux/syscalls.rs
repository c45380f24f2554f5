//! Thin wrappers over the socket system calls, returning errno as the stack reported it.
//!
//! Sockets are created non-blocking; "blocking" calls are emulated with poll and a deadline
//! so the harness can never hang on a stack that does not answer.

use std::net::{IpAddr, SocketAddr, SocketAddrV4, SocketAddrV6};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, OwnedFd};
use std::time::{Duration, Instant};

use nix::errno::Errno;
use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
use nix::sys::socket::{self, AddressFamily, SockFlag, SockProtocol, SockType, SockaddrStorage};

pub fn socket(family: IpAddr) -> Result<OwnedFd, Errno> {
    let af = match family {
        IpAddr::V4(_) => AddressFamily::Inet,
        IpAddr::V6(_) => AddressFamily::Inet6,
    };
    socket::socket(
        af,
        SockType::Stream,
        SockFlag::SOCK_NONBLOCK | SockFlag::SOCK_CLOEXEC,
        SockProtocol::Tcp,
    )
}

fn storage(addr: SocketAddr) -> SockaddrStorage {
    match addr {
        SocketAddr::V4(a) => SockaddrStorage::from(a),
        SocketAddr::V6(a) => SockaddrStorage::from(a),
    }
}

fn to_std(addr: &SockaddrStorage) -> Option<SocketAddr> {
    if let Some(a) = addr.as_sockaddr_in() {
        return Some(SocketAddr::V4(SocketAddrV4::new(a.ip(), a.port())));
    }
    addr.as_sockaddr_in6().map(|a| {
        SocketAddr::V6(SocketAddrV6::new(
            a.ip(),
            a.port(),
            a.flowinfo(),
            a.scope_id(),
        ))
    })
}

pub fn bind(fd: BorrowedFd<'_>, addr: SocketAddr) -> Result<(), Errno> {
    socket::bind(fd.as_raw_fd(), &storage(addr))
}

pub fn listen(fd: BorrowedFd<'_>, backlog: i32) -> Result<(), Errno> {
    // Backlog::new refuses values above SOMAXCONN, but the kernel accepts any int and caps it
    // with net.core.somaxconn: that cap is behaviour under test, so pass the value through.
    // SAFETY: plain syscall on a valid descriptor.
    Errno::result(unsafe { libc::listen(fd.as_raw_fd(), backlog) }).map(drop)
}

/// `getsockname()`: the address the socket is bound to.
pub fn local_addr(fd: BorrowedFd<'_>) -> Result<SocketAddr, Errno> {
    let addr = socket::getsockname::<SockaddrStorage>(fd.as_raw_fd())?;
    to_std(&addr).ok_or(Errno::EAFNOSUPPORT)
}

/// `getpeername()`: the connected peer; ENOTCONN before a connection (in SYN_SENT too).
pub fn peer_addr(fd: BorrowedFd<'_>) -> Result<SocketAddr, Errno> {
    let addr = socket::getpeername::<SockaddrStorage>(fd.as_raw_fd())?;
    to_std(&addr).ok_or(Errno::EAFNOSUPPORT)
}

pub fn connect(fd: BorrowedFd<'_>, addr: SocketAddr) -> Result<(), Errno> {
    socket::connect(fd.as_raw_fd(), &storage(addr))
}

pub fn accept(fd: BorrowedFd<'_>) -> Result<(OwnedFd, SocketAddr), Errno> {
    let raw = socket::accept4(
        fd.as_raw_fd(),
        SockFlag::SOCK_NONBLOCK | SockFlag::SOCK_CLOEXEC,
    )?;
    // SAFETY: accept4 returned a fresh descriptor that nothing else owns.
    let owned = unsafe { OwnedFd::from_raw_fd(raw) };
    // A connection reset while it waited in the accept queue is still accepted (the reset
    // shows on the first read), but it has no peer any more: getpeername() says ENOTCONN.
    let peer = socket::getpeername::<SockaddrStorage>(owned.as_raw_fd())
        .ok()
        .and_then(|a| to_std(&a))
        .unwrap_or_else(|| SocketAddr::from(([0, 0, 0, 0], 0)));
    Ok((owned, peer))
}

pub fn write(fd: BorrowedFd<'_>, data: &[u8]) -> Result<usize, Errno> {
    nix::unistd::write(fd, data)
}

pub fn read(fd: BorrowedFd<'_>, max: usize) -> Result<Vec<u8>, Errno> {
    let mut buf = vec![0; max];
    let n = nix::unistd::read(fd, &mut buf)?;
    buf.truncate(n);
    Ok(buf)
}

pub fn shutdown(fd: BorrowedFd<'_>, how: std::net::Shutdown) -> Result<(), Errno> {
    let how = match how {
        std::net::Shutdown::Read => socket::Shutdown::Read,
        std::net::Shutdown::Write => socket::Shutdown::Write,
        std::net::Shutdown::Both => socket::Shutdown::Both,
    };
    socket::shutdown(fd.as_raw_fd(), how)
}

/// setsockopt with an int value.
pub fn set_int(fd: BorrowedFd<'_>, level: i32, name: i32, value: i32) -> Result<(), Errno> {
    // SAFETY: the option value is an int that outlives the call.
    Errno::result(unsafe {
        libc::setsockopt(
            fd.as_raw_fd(),
            level,
            name,
            (&value as *const i32).cast(),
            std::mem::size_of::<i32>() as libc::socklen_t,
        )
    })
    .map(drop)
}

/// TCP_CONGESTION: the socket's congestion control, by name.
pub fn set_congestion(fd: BorrowedFd<'_>, name: &str) -> Result<(), Errno> {
    // SAFETY: the name's bytes outlive the call; the kernel reads exactly their length.
    Errno::result(unsafe {
        libc::setsockopt(
            fd.as_raw_fd(),
            libc::IPPROTO_TCP,
            libc::TCP_CONGESTION,
            name.as_ptr().cast(),
            name.len() as libc::socklen_t,
        )
    })
    .map(drop)
}

/// getsockopt with an int value.
pub fn get_int(fd: BorrowedFd<'_>, level: i32, name: i32) -> Result<i32, Errno> {
    let mut value: i32 = 0;
    let mut len = std::mem::size_of::<i32>() as libc::socklen_t;
    // SAFETY: value and len are valid for writing and sized for an int.
    Errno::result(unsafe {
        libc::getsockopt(
            fd.as_raw_fd(),
            level,
            name,
            (&mut value as *mut i32).cast(),
            &mut len,
        )
    })?;
    Ok(value)
}

pub fn set_linger(fd: BorrowedFd<'_>, linger: Option<Duration>) -> Result<(), Errno> {
    let value = libc::linger {
        l_onoff: i32::from(linger.is_some()),
        l_linger: linger.map_or(0, |d| d.as_secs() as i32),
    };
    // SAFETY: a struct linger that outlives the call.
    Errno::result(unsafe {
        libc::setsockopt(
            fd.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_LINGER,
            (&value as *const libc::linger).cast(),
            std::mem::size_of::<libc::linger>() as libc::socklen_t,
        )
    })
    .map(drop)
}

/// Polls `fd` for `events` until `deadline`; false when the deadline passed first.
pub fn wait(fd: BorrowedFd<'_>, events: PollFlags, deadline: Instant) -> Result<bool, Errno> {
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        let ms = left.as_micros().div_ceil(1000).min(i32::MAX as u128) as i32;
        let mut fds = [PollFd::new(fd.as_fd(), events)];
        match poll(
            &mut fds,
            PollTimeout::try_from(ms).unwrap_or(PollTimeout::MAX),
        ) {
            Ok(0) => return Ok(false),
            Ok(_) => return Ok(true),
            Err(Errno::EINTR) => continue,
            Err(e) => return Err(e),
        }
    }
}
