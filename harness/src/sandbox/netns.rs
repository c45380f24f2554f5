//! Entering a fresh network namespace on the calling thread, and leaving it.
//!
//! `unshare(CLONE_NEWNET)` moves only the calling thread (design §3), so every check can own
//! a namespace while others run beside it. The guard remembers the namespace the thread came
//! from and returns to it on drop, on error and on panic alike, so a long-lived thread (the
//! main thread under `--test-threads=1`, a `--jobs` worker) can run any number of checks and
//! the namespaces it leaves behind are freed as soon as their last descriptor closes.

use std::fs::File;
use std::io;
use std::marker::PhantomData;
use std::os::fd::{AsFd, BorrowedFd};

use nix::sched::{setns, unshare, CloneFlags};

const THREAD_NETNS: &str = "/proc/thread-self/ns/net";

/// The calling thread's stay in a private network namespace.
///
/// Not `Send`: the namespace belongs to the thread that entered it.
#[derive(Debug)]
pub struct NetNs {
    home: File,
    ns: File,
    _thread_bound: PhantomData<*const ()>,
}

impl NetNs {
    /// Moves the calling thread into a new, empty network namespace.
    pub fn enter_new() -> io::Result<NetNs> {
        let home = File::open(THREAD_NETNS)?;
        unshare(CloneFlags::CLONE_NEWNET).map_err(|e| {
            io::Error::new(
                io::ErrorKind::PermissionDenied,
                format!(
                    "unshare(CLONE_NEWNET) failed: {e}; run as root, or let tcpcheck enter a user \
                     namespace first (see README, \"Running without root\")"
                ),
            )
        })?;
        let ns = File::open(THREAD_NETNS)?;
        Ok(NetNs {
            home,
            ns,
            _thread_bound: PhantomData,
        })
    }

    /// A descriptor of the namespace, for another thread to `setns` into (and for
    /// `/proc/<pid>/fd` inspection).
    pub fn fd(&self) -> BorrowedFd<'_> {
        self.ns.as_fd()
    }
}

impl Drop for NetNs {
    fn drop(&mut self) {
        // Returning home cannot fail for a namespace we came from while holding its descriptor;
        // if it somehow did, staying in the private namespace is the safe side: the host is
        // never touched.
        let _ = setns(self.home.as_fd(), CloneFlags::CLONE_NEWNET);
    }
}
