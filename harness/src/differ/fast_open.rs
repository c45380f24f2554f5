//! The Fast Open client's calls (RFC 7413 3): a `sendto(MSG_FASTOPEN)` or a deferred
//! connect()'s first write opens the connection with the SYN the client's cookie cache
//! calls for ([`FastOpenClient`]); a connect() with `TCP_FASTOPEN_CONNECT` returns at once
//! when that SYN can carry data.

use std::net::SocketAddr;
use std::time::Duration;

use nix::errno::Errno;
use tcpcheck_model::conn::fast_open_client::{ClientDecision, SynPlan};
use tcpcheck_model::conn::{Actual, Divergence as ModelFault, Required, State};

use super::{rules, Differ, Sent, Sock, Tracked};

impl Differ {
    /// What the cache plans for a Fast Open open from `fd` to `peer`.
    fn fast_open_plan(&self, fd: i32, peer: SocketAddr) -> ClientDecision {
        let no_cookie = self.opts.get(&fd).is_some_and(|o| o.fast_open_no_cookie);
        self.fast_open_client
            .plan(self.profile.fast_open, peer.ip(), no_cookie)
    }

    /// A Fast Open call on `fd` to `peer` of `asked` bytes returned `result`.
    pub(super) fn fast_open_send(
        &mut self,
        now: Duration,
        line: u32,
        fd: i32,
        peer: SocketAddr,
        asked: u32,
        result: Result<u64, Errno>,
    ) {
        let peer = match self.socks.get(&fd) {
            // The deferred connect() named the peer.
            Some(Sock::Deferred { peer }) => *peer,
            None | Some(Sock::Fresh { .. }) => peer,
            Some(Sock::Conn(_) | Sock::Connecting) => {
                // The connection exists: the call is a write (Linux tcp_sendmsg_fastopen()
                // answers EISCONN or EALREADY for MSG_FASTOPEN, and queues nothing).
                if let (Ok(n @ 1..), Some(t)) = (result, self.tracked(fd)) {
                    t.fed(line, "write", super::Trigger::Other);
                    let _ = t.conn.send(now, u32::try_from(n).unwrap_or(u32::MAX));
                }
                return;
            }
            Some(_) => return,
        };
        let plan = match self.fast_open_plan(fd, peer) {
            ClientDecision::Unknown(why) => return self.give_up(format!("TCP Fast Open: {why}")),
            ClientDecision::Disabled => {
                if result == Err(Errno::EOPNOTSUPP) {
                    return;
                }
                let fault = ModelFault {
                    rule: &rules::FAST_OPEN_CLIENT_OFF,
                    expected: Required::Call(
                        "a Fast Open call returns EOPNOTSUPP and sends nothing".into(),
                    ),
                    actual: Actual::Seen(format!("it returned {result:?}")),
                };
                return self.diverge(line, now, fault, None, Sent::Other);
            }
            ClientDecision::Syn(plan) => plan,
        };
        let syn_data = match result {
            Ok(n) => u32::try_from(n).unwrap_or(u32::MAX),
            // RFC 7413 4.2.1: nothing went on the SYN (a cookie request, or no data).
            Err(Errno::EINPROGRESS) => 0,
            // The call failed before any SYN (an AF_UNSPEC address, a Fast Open already
            // under way): nothing opened.
            Err(_) => return,
        };
        self.open_fast_open(
            now,
            line,
            fd,
            peer,
            plan,
            (asked, syn_data),
            "sendto(MSG_FASTOPEN)",
        );
    }

    /// connect() with `TCP_FASTOPEN_CONNECT` on `fd` to `peer` returned, `deferred` or
    /// with its SYN sent.
    pub(super) fn fast_open_connect(
        &mut self,
        now: Duration,
        line: u32,
        fd: i32,
        peer: SocketAddr,
        deferred: bool,
    ) {
        let plan = match self.fast_open_plan(fd, peer) {
            ClientDecision::Unknown(why) => return self.give_up(format!("TCP Fast Open: {why}")),
            ClientDecision::Disabled => {
                return self.give_up(
                    "TCP Fast Open: connect() with TCP_FASTOPEN_CONNECT after \
                     net.ipv4.tcp_fastopen's client bit was cleared is not modelled",
                )
            }
            ClientDecision::Syn(plan) => plan,
        };
        // Linux tcp_fastopen_defer_connect(): the SYN waits for the first write when it can
        // carry data (a cookie cached, or none needed); else connect() sends a cookie
        // request at once (RFC 7413 4.2.1) and answers EINPROGRESS.
        if plan.carries_data() != deferred {
            let fault = ModelFault {
                rule: &rules::FAST_OPEN_DEFER,
                expected: Required::Call(if plan.carries_data() {
                    "connect() returns 0 at once and sends no SYN".into()
                } else {
                    "connect() sends a SYN with a cookie request".into()
                }),
                actual: Actual::Seen(if deferred {
                    "connect() returned 0 without a SYN".into()
                } else {
                    "connect() sent its SYN".into()
                }),
            };
            return self.diverge(line, now, fault, None, Sent::Other);
        }
        if deferred {
            self.socks.insert(fd, Sock::Deferred { peer });
        } else {
            self.open_fast_open(now, line, fd, peer, plan, (0, 0), "connect");
        }
    }

    /// A shell command ran `ip tcp_metrics`: Linux keeps the Fast Open client cache in the
    /// TCP metrics (tcp_metrics.c), so `flush` empties it; anything else that may change it
    /// stops the model, named.
    pub fn tcp_metrics_command(&mut self, text: &str) {
        // Only a plain command is sure to have run: in a list (`a || ip tcp_metrics
        // flush`) it may not have.
        let plain = !["|", "&&", ";", "&>"].iter().any(|s| text.contains(s))
            && text.trim_start().starts_with("ip tcp_metrics");
        if plain && text.contains("flush") {
            self.fast_open_client = Default::default();
        } else if !(plain && text.contains("show")) {
            self.give_up(format!(
                "`{text}` may change the TCP metrics, where Linux keeps its Fast Open cookies \
                 (RFC 7413 4.1.3); the model follows only a plain `ip tcp_metrics flush`"
            ));
        }
    }

    /// The active open itself: a connection awaiting its SYN, as connect() makes one.
    #[allow(clippy::too_many_arguments)]
    fn open_fast_open(
        &mut self,
        now: Duration,
        line: u32,
        fd: i32,
        peer: SocketAddr,
        plan: SynPlan,
        (asked, syn_data): (u32, u32),
        event: &str,
    ) {
        let mut conn = self.new_connection(peer);
        if let Some(t) = self.opts.get(&fd).and_then(|o| o.user_timeout) {
            conn.set_user_timeout(Some(t));
        }
        if let Some(n) = self.opts.get(&fd).and_then(|o| o.syn_retries) {
            conn.set_syn_retries(n);
        }
        let _ = conn.open_active_fast_open(now, plan, asked, syn_data);
        let mut t = Tracked::new(conn, line, None, false);
        t.before = State::Closed;
        t.event = event.into();
        self.connecting.insert(fd, (peer, t));
        self.socks.insert(fd, Sock::Connecting);
    }
}
