//! Packets: packetdrill's run_packet.c, injecting the script's inbound segments and
//! matching the stack's outbound ones against the script, in the script's numbers.

use std::collections::HashMap;

use tcpcheck_model::wire::{ChecksumPolicy, SegmentRepr};

use super::offload;
use super::{Exec, Step, Stop, PENDING_POLL_USECS, SNIFF_GRACE_USECS};
use crate::runner::annotate;
use crate::runner::packet::{self, Conn, ConnState, Fields, PEER_PORT_BASE, SCRIPT_PORT};
use crate::runner::{timing, Check};
use crate::scenario::{Event, EventTime, Secs, TcpOption, TcpOptions};
use crate::stack::{Packet, Reference};

impl Exec<'_> {
    pub(super) fn distribute(&mut self, packets: Vec<Packet>) {
        for p in packets {
            let Ok(seg) = SegmentRepr::parse_with(&p.bytes, ChecksumPolicy::Accept) else {
                continue;
            };
            if let Some(peer) = self.peer_of(&seg) {
                if let Some(d) = &mut self.differ {
                    // The kernel's send time of a segment a call sent is inside the call,
                    // before the time the model was told of the call (its return): the
                    // model sees it as sent as the call returned, after it.
                    let at = p.at.saturating_sub(self.start).max(self.model_floor);
                    match p.gso_size {
                        // The model judges the wire's segments (see `offload`).
                        Some(g) => {
                            for piece in offload::train(&seg, g) {
                                d.captured(at, self.line, &piece);
                            }
                        }
                        None => d.captured(at, self.line, &seg),
                    }
                }
                self.queues.entry(peer).or_default().push_back(p);
            }
        }
    }

    pub(super) fn inbound(&mut self, ev: &Event, p: &crate::scenario::Packet) -> Step {
        let epoch = self.listen_epoch;
        let reuse = self.conns.get(&p.peer).is_some_and(|c| c.epoch == epoch);
        if !reuse {
            // handle_listen_for_script_packet: a new child for this peer, on a fresh port.
            let used = self.ports_used.get(&p.peer).copied().unwrap_or(0);
            let Some(port) = PEER_PORT_BASE.checked_add(used) else {
                return Err(self.error_at(
                    ev.span,
                    format!(
                        "peer {} has no port left for a new connection (one per listen(), \
                         from {PEER_PORT_BASE} to 65535)",
                        p.peer
                    ),
                ));
            };
            self.ports_used.insert(p.peer, used + 1);
            self.first_ts.remove(&p.peer);
            self.conns.insert(
                p.peer,
                Conn {
                    peer: p.peer,
                    peer_port: port,
                    kernel_port: Some(SCRIPT_PORT),
                    state: ConnState::PassivePacketReceived,
                    remote_isn: p.seq,
                    script_local_isn: 0,
                    live_local_isn: 0,
                    ts_vals: HashMap::new(),
                    epoch,
                },
            );
        }
        let conn = self.conns.get_mut(&p.peer).expect("inserted above");
        // do_inbound_script_packet's state changes.
        if conn.state == ConnState::PassiveSynAckSent && p.flags.ack {
            conn.state = ConnState::PassiveSynAckAcked;
        } else if conn.state == ConnState::ActiveSynSent && p.flags.syn && p.flags.ack {
            conn.state = ConnState::ActiveSynAcked;
            conn.remote_isn = p.seq;
        }
        let ecr_base = self
            .ts_ecr_scaled
            .then(|| self.first_ts.get(&p.peer).copied())
            .flatten();
        let mut seg =
            packet::inbound(conn, p, self.v6, ecr_base).map_err(|m| self.error_at(ev.span, m))?;
        self.readdress(&mut seg, p.peer);
        crate::runner::crafted::apply_ip_fields(&mut seg, &p.ip)
            .map_err(|m| self.error_at(ev.span, m))?;
        self.note_stray_source(&p.ip, p.peer);
        let mut bytes = seg
            .emit()
            .map_err(|e| self.error_at(ev.span, format!("cannot build the packet: {e}")))?;
        if let TcpOptions::Exactly(list) = &p.options {
            let seen = crate::runner::crafted::patch_raw(&mut bytes, list, &seg.tcp.options)
                .map_err(|m| self.error_at(ev.span, m))?;
            if let Some(seen) = seen {
                // RFC 9293 3.1: MUST-7, the model takes the options a receiver can delimit.
                seg.tcp.options = seen;
            }
        }
        if p.ip.bad_csum {
            // The TCP checksum's first byte, after the IP header, flipped.
            let ip_len = if bytes[0] >> 4 == 6 {
                40
            } else {
                usize::from(bytes[0] & 0x0f) * 4
            };
            bytes[ip_len + 16] ^= 0xff;
        }
        let at = self.stack.now().saturating_sub(self.start);
        self.stack.inject(&bytes)?;
        annotate::injected(self.stack.trace_mut(), ev, p);
        if let (Some(d), false) = (&mut self.differ, p.ip.bad_csum) {
            // RFC 9293 3.1: MUST-3, a segment with a wrong checksum is dropped: the model
            // never receives it.
            d.injected(at, self.line, &seg);
        }
        let out = self.stack.settle()?;
        self.distribute(out);
        self.poll_pending()
    }

    /// An ICMP error from the peer's side about its connection (packetdrill's inbound ICMP
    /// lines): the quoted segment is the stack's, at the script's sequence number.
    pub(super) fn icmp(&mut self, ev: &Event, p: &crate::scenario::IcmpPacket) -> Step {
        let Some(conn) = self.conns.get(&p.peer) else {
            return Err(self.error_at(
                ev.span,
                format!(
                    "an ICMP line quotes a segment of a connection, and peer {} has none yet",
                    p.peer
                ),
            ));
        };
        let addresses = (self.peer_ip(0), self.peer_ip(p.peer));
        let msg = crate::runner::icmp::inbound(conn, p, self.v6, addresses)
            .map_err(|m| self.error_at(ev.span, m))?;
        let bytes = msg
            .emit()
            .map_err(|e| self.error_at(ev.span, format!("cannot build the packet: {e}")))?;
        let at = self.stack.now().saturating_sub(self.start);
        self.stack.inject(&bytes)?;
        annotate::injected_icmp(self.stack.trace_mut(), ev, p);
        if let Some(d) = &mut self.differ {
            d.icmp(at, self.line, &msg);
        }
        let out = self.stack.settle()?;
        self.distribute(out);
        self.poll_pending()
    }

    /// The next packet from the stack for `conn`, dropping packets for other connections as
    /// packetdrill's sniffer does.
    pub(super) fn take_for(&mut self, peer: u16) -> Option<(Packet, SegmentRepr)> {
        let q = self.queues.get_mut(&peer)?;
        let conn = self.conns.get_mut(&peer)?;
        while let Some(p) = q.pop_front() {
            let Ok(seg) = SegmentRepr::parse_with(&p.bytes, ChecksumPolicy::Accept) else {
                continue;
            };
            let t = &seg.tcp;
            match conn.kernel_port {
                Some(k) if t.src_port == k && t.dst_port == conn.peer_port => {
                    return Some((p, seg))
                }
                // find_connect_for_live_packet: the SYN of a pending connect() names the port;
                // a copy of an earlier connection's SYN (still in SYN-SENT, its timer running)
                // is that connection's, which packetdrill's sniffer tells by its port.
                None if t.dst_port == conn.peer_port
                    && t.flags.syn()
                    && !t.flags.ack()
                    && !self.retired_syns.contains(&(peer, t.src_port, t.seq.0)) =>
                {
                    conn.kernel_port = Some(t.src_port);
                    conn.live_local_isn = t.seq.0;
                    return Some((p, seg));
                }
                _ => {}
            }
        }
        None
    }

    pub(super) fn outbound(
        &mut self,
        ev: &Event,
        p: &crate::scenario::Packet,
        t: i64,
        t_end: i64,
    ) -> Step {
        if p.flags.syn && !p.flags.ack && self.connecting {
            // handle_connect_for_script_packet.
            self.connecting = false;
            self.first_ts.remove(&p.peer);
            if let Some(old) = self.conns.get(&p.peer) {
                if let (ConnState::ActiveSynSent | ConnState::ActiveSynAcked, Some(port)) =
                    (old.state, old.kernel_port)
                {
                    self.retired_syns.insert((p.peer, port, old.live_local_isn));
                }
            }
            self.conns.insert(
                p.peer,
                Conn {
                    peer: p.peer,
                    peer_port: SCRIPT_PORT,
                    kernel_port: None,
                    state: ConnState::ActiveSynSent,
                    remote_isn: 0,
                    script_local_isn: p.seq,
                    live_local_isn: 0,
                    ts_vals: HashMap::new(),
                    epoch: self.listen_epoch,
                },
            );
        }
        let Some(conn) = self.conns.get_mut(&p.peer) else {
            return Err(self.error_at(ev.span, "no matching socket for script packet"));
        };
        let synack = p.flags.syn && p.flags.ack;
        if conn.state == ConnState::PassivePacketReceived && synack {
            conn.script_local_isn = p.seq;
        }
        // The acceptance window's end: a segment later than packetdrill's tolerance may
        // still be a timer on time (see `timing::timer_late`).
        let early = self.tolerance(t, self.last_time);
        let late = match self.last_time {
            Some(last) if t_end > last => timing::timer_late(t_end - last, early),
            _ => early,
        };
        // Waiting ends a grace period after that window, as packetdrill's does after the
        // expected time, so a late segment is shown with its time rather than missed.
        // A stack the script was not written against sends on its own timers: the script's
        // time is not its to keep (the model judges the timers it has rules for), so its
        // segment is waited for as for a `*` line.
        let fields = self.fields();
        let deadline = match (ev.time, fields) {
            (EventTime::Any, _) | (_, Fields::RfcFixed) => {
                self.now_us() + self.opts.hang_limit.as_micros() as i64
            }
            _ => t.max(t_end) + late + SNIFF_GRACE_USECS,
        };
        let Some((live, seg)) = self.sniff(p.peer, deadline)? else {
            let now = self.now_us();
            return Err(self.fail(
                ev,
                format!("nothing by {} sec", Secs(now.max(0) as u64)),
                Check::NoPacket,
                "timed out waiting for packet",
            ));
        };
        let (parts, seg) = self.fit(p, live, seg, deadline)?;
        let conn = self.conns.get_mut(&p.peer).expect("checked above");
        if conn.state == ConnState::PassivePacketReceived && synack {
            conn.state = ConnState::PassiveSynAckSent;
            conn.live_local_isn = seg.tcp.seq.0;
        }
        let actual = packet::to_script_space(conn, &seg);
        let trace = self.stack.trace_mut();
        for part in &parts {
            annotate::captured(trace, part, ev, &actual.packet);
        }
        let live = parts
            .last()
            .expect("fit returns at least the segment it was given");
        // map_outbound_live_packet remembers the TS val mapping before any check.
        let script_ts = script_ts_val(p);
        let live_ts = seg.tcp.options.iter().find_map(|o| match o {
            tcpcheck_model::wire::TcpOption::Timestamps { val, .. } => Some(*val),
            _ => None,
        });
        if let (Some(s), Some(l)) = (script_ts, live_ts) {
            conn.ts_vals.insert(s, l);
            // packetdrill's first_script_ts_val and first_actual_ts_val.
            self.first_ts.entry(p.peer).or_insert((s, l));
        }
        let ts_check = match (script_ts, live_ts, self.ts_tick_usecs) {
            (Some(s), Some(l), Some(tick)) => {
                let (first_s, first_l) = self.first_ts[&p.peer];
                Some((s, first_s.wrapping_add(l.wrapping_sub(first_l)), tick))
            }
            _ => None,
        };
        let at = live.at.as_micros() as i64 - self.start.as_micros() as i64;
        self.effect = at;
        let shown = format!("{} at {} sec", actual.packet, fmt_secs(at));
        if parts.iter().any(|l| SegmentRepr::parse(&l.bytes).is_err()) {
            return Err(self.fail(ev, shown, Check::Other, "bad outbound checksum"));
        }
        if let Some(m) = packet::mismatch(p, &actual, &seg, fields) {
            return Err(self.fail(ev, shown, m.check(), m.to_string()));
        }
        if let Some((script_val, live_val, tick)) = ts_check {
            // verify_outbound_live_tcp_options: the stack's TS val, counted from its first
            // one as the script's is from the script's first, within the tolerance of the
            // time since the script's start, at `--tcp_ts_tick_usecs` per tick.
            let tolerance = self
                .tol_usecs
                .max((self.tol_percent / 100.0 * t as f64) as i64);
            let off = i64::from(live_val.wrapping_sub(script_val) as i32).abs();
            if off * i64::from(tick) > tolerance {
                return Err(self.fail(
                    ev,
                    format!("{shown}; TS val {live_val} where the script has {script_val}"),
                    Check::Field("tcp_ts_val"),
                    format!("bad outbound TCP timestamp value, tolerance {tolerance}"),
                ));
            }
        }
        if fields == Fields::RfcFixed {
            return Ok(());
        }
        let timing = Check::Time { outbound: true };
        let what = "outbound packet";
        if let Err(m) = self.verify_time_within(ev.time, t, t_end, at, early, late, what) {
            // The segment is timed by the kernel, the expected time by the harness: counted
            // from when the harness got round to working it out, not from when the event
            // before took effect. A segment early only by the harness's own delay in between
            // (descheduled on a loaded machine) says nothing about the stack: the run is void.
            let relative = matches!(
                ev.time,
                EventTime::Relative(_) | EventTime::RelativeRange(..)
            );
            let delay = (self.adjusted_at - self.last_effect).max(0);
            if relative && at < t - early && at >= t - delay - early {
                return Err(match self.fail(ev, shown, timing, m) {
                    Stop::Fail(d) => Stop::HarnessLate(d),
                    other => other,
                });
            }
            return Err(self.fail(ev, shown, timing, m));
        }
        Ok(())
    }

    /// The next segment for `peer` by `deadline` (script µs), if one comes.
    fn sniff(&mut self, peer: u16, deadline: i64) -> Step<Option<(Packet, SegmentRepr)>> {
        loop {
            if let Some(found) = self.take_for(peer) {
                return Ok(Some(found));
            }
            let now = self.now_us();
            if now >= deadline {
                return Ok(None);
            }
            let slice = if self.pending.is_some() {
                deadline.min(now + PENDING_POLL_USECS)
            } else {
                deadline
            };
            let slice = self.cancel_point(now, slice)?;
            if let Some(pk) = self.stack.next_packet(self.at(slice))? {
                self.distribute(vec![pk]);
            }
            self.poll_pending()?;
        }
    }

    /// The segment the line `p` is matched against, from the `live` one the kernel sent
    /// first, as `offload` reads it: the head of a super-segment's train when the line wants
    /// less (the rest waits at the front of the queue), or, unless `--strict_segments`,
    /// the segments that follow joined on until the line's length is reached. Returns the
    /// packets as read (the head's super-segment, every joined one) and the segment to match.
    fn fit(
        &mut self,
        p: &crate::scenario::Packet,
        live: Packet,
        seg: SegmentRepr,
        deadline: i64,
    ) -> Step<(Vec<Packet>, SegmentRepr)> {
        let want = usize::from(p.len);
        let have = seg.tcp.payload.len();
        if have > want {
            let cut = live
                .gso_size
                .and_then(|g| Some((g, offload::cut(&seg, g, want)?)));
            let Some((g, (head, rest))) = cut else {
                return Ok((vec![live], seg));
            };
            let bytes = rest
                .emit()
                .map_err(|e| Stop::Error(format!("harness: cannot cut a super-segment: {e}")))?;
            let rest_len = rest.tcp.payload.len();
            self.queues.entry(p.peer).or_default().push_front(Packet {
                at: live.at,
                read_at: live.read_at,
                bytes,
                gso_size: (rest_len > usize::from(g)).then_some(g),
            });
            return Ok((vec![live], head));
        }
        if have == 0 || have >= want || self.strict_segments {
            return Ok((vec![live], seg));
        }
        let mut parts = vec![live];
        let mut acc = seg;
        while acc.tcp.payload.len() < want {
            let Some((next, next_seg)) = self.sniff(p.peer, deadline)? else {
                break;
            };
            let Some(joined) = offload::join(&acc, &next_seg) else {
                self.queues.entry(p.peer).or_default().push_front(next);
                break;
            };
            acc = joined;
            parts.push(next);
        }
        Ok((parts, acc))
    }

    /// Which fields of the script's outbound lines are checked (see [`Fields`]).
    pub(super) fn fields(&self) -> Fields {
        match self.stack.reference() {
            Reference::Scripts => Fields::All,
            Reference::Rfc9293 => Fields::RfcFixed,
        }
    }

    pub(super) fn show_live(&self, peer: u16, p: &Packet) -> String {
        let at = p.at.as_micros() as i64 - self.start.as_micros() as i64;
        match (
            self.conns.get(&peer),
            SegmentRepr::parse_with(&p.bytes, ChecksumPolicy::Accept),
        ) {
            (Some(conn), Ok(seg)) => format!(
                "{} at {} sec",
                packet::to_script_space(conn, &seg).packet,
                fmt_secs(at)
            ),
            (_, Ok(seg)) => format!("{seg} at {} sec", fmt_secs(at)),
            (_, Err(e)) => format!("malformed packet: {e}"),
        }
    }
}

fn script_ts_val(p: &crate::scenario::Packet) -> Option<u32> {
    match &p.options {
        TcpOptions::Exactly(list) => list.iter().find_map(|o| match o {
            TcpOption::Timestamp { val, .. } => Some(*val),
            _ => None,
        }),
        TcpOptions::Any => None,
    }
}

pub(super) fn fmt_secs(us: i64) -> String {
    if us < 0 {
        format!("-{}", Secs((-us) as u64))
    } else {
        Secs(us as u64).to_string()
    }
}
