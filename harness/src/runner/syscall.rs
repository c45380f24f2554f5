//! The constants and errno names scripts use, and reading syscall arguments the way
//! packetdrill's run_system_call.c does (`s32_arg`, `ellipsis_arg`, `get_s32`).
//!
//! [`decode`] reads a call completely, without a stack: `tcpcheck check` and the runner's
//! validation before a sandbox exists call it, and the runner executes what it returned, so
//! a script that `check` accepts cannot fail on an argument at run time, and the message is
//! the same in both.

use std::net::Shutdown;
use std::time::Duration;

use nix::errno::Errno;

use crate::scenario::{Expr, Syscall};
use crate::stack::{GetOpt, SockOpt};

mod bytes;
mod linux;
mod readiness;
mod sockaddr;
mod timestamping;
pub use linux::{CmsgData, EpollEvent, LinuxCall, RecvMsg};

/// The largest length a script's `read()` or `write()` may ask for: 16 MiB. The runner
/// allocates the whole buffer (packetdrill does too), and a blocking write of it must fit
/// through the send buffer within the script's time; Linux's largest default send buffer
/// (`tcp_wmem`'s maximum) is 4 MiB.
pub const MAX_IO_BYTES: i64 = 16 << 20;

/// A system call with every argument read and range-checked: all the runner can know of it
/// before a sandbox exists. Descriptors are the script's numbers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Decoded {
    /// `v6`: `None` for `...`, the run's own family.
    Socket {
        v6: Option<bool>,
        nonblocking: bool,
    },
    Bind {
        fd: i64,
        /// packetdrill's socket address spelling; `None` for `...`, the stack's address.
        to: Option<std::net::SocketAddr>,
    },
    Listen {
        fd: i64,
        backlog: i32,
    },
    Accept {
        fd: i64,
    },
    Connect {
        fd: i64,
        /// packetdrill's `{sa_family=..., sin_port=..., sin_addr=...}`; `None` for `...`,
        /// the peer.
        to: Option<std::net::SocketAddr>,
    },
    Read {
        fd: i64,
        len: usize,
    },
    Write {
        fd: i64,
        len: usize,
    },
    Shutdown {
        fd: i64,
        how: Shutdown,
    },
    Close {
        fd: i64,
    },
    SetSockOpt {
        fd: i64,
        opt: SockOpt,
    },
    /// `getsockopt(SO_ERROR)` and the value the script expects in its `[N]`.
    GetError {
        fd: i64,
        expected: i64,
    },
    /// `getsockopt()` of an integer option and the value the script expects in its `[N]`.
    GetSockOpt {
        fd: i64,
        opt: GetOpt,
        expected: i64,
    },
    GetFlags {
        fd: i64,
    },
    SetFlags {
        fd: i64,
        nonblocking: bool,
    },
    /// A call made on the kernel descriptor (`syscall/linux.rs`).
    Linux(LinuxCall),
}

/// What the script says the call returns.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Expected {
    pub result: i64,
    pub errno: Option<Errno>,
}

/// What is wrong with a call, and the part of it to point at when one is to blame.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Bad<'c> {
    pub message: String,
    pub at: Option<Blamed<'c>>,
}

/// The part of a call an error is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Blamed<'c> {
    /// The call's name.
    Name,
    /// This expression of the call's arguments or result (the call's own, by identity:
    /// [`crate::scenario::CallSpans::of`] finds where it was written).
    Expr(&'c Expr),
    Errno,
}

impl From<String> for Bad<'_> {
    fn from(message: String) -> Self {
        Bad { message, at: None }
    }
}

/// Blames `e` for an error about it.
fn on<T>(e: &Expr, r: Result<T, String>) -> Result<T, Bad<'_>> {
    r.map_err(|message| blame(e, message))
}

fn blame(e: &Expr, message: impl Into<String>) -> Bad<'_> {
    Bad {
        message: message.into(),
        at: Some(Blamed::Expr(e)),
    }
}

/// Reads a supported call's arguments and expected result, or says what is wrong with them.
pub fn decode(sc: &Syscall) -> Result<(Decoded, Expected), Bad<'_>> {
    let call = decode_call(sc)?;
    let result = on(&sc.result, int(&sc.result))?;
    let errno = match &sc.errno {
        Some(e) => Some(errno_named(&e.name).ok_or_else(|| Bad {
            message: format!("unknown errno {}", e.name),
            at: Some(Blamed::Errno),
        })?),
        None => None,
    };
    Ok((call, Expected { result, errno }))
}

fn arity(sc: &Syscall, n: &[usize]) -> Result<(), String> {
    if n.contains(&sc.args.len()) {
        Ok(())
    } else {
        Err(format!(
            "{} expects {:?} arguments, not {}",
            sc.name,
            n,
            sc.args.len()
        ))
    }
}

fn ellipsis(e: &Expr, what: &str) -> Result<(), String> {
    if is_ellipsis(e) {
        Ok(())
    } else {
        Err(format!(
            "only `...` is supported for the {what} (found `{e}`)"
        ))
    }
}

/// An argument the kernel takes as a C `int`.
fn int32(e: &Expr, what: &str) -> Result<i32, String> {
    as_int32(int(e)?, what)
}

fn as_int32(v: i64, what: &str) -> Result<i32, String> {
    i32::try_from(v).map_err(|_| {
        format!(
            "{what} {v} is out of range for an int ({} to {})",
            i32::MIN,
            i32::MAX
        )
    })
}

/// A value that must lie in `lo..=hi` for the harness to pass it on unchanged.
fn ranged(v: i64, lo: i64, hi: i64, what: &str) -> Result<i64, String> {
    if (lo..=hi).contains(&v) {
        Ok(v)
    } else {
        Err(format!("{what} {v} is out of range ({lo} to {hi})"))
    }
}

fn io_len(e: &Expr, call: &str) -> Result<usize, String> {
    let v = int(e)?;
    let v = ranged(v, 0, MAX_IO_BYTES, &format!("{call} length"))?;
    Ok(v as usize)
}

/// The decoder of the call named `sc.name`: one function per call.
fn decode_call(sc: &Syscall) -> Result<Decoded, Bad<'_>> {
    let decode: fn(&Syscall) -> Result<Decoded, Bad<'_>> = match sc.name.as_str() {
        "socket" => socket,
        "bind" => bind,
        "connect" => connect,
        "accept" => |sc| Ok(Decoded::Accept { fd: addressed(sc)? }),
        "listen" => listen,
        "read" if null_buffer(sc) => linux::recv,
        "write" if null_buffer(sc) => linux::send,
        "read" => |sc| {
            let (fd, len) = io(sc)?;
            Ok(Decoded::Read { fd, len })
        },
        "write" => |sc| {
            let (fd, len) = io(sc)?;
            Ok(Decoded::Write { fd, len })
        },
        // Without flags they are read() and write(), which the model follows.
        "recv" | "send" | "sendto" | "recvfrom" if plain_io(sc) => |sc| {
            let (fd, len) = io(sc)?;
            Ok(match sc.name.as_str() {
                "recv" | "recvfrom" => Decoded::Read { fd, len },
                _ => Decoded::Write { fd, len },
            })
        },
        "send" => linux::send,
        "sendto" => linux::sendto,
        "recv" | "recvfrom" => linux::recv,
        "sendmsg" => linux::sendmsg,
        "recvmsg" => linux::recvmsg,
        "ioctl" => linux::ioctl,
        "poll" => readiness::poll,
        "epoll_create" => readiness::epoll_create,
        "pipe" => linux::pipe,
        "open" => linux::open,
        "splice" => linux::splice,
        "sendfile" => linux::sendfile,
        "epoll_ctl" => readiness::epoll_ctl,
        "epoll_wait" => readiness::epoll_wait,
        "shutdown" => shutdown,
        "close" => close,
        "setsockopt" => setsockopt,
        "getsockopt" => getsockopt,
        "fcntl" => fcntl,
        other => {
            return Err(Bad {
                message: format!("system call `{other}` is not supported yet"),
                at: Some(Blamed::Name),
            })
        }
    };
    decode(sc)
}

/// `socket(family, type, protocol)`.
fn socket(sc: &Syscall) -> Result<Decoded, Bad<'_>> {
    let a = &sc.args;
    arity(sc, &[3])?;
    let v6 = if is_ellipsis(&a[0]) {
        None
    } else {
        match on(&a[0], int(&a[0]))? {
            x if x == libc::AF_INET as i64 => Some(false),
            x if x == libc::AF_INET6 as i64 => Some(true),
            x => {
                return Err(blame(
                    &a[0],
                    format!("address family {x} is not supported yet"),
                ))
            }
        }
    };
    let ty = on(&a[1], int(&a[1]))?;
    if ty & !(libc::SOCK_NONBLOCK | libc::SOCK_CLOEXEC) as i64 != libc::SOCK_STREAM as i64 {
        return Err(blame(&a[1], "only SOCK_STREAM sockets are supported yet"));
    }
    if !is_ellipsis(&a[2]) {
        let proto = on(&a[2], int(&a[2]))?;
        if proto != 0 && proto != libc::IPPROTO_TCP as i64 {
            return Err(blame(
                &a[2],
                format!("protocol {proto} is not supported yet (only IPPROTO_TCP)"),
            ));
        }
    }
    Ok(Decoded::Socket {
        v6,
        nonblocking: ty & libc::SOCK_NONBLOCK as i64 != 0,
    })
}

/// `bind`, `connect`, `accept`: `(fd, ..., ...)`, the address always the runner's.
fn addressed(sc: &Syscall) -> Result<i64, Bad<'_>> {
    let a = &sc.args;
    arity(sc, &[3])?;
    let fd = on(&a[0], int(&a[0]))?;
    on(&a[1], ellipsis(&a[1], "address"))?;
    on(&a[2], ellipsis(&a[2], "address length"))?;
    Ok(fd)
}

/// `bind(fd, ..., ...)`, or with packetdrill's spelling of a socket address (a wildcard
/// address, say) on the script's port.
fn bind(sc: &Syscall) -> Result<Decoded, Bad<'_>> {
    let Decoded::Connect { fd, to } = connect(sc)? else {
        unreachable!("connect() decodes to Connect")
    };
    if let Some(a) = to.filter(|a| a.port() != super::packet::SCRIPT_PORT) {
        return Err(blame(
            &sc.args[1],
            format!(
                "bind() takes the script's port, {} (found {})",
                super::packet::SCRIPT_PORT,
                a.port()
            ),
        ));
    }
    Ok(Decoded::Bind { fd, to })
}

/// `connect(fd, ..., ...)`, or with packetdrill's spelling of a socket address and its
/// length (see `syscall/sockaddr.rs`).
fn connect(sc: &Syscall) -> Result<Decoded, Bad<'_>> {
    let a = &sc.args;
    arity(sc, &[3])?;
    if is_ellipsis(&a[1]) {
        return Ok(Decoded::Connect {
            fd: addressed(sc)?,
            to: None,
        });
    }
    let to = on(&a[1], sockaddr::sockaddr(&a[1]))?;
    if !is_ellipsis(&a[2]) {
        on(&a[2], int(&a[2]))?;
    }
    Ok(Decoded::Connect {
        fd: on(&a[0], int(&a[0]))?,
        to: Some(to),
    })
}

/// `listen(fd, backlog)`.
fn listen(sc: &Syscall) -> Result<Decoded, Bad<'_>> {
    let a = &sc.args;
    arity(sc, &[2])?;
    Ok(Decoded::Listen {
        fd: on(&a[0], int(&a[0]))?,
        backlog: on(&a[1], int32(&a[1], "backlog"))?,
    })
}

/// A `NULL` buffer: the call is made as written on the kernel descriptor, which answers
/// `EFAULT`.
fn null_buffer(sc: &Syscall) -> bool {
    matches!(sc.args.get(1), Some(Expr::Word(w)) if w == "NULL")
}

/// Whether a `send`, `sendto`, `recv` or `recvfrom` is a plain `write()` or `read()`: a
/// `...` buffer, flags 0, and (`sendto`, `recvfrom`) any address. Anything else is made on
/// the kernel descriptor (`syscall/linux.rs`).
fn plain_io(sc: &Syscall) -> bool {
    let a = &sc.args;
    let n = match sc.name.as_str() {
        "send" | "recv" => 4,
        _ => 6,
    };
    a.len() == n && is_ellipsis(&a[1]) && int(&a[3]) == Ok(0)
}

/// `read`/`write(fd, ..., len)`, `recv`/`send(fd, ..., len, 0)` and
/// `recvfrom`/`sendto(fd, ..., len, 0, addr, addrlen)`: the descriptor and length.
fn io(sc: &Syscall) -> Result<(i64, usize), Bad<'_>> {
    let a = &sc.args;
    let n = match sc.name.as_str() {
        "read" | "write" => 3,
        "recv" | "send" => 4,
        _ => 6,
    };
    arity(sc, &[n])?;
    let fd = on(&a[0], int(&a[0]))?;
    on(&a[1], ellipsis(&a[1], "buffer"))?;
    let len = on(&a[2], io_len(&a[2], &sc.name))?;
    if n > 3 && on(&a[3], int(&a[3]))? != 0 {
        return Err(blame(
            &a[3],
            format!("{} flags other than 0 are not supported yet", sc.name),
        ));
    }
    if n == 6 {
        if !is_ellipsis(&a[4]) {
            on(&a[4], int32(&a[4], "address family"))?;
        }
        on(&a[5], ellipsis(&a[5], "address length"))?;
    }
    Ok((fd, len))
}

/// `shutdown(fd, how)`.
fn shutdown(sc: &Syscall) -> Result<Decoded, Bad<'_>> {
    let a = &sc.args;
    arity(sc, &[2])?;
    let fd = on(&a[0], int(&a[0]))?;
    let how = match on(&a[1], int(&a[1]))? {
        x if x == libc::SHUT_RD as i64 => Shutdown::Read,
        x if x == libc::SHUT_WR as i64 => Shutdown::Write,
        x if x == libc::SHUT_RDWR as i64 => Shutdown::Both,
        x => return Err(blame(&a[1], format!("bad shutdown mode {x}"))),
    };
    Ok(Decoded::Shutdown { fd, how })
}

/// `close(fd)`.
fn close(sc: &Syscall) -> Result<Decoded, Bad<'_>> {
    let a = &sc.args;
    arity(sc, &[1])?;
    Ok(Decoded::Close {
        fd: on(&a[0], int(&a[0]))?,
    })
}

/// `setsockopt(fd, level, name, value, len)`.
fn setsockopt(sc: &Syscall) -> Result<Decoded, Bad<'_>> {
    let a = &sc.args;
    arity(sc, &[5])?;
    let fd = on(&a[0], int(&a[0]))?;
    if !is_ellipsis(&a[4]) {
        on(&a[4], int32(&a[4], "option length"))?;
    }
    let level = on(&a[1], int(&a[1]))?;
    let name = on(&a[2], int(&a[2]))?;
    if let (Ok(level), Ok(name)) = (i32::try_from(level), i32::try_from(name)) {
        if !seam_option(level, name) && raw_int_option(level, name) {
            return linux::setsockopt_int(sc, fd, level, name);
        }
        if bytes::bytes_option(level, name) {
            return bytes::setsockopt_bytes(sc, fd, level, name);
        }
    }
    let opt = sockopt(&a[1], &a[2], &a[3])?;
    Ok(Decoded::SetSockOpt { fd, opt })
}

/// `getsockopt(fd, level, name, [expected], len)`: SO_ERROR, and the integer options of
/// [`GetOpt`].
fn getsockopt(sc: &Syscall) -> Result<Decoded, Bad<'_>> {
    let a = &sc.args;
    arity(sc, &[5])?;
    let fd = on(&a[0], int(&a[0]))?;
    let level = on(&a[1], int(&a[1]))?;
    let name = on(&a[2], int(&a[2]))?;
    let expected = on(&a[3], bracketed(&a[3]))?;
    let socket = level == libc::SOL_SOCKET as i64;
    // IPPROTO_TCP and SOL_TCP are the same number.
    let tcp = level == libc::SOL_TCP as i64;
    let opt = match (socket, tcp, name as i32) {
        (true, _, libc::SO_ERROR) => return Ok(Decoded::GetError { fd, expected }),
        (true, _, libc::SO_SNDBUF) => GetOpt::SendBuffer,
        (true, _, libc::SO_RCVBUF) => GetOpt::RecvBuffer,
        (_, true, libc::TCP_MAXSEG) => GetOpt::MaxSeg,
        (_, true, libc::TCP_NODELAY) => GetOpt::NoDelay,
        _ => match (i32::try_from(level), i32::try_from(name)) {
            (Ok(level), Ok(name)) if raw_int_option(level, name) => {
                return Ok(Decoded::Linux(LinuxCall::GetInt {
                    fd,
                    level,
                    name,
                    expected,
                }))
            }
            _ => {
                return Err(blame(
                    &a[2],
                    format!("getsockopt({}, {}) is not supported yet", a[1], a[2]),
                ))
            }
        },
    };
    Ok(Decoded::GetSockOpt { fd, opt, expected })
}

/// `fcntl(fd, F_GETFL)` and `fcntl(fd, F_SETFL, flags)`.
fn fcntl(sc: &Syscall) -> Result<Decoded, Bad<'_>> {
    let a = &sc.args;
    arity(sc, &[2, 3])?;
    let fd = on(&a[0], int(&a[0]))?;
    let cmd = on(&a[1], int(&a[1]))?;
    if cmd == libc::F_GETFL as i64 && a.len() == 2 {
        Ok(Decoded::GetFlags { fd })
    } else if cmd == libc::F_SETFL as i64 && a.len() == 3 {
        let flags = on(&a[2], int32(&a[2], "fcntl flags"))?;
        Ok(Decoded::SetFlags {
            fd,
            nonblocking: flags & libc::O_NONBLOCK != 0,
        })
    } else {
        Err(blame(
            &a[1],
            "fcntl: only F_GETFL and F_SETFL are supported yet",
        ))
    }
}

/// The options [`SockOpt`] names: set through the seam, which tells the model.
fn seam_option(level: i32, name: i32) -> bool {
    let socket = [
        libc::SO_REUSEADDR,
        libc::SO_LINGER,
        libc::SO_KEEPALIVE,
        libc::SO_RCVBUF,
        libc::SO_SNDBUF,
    ];
    let tcp = [
        libc::TCP_NODELAY,
        libc::TCP_QUICKACK,
        libc::TCP_USER_TIMEOUT,
        libc::TCP_MAXSEG,
        libc::TCP_KEEPIDLE,
        libc::TCP_KEEPINTVL,
        libc::TCP_KEEPCNT,
    ];
    (level == libc::SOL_SOCKET && socket.contains(&name))
        || (level == libc::IPPROTO_TCP && tcp.contains(&name))
}

/// The `int` options set and read on the kernel descriptor: those packetdrill's corpus
/// uses that the seam does not name. Each is one the model either does not need (it
/// changes when the application is told, not what goes on the wire) or is told it does not
/// follow ([`crate::runner::exec`]'s `linux` calls).
pub fn raw_int_option(level: i32, name: i32) -> bool {
    let socket = [
        libc::SO_ZEROCOPY,
        libc::SO_TIMESTAMPING,
        libc::SO_MARK,
        libc::SO_RCVLOWAT,
        libc::SO_SNDBUF,
        libc::SO_RCVBUF,
        libc::SO_KEEPALIVE,
        libc::SO_REUSEADDR,
        libc::SO_OOBINLINE,
    ];
    let tcp = [
        libc::TCP_CORK,
        libc::TCP_SYNCNT,
        libc::TCP_INQ,
        libc::TCP_NOTSENT_LOWAT,
        libc::TCP_FASTOPEN,
        libc::TCP_FASTOPEN_CONNECT,
        libc::TCP_FASTOPEN_NO_COOKIE,
        libc::TCP_DEFER_ACCEPT,
        libc::TCP_WINDOW_CLAMP,
        libc::TCP_LINGER2,
        libc::TCP_THIN_LINEAR_TIMEOUTS,
        libc::TCP_NODELAY,
        libc::TCP_QUICKACK,
        libc::TCP_USER_TIMEOUT,
        libc::TCP_KEEPIDLE,
        libc::TCP_KEEPINTVL,
        libc::TCP_KEEPCNT,
    ];
    let ip = [
        libc::IP_TOS,
        libc::IP_TTL,
        libc::IP_MTU_DISCOVER,
        libc::IP_FREEBIND,
        libc::IP_RECVERR,
    ];
    let ipv6 = [libc::IPV6_RECVERR];
    match level {
        libc::SOL_SOCKET => socket.contains(&name),
        libc::IPPROTO_TCP => tcp.contains(&name),
        libc::SOL_IP => ip.contains(&name),
        libc::SOL_IPV6 => ipv6.contains(&name),
        _ => false,
    }
}

/// A `setsockopt()` option, its value range-checked: the kernel takes an `int`, and each
/// option's value must fit what the harness passes on without changing it.
fn sockopt<'c>(level: &'c Expr, name: &'c Expr, value: &'c Expr) -> Result<SockOpt, Bad<'c>> {
    let level_v = on(level, int(level))?;
    let name_v = on(name, int(name))?;
    let unsupported = || {
        blame(
            name,
            format!("setsockopt({level}, {name}) is not supported yet"),
        )
    };
    // An option name that is no int names no option (it must not wrap onto one that does).
    let Ok(name_i) = i32::try_from(name_v) else {
        return Err(unsupported());
    };
    let int_max = i64::from(i32::MAX);
    let flag = || {
        let v = bracketed(value).and_then(|v| as_int32(v, &format!("{name} value")));
        on(value, v.map(i64::from))
    };
    let nonneg = |what: &str| on(value, ranged(flag()?, 0, int_max, &format!("{what} value")));
    let sol_socket = level_v == libc::SOL_SOCKET as i64;
    let tcp = level_v == libc::IPPROTO_TCP as i64;
    Ok(match (sol_socket, tcp, name_i) {
        (true, _, libc::SO_REUSEADDR) => SockOpt::ReuseAddr(flag()? != 0),
        (true, _, libc::SO_LINGER) => {
            let Expr::Struct(fields) = value else {
                return Err(blame(
                    value,
                    format!("SO_LINGER takes {{onoff=N, linger=N}}, not `{value}`"),
                ));
            };
            let mut onoff = 0;
            let mut secs = 0;
            for f in fields {
                match f {
                    Expr::Assign(k, v) => match (k.as_ref(), int(v)) {
                        (Expr::Word(k), Ok(v)) if k == "onoff" || k == "l_onoff" => {
                            let min = i64::from(i32::MIN);
                            onoff = on(f, ranged(v, min, int_max, "SO_LINGER l_onoff"))?
                        }
                        (Expr::Word(k), Ok(v)) if k == "linger" || k == "l_linger" => {
                            secs = on(f, ranged(v, 0, int_max, "SO_LINGER l_linger"))?
                        }
                        (_, Err(m)) => return Err(blame(f, m)),
                        _ => return Err(blame(f, format!("bad SO_LINGER field `{f}`"))),
                    },
                    _ => return Err(blame(f, format!("bad SO_LINGER field `{f}`"))),
                }
            }
            SockOpt::Linger((onoff != 0).then(|| Duration::from_secs(secs as u64)))
        }
        (_, true, libc::TCP_NODELAY) => SockOpt::NoDelay(flag()? != 0),
        (_, true, libc::TCP_QUICKACK) => SockOpt::QuickAck(flag()? != 0),
        (_, true, libc::TCP_USER_TIMEOUT) => {
            SockOpt::UserTimeout(Duration::from_millis(nonneg("TCP_USER_TIMEOUT")? as u64))
        }
        (_, true, libc::TCP_MAXSEG) => {
            let v = on(
                value,
                ranged(flag()?, 0, i64::from(u16::MAX), "TCP_MAXSEG value"),
            )?;
            SockOpt::MaxSeg(v as u16)
        }
        (true, _, libc::SO_KEEPALIVE) => SockOpt::KeepAlive(flag()? != 0),
        (true, _, libc::SO_RCVBUF) => SockOpt::RecvBuffer(nonneg("SO_RCVBUF")? as u32),
        (true, _, libc::SO_SNDBUF) => SockOpt::SendBuffer(nonneg("SO_SNDBUF")? as u32),
        (_, true, libc::TCP_KEEPIDLE) => {
            SockOpt::KeepIdle(Duration::from_secs(nonneg("TCP_KEEPIDLE")? as u64))
        }
        (_, true, libc::TCP_KEEPINTVL) => {
            SockOpt::KeepInterval(Duration::from_secs(nonneg("TCP_KEEPINTVL")? as u64))
        }
        (_, true, libc::TCP_KEEPCNT) => SockOpt::KeepCount(nonneg("TCP_KEEPCNT")? as u32),
        _ => return Err(unsupported()),
    })
}

/// Linux's values for the symbols packetdrill scripts use with the calls the runner supports.
pub fn symbol(name: &str) -> Option<i64> {
    Some(match name {
        "AF_INET" => libc::AF_INET as i64,
        "AF_INET6" => libc::AF_INET6 as i64,
        "AF_UNSPEC" => libc::AF_UNSPEC as i64,
        "SOCK_STREAM" => libc::SOCK_STREAM as i64,
        "SOCK_NONBLOCK" => libc::SOCK_NONBLOCK as i64,
        "SOCK_CLOEXEC" => libc::SOCK_CLOEXEC as i64,
        "IPPROTO_TCP" => libc::IPPROTO_TCP as i64,
        "IPPROTO_IP" => libc::IPPROTO_IP as i64,
        "SOL_SOCKET" => libc::SOL_SOCKET as i64,
        "SOL_TCP" => libc::SOL_TCP as i64,
        "SO_REUSEADDR" => libc::SO_REUSEADDR as i64,
        "SO_LINGER" => libc::SO_LINGER as i64,
        "SO_ERROR" => libc::SO_ERROR as i64,
        "SO_KEEPALIVE" => libc::SO_KEEPALIVE as i64,
        "SO_RCVBUF" => libc::SO_RCVBUF as i64,
        "SO_SNDBUF" => libc::SO_SNDBUF as i64,
        "TCP_KEEPIDLE" => libc::TCP_KEEPIDLE as i64,
        "TCP_KEEPINTVL" => libc::TCP_KEEPINTVL as i64,
        "TCP_KEEPCNT" => libc::TCP_KEEPCNT as i64,
        "TCP_NODELAY" => libc::TCP_NODELAY as i64,
        "TCP_MAXSEG" => libc::TCP_MAXSEG as i64,
        "TCP_QUICKACK" => libc::TCP_QUICKACK as i64,
        "TCP_USER_TIMEOUT" => libc::TCP_USER_TIMEOUT as i64,
        "F_GETFL" => libc::F_GETFL as i64,
        "F_SETFL" => libc::F_SETFL as i64,
        "O_RDWR" => libc::O_RDWR as i64,
        "O_RDONLY" => libc::O_RDONLY as i64,
        "O_WRONLY" => libc::O_WRONLY as i64,
        "O_NONBLOCK" => libc::O_NONBLOCK as i64,
        "SHUT_RD" => libc::SHUT_RD as i64,
        "SHUT_WR" => libc::SHUT_WR as i64,
        "SHUT_RDWR" => libc::SHUT_RDWR as i64,
        "NULL" => 0,
        _ => return linux::symbol(name),
    })
}

/// Errno by its macro name; `Errno::from_raw` over the whole range is the only table nix has.
pub fn errno_named(name: &str) -> Option<Errno> {
    (1..200)
        .map(Errno::from_raw)
        .find(|e| format!("{e:?}") == name)
        .or(match name {
            "EWOULDBLOCK" => Some(Errno::EAGAIN),
            "EDEADLOCK" => Some(Errno::EDEADLK),
            "ENOTSUP" => Some(Errno::EOPNOTSUPP),
            _ => None,
        })
}

/// An integer argument or result: a number, a known constant, or constants or'ed together.
pub fn int(e: &Expr) -> Result<i64, String> {
    match e {
        Expr::Int(v) => Ok(*v),
        Expr::Hex(v) => i64::try_from(*v)
            .map_err(|_| format!("`{e}` is out of range (at most {:#x})", i64::MAX)),
        Expr::Word(w) => symbol(w)
            .or_else(|| errno_named(w).map(|e| e as i64))
            .ok_or_else(|| format!("unknown constant `{w}`")),
        Expr::Or(items) => items.iter().try_fold(0, |acc, i| Ok(acc | int(i)?)),
        other => Err(format!("expected an integer, found `{other}`")),
    }
}

/// `[4]`: packetdrill's bracketed integer (`s32_bracketed_arg`).
pub fn bracketed(e: &Expr) -> Result<i64, String> {
    match e {
        Expr::List(items) if items.len() == 1 => int(&items[0]),
        other => Err(format!("expected `[integer]`, found `{other}`")),
    }
}

pub fn is_ellipsis(e: &Expr) -> bool {
    matches!(e, Expr::Ellipsis)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errno_names() {
        assert_eq!(errno_named("ECONNREFUSED"), Some(Errno::ECONNREFUSED));
        assert_eq!(errno_named("EAGAIN"), Some(Errno::EAGAIN));
        assert_eq!(errno_named("EWOULDBLOCK"), Some(Errno::EAGAIN));
        assert_eq!(errno_named("EBOGUS"), None);
    }

    #[test]
    fn or_of_constants() {
        let e = Expr::Or(vec![
            Expr::Word("O_RDWR".into()),
            Expr::Word("O_NONBLOCK".into()),
        ]);
        assert_eq!(int(&e), Ok(0x802));
    }
}
