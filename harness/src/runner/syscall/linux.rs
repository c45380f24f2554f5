//! The calls made on the kernel descriptor itself ([`crate::stack::Capability::LinuxCalls`]):
//! send flags, `sendto`/`sendmsg`/`recvmsg` as packetdrill writes them (`msg_iov`,
//! `msg_flags`, `msg_control`), `ioctl` (`poll` and `epoll_*` in readiness.rs) and the socket options the seam
//! has no word for. Read here completely, like the core calls (see the parent module), so
//! `tcpcheck check` refuses what `run` would.

use super::{arity, blame, bracketed, ellipsis, int, int32, is_ellipsis, on, ranged, Bad};
use super::{Decoded, MAX_IO_BYTES};
use crate::scenario::{Expr, Syscall};

use super::timestamping;

/// A call of this module, its arguments read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LinuxCall {
    /// `send`, `sendto`, `sendmsg`: the iovec lengths (one for `send`), the flags, and
    /// whether the buffer is `NULL` (the kernel answers `EFAULT`).
    Send {
        fd: i64,
        iov: Vec<usize>,
        flags: i32,
        null: bool,
        /// `sendto`'s address family when the script gives one instead of `...`.
        family: Option<i32>,
    },
    /// `recv`, `recvfrom`, `recvmsg`: the buffer's length and flags; a `recvmsg`'s expected
    /// `msg_flags` and control messages.
    Recv {
        fd: i64,
        len: usize,
        flags: i32,
        null: bool,
        msg: Option<RecvMsg>,
    },
    /// `setsockopt` of an `int` option (`[N]` or `N`).
    SetInt {
        fd: i64,
        level: i32,
        name: i32,
        value: i32,
        /// As written, for the model's note.
        what: String,
    },
    /// `setsockopt` of an option whose value is bytes (a C string as written), `len` as given.
    SetBytes {
        fd: i64,
        level: i32,
        name: i32,
        value: Vec<u8>,
        len: u32,
        /// As written, for the model's note.
        what: String,
    },
    /// `getsockopt` of an `int` option, and the value expected in its `[N]`.
    GetInt {
        fd: i64,
        level: i32,
        name: i32,
        expected: i64,
    },
    /// `ioctl(fd, request, [expected])`.
    Ioctl {
        fd: i64,
        request: i32,
        expected: i64,
    },
    /// `poll([{fd=N, events=E, revents=R}, ...], nfds, timeout_ms)`.
    Poll {
        fds: Vec<PollEntry>,
        timeout_ms: i32,
    },
    /// `pipe([r, w])`: the script's numbers for the two ends.
    Pipe { ends: [i64; 2] },
    /// `open(path, flags)`; a path under `/tmp` is in the scenario's private `/tmp`, where
    /// its shell commands write.
    Open { path: String, flags: i32 },
    /// `splice(in, NULL, out, NULL, len, flags)`.
    Splice {
        fd_in: i64,
        fd_out: i64,
        len: usize,
        flags: u32,
    },
    /// `sendfile(out, in, [offset], count)`.
    SendFile {
        out: i64,
        file: i64,
        offset: i64,
        count: usize,
    },
    /// `epoll_create(size)`.
    EpollCreate { size: i32 },
    /// `epoll_ctl(epfd, op, fd, {events=E, fd=N})`.
    EpollCtl {
        epfd: i64,
        op: i32,
        fd: i64,
        event: EpollEvent,
    },
    /// `epoll_wait(epfd, {events=E, fd=N}, maxevents, timeout_ms)`: the first event is
    /// checked, as packetdrill checks it.
    EpollWait {
        epfd: i64,
        expected: EpollEvent,
        max: i32,
        timeout_ms: i32,
    },
}

/// One `struct pollfd` of a `poll()`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PollEntry {
    pub fd: i64,
    pub events: i16,
    pub revents: i16,
}

/// An `epoll_event` as written: its events and its data (`fd=N`, `ptr=N`, `u32=N`,
/// `u64=N`: kept as a number either way).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct EpollEvent {
    pub events: u32,
    pub data: u64,
}

/// What a `recvmsg()` must find besides its count.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RecvMsg {
    pub msg_flags: i32,
    /// `None`: `msg_control` not written, not checked.
    pub control: Option<Vec<Cmsg>>,
}

/// One expected control message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Cmsg {
    pub level: i32,
    pub kind: i32,
    pub data: CmsgData,
}

/// A control message's payload as packetdrill writes it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CmsgData {
    Int(i32),
    /// `struct sock_extended_err`.
    ExtendedErr {
        errno: u32,
        origin: u8,
        kind: u8,
        code: u8,
        info: u32,
        data: u32,
    },
    /// `struct scm_timestamping` as packetdrill writes it, `{scm_sec=S,scm_nsec=N}`: its
    /// first timestamp in script time (microseconds); 0 is not checked.
    Timestamping {
        usecs: i64,
    },
}

/// Linux's values for the constants of this module's calls (libc's where it has them).
pub fn symbol(name: &str) -> Option<i64> {
    Some(match name {
        "MSG_EOR" => libc::MSG_EOR as i64,
        "MSG_OOB" => libc::MSG_OOB as i64,
        "SO_OOBINLINE" => libc::SO_OOBINLINE as i64,
        "MSG_MORE" => libc::MSG_MORE as i64,
        "MSG_ZEROCOPY" => libc::MSG_ZEROCOPY as i64,
        "MSG_FASTOPEN" => libc::MSG_FASTOPEN as i64,
        "MSG_DONTWAIT" => libc::MSG_DONTWAIT as i64,
        "MSG_NOSIGNAL" => libc::MSG_NOSIGNAL as i64,
        "MSG_ERRQUEUE" => libc::MSG_ERRQUEUE as i64,
        "MSG_TRUNC" => libc::MSG_TRUNC as i64,
        "MSG_PEEK" => libc::MSG_PEEK as i64,
        "MSG_WAITALL" => libc::MSG_WAITALL as i64,
        "MSG_CTRUNC" => libc::MSG_CTRUNC as i64,
        "SOL_IP" => libc::SOL_IP as i64,
        "SOL_IPV6" => libc::SOL_IPV6 as i64,
        "IPPROTO_IPV6" => libc::IPPROTO_IPV6 as i64,
        "IP_TOS" => libc::IP_TOS as i64,
        "IP_TTL" => libc::IP_TTL as i64,
        "IP_MTU_DISCOVER" => libc::IP_MTU_DISCOVER as i64,
        "IP_FREEBIND" => libc::IP_FREEBIND as i64,
        "IP_RECVERR" => libc::IP_RECVERR as i64,
        "IPV6_RECVERR" => libc::IPV6_RECVERR as i64,
        "IP_PMTUDISC_DONT" => libc::IP_PMTUDISC_DONT as i64,
        "IP_PMTUDISC_WANT" => libc::IP_PMTUDISC_WANT as i64,
        "IP_PMTUDISC_DO" => libc::IP_PMTUDISC_DO as i64,
        "IP_PMTUDISC_PROBE" => libc::IP_PMTUDISC_PROBE as i64,
        "SO_ZEROCOPY" => libc::SO_ZEROCOPY as i64,
        "SO_TIMESTAMPING" => libc::SO_TIMESTAMPING as i64,
        "SO_MARK" => libc::SO_MARK as i64,
        "SO_RCVLOWAT" => libc::SO_RCVLOWAT as i64,
        "TCP_CORK" => libc::TCP_CORK as i64,
        "TCP_SYNCNT" => libc::TCP_SYNCNT as i64,
        "TCP_INQ" => libc::TCP_INQ as i64,
        "TCP_CM_INQ" => libc::TCP_CM_INQ as i64,
        "TCP_NOTSENT_LOWAT" => libc::TCP_NOTSENT_LOWAT as i64,
        "TCP_FASTOPEN" => libc::TCP_FASTOPEN as i64,
        "TCP_FASTOPEN_CONNECT" => libc::TCP_FASTOPEN_CONNECT as i64,
        "TCP_FASTOPEN_NO_COOKIE" => libc::TCP_FASTOPEN_NO_COOKIE as i64,
        "TCP_FASTOPEN_KEY" => libc::TCP_FASTOPEN_KEY as i64,
        "TCP_DEFER_ACCEPT" => libc::TCP_DEFER_ACCEPT as i64,
        "TCP_WINDOW_CLAMP" => libc::TCP_WINDOW_CLAMP as i64,
        "TCP_LINGER2" => libc::TCP_LINGER2 as i64,
        "TCP_THIN_LINEAR_TIMEOUTS" => libc::TCP_THIN_LINEAR_TIMEOUTS as i64,
        "SO_EE_ORIGIN_NONE" => libc::SO_EE_ORIGIN_NONE as i64,
        "SO_EE_ORIGIN_LOCAL" => libc::SO_EE_ORIGIN_LOCAL as i64,
        "SO_EE_ORIGIN_ICMP" => libc::SO_EE_ORIGIN_ICMP as i64,
        "SO_EE_ORIGIN_ICMP6" => libc::SO_EE_ORIGIN_ICMP6 as i64,
        "SO_EE_ORIGIN_TIMESTAMPING" => libc::SO_EE_ORIGIN_TXSTATUS as i64,
        // include/uapi/linux/errqueue.h
        "SO_EE_ORIGIN_ZEROCOPY" => 5,
        "SCM_TIMESTAMPING" => libc::SCM_TIMESTAMPING as i64,
        "SOF_TIMESTAMPING_TX_HARDWARE" => libc::SOF_TIMESTAMPING_TX_HARDWARE as i64,
        "SOF_TIMESTAMPING_TX_SOFTWARE" => libc::SOF_TIMESTAMPING_TX_SOFTWARE as i64,
        "SOF_TIMESTAMPING_RX_HARDWARE" => libc::SOF_TIMESTAMPING_RX_HARDWARE as i64,
        "SOF_TIMESTAMPING_RX_SOFTWARE" => libc::SOF_TIMESTAMPING_RX_SOFTWARE as i64,
        "SOF_TIMESTAMPING_SOFTWARE" => libc::SOF_TIMESTAMPING_SOFTWARE as i64,
        "SOF_TIMESTAMPING_RAW_HARDWARE" => libc::SOF_TIMESTAMPING_RAW_HARDWARE as i64,
        "SOF_TIMESTAMPING_OPT_ID" => libc::SOF_TIMESTAMPING_OPT_ID as i64,
        "SOF_TIMESTAMPING_TX_SCHED" => libc::SOF_TIMESTAMPING_TX_SCHED as i64,
        "SOF_TIMESTAMPING_TX_ACK" => libc::SOF_TIMESTAMPING_TX_ACK as i64,
        "SOF_TIMESTAMPING_OPT_CMSG" => libc::SOF_TIMESTAMPING_OPT_CMSG as i64,
        "SOF_TIMESTAMPING_OPT_TSONLY" => libc::SOF_TIMESTAMPING_OPT_TSONLY as i64,
        // include/uapi/linux/errqueue.h
        "SCM_TSTAMP_SND" => 0,
        "SCM_TSTAMP_SCHED" => 1,
        "SCM_TSTAMP_ACK" => 2,
        "SO_EE_CODE_ZEROCOPY_COPIED" => 1,
        "SIOCINQ" => libc::FIONREAD as i64,
        "FIONREAD" => libc::FIONREAD as i64,
        "SIOCOUTQ" => libc::TIOCOUTQ as i64,
        // include/uapi/linux/sockios.h
        "SIOCOUTQNSD" => 0x894B,
        "POLLIN" => libc::POLLIN as i64,
        "POLLPRI" => libc::POLLPRI as i64,
        "POLLOUT" => libc::POLLOUT as i64,
        "POLLERR" => libc::POLLERR as i64,
        "POLLHUP" => libc::POLLHUP as i64,
        "POLLNVAL" => libc::POLLNVAL as i64,
        "POLLRDNORM" => libc::POLLRDNORM as i64,
        "POLLRDBAND" => libc::POLLRDBAND as i64,
        "POLLWRNORM" => libc::POLLWRNORM as i64,
        "POLLWRBAND" => libc::POLLWRBAND as i64,
        "POLLRDHUP" => libc::POLLRDHUP as i64,
        "EPOLLIN" => libc::EPOLLIN as i64,
        "EPOLLPRI" => libc::EPOLLPRI as i64,
        "EPOLLOUT" => libc::EPOLLOUT as i64,
        "EPOLLERR" => libc::EPOLLERR as i64,
        "EPOLLHUP" => libc::EPOLLHUP as i64,
        "EPOLLRDNORM" => libc::EPOLLRDNORM as i64,
        "EPOLLRDBAND" => libc::EPOLLRDBAND as i64,
        "EPOLLWRNORM" => libc::EPOLLWRNORM as i64,
        "EPOLLWRBAND" => libc::EPOLLWRBAND as i64,
        "EPOLLRDHUP" => libc::EPOLLRDHUP as i64,
        "EPOLLEXCLUSIVE" => libc::EPOLLEXCLUSIVE as i64,
        "EPOLLONESHOT" => libc::EPOLLONESHOT as i64,
        // EPOLLET is bit 31: as an unsigned 32-bit event mask.
        "EPOLLET" => i64::from(libc::EPOLLET as u32),
        "EPOLL_CTL_ADD" => libc::EPOLL_CTL_ADD as i64,
        "EPOLL_CTL_DEL" => libc::EPOLL_CTL_DEL as i64,
        "EPOLL_CTL_MOD" => libc::EPOLL_CTL_MOD as i64,
        _ => return None,
    })
}

/// The flags a data call may take; others are refused so that no flag is passed on that
/// this runner does not know the meaning of.
const SEND_FLAGS: i32 = libc::MSG_OOB
    | libc::MSG_EOR
    | libc::MSG_MORE
    | libc::MSG_ZEROCOPY
    | libc::MSG_FASTOPEN
    | libc::MSG_DONTWAIT
    | libc::MSG_NOSIGNAL;
const RECV_FLAGS: i32 =
    libc::MSG_DONTWAIT | libc::MSG_ERRQUEUE | libc::MSG_TRUNC | libc::MSG_PEEK | libc::MSG_OOB;

pub(in crate::runner::syscall) fn fd(e: &Expr) -> Result<i64, Bad<'_>> {
    on(e, int(e))
}

fn flags<'c>(e: &'c Expr, allowed: i32, call: &str) -> Result<i32, Bad<'c>> {
    let f = on(e, int32(e, "flags"))?;
    if f & !allowed != 0 {
        return Err(blame(
            e,
            format!("{call} flags {:#x} are not supported yet", f & !allowed),
        ));
    }
    Ok(f)
}

/// A buffer argument: `...` or `NULL`.
fn buffer(e: &Expr) -> Result<bool, Bad<'_>> {
    match e {
        Expr::Ellipsis => Ok(false),
        Expr::Word(w) if w == "NULL" => Ok(true),
        _ => Err(blame(
            e,
            format!("only `...` or `NULL` is supported for the buffer (found `{e}`)"),
        )),
    }
}

fn length<'c>(e: &'c Expr, call: &str) -> Result<usize, Bad<'c>> {
    let v = on(e, int(e))?;
    Ok(on(e, ranged(v, 0, MAX_IO_BYTES, &format!("{call} length")))? as usize)
}

/// `send(fd, buf, len, flags)` with flags, or a `NULL` buffer (also `write(fd, NULL,
/// len)`).
pub fn send(sc: &Syscall) -> Result<Decoded, Bad<'_>> {
    let a = &sc.args;
    let write = sc.name == "write";
    arity(sc, &[if write { 3 } else { 4 }])?;
    Ok(Decoded::Linux(LinuxCall::Send {
        fd: fd(&a[0])?,
        null: buffer(&a[1])?,
        iov: vec![length(&a[2], &sc.name)?],
        flags: if write {
            0
        } else {
            flags(&a[3], SEND_FLAGS, &sc.name)?
        },
        family: None,
    }))
}

/// `sendto(fd, buf, len, flags, addr, addrlen)`: the address is the peer's, as for
/// `connect()` (packetdrill's `run_syscall_connect`); an address family may stand for it.
pub fn sendto(sc: &Syscall) -> Result<Decoded, Bad<'_>> {
    let a = &sc.args;
    arity(sc, &[6])?;
    let family = if is_ellipsis(&a[4]) {
        None
    } else {
        Some(on(&a[4], int32(&a[4], "address family"))?)
    };
    on(&a[5], ellipsis(&a[5], "address length"))?;
    Ok(Decoded::Linux(LinuxCall::Send {
        fd: fd(&a[0])?,
        null: buffer(&a[1])?,
        iov: vec![length(&a[2], "sendto")?],
        flags: flags(&a[3], SEND_FLAGS, "sendto")?,
        family,
    }))
}

/// `recv(fd, buf, len, flags)` and `recvfrom(fd, buf, len, flags, addr, addrlen)` with
/// flags or a `NULL` buffer (also `read(fd, NULL, len)`).
pub fn recv(sc: &Syscall) -> Result<Decoded, Bad<'_>> {
    let a = &sc.args;
    let from = sc.name == "recvfrom";
    if sc.name == "read" {
        arity(sc, &[3])?;
        return Ok(Decoded::Linux(LinuxCall::Recv {
            fd: fd(&a[0])?,
            null: buffer(&a[1])?,
            len: length(&a[2], "read")?,
            flags: 0,
            msg: None,
        }));
    }
    arity(sc, &[if from { 6 } else { 4 }])?;
    if from {
        on(&a[4], ellipsis(&a[4], "address"))?;
        on(&a[5], ellipsis(&a[5], "address length"))?;
    }
    Ok(Decoded::Linux(LinuxCall::Recv {
        fd: fd(&a[0])?,
        null: buffer(&a[1])?,
        len: length(&a[2], &sc.name)?,
        flags: flags(&a[3], RECV_FLAGS, &sc.name)?,
        msg: None,
    }))
}

/// The fields of a `{field=value, ...}` struct, by name; `what` names the struct.
pub(in crate::runner::syscall) fn fields<'c>(
    e: &'c Expr,
    what: &str,
) -> Result<Vec<(&'c str, &'c Expr, &'c Expr)>, Bad<'c>> {
    let Expr::Struct(items) = e else {
        return Err(blame(
            e,
            format!("expected a {what} `{{...}}`, found `{e}`"),
        ));
    };
    items
        .iter()
        .map(|f| match f {
            Expr::Assign(k, v) => match k.as_ref() {
                Expr::Word(name) => Ok((name.as_str(), f, v.as_ref())),
                Expr::Call(name, _) => Ok((name.as_str(), f, v.as_ref())),
                _ => Err(blame(f, format!("bad {what} field `{f}`"))),
            },
            _ => Err(blame(f, format!("bad {what} field `{f}`"))),
        })
        .collect()
}

/// A `msghdr`: its iovec lengths, `msg_flags`, and `msg_control` if written.
struct MsgHdr<'c> {
    iov: Vec<usize>,
    flags: i32,
    control: Option<&'c Expr>,
}

fn msghdr<'c>(e: &'c Expr, call: &str) -> Result<MsgHdr<'c>, Bad<'c>> {
    let mut out = MsgHdr {
        iov: Vec::new(),
        flags: 0,
        control: None,
    };
    for (name, f, v) in fields(e, "msghdr")? {
        match name {
            "msg_name" => on(v, ellipsis(v, "msg_name"))?,
            "msg_iov" => {
                let Expr::List(items) = v else {
                    return Err(blame(
                        v,
                        format!("msg_iov takes `[{{..., LEN}}, ...]`, not `{v}`"),
                    ));
                };
                if let Expr::Assign(k, _) = f {
                    if let Expr::Call(_, n) = k.as_ref() {
                        let count = n.first().map(int).transpose();
                        if count != Ok(Some(items.len() as i64)) {
                            return Err(blame(
                                f,
                                format!(
                                    "msg_iov({}) lists {} iovecs",
                                    n.first().map_or(String::new(), |n| n.to_string()),
                                    items.len()
                                ),
                            ));
                        }
                    }
                }
                for item in items {
                    let Expr::Struct(parts) = item else {
                        return Err(blame(
                            item,
                            format!("an iovec is `{{..., LEN}}`, not `{item}`"),
                        ));
                    };
                    let [base, len] = parts.as_slice() else {
                        return Err(blame(
                            item,
                            format!("an iovec is `{{..., LEN}}`, not `{item}`"),
                        ));
                    };
                    let (base, len) = match (base, len) {
                        (Expr::Assign(_, b), Expr::Assign(_, l)) => (b.as_ref(), l.as_ref()),
                        _ => (base, len),
                    };
                    on(base, ellipsis(base, "iov_base"))?;
                    out.iov.push(length(len, call)?);
                }
                let total: usize = out.iov.iter().sum();
                if total as i64 > MAX_IO_BYTES {
                    return Err(blame(
                        v,
                        format!("{call} length {total} is out of range (0 to {MAX_IO_BYTES})"),
                    ));
                }
            }
            "msg_flags" => out.flags = on(v, int32(v, "msg_flags"))?,
            "msg_control" => out.control = Some(v),
            _ => {
                return Err(blame(
                    f,
                    format!("msghdr field `{name}` is not supported yet"),
                ))
            }
        }
    }
    Ok(out)
}

/// `sendmsg(fd, {msg_name(...)=..., msg_iov(N)=[...], msg_flags=0}, flags)`.
pub fn sendmsg(sc: &Syscall) -> Result<Decoded, Bad<'_>> {
    let a = &sc.args;
    arity(sc, &[3])?;
    let m = msghdr(&a[1], "sendmsg")?;
    if m.flags != 0 {
        // packetdrill refuses it too.
        return Err(blame(&a[1], "sendmsg ignores msg_flags field in msghdr"));
    }
    if let Some(c) = m.control {
        return Err(blame(c, "msg_control on sendmsg is not supported yet"));
    }
    Ok(Decoded::Linux(LinuxCall::Send {
        fd: fd(&a[0])?,
        iov: m.iov,
        flags: flags(&a[2], SEND_FLAGS, "sendmsg")?,
        null: false,
        family: None,
    }))
}

/// `recvmsg(fd, {msg_name(...)=..., msg_iov(N)=[...], msg_flags=F, msg_control=[...]},
/// flags)`.
pub fn recvmsg(sc: &Syscall) -> Result<Decoded, Bad<'_>> {
    let a = &sc.args;
    arity(sc, &[3])?;
    let m = msghdr(&a[1], "recvmsg")?;
    let control = match m.control {
        None => None,
        Some(Expr::List(items)) => Some(items.iter().map(cmsg).collect::<Result<_, _>>()?),
        Some(other) => {
            return Err(blame(other, format!("msg_control takes `[{{cmsg_level=..., cmsg_type=..., cmsg_data=...}}]`, not `{other}`")))
        }
    };
    Ok(Decoded::Linux(LinuxCall::Recv {
        fd: fd(&a[0])?,
        len: m.iov.iter().sum(),
        flags: flags(&a[2], RECV_FLAGS, "recvmsg")?,
        null: false,
        msg: Some(RecvMsg {
            msg_flags: m.flags,
            control,
        }),
    }))
}

fn cmsg(e: &Expr) -> Result<Cmsg, Bad<'_>> {
    let (mut level, mut kind, mut data) = (None, None, None);
    for (name, f, v) in fields(e, "cmsghdr")? {
        match name {
            "cmsg_level" => level = Some(on(v, int32(v, "cmsg_level"))?),
            "cmsg_type" => kind = Some(on(v, int32(v, "cmsg_type"))?),
            "cmsg_data" => {
                data = Some(match v {
                    Expr::Struct(_) if timestamping::is_scm_timestamping(v) => {
                        timestamping::scm_timestamping(v)?
                    }
                    Expr::Struct(_) => extended_err(v)?,
                    _ => CmsgData::Int(on(v, int32(v, "cmsg_data"))?),
                })
            }
            _ => {
                return Err(blame(
                    f,
                    format!("cmsghdr field `{name}` is not supported yet"),
                ))
            }
        }
    }
    match (level, kind, data) {
        (Some(level), Some(kind), Some(data)) => Ok(Cmsg { level, kind, data }),
        _ => Err(blame(
            e,
            "a control message needs cmsg_level, cmsg_type and cmsg_data",
        )),
    }
}

fn extended_err(e: &Expr) -> Result<CmsgData, Bad<'_>> {
    let mut v = [0i64; 6];
    for (name, f, val) in fields(e, "sock_extended_err")? {
        let i = match name {
            "ee_errno" => 0,
            "ee_origin" => 1,
            "ee_type" => 2,
            "ee_code" => 3,
            "ee_info" => 4,
            "ee_data" => 5,
            _ => {
                return Err(blame(
                    f,
                    format!("sock_extended_err field `{name}` is not supported yet"),
                ))
            }
        };
        let max = if (1..=3).contains(&i) {
            255
        } else {
            i64::from(u32::MAX)
        };
        v[i] = on(val, int(val).and_then(|x| ranged(x, 0, max, name)))?;
    }
    Ok(CmsgData::ExtendedErr {
        errno: v[0] as u32,
        origin: v[1] as u8,
        kind: v[2] as u8,
        code: v[3] as u8,
        info: v[4] as u32,
        data: v[5] as u32,
    })
}

/// `setsockopt(fd, level, name, [N] or N, len)` of an option the seam does not name.
pub fn setsockopt_int<'c>(
    sc: &'c Syscall,
    fd: i64,
    level: i32,
    name: i32,
) -> Result<Decoded, Bad<'c>> {
    let value = &sc.args[3];
    let v = match value {
        Expr::List(_) => on(value, bracketed(value))?,
        _ => on(value, int(value))?,
    };
    Ok(Decoded::Linux(LinuxCall::SetInt {
        fd,
        level,
        name,
        value: on(value, super::as_int32(v, &format!("{} value", sc.args[2])))?,
        what: sc.args[2].to_string(),
    }))
}

/// `ioctl(fd, request, [expected])`.
pub fn ioctl(sc: &Syscall) -> Result<Decoded, Bad<'_>> {
    let a = &sc.args;
    arity(sc, &[3])?;
    let request = on(&a[1], int32(&a[1], "ioctl request"))?;
    let known = [libc::FIONREAD as i64, libc::TIOCOUTQ as i64, 0x894B];
    if !known.contains(&i64::from(request)) {
        return Err(blame(
            &a[1],
            "ioctl: only SIOCINQ, SIOCOUTQ and SIOCOUTQNSD are supported yet",
        ));
    }
    Ok(Decoded::Linux(LinuxCall::Ioctl {
        fd: fd(&a[0])?,
        request,
        expected: on(&a[2], bracketed(&a[2]))?,
    }))
}

/// `pipe([r, w])`.
pub fn pipe(sc: &Syscall) -> Result<Decoded, Bad<'_>> {
    arity(sc, &[1])?;
    let a = &sc.args[0];
    match a {
        Expr::List(ends) if ends.len() == 2 => Ok(Decoded::Linux(LinuxCall::Pipe {
            ends: [fd(&ends[0])?, fd(&ends[1])?],
        })),
        _ => Err(blame(
            a,
            format!("pipe takes `[READ_FD, WRITE_FD]`, not `{a}`"),
        )),
    }
}

/// `open("path", flags)`.
pub fn open(sc: &Syscall) -> Result<Decoded, Bad<'_>> {
    arity(sc, &[2])?;
    let a = &sc.args;
    let Expr::Str(path) = &a[0] else {
        return Err(blame(
            &a[0],
            format!("open takes a path `\"...\"`, not `{}`", a[0]),
        ));
    };
    if path.contains('\\') {
        return Err(blame(
            &a[0],
            "escapes in open()'s path are not supported yet",
        ));
    }
    Ok(Decoded::Linux(LinuxCall::Open {
        path: path.clone(),
        flags: on(&a[1], int32(&a[1], "open flags"))?,
    }))
}

/// `splice(in, NULL, out, NULL, len, flags)`.
pub fn splice(sc: &Syscall) -> Result<Decoded, Bad<'_>> {
    arity(sc, &[6])?;
    let a = &sc.args;
    for off in [&a[1], &a[3]] {
        if !matches!(off, Expr::Word(w) if w == "NULL") {
            return Err(blame(off, "only NULL offsets are supported for splice"));
        }
    }
    let f = on(&a[5], int(&a[5]))?;
    Ok(Decoded::Linux(LinuxCall::Splice {
        fd_in: fd(&a[0])?,
        fd_out: fd(&a[2])?,
        len: length(&a[4], "splice")?,
        flags: on(&a[5], ranged(f, 0, i64::from(u32::MAX), "splice flags"))? as u32,
    }))
}

/// `sendfile(out, in, [offset], count)`.
pub fn sendfile(sc: &Syscall) -> Result<Decoded, Bad<'_>> {
    arity(sc, &[4])?;
    let a = &sc.args;
    let offset = on(&a[2], bracketed(&a[2]))?;
    Ok(Decoded::Linux(LinuxCall::SendFile {
        out: fd(&a[0])?,
        file: fd(&a[1])?,
        offset: on(&a[2], ranged(offset, 0, i64::MAX, "offset"))?,
        count: length(&a[3], "sendfile")?,
    }))
}
