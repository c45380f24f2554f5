//! RFC 9293 3.9.2.1, the source route TCP passes between the application and IP: the one
//! the application sets (IP_OPTIONS, a Linux call on the stack's descriptor), and the
//! return route built from a received one. A script cannot state IP options.
//!
//! A source-routed packet's TCP checksum covers its final destination, not the next hop its
//! IP header names, so the stack's packets are read through the codec's views, whose
//! structure checks do not look at checksums, not through `SegmentRepr` (whose pseudo-header
//! is the IP header's).

use std::net::{Ipv4Addr, SocketAddr};
use std::time::Duration;

use tcpcheck_model::seq::SeqNumber;
use tcpcheck_model::wire::ipv4::{option_kind, option_of_kind as option, route_option};
use tcpcheck_model::wire::{IpRepr, Ipv4Packet, TcpFlags, TcpPacket, IPPROTO_TCP};

use super::{call, connect, fail, seam, CheckStep, Outcome};
use crate::peer::Peer;
use crate::stack::{Capability, Recorder, Wait};
use crate::trace::EventKind;

const PORT: u16 = 8080;
const PEER: Ipv4Addr = crate::sandbox::PEER_V4;
const STACK: Ipv4Addr = crate::sandbox::STACK_V4;
/// Routers on the TUN's subnet that source routes name.
const HOP_A: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 7);
const HOP_B: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 8);
const HOP_C: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 9);
use option_kind::{LSRR, RR};

/// A TCP segment the stack sent, read from its IPv4 packet.
#[derive(Debug)]
struct Raw {
    dst: Ipv4Addr,
    options: Vec<u8>,
    src_port: u16,
    dst_port: u16,
    seq: u32,
    flags: u8,
    payload: Vec<u8>,
}

fn read_ipv4(bytes: &[u8]) -> Option<Raw> {
    let ip = Ipv4Packet::new_checked(bytes).ok()?;
    if ip.protocol() != IPPROTO_TCP {
        return None;
    }
    let tcp = TcpPacket::new_checked(ip.payload_ref()).ok()?;
    Some(Raw {
        dst: ip.dst_addr(),
        options: ip.options().to_vec(),
        src_port: tcp.src_port(),
        dst_port: tcp.dst_port(),
        seq: tcp.seq_number().0,
        flags: tcp.flags().0,
        payload: tcp.payload().to_vec(),
    })
}

/// What the stack sent, once settled; up to a second for the first packet.
fn raw_sent(r: &mut Recorder) -> CheckStep<Vec<Raw>> {
    let mut packets = seam(r.settle())?;
    if packets.is_empty() {
        let deadline = r.now() + Duration::from_secs(1);
        if let Some(p) = seam(r.next_packet(deadline))? {
            packets.push(p);
            packets.extend(seam(r.settle())?);
        }
    }
    Ok(packets.iter().filter_map(|p| read_ipv4(&p.bytes)).collect())
}

/// The one segment with exactly the control bits `bits` (PSH aside).
fn one<'a>(sent: &'a [Raw], bits: TcpFlags, what: &str) -> CheckStep<&'a Raw> {
    let psh = TcpFlags::PSH.0;
    let found: Vec<&Raw> = sent.iter().filter(|s| s.flags & !psh == bits.0).collect();
    match found[..] {
        [one] => Ok(one),
        _ => fail(
            format!("{what}: one segment with flags {:#x}", bits.0),
            format!("{sent:?}"),
        ),
    }
}

/// A loose source route through `hop`: pointer `ptr`, padded with End of Options.
fn lsrr(ptr: u8, hop: Ipv4Addr) -> Vec<u8> {
    route(LSRR, ptr, hop)
}

/// A route option of `kind` holding one address; one address always fits an option.
fn route(kind: u8, ptr: u8, addr: Ipv4Addr) -> Vec<u8> {
    route_option(kind, ptr, &[addr]).unwrap_or_default()
}

/// The route option of `raw` (of `want`'s kind) is exactly `want` (without its padding).
fn route_is(raw: &Raw, want: &[u8], what: &str) -> CheckStep<()> {
    let want = &want[..usize::from(want[1])];
    match option(&raw.options, want[0]) {
        Some(got) if got == want => Ok(()),
        got => fail(
            format!("{what} with the source route {want:?}"),
            format!("{got:?} in {raw:?}"),
        ),
    }
}

/// Source-routed packets are accepted only with accept_source_route on (off by default:
/// ip_rcv_options() drops them).
fn accept_source_routes(r: &mut Recorder) -> CheckStep<()> {
    for dev in ["all", "tun0"] {
        let name = format!("net.ipv4.conf.{dev}.accept_source_route");
        seam(r.set_setting(&name, "1"))?;
    }
    Ok(())
}

/// setsockopt(IP_OPTIONS) on the stack's descriptor, noted in the trace.
fn set_ip_options(r: &mut Recorder, fd: crate::stack::Fd, options: &[u8]) -> CheckStep<()> {
    let raw = seam(r.raw_fd(fd))?;
    // SAFETY: the stack's live descriptor and a buffer of the length given.
    let rc = unsafe {
        libc::setsockopt(
            raw,
            libc::IPPROTO_IP,
            libc::IP_OPTIONS,
            options.as_ptr().cast(),
            options.len() as libc::socklen_t,
        )
    };
    let result = if rc == 0 {
        "0".to_string()
    } else {
        std::io::Error::last_os_error().to_string()
    };
    r.note(EventKind::Note {
        text: format!("setsockopt({fd}, IPPROTO_IP, IP_OPTIONS, {options:?}) = {result}"),
    });
    if rc != 0 {
        return fail("setsockopt(IP_OPTIONS) succeeds", result);
    }
    Ok(())
}

/// A segment from `peer` with the IPv4 options `options`.
fn from_peer(peer: &Peer, flags: TcpFlags, options: &[u8], payload: &[u8]) -> CheckStep<Vec<u8>> {
    let ack = if flags.ack() {
        peer.rcv_nxt
    } else {
        SeqNumber(0)
    };
    let mut seg = peer.segment(flags, peer.snd_nxt, ack, Vec::new(), payload);
    if let IpRepr::V4(ip) = &mut seg.ip {
        ip.options = options.to_vec();
    }
    seg.emit().map_err(|e| Outcome::Error(e.to_string()))
}

fn needs(r: &Recorder) -> Option<Outcome> {
    [Capability::LinuxCalls, Capability::Settings]
        .into_iter()
        .find(|&c| !r.has(c))
        .map(Outcome::NotApplicable)
}

/// Checks MUST-51 (RFC 9293 3.9.2.1): the application can give a source route (IP_OPTIONS, a loose
/// source route through HOP_A): the SYN goes to HOP_A, the option carrying the final
/// destination in its last slot. MUST-52, the application's route overrides one a received
/// segment brings: the SYN-ACK comes by another route, the ACK still goes by HOP_A.
pub(super) fn from_application(r: &mut Recorder) -> Outcome {
    if let Some(o) = needs(r) {
        return o;
    }
    let mut run = || -> CheckStep<String> {
        accept_source_routes(r)?;
        let to = SocketAddr::new(PEER.into(), 40500);
        let fd = call("socket()", r.socket(false))?;
        set_ip_options(r, fd, &lsrr(4, HOP_A))?;
        connect(r, fd, to)?;
        let out = raw_sent(r)?;
        let syn = one(&out, TcpFlags::SYN, "the SYN")?;
        let want = lsrr(4, PEER);
        if syn.dst != HOP_A || syn.dst_port != to.port() {
            return fail(format!("the SYN sent to {HOP_A}"), format!("{syn:?}"));
        }
        route_is(syn, &want, "the SYN")?;
        let mut peer = Peer::new(false, to.port(), syn.src_port, 3000);
        peer.irs = Some(SeqNumber(syn.seq));
        peer.rcv_nxt = SeqNumber(syn.seq) + 1;
        let synack = from_peer(&peer, TcpFlags::SYN | TcpFlags::ACK, &lsrr(8, HOP_C), &[])?;
        seam(r.inject(&synack))?;
        let out = raw_sent(r)?;
        let ack = one(&out, TcpFlags::ACK, "the ACK of the SYN-ACK")?;
        if ack.dst != HOP_A {
            return fail(
                format!("the ACK by the application's route, to {HOP_A}"),
                format!("{ack:?}"),
            );
        }
        route_is(ack, &want, "the ACK")?;
        Ok(format!(
            "the SYN and, after a SYN-ACK by {HOP_C}, the ACK went by the application's \
             route through {HOP_A}"
        ))
    };
    run().map_or_else(|o| o, Outcome::Pass)
}

/// A connection accepted from PEER whose SYN and ACK came by a loose source route through
/// HOP_C; the SYN-ACK must have gone back by the reversed route. Returns the peer and the
/// accepted descriptor.
fn source_routed_connection(r: &mut Recorder) -> CheckStep<(Peer, crate::stack::Fd)> {
    accept_source_routes(r)?;
    let l = call("socket()", r.socket(false))?;
    let any = SocketAddr::new(Ipv4Addr::UNSPECIFIED.into(), PORT);
    call("bind(8080)", r.bind(l, any))?;
    call("listen()", r.listen(l, 8))?;
    let mut peer = Peer::new(false, 40600, PORT, 1000);
    let came_by = lsrr(8, HOP_C);
    seam(r.inject(&from_peer(&peer, TcpFlags::SYN, &came_by, &[])?))?;
    peer.snd_nxt += 1;
    let out = raw_sent(r)?;
    let synack = one(&out, TcpFlags::SYN | TcpFlags::ACK, "the SYN-ACK")?;
    if synack.dst != HOP_C || synack.dst_port != peer.local.port() {
        return fail(
            format!("the SYN-ACK back by the route reversed, to {HOP_C}"),
            format!("{synack:?}"),
        );
    }
    route_is(synack, &lsrr(4, PEER), "the SYN-ACK")?;
    peer.irs = Some(SeqNumber(synack.seq));
    peer.rcv_nxt = SeqNumber(synack.seq) + 1;
    seam(r.inject(&from_peer(&peer, TcpFlags::ACK, &came_by, &[])?))?;
    seam(r.settle())?;
    let (fd, _) = call("accept()", r.accept(l, Wait::No))?;
    Ok((peer, fd))
}

/// Checks MUST-53 (RFC 9293 3.9.2.1): a return route is built from the source route a SYN
/// arrived with: the SYN from PEER came by a loose source route through HOP_C (used up,
/// HOP_C recorded), so the SYN-ACK goes back to HOP_C with PEER as the route's end, and so
/// does the data the application then writes on the accepted connection.
pub(super) fn returned(r: &mut Recorder) -> Outcome {
    if let Some(o) = needs(r) {
        return o;
    }
    let mut run = || -> CheckStep<String> {
        let (_, fd) = source_routed_connection(r)?;
        call("write(pong)", r.write(fd, b"pong"))?;
        let out = raw_sent(r)?;
        let data = one(&out, TcpFlags::ACK, "the application's data")?;
        if data.dst != HOP_C || data.payload != b"pong" {
            return fail(
                format!("the application's 4 bytes by the reversed route, to {HOP_C}"),
                format!("{data:?}"),
            );
        }
        route_is(data, &lsrr(4, PEER), "the application's data")?;
        Ok(format!(
            "a SYN from {PEER} by {HOP_C} was answered by the reversed route, through \
             {HOP_C}, and so was the accepted connection's data"
        ))
    };
    run().map_or_else(|o| o, Outcome::Pass)
}

/// Checks SHLD-24 (RFC 9293 3.9.2.1): a source route received later overrides the earlier
/// one. On a connection whose SYN came through HOP_C, data arrives through HOP_B: the ACK
/// should go back through HOP_B. Linux keeps the route saved from the SYN
/// (tcp_v4_save_options() in tcp_v4_conn_request(), nowhere else), so it fails this.
pub(super) fn later_route_overrides(r: &mut Recorder) -> Outcome {
    if let Some(o) = needs(r) {
        return o;
    }
    let mut run = || -> CheckStep<String> {
        let (mut peer, _) = source_routed_connection(r)?;
        let data = from_peer(
            &peer,
            TcpFlags::ACK | TcpFlags::PSH,
            &lsrr(8, HOP_B),
            b"ping",
        )?;
        seam(r.inject(&data))?;
        peer.snd_nxt += 4;
        let out = raw_sent(r)?;
        let ack = one(
            &out,
            TcpFlags::ACK,
            "the ACK of data that came by another route",
        )?;
        let expected = format!("the ACK by the later route, reversed: to {HOP_B}");
        if ack.dst == HOP_C {
            return Err(Outcome::Deviation {
                expected,
                actual: format!("the ACK went to {HOP_C}, by the SYN's route: {ack:?}"),
                choice: "Linux keeps the route saved from the SYN, tcp_v4_save_options() in \
                         tcp_v4_conn_request()",
            });
        }
        if ack.dst != HOP_B {
            return fail(expected, format!("{ack:?}"));
        }
        route_is(ack, &lsrr(4, PEER), "the ACK")?;
        Ok(format!(
            "data that came by {HOP_B} after a SYN by {HOP_C} was acknowledged through {HOP_B}"
        ))
    };
    run().map_or_else(|o| o, Outcome::Pass)
}

/// Checks MAY-11 (RFC 9293 3.9.2): Record Route. The application's IP_OPTIONS with an empty
/// Record Route slot: the SYN carries the option with the stack's own address recorded.
pub(super) fn record_route(r: &mut Recorder) -> Outcome {
    if let Some(o) = needs(r) {
        return o;
    }
    let mut run = || -> CheckStep<String> {
        let to = SocketAddr::new(PEER.into(), 40700);
        let fd = call("socket()", r.socket(false))?;
        set_ip_options(r, fd, &route(RR, 4, Ipv4Addr::UNSPECIFIED))?;
        connect(r, fd, to)?;
        let out = raw_sent(r)?;
        let syn = one(&out, TcpFlags::SYN, "the SYN")?;
        if syn.dst != PEER {
            return fail(format!("the SYN sent to {PEER}"), format!("{syn:?}"));
        }
        route_is(syn, &route(RR, 8, STACK), "the SYN")?;
        Ok(format!(
            "the SYN carried Record Route with {STACK} recorded"
        ))
    };
    run().map_or_else(|o| o, Outcome::Pass)
}
