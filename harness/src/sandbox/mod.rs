//! A private network namespace holding the stack under test, wired to the harness by a TUN
//! device.
//!
//! Inside: `lo` up, `tun0` with 192.0.2.1/24 and 2001:db8::1/64 (the stack's addresses). The
//! harness plays the remote hosts at the other addresses of those subnets. Nothing outside the
//! namespace is touched, and everything is released when the sandbox drops: its descriptors
//! close and the thread returns to the namespace it came from.

mod genl;
mod netns;
pub mod reaper;
mod rtnl;
pub mod sysctl;

use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::os::fd::BorrowedFd;
use std::time::{Duration, Instant};

pub use netns::NetNs;

use crate::io::barrier::{self, Kind};
use crate::io::tap::{self, Stamp, Tap};
use crate::io::tun::{Offload, Received, Tun};
use crate::trace::{EventKind, Trace};

/// The stack's IPv4 address.
pub const STACK_V4: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 1);
/// The first remote host's IPv4 address; others are 192.0.2.3 and up.
pub const PEER_V4: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 2);
/// The stack's IPv6 address.
pub const STACK_V6: Ipv6Addr = Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 1);
/// The first remote host's IPv6 address; others are 2001:db8::3 and up.
pub const PEER_V6: Ipv6Addr = Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 2);

/// How long the barrier's echo reply may take before the sandbox reports the stack stuck.
/// Replies take microseconds (design §3); a second covers a loaded CI machine many times over.
const BARRIER_DEADLINE: Duration = Duration::from_secs(1);

const CONGESTION_CONTROL: &str = "net.ipv4.tcp_congestion_control";

/// How long IPv6 configuration may take after the link comes up. It usually takes well
/// under a millisecond, but the addrconf work shares a kernel work queue with namespace
/// teardown: with dozens of sandboxes created and destroyed at once on two cores, 2 s was
/// seen to run out. Waiting longer costs nothing when it is quick.
const IPV6_READY_DEADLINE: Duration = Duration::from_secs(10);

/// How often the IPv6 readiness probe is sent again. The address is usually live a few
/// tens of microseconds after the link comes up; a millisecond between probes was most of
/// an IPv6 sandbox's set-up time. A probe sent too early is dropped and costs nothing.
const IPV6_PROBE_INTERVAL: Duration = Duration::from_micros(50);

/// How long the barrier waits for its echo reply before it looks at `tun0`'s queueing
/// discipline (see `Sandbox::qdisc_drops_everything`). Replies take microseconds; this is
/// only what a step costs while a script has the device drop everything.
const QDISC_LOOK_AFTER: Duration = Duration::from_millis(2);

/// How long the first sandbox of a process waits for the kernel to start stamping packets.
const STAMPING_DEADLINE: Duration = Duration::from_secs(1);

/// Namespace-wide settings applied before any device exists, so they hold for `tun0` too:
/// no router solicitations, no duplicate address detection, no automatic link-local address.
/// They cut the IPv6 chatter at its source; what is left is filtered explicitly.
const QUIET_IPV6: [(&str, &str); 4] = [
    ("net.ipv6.conf.default.accept_ra", "0"),
    ("net.ipv6.conf.default.router_solicitations", "0"),
    ("net.ipv6.conf.default.dad_transmits", "0"),
    ("net.ipv6.conf.default.addr_gen_mode", "1"),
];

/// What a script asks of the device beside the defaults: packetdrill's `--mtu`, `--mss`,
/// `--local_ip` and `--remote_ip`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Wire {
    /// `tun0`'s MTU; `None` leaves the TUN driver's 1500.
    pub mtu: Option<u32>,
    /// See [`SandboxConfig::inbound_gso`].
    pub inbound_gso: Option<u16>,
    /// See [`SandboxConfig::addresses`].
    pub addresses: Option<Addresses>,
}

/// The stack's address and the first remote host's, as a script names them (packetdrill's
/// `--local_ip` and `--remote_ip`), both of one family; later peers follow the first
/// (`peer + n - 1`). They stand in for 192.0.2.1 and 192.0.2.2 (or 2001:db8::1 and ::2).
///
/// Any address is as isolated as the documentation ones here: the namespace holds only
/// `lo` and `tun0`, whose every packet goes to the harness and nowhere else, so a script's
/// private or public address reaches no real host. The stack's address is configured on
/// `tun0` with the longest prefix that also holds the peer's, so the peer is on-link.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Addresses {
    pub stack: IpAddr,
    pub peer: IpAddr,
}

impl Addresses {
    /// The stack's prefix on `tun0`: packetdrill's (/16 for IPv4, /64 for IPv6, its default
    /// netmask); a peer outside it gets a host route through `tun0`.
    pub fn prefix_len(&self) -> u8 {
        if self.stack.is_ipv6() {
            64
        } else {
            16
        }
    }

    /// Whether the peer (and the peers after it) are outside the stack's prefix.
    fn peer_off_link(&self) -> bool {
        let bits = u32::from(self.prefix_len());
        match (self.stack, self.peer) {
            (IpAddr::V4(a), IpAddr::V4(b)) => (u32::from(a) ^ u32::from(b)) >> (32 - bits) != 0,
            (IpAddr::V6(a), IpAddr::V6(b)) => (u128::from(a) ^ u128::from(b)) >> (128 - bits) != 0,
            _ => true,
        }
    }
}

impl Wire {
    /// packetdrill's corpus runs IPv6 with `--mtu=1520` (its `run_all.py`), so that a SYN
    /// offers an MSS of 1460 as over IPv4 and the scripts' numbers hold for both versions;
    /// the TUN driver's own 1500 gives 1440. A run over IPv6 takes that MTU unless its
    /// script sets one.
    pub fn for_ipv6(self, v6: bool) -> Wire {
        Wire {
            mtu: self.mtu.or(v6.then_some(IPV6_MTU)),
            ..self
        }
    }
}

/// The MTU of an IPv6 run (see [`Wire::for_ipv6`]).
pub const IPV6_MTU: u32 = 1520;

/// How a sandbox is set up.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SandboxConfig {
    /// Configure 2001:db8::1 on `tun0` and wait until it answers. Off for a check that uses
    /// IPv4 alone: no IPv6 address and no readiness wait.
    pub ipv6: bool,
    /// Quiet IPv6 and CUBIC as namespace-wide defaults (sysctls), for whatever the check
    /// creates. Without them only `tun0` is quieted (no link-local address, set over
    /// netlink) and the namespace keeps the host's congestion control, which
    /// [`crate::stack::linux::LinuxStack`] sets on every socket it makes anyway. A sysctl
    /// costs more the more namespaces the machine has made: /proc/sys lookups walk a hash
    /// chain holding every dead namespace's entries (seen at 2 ms a write after a few
    /// thousand sandboxes, a quarter of the explorer's time).
    pub namespace_defaults: bool,
    /// Stamp captured packets with the kernel's send time ([`crate::io::tap`]), so that a
    /// harness thread woken late does not make the stack look late. It costs a packet
    /// socket per sandbox, and closing one waits for an RCU grace period
    /// (`synchronize_net()` as its protocol hook is unregistered): 2,000 explorer cases
    /// took 10.7 s with it and 2.2 s without, on two jobs. The runner keeps it; the
    /// explorer, whose cases are short and whose every divergence is replayed before it is
    /// reported, does without.
    pub kernel_stamps: bool,
    /// What the kernel may leave to `tun0` (see [`crate::io::tun`]): packetdrill's
    /// offloads for scripts ([`crate::stack::Purpose::Scenario`] and `Script`), so that
    /// segments are as packetdrill's scripts expect them (TSO super-segments); none by
    /// default and for the explorer, whose model judges every segment as it comes.
    pub offload: Offload,
    /// `tun0`'s MTU; `None` leaves the TUN driver's 1500.
    pub mtu: Option<u32>,
    /// Inject TCP segments with more payload than this as GSO packets of segments this size
    /// (packetdrill's `--mss`), as a NIC's receive offload would hand them up.
    pub inbound_gso: Option<u16>,
    /// The script's own addresses, in place of the sandbox's of their family.
    pub addresses: Option<Addresses>,
}

impl Default for SandboxConfig {
    fn default() -> Self {
        SandboxConfig {
            ipv6: true,
            namespace_defaults: true,
            kernel_stamps: true,
            offload: Offload::None,
            mtu: None,
            inbound_gso: None,
            addresses: None,
        }
    }
}

/// What [`Sandbox::read_one`] stopped on.
enum Read {
    Packet(Packet),
    Awaited,
    Deadline,
}

/// A packet the stack sent, with the time the kernel sent it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Packet {
    /// When the kernel sent it, since the sandbox started, monotonic: its own stamp (see
    /// `io::tap`), or `read_at` when it gave none.
    pub at: Duration,
    /// When the harness read it from the TUN: later than `at` by however long the harness
    /// was busy or descheduled, which says nothing about the stack.
    pub read_at: Duration,
    pub bytes: Vec<u8>,
    /// A TCP segment the kernel left to the device to cut (TSO/GSO) stands for a train of
    /// segments of this size, the last one shorter; `None` for a packet as it goes on the
    /// wire. Its checksum is complete either way.
    pub gso_size: Option<u16>,
}

pub struct Sandbox {
    tun: Tun,
    /// The kernel's send times of what the TUN carries; `None` if no packet socket could be
    /// opened (noted in the trace), and packets are then timed when read.
    tap: Option<Tap>,
    epoch: Instant,
    trace: Trace,
    barrier_seq: u16,
    buf: Vec<u8>,
    inbound_gso: Option<u16>,
    /// The remote and local addresses of the barrier's ICMP echoes.
    probe_v4: (Ipv4Addr, Ipv4Addr),
    probe_v6: (Ipv6Addr, Ipv6Addr),
    // Dropped last: the thread leaves the namespace after the TUN has closed.
    netns: NetNs,
}

/// `tc qdisc add dev DEV root KIND` (no options) in the calling thread's namespace, for a
/// scenario's settings file run without a shell (`runner::native_sh`).
pub fn add_root_qdisc(dev: &str, kind: &str) -> io::Result<()> {
    let name = std::ffi::CString::new(dev)
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "a NUL in a device name"))?;
    // SAFETY: a NUL-terminated string that outlives the call.
    let index = unsafe { libc::if_nametoindex(name.as_ptr()) };
    if index == 0 {
        return Err(io::Error::new(
            io::ErrorKind::NotFound,
            format!("Cannot find device \"{dev}\""),
        ));
    }
    rtnl::Rtnl::open()?.add_root_qdisc(index, kind)
}

/// `ip tcp_metrics flush all` in the calling thread's namespace.
pub fn flush_tcp_metrics() -> io::Result<()> {
    genl::flush_tcp_metrics()
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        // Its close waits for a grace period that nothing here needs (see `reaper`).
        if let Some(tap) = self.tap.take() {
            reaper::close_later(tap.into_fd());
        }
    }
}

impl Sandbox {
    /// Creates the namespace on the calling thread and sets it up for IPv4 and IPv6.
    pub fn new() -> io::Result<Sandbox> {
        Sandbox::with_config(SandboxConfig::default())
    }

    /// Creates the namespace on the calling thread and sets it up as `config` says.
    pub fn with_config(config: SandboxConfig) -> io::Result<Sandbox> {
        let netns = NetNs::enter_new()?;
        if config.namespace_defaults {
            // Written without reading back: these values are the kernel's own, never clamped.
            for (name, value) in QUIET_IPV6 {
                sysctl::set(name, value)?;
            }
            // A new namespace inherits the host's congestion control. BBR (this machine's)
            // paces through a timer, so a FIN or data segment can leave milliseconds after
            // the call that sent it and a step's reaction would depend on the host. Linux's
            // own default, CUBIC, sends at once; reno is the fallback every kernel has.
            if sysctl::set(CONGESTION_CONTROL, "cubic").is_err() {
                sysctl::set(CONGESTION_CONTROL, "reno")?;
            }
        }
        let tun = Tun::create("tun0", config.offload)?;
        let mut rtnl = rtnl::Rtnl::open()?;
        if let Some(mtu) = config.mtu {
            rtnl.set_mtu(tun.index(), mtu)?;
        }
        // A new namespace's loopback is always its first device.
        let lo = 1;
        rtnl.link_up(lo)?;
        let (mut probe_v4, mut probe_v6) = ((PEER_V4, STACK_V4), (PEER_V6, STACK_V6));
        let mut peer_route = None;
        match config.addresses {
            Some(
                a @ Addresses {
                    stack: IpAddr::V4(stack),
                    peer: IpAddr::V4(peer),
                },
            ) => {
                rtnl.add_address(tun.index(), IpAddr::V4(stack), a.prefix_len())?;
                peer_route = a.peer_off_link().then_some(a.peer);
                probe_v4 = (peer, stack);
            }
            _ => rtnl.add_address(tun.index(), IpAddr::V4(STACK_V4), 24)?,
        }
        if config.ipv6 {
            match config.addresses {
                Some(
                    a @ Addresses {
                        stack: IpAddr::V6(stack),
                        peer: IpAddr::V6(peer),
                    },
                ) => {
                    rtnl.add_address(tun.index(), IpAddr::V6(stack), a.prefix_len())?;
                    peer_route = a.peer_off_link().then_some(a.peer);
                    probe_v6 = (peer, stack);
                }
                _ => rtnl.add_address(tun.index(), IpAddr::V6(STACK_V6), 64)?,
            }
        }
        if !config.namespace_defaults {
            rtnl.no_ipv6_link_local(tun.index())?;
        }
        rtnl.link_up(tun.index())?;
        if let Some(peer) = peer_route {
            // After the link is up: the kernel refuses a route through a link that is down.
            // Peers after the first are the next hosts: a /24 (a /120 for IPv6) holds them.
            let len = if peer.is_ipv6() { 120 } else { 24 };
            rtnl.add_route(tun.index(), peer, len)?;
        }
        rtnl.set_noqueue(tun.index())?;
        let (tap, tap_error) = match config.kernel_stamps.then(|| Tap::open(tun.index())) {
            None => (None, None),
            Some(Ok(t)) => (Some(t), None),
            Some(Err(e)) => (None, Some(e)),
        };
        let mut sandbox = Sandbox {
            tun,
            tap,
            epoch: Instant::now(),
            trace: Trace::default(),
            barrier_seq: 0,
            buf: vec![0; 65_536],
            inbound_gso: config.inbound_gso,
            probe_v4,
            probe_v6,
            netns,
        };
        let stamping = sandbox.wait_stamping_live()?;
        if config.ipv6 {
            sandbox.wait_ipv6_ready()?;
        }
        sandbox.trace = Trace::default();
        sandbox.epoch = Instant::now();
        if !stamping {
            sandbox.note(EventKind::Note {
                text: format!(
                    "the kernel did not start stamping packets within {STAMPING_DEADLINE:?}: \
                     packets are timed when the harness reads them"
                ),
            });
        }
        if let Some(e) = tap_error {
            sandbox.note(EventKind::Note {
                text: format!(
                    "no packet socket on tun0 ({e}): packets are timed when the harness \
                     reads them, not when the kernel sent them"
                ),
            });
        }
        Ok(sandbox)
    }

    /// Waits, once per process, until the kernel stamps what the stack sends. It turns
    /// stamping on a moment after it is first asked (`net_enable_timestamp()` defers the
    /// switch to a work item, `netstamp_work`); until then the tap's copies carry no stamp
    /// and the first run's packets would be timed when read, as on a loaded machine. An
    /// echo request answered with a stamp proves it is on, and [`tap`] keeps it on for the
    /// life of the process. False when it did not come on in time (or there is no tap).
    fn wait_stamping_live(&mut self) -> io::Result<bool> {
        use std::sync::atomic::{AtomicBool, Ordering};
        static LIVE: AtomicBool = AtomicBool::new(false);
        if self.tap.is_none() {
            return Ok(false);
        }
        if LIVE.load(Ordering::Relaxed) {
            return Ok(true);
        }
        let give_up = self.now() + STAMPING_DEADLINE;
        // Numbered down from the top, far from the barrier's own count up from 1, so that
        // a late answer cannot be taken for a barrier's.
        for seq in (0..=u16::MAX).rev() {
            self.tun
                .send(&barrier::probe(self.probe_v4.0, self.probe_v4.1, seq))?;
            let retry = (self.now() + Duration::from_millis(1)).min(give_up);
            loop {
                if let Some(r) = self.tun.try_recv(&mut self.buf)? {
                    let bytes = &self.buf[..r.len];
                    if barrier::classify(bytes) != Kind::BarrierReply(seq) {
                        continue;
                    }
                    let bytes = bytes.to_vec();
                    let stamped = match &mut self.tap {
                        Some(t) => matches!(t.sent(&as_sent(&bytes, &r))?, Stamp::Sent(_)),
                        None => false,
                    };
                    if stamped {
                        LIVE.store(true, Ordering::Relaxed);
                        return Ok(true);
                    }
                    break;
                }
                let now = self.now();
                if now >= retry {
                    break;
                }
                self.tun.wait_readable(retry - now)?;
            }
            if self.now() >= give_up {
                return Ok(false);
            }
            std::thread::sleep(Duration::from_millis(1));
        }
        Ok(false)
    }

    /// Waits until the stack answers on its IPv6 address.
    ///
    /// Even with IFA_F_NODAD the kernel finishes configuring an IPv6 address (its local route)
    /// in a work queue after the link comes up, so for a moment a SYN to it is dropped. An
    /// ICMPv6 echo answered is proof the address is live; until then, probe again every
    /// [`IPV6_PROBE_INTERVAL`].
    fn wait_ipv6_ready(&mut self) -> io::Result<()> {
        let give_up = self.now() + IPV6_READY_DEADLINE;
        for seq in 1.. {
            self.tun
                .send(&barrier::probe_v6(self.probe_v6.0, self.probe_v6.1, seq))?;
            let retry = (self.now() + IPV6_PROBE_INTERVAL).min(give_up);
            loop {
                match self.read_one(retry, Some(Kind::ReadyReply(seq)))? {
                    Read::Awaited => return Ok(()),
                    Read::Packet(_) => continue,
                    Read::Deadline => break,
                }
            }
            if self.now() >= give_up {
                break;
            }
        }
        Err(io::Error::new(
            io::ErrorKind::TimedOut,
            format!(
                "{} did not become reachable within {IPV6_READY_DEADLINE:?}",
                self.probe_v6.1
            ),
        ))
    }

    /// Time since the sandbox started.
    pub fn now(&self) -> Duration {
        self.epoch.elapsed()
    }

    /// The monotonic clock and the wall clock (the one the tap's stamps use) read as one
    /// instant. A thread preempted between the two reads would shift every stamp converted
    /// with them by the time it lost, making a packet look sent before the write that caused
    /// it; so the wall clock is read between two monotonic reads, and the closest of a few
    /// tries is kept, its monotonic time the midpoint.
    fn clocks_now(&self) -> (Duration, Duration) {
        let mut best: Option<(Duration, Duration, Duration)> = None;
        for _ in 0..4 {
            let before = self.now();
            let real = tap::realtime_now();
            let after = self.now();
            let gap = after.saturating_sub(before);
            if best.is_none_or(|(g, _, _)| gap < g) {
                best = Some((gap, before + gap / 2, real));
            }
            if gap <= Duration::from_micros(5) {
                break;
            }
        }
        let (_, mono, real) = best.expect("at least one try");
        (mono, real)
    }

    /// The TUN device, for measuring the raw path without the trace.
    pub fn tun(&self) -> &Tun {
        &self.tun
    }

    /// The instant `at` after the sandbox started.
    pub fn instant_at(&self, at: Duration) -> Instant {
        self.epoch + at
    }

    pub fn netns(&self) -> BorrowedFd<'_> {
        self.netns.fd()
    }

    pub fn trace(&self) -> &Trace {
        &self.trace
    }

    pub fn trace_mut(&mut self) -> &mut Trace {
        &mut self.trace
    }

    pub fn note(&mut self, kind: EventKind) {
        let at = self.now();
        self.trace.push(at, kind);
    }

    /// Reads a per-namespace sysctl (`net.ipv4.tcp_syn_retries`).
    pub fn sysctl(&self, name: &str) -> io::Result<String> {
        sysctl::read(name)
    }

    /// Sets a per-namespace sysctl and returns the value read back, without a note in the
    /// trace (the caller records it).
    pub fn write_sysctl(&self, name: &str, value: &str) -> io::Result<String> {
        sysctl::write(name, value)
    }

    /// Sets a per-namespace sysctl and returns the value read back.
    pub fn set_sysctl(&mut self, name: &str, value: &str) -> io::Result<String> {
        let kept = sysctl::write(name, value)?;
        self.note(EventKind::Sysctl {
            name: name.to_string(),
            value: kept.clone(),
        });
        Ok(kept)
    }

    /// Sends a packet to the stack.
    pub fn inject(&mut self, packet: &[u8]) -> io::Result<()> {
        // Timed as it is handed over: the kernel runs its receive path inside the write, so
        // what it sends in reply is stamped (see `io::tap`) before the write returns.
        let at = self.now();
        let gso = self
            .inbound_gso
            .filter(|&size| tcp_payload_len(packet) > usize::from(size));
        self.tun.send_gso(packet, gso)?;
        self.trace.push(
            at,
            EventKind::Injected {
                packet: packet.to_vec(),
                note: None,
            },
        );
        Ok(())
    }

    /// Everything the stack has sent in reaction to what it was given so far (packets, socket
    /// calls), found by the barrier (see `io::barrier`): no sleeping.
    pub fn settle(&mut self) -> io::Result<Vec<Packet>> {
        let seq = self.send_probe("")?;
        let mut out = Vec::new();
        let deadline = self.now() + BARRIER_DEADLINE;
        let mut look_at_qdisc = Some(self.now() + QDISC_LOOK_AFTER);
        loop {
            let until = look_at_qdisc.map_or(deadline, |t| t.min(deadline));
            match self.read_one(until, Some(Kind::BarrierReply(seq)))? {
                Read::Awaited => return Ok(out),
                Read::Packet(packet) => out.push(packet),
                Read::Deadline if look_at_qdisc.is_some() && self.now() < deadline => {
                    look_at_qdisc = None;
                    if self.qdisc_drops_everything()? {
                        return Ok(out);
                    }
                }
                Read::Deadline => {
                    return Err(io::Error::new(
                        io::ErrorKind::TimedOut,
                        format!(
                            "barrier: no echo reply within {BARRIER_DEADLINE:?}; the stack \
                             stopped answering ICMP echo on {}",
                            self.probe_v4.1
                        ),
                    ))
                }
            }
        }
    }

    /// Injects the next barrier probe (an ICMP echo request), traced as filtered with `what`
    /// after its number, and returns that number.
    fn send_probe(&mut self, what: &str) -> io::Result<u16> {
        self.barrier_seq = self.barrier_seq.wrapping_add(1);
        let seq = self.barrier_seq;
        let probe = barrier::probe(self.probe_v4.0, self.probe_v4.1, seq);
        let at = self.now();
        self.tun.send(&probe)?;
        self.trace.push(
            at,
            EventKind::Filtered {
                packet: probe,
                why: format!("barrier probe {seq}{what}"),
            },
        );
        Ok(seq)
    }

    /// Whether `tun0`'s root queueing discipline drops everything the stack sends, the
    /// barrier's echo reply with it: a script may install one (`tc qdisc replace dev tun0
    /// root pfifo limit 0`, packetdrill's way of emulating a congested host). Proved by a
    /// probe whose reply the discipline counts as dropped while its queue stays empty: the
    /// kernel answers an echo within the write that injects it, so the reply has met the
    /// discipline when the write returns. Then the barrier holds without a reply: the
    /// discipline is first in, first out, so all the stack sent before it was read or
    /// dropped too.
    fn qdisc_drops_everything(&mut self) -> io::Result<bool> {
        let mut rtnl = rtnl::Rtnl::open()?;
        let index = self.tun.index();
        let Some((_, drops_before)) = rtnl.root_qdisc_stats(index)? else {
            return Ok(false);
        };
        self.send_probe(": does tun0's qdisc drop every packet?")?;
        let Some((qlen, drops_after)) = rtnl.root_qdisc_stats(index)? else {
            return Ok(false);
        };
        let dropped = drops_after != drops_before && qlen == 0;
        if dropped {
            self.note(EventKind::Note {
                text: format!(
                    "barrier: tun0's qdisc drops every packet (its drop count went from \
                     {drops_before} to {drops_after} with nothing queued, the echo reply \
                     among them): the step ends without a reply"
                ),
            });
        }
        Ok(dropped)
    }

    /// The next packet the stack sends, waiting until `deadline` (time since the sandbox
    /// started) at the latest: for timers.
    pub fn next_packet(&mut self, deadline: Duration) -> io::Result<Option<Packet>> {
        match self.read_one(deadline, None)? {
            Read::Packet(packet) => Ok(Some(packet)),
            Read::Awaited | Read::Deadline => Ok(None),
        }
    }

    /// Reads until a packet that belongs to the check (TCP or other non-noise) or the probe
    /// answer `awaited` arrives, or `deadline` passes. Everything read is recorded; noise and
    /// answers to earlier probes are recorded as filtered and skipped.
    fn read_one(&mut self, deadline: Duration, awaited: Option<Kind>) -> io::Result<Read> {
        loop {
            if let Some(r) = self.tun.try_recv(&mut self.buf)? {
                let (read_at, real_now) = self.clocks_now();
                let bytes = self.buf[..r.len].to_vec();
                let gso_size = r.gso_size;
                let at = match &mut self.tap {
                    // Its age by the clock the kernel stamps with, taken from the monotonic
                    // read time: immune to a step of the wall clock at any other moment.
                    Some(t) => match t.sent(&as_sent(&bytes, &r))? {
                        Stamp::Sent(sent) => read_at.saturating_sub(real_now.saturating_sub(sent)),
                        Stamp::Unknown => read_at,
                    },
                    None => read_at,
                };
                let kind = barrier::classify(&bytes);
                let why = match kind {
                    Kind::Tcp | Kind::Other => {
                        self.trace.push(
                            at,
                            EventKind::Captured {
                                packet: bytes.clone(),
                                note: None,
                            },
                        );
                        return Ok(Read::Packet(Packet {
                            at,
                            read_at,
                            bytes,
                            gso_size,
                        }));
                    }
                    Kind::Noise(why) => why.to_string(),
                    answer if awaited.as_ref() == Some(&answer) => {
                        self.trace.push(
                            at,
                            EventKind::Filtered {
                                packet: bytes,
                                why: match answer {
                                    Kind::BarrierReply(seq) => format!("barrier reply {seq}"),
                                    _ => format!("answer to {answer:?}"),
                                },
                            },
                        );
                        return Ok(Read::Awaited);
                    }
                    stale => format!("late probe answer {stale:?}"),
                };
                self.trace
                    .push(at, EventKind::Filtered { packet: bytes, why });
                continue;
            }
            let now = self.now();
            if now >= deadline {
                return Ok(Read::Deadline);
            }
            self.tun.wait_readable(deadline - now)?;
        }
    }
}

/// `packet` as the kernel handed it to the device: with the checksum it left half made, if
/// the TUN read finished one (the tap's copy is taken before the device).
fn as_sent<'a>(packet: &'a [u8], r: &Received) -> std::borrow::Cow<'a, [u8]> {
    match r.partial {
        None => std::borrow::Cow::Borrowed(packet),
        Some((at, was)) => {
            let mut raw = packet.to_vec();
            raw[at..at + 2].copy_from_slice(&was);
            std::borrow::Cow::Owned(raw)
        }
    }
}

/// The TCP payload length of an IPv4 or IPv6 packet without extension headers; 0 for
/// anything else.
fn tcp_payload_len(packet: &[u8]) -> usize {
    let (ip_hdr, proto, total) = match packet.first().map(|b| b >> 4) {
        Some(4) if packet.len() >= 20 => (
            usize::from(packet[0] & 0x0f) * 4,
            packet[9],
            usize::from(u16::from_be_bytes([packet[2], packet[3]])),
        ),
        Some(6) if packet.len() >= 40 => (
            40,
            packet[6],
            40 + usize::from(u16::from_be_bytes([packet[4], packet[5]])),
        ),
        _ => return 0,
    };
    if proto != 6 || packet.len() < ip_hdr + 20 {
        return 0;
    }
    let tcp_hdr = usize::from(packet[ip_hdr + 12] >> 4) * 4;
    total.min(packet.len()).saturating_sub(ip_hdr + tcp_hdr)
}
