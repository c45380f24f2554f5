//! Everything the runner refuses before a sandbox exists, so an unsupported construct or a
//! bad value costs nothing and is reported at its line and column. `tcpcheck check` runs
//! it too (`runner::check_script`), so what it accepts is what `run` starts.

use crate::runner::syscall::Blamed;
use crate::runner::{assert, command, native_sh, packet, syscall, IpVersion, RunOptions};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use crate::sandbox::{Addresses, Wire};
use crate::scenario::{
    Action, Direction, Event, EventTime, ParseError, Script, Secs, Span, Syscall, TcpOptions,
};

/// packetdrill's defaults (config.c): `--tolerance_usecs=4000`, `--tolerance_percent=12.5`.
const TOLERANCE_USECS: i64 = 4000;
const TOLERANCE_PERCENT: f64 = 12.5;

/// Options that take no value (packetdrill's `has_arg = false`).
const VALUELESS: [&str; 2] = ["strict_segments", "tcp_ts_ecr_scaled"];

/// `--mtu`'s bounds: IPv4's minimum (RFC 791: 68 octets) and a TUN device's maximum.
const MIN_MTU: u32 = 68;
const MAX_MTU: u32 = 65_535;

/// The latest time a script's events may reach, counted from its start with every relative
/// time added up (each range at its end): 24 hours. Real scripts stay under a few minutes;
/// the bound keeps every time the runner computes far inside its 64-bit microsecond clock,
/// so a huge time is an error at its line instead of wrapping to a time in the past.
pub const MAX_SCRIPT_SECS: u64 = 24 * 60 * 60;
const MAX_SCRIPT_USECS: u64 = MAX_SCRIPT_SECS * 1_000_000;

/// The highest `[peer N]` the runner can address: peer N is 192.0.2.(N+1) and
/// 2001:db8::(N+1), and 192.0.2.255 is the broadcast address.
pub const MAX_PEER: u16 = 253;

/// Script-level validation before any sandbox exists, so an unsupported construct costs
/// nothing and is reported at its column. `tcpcheck check` runs it too: everything the runner
/// can refuse without a kernel is refused here, with the same message.
pub struct Settings {
    pub ip: Option<IpVersion>,
    pub tolerance_usecs: i64,
    pub tolerance_percent: f64,
    /// `--strict_segments`: each outbound line matches one segment as the device got it.
    pub strict_segments: bool,
    /// `--tcp_ts_ecr_scaled`: an inbound TS ecr the kernel never sent is mapped from the
    /// connection's first TS val rather than refused.
    pub ts_ecr_scaled: bool,
    /// `--tcp_ts_tick_usecs`: how long a tick of the stack's TCP timestamps lasts, so that
    /// outbound TS vals are checked against the script's within its tolerance.
    pub ts_tick_usecs: Option<u32>,
    /// What the sandbox's device needs: `--mtu`, `--mss`.
    pub wire: Wire,
}

/// An address option's value: an IPv4 or IPv6 address (packetdrill takes no prefix
/// there).
fn address(v: &str) -> Result<IpAddr, String> {
    let ip: IpAddr = v
        .parse()
        .map_err(|_| format!("bad address `{v}`: an IPv4 or IPv6 address"))?;
    if ip.is_unspecified() || ip.is_loopback() || ip.is_multicast() {
        return Err(format!(
            "`{v}` cannot be a host's address on the sandbox's device (unspecified, loopback or \
             multicast)"
        ));
    }
    Ok(ip)
}

/// `--local_ip` and `--remote_ip`, the one not given taken from packetdrill's defaults for
/// the family of the other (192.168.0.1 and 192.0.2.1; fd3d:fa7b:d17d::1 and 2001:db8::1).
fn addresses(
    local: Option<(Span, IpAddr)>,
    remote: Option<(Span, IpAddr)>,
) -> Result<Option<Addresses>, (Span, String)> {
    let default_local = |v6: bool| -> IpAddr {
        if v6 {
            IpAddr::V6(Ipv6Addr::new(0xfd3d, 0xfa7b, 0xd17d, 0, 0, 0, 0, 1))
        } else {
            IpAddr::V4(Ipv4Addr::new(192, 168, 0, 1))
        }
    };
    let default_remote = |v6: bool| -> IpAddr {
        if v6 {
            IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 1))
        } else {
            IpAddr::V4(Ipv4Addr::new(192, 0, 2, 1))
        }
    };
    let (stack, peer, span) = match (local, remote) {
        (None, None) => return Ok(None),
        (Some((span, l)), None) => (l, default_remote(l.is_ipv6()), span),
        (None, Some((span, r))) => (default_local(r.is_ipv6()), r, span),
        (Some((_, l)), Some((span, r))) => (l, r, span),
    };
    if stack.is_ipv6() != peer.is_ipv6() {
        return Err((
            span,
            format!("--local_ip {stack} and --remote_ip {peer} are not of one family"),
        ));
    }
    if stack == peer {
        return Err((
            span,
            format!("the stack and its peer cannot both be {stack}"),
        ));
    }
    Ok(Some(Addresses { stack, peer }))
}

pub fn validate(
    file: &str,
    text: &str,
    script: &Script,
    opts: &RunOptions,
) -> Result<Settings, String> {
    let err = |span: Span, msg: String| located(file, text, span, msg);
    let mut settings = Settings {
        ip: None,
        tolerance_usecs: TOLERANCE_USECS,
        tolerance_percent: TOLERANCE_PERCENT,
        strict_segments: false,
        ts_ecr_scaled: false,
        ts_tick_usecs: None,
        wire: Wire::default(),
    };
    let (mut local, mut remote) = (None, None);
    for o in &script.options {
        let value = o.value.as_deref().map(|v| v.trim_matches('"'));
        match (o.name.as_str(), value) {
            ("ip_version", Some(v)) if IpVersion::parse(v).is_some() => {
                settings.ip = IpVersion::parse(v);
            }
            ("ip_version", Some(v)) => {
                return Err(err(
                    o.span,
                    format!("--ip_version={v} is not supported yet"),
                ))
            }
            ("tolerance_usecs", Some(v)) => {
                settings.tolerance_usecs = v
                    .parse()
                    .ok()
                    .filter(|t| (0..=MAX_SCRIPT_USECS as i64).contains(t))
                    .ok_or_else(|| {
                        err(
                            o.span,
                            format!(
                                "bad --tolerance_usecs `{v}`: microseconds from 0 to {MAX_SCRIPT_USECS}"
                            ),
                        )
                    })?
            }
            ("tolerance_percent", Some(v)) => {
                settings.tolerance_percent = v
                    .parse()
                    .ok()
                    .filter(|p: &f64| (0.0..=100.0).contains(p))
                    .ok_or_else(|| {
                        err(
                            o.span,
                            format!("bad --tolerance_percent `{v}`: a number from 0 to 100"),
                        )
                    })?
            }
            ("strict_segments", None) => settings.strict_segments = true,
            ("tcp_ts_ecr_scaled", None) => settings.ts_ecr_scaled = true,
            ("tcp_ts_tick_usecs", Some(v)) => {
                // packetdrill's range (config.c); 0 turns the check off, its default.
                let tick: u32 = v
                    .parse()
                    .ok()
                    .filter(|t| *t <= 1_000_000)
                    .ok_or_else(|| {
                        err(
                            o.span,
                            format!(
                                "bad --tcp_ts_tick_usecs `{v}`: microseconds from 0 to 1000000"
                            ),
                        )
                    })?;
                settings.ts_tick_usecs = (tick > 0).then_some(tick);
            }
            ("mss", Some(v)) => {
                let mss: u16 = v.parse().ok().filter(|m| *m > 0).ok_or_else(|| {
                    err(o.span, format!("bad --mss `{v}`: bytes from 1 to 65535"))
                })?;
                settings.wire.inbound_gso = Some(mss);
            }
            ("mtu", Some(v)) => {
                // The kernel's bounds for a TUN device: IPv4's minimum, the TUN's maximum.
                let mtu: u32 = v
                    .parse()
                    .ok()
                    .filter(|m| (MIN_MTU..=MAX_MTU).contains(m))
                    .ok_or_else(|| {
                        err(
                            o.span,
                            format!("bad --mtu `{v}`: bytes from {MIN_MTU} to {MAX_MTU}"),
                        )
                    })?;
                settings.wire.mtu = Some(mtu);
            }
            ("local_ip", Some(v)) => local = Some((o.span, address(v).map_err(|m| err(o.span, m))?)),
            ("remote_ip", Some(v)) => remote = Some((o.span, address(v).map_err(|m| err(o.span, m))?)),
            (name, Some(_)) if VALUELESS.contains(&name) => {
                return Err(err(o.span, format!("script option --{name} takes no value")))
            }
            (name, None) if !VALUELESS.contains(&name) => {
                return Err(err(o.span, format!("script option --{name} needs a value")))
            }
            (name, _) => {
                return Err(err(
                    o.span,
                    format!("script option --{name} is not supported yet"),
                ))
            }
        }
    }
    settings.wire.addresses = addresses(local, remote).map_err(|(span, m)| err(span, m))?;
    let commands = script
        .init_command
        .iter()
        .chain(script.cleanup_command.iter())
        .map(|c| (c.span, c.text.as_str()));
    let event_commands = script.events.iter().filter_map(|e| match &e.action {
        Action::Command(c) => Some((e.span, c.as_str())),
        _ => None,
    });
    let dir = std::path::Path::new(file)
        .parent()
        .filter(|d| !d.as_os_str().is_empty());
    for (span, text_) in commands.chain(event_commands) {
        if command::parse_sysctls(text_).is_none()
            && !opts.allow_shell
            && native_sh::plan(text_, dir).is_none()
        {
            return Err(err(
                span,
                "shell commands are refused (only `sysctl` settings, inline or in a file of \
                 them, run natively); pass \
                 --allow-shell to run it with `sh -c` inside the scenario's network namespace"
                    .into(),
            ));
        }
    }
    check_times(script).map_err(|(span, m)| err(span, m))?;
    let mut socket_before = false;
    for e in &script.events {
        if let Action::Syscall(sc) = &e.action {
            socket_before |= matches!(sc.name.as_str(), "socket" | "accept");
        }
        match &e.action {
            Action::Code(code) => {
                if !socket_before {
                    return Err(err(
                        e.span,
                        "no socket to read TCP_INFO from: a code block needs a socket() or \
                         accept() before it"
                            .into(),
                    ));
                }
                if let (Err(m), false) = (assert::parse(code), opts.allow_shell) {
                    return Err(err(
                        e.span,
                        format!(
                            "{m}; other code runs with python3 as packetdrill runs it: pass \
                             --allow-shell to allow it"
                        ),
                    ));
                }
            }
            Action::Syscall(sc) => {
                syscall::decode(sc).map_err(|b| {
                    let span = blamed_span(e, sc, b.at);
                    err(span, b.message)
                })?;
            }
            Action::Packet(p) => {
                if p.peer > MAX_PEER {
                    return Err(err(
                        e.span,
                        format!(
                            "peer {} has no address: the runner addresses peers 1 to {MAX_PEER}",
                            p.peer
                        ),
                    ));
                }
                if let TcpOptions::Exactly(list) = &p.options {
                    packet::options_to_wire(list, 0).map_err(|m| err(e.span, m))?;
                }
                crate::runner::crafted::check_family(&p.ip, settings.ip)
                    .map_err(|m| err(e.span, m))?;
                if p.direction == Direction::Inbound {
                    if matches!(p.options, TcpOptions::Any) {
                        return Err(err(
                            e.span,
                            "`<...>` is only allowed on outbound packets".into(),
                        ));
                    }
                    if matches!(
                        e.time,
                        EventTime::Any
                            | EventTime::AbsoluteRange(..)
                            | EventTime::RelativeRange(..)
                    ) {
                        return Err(err(e.span, "inbound packets need an exact time".into()));
                    }
                }
            }
            Action::Command(_) => {}
            Action::Icmp(p) => {
                if p.peer > MAX_PEER {
                    return Err(err(
                        e.span,
                        format!(
                            "peer {} has no address: the runner addresses peers 1 to {MAX_PEER}",
                            p.peer
                        ),
                    ));
                }
                if p.ecn.is_some() {
                    return Err(err(
                        e.span,
                        "an ECN codepoint on an ICMP line is not supported yet".into(),
                    ));
                }
                // Names differ between ICMPv4 and ICMPv6: the script's version, or either.
                let v6 = match settings.ip {
                    Some(v) => vec![v.number() == 6],
                    None => vec![false, true],
                };
                let errs: Vec<String> = v6
                    .iter()
                    .filter_map(|&v6| crate::runner::icmp::type_and_code(v6, p).err())
                    .collect();
                if errs.len() == v6.len() {
                    return Err(err(e.span, errs[0].clone()));
                }
            }
        }
    }
    Ok(settings)
}

/// packetdrill's checks on event times (the first at 0, absolute times never going back),
/// and every time the runner will compute within [`MAX_SCRIPT_SECS`]: absolute times,
/// relative ones added up from the latest time reached, range ends and blocking calls' ends.
fn check_times(script: &Script) -> Result<(), (Span, String)> {
    let too_late = |span: Span, at: Option<u64>| {
        let at = at.map_or("past 2^64 µs".to_string(), |t| format!("at {} s", Secs(t)));
        (
            span,
            format!(
                "time out of range: this event would run {at}, past the runner's limit of \
                 {MAX_SCRIPT_SECS} s after the script's start"
            ),
        )
    };
    let check = |span: Span, t: Option<u64>| match t {
        Some(t) if t <= MAX_SCRIPT_USECS => Ok(t),
        other => Err(too_late(span, other)),
    };
    // The latest time the script can have reached when the event starts: relative times
    // count from it.
    let mut reached = 0u64;
    let mut last_absolute: Option<u64> = None;
    for (i, ev) in script.events.iter().enumerate() {
        if i == 0 && !matches!(ev.time, EventTime::Absolute(0) | EventTime::Relative(0)) {
            return Err((ev.span, "first event should be at time 0".into()));
        }
        let base = reached;
        let (start, end) = match ev.time {
            EventTime::Absolute(t) => {
                if last_absolute.is_some_and(|l| t < l) {
                    return Err((ev.span, "time goes backward in script".into()));
                }
                last_absolute = Some(t);
                (Some(t), Some(t))
            }
            EventTime::AbsoluteRange(a, b) => (Some(a), Some(b)),
            EventTime::Relative(t) => (base.checked_add(t), base.checked_add(t)),
            EventTime::RelativeRange(a, b) => (base.checked_add(a), base.checked_add(b)),
            EventTime::Any => (Some(base), Some(base)),
        };
        check(ev.span, start)?;
        reached = reached.max(check(ev.span, end)?);
        if let Action::Syscall(Syscall { end: Some(e), .. }) = &ev.action {
            let returns = match ev.time {
                EventTime::Absolute(_) | EventTime::AbsoluteRange(..) => Some(*e),
                _ => base.checked_add(*e),
            };
            check(ev.span, returns)?;
        }
    }
    Ok(())
}

/// Where the part of a call an error blames was written: the event's span when none is
/// blamed, or the parser recorded no spans (an event not parsed from text).
fn blamed_span(e: &Event, sc: &Syscall, at: Option<Blamed<'_>>) -> Span {
    let found = match (e.call_spans.as_ref(), at) {
        (Some(spans), Some(Blamed::Name)) => Some(spans.name),
        (Some(spans), Some(Blamed::Errno)) => spans.errno,
        (Some(spans), Some(Blamed::Expr(x))) => spans.of(sc, x),
        _ => None,
    };
    found.unwrap_or(e.span)
}

/// A runtime error at a script position, rendered like a parse error.
pub fn located(file: &str, text: &str, span: Span, message: String) -> String {
    let source_line = text
        .lines()
        .nth(span.line.saturating_sub(1) as usize)
        .unwrap_or("")
        .trim_end_matches('\r')
        .to_string();
    let chars = source_line.chars().count() as u32;
    let last = if span.end_line == span.line {
        span.end_col
    } else {
        chars + 1
    };
    ParseError {
        file: file.to_string(),
        line: span.line,
        col: span.col.max(1),
        message,
        width: last.saturating_sub(span.col).max(1),
        source_line,
    }
    .to_string()
}
