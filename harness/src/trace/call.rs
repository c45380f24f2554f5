//! A socket call as the trace records it: the call and its arguments, and what it returned,
//! as typed values. Readers take the values (the schedule report reads the user timeout
//! set and the calls that reported `ETIMEDOUT`); people read the call in packetdrill's
//! notation (`setsockopt(4, IPPROTO_TCP, TCP_USER_TIMEOUT, [1500], 4) = 0`).

use std::fmt;
use std::net::{Shutdown, SocketAddr};
use std::time::Duration;

use nix::errno::Errno;

use crate::stack::{CallError, GetOpt, SockOpt};

/// One call the stack under test answered. Descriptors are the stack's, numbered from 3.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CallRecord {
    pub call: SocketCall,
    pub result: Result<Returned, CallError>,
}

/// A call and its arguments.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SocketCall {
    Socket {
        v6: bool,
    },
    Bind {
        fd: i32,
        addr: SocketAddr,
    },
    Listen {
        fd: i32,
        backlog: i32,
    },
    Accept {
        fd: i32,
    },
    Connect {
        fd: i32,
        addr: SocketAddr,
    },
    Write {
        fd: i32,
        len: usize,
    },
    Read {
        fd: i32,
        max: usize,
    },
    Shutdown {
        fd: i32,
        how: Shutdown,
    },
    Close {
        fd: i32,
    },
    SetSockOpt {
        fd: i32,
        opt: SockOpt,
    },
    /// `getsockopt(SO_ERROR)`.
    TakeError {
        fd: i32,
    },
    /// `getsockopt()` of an integer option.
    GetSockOpt {
        fd: i32,
        opt: GetOpt,
    },
    /// `fcntl(F_SETFL)`.
    SetNonblocking {
        fd: i32,
        on: bool,
    },
}

/// What a call that succeeded returned, beyond its 0.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Returned {
    /// 0, and nothing else.
    Zero,
    /// A new descriptor (`socket()`).
    Fd(i32),
    /// A new descriptor, connected to `peer` (`accept()`).
    Accepted { fd: i32, peer: SocketAddr },
    /// Bytes read or written.
    Count(usize),
    /// `getsockopt(SO_ERROR)`'s value: the pending error, if any.
    Error(Option<Errno>),
    /// An option's value (`getsockopt()`).
    Value(i64),
}

impl CallRecord {
    /// Whether the call reported `errno`: failed with it, or read it as the socket's error.
    pub fn reports(&self, errno: Errno) -> bool {
        matches!(
            self.result,
            Err(CallError::Errno(e)) | Ok(Returned::Error(Some(e))) if e == errno
        )
    }

    /// The user timeout a successful `setsockopt(TCP_USER_TIMEOUT)` set (zero: the system
    /// default again).
    pub fn user_timeout_set(&self) -> Option<Duration> {
        match (self.call, &self.result) {
            (
                SocketCall::SetSockOpt {
                    opt: SockOpt::UserTimeout(d),
                    ..
                },
                Ok(_),
            ) => Some(d),
            _ => None,
        }
    }

    /// The call's name: `socket`, `setsockopt`.
    pub fn name(&self) -> &'static str {
        match self.call {
            SocketCall::Socket { .. } => "socket",
            SocketCall::Bind { .. } => "bind",
            SocketCall::Listen { .. } => "listen",
            SocketCall::Accept { .. } => "accept",
            SocketCall::Connect { .. } => "connect",
            SocketCall::Write { .. } => "write",
            SocketCall::Read { .. } => "read",
            SocketCall::Shutdown { .. } => "shutdown",
            SocketCall::Close { .. } => "close",
            SocketCall::SetSockOpt { .. } => "setsockopt",
            SocketCall::TakeError { .. } | SocketCall::GetSockOpt { .. } => "getsockopt",
            SocketCall::SetNonblocking { .. } => "fcntl",
        }
    }
}

/// An errno as scripts write it: `ETIMEDOUT`.
fn errno_name(e: Errno) -> String {
    format!("{e:?}")
}

/// The call in packetdrill's notation, with the stack's descriptors and the addresses the
/// harness used where a script writes `...`.
impl fmt::Display for CallRecord {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = self.name();
        match self.call {
            SocketCall::Socket { v6 } => {
                let family = if v6 { "AF_INET6" } else { "AF_INET" };
                write!(f, "{name}({family}, SOCK_STREAM, IPPROTO_TCP)")?
            }
            SocketCall::Bind { fd, addr } | SocketCall::Connect { fd, addr } => {
                write!(f, "{name}({fd}, {addr}, ...)")?
            }
            SocketCall::Listen { fd, backlog } => write!(f, "{name}({fd}, {backlog})")?,
            SocketCall::Accept { fd } => match &self.result {
                Ok(Returned::Accepted { peer, .. }) => write!(f, "{name}({fd}, {peer}, ...)")?,
                _ => write!(f, "{name}({fd}, ..., ...)")?,
            },
            SocketCall::Write { fd, len: n } | SocketCall::Read { fd, max: n } => {
                write!(f, "{name}({fd}, ..., {n})")?
            }
            SocketCall::Shutdown { fd, how } => {
                let how = match how {
                    Shutdown::Read => "SHUT_RD",
                    Shutdown::Write => "SHUT_WR",
                    Shutdown::Both => "SHUT_RDWR",
                };
                write!(f, "{name}({fd}, {how})")?
            }
            SocketCall::Close { fd } => write!(f, "{name}({fd})")?,
            SocketCall::SetSockOpt { fd, opt } => write!(f, "{name}({fd}, {opt})")?,
            SocketCall::TakeError { fd } => {
                let value = match &self.result {
                    Ok(Returned::Error(Some(e))) => errno_name(*e),
                    Ok(_) => "0".into(),
                    Err(_) => "...".into(),
                };
                write!(f, "{name}({fd}, SOL_SOCKET, SO_ERROR, [{value}], [4])")?
            }
            SocketCall::GetSockOpt { fd, opt } => {
                let (level, option) = opt.names();
                let value = match &self.result {
                    Ok(Returned::Value(v)) => v.to_string(),
                    _ => "...".into(),
                };
                write!(f, "{name}({fd}, {level}, {option}, [{value}], [4])")?
            }
            SocketCall::SetNonblocking { fd, on } => {
                let flags = if on { "O_RDWR|O_NONBLOCK" } else { "O_RDWR" };
                write!(f, "{name}({fd}, F_SETFL, {flags})")?
            }
        }
        match &self.result {
            Ok(Returned::Fd(fd) | Returned::Accepted { fd, .. }) => write!(f, " = {fd}"),
            Ok(Returned::Count(n)) => write!(f, " = {n}"),
            Ok(Returned::Zero | Returned::Error(_) | Returned::Value(_)) => f.write_str(" = 0"),
            Err(e) => write!(f, " = {e}"),
        }
    }
}

/// The option as `setsockopt()`'s level, name, value and length are written in scripts:
/// `SOL_SOCKET, SO_REUSEADDR, [1], 4`.
impl fmt::Display for SockOpt {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let flag = |on: bool| u32::from(on);
        let (level, name, value) = match *self {
            SockOpt::Linger(l) => {
                let (onoff, secs) = l.map_or((0, 0), |d| (1, d.as_secs()));
                return write!(
                    f,
                    "SOL_SOCKET, SO_LINGER, {{onoff={onoff}, linger={secs}}}, 8"
                );
            }
            SockOpt::ReuseAddr(on) => ("SOL_SOCKET", "SO_REUSEADDR", flag(on).into()),
            SockOpt::KeepAlive(on) => ("SOL_SOCKET", "SO_KEEPALIVE", flag(on).into()),
            SockOpt::RecvBuffer(n) => ("SOL_SOCKET", "SO_RCVBUF", n.into()),
            SockOpt::SendBuffer(n) => ("SOL_SOCKET", "SO_SNDBUF", n.into()),
            SockOpt::NoDelay(on) => ("IPPROTO_TCP", "TCP_NODELAY", flag(on).into()),
            SockOpt::QuickAck(on) => ("IPPROTO_TCP", "TCP_QUICKACK", flag(on).into()),
            SockOpt::UserTimeout(d) => ("IPPROTO_TCP", "TCP_USER_TIMEOUT", d.as_millis()),
            SockOpt::MaxSeg(mss) => ("IPPROTO_TCP", "TCP_MAXSEG", mss.into()),
            SockOpt::KeepIdle(d) => ("IPPROTO_TCP", "TCP_KEEPIDLE", d.as_secs().into()),
            SockOpt::KeepInterval(d) => ("IPPROTO_TCP", "TCP_KEEPINTVL", d.as_secs().into()),
            SockOpt::KeepCount(n) => ("IPPROTO_TCP", "TCP_KEEPCNT", n.into()),
        };
        write!(f, "{level}, {name}, [{value}], 4")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shown(call: SocketCall, result: Result<Returned, CallError>) -> String {
        CallRecord { call, result }.to_string()
    }

    #[test]
    fn calls_read_as_packetdrill_writes_them() {
        let peer: SocketAddr = "192.0.2.2:40000".parse().unwrap();
        assert_eq!(
            shown(SocketCall::Socket { v6: false }, Ok(Returned::Fd(3))),
            "socket(AF_INET, SOCK_STREAM, IPPROTO_TCP) = 3"
        );
        assert_eq!(
            shown(
                SocketCall::Accept { fd: 3 },
                Ok(Returned::Accepted { fd: 4, peer })
            ),
            "accept(3, 192.0.2.2:40000, ...) = 4"
        );
        assert_eq!(
            shown(
                SocketCall::Accept { fd: 3 },
                Err(CallError::Errno(Errno::EAGAIN))
            ),
            "accept(3, ..., ...) = -1 EAGAIN (Try again)"
        );
        assert_eq!(
            shown(SocketCall::Close { fd: 4 }, Ok(Returned::Zero)),
            "close(4) = 0"
        );
        assert_eq!(
            shown(
                SocketCall::SetSockOpt {
                    fd: 4,
                    opt: SockOpt::UserTimeout(Duration::from_millis(1500))
                },
                Ok(Returned::Zero)
            ),
            "setsockopt(4, IPPROTO_TCP, TCP_USER_TIMEOUT, [1500], 4) = 0"
        );
        assert_eq!(
            shown(
                SocketCall::SetSockOpt {
                    fd: 3,
                    opt: SockOpt::Linger(Some(Duration::ZERO))
                },
                Ok(Returned::Zero)
            ),
            "setsockopt(3, SOL_SOCKET, SO_LINGER, {onoff=1, linger=0}, 8) = 0"
        );
        assert_eq!(
            shown(
                SocketCall::TakeError { fd: 3 },
                Ok(Returned::Error(Some(Errno::ETIMEDOUT)))
            ),
            "getsockopt(3, SOL_SOCKET, SO_ERROR, [ETIMEDOUT], [4]) = 0"
        );
        assert_eq!(
            shown(
                SocketCall::Read { fd: 4, max: 1000 },
                Ok(Returned::Count(10))
            ),
            "read(4, ..., 1000) = 10"
        );
    }

    #[test]
    fn the_values_are_read_typed() {
        let timed_out = CallRecord {
            call: SocketCall::TakeError { fd: 3 },
            result: Ok(Returned::Error(Some(Errno::ETIMEDOUT))),
        };
        assert!(timed_out.reports(Errno::ETIMEDOUT));
        let read = CallRecord {
            call: SocketCall::Read { fd: 4, max: 10 },
            result: Err(CallError::Errno(Errno::ETIMEDOUT)),
        };
        assert!(read.reports(Errno::ETIMEDOUT));
        assert!(!read.reports(Errno::ECONNRESET));
        let set = |result| CallRecord {
            call: SocketCall::SetSockOpt {
                fd: 4,
                opt: SockOpt::UserTimeout(Duration::from_millis(200)),
            },
            result,
        };
        assert_eq!(
            set(Ok(Returned::Zero)).user_timeout_set(),
            Some(Duration::from_millis(200))
        );
        assert_eq!(
            set(Err(CallError::Errno(Errno::EINVAL))).user_timeout_set(),
            None
        );
    }
}
