//! The sysctls that decide whether an unprivileged user may create user namespaces.

use std::fs;

const UNPRIVILEGED_USERNS_CLONE: &str = "kernel.unprivileged_userns_clone";
pub(super) const MAX_USER_NAMESPACES: &str = "user.max_user_namespaces";
const APPARMOR_RESTRICT: &str = "kernel.apparmor_restrict_unprivileged_userns";
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
    pub(super) fn blockers(&self) -> Vec<String> {
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
    pub(super) fn readings(&self) -> String {
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
fn read_sysctl(name: &str) -> Option<i64> {
    let path = format!("/proc/sys/{}", name.replace('.', "/"));
    fs::read_to_string(path).ok()?.trim().parse().ok()
}
