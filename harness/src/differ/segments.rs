//! Segments crossing the tun, as the model takes them: one injected into the stack meets
//! the connection its four-tuple names, else the listener on its port (its queues first) or
//! the closed port; one the stack sent is checked by its connection, or is a stray.

use std::collections::BTreeMap;
use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use tcpcheck_model::conn::fast_open::SynFastOpen;
use tcpcheck_model::conn::{Actual, Divergence as ModelFault, Required, Seg, State};
use tcpcheck_model::listener::{Listener, SynOutcome, SynSender};
use tcpcheck_model::wire::SegmentRepr;

use super::{rules, Differ, Key, Sent, Sock, Tracked, Trigger};

/// RFC 2385's TCP MD5 Signature option.
const KIND_MD5: u8 = 19;

impl Differ {
    /// A segment crossing the tun at `now` (`inbound`: into the stack): time moves there
    /// first; then its connection's four-tuple and the segment as the model reads it, unless
    /// the model has stopped following the run.
    fn crossing(&mut self, now: Duration, seg: &SegmentRepr, inbound: bool) -> Option<(Key, Seg)> {
        self.arrive_at(now);
        if !self.active() {
            return None;
        }
        let key = key_of(seg, inbound)?;
        self.check.learn_local(key, local_ip(seg, inbound));
        Some((key, Seg::from_repr(&seg.tcp)))
    }

    /// A segment the harness wrote into the stack at `now`, for script line `line`.
    pub(super) fn feed_injected(&mut self, now: Duration, line: u32, seg: &SegmentRepr) {
        if self.address_discards(seg) {
            // RFC 9293 3.9.2.3: MUST-57, MUST-63, dropped before any connection sees it.
            self.arrive_at(now);
            return;
        }
        let Some((key, s)) = self.crossing(now, seg, true) else {
            return;
        };
        if seg.tcp.options.iter().any(|o| o.kind() == KIND_MD5) {
            // Linux drops a segment signed for a connection without a key (RFC 2385 3:
            // TCPMD5Unexpected), and checks the signature where it has one.
            return self.give_up("the TCP MD5 signature option (RFC 2385) is not modelled");
        }
        let event = format!("< {}", seg.tcp.flags.packetdrill());
        let scaled = (s.flags.syn() && !s.flags.ack()).then_some(s.options.window_scale.is_some());
        // RFC 9293 3.9.1.1: MUST-41, MUST-42, a segment goes first to the connection its
        // four-tuple names, and a listener on the port gets only what no connection owns:
        // a LISTEN beside SYN-SENT, SYN-RECEIVED or ESTABLISHED connections on its port
        // changes none of them (harness/tests/listen_semantics.rs checks the kernel).
        if let Some(t) = self.conns.get_mut(&key) {
            // A connection in LISTEN is the listener's answer to a segment it dropped (a
            // RST, say): the next one meets the listener again, its queues included.
            if !matches!(t.conn.state(), State::Closed | State::Listen) {
                if t.conn.synack_echo_unknown(&s) {
                    return self.give_up(
                        "a SYN-ACK in SYN-SENT echoes a TSval the stack did not send last; \
                         Linux's check of it against its clock (tcp_rcv_synsent_state_process(), \
                         PAWS) is not modelled",
                    );
                }
                t.fed(line, event, Trigger::Segment(seg.tcp.flags));
                t.peer_syn_scaled = scaled.or(t.peer_syn_scaled);
                if !listener_admits_ack(&mut self.listeners, t, key, &s, now) {
                    return;
                }
                let port = key.local_port;
                if let Some(l) = self.listeners.get_mut(&port) {
                    if t.conn.reopen_from_time_wait(now, &s) {
                        // Linux hands the SYN to the listener (TCP_TW_SYN), past its SYN
                        // queue limits.
                        l.on_syn_from(now, key, SynSender::TimeWait);
                        t.listener = Some(port);
                        self.orphan_descriptors(key);
                        return;
                    }
                }
                let (tcb, unread) = (*t.conn.tcb(), t.conn.readable());
                t.conn.arrive(now, &s);
                if let Some(learned) = t.conn.take_fast_open_learned() {
                    // RFC 7413 4.1.3: the client caches what the server's SYN-ACK said.
                    self.fast_open_client.learn(key.peer.ip(), learned);
                }
                if t.after.is_none() {
                    t.after = crate::explore::deviations::taint(
                        t.before, &tcb, unread, t.unscaled, t.passive, &s, &t.conn,
                    );
                }
                self.note_end(key);
                self.follow_request(key, now);
                return;
            }
        }
        // A segment no connection owns meets the listener, or the closed port.
        let mut conn = self.new_connection(key.peer);
        let before = if self.listeners.contains_key(&key.local_port) {
            State::Listen
        } else {
            State::Closed
        };
        let mut listener = None;
        let mut cookie = false;
        let mut fast_open = None;
        let sender = if self.proven.contains(&key.peer.ip()) {
            SynSender::Proven
        } else {
            SynSender::Unknown
        };
        if let Some(l) = self.listeners.get_mut(&key.local_port) {
            listener = Some(key.local_port);
            if s.flags.syn() && !s.flags.ack() && !s.flags.rst() {
                match l.on_syn_from(now, key, sender) {
                    SynOutcome::Cookie(_) => cookie = true,
                    SynOutcome::Dropped(_) => return,
                    _ => {}
                }
                if !cookie {
                    let addrs = (key.peer.ip(), local_ip(seg, true));
                    let listener_tfo = match self.fast_open_queue(key.local_port) {
                        Ok(on) => on,
                        Err(why) => return self.give_up(why),
                    };
                    let fo = self.fast_open.on_syn(
                        self.profile.fast_open,
                        listener_tfo,
                        addrs,
                        s.options.fast_open,
                        s.len,
                    );
                    if let SynFastOpen::Unknown(why) = fo {
                        return self.give_up(format!("TCP Fast Open: {why}"));
                    }
                    fast_open = Some(fo);
                }
            }
            let _ = conn.open_passive(now);
        }
        if let Some(fo) = fast_open {
            conn.set_fast_open(fo);
        }
        conn.arrive(now, &s);
        if cookie {
            conn.answered_by_cookie();
        }
        let mut t = Tracked::new(conn, line, listener, cookie);
        t.before = before;
        t.event = event;
        // A deviation the connection this four-tuple had went through still explains what
        // follows (the RFC's CLOSED connection is Linux's timewait socket).
        t.after = self.conns.get(&key).and_then(|old| old.after);
        t.peer_syn_scaled = scaled;
        if self.conns.insert(key, t).is_some() {
            self.orphan_descriptors(key);
        }
        self.follow_request(key, now);
    }

    /// Whether the listener on `port` has a Fast Open queue of its own (TCP_FASTOPEN), with
    /// room left: Linux falls back to the ordinary handshake when its Fast Open children
    /// not yet past SYN-RECEIVED fill it (`tcp_fastopen_queue_check()`), and drops the
    /// oldest reset ones first, which the model does not follow: then it stops, naming why.
    fn fast_open_queue(&self, port: u16) -> Result<bool, String> {
        let qlen = self
            .socks
            .iter()
            .filter(|(_, s)| matches!(s, Sock::Listening { port: p } if *p == port))
            .filter_map(|(fd, _)| self.opts.get(fd))
            .map(|o| o.fast_open_qlen)
            .max()
            .unwrap_or(0);
        if qlen == 0 {
            return Ok(false);
        }
        let children = self
            .conns
            .values()
            .filter(|t| {
                t.listener == Some(port)
                    && t.conn.is_fast_open_child()
                    && t.conn.state() == State::SynReceived
            })
            .count();
        if children as u64 >= u64::from(qlen) {
            return Err(format!(
                "TCP Fast Open: the listener's TCP_FASTOPEN queue ({qlen}) is full, and Linux's \
                 choice then is not modelled"
            ));
        }
        Ok(true)
    }

    /// The listener's SYN queue follows its request's connection: a request whose
    /// connection went back to LISTEN or CLOSED (reset, or its SYN dropped, as Linux drops
    /// a SYN with FIN) leaves it (`inet_csk_reqsk_queue_drop()`) and no longer counts
    /// against the backlog; one the connection model synchronized by another way than the
    /// final ACK [`listener_admits_ack`] hands over (a SYN-ACK in SYN-RECEIVED, on the
    /// rfc9293 profile) joins the accept queue as that ACK would have it.
    fn follow_request(&mut self, key: Key, now: Duration) {
        let Some(t) = self.conns.get(&key) else {
            return;
        };
        let Some(port) = t.listener else {
            return;
        };
        let (state, cookie) = (t.conn.state(), t.cookie);
        let Some(l) = self.listeners.get_mut(&port) else {
            return;
        };
        if l.state_of(&key) != Some(State::SynReceived) {
            return;
        }
        if matches!(state, State::Closed | State::Listen) {
            l.remove_request(&key);
        } else if state.is_synchronized() || t.conn.is_fast_open_child() {
            // RFC 7413 4.2.2: a Fast Open SYN opens the connection at once; Linux queues its
            // child for accept() before the handshake's last ACK (tcp_fastopen_create_child()).
            let _ = l.on_ack(now, key, cookie);
        }
    }

    /// The connection `key` named has ended and a new one took its four-tuple: a
    /// descriptor still open on the old socket (closed, or handed to a timewait socket)
    /// names nothing the model follows, and a call on it must not reach the new one.
    fn orphan_descriptors(&mut self, key: Key) {
        for s in self.socks.values_mut() {
            if matches!(s, Sock::Conn(k) if *k == key) {
                *s = Sock::Gone;
            }
        }
    }

    /// A segment the stack sent, captured at `now`; `line` is the script line it is owed to
    /// if one matched it, else the line of the event that provoked it.
    pub(super) fn feed_captured(&mut self, now: Duration, line: u32, seg: &SegmentRepr) {
        let Some((key, s)) = self.crossing(now, seg, false) else {
            return;
        };
        if !self.conns.contains_key(&key) && s.flags.syn() && !s.flags.ack() {
            // The SYN of a connect(): now the local port is known.
            let fd = self
                .connecting
                .iter()
                .find(|(_, (peer, _))| *peer == key.peer)
                .map(|(fd, _)| *fd);
            if let Some(fd) = fd {
                let (_, t) = self.connecting.remove(&fd).expect("found above");
                self.conns.insert(key, t);
                self.socks.insert(fd, Sock::Conn(key));
            }
        }
        if s.flags.syn() && s.flags.ack() {
            if let Some(c) = s.options.fast_open {
                // RFC 7413 4.1.2: the server picks its cookie; the first one sent binds.
                self.fast_open
                    .gave((key.peer.ip(), local_ip(seg, false)), c.as_slice());
            }
        }
        if !self.conns.contains_key(&key) && self.diverge_refused(now, line, key, &s) {
            return;
        }
        let Some(t) = self.conns.get_mut(&key) else {
            let fault = ModelFault {
                rule: &rules::NO_CONNECTION,
                expected: Required::Nothing(None),
                actual: Actual::Seen(seg.to_string()),
            };
            self.diverge(line, now, fault, Some(key), Sent::Stray(Box::new(s)));
            return;
        };
        if let Err(f) = t.conn.emitted(now, &s) {
            let l = t.line.max(line);
            self.diverge(l, now, f, Some(key), Sent::Segment(Box::new(s)));
        } else {
            t.unscaled |=
                crate::explore::deviations::scales_unnegotiated(&s, t.peer_syn_scaled, &t.conn);
        }
        self.note_end(key);
    }

    /// A connection that was synchronized and has ended (CLOSED, or TIME-WAIT) leaves its
    /// peer's metrics with Linux (tcp_update_metrics()).
    fn note_end(&mut self, key: Key) {
        let Some(t) = self.conns.get_mut(&key) else {
            return;
        };
        let state = t.conn.state();
        t.synchronized |= state.is_synchronized();
        if t.synchronized && matches!(state, State::Closed | State::TimeWait) {
            self.proven.insert(key.peer.ip());
        }
    }
}

/// The final ACK of a handshake reaches the listener's accept queue first: Linux drops it
/// (or resets) when the queue is full, before the connection sees it. Returns whether the
/// connection should process the segment.
fn listener_admits_ack(
    listeners: &mut BTreeMap<u16, Listener<Key>>,
    t: &mut Tracked,
    key: Key,
    s: &Seg,
    now: Duration,
) -> bool {
    let Some(port) = t.listener else {
        return true;
    };
    let Some(l) = listeners.get_mut(&port) else {
        return true;
    };
    if t.conn.state() != State::SynReceived || s.flags.syn() || s.flags.rst() || !s.flags.ack() {
        return true;
    }
    let tcb = t.conn.tcb();
    // A cookie ACK acknowledges the cookie (ISS + 1); anything else meets the listener.
    let request = l.state_of(&key) == Some(State::SynReceived);
    if s.ack != tcb.snd_nxt || !(request || t.cookie) {
        return true;
    }
    // Only an ACK the connection takes completes the request: one it refuses (Linux
    // tcp_check_req()'s TSecr or PAWS check, say) leaves the request where it was.
    let mut probe = t.conn.clone();
    probe.arrive(now, s);
    if probe.state() == State::SynReceived {
        return true;
    }
    use tcpcheck_model::listener::{AckOutcome, AckReset};
    match l.on_ack(now, key, t.cookie) {
        AckOutcome::Established(_) | AckOutcome::ToChild => true,
        AckOutcome::Dropped(_) => false,
        AckOutcome::Reset(AckReset::AcceptQueueFull) => {
            // Linux `tcp_abort_on_overflow`: the request is reset.
            let _ = t.conn.abort(now);
            false
        }
        AckOutcome::Reset(_) => true,
    }
}

/// The stack's address in a segment.
fn local_ip(seg: &SegmentRepr, inbound: bool) -> IpAddr {
    let (src, dst) = match &seg.ip {
        tcpcheck_model::wire::IpRepr::V4(ip) => (IpAddr::V4(ip.src), IpAddr::V4(ip.dst)),
        tcpcheck_model::wire::IpRepr::V6(ip) => (IpAddr::V6(ip.src), IpAddr::V6(ip.dst)),
    };
    if inbound {
        dst
    } else {
        src
    }
}

/// The four-tuple of a segment, from the stack's point of view.
pub(super) fn key_of(seg: &SegmentRepr, inbound: bool) -> Option<Key> {
    let (src, dst) = match &seg.ip {
        tcpcheck_model::wire::IpRepr::V4(ip) => (IpAddr::V4(ip.src), IpAddr::V4(ip.dst)),
        tcpcheck_model::wire::IpRepr::V6(ip) => (IpAddr::V6(ip.src), IpAddr::V6(ip.dst)),
    };
    Some(if inbound {
        Key {
            local_port: seg.tcp.dst_port,
            peer: SocketAddr::new(src, seg.tcp.src_port),
        }
    } else {
        Key {
            local_port: seg.tcp.src_port,
            peer: SocketAddr::new(dst, seg.tcp.dst_port),
        }
    })
}
