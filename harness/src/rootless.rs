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

use std::fmt;
use std::fs::{self, OpenOptions};
use std::io;
use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
use std::sync::OnceLock;

use nix::errno::Errno;
use nix::sched::{unshare, CloneFlags};
use nix::unistd::{getegid, geteuid, Gid, Group, Uid, User};

/// The TUN clone device the sandbox opens.
pub const TUN_PATH: &str = "/dev/net/tun";

const UNPRIVILEGED_USERNS_CLONE: &str = "kernel.unprivileged_userns_clone";
const MAX_USER_NAMESPACES: &str = "user.max_user_namespaces";
const APPARMOR_RESTRICT: &str = "kernel.apparmor_restrict_unprivileged_userns";

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

/// The sysctls that decide whether an unprivileged user may create user namespaces, as read
/// from `/proc/sys`; `None` when the file is absent (the kernel lacks that switch) or
/// unreadable.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct UsernsPolicy {
    /// Debian's switch (0 forbids unprivileged user namespaces). Absent upstream.
    pub unprivileged_userns_clone: Option<i64>,
    /// The per-user-namespace limit on nested user namespaces (0 forbids them).
    pub max_user_namespaces: Option<i64>,
    /// Ubuntu's AppArmor switch (1: only programs whose profile allows `userns` may use them).
    pub apparmor_restrict_unprivileged_userns: Option<i64>,
}

impl UsernsPolicy {
    pub fn read() -> UsernsPolicy {
        UsernsPolicy {
            unprivileged_userns_clone: read_sysctl(UNPRIVILEGED_USERNS_CLONE),
            max_user_namespaces: read_sysctl(MAX_USER_NAMESPACES),
            apparmor_restrict_unprivileged_userns: read_sysctl(APPARMOR_RESTRICT),
        }
    }

    /// The settings that forbid unprivileged user namespaces, each with what to do about it.
    fn blockers(&self) -> Vec<String> {
        let mut out = Vec::new();
        if self.unprivileged_userns_clone == Some(0) {
            out.push(format!(
                "{UNPRIVILEGED_USERNS_CLONE} = 0: unprivileged user namespaces are switched off. \
                 To allow them, as root: `sysctl -w {UNPRIVILEGED_USERNS_CLONE}=1` (to keep it \
                 after a reboot: `echo {UNPRIVILEGED_USERNS_CLONE}=1 > \
                 /etc/sysctl.d/90-userns.conf`)."
            ));
        }
        if self.max_user_namespaces == Some(0) {
            out.push(format!(
                "{MAX_USER_NAMESPACES} = 0: no user namespaces may be created. To allow them, as \
                 root: `sysctl -w {MAX_USER_NAMESPACES}=15000` (to keep it after a reboot: `echo \
                 {MAX_USER_NAMESPACES}=15000 > /etc/sysctl.d/90-userns.conf`)."
            ));
        }
        if self.apparmor_restrict_unprivileged_userns == Some(1) {
            out.push(format!(
                "{APPARMOR_RESTRICT} = 1: AppArmor lets only programs whose profile allows it use \
                 unprivileged user namespaces. Either give tcpcheck such a profile, as root: \
                 write `abi <abi/4.0>, include <tunables/global> profile tcpcheck \
                 /path/to/tcpcheck flags=(unconfined) {{ userns, }}` to \
                 /etc/apparmor.d/tcpcheck and run `apparmor_parser -r /etc/apparmor.d/tcpcheck`; \
                 or lift the restriction: `sysctl -w {APPARMOR_RESTRICT}=0`."
            ));
        }
        out
    }

    /// `name = value` for each sysctl, or that it is absent.
    fn readings(&self) -> String {
        let show = |name: &str, value: Option<i64>| match value {
            Some(v) => format!("{name} = {v}"),
            None => format!("{name}: not present"),
        };
        [
            show(UNPRIVILEGED_USERNS_CLONE, self.unprivileged_userns_clone),
            show(MAX_USER_NAMESPACES, self.max_user_namespaces),
            show(
                APPARMOR_RESTRICT,
                self.apparmor_restrict_unprivileged_userns,
            ),
        ]
        .join(", ")
    }
}

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

/// A numeric id with its name, when known.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Id {
    pub id: u32,
    pub name: Option<String>,
}

impl fmt::Display for Id {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.name {
            Some(name) => write!(f, "{} ({name})", self.id),
            None => write!(f, "{}", self.id),
        }
    }
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

impl Id {
    /// What to put in a command line: the name if known, else the number.
    fn arg(&self) -> String {
        self.name.clone().unwrap_or_else(|| self.id.to_string())
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

fn errno_of(e: io::Error) -> Errno {
    e.raw_os_error().map_or(Errno::EIO, Errno::from_raw)
}

/// Threads of this process, from `/proc/self/task`; `None` if /proc cannot tell.
fn thread_count() -> Option<usize> {
    fs::read_dir("/proc/self/task").ok().map(|d| d.count())
}

fn read_sysctl(name: &str) -> Option<i64> {
    let path = format!("/proc/sys/{}", name.replace('.', "/"));
    fs::read_to_string(path).ok()?.trim().parse().ok()
}

/// Maps an id of this process's user namespace to the id outside it (in the initial user
/// namespace's terms as far as this namespace's map reaches), from a `uid_map`/`gid_map`
/// file; `None` if unmapped.
fn outer_id(map_file: &str, id: u32) -> Option<u32> {
    let text = fs::read_to_string(map_file).ok()?;
    map_id(&text, id)
}

fn map_id(map: &str, id: u32) -> Option<u32> {
    map.lines().find_map(|line| {
        let mut f = line.split_whitespace().map(|x| x.parse::<u64>().ok());
        let (inside, outside, count) = (f.next()??, f.next()??, f.next()??);
        let id = u64::from(id);
        (id >= inside && id - inside < count)
            .then(|| u32::try_from(outside + (id - inside)).ok())
            .flatten()
    })
}

/// Checks that `/dev/net/tun` exists and that this process may open it read-write (which
/// creates nothing: a TUN device only appears on TUNSETIFF).
pub fn check_tun_access() -> Result<(), RootlessError> {
    let meta = match fs::metadata(TUN_PATH) {
        Ok(m) => m,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Err(RootlessError::TunMissing),
        Err(e) => {
            return Err(RootlessError::TunOther {
                message: format!("stat: {e}"),
            })
        }
    };
    let opened = OpenOptions::new()
        .read(true)
        .write(true)
        .custom_flags(libc::O_NONBLOCK | libc::O_CLOEXEC)
        .open(TUN_PATH);
    let e = match opened {
        Ok(_) => return Ok(()),
        Err(e) => e,
    };
    match errno_of(e) {
        errno @ (Errno::EACCES | Errno::EPERM) => {
            let (uid, gid) = real_ids();
            Err(RootlessError::TunDenied {
                errno,
                access: Box::new(TunAccess {
                    mode: meta.mode() & 0o7777,
                    owner: outer_id("/proc/self/uid_map", meta.uid()).map(user_id),
                    group: outer_id("/proc/self/gid_map", meta.gid()).map(group_id),
                    user: user_id(uid),
                    user_group: group_id(gid),
                }),
            })
        }
        errno @ (Errno::ENODEV | Errno::ENXIO) => Err(RootlessError::TunNoDriver { errno }),
        errno => Err(RootlessError::TunOther {
            message: format!("open: {errno}"),
        }),
    }
}

/// The user and group the kernel checks file access against: the ids this process started
/// with, seen from outside its user namespace.
fn real_ids() -> (u32, u32) {
    if let Some(Ok(Privilege::UserNamespace { uid, gid })) = status() {
        return (uid, gid);
    }
    let (uid, gid) = (geteuid().as_raw(), getegid().as_raw());
    (
        outer_id("/proc/self/uid_map", uid).unwrap_or(uid),
        outer_id("/proc/self/gid_map", gid).unwrap_or(gid),
    )
}

/// An outside uid with its name from the password database.
fn user_id(id: u32) -> Id {
    Id {
        id,
        name: User::from_uid(Uid::from_raw(id))
            .ok()
            .flatten()
            .map(|u| u.name),
    }
}

fn group_id(id: u32) -> Id {
    Id {
        id,
        name: Group::from_gid(Gid::from_raw(id))
            .ok()
            .flatten()
            .map(|g| g.name),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn no_blockers() -> UsernsPolicy {
        UsernsPolicy {
            unprivileged_userns_clone: None,
            max_user_namespaces: Some(96365),
            apparmor_restrict_unprivileged_userns: None,
        }
    }

    fn userns_error(errno: Errno, policy: UsernsPolicy) -> String {
        RootlessError::NewUserNamespace {
            errno,
            policy,
            unmapped: false,
        }
        .to_string()
    }

    #[test]
    fn debian_switch_is_named_with_its_remedy() {
        let policy = UsernsPolicy {
            unprivileged_userns_clone: Some(0),
            ..no_blockers()
        };
        let text = userns_error(Errno::EPERM, policy);
        assert!(
            text.contains("unshare(CLONE_NEWUSER) failed with EPERM"),
            "{text}"
        );
        assert!(
            text.contains("kernel.unprivileged_userns_clone = 0"),
            "{text}"
        );
        assert!(
            text.contains("sysctl -w kernel.unprivileged_userns_clone=1"),
            "{text}"
        );
        assert!(text.contains("run tcpcheck as root"), "{text}");
    }

    #[test]
    fn zero_namespace_limit_is_named_with_its_remedy() {
        let policy = UsernsPolicy {
            max_user_namespaces: Some(0),
            ..no_blockers()
        };
        let text = userns_error(Errno::ENOSPC, policy);
        assert!(text.contains("user.max_user_namespaces = 0"), "{text}");
        assert!(
            text.contains("sysctl -w user.max_user_namespaces=15000"),
            "{text}"
        );
    }

    #[test]
    fn reached_namespace_limit_shows_the_readings() {
        let text = userns_error(Errno::ENOSPC, no_blockers());
        assert!(
            text.contains("limit on user namespaces is reached"),
            "{text}"
        );
        assert!(text.contains("user.max_user_namespaces = 96365"), "{text}");
    }

    #[test]
    fn apparmor_restriction_is_named_with_its_remedies() {
        let policy = UsernsPolicy {
            apparmor_restrict_unprivileged_userns: Some(1),
            ..no_blockers()
        };
        // Under AppArmor's restriction the unshare succeeds and the id map write fails.
        let text = RootlessError::IdMap {
            file: "/proc/self/uid_map",
            contents: "0 1000 1".into(),
            errno: Errno::EPERM,
            policy,
        }
        .to_string();
        assert!(
            text.contains("writing \"0 1000 1\" to /proc/self/uid_map"),
            "{text}"
        );
        assert!(
            text.contains("kernel.apparmor_restrict_unprivileged_userns = 1"),
            "{text}"
        );
        assert!(text.contains("apparmor_parser -r"), "{text}");
        assert!(
            text.contains("sysctl -w kernel.apparmor_restrict_unprivileged_userns=0"),
            "{text}"
        );
    }

    #[test]
    fn every_blocker_is_listed() {
        let policy = UsernsPolicy {
            unprivileged_userns_clone: Some(0),
            max_user_namespaces: Some(0),
            apparmor_restrict_unprivileged_userns: Some(1),
        };
        let text = userns_error(Errno::EPERM, policy);
        assert_eq!(text.matches("Why: ").count(), 3, "{text}");
    }

    #[test]
    fn no_blocker_points_at_seccomp_and_shows_the_readings() {
        let text = userns_error(Errno::EPERM, no_blockers());
        assert!(text.contains("no sysctl forbids it"), "{text}");
        assert!(
            text.contains("kernel.unprivileged_userns_clone: not present"),
            "{text}"
        );
        assert!(text.contains("seccomp"), "{text}");
    }

    #[test]
    fn unmapped_uid_is_explained() {
        let text = RootlessError::NewUserNamespace {
            errno: Errno::EPERM,
            policy: no_blockers(),
            unmapped: true,
        }
        .to_string();
        assert!(text.contains("has no mapping"), "{text}");
    }

    #[test]
    fn threads_error_says_to_call_it_first_in_main() {
        let text = RootlessError::Threaded { threads: 4 }.to_string();
        assert!(text.contains("already runs 4 threads"), "{text}");
        assert!(text.contains("first thing in main"), "{text}");
    }

    fn access(mode: u32) -> TunAccess {
        let root = Id {
            id: 0,
            name: Some("root".into()),
        };
        TunAccess {
            mode,
            owner: Some(root.clone()),
            group: Some(root),
            user: Id {
                id: 1000,
                name: Some("alice".into()),
            },
            user_group: Id {
                id: 1000,
                name: None,
            },
        }
    }

    #[test]
    fn tun_mode_denial_explains_the_one_time_step() {
        let text = RootlessError::TunDenied {
            errno: Errno::EACCES,
            access: Box::new(access(0o600)),
        }
        .to_string();
        assert!(
            text.contains("cannot open /dev/net/tun read-write: EACCES"),
            "{text}"
        );
        assert!(text.contains("mode 0600, owner uid 0 (root)"), "{text}");
        assert!(
            text.contains("runs as uid 1000 (alice), gid 1000"),
            "{text}"
        );
        assert!(
            text.contains("setfacl -m u:alice:rw /dev/net/tun"),
            "{text}"
        );
        assert!(text.contains("chmod 0666 /dev/net/tun"), "{text}");
        assert!(text.contains("/etc/udev/rules.d/"), "{text}");
    }

    #[test]
    fn tun_owner_outside_the_user_namespace_is_not_misnamed() {
        let mut access = access(0o600);
        access.owner = None;
        access.group = None;
        let text = RootlessError::TunDenied {
            errno: Errno::EACCES,
            access: Box::new(access),
        }
        .to_string();
        assert!(
            text.contains(
                "mode 0600, an owner that is not tcpcheck's user (usually root), a group \
                           that is not tcpcheck's, and tcpcheck runs as uid 1000"
            ),
            "{text}"
        );
        assert!(!text.contains("65534"), "{text}");
    }

    #[test]
    fn tun_denial_not_from_the_mode_points_at_cgroups() {
        let text = RootlessError::TunDenied {
            errno: Errno::EPERM,
            access: Box::new(access(0o666)),
        }
        .to_string();
        assert!(text.contains("device cgroup"), "{text}");
        assert!(text.contains("--device /dev/net/tun"), "{text}");
    }

    #[test]
    fn missing_tun_says_how_to_load_it() {
        let text = RootlessError::TunMissing.to_string();
        assert!(text.contains("modprobe tun"), "{text}");
        assert!(text.contains("mknod /dev/net/tun c 10 200"), "{text}");
    }

    #[test]
    fn id_maps_translate_ranges() {
        assert_eq!(map_id("0 0 4294967295\n", 1000), Some(1000));
        assert_eq!(map_id("         0       1000          1\n", 0), Some(1000));
        assert_eq!(map_id("0 1000 1\n", 1), None);
        assert_eq!(map_id("0 1000 1\n1 100000 65536\n", 5), Some(100004));
        assert_eq!(map_id("", 0), None);
    }

    #[test]
    fn root_needs_no_namespace() {
        // As another user this would really enter a user namespace (under `--test-threads=1`
        // the test runs on the only thread), changing the process for every later test; the
        // integration tests cover that path by running the binary as another user.
        if geteuid().is_root() {
            assert_eq!(enter_user_namespace_if_needed(), Ok(Privilege::Root));
            assert_eq!(status(), Some(Ok(Privilege::Root)));
        }
    }
}
