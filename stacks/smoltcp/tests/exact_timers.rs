//! On a virtual clock a timer's window is the instant it is due (issue 13, "Virtual time"):
//! smoltcp's SYN retransmissions, due at 1 s and 3 s, pass; the same stack stamping every
//! retransmission one tick of its clock (1 µs) early fails at the first one, although the
//! script's own packetdrill tolerance (4 ms) lets the line pass. Said to run on a real clock,
//! the same stack passes: a kernel's timers keep the wheel's window
//! (`tcpcheck_model::timers::timer_tolerance`), a jiffy early at the least.
//!
//! The late side on a virtual clock still has the differ's grace for segments owed at once
//! (`tcpcheck::differ::at_once_grace`): the harness judges what is overdue before it matches
//! what the stack sent at the same instant, so a grace of zero fails correct runs.

use std::collections::HashSet;
use std::io;
use std::net::{Shutdown, SocketAddr};
use std::time::Duration;

use nix::errno::Errno;
use tcpcheck::differ::ModelVerdict;
use tcpcheck::runner::{run_text, IpVersion, RunOptions, ScenarioRun, Verdict};
use tcpcheck::sandbox::Packet;
use tcpcheck::stack::{
    CallResult, Capabilities, Clock, Fd, Purpose, SockOpt, Stack, StackFactory, StackKind,
    TcpState, Wait,
};
use tcpcheck_model::profile::ProfileKind;
use tcpcheck_model::wire::SegmentRepr;
use tcpcheck_smoltcp::{SmoltcpConfig, SmoltcpStack};

/// A connect() nobody answers: the SYN and its first two retransmissions.
const SYNS: &str = "\
0   socket(..., SOCK_STREAM, IPPROTO_TCP) = 3
+0  fcntl(3, F_SETFL, O_RDWR|O_NONBLOCK) = 0
+0  connect(3, ..., ...) = -1 EINPROGRESS (Operation now in progress)
+0  > S 0:0(0) <...>
+1  > S 0:0(0) <...>
+2  > S 0:0(0) <...>
";

const TICK: Duration = Duration::from_micros(1);

/// smoltcp, with every segment it sends a second time (the same sequence number, control
/// bits and length; its timestamp is fresh) stamped one tick early; `real`: saying its clock
/// is real.
struct EarlyByOneTick {
    inner: SmoltcpStack,
    sent: HashSet<(u32, u8, usize)>,
    real: bool,
}

impl EarlyByOneTick {
    fn hold(&mut self, p: Packet) -> io::Result<Packet> {
        let seg = SegmentRepr::parse(&p.bytes).expect("smoltcp sends TCP");
        let key = (seg.tcp.seq.0, seg.tcp.flags.bits(), seg.tcp.payload.len());
        if self.sent.insert(key) {
            return Ok(p);
        }
        Ok(Packet {
            at: p.at - TICK,
            ..p
        })
    }
}

impl Stack for EarlyByOneTick {
    fn name(&self) -> String {
        format!("{} (retransmitting a tick early)", self.inner.name())
    }
    fn capabilities(&self) -> Capabilities {
        self.inner.capabilities()
    }
    fn clock(&self) -> Clock {
        if self.real {
            Clock::Real
        } else {
            self.inner.clock()
        }
    }
    fn now(&self) -> Duration {
        self.inner.now()
    }
    fn inject(&mut self, packet: &[u8]) -> io::Result<()> {
        self.inner.inject(packet)
    }
    fn settle(&mut self) -> io::Result<Vec<Packet>> {
        let out = self.inner.settle()?;
        out.into_iter().map(|p| self.hold(p)).collect()
    }
    fn next_packet(&mut self, deadline: Duration) -> io::Result<Option<Packet>> {
        match self.inner.next_packet(deadline)? {
            Some(p) => self.hold(p).map(Some),
            None => Ok(None),
        }
    }
    fn socket(&mut self, v6: bool) -> CallResult<Fd> {
        self.inner.socket(v6)
    }
    fn bind(&mut self, fd: Fd, addr: SocketAddr) -> CallResult<()> {
        self.inner.bind(fd, addr)
    }
    fn listen(&mut self, fd: Fd, backlog: i32) -> CallResult<()> {
        self.inner.listen(fd, backlog)
    }
    fn accept(&mut self, fd: Fd, wait: Wait) -> CallResult<(Fd, SocketAddr)> {
        self.inner.accept(fd, wait)
    }
    fn connect(&mut self, fd: Fd, addr: SocketAddr) -> CallResult<()> {
        self.inner.connect(fd, addr)
    }
    fn write(&mut self, fd: Fd, data: &[u8]) -> CallResult<usize> {
        self.inner.write(fd, data)
    }
    fn read(&mut self, fd: Fd, max: usize, wait: Wait) -> CallResult<Vec<u8>> {
        self.inner.read(fd, max, wait)
    }
    fn shutdown(&mut self, fd: Fd, how: Shutdown) -> CallResult<()> {
        self.inner.shutdown(fd, how)
    }
    fn close(&mut self, fd: Fd) -> CallResult<()> {
        self.inner.close(fd)
    }
    fn setsockopt(&mut self, fd: Fd, opt: SockOpt) -> CallResult<()> {
        self.inner.setsockopt(fd, opt)
    }
    fn take_error(&mut self, fd: Fd) -> CallResult<Option<Errno>> {
        self.inner.take_error(fd)
    }
    fn set_nonblocking(&mut self, fd: Fd, on: bool) -> CallResult<()> {
        self.inner.set_nonblocking(fd, on)
    }
    fn writable(&mut self, fd: Fd) -> CallResult<bool> {
        self.inner.writable(fd)
    }
    fn state(&mut self, fd: Fd) -> io::Result<TcpState> {
        self.inner.state(fd)
    }
    fn end(&mut self) -> io::Result<usize> {
        self.inner.end()
    }
}

/// `EarlyByOneTick`, on a clock said to be real (`true`) or its own virtual one.
struct EarlyFactory(bool);

impl StackFactory for EarlyFactory {
    fn kind(&self) -> StackKind {
        StackKind::Smoltcp
    }
    fn open(&self, _purpose: Purpose) -> io::Result<Box<dyn Stack>> {
        Ok(Box::new(EarlyByOneTick {
            inner: SmoltcpStack::new(SmoltcpConfig::default()),
            sent: HashSet::new(),
            real: self.0,
        }))
    }
}

fn run(stack: &'static dyn StackFactory) -> ScenarioRun {
    let opts = RunOptions {
        stack,
        model: Some(ProfileKind::Rfc9293),
        ..RunOptions::default()
    };
    run_text("syns.pkt", SYNS, IpVersion::V4, &opts)
}

#[test]
fn smoltcp_retransmits_exactly_when_due() {
    let r = run(&tcpcheck_smoltcp::FACTORY);
    assert_eq!(r.verdict, Verdict::Pass, "{}\n{}", r.describe(), r.trace);
    assert_eq!(r.model, ModelVerdict::Agree, "{}", r.describe());
}

#[test]
fn a_retransmission_one_tick_early_passes_in_a_kernel_timer_window() {
    let r = run(&EarlyFactory(true));
    assert_eq!(r.verdict, Verdict::Pass, "{}\n{}", r.describe(), r.trace);
    assert_eq!(r.model, ModelVerdict::Agree, "{}", r.describe());
}

#[test]
fn a_retransmission_one_tick_early_diverges_on_a_virtual_clock() {
    let r = run(&EarlyFactory(false));
    let ModelVerdict::Diverge(d) = &r.model else {
        panic!(
            "the model must see the late SYN: {}\n{}",
            r.describe(),
            r.trace
        );
    };
    assert_eq!(d.line, 5, "the first retransmission: {}", r.describe());
    assert!(d.rule.to_string().contains("retransmission"), "{}", d.rule);
    assert!(
        matches!(r.verdict, Verdict::Fail(_)),
        "the model's verdict decides for smoltcp: {}",
        r.describe()
    );
}
