//! The harness's record of a check: a stack under test with the trace of everything that
//! crossed the seam. The runner and the explorer own it; the stack knows nothing of traces
//! beyond the few events only it can see ([`Stack::take_log`]).

use std::io;
use std::net::{Shutdown, SocketAddr};
use std::time::Duration;

use nix::errno::Errno;

use super::{
    CallError, CallResult, Capabilities, DiagSocket, Fd, Packet, SockOpt, Stack, TcpInfo, TcpState,
};
use super::{Capability, Clock, Reference, Wait};
use crate::trace::{CallRecord, EventKind, Returned, SocketCall, Trace};
use tcpcheck_model::profile::Profile;

/// A stack and its trace. Each call is passed to the stack and recorded with its result;
/// each packet injected is recorded at the time it was handed over, each packet read at the
/// time the stack sent it. What needs a capability the stack lacks (or that is masked) is
/// refused here, before the stack sees it, with [`CallError::Unsupported`] or
/// [`Capability::missing`].
pub struct Recorder {
    stack: Box<dyn Stack>,
    trace: Trace,
    capabilities: Capabilities,
    /// The stack panicked, with this message: it is not called again.
    panic: Option<String>,
}

/// The error a call into a stack that panicked gives (its message is
/// [`Recorder::panicked`]).
#[derive(Debug)]
pub struct Panicked;

impl std::fmt::Display for Panicked {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("the stack under test panicked")
    }
}

impl std::error::Error for Panicked {}

impl Recorder {
    /// Starts recording `stack`, whose log so far (its setup) opens the trace.
    pub fn new(stack: Box<dyn Stack>) -> Recorder {
        let capabilities = stack.capabilities();
        let mut r = Recorder {
            stack,
            trace: Trace::default(),
            capabilities,
            panic: None,
        };
        r.absorb();
        r
    }

    /// Masks capabilities the stack has, as if it did not: for tests of "not applicable".
    pub fn mask(&mut self, hidden: Capabilities) {
        for c in hidden.iter() {
            self.capabilities = self.capabilities.without(c);
        }
    }

    /// The stack's capabilities (less any masked).
    pub fn capabilities(&self) -> Capabilities {
        self.capabilities
    }

    /// Whether the stack has `c`.
    pub fn has(&self, c: Capability) -> bool {
        self.capabilities.has(c)
    }

    /// The stack under test.
    pub fn stack(&self) -> &dyn Stack {
        self.stack.as_ref()
    }

    /// The stack under test, for what the recorder does not wrap.
    pub fn stack_mut(&mut self) -> &mut dyn Stack {
        self.stack.as_mut()
    }

    /// See [`Stack::reference`].
    pub fn reference(&self) -> Reference {
        self.stack.reference()
    }

    /// See [`Stack::clock`].
    pub fn clock(&self) -> Clock {
        self.stack.clock()
    }

    /// See [`Stack::profile`]; a panic in it is the stack's, as anywhere else.
    pub fn profile(&mut self) -> Result<Profile, String> {
        match self.io(|s| Ok(s.profile())) {
            Ok(p) => p,
            Err(e) => Err(e.to_string()),
        }
    }

    /// The trace so far.
    pub fn trace(&self) -> &Trace {
        &self.trace
    }

    /// The trace, for annotations after the fact.
    pub fn trace_mut(&mut self) -> &mut Trace {
        &mut self.trace
    }

    /// Ends the recording: the trace.
    pub fn into_trace(mut self) -> Trace {
        self.absorb();
        self.trace
    }

    /// Records `kind` now.
    pub fn note(&mut self, kind: EventKind) {
        self.absorb();
        let at = self.stack.now();
        self.trace.push(at, kind);
    }

    /// Moves what the stack logged into the trace, each event at its own time.
    fn absorb(&mut self) {
        if self.panic.is_some() {
            return;
        }
        let log = match super::panic::catching(|| self.stack.take_log()) {
            Ok(log) => log,
            Err(m) => {
                self.panic = Some(m);
                return;
            }
        };
        for e in log {
            self.trace.push(e.at, e.kind);
        }
    }

    fn record<T>(
        &mut self,
        call: SocketCall,
        result: &CallResult<T>,
        returned: impl FnOnce(&T) -> Returned,
    ) {
        let result = result.as_ref().map(returned).map_err(|e| *e);
        self.note(EventKind::Call(CallRecord { call, result }));
    }

    /// The message of the stack's panic, once it panicked: a finding, not a harness error.
    pub fn panicked(&self) -> Option<&str> {
        self.panic.as_deref()
    }

    /// Calls the stack, a panic caught and kept.
    fn io<T>(&mut self, f: impl FnOnce(&mut dyn Stack) -> io::Result<T>) -> io::Result<T> {
        if self.panic.is_some() {
            return Err(io::Error::other(Panicked));
        }
        let stack = self.stack.as_mut();
        match super::panic::catching(|| f(stack)) {
            Ok(r) => r,
            Err(m) => {
                self.panic = Some(m);
                Err(io::Error::other(Panicked))
            }
        }
    }

    /// A socket call, a panic caught and kept (answered `EIO`).
    fn call<T>(&mut self, f: impl FnOnce(&mut dyn Stack) -> CallResult<T>) -> CallResult<T> {
        self.io(|s| Ok(f(s)))
            .unwrap_or(Err(CallError::Errno(Errno::EIO)))
    }

    fn need(&self, c: Capability) -> io::Result<()> {
        if self.has(c) {
            Ok(())
        } else {
            Err(c.missing())
        }
    }

    /// See [`Stack::now`].
    pub fn now(&self) -> Duration {
        self.stack.now()
    }

    /// See [`Stack::inject`].
    pub fn inject(&mut self, packet: &[u8]) -> io::Result<()> {
        self.absorb();
        let at = self.stack.now();
        self.io(|s| s.inject(packet))?;
        self.trace.push(
            at,
            EventKind::Injected {
                packet: packet.to_vec(),
                note: None,
            },
        );
        Ok(())
    }

    fn captured(&mut self, packets: &[Packet]) {
        for p in packets {
            self.trace.push(
                p.at,
                EventKind::Captured {
                    packet: p.bytes.clone(),
                    note: None,
                },
            );
        }
    }

    /// See [`Stack::settle`].
    pub fn settle(&mut self) -> io::Result<Vec<Packet>> {
        let packets = self.io(|s| s.settle());
        if let Ok(p) = &packets {
            self.captured(p);
        }
        self.absorb();
        packets
    }

    /// See [`Stack::next_packet`].
    pub fn next_packet(&mut self, deadline: Duration) -> io::Result<Option<Packet>> {
        let packet = self.io(|s| s.next_packet(deadline));
        if let Ok(Some(p)) = &packet {
            self.captured(std::slice::from_ref(p));
        }
        self.absorb();
        packet
    }

    /// See [`Stack::socket`].
    pub fn socket(&mut self, v6: bool) -> CallResult<Fd> {
        let r = self.call(|s| s.socket(v6));
        self.record(SocketCall::Socket { v6 }, &r, |fd| Returned::Fd(fd.0));
        r
    }

    /// See [`Stack::bind`].
    pub fn bind(&mut self, fd: Fd, addr: SocketAddr) -> CallResult<()> {
        let r = self.call(|s| s.bind(fd, addr));
        self.record(SocketCall::Bind { fd: fd.0, addr }, &r, |_| Returned::Zero);
        r
    }

    /// See [`Stack::listen`].
    pub fn listen(&mut self, fd: Fd, backlog: i32) -> CallResult<()> {
        let r = self.call(|s| s.listen(fd, backlog));
        let call = SocketCall::Listen { fd: fd.0, backlog };
        self.record(call, &r, |_| Returned::Zero);
        r
    }

    /// See [`Stack::accept`].
    pub fn accept(&mut self, fd: Fd, wait: Wait) -> CallResult<(Fd, SocketAddr)> {
        let r = self.call(|s| s.accept(fd, wait));
        self.record(SocketCall::Accept { fd: fd.0 }, &r, |(new, peer)| {
            Returned::Accepted {
                fd: new.0,
                peer: *peer,
            }
        });
        r
    }

    /// See [`Stack::connect`].
    pub fn connect(&mut self, fd: Fd, addr: SocketAddr) -> CallResult<()> {
        let r = self.call(|s| s.connect(fd, addr));
        self.record(SocketCall::Connect { fd: fd.0, addr }, &r, |_| {
            Returned::Zero
        });
        r
    }

    /// See [`Stack::write`].
    pub fn write(&mut self, fd: Fd, data: &[u8]) -> CallResult<usize> {
        let r = self.call(|s| s.write(fd, data));
        let call = SocketCall::Write {
            fd: fd.0,
            len: data.len(),
        };
        self.record(call, &r, |n| Returned::Count(*n));
        r
    }

    /// See [`Stack::read`].
    pub fn read(&mut self, fd: Fd, max: usize, wait: Wait) -> CallResult<Vec<u8>> {
        let r = self.call(|s| s.read(fd, max, wait));
        self.record(SocketCall::Read { fd: fd.0, max }, &r, |d| {
            Returned::Count(d.len())
        });
        r
    }

    /// See [`Stack::shutdown`].
    pub fn shutdown(&mut self, fd: Fd, how: Shutdown) -> CallResult<()> {
        let r = if how != Shutdown::Both && !self.has(Capability::HalfClose) {
            Err(CallError::Unsupported(Capability::HalfClose))
        } else {
            self.call(|s| s.shutdown(fd, how))
        };
        self.record(SocketCall::Shutdown { fd: fd.0, how }, &r, |_| {
            Returned::Zero
        });
        r
    }

    /// See [`Stack::close`].
    pub fn close(&mut self, fd: Fd) -> CallResult<()> {
        let r = self.call(|s| s.close(fd));
        self.record(SocketCall::Close { fd: fd.0 }, &r, |_| Returned::Zero);
        r
    }

    /// See [`Stack::setsockopt`].
    pub fn setsockopt(&mut self, fd: Fd, opt: SockOpt) -> CallResult<()> {
        let r = if self.has(opt.needs()) {
            self.call(|s| s.setsockopt(fd, opt))
        } else {
            Err(CallError::Unsupported(opt.needs()))
        };
        let call = SocketCall::SetSockOpt { fd: fd.0, opt };
        self.record(call, &r, |_| Returned::Zero);
        r
    }

    /// See [`Stack::take_error`].
    pub fn take_error(&mut self, fd: Fd) -> CallResult<Option<Errno>> {
        let r = self.call(|s| s.take_error(fd));
        self.record(SocketCall::TakeError { fd: fd.0 }, &r, |e| {
            Returned::Error(*e)
        });
        r
    }

    /// See [`Stack::getsockopt`].
    pub fn getsockopt(&mut self, fd: Fd, opt: super::GetOpt) -> CallResult<i64> {
        let r = self.stack.getsockopt(fd, opt);
        let call = SocketCall::GetSockOpt { fd: fd.0, opt };
        self.record(call, &r, |v| Returned::Value(*v));
        r
    }

    /// See [`Stack::set_nonblocking`].
    pub fn set_nonblocking(&mut self, fd: Fd, on: bool) -> CallResult<()> {
        let r = self.call(|s| s.set_nonblocking(fd, on));
        let call = SocketCall::SetNonblocking { fd: fd.0, on };
        self.record(call, &r, |_| Returned::Zero);
        r
    }

    /// See [`Stack::writable`] (not recorded: a poll).
    pub fn writable(&mut self, fd: Fd) -> CallResult<bool> {
        self.call(|s| s.writable(fd))
    }

    /// See [`Stack::state`]; recorded as an observation.
    pub fn state(&mut self, fd: Fd) -> io::Result<TcpState> {
        self.need(Capability::ConnectionState)?;
        let state = self.io(|s| s.state(fd))?;
        self.note(EventKind::Observation {
            text: format!("fd {fd}: tcpi_state={state}"),
        });
        Ok(state)
    }

    /// See [`Stack::tcp_info`]; recorded as an observation of the state.
    pub fn tcp_info(&mut self, fd: Fd) -> io::Result<TcpInfo> {
        self.need(Capability::TcpInfo)?;
        let info = self.io(|s| s.tcp_info(fd))?;
        self.note(EventKind::Observation {
            text: format!("fd {fd}: tcpi_state={}", info.state),
        });
        Ok(info)
    }

    /// [`Stack::state`] for the state check after a step: not recorded here, since the
    /// differ keeps the states it compared beside its own (the ladders' stack column).
    pub fn read_state(&mut self, fd: Fd) -> io::Result<TcpState> {
        self.need(Capability::ConnectionState)?;
        self.io(|s| s.state(fd))
    }

    /// See [`Stack::state_at`]; not recorded (as [`Recorder::read_state`]).
    pub fn read_state_at(
        &mut self,
        local: SocketAddr,
        remote: SocketAddr,
    ) -> io::Result<Option<TcpState>> {
        self.need(Capability::ConnectionTable)?;
        self.io(|s| s.state_at(local, remote))
    }

    /// See [`Stack::raw_fd`]: the kernel descriptor behind `fd`, or the capability missing.
    /// A call made on it is not recorded by the seam: the caller notes it.
    pub fn raw_fd(&self, fd: Fd) -> io::Result<std::os::fd::RawFd> {
        self.need(Capability::LinuxCalls)?;
        if self.panic.is_some() {
            return Err(io::Error::other(Panicked));
        }
        self.stack
            .raw_fd(fd)
            .ok_or_else(|| io::Error::from_raw_os_error(libc::EBADF))
    }

    /// See [`Stack::connections`].
    pub fn connections(&mut self) -> io::Result<Vec<DiagSocket>> {
        self.need(Capability::ConnectionTable)?;
        self.io(|s| s.connections())
    }

    /// See [`Stack::setting`].
    pub fn setting(&mut self, name: &str) -> io::Result<String> {
        self.need(Capability::Settings)?;
        self.io(|s| s.setting(name))
    }

    /// See [`Stack::set_setting`]; recorded with the value in force.
    pub fn set_setting(&mut self, name: &str, value: &str) -> io::Result<String> {
        self.need(Capability::Settings)?;
        let kept = self.io(|s| s.set_setting(name, value))?;
        self.note(EventKind::Sysctl {
            name: name.to_string(),
            value: kept.clone(),
        });
        Ok(kept)
    }

    /// See [`Stack::end`].
    pub fn end(&mut self) -> io::Result<usize> {
        let r = self.io(|s| s.end());
        self.absorb();
        r
    }
}
