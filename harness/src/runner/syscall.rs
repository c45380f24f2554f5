//! The constants and errno names scripts use, and reading syscall arguments the way
//! packetdrill's run_system_call.c does (`s32_arg`, `ellipsis_arg`, `get_s32`).

use nix::errno::Errno;

use crate::scenario::Expr;

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
        _ => return None,
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
        Expr::Hex(v) => Ok(*v as i64),
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

/// The calls the runner implements; anything else is refused before the sandbox starts.
pub const SUPPORTED: &[&str] = &[
    "socket",
    "bind",
    "listen",
    "accept",
    "connect",
    "read",
    "recv",
    "write",
    "send",
    "shutdown",
    "close",
    "setsockopt",
    "getsockopt",
    "fcntl",
];

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
