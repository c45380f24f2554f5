//! Running without root.
//!
//! The sandbox needs `unshare(CLONE_NEWNET)` (CAP_SYS_ADMIN), TUNSETIFF and per-namespace
//! sysctl writes (CAP_NET_ADMIN). A user without them gets all three by entering a new *user*
//! namespace first: there it is uid 0 with a full capability set, valid for every namespace
//! that user namespace owns, so the network namespaces created later (one per check) are
//! fully under its control while the host stays out of reach.
//!
//! Two things cannot be solved from inside:
//!
//! * `unshare(CLONE_NEWUSER)` is refused once a process has a second thread, so
//!   [`enter_user_namespace_if_needed`] must be the first thing `main` does;
//! * opening `/dev/net/tun` is checked against the device's mode with the real (outside) user,
//!   so a non-root user needs a one-time permission step ([`check_tun_access`] explains it).
//!
//! After entering the user namespace the process also moves into a private network namespace
//! of its own, its *home*. The sandbox ([`crate::sandbox::NetNs`]) sends a thread back to the
//! namespace it came from when a check ends, and `setns` into the host's namespace needs
//! CAP_SYS_ADMIN over the host's user namespace, which an unprivileged process never has;
//! `setns` into a namespace owned by our own user namespace is always allowed. The same holds
//! for uid 0 of a user namespace other than the initial one (`unshare --map-root-user`, a
//! rootless container) started in a network namespace owned by an ancestor; it gets a home of
//! its own too.
//!
//! Here: entering the user namespace. `policy` reads the sysctls that may forbid it, `ids`
//! translates ids across the namespace boundary, `tun` checks the device, and `error` says
//! what failed and what to do.

mod error;
mod ids;
mod policy;
mod tun;

pub use error::{RootlessError, TunAccess};
pub use ids::Id;
pub use policy::UsernsPolicy;
pub use tun::{check_tun_access, TUN_PATH};

use std::fmt;
use std::fs;
use std::io;
use std::sync::OnceLock;

use nix::errno::Errno;
use nix::sched::{unshare, CloneFlags};
use nix::unistd::{getegid, geteuid};

use ids::outer_id;

/// How the process holds the privileges the sandbox needs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Privilege {
    /// Started as root (effective uid 0): nothing was changed, except that uid 0 of a user
    /// namespace other than the initial one gets a home network namespace of its own when it
    /// could not return to the one it started in.
    Root,
    /// Started as `uid`/`gid` and now runs as uid 0 in a user namespace of its own (with a
    /// private home network namespace, see the module documentation).
    UserNamespace { uid: u32, gid: u32 },
}

impl fmt::Display for Privilege {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Privilege::Root => write!(f, "running as root"),
            Privilege::UserNamespace { uid, gid } => write!(
                f,
                "not root (uid {uid}, gid {gid}): running as uid 0 in a user namespace of its own"
            ),
        }
    }
}
static STATE: OnceLock<Result<Privilege, RootlessError>> = OnceLock::new();

/// Root: does nothing. Otherwise moves the process into a new user namespace where it is uid 0
/// (`setgroups` denied, uid and gid maps `0 <uid> 1`, `0 <gid> 1`) and then into a private
/// network namespace (see the module documentation).
///
/// Must be the first statement of `main`: the kernel refuses the user namespace to a
/// multi-threaded process. Calling it again returns the first call's result.
pub fn enter_user_namespace_if_needed() -> Result<Privilege, RootlessError> {
    STATE.get_or_init(enter).clone()
}

/// The result of [`enter_user_namespace_if_needed`], if it was called.
pub fn status() -> Option<Result<Privilege, RootlessError>> {
    STATE.get().cloned()
}

fn enter() -> Result<Privilege, RootlessError> {
    let uid = geteuid();
    if uid.is_root() {
        if !in_initial_user_namespace() {
            keep_home_reachable();
        }
        return Ok(Privilege::Root);
    }
    let gid = getegid();
    if let Some(threads) = thread_count() {
        if threads > 1 {
            return Err(RootlessError::Threaded { threads });
        }
    }
    if let Err(errno) = unshare(CloneFlags::CLONE_NEWUSER) {
        return Err(RootlessError::NewUserNamespace {
            errno,
            policy: UsernsPolicy::read(),
            unmapped: outer_id("/proc/self/uid_map", uid.as_raw()).is_none(),
        });
    }
    // setgroups must be denied before an unprivileged process may write gid_map. Kernels
    // before 3.19 lack the file and need no such step.
    match write_proc("/proc/self/setgroups", "deny") {
        Err(Errno::ENOENT) | Ok(()) => {}
        Err(errno) => return Err(id_map_error("/proc/self/setgroups", "deny", errno)),
    }
    let uid_map = format!("0 {uid} 1");
    write_proc("/proc/self/uid_map", &uid_map)
        .map_err(|e| id_map_error("/proc/self/uid_map", &uid_map, e))?;
    let gid_map = format!("0 {gid} 1");
    write_proc("/proc/self/gid_map", &gid_map)
        .map_err(|e| id_map_error("/proc/self/gid_map", &gid_map, e))?;
    unshare(CloneFlags::CLONE_NEWNET).map_err(|errno| RootlessError::HomeNetns {
        errno,
        policy: UsernsPolicy::read(),
    })?;
    Ok(Privilege::UserNamespace {
        uid: uid.as_raw(),
        gid: gid.as_raw(),
    })
}

/// Root of a user namespace other than the initial one (`unshare --map-root-user`, a rootless
/// container) may still sit in a network namespace owned by an ancestor user namespace, which
/// it could leave but never re-enter. `setns` into the namespace it is in tells: it succeeds
/// exactly when returning there later will. If it fails, give the process a home of its own
/// as in the unprivileged case; if that fails too, the sandbox will say why.
fn keep_home_reachable() {
    let Ok(current) = fs::File::open("/proc/self/ns/net") else {
        return;
    };
    if let Err(Errno::EPERM) = nix::sched::setns(&current, CloneFlags::CLONE_NEWNET) {
        let _ = unshare(CloneFlags::CLONE_NEWNET);
    }
}

/// Whether the process runs in the initial user namespace, whose uid map is the identity over
/// all ids; elsewhere uid 0 is root only over what that namespace owns.
pub fn in_initial_user_namespace() -> bool {
    fs::read_to_string("/proc/self/uid_map")
        .is_ok_and(|m| m.split_whitespace().collect::<Vec<_>>() == ["0", "0", "4294967295"])
}

fn id_map_error(file: &'static str, contents: &str, errno: Errno) -> RootlessError {
    RootlessError::IdMap {
        file,
        contents: contents.to_string(),
        errno,
        policy: UsernsPolicy::read(),
    }
}

/// One `write(2)` of the whole text, as the id-map files require.
fn write_proc(path: &str, text: &str) -> Result<(), Errno> {
    fs::write(path, text).map_err(errno_of)
}

pub(super) fn errno_of(e: io::Error) -> Errno {
    e.raw_os_error().map_or(Errno::EIO, Errno::from_raw)
}

/// Threads of this process, from `/proc/self/task`; `None` if /proc cannot tell.
fn thread_count() -> Option<usize> {
    fs::read_dir("/proc/self/task").ok().map(|d| d.count())
}

#[cfg(test)]
mod tests;
