//! `poll`, `epoll_create`, `epoll_ctl` and `epoll_wait`: a wait is made with a zero timeout
//! once a millisecond until something is ready or the script's timeout passes (a timeout of
//! -1 until the run's hang limit), then what was ready is checked against the script.

use super::{done, last_err, new_file};
use crate::runner::exec::calls::{Op, Ret, Started};
use crate::runner::exec::{Exec, Step};
use crate::runner::syscall::{EpollEvent, LinuxCall};
use crate::scenario::Event;

/// epoll_create(): a descriptor the script holds.
pub(super) fn epoll_create(size: i32) -> Step<Started> {
    // SAFETY: a plain system call.
    let r = unsafe { libc::epoll_create(size) };
    done(new_file(r))
}

impl Exec<'_> {
    pub(super) fn epoll_ctl(
        &mut self,
        ev: &Event,
        epfd: i64,
        op: i32,
        fd: i64,
        event: EpollEvent,
    ) -> Step<Started> {
        let ep = self.raw_of(ev, epfd)?;
        let target = self.raw_of(ev, fd)?;
        let mut e = libc::epoll_event {
            events: event.events,
            u64: event.data,
        };
        // SAFETY: e outlives the call.
        let r = unsafe { libc::epoll_ctl(ep, op, target, &mut e) };
        done(if r < 0 { last_err() } else { Ret::ok(0) })
    }

    /// `poll()` or `epoll_wait()` of event `index`: its answer if it has one now, else
    /// parked until `timeout_ms` (negative: the run's hang limit).
    pub(super) fn start_wait(&mut self, index: usize, timeout_ms: i32) -> Step<Started> {
        let until = match timeout_ms {
            t if t < 0 => self.now_us() + self.opts.hang_limit.as_micros() as i64,
            t => self.now_us() + i64::from(t) * 1000,
        };
        let op = Op::Wait {
            event: index,
            until,
        };
        match self.try_wait(index, until)? {
            Some(ret) => done(ret),
            None => Ok(Started::Blocked(op)),
        }
    }

    /// One zero-timeout `poll()` or `epoll_wait()` of event `index`'s call: its answer,
    /// or `None` while nothing is ready and its timeout has not passed.
    pub(in crate::runner::exec::calls) fn try_wait(
        &mut self,
        index: usize,
        until: i64,
    ) -> Step<Option<Ret>> {
        let ev = &self.script.events[index];
        let crate::scenario::Action::Syscall(sc) = &ev.action else {
            unreachable!("waits come from system calls")
        };
        let Ok((crate::runner::syscall::Decoded::Linux(call), _)) =
            crate::runner::syscall::decode(sc)
        else {
            unreachable!("validated before the run")
        };
        let timed_out = self.now_us() >= until;
        match call {
            LinuxCall::Poll { fds, .. } => {
                let mut pfds = Vec::new();
                for p in &fds {
                    pfds.push(libc::pollfd {
                        fd: self.raw_of(ev, p.fd)?,
                        events: p.events,
                        revents: 0,
                    });
                }
                // SAFETY: pfds is a valid array of its length.
                let r = unsafe { libc::poll(pfds.as_mut_ptr(), pfds.len() as libc::nfds_t, 0) };
                if r < 0 {
                    return Ok(Some(last_err()));
                }
                if r == 0 && !timed_out {
                    return Ok(None);
                }
                let mut ret = Ret::ok(i64::from(r));
                if let Some((want, got)) =
                    fds.iter().zip(&pfds).find(|(w, g)| w.revents != g.revents)
                {
                    ret.mismatch = Some((
                        format!("revents {:#x} for fd {}", got.revents, want.fd),
                        format!("bad poll revents: expected {:#x}", want.revents),
                    ));
                }
                Ok(Some(ret))
            }
            LinuxCall::EpollWait {
                epfd,
                expected,
                max,
                ..
            } => {
                let ep = self.raw_of(ev, epfd)?;
                let mut events = vec![libc::epoll_event { events: 0, u64: 0 }; max as usize];
                // SAFETY: events holds `max` entries.
                let r = unsafe { libc::epoll_wait(ep, events.as_mut_ptr(), max, 0) };
                if r < 0 {
                    return Ok(Some(last_err()));
                }
                if r == 0 && !timed_out {
                    return Ok(None);
                }
                let got = EpollEvent {
                    events: events[0].events,
                    data: events[0].u64,
                };
                let mut ret = Ret::ok(i64::from(r));
                // packetdrill compares the first event only.
                if got != expected {
                    ret.mismatch = Some((
                        format!("events {:#x}, data {}", got.events, got.data),
                        format!(
                            "epoll_event does not match script: expected events {:#x}, data {}",
                            expected.events, expected.data
                        ),
                    ));
                }
                Ok(Some(ret))
            }
            _ => unreachable!("only poll and epoll_wait wait"),
        }
    }
}
