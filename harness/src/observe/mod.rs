//! Read-only views of the kernel's own idea of a connection.
//!
//! The harness judges a TCP stack by the packets it emits, but when a verdict is disputed the
//! question is usually "what state did the kernel think it was in?". Two sources answer it:
//!
//! * [`tcp_info()`] asks a socket we hold a descriptor for (`TCP_INFO`), which is cheap and
//!   exact but needs the descriptor, so it cannot see orphaned or not-yet-accepted connections;
//! * [`Diag`] dumps every TCP socket of a network namespace over `NETLINK_SOCK_DIAG`, which also
//!   sees request (`SYN_RECV`) sockets, `TIME_WAIT` mini sockets and listeners' accept queues.

pub mod diag;
pub mod rfc_state;
pub mod tcp_info;

pub use diag::{Diag, DiagSocket, StateSet, TimerKind};
pub use tcp_info::{tcp_info, CaState, TcpInfo, TcpState, TcpiOptions};

/// Test scaffolding: every observe test runs in a throw-away network namespace so it can bind
/// loopback ports and bring `lo` up without touching the host's namespace.
#[cfg(test)]
pub(crate) mod testns {
    use std::fs::File;
    use std::os::fd::AsRawFd;
    use std::os::unix::fs::MetadataExt;

    use nix::sched::{setns, unshare, CloneFlags};

    /// Moves the current thread into a fresh network namespace and moves it back on drop.
    ///
    /// libtest normally runs each test on its own thread, which would make the way back
    /// unnecessary, but with `--test-threads=1` tests may share a thread, and a later test must
    /// not inherit (or, worse, mistake for the host's) the namespace an earlier one created.
    pub(crate) struct NetnsGuard {
        original: File,
    }

    impl NetnsGuard {
        /// Enters a new namespace and brings its `lo` up. Panics rather than continue in the
        /// wrong namespace, because everything after this point configures interfaces.
        pub(crate) fn enter() -> NetnsGuard {
            let original =
                File::open("/proc/thread-self/ns/net").expect("open /proc/thread-self/ns/net");
            let before = original.metadata().expect("stat original netns").ino();
            unshare(CloneFlags::CLONE_NEWNET).expect("unshare(CLONE_NEWNET) (tests need root)");
            let guard = NetnsGuard { original };
            let after = std::fs::metadata("/proc/thread-self/ns/net")
                .expect("stat new netns")
                .ino();
            assert_ne!(
                before, after,
                "unshare did not give this thread a new netns"
            );
            set_loopback_up();
            guard
        }
    }

    impl Drop for NetnsGuard {
        fn drop(&mut self) {
            // A failure here would leave a later test on this thread in our namespace; that is
            // harmless for the host but would make that test's results meaningless.
            if let Err(e) = setns(&self.original, CloneFlags::CLONE_NEWNET) {
                if !std::thread::panicking() {
                    panic!("setns back to the original netns: {e}");
                }
            }
        }
    }

    /// A fresh namespace's `lo` is down, and loopback connects fail with ENETUNREACH until it is
    /// up. Plain ioctls keep this free of an rtnetlink dependency.
    fn set_loopback_up() {
        // SAFETY: plain socket(2); the result is checked and owned by `sock` below.
        let fd = unsafe { libc::socket(libc::AF_INET, libc::SOCK_DGRAM | libc::SOCK_CLOEXEC, 0) };
        assert!(fd >= 0, "socket: {}", std::io::Error::last_os_error());
        // SAFETY: `fd` is a fresh descriptor nobody else owns.
        let sock = unsafe { <std::os::fd::OwnedFd as std::os::fd::FromRawFd>::from_raw_fd(fd) };

        // SAFETY: ifreq is plain old data; all-zero is a valid value.
        let mut req: libc::ifreq = unsafe { std::mem::zeroed() };
        for (dst, src) in req.ifr_name.iter_mut().zip(b"lo\0") {
            *dst = *src as libc::c_char;
        }
        // SAFETY: SIOCGIFFLAGS reads the name and writes ifru_flags inside `req`.
        let rc = unsafe { libc::ioctl(sock.as_raw_fd(), libc::SIOCGIFFLAGS, &mut req) };
        assert_eq!(
            rc,
            0,
            "SIOCGIFFLAGS lo: {}",
            std::io::Error::last_os_error()
        );
        // SAFETY: the kernel just filled ifru_flags.
        unsafe { req.ifr_ifru.ifru_flags |= libc::IFF_UP as libc::c_short };
        // SAFETY: SIOCSIFFLAGS reads the name and flags from `req`.
        let rc = unsafe { libc::ioctl(sock.as_raw_fd(), libc::SIOCSIFFLAGS, &req) };
        assert_eq!(
            rc,
            0,
            "SIOCSIFFLAGS lo: {}",
            std::io::Error::last_os_error()
        );
    }

    /// Polls `probe` until it yields a value or `timeout` passes: for the kernel's asynchronous
    /// steps (a FIN travelling over loopback), never a fixed sleep.
    pub(crate) fn wait_for<T>(
        what: &str,
        timeout: std::time::Duration,
        mut probe: impl FnMut() -> Option<T>,
    ) -> T {
        let deadline = std::time::Instant::now() + timeout;
        loop {
            if let Some(v) = probe() {
                return v;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "timed out after {timeout:?} waiting for {what}"
            );
            std::thread::sleep(std::time::Duration::from_millis(2));
        }
    }
}
