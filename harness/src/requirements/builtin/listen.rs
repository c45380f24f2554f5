//! RFC 9293 3.9.1.1, the OPEN call's LISTEN semantics, where a script cannot say it: a
//! passive OPEN beside other connections on the same port (a script's inbound segments all
//! belong to one connection) and the local IP address an OPEN names (scripts name no
//! addresses; the stack is given a second one).

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::process::Command;
use std::time::Duration;

use tcpcheck_model::wire::{IpRepr, SegmentRepr, TcpFlags};

use super::{call, connect, ctl, fail, seam, sent, CheckStep, Outcome};
use crate::peer::Peer;
use crate::stack::{Capability, Fd, Recorder, SockOpt, Wait};

const PORT: u16 = 8080;
/// The stack's second address (MUST-43), beside 192.0.2.1 on its TUN.
const SECOND: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 3);
/// How long the stack's answer to an injected segment may take.
const ANSWER: Duration = Duration::from_secs(1);

type Segs = Vec<(Duration, SegmentRepr)>;

fn peer_at(port: u16) -> Peer {
    Peer::new(false, port, PORT, 5000 + u32::from(port))
}

fn any(port: u16) -> SocketAddr {
    SocketAddr::new(Ipv4Addr::UNSPECIFIED.into(), port)
}

fn source(s: &SegmentRepr) -> IpAddr {
    match &s.ip {
        IpRepr::V4(ip) => ip.src.into(),
        IpRepr::V6(ip) => ip.src.into(),
    }
}

/// The segment among `segs` the stack sent to `peer`'s address and port with the control
/// bits `bits` (PSH aside), from whichever local address.
fn to_peer(segs: &Segs, peer: &Peer, bits: TcpFlags) -> Option<SegmentRepr> {
    segs.iter()
        .map(|(_, s)| s)
        .find(|s| {
            let dst = match &s.ip {
                IpRepr::V4(ip) => IpAddr::from(ip.dst),
                IpRepr::V6(ip) => IpAddr::from(ip.dst),
            };
            s.tcp.dst_port == peer.local.port() && dst == peer.local.ip() && ctl(s) == bits
        })
        .cloned()
}

fn expect(segs: &Segs, peer: &Peer, bits: TcpFlags, what: &str) -> CheckStep<SegmentRepr> {
    match to_peer(segs, peer, bits) {
        Some(s) => Ok(s),
        None => fail(
            format!("{what}: {bits:?} to {}", peer.local),
            format!("the stack sent {}", list(segs)),
        ),
    }
}

fn list(segs: &Segs) -> String {
    if segs.is_empty() {
        return "nothing".into();
    }
    segs.iter()
        .map(|(_, s)| s.to_string())
        .collect::<Vec<_>>()
        .join("; ")
}

fn inject(r: &mut Recorder, packet: &[u8]) -> CheckStep<()> {
    seam(r.inject(packet))
}

/// A listener on `addr` with SO_REUSEADDR (a port other connections use).
fn listener(r: &mut Recorder, addr: SocketAddr) -> CheckStep<Fd> {
    let fd = call("socket()", r.socket(false))?;
    call("SO_REUSEADDR", r.setsockopt(fd, SockOpt::ReuseAddr(true)))?;
    call(&format!("bind({addr})"), r.bind(fd, addr))?;
    call("listen()", r.listen(fd, 8))?;
    Ok(fd)
}

/// A passive open's handshake with `peer`: its SYN, the stack's SYN-ACK, its ACK.
fn handshake(r: &mut Recorder, peer: &mut Peer, what: &str) -> CheckStep<SegmentRepr> {
    let syn = peer.syn();
    inject(r, &syn)?;
    let segs = sent(r, ANSWER)?;
    let synack = expect(&segs, peer, TcpFlags::SYN | TcpFlags::ACK, what)?;
    peer.learn(&synack);
    let ack = peer.ack();
    inject(r, &ack)?;
    sent(r, Duration::ZERO)?;
    Ok(synack)
}

fn accept(r: &mut Recorder, fd: Fd, what: &str) -> CheckStep<Fd> {
    call(&format!("accept() of {what}"), r.accept(fd, Wait::No)).map(|(c, _)| c)
}

/// Checks MUST-41 (RFC 9293 3.9.1.1): a passive OPEN creates a new connection record in LISTEN and
/// does not affect an earlier one. An ESTABLISHED connection on port 8080 (accepted from a
/// listener since closed) goes on after a new LISTEN on that port: data both ways is
/// acknowledged and delivered, nothing is reset, and the new listener answers a new SYN.
pub(super) fn beside_established(r: &mut Recorder) -> Outcome {
    let mut run = || -> CheckStep<String> {
        let first = listener(r, any(PORT))?;
        let mut peer = peer_at(40100);
        handshake(r, &mut peer, "the first listener's handshake")?;
        let conn = accept(r, first, "the first connection")?;
        call("close() of the first listener", r.close(first))?;
        sent(r, Duration::ZERO)?;

        let again = listener(r, any(PORT))?;
        let segs = sent(r, Duration::ZERO)?;
        if let Some(rst) = to_peer(&segs, &peer, TcpFlags::RST)
            .or_else(|| to_peer(&segs, &peer, TcpFlags::RST | TcpFlags::ACK))
        {
            return fail(
                "the LISTEN sends nothing to the connection",
                rst.to_string(),
            );
        }
        let data = peer.data(b"ping");
        inject(r, &data)?;
        let segs = sent(r, ANSWER)?;
        let ack = expect(
            &segs,
            &peer,
            TcpFlags::ACK,
            "data on the connection acknowledged",
        )?;
        if ack.tcp.ack != peer.snd_nxt {
            return fail(
                format!("the ACK of the data: ack {}", peer.snd_nxt),
                ack.to_string(),
            );
        }
        let got = call("read()", r.read(conn, 100, Wait::No))?;
        if got != b"ping" {
            return fail("read() = \"ping\"", format!("{got:?}"));
        }
        call("write()", r.write(conn, b"pong"))?;
        let segs = sent(r, ANSWER)?;
        let data = expect(&segs, &peer, TcpFlags::ACK, "the connection's data sent")?;
        if data.tcp.payload != b"pong" || to_peer(&segs, &peer, TcpFlags::RST).is_some() {
            return fail("\"pong\" sent, no RST", list(&segs));
        }
        let mut other = peer_at(40101);
        handshake(r, &mut other, "the new listener's handshake")?;
        accept(r, again, "the new listener's connection")?;
        Ok(
            "the established connection carried data both ways after a LISTEN on its \
            port, and the new listener accepted a connection"
                .into(),
        )
    };
    run().map_or_else(|o| o, Outcome::Pass)
}

/// Checks MUST-42 (RFC 9293 3.9.1.1): an application can LISTEN on a port while a connection with
/// that local port is in SYN-SENT; MUST-41, the LISTEN does not affect it. A connect() from
/// port 8080 sends its SYN; a listener on 8080 then completes another peer's handshake, and
/// the first peer's SYN-ACK completes the active open (the stack ACKs it, no error).
pub(super) fn beside_syn_sent(r: &mut Recorder) -> Outcome {
    let mut run = || -> CheckStep<String> {
        let mut server = peer_at(40200);
        let active = call("socket()", r.socket(false))?;
        call(
            "SO_REUSEADDR",
            r.setsockopt(active, SockOpt::ReuseAddr(true)),
        )?;
        call("bind(8080)", r.bind(active, any(PORT)))?;
        connect(r, active, server.local)?;
        let segs = sent(r, ANSWER)?;
        let syn = expect(&segs, &server, TcpFlags::SYN, "the active open's SYN")?;
        if syn.tcp.src_port != PORT {
            return fail("a SYN from port 8080", syn.to_string());
        }
        let l = listener(r, any(PORT))?;
        let mut client = peer_at(40201);
        handshake(r, &mut client, "the listener's handshake")?;
        accept(r, l, "the listener's connection")?;

        server.learn(&syn);
        let synack = server.syn_ack();
        inject(r, &synack)?;
        let segs = sent(r, ANSWER)?;
        let ack = expect(&segs, &server, TcpFlags::ACK, "the active open's ACK")?;
        if ack.tcp.ack != server.snd_nxt {
            return fail(
                format!("the ACK of the SYN-ACK: ack {}", server.snd_nxt),
                ack.to_string(),
            );
        }
        match call("SO_ERROR", r.take_error(active))? {
            None => Ok(
                "a listener on port 8080 completed a handshake while a connection \
                        from 8080 was in SYN-SENT, which then completed too"
                    .into(),
            ),
            Some(e) => fail("the active open succeeds", format!("SO_ERROR {e:?}")),
        }
    };
    run().map_or_else(|o| o, Outcome::Pass)
}

/// Gives the stack's TUN a second address, by `ip` in the stack's namespace (which the
/// calling thread is in: Linux's sandbox enters it).
fn add_second_address() -> CheckStep<()> {
    let out = Command::new("ip")
        .args(["addr", "add", "192.0.2.3/24", "dev", "tun0"])
        .output()
        .map_err(|e| Outcome::Error(format!("ip: {e}")))?;
    if !out.status.success() {
        return Err(Outcome::Error(format!(
            "ip addr add 192.0.2.3/24 dev tun0: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        )));
    }
    Ok(())
}

/// Checks MUST-43 (RFC 9293 3.9.1.1): OPEN takes an optional local IP address. With two local
/// addresses: an active OPEN bound to either sends its SYN from it; a passive OPEN bound to
/// one answers a SYN to that address and refuses (RST) one to the other.
pub(super) fn local_address(r: &mut Recorder) -> Outcome {
    // A second address is made by a command beside the stack.
    if !r.has(Capability::Shell) {
        return Outcome::NotApplicable(Capability::Shell);
    }
    let mut run = || -> CheckStep<String> {
        add_second_address()?;
        let first = peer_at(1).remote.ip();
        for (i, local) in [first, IpAddr::V4(SECOND)].into_iter().enumerate() {
            let peer = peer_at(40300 + i as u16);
            let fd = call("socket()", r.socket(false))?;
            let addr = SocketAddr::new(local, 0);
            call(&format!("bind({addr})"), r.bind(fd, addr))?;
            connect(r, fd, peer.local)?;
            let segs = sent(r, ANSWER)?;
            let syn = expect(&segs, &peer, TcpFlags::SYN, "the active open's SYN")?;
            if source(&syn) != local {
                return fail(format!("a SYN from {local}"), syn.to_string());
            }
        }
        let l = listener(r, SocketAddr::new(SECOND.into(), PORT))?;
        let mut to_second = peer_at(40310);
        to_second.remote = SocketAddr::new(SECOND.into(), PORT);
        let synack = handshake(r, &mut to_second, "the handshake on the named address")?;
        if source(&synack) != IpAddr::V4(SECOND) {
            return fail(format!("a SYN-ACK from {SECOND}"), synack.to_string());
        }
        accept(r, l, "the connection to the named address")?;
        let mut to_first = peer_at(40311);
        let syn = to_first.syn();
        inject(r, &syn)?;
        let segs = sent(r, ANSWER)?;
        expect(
            &segs,
            &to_first,
            TcpFlags::RST | TcpFlags::ACK,
            "a SYN to the other address refused",
        )?;
        Ok(format!(
            "active opens bound to {first} and {SECOND} sent from them; a listener bound to \
             {SECOND} answered a SYN to it and reset one to {first}"
        ))
    };
    run().map_or_else(|o| o, Outcome::Pass)
}
