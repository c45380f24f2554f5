//! Socket calls, as the model hears them: RFC 9293's user interface (§3.9.1) spelled the
//! BSD way.

use std::net::SocketAddr;
use std::time::Duration;

use nix::errno::Errno;
use tcpcheck_model::conn::{Actual, Divergence as ModelFault, Required, State};
use tcpcheck_model::listener::Listener;

use super::receive::Read;
use super::{rules, Differ, Key, Sent, Sock, SockOpts, Tracked, Trigger};

/// A call that returned (or, for connect(), started), with what the model needs of it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Call {
    Socket,
    Bind {
        port: u16,
    },
    Listen {
        backlog: i32,
    },
    /// connect() started a handshake (returned 0, EINPROGRESS, or blocked).
    Connect {
        peer: SocketAddr,
    },
    /// accept() returned `new_fd`, connected to `peer`; `None`: it found the queue empty.
    Accept {
        accepted: Option<(i32, SocketAddr)>,
    },
    Write {
        len: u32,
    },
    /// A non-blocking write() of `asked` bytes returned the count, or the errno: the model
    /// is told what was queued and judges the answer ([`super::send::judge`]).
    WriteReturned {
        asked: u32,
        result: Result<u64, Errno>,
    },
    /// read() of up to `asked` bytes returned `len` bytes (0: end of stream); `None`: it
    /// would block.
    Read {
        asked: u64,
        len: Option<u64>,
    },
    /// read() of up to `asked` bytes failed with `errno` (not EAGAIN).
    ReadFailed {
        asked: u64,
        errno: Errno,
    },
    Shutdown {
        read: bool,
        write: bool,
    },
    Close,
    /// SO_LINGER: on with a zero timeout makes close() an ABORT.
    Linger {
        abort_on_close: bool,
    },
    /// TCP_USER_TIMEOUT (RFC 9293 3.8.3, RFC 5482).
    UserTimeout(Option<Duration>),
    /// SO_KEEPALIVE (RFC 9293 3.8.4).
    KeepAlive(bool),
    /// TCP_KEEPIDLE, TCP_KEEPINTVL, TCP_KEEPCNT: whichever is `Some`.
    KeepAliveTimes {
        idle: Option<Duration>,
        interval: Option<Duration>,
        probes: Option<u32>,
    },
    /// A call on a blocking socket returned the count, or the errno, in `result`.
    BlockingReturn {
        call: Blocking,
        result: Result<u64, Errno>,
    },
    /// TCP_FASTOPEN on a socket that listens or will: Fast Open on passive connections
    /// with a queue of `qlen` (0: off), RFC 7413 4.2.
    FastOpenQueue {
        qlen: u32,
    },
    /// A call that may open the connection with Fast Open (RFC 7413 3) returned: `sendto()`
    /// or `sendmsg()` with `MSG_FASTOPEN`, or the first write after a deferred connect(),
    /// of `asked` bytes, to `peer`.
    FastOpenSend {
        peer: SocketAddr,
        asked: u32,
        result: Result<u64, Errno>,
    },
    /// connect() on a socket with `TCP_FASTOPEN_CONNECT` started: `deferred`, it returned
    /// at once without a SYN (Linux `tcp_fastopen_defer_connect()`).
    FastOpenConnect {
        peer: SocketAddr,
        deferred: bool,
    },
    /// `TCP_FASTOPEN_NO_COOKIE`: Fast Open SYNs carry data without a cookie.
    FastOpenNoCookie(bool),
    /// `TCP_SYNCNT`: the socket's own SYN retry count.
    SynRetries(u32),
    /// The data just written is urgent (send() with MSG_OOB; RFC 9293 3.8.5).
    UrgentMark,
    /// SO_OOBINLINE: the out-of-band byte stays in the stream.
    OobInline(bool),
    /// An option that changes nothing the model pins (the window, segment sizes within
    /// the MSS, the ACK timing within its limit).
    Harmless,
    /// Something the model has no rules for, by name: it stops following the run.
    Unmodelled(String),
}

/// A call that blocks on a blocking socket, for [`Call::BlockingReturn`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Blocking {
    Accept,
    Connect,
    Read,
    /// `len`: the bytes asked for.
    Write {
        len: u64,
    },
}

impl Blocking {
    fn name(self) -> &'static str {
        match self {
            Blocking::Accept => "accept",
            Blocking::Connect => "connect",
            Blocking::Read => "read",
            Blocking::Write { .. } => "write",
        }
    }
}

/// An IPv4-mapped IPv6 address (an AF_INET6 socket talking IPv4) as the wire has it.
pub(super) fn canonical(addr: SocketAddr) -> SocketAddr {
    SocketAddr::new(addr.ip().to_canonical(), addr.port())
}

impl Differ {
    /// A call on the stack's descriptor `fd` at `now`, for script line `line`.
    pub(super) fn feed_call(&mut self, now: Duration, line: u32, fd: i32, call: Call) {
        self.arrive_at(now);
        if !self.active() {
            return;
        }
        match call {
            Call::Socket => {
                self.socks.insert(fd, Sock::Fresh { port: None });
            }
            Call::Bind { port } => {
                self.socks.insert(fd, Sock::Fresh { port: Some(port) });
            }
            Call::Listen { backlog } => {
                let port = match self.socks.get(&fd) {
                    Some(Sock::Fresh { port: Some(p) }) | Some(Sock::Listening { port: p }) => *p,
                    _ => return self.give_up("listen() on a socket without a bound port"),
                };
                if let Some(Sock::Listening { .. }) = self.socks.get(&fd) {
                    // listen() again only changes the backlog; the queues stay.
                    if let Some(l) = self.listeners.get_mut(&port) {
                        l.set_backlog(backlog);
                    }
                    return;
                }
                self.listeners
                    .insert(port, Listener::new(backlog, &self.profile));
                self.socks.insert(fd, Sock::Listening { port });
            }
            Call::Connect { peer } => {
                let peer = canonical(peer);
                if self.open_refused(now, line, peer) {
                    return;
                }
                let mut conn = self.new_connection(peer);
                if let Some(t) = self.opts.get(&fd).and_then(|o| o.user_timeout) {
                    conn.set_user_timeout(Some(t));
                }
                if let Some(n) = self.opts.get(&fd).and_then(|o| o.syn_retries) {
                    conn.set_syn_retries(n);
                }
                let _ = conn.open_active(now);
                let mut t = Tracked::new(conn, line, None, false);
                t.before = State::Closed;
                t.event = "connect".into();
                self.connecting.insert(fd, (peer, t));
                self.socks.insert(fd, Sock::Connecting);
            }
            Call::Accept { accepted } => self.accept(now, line, fd, accepted),
            Call::Write { .. } | Call::WriteReturned { .. } if self.fast_open_early(fd) => self
                .give_up(
                    "TCP Fast Open: the server writes before the handshake completes (RFC 7413 \
                     4.2.2 lets it send in SYN-RECEIVED), which the model does not follow",
                ),
            Call::Write { len } => {
                if let Some(t) = self.tracked(fd) {
                    t.fed(line, "write", Trigger::Other);
                    let _ = t.conn.send(now, len);
                }
            }
            Call::WriteReturned { asked, result } => self.write(now, line, fd, asked, result),
            Call::Read { asked, len } => {
                let got = match len {
                    None => Read::WouldBlock,
                    Some(0) => Read::Eof,
                    Some(n) => Read::Bytes(n),
                };
                self.read(now, line, fd, asked, got)
            }
            Call::ReadFailed { asked, errno } => {
                self.read(now, line, fd, asked, Read::Failed(errno))
            }
            Call::Shutdown { write, .. } => {
                if write {
                    if let Some(t) = self.tracked(fd) {
                        t.fed(line, "shutdown(SHUT_WR)", Trigger::Other);
                        if t.after.is_none() {
                            t.after = crate::explore::deviations::taint_shutdown(
                                t.before,
                                t.conn.profile(),
                            );
                        }
                        // RFC 9293 3.10.4: CLOSE means "I have no more to send".
                        let _ = t.conn.close(now);
                    }
                }
            }
            Call::Close => self.close(now, line, fd),
            Call::Linger { abort_on_close } => {
                self.opts.entry(fd).or_default().linger_zero = abort_on_close;
            }
            Call::UserTimeout(t) => {
                self.opts.entry(fd).or_default().user_timeout = t;
                if let Some(tr) = self.tracked(fd) {
                    tr.conn.set_user_timeout(t);
                }
            }
            Call::UrgentMark => {
                if let Some(t) = self.tracked(fd) {
                    t.conn.mark_urgent();
                }
            }
            Call::OobInline(on) => {
                self.opts.entry(fd).or_default().oob_inline = on;
                if let Some(t) = self.tracked(fd) {
                    t.conn.set_oob_inline(on);
                }
            }
            Call::KeepAlive(on) => {
                self.opts.entry(fd).or_default().keepalive = on;
                if let Some(t) = self.tracked(fd) {
                    t.conn.set_keepalive(now, on);
                }
            }
            Call::KeepAliveTimes {
                idle,
                interval,
                probes,
            } => {
                let default = self.profile.keepalive;
                let o = self.opts.entry(fd).or_default();
                let mut times = o.keepalive_times.unwrap_or(default);
                times.idle = idle.unwrap_or(times.idle);
                times.interval = interval.unwrap_or(times.interval);
                times.probes = probes.unwrap_or(times.probes);
                o.keepalive_times = Some(times);
                if let Some(t) = self.tracked(fd) {
                    t.conn.set_keepalive_times(now, times);
                }
            }
            Call::BlockingReturn { call, result } => {
                self.blocking_return(now, line, fd, call, result)
            }
            Call::FastOpenQueue { qlen } => {
                self.opts.entry(fd).or_default().fast_open_qlen = qlen;
            }
            Call::FastOpenSend {
                peer,
                asked,
                result,
            } => self.fast_open_send(now, line, fd, canonical(peer), asked, result),
            Call::FastOpenConnect { peer, deferred } => {
                self.fast_open_connect(now, line, fd, canonical(peer), deferred)
            }
            Call::FastOpenNoCookie(on) => {
                self.opts.entry(fd).or_default().fast_open_no_cookie = on;
            }
            Call::SynRetries(n) => {
                self.opts.entry(fd).or_default().syn_retries = Some(n);
                if let Some(t) = self.tracked(fd) {
                    t.conn.set_syn_retries(n);
                }
            }
            Call::Harmless => {}
            Call::Unmodelled(what) => self.give_up(format!("{what} is not modelled")),
        }
    }

    /// `fd` is a Fast Open child not yet past SYN-RECEIVED.
    fn fast_open_early(&mut self, fd: i32) -> bool {
        self.tracked(fd)
            .is_some_and(|t| t.conn.is_fast_open_child() && t.conn.state() == State::SynReceived)
    }

    pub(super) fn tracked(&mut self, fd: i32) -> Option<&mut Tracked> {
        match self.socks.get(&fd)? {
            Sock::Conn(key) => self.conns.get_mut(key),
            Sock::Connecting => self.connecting.get_mut(&fd).map(|(_, t)| t),
            _ => None,
        }
    }

    fn accept(&mut self, now: Duration, line: u32, fd: i32, accepted: Option<(i32, SocketAddr)>) {
        let Some(Sock::Listening { port }) = self.socks.get(&fd).cloned() else {
            return;
        };
        let Some(listener) = self.listeners.get_mut(&port) else {
            return;
        };
        let modelled = listener.accept();
        let accepted = accepted.map(|(fd, peer)| (fd, canonical(peer)));
        let fault = match (accepted, modelled) {
            (None, None) => return,
            // A connection reset while queued has no peer address left to report.
            (Some((new_fd, peer)), Some(key)) if key.peer == peer || peer.ip().is_unspecified() => {
                self.socks.insert(new_fd, Sock::Conn(key));
                if let Some(t) = self.conns.get_mut(&key) {
                    t.listener = None;
                    t.line = line;
                    // A child inherits its listener's options (Linux sk_clone_lock()).
                    if let Some(o) = self.opts.get(&fd).cloned() {
                        if o.user_timeout.is_some() {
                            t.conn.set_user_timeout(o.user_timeout);
                        }
                        if let Some(times) = o.keepalive_times {
                            t.conn.set_keepalive_times(now, times);
                        }
                        if o.keepalive {
                            t.conn.set_keepalive(now, true);
                        }
                        if o.oob_inline {
                            t.conn.set_oob_inline(true);
                        }
                        self.opts.insert(
                            new_fd,
                            SockOpts {
                                linger_zero: false,
                                ..o
                            },
                        );
                    }
                }
                return;
            }
            (Some((_, peer)), Some(key)) => ModelFault {
                rule: &rules::ACCEPT_FIFO,
                expected: Required::Call(format!(
                    "accept() returns the connection from {}",
                    key.peer
                )),
                actual: Actual::Seen(format!("accept() returned the connection from {peer}")),
            },
            (Some((_, peer)), None) => ModelFault {
                rule: &rules::ESTABLISHED_BY_FINAL_ACK,
                expected: Required::Call("accept() finds the queue empty".into()),
                actual: Actual::Seen(format!("accept() returned the connection from {peer}")),
            },
            (None, Some(key)) => ModelFault {
                rule: &rules::ESTABLISHED_BY_FINAL_ACK,
                expected: Required::Call(format!(
                    "accept() returns the connection from {}",
                    key.peer
                )),
                actual: Actual::Seen("accept() found the queue empty".into()),
            },
        };
        // The connection the model expected names the state, the event and any deviation
        // it went through unseen.
        self.diverge(line, now, fault, modelled, Sent::Other);
    }

    /// The connection a data call (`read`, `write`) on `fd` reaches, told of the call, with
    /// its four-tuple once it has one.
    fn data_call(&mut self, line: u32, fd: i32, call: &str) -> Option<(Option<Key>, &mut Tracked)> {
        let key = match self.socks.get(&fd) {
            Some(Sock::Conn(k)) => Some(*k),
            _ => None,
        };
        let t = self.tracked(fd)?;
        t.fed(line, call, Trigger::Other);
        Some((key, t))
    }

    fn read(&mut self, now: Duration, line: u32, fd: i32, asked: u64, got: Read) {
        let Some((key, t)) = self.data_call(line, fd, "read") else {
            return;
        };
        if let Err(fault) = super::receive::judge(&mut t.conn, now, asked, got) {
            self.diverge(line, now, fault, key, Sent::Other);
        }
    }

    fn write(&mut self, now: Duration, line: u32, fd: i32, asked: u32, result: Result<u64, Errno>) {
        let Some((key, t)) = self.data_call(line, fd, "write") else {
            return;
        };
        if let Err(fault) = super::send::judge(&mut t.conn, now, asked, result) {
            self.diverge(line, now, fault, key, Sent::Other);
        }
    }

    /// What a call on a blocking socket may return: it waits until it can complete, so it
    /// never says "try again", and a write waits until all its data is queued unless the
    /// connection fails first (Linux `tcp_sendmsg_locked()`, `inet_wait_for_connect()`).
    fn blocking_return(
        &mut self,
        now: Duration,
        line: u32,
        fd: i32,
        call: Blocking,
        result: Result<u64, Errno>,
    ) {
        let name = call.name();
        let key = match self.socks.get(&fd) {
            Some(Sock::Conn(k)) => Some(*k),
            _ => None,
        };
        let can_send = self
            .tracked(fd)
            .is_some_and(|t| matches!(t.conn.state(), State::Established | State::CloseWait));
        let fault = match (call, result) {
            (_, Err(Errno::EAGAIN)) => ModelFault {
                rule: &rules::EAGAIN_ONLY_NONBLOCKING,
                expected: Required::Call(format!(
                    "{name}() on a blocking socket waits until it can complete"
                )),
                actual: Actual::Seen(format!("{name}() returned EAGAIN")),
            },
            (Blocking::Connect, Err(e @ (Errno::EINPROGRESS | Errno::EALREADY))) => ModelFault {
                rule: &rules::EINPROGRESS_ONLY_NONBLOCKING,
                expected: Required::Call(
                    "connect() on a blocking socket waits until the handshake ends".into(),
                ),
                actual: Actual::Seen(format!("connect() returned {e:?}")),
            },
            (Blocking::Write { len }, Ok(n)) if n < len && can_send => ModelFault {
                rule: &rules::BLOCKING_SEND_WAITS,
                expected: Required::Call(format!(
                    "write() of {len} bytes returns {len}, or blocks"
                )),
                actual: Actual::Seen(format!(
                    "write() returned {n} while the connection can still send"
                )),
            },
            _ => return,
        };
        self.diverge(line, now, fault, key, Sent::Other);
    }

    fn close(&mut self, now: Duration, line: u32, fd: i32) {
        let linger_zero = self.opts.remove(&fd).is_some_and(|o| o.linger_zero);
        match self.socks.insert(fd, Sock::Gone) {
            Some(Sock::Listening { port }) => {
                // Linux inet_csk_listen_stop(): children waiting in the accept queue are
                // reset as their descriptors never existed; requests vanish silently.
                if let Some(l) = self.listeners.remove(&port) {
                    let children: Vec<Key> = l.accept_queue().copied().collect();
                    // A Fast Open child (RFC 7413 4.2.2) is a full socket from its SYN on.
                    self.conns.retain(|_, t| {
                        t.listener != Some(port)
                            || t.conn.state().is_synchronized()
                            || t.conn.is_fast_open_child()
                    });
                    for key in children {
                        if let Some(t) = self.conns.get_mut(&key) {
                            t.line = line;
                            let _ = t.conn.abort(now);
                            t.listener = None;
                        }
                    }
                }
            }
            Some(Sock::Connecting) => {
                if let Some((_, mut t)) = self.connecting.remove(&fd) {
                    let _ = t.conn.close(now);
                }
            }
            Some(Sock::Conn(key)) => {
                let Some(t) = self.conns.get_mut(&key) else {
                    return;
                };
                let (event, trigger) = if linger_zero {
                    ("abort (SO_LINGER 0, close)", Trigger::Abort)
                } else {
                    ("close", Trigger::Other)
                };
                t.fed(line, event, trigger);
                if linger_zero && t.after.is_none() {
                    t.after = crate::explore::deviations::taint_abort(t.before, t.conn.profile());
                }
                if linger_zero {
                    // SO_LINGER with a zero timeout: RFC 9293 3.10.5 ABORT, as Linux's
                    // tcp_close() does it (Connection::close_linger_zero).
                    let _ = t.conn.close_linger_zero(now);
                } else {
                    let _ = t.conn.close_and_release(now);
                }
            }
            _ => {}
        }
    }
}
