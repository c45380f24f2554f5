//! `poll` and `epoll_*` as packetdrill writes them: readiness calls, read here completely
//! like the rest of the Linux calls (see `linux.rs`), so `tcpcheck check` refuses what `run`
//! would.

use super::linux::{fd, fields, EpollEvent, LinuxCall, PollEntry};
use super::{arity, blame, int, int32, on, ranged, Bad, Decoded};
use crate::scenario::{Expr, Syscall};

/// `poll([{fd=N, events=E, revents=R}, ...], nfds, timeout)`.
pub fn poll(sc: &Syscall) -> Result<Decoded, Bad<'_>> {
    let a = &sc.args;
    arity(sc, &[3])?;
    let Expr::List(items) = &a[0] else {
        return Err(blame(
            &a[0],
            format!(
                "poll takes `[{{fd=N, events=E, revents=R}}]`, not `{}`",
                a[0]
            ),
        ));
    };
    let mut fds = Vec::new();
    for item in items {
        let mut entry = PollEntry {
            fd: -1,
            events: 0,
            revents: 0,
        };
        for (name, f, v) in fields(item, "pollfd")? {
            let mask = || -> Result<i16, Bad<'_>> {
                let x = on(v, int(v))?;
                on(v, ranged(x, 0, 0xffff, name)).map(|x| x as u16 as i16)
            };
            match name {
                "fd" => entry.fd = fd(v)?,
                "events" => entry.events = mask()?,
                "revents" => entry.revents = mask()?,
                _ => {
                    return Err(blame(
                        f,
                        format!("pollfd field `{name}` is not supported yet"),
                    ))
                }
            }
        }
        fds.push(entry);
    }
    let n = on(&a[1], int(&a[1]))?;
    if n != fds.len() as i64 {
        return Err(blame(
            &a[1],
            format!("nfds {n} but {} pollfds listed", fds.len()),
        ));
    }
    Ok(Decoded::Linux(LinuxCall::Poll {
        fds,
        timeout_ms: on(&a[2], int32(&a[2], "poll timeout"))?,
    }))
}

fn epoll_event(e: &Expr) -> Result<EpollEvent, Bad<'_>> {
    let mut ev = EpollEvent { events: 0, data: 0 };
    for (name, f, v) in fields(e, "epoll_event")? {
        match name {
            "events" => {
                let x = on(v, int(v))?;
                ev.events = on(v, ranged(x, 0, i64::from(u32::MAX), "events"))? as u32;
            }
            "fd" | "ptr" | "u32" | "u64" => ev.data = on(v, int(v))? as u64,
            _ => {
                return Err(blame(
                    f,
                    format!("epoll_event field `{name}` is not supported yet"),
                ))
            }
        }
    }
    Ok(ev)
}

pub fn epoll_create(sc: &Syscall) -> Result<Decoded, Bad<'_>> {
    arity(sc, &[1])?;
    let a = &sc.args;
    Ok(Decoded::Linux(LinuxCall::EpollCreate {
        size: on(&a[0], int32(&a[0], "epoll_create size"))?,
    }))
}

pub fn epoll_ctl(sc: &Syscall) -> Result<Decoded, Bad<'_>> {
    arity(sc, &[4])?;
    let a = &sc.args;
    Ok(Decoded::Linux(LinuxCall::EpollCtl {
        epfd: fd(&a[0])?,
        op: on(&a[1], int32(&a[1], "epoll_ctl op"))?,
        fd: fd(&a[2])?,
        event: epoll_event(&a[3])?,
    }))
}

pub fn epoll_wait(sc: &Syscall) -> Result<Decoded, Bad<'_>> {
    arity(sc, &[4])?;
    let a = &sc.args;
    let max = on(&a[2], int32(&a[2], "maxevents"))?;
    if !(1..=1024).contains(&max) {
        return Err(blame(
            &a[2],
            format!("maxevents {max} is out of range (1 to 1024)"),
        ));
    }
    Ok(Decoded::Linux(LinuxCall::EpollWait {
        epfd: fd(&a[0])?,
        expected: epoll_event(&a[1])?,
        max,
        timeout_ms: on(&a[3], int32(&a[3], "epoll_wait timeout"))?,
    }))
}
