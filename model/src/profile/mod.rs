//! What the model allows depends on whose rules it applies: the standard as written, or the
//! documented choices Linux makes where the standard leaves room (design §4). The numbers of
//! the `linux` profile come from the sysctls of the namespace under test, so a check that
//! changes `net.ipv4.tcp_synack_retries` changes the model's expectation with it.

pub mod behaviour;

use crate::timers::TimerPrecision;
use std::collections::BTreeMap;
use std::time::Duration;

pub use behaviour::Behaviour;

/// Keep-alive timing (RFC 9293 3.8.4; Linux's three `tcp_keepalive_*` sysctls and the
/// TCP_KEEPIDLE, TCP_KEEPINTVL and TCP_KEEPCNT socket options).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct KeepAlive {
    pub idle: Duration,
    pub interval: Duration,
    pub probes: u32,
}

impl Default for KeepAlive {
    /// Linux's defaults, which also meet RFC 9293's MUST-28 (two hours idle).
    fn default() -> Self {
        KeepAlive {
            idle: Duration::from_secs(7200),
            interval: Duration::from_secs(75),
            probes: 9,
        }
    }
}

/// Whose rules the model applies: the one way a profile is chosen. The runner adds "no
/// model" as `Option<ProfileKind>`; the explorer lifts a kind to a type (its
/// `ProfileSource`) because proptest's reference machine has no value to carry it. Code
/// that depends on the choice reads [`Profile::behaviour`] and the numbers, or matches
/// exhaustively, never compares with one kind.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ProfileKind {
    /// RFC 9293 with RFC 5961 and RFC 6298, nothing more.
    Rfc9293,
    /// Linux 6.x (design §4).
    Linux,
}

/// Every number and switch a rule of the model depends on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Profile {
    /// Whose rules these are, for reports and the harness; the model's rules read only the
    /// numbers and the switches below.
    pub kind: ProfileKind,
    /// Where the rules depart from RFC 9293, or narrow what it leaves open.
    pub behaviour: Behaviour,
    /// RFC 6298 2.1: the RTO before any RTT sample.
    pub rto_initial: Duration,
    /// RFC 6298 2.4: the RTO floor (1 s in the RFC; Linux `tcp_rto_min_us`, 200 ms).
    pub rto_min: Duration,
    /// RFC 6298 2.5: the RTO ceiling (at least 60 s; Linux `tcp_rto_max_ms`, 120 s).
    pub rto_max: Duration,
    /// SYN retransmissions before connect() fails (Linux `tcp_syn_retries`).
    pub syn_retries: u32,
    /// SYN retransmissions at a fixed 1 s interval before backoff starts (Linux
    /// `tcp_syn_linear_timeouts`; 0 in the RFC profile).
    pub syn_linear_timeouts: u32,
    /// SYN-ACK retransmissions before a request is dropped (Linux `tcp_synack_retries`).
    pub synack_retries: u32,
    /// Data retransmissions before the connection is given up (Linux `tcp_retries2`).
    pub retries2: u32,
    /// How long TIME-WAIT lasts: 2×MSL in the RFC (MSL 2 min), a fixed 60 s on Linux.
    pub time_wait: Duration,
    /// How long a connection whose application has closed its descriptor may stay in
    /// FIN-WAIT-2 (Linux `tcp_fin_timeout`, 60 s); the RFC waits for the peer's FIN forever.
    pub fin_timeout: Option<Duration>,
    /// Keep-alive defaults, when a socket turns them on without its own numbers: idle time
    /// before the first probe (RFC 9293 3.8.4: MUST-28, "no less than two hours"; Linux
    /// `tcp_keepalive_time`), time between probes (`tcp_keepalive_intvl`) and unanswered
    /// probes before the connection is dropped (`tcp_keepalive_probes`).
    pub keepalive: KeepAlive,
    /// RFC 5961 7: at most this many challenge ACKs per `challenge_ack_interval` per
    /// connection (Linux: one per `tcp_invalid_ratelimit`, 500 ms).
    pub challenge_ack_interval: Duration,
    /// Linux tail loss probe (`tcp_early_retrans` 3 and 4 enable it).
    pub tail_loss_probe: bool,
    /// Linux `tcp_abort_on_overflow`: a final ACK into a full accept queue draws a RST.
    pub abort_on_overflow: bool,
    /// Linux `tcp_syncookies`: 0 never, 1 when the SYN queue overflows, 2 always.
    pub syncookies: u8,
    /// Linux `tcp_max_syn_backlog`.
    pub max_syn_backlog: u32,
    /// Linux `net.core.somaxconn`: the cap on listen()'s backlog.
    pub somaxconn: u32,
    /// Delayed ACK: the longest an ACK may wait, under 0.5 s in both profiles.
    // RFC 9293 3.8.6.3: MUST-40, an ACK is delayed by less than 0.5 seconds.
    pub ack_delay_max: Duration,
    /// Server-side TCP Fast Open (RFC 7413): `net.ipv4.tcp_fastopen` and its key, known
    /// only on the `linux` profile.
    pub fast_open: crate::conn::fast_open::FastOpenSettings,
    /// `net.ipv4.tcp_ecn` (RFC 3168 negotiation); `None` leaves ECN to the stack.
    pub ecn: Option<u8>,
    /// How precisely the stack fires its timers, which sets the window a timer's segment
    /// is accepted in: the kernel's wheel at HZ=250 by default; exact for a stack on a
    /// virtual clock (the harness sets it from the stack's clock).
    pub timer_precision: TimerPrecision,
}

impl Profile {
    /// The profile of `kind` with its defaults (for Linux, before any sysctl is read).
    pub fn defaults(kind: ProfileKind) -> Profile {
        match kind {
            ProfileKind::Rfc9293 => Profile::rfc9293(),
            ProfileKind::Linux => Profile::linux_defaults(),
        }
    }

    pub fn rfc9293() -> Profile {
        Profile {
            kind: ProfileKind::Rfc9293,
            behaviour: Behaviour::RFC9293,
            rto_initial: Duration::from_secs(1),
            rto_min: Duration::from_secs(1),
            rto_max: Duration::from_secs(60),
            syn_retries: 6,
            syn_linear_timeouts: 0,
            synack_retries: 5,
            retries2: 15,
            time_wait: Duration::from_secs(240),
            fin_timeout: None,
            keepalive: KeepAlive::default(),
            challenge_ack_interval: Duration::from_millis(500),
            tail_loss_probe: false,
            abort_on_overflow: false,
            syncookies: 0,
            max_syn_backlog: 128,
            somaxconn: 4096,
            ack_delay_max: Duration::from_millis(500),
            fast_open: Default::default(),
            ecn: None,
            timer_precision: TimerPrecision::default(),
        }
    }

    /// The Linux defaults (kernel 6.x), before any sysctl is read.
    pub fn linux_defaults() -> Profile {
        Profile {
            kind: ProfileKind::Linux,
            behaviour: Behaviour::LINUX,
            rto_initial: Duration::from_secs(1),
            rto_min: Duration::from_millis(200),
            rto_max: Duration::from_secs(120),
            syn_retries: 6,
            syn_linear_timeouts: 4,
            synack_retries: 5,
            retries2: 15,
            time_wait: Duration::from_secs(60),
            fin_timeout: Some(Duration::from_secs(60)),
            keepalive: KeepAlive::default(),
            challenge_ack_interval: Duration::from_millis(500),
            tail_loss_probe: true,
            abort_on_overflow: false,
            syncookies: 1,
            max_syn_backlog: 128,
            somaxconn: 4096,
            ack_delay_max: Duration::from_millis(200),
            // The kernel's default: client side on (TFO_CLIENT_ENABLE), no key set.
            fast_open: crate::conn::fast_open::FastOpenSettings {
                sysctl: Some(1),
                key: None,
                blackhole_timeout: 0,
            },
            // ECN when the peer asks, never asked for (the kernel's default).
            ecn: Some(2),
            timer_precision: TimerPrecision::default(),
        }
    }

    /// The Linux profile with the values of the sysctls given (name to value as read from
    /// /proc/sys, e.g. `net.ipv4.tcp_syn_retries` → `6`). Unknown names are ignored; a value
    /// that does not parse is an error naming the sysctl.
    pub fn linux(sysctls: &BTreeMap<String, String>) -> Result<Profile, String> {
        Profile::linux_defaults().with_sysctls(sysctls)
    }

    /// This profile with the values of the sysctls given changed (a scenario setting some
    /// on a namespace whose others were read already). Unknown names are ignored; a value
    /// that does not parse is an error naming the sysctl.
    pub fn with_sysctls(&self, sysctls: &BTreeMap<String, String>) -> Result<Profile, String> {
        let mut p = self.clone();
        let num = |name: &str| -> Result<Option<u64>, String> {
            match sysctls.get(name) {
                None => Ok(None),
                Some(v) => v
                    .trim()
                    .parse::<u64>()
                    .map(Some)
                    .map_err(|e| format!("sysctl {name} = {v:?}: {e}")),
            }
        };
        let ms = |v: u64| Duration::from_millis(v);
        if let Some(v) = num("net.ipv4.tcp_syn_retries")? {
            p.syn_retries = v as u32;
        }
        if let Some(v) = num("net.ipv4.tcp_syn_linear_timeouts")? {
            p.syn_linear_timeouts = v as u32;
        }
        if let Some(v) = num("net.ipv4.tcp_synack_retries")? {
            p.synack_retries = v as u32;
        }
        if let Some(v) = num("net.ipv4.tcp_retries2")? {
            p.retries2 = v as u32;
        }
        if let Some(v) = num("net.ipv4.tcp_rto_min_us")? {
            p.rto_min = Duration::from_micros(v);
        }
        if let Some(v) = num("net.ipv4.tcp_rto_max_ms")? {
            p.rto_max = ms(v);
        }
        if let Some(v) = num("net.ipv4.tcp_invalid_ratelimit")? {
            p.challenge_ack_interval = ms(v);
        }
        if let Some(v) = num("net.ipv4.tcp_early_retrans")? {
            p.tail_loss_probe = v >= 3;
        }
        if let Some(v) = num("net.ipv4.tcp_abort_on_overflow")? {
            p.abort_on_overflow = v != 0;
        }
        if let Some(v) = num("net.ipv4.tcp_syncookies")? {
            p.syncookies = v as u8;
        }
        if let Some(v) = num("net.ipv4.tcp_max_syn_backlog")? {
            p.max_syn_backlog = v as u32;
        }
        if let Some(v) = num("net.core.somaxconn")? {
            p.somaxconn = v as u32;
        }
        if let Some(v) = num("net.ipv4.tcp_fin_timeout")? {
            p.fin_timeout = Some(Duration::from_secs(v));
        }
        if let Some(v) = num("net.ipv4.tcp_keepalive_time")? {
            p.keepalive.idle = Duration::from_secs(v);
        }
        if let Some(v) = num("net.ipv4.tcp_keepalive_intvl")? {
            p.keepalive.interval = Duration::from_secs(v);
        }
        if let Some(v) = num("net.ipv4.tcp_keepalive_probes")? {
            p.keepalive.probes = v as u32;
        }
        if let Some(v) = num("net.ipv4.tcp_ecn")? {
            p.ecn = Some(v.min(255) as u8);
        }
        if let Some(v) = sysctls.get("net.ipv4.tcp_fastopen") {
            // /proc shows it in decimal; scripts write it in hex (`0x70403`).
            let v = v.trim();
            let n = match v.strip_prefix("0x") {
                Some(hex) => u32::from_str_radix(hex, 16),
                None => v.parse(),
            };
            p.fast_open.sysctl =
                Some(n.map_err(|e| format!("sysctl net.ipv4.tcp_fastopen = {v:?}: {e}"))?);
        }
        if let Some(v) = num("net.ipv4.tcp_fastopen_blackhole_timeout_sec")? {
            p.fast_open.blackhole_timeout = v.min(u64::from(u32::MAX)) as u32;
        }
        if let Some(v) = sysctls.get("net.ipv4.tcp_fastopen_key") {
            p.fast_open.key = crate::conn::fast_open::FastOpenSettings::parse_key(v)
                .map_err(|e| format!("sysctl net.ipv4.tcp_fastopen_key: {e}"))?;
        }
        Ok(p)
    }

    /// The sysctls [`Profile::linux`] reads: what a harness should read from the namespace.
    pub const LINUX_SYSCTLS: [&'static str; 20] = [
        "net.ipv4.tcp_syn_retries",
        "net.ipv4.tcp_syn_linear_timeouts",
        "net.ipv4.tcp_synack_retries",
        "net.ipv4.tcp_retries2",
        "net.ipv4.tcp_rto_min_us",
        "net.ipv4.tcp_rto_max_ms",
        "net.ipv4.tcp_invalid_ratelimit",
        "net.ipv4.tcp_early_retrans",
        "net.ipv4.tcp_abort_on_overflow",
        "net.ipv4.tcp_syncookies",
        "net.ipv4.tcp_max_syn_backlog",
        "net.core.somaxconn",
        "net.ipv4.tcp_fin_timeout",
        "net.ipv4.tcp_keepalive_time",
        "net.ipv4.tcp_keepalive_intvl",
        "net.ipv4.tcp_keepalive_probes",
        "net.ipv4.tcp_fastopen",
        "net.ipv4.tcp_fastopen_key",
        "net.ipv4.tcp_fastopen_blackhole_timeout_sec",
        "net.ipv4.tcp_ecn",
    ];
}
