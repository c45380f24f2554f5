//! TCP Fast Open on the client side (RFC 7413): the cookie cache a client keeps per
//! server, and what an active open's SYN carries because of it.
//!
//! The cache outlives connections (Linux keeps it in the TCP metrics of the server's
//! address, net/ipv4/tcp_metrics.c `tcp_fastopen_cache_get()`/`_set()`), so a harness holds
//! one [`FastOpenClient`] per run and tells each new active open what it plans; the
//! connection reports back what its SYN-ACK taught ([`Learned`]).

use std::collections::BTreeMap;
use std::net::IpAddr;

use super::fast_open::{flags, Cookie, FastOpenSettings};

/// What the client remembers of one server (RFC 7413 4.1.3).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CachedServer {
    /// The server's last cookie (RFC 7413 4.1.3: "the client caches the cookie").
    pub cookie: Option<Cookie>,
    /// The MSS the server's SYN-ACK offered (RFC 7413 4.1.3: "cache the MSS"); `None`
    /// when none was seen.
    pub mss: Option<u16>,
    /// A SYN-ACK came without an MSS option: Linux then caches its own clamp, which the
    /// model does not follow, so the next SYN's data is bounded only by what was offered.
    pub mss_unknown: bool,
    /// Linux `try_exp`: 1 after a cookie request in the RFC form drew no cookie (the next
    /// request uses the experimental form), 2 after one in that form did not either.
    pub try_exp: u8,
}

/// The Fast Open option and data an active open's SYN carries.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SynPlan {
    /// RFC 7413 4.2.1: no cookie cached: an empty cookie (a request), no data.
    Request { exp: bool },
    /// RFC 7413 4.2.2: the cached cookie, and data.
    Cookie {
        cookie: Cookie,
        server: CachedServer,
    },
    /// `TFO_CLIENT_NO_COOKIE` (sysctl bit or `TCP_FASTOPEN_NO_COOKIE`): data, no option.
    NoCookie { server: CachedServer },
}

impl SynPlan {
    /// Whether the SYN may carry data.
    pub fn carries_data(&self) -> bool {
        !matches!(self, SynPlan::Request { .. })
    }

    /// The option the SYN carries: a cookie (empty for a request), or none.
    pub fn option(&self) -> Option<Cookie> {
        match *self {
            SynPlan::Request { exp } => Cookie::new(&[], exp),
            SynPlan::Cookie { cookie, .. } => Some(cookie),
            SynPlan::NoCookie { .. } => None,
        }
    }

    /// What the cache says of the server, for the SYN's data size.
    pub fn server(&self) -> Option<CachedServer> {
        match *self {
            SynPlan::Request { .. } => None,
            SynPlan::Cookie { server, .. } | SynPlan::NoCookie { server } => Some(server),
        }
    }
}

/// What a Fast Open call does on this stack.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ClientDecision {
    /// The SYN goes with this plan.
    Syn(SynPlan),
    /// The client side is off (`net.ipv4.tcp_fastopen` without bit 0x1): the call fails
    /// with EOPNOTSUPP and sends nothing (Linux `tcp_sendmsg_fastopen()`).
    Disabled,
    /// The model cannot tell, for the reason given.
    Unknown(&'static str),
}

/// What a SYN-ACK taught the client about its server (Linux `tcp_rcv_fastopen_synack()`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Learned {
    /// A cookie to cache (a valid one, in a SYN-ACK answering a Fast Open option).
    pub cookie: Option<Cookie>,
    /// The SYN-ACK's MSS option; `None`: it had none.
    pub mss: Option<u16>,
    /// The experimental form is to be tried next (1) or given up again (2); 0: no change.
    pub try_exp: u8,
}

/// The client's cookie cache, by server address.
#[derive(Clone, Debug, Default)]
pub struct FastOpenClient {
    cache: BTreeMap<IpAddr, CachedServer>,
}

impl FastOpenClient {
    /// What a Fast Open open to `server` sends, on a profile whose settings are
    /// `settings`; `no_cookie`: the socket set `TCP_FASTOPEN_NO_COOKIE`.
    pub fn plan(
        &self,
        settings: FastOpenSettings,
        server: IpAddr,
        no_cookie: bool,
    ) -> ClientDecision {
        let Some(sysctl) = settings.sysctl else {
            return ClientDecision::Unknown(
                "whether the stack does Fast Open as a client (RFC 7413) is its own \
                 configuration",
            );
        };
        if sysctl & flags::CLIENT_ENABLE == 0 {
            return ClientDecision::Disabled;
        }
        if settings.blackhole_timeout != 0 {
            // RFC 7413 4.1.3.1 has the client disable Fast Open after timeouts; Linux does
            // it for the whole namespace (tcp_fastopen_active_detect_blackhole()), from
            // timeouts the model does not count across connections.
            return ClientDecision::Unknown(
                "net.ipv4.tcp_fastopen_blackhole_timeout_sec is set: Linux then pauses active \
                 Fast Open after timeouts, which the model does not follow",
            );
        }
        let cached = self.cache.get(&server).copied().unwrap_or_default();
        // Linux tcp_fastopen_cookie_check(): no cookie needed, a cached cookie, or a request.
        if no_cookie || sysctl & flags::CLIENT_NO_COOKIE != 0 {
            return ClientDecision::Syn(SynPlan::NoCookie { server: cached });
        }
        match cached.cookie {
            // RFC 7413 4.2.2: a cached cookie goes with data.
            Some(cookie) => ClientDecision::Syn(SynPlan::Cookie {
                cookie,
                server: cached,
            }),
            // RFC 7413 4.2.1: without one, the SYN requests it. Linux asks in the
            // experimental form after a request in the RFC form drew nothing
            // (tcp_fastopen_cache_get(): try_exp 1).
            None => ClientDecision::Syn(SynPlan::Request {
                exp: cached.try_exp == 1,
            }),
        }
    }

    /// Whether a connect() with `TCP_FASTOPEN_CONNECT` to `server` returns at once and
    /// leaves the SYN to the first write (Linux `tcp_fastopen_defer_connect()`): only
    /// when that SYN can carry data.
    pub fn defers(&self, settings: FastOpenSettings, server: IpAddr, no_cookie: bool) -> bool {
        matches!(
            self.plan(settings, server, no_cookie),
            ClientDecision::Syn(plan) if plan.carries_data()
        )
    }

    /// What the cache holds for `server`.
    pub fn cached(&self, server: IpAddr) -> CachedServer {
        self.cache.get(&server).copied().unwrap_or_default()
    }

    /// A SYN-ACK from `server` taught `learned` (Linux `tcp_fastopen_cache_set()`).
    pub fn learn(&mut self, server: IpAddr, learned: Learned) {
        let e = self.cache.entry(server).or_default();
        match learned.mss {
            Some(m) => {
                e.mss = Some(m);
                e.mss_unknown = false;
            }
            None => e.mss_unknown = true,
        }
        if let Some(c) = learned.cookie {
            // RFC 7413 4.1.3: the newest cookie replaces the old one.
            e.cookie = Some(c);
        } else if learned.try_exp > e.try_exp && e.cookie.is_none() {
            e.try_exp = learned.try_exp;
        }
    }
}

/// The most data Linux puts on a Fast Open SYN: the MSS the path allows (the SYN's own
/// MSS option), clamped by the server's cached MSS, less `MAX_TCP_OPTION_SPACE` (40) for
/// options a middlebox may add (net/ipv4/tcp_output.c `tcp_send_syn_data()`); `None` when
/// the cached MSS is not known.
pub fn linux_syn_data_space(own_mss: u16, server: CachedServer) -> Option<u32> {
    if server.mss_unknown {
        return None;
    }
    let clamp = server.mss.unwrap_or(own_mss).min(own_mss);
    Some(u32::from(clamp).saturating_sub(40))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip() -> IpAddr {
        "192.0.2.2".parse().unwrap()
    }

    fn linux(sysctl: u32) -> FastOpenSettings {
        FastOpenSettings {
            sysctl: Some(sysctl),
            key: None,
            blackhole_timeout: 0,
        }
    }

    #[test]
    fn request_then_cached_cookie() {
        let mut c = FastOpenClient::default();
        assert_eq!(
            c.plan(linux(1), ip(), false),
            ClientDecision::Syn(SynPlan::Request { exp: false })
        );
        assert!(!c.defers(linux(1), ip(), false));
        let cookie = Cookie::new(&[0xab, 0xcd, 0x12, 0x34], false).unwrap();
        c.learn(
            ip(),
            Learned {
                cookie: Some(cookie),
                mss: Some(940),
                try_exp: 0,
            },
        );
        let ClientDecision::Syn(SynPlan::Cookie {
            cookie: got,
            server,
        }) = c.plan(linux(1), ip(), false)
        else {
            panic!("a cached cookie goes with data");
        };
        assert_eq!(got, cookie);
        assert_eq!(linux_syn_data_space(1460, server), Some(900));
        assert!(c.defers(linux(1), ip(), false));
    }

    #[test]
    fn settings_and_no_cookie() {
        let c = FastOpenClient::default();
        let blackhole = FastOpenSettings {
            blackhole_timeout: 3600,
            ..linux(1)
        };
        assert!(matches!(
            c.plan(blackhole, ip(), false),
            ClientDecision::Unknown(_)
        ));
        assert_eq!(c.plan(linux(2), ip(), false), ClientDecision::Disabled);
        assert!(matches!(
            c.plan(FastOpenSettings::default(), ip(), false),
            ClientDecision::Unknown(_)
        ));
        assert!(matches!(
            c.plan(linux(5), ip(), false),
            ClientDecision::Syn(SynPlan::NoCookie { .. })
        ));
        assert!(matches!(
            c.plan(linux(1), ip(), true),
            ClientDecision::Syn(SynPlan::NoCookie { .. })
        ));
    }

    #[test]
    fn no_cookie_answer_tries_the_experimental_form() {
        let mut c = FastOpenClient::default();
        let nothing = |try_exp| Learned {
            cookie: None,
            mss: Some(1460),
            try_exp,
        };
        c.learn(ip(), nothing(1));
        assert_eq!(
            c.plan(linux(1), ip(), false),
            ClientDecision::Syn(SynPlan::Request { exp: true })
        );
        c.learn(ip(), nothing(2));
        assert_eq!(
            c.plan(linux(1), ip(), false),
            ClientDecision::Syn(SynPlan::Request { exp: false })
        );
    }

    #[test]
    fn a_synack_without_mss_leaves_the_space_unknown() {
        let mut c = FastOpenClient::default();
        c.learn(
            ip(),
            Learned {
                cookie: Cookie::new(&[1, 2, 3, 4], false),
                mss: None,
                try_exp: 0,
            },
        );
        assert_eq!(linux_syn_data_space(1460, c.cached(ip())), None);
    }
}
