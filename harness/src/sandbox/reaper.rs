//! Closing a sandbox's packet socket off the check's own thread.
//!
//! Closing a packet socket waits for an RCU grace period (`packet_release()` calls
//! `synchronize_net()` unconditionally): 5 to 10 ms on this machine, two thirds of a whole
//! untimed scenario. Nothing the check does next depends on that close: the socket is
//! already off the device once the TUN has closed, and the next sandbox is a new namespace.
//! So a few reaper threads close them, and the thread that ran the check goes on at once.
//! Grace periods overlap, so each reaper adds throughput.
//!
//! Nothing is left behind: the queue is bounded (a sandbox blocks on a full queue, as it
//! would have blocked in `close`), [`flush`] waits for every close handed over, and the
//! kernel closes what is still queued when the process exits.

use std::os::fd::OwnedFd;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{sync_channel, Receiver, SyncSender};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

/// Reaper threads: each waits out one grace period at a time.
const REAPERS: usize = 4;

/// Closes handed over and not done yet, before a sandbox blocks.
const QUEUE: usize = 64;

struct Reaper {
    tx: SyncSender<OwnedFd>,
    pending: Arc<AtomicUsize>,
}

fn reaper() -> Option<&'static Reaper> {
    static REAPER: OnceLock<Option<Reaper>> = OnceLock::new();
    REAPER
        .get_or_init(|| {
            let (tx, rx) = sync_channel::<OwnedFd>(QUEUE);
            let rx = Arc::new(Mutex::new(rx));
            let pending = Arc::new(AtomicUsize::new(0));
            for i in 0..REAPERS {
                let rx: Arc<Mutex<Receiver<OwnedFd>>> = Arc::clone(&rx);
                let pending = Arc::clone(&pending);
                std::thread::Builder::new()
                    .name(format!("tcpcheck-close-{i}"))
                    .spawn(move || loop {
                        let fd = match rx.lock() {
                            Ok(rx) => rx.recv(),
                            Err(_) => return,
                        };
                        match fd {
                            Ok(fd) => {
                                drop(fd);
                                pending.fetch_sub(1, Ordering::AcqRel);
                            }
                            Err(_) => return,
                        }
                    })
                    .ok()?;
            }
            Some(Reaper { tx, pending })
        })
        .as_ref()
}

/// Closes `fd` on a reaper thread; on the calling thread when no reaper could be started.
pub fn close_later(fd: OwnedFd) {
    match reaper() {
        Some(r) => {
            r.pending.fetch_add(1, Ordering::AcqRel);
            if let Err(e) = r.tx.send(fd) {
                r.pending.fetch_sub(1, Ordering::AcqRel);
                drop(e.0);
            }
        }
        None => drop(fd),
    }
}

/// Waits until every descriptor handed to [`close_later`] is closed, or `deadline` passes;
/// whether they all were. For counting descriptors, and before a process reports that it
/// left nothing behind.
pub fn flush(deadline: Duration) -> bool {
    let Some(r) = reaper() else {
        return true;
    };
    let give_up = Instant::now() + deadline;
    loop {
        if r.pending.load(Ordering::Acquire) == 0 {
            return true;
        }
        if Instant::now() >= give_up {
            return false;
        }
        std::thread::sleep(Duration::from_millis(1));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn closes_what_it_is_given() {
        let (a, b) = std::os::unix::net::UnixStream::pair().unwrap();
        let raw = std::os::fd::AsRawFd::as_raw_fd(&a);
        close_later(OwnedFd::from(a));
        assert!(flush(Duration::from_secs(5)));
        // The peer sees the close: reading gives end of file.
        use std::io::Read;
        let mut b = b;
        let mut buf = [0u8; 1];
        assert_eq!(b.read(&mut buf).unwrap(), 0, "fd {raw} still open");
    }
}
