//! The allocator's side of running a fresh stack per case.
//!
//! A case's stack allocates its buffers and frees them when the case ends (smoltcp: two
//! 64 KiB rings per socket, two or three sockets a case). glibc hands freed memory at the
//! top of a thread's heap back to the kernel once more than 128 KiB of it lies there, so
//! every case gave its pages back and the next faulted each of them in again: 300,000 page
//! faults per 20,000 cases, a fifth of the explorer's CPU time on smoltcp. Keeping freed
//! memory instead changes no result, only where the bytes come from.

use std::sync::Once;

/// Freed memory each of glibc's arenas keeps before trimming (a few cases' stacks).
#[cfg(all(target_os = "linux", target_env = "gnu"))]
const KEEP: libc::c_int = 64 << 20;

/// Asks glibc, once per process, to keep up to [`KEEP`] of freed memory per arena.
pub(crate) fn keep_freed_memory() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        // SAFETY: mallopt sets one of glibc's allocator tunables; it touches no memory of
        // ours, and any threshold is valid (a refusal returns 0 and changes nothing).
        #[cfg(all(target_os = "linux", target_env = "gnu"))]
        unsafe {
            libc::mallopt(libc::M_TRIM_THRESHOLD, KEEP);
        }
    });
}
