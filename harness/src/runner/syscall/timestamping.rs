//! `SO_TIMESTAMPING`'s control message in a `recvmsg()`'s expected `msg_control`:
//! `{cmsg_level=SOL_SOCKET, cmsg_type=SCM_TIMESTAMPING, cmsg_data={scm_sec=S,scm_nsec=N}}`,
//! a time on the script's clock that the kernel's software timestamp must match within the
//! tolerance (packetdrill's `scm_timestamping_expect_eq()`).

use super::linux::fields;
use super::{blame, int, on, ranged, Bad, CmsgData};
use crate::scenario::Expr;

/// `{scm_sec=S,scm_nsec=N}`: packetdrill's `scm_timestamping_expr`.
pub(in crate::runner::syscall) fn is_scm_timestamping(e: &Expr) -> bool {
    fields(e, "scm_timestamping")
        .is_ok_and(|f| f.first().is_some_and(|(name, ..)| name.starts_with("scm_")))
}

pub(in crate::runner::syscall) fn scm_timestamping(e: &Expr) -> Result<CmsgData, Bad<'_>> {
    let (mut sec, mut nsec) = (None, None);
    for (name, f, val) in fields(e, "scm_timestamping")? {
        let v = on(val, int(val))?;
        match name {
            "scm_sec" => sec = Some(on(val, ranged(v, 0, MAX_SCM_SEC, name))?),
            "scm_nsec" => nsec = Some(on(val, ranged(v, 0, 999_999_999, name))?),
            _ => {
                return Err(blame(
                    f,
                    format!("scm_timestamping field `{name}` is not supported yet"),
                ))
            }
        }
    }
    match (sec, nsec) {
        (Some(s), Some(n)) => Ok(CmsgData::Timestamping {
            usecs: s * 1_000_000 + n / 1000,
        }),
        _ => Err(blame(e, "scm_timestamping needs scm_sec and scm_nsec")),
    }
}

/// A day: script times stay far below it (validate.rs MAX_SCRIPT_SECS).
const MAX_SCM_SEC: i64 = 24 * 60 * 60;
