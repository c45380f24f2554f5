//! What can go wrong on the way to the sandbox's privileges, each with its remedy.

use std::fmt;

use nix::errno::Errno;

use super::ids::Id;
use super::policy::{UsernsPolicy, MAX_USER_NAMESPACES};
use super::tun::TUN_PATH;

/// Why the process cannot get, or use, the privileges the sandbox needs. `Display` says what
/// failed, why, and what to do.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RootlessError {
    /// The process already runs more than one thread.
    Threaded { threads: usize },
    /// `unshare(CLONE_NEWUSER)` failed. `unmapped`: the process's own uid has no mapping in
    /// the user namespace it runs in, which makes the kernel refuse.
    NewUserNamespace {
        errno: Errno,
        policy: UsernsPolicy,
        unmapped: bool,
    },
    /// Writing `/proc/self/setgroups`, `uid_map` or `gid_map` failed.
    IdMap {
        file: &'static str,
        contents: String,
        errno: Errno,
        policy: UsernsPolicy,
    },
    /// `unshare(CLONE_NEWNET)` for the home network namespace failed inside the new user
    /// namespace.
    HomeNetns { errno: Errno, policy: UsernsPolicy },
    /// `/dev/net/tun` does not exist.
    TunMissing,
    /// `/dev/net/tun` exists but cannot be opened read-write.
    TunDenied {
        errno: Errno,
        access: Box<TunAccess>,
    },
    /// Opening `/dev/net/tun` failed because the driver is missing.
    TunNoDriver { errno: Errno },
    /// Anything else around `/dev/net/tun`.
    TunOther { message: String },
}

/// The facts about `/dev/net/tun` and the caller that decide whether it may open it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TunAccess {
    /// Permission bits, e.g. 0o600.
    pub mode: u32,
    /// The device's owner and group as ids outside tcpcheck's user namespace; `None` when the
    /// namespace cannot name them (only the caller's own ids are mapped into it).
    pub owner: Option<Id>,
    pub group: Option<Id>,
    /// The real (outside) user and group the kernel checks.
    pub user: Id,
    pub user_group: Id,
}
/// `owner uid 0 (root)`, or what the user namespace lets us say: ids other than the
/// caller's own are not mapped into it.
fn show_owner(role: &str, id: &Option<Id>) -> String {
    let kind = if role == "owner" { "uid" } else { "gid" };
    match id {
        Some(id) => format!("{role} {kind} {id}"),
        None if role == "owner" => "an owner that is not tcpcheck's user (usually root)".into(),
        None => format!("a {role} that is not tcpcheck's"),
    }
}
const OR_ROOT: &str = "Or run tcpcheck as root.";

impl fmt::Display for RootlessError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RootlessError::Threaded { threads } => write!(
                f,
                "cannot enter a user namespace: the process already runs {threads} threads, and \
                 the kernel refuses unshare(CLONE_NEWUSER) to a multi-threaded process. \
                 rootless::enter_user_namespace_if_needed() must be called first thing in main, \
                 before anything (argument parsing, logging, a thread pool) starts a thread."
            ),
            RootlessError::NewUserNamespace {
                errno,
                policy,
                unmapped,
            } => {
                writeln!(
                    f,
                    "cannot create a user namespace, which tcpcheck needs to run without root: \
                     unshare(CLONE_NEWUSER) failed with {errno}."
                )?;
                write_userns_cause(f, *errno, policy, *unmapped)
            }
            RootlessError::IdMap {
                file,
                contents,
                errno,
                policy,
            } => {
                writeln!(
                    f,
                    "entered a new user namespace but could not set it up: writing \"{contents}\" \
                     to {file} failed with {errno}."
                )?;
                write_userns_cause(f, *errno, policy, false)
            }
            RootlessError::HomeNetns { errno, policy } => {
                writeln!(
                    f,
                    "entered a new user namespace but cannot create network namespaces in it: \
                     unshare(CLONE_NEWNET) failed with {errno}."
                )?;
                write_userns_cause(f, *errno, policy, false)
            }
            RootlessError::TunMissing => write!(
                f,
                "{TUN_PATH} does not exist: the kernel's TUN driver is not loaded, or its device \
                 node was never created. As root: `modprobe tun`; if the node is still missing: \
                 `mkdir -p /dev/net && mknod {TUN_PATH} c 10 200 && chmod 0666 {TUN_PATH}`. In a \
                 container, pass the device in (`docker run --device {TUN_PATH} ...`). {OR_ROOT}"
            ),
            RootlessError::TunDenied { errno, access } => {
                writeln!(
                    f,
                    "cannot open {TUN_PATH} read-write: {errno}. tcpcheck injects packets \
                     through a TUN device and needs to open it."
                )?;
                if *errno == Errno::EACCES {
                    writeln!(
                        f,
                        "Why: {TUN_PATH} has mode {:04o}, {}, {}, and tcpcheck runs as uid {}, \
                         gid {}. Device files are checked against this real user; the user \
                         namespace tcpcheck enters does not change that.",
                        access.mode,
                        show_owner("owner", &access.owner),
                        show_owner("group", &access.group),
                        access.user,
                        access.user_group
                    )?;
                    write!(
                        f,
                        "Fix, once, as root (any one of):\n  \
                         setfacl -m u:{user}:rw {TUN_PATH}    (only this user; until reboot)\n  \
                         chmod 0666 {TUN_PATH}    (what stock Debian ships; until reboot; creating \
                         a TUN device still needs CAP_NET_ADMIN in its network namespace)\n  \
                         echo 'KERNEL==\"tun\", MODE=\"0666\"' > \
                         /etc/udev/rules.d/60-tun.rules && udevadm trigger {TUN_PATH}    \
                         (permanent)\n\
                         {OR_ROOT}",
                        user = access.user.arg()
                    )
                } else {
                    write!(
                        f,
                        "Why: the kernel refused with {errno} rather than on the file's mode \
                         ({:04o}, {}, {}; tcpcheck runs as uid {}), so a device \
                         cgroup or a security module forbids it; in a container, pass the device \
                         in (`docker run --device {TUN_PATH} ...`). {OR_ROOT}",
                        access.mode,
                        show_owner("owner", &access.owner),
                        show_owner("group", &access.group),
                        access.user
                    )
                }
            }
            RootlessError::TunNoDriver { errno } => write!(
                f,
                "cannot open {TUN_PATH}: {errno}: the device node exists but the kernel has no TUN \
                 driver loaded. As root: `modprobe tun` (the kernel needs CONFIG_TUN)."
            ),
            RootlessError::TunOther { message } => {
                write!(f, "cannot use {TUN_PATH}: {message}. {OR_ROOT}")
            }
        }
    }
}

impl std::error::Error for RootlessError {}

/// The "why" and "what to do" lines shared by the user-namespace errors.
fn write_userns_cause(
    f: &mut fmt::Formatter<'_>,
    errno: Errno,
    policy: &UsernsPolicy,
    unmapped: bool,
) -> fmt::Result {
    let blockers = policy.blockers();
    if !blockers.is_empty() {
        for b in &blockers {
            writeln!(f, "Why: {b}")?;
        }
        return write!(f, "{OR_ROOT}");
    }
    match errno {
        Errno::ENOSPC | Errno::EUSERS => writeln!(
            f,
            "Why: a limit on user namespaces is reached ({}). The limit of every enclosing user \
             namespace counts too (e.g. a container's), and user namespaces nest at most 32 deep. \
             Raise it, as root: `sysctl -w {MAX_USER_NAMESPACES}=15000`.",
            policy.readings()
        )?,
        Errno::EINVAL => writeln!(
            f,
            "Why: the kernel may be built without user namespaces (CONFIG_USER_NS), or the \
             process was multi-threaded ({}).",
            policy.readings()
        )?,
        _ if unmapped => writeln!(
            f,
            "Why: tcpcheck's uid has no mapping in the user namespace it was started in (its \
             /proc/self/uid_map does not cover it, e.g. under `unshare --user` without \
             `--map-root-user`), and the kernel only lets mapped users create user namespaces."
        )?,
        _ => writeln!(
            f,
            "Why: no sysctl forbids it ({}), so something else does: a seccomp filter (the \
             default profiles of Docker and Podman refuse unshare; run the container with \
             `--security-opt seccomp=unconfined`), a security module (SELinux, an AppArmor \
             profile), or a chroot.",
            policy.readings()
        )?,
    }
    write!(f, "{OR_ROOT}")
}
