//! Whether this process may open `/dev/net/tun`.

use std::fs::{self, OpenOptions};
use std::io;
use std::os::unix::fs::{MetadataExt, OpenOptionsExt};

use nix::errno::Errno;

use super::errno_of;
use super::error::{RootlessError, TunAccess};
use super::ids::{group_id, outer_id, real_ids, user_id};

/// The TUN clone device the sandbox opens.
pub const TUN_PATH: &str = "/dev/net/tun";

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
