//! smoltcp's interface, its sockets and the wire, driven on the virtual clock: every poll
//! runs at [`Engine::now`], and time moves only in [`Engine::advance`]. A panic inside
//! smoltcp is caught here, so it ends the case as a finding and never the harness.

use std::collections::VecDeque;
use std::fmt;
use std::net::{IpAddr, SocketAddr};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::time::Duration;

use smoltcp::iface::{Config, Interface, SocketHandle, SocketSet};
use smoltcp::socket::tcp;
use smoltcp::wire::{HardwareAddress, IpAddress, IpCidr};
use tcpcheck::sandbox::{STACK_V4, STACK_V6};

use crate::clock;
use crate::device::Wire;

/// A packet smoltcp emitted, stamped with the virtual time of the poll that emitted it.
pub(crate) struct Sent {
    pub(crate) at: Duration,
    pub(crate) bytes: Vec<u8>,
}

/// smoltcp panicked: the message, and what the adapter was doing.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Panicked {
    /// What the adapter had asked smoltcp to do.
    pub during: &'static str,
    /// The panic's payload, when it was a string.
    pub message: String,
}

impl std::error::Error for Panicked {}

impl fmt::Display for Panicked {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "smoltcp panicked during {}: {}",
            self.during, self.message
        )
    }
}

pub(crate) struct Engine {
    pub(crate) iface: Interface,
    pub(crate) wire: Wire,
    pub(crate) sockets: SocketSet<'static>,
    now: Duration,
    /// Emitted and stamped, not yet handed to the harness.
    sent: VecDeque<Sent>,
    /// The first panic; after it smoltcp is not called again.
    pub(crate) panicked: Option<Panicked>,
}

/// Polls at which `poll_at` said "now" and nothing came out: smoltcp asked for a poll it
/// then had no use for. Past this many in a row at one instant, the clock moves on.
const IDLE_POLLS: u32 = 2;

/// How far the clock steps past an instant smoltcp keeps asking for without using it.
const IDLE_STEP: Duration = Duration::from_millis(1);

impl Engine {
    pub(crate) fn new(seed: u64) -> Engine {
        let mut wire = Wire::default();
        let mut config = Config::new(HardwareAddress::Ip);
        // The ISN and nothing else comes from this seed: the same seed, the same bytes.
        config.random_seed = seed;
        let mut iface = Interface::new(config, &mut wire, clock::instant(Duration::ZERO));
        iface.update_ip_addrs(|addrs| {
            let v4 = IpCidr::new(IpAddress::Ipv4(STACK_V4), 24);
            let v6 = IpCidr::new(IpAddress::Ipv6(STACK_V6), 64);
            addrs.push(v4).expect("two addresses fit");
            addrs.push(v6).expect("two addresses fit");
        });
        Engine {
            iface,
            wire,
            sockets: SocketSet::new(Vec::new()),
            now: Duration::ZERO,
            sent: VecDeque::new(),
            panicked: None,
        }
    }

    pub(crate) fn now(&self) -> Duration {
        self.now
    }

    /// Whether `ip` is one of the stack's own addresses.
    pub(crate) fn is_local(ip: IpAddr) -> bool {
        ip == IpAddr::V4(STACK_V4) || ip == IpAddr::V6(STACK_V6)
    }

    /// Runs `f` on smoltcp. A panic is kept (what smoltcp was doing, its message) and goes
    /// on unwinding to the caller (tcpcheck's seam catches it); from then on nothing
    /// reaches smoltcp (its state is whatever the panic left) and every call answers the
    /// kept panic.
    pub(crate) fn guard<T>(
        &mut self,
        during: &'static str,
        f: impl FnOnce(&mut Engine) -> T,
    ) -> Result<T, Panicked> {
        if let Some(p) = &self.panicked {
            return Err(p.clone());
        }
        match catch_unwind(AssertUnwindSafe(|| f(self))) {
            Ok(v) => Ok(v),
            Err(payload) => {
                let message = payload
                    .downcast_ref::<&str>()
                    .map(|s| s.to_string())
                    .or_else(|| payload.downcast_ref::<String>().cloned())
                    .unwrap_or_else(|| "(no message)".to_string());
                self.panicked = Some(Panicked { during, message });
                // On to tcpcheck's own guard at the seam, which reports the panic as a
                // finding of the check; this stack is not called again.
                std::panic::resume_unwind(payload)
            }
        }
    }

    /// One poll at the current time: what was injected is processed, timers due now fire,
    /// and what smoltcp emits is stamped now.
    pub(crate) fn poll(&mut self) -> Result<(), Panicked> {
        self.guard("poll", |e| {
            clock::publish(e.now);
            let now = clock::instant(e.now);
            e.iface.poll(now, &mut e.wire, &mut e.sockets);
        })?;
        let at = self.now;
        self.sent
            .extend(self.wire.outbound.drain(..).map(|bytes| Sent { at, bytes }));
        Ok(())
    }

    /// smoltcp's next deadline, as a time since the start; `None` when nothing is timed.
    fn poll_at(&mut self) -> Result<Option<Duration>, Panicked> {
        self.guard("poll_at", |e| {
            clock::publish(e.now);
            let now = clock::instant(e.now);
            e.iface.poll_at(now, &e.sockets).map(clock::since_start)
        })
    }

    /// The oldest packet emitted and not yet taken.
    pub(crate) fn pop_sent(&mut self) -> Option<Sent> {
        self.sent.pop_front()
    }

    /// Moves the clock to smoltcp's next deadline or to `deadline`, whichever comes first,
    /// and polls there. Never moves the clock back, nor past `deadline`. `idle` counts the
    /// polls in a row that smoltcp asked for "now" and then had nothing to send: past
    /// [`IDLE_POLLS`] the clock steps on by [`IDLE_STEP`], so a deadline smoltcp keeps
    /// reporting as due cannot stop time.
    pub(crate) fn step(&mut self, deadline: Duration, idle: &mut u32) -> Result<(), Panicked> {
        let next = match self.poll_at()? {
            Some(t) if t <= self.now => {
                *idle += 1;
                if *idle > IDLE_POLLS {
                    *idle = 0;
                    self.now + IDLE_STEP
                } else {
                    self.now
                }
            }
            Some(t) => {
                *idle = 0;
                t
            }
            None => deadline,
        };
        self.now = next.min(deadline).max(self.now);
        self.poll()
    }

    /// Adds a TCP socket with the given buffer sizes and the adapter's fixed settings.
    pub(crate) fn add_socket(&mut self, rx: usize, tx: usize, timestamps: bool) -> SocketHandle {
        let mut s = tcp::Socket::new(
            tcp::SocketBuffer::new(vec![0; rx]),
            tcp::SocketBuffer::new(vec![0; tx]),
        );
        if timestamps {
            s.set_tsval_generator(Some(clock::tsval));
        }
        self.sockets.add(s)
    }

    pub(crate) fn tcp(&mut self, h: SocketHandle) -> &mut tcp::Socket<'static> {
        self.sockets.get_mut::<tcp::Socket>(h)
    }

    pub(crate) fn tcp_ref(&self, h: SocketHandle) -> &tcp::Socket<'static> {
        self.sockets.get::<tcp::Socket>(h)
    }
}

/// A smoltcp endpoint as a socket address.
pub(crate) fn socket_addr(ep: smoltcp::wire::IpEndpoint) -> SocketAddr {
    let ip = match ep.addr {
        IpAddress::Ipv4(a) => IpAddr::V4(a),
        IpAddress::Ipv6(a) => IpAddr::V6(a),
    };
    SocketAddr::new(ip, ep.port)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_panic_inside_is_kept_passed_on_and_nothing_runs_after_it() {
        let mut e = Engine::new(1);
        let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            let _ = e.guard("poll", |_| panic!("assembler overflow"));
        }));
        assert!(r.is_err(), "the panic goes on to the caller");
        let p = e.panicked.clone().expect("kept");
        assert_eq!(p.during, "poll");
        assert_eq!(p.message, "assembler overflow");
        let mut ran = false;
        assert_eq!(e.guard("poll", |_| ran = true), Err(p.clone()));
        assert!(!ran);
        assert_eq!(e.poll(), Err(p));
    }
}
