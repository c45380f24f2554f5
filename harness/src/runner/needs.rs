//! What a script needs of a stack beyond the core of TCP, line by line, so that a script a
//! stack cannot run is "not applicable (needs X)" at the first line that needs X, before
//! anything runs: never a pass, never a failure.
//!
//! Most needs follow from the line itself (an option set, a one-way shutdown, a TCP_INFO
//! assertion, a sysctl); a SYN from a second peer (`[peer 2]`) means a listener holds
//! several connections at once (listen-backlog). What no line shows a script states in a
//! comment, `// needs: listen-backlog`, with [`Capability::name`]'s names; the need then
//! counts from that line (at the end of the file it shifts no line of the script).

use super::command;
use super::syscall::{self, Decoded};
use super::IpVersion;
use crate::scenario::{Action, Direction, Script};
use crate::stack::{Capabilities, Capability};

/// A script line's need the stack lacks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Missing {
    /// 1-based script line (0: the run as a whole, its IP version).
    pub line: u32,
    pub needs: Capability,
}

/// Everything `script` needs, with the line that needs it first, in line order; an unknown
/// name in a `// needs:` comment is an error naming file:line:col.
pub fn needs(
    file: &str,
    text: &str,
    script: &Script,
    ip: IpVersion,
) -> Result<Vec<(u32, Capability)>, String> {
    let mut out = Vec::new();
    match ip {
        IpVersion::V4 => {}
        IpVersion::V6 => out.push((0, Capability::Ipv6)),
        IpVersion::V4Mapped => out.push((0, Capability::V4MappedV6)),
    }
    for (i, line) in text.lines().enumerate() {
        let Some(list) = line
            .trim_start()
            .strip_prefix("//")
            .map(str::trim_start)
            .and_then(|rest| rest.strip_prefix("needs:"))
        else {
            continue;
        };
        let start = line.len() - list.len();
        let mut col = start;
        for name in list.split(',') {
            let trimmed = name.trim();
            let at = col + (name.len() - name.trim_start().len());
            col += name.len() + 1;
            if trimmed.is_empty() {
                continue;
            }
            match Capability::parse(trimmed) {
                Some(c) => out.push((i as u32 + 1, c)),
                None => {
                    let known: Vec<&str> = Capability::ALL.iter().map(|c| c.name()).collect();
                    return Err(format!(
                        "{file}:{}:{}: unknown capability `{trimmed}` in `// needs:` (known: {})",
                        i + 1,
                        at + 1,
                        known.join(", ")
                    ));
                }
            }
        }
    }
    if let Some(c) = &script.init_command {
        out.push((c.span.line, command_needs(&c.text)));
    }
    let mut syn_peers: Vec<u16> = Vec::new();
    for ev in &script.events {
        let line = ev.span.line;
        match &ev.action {
            Action::Packet(p)
                if p.direction == Direction::Inbound && p.flags.syn && !p.flags.ack =>
            {
                if !syn_peers.contains(&p.peer) {
                    syn_peers.push(p.peer);
                    if syn_peers.len() == 2 {
                        out.push((line, Capability::ListenBacklog));
                    }
                }
            }
            Action::Syscall(sc) => {
                // validate() decoded every call already; one it cannot decode needs nothing.
                if let Ok((call, _)) = syscall::decode(sc) {
                    out.extend(call_needs(&call).map(|c| (line, c)));
                }
            }
            Action::Command(text) => out.push((line, command_needs(text))),
            Action::Code(_) => out.push((line, Capability::TcpInfo)),
            Action::Packet(_) | Action::Icmp(_) => {}
        }
    }
    if let Some(c) = &script.cleanup_command {
        out.push((c.span.line, command_needs(&c.text)));
    }
    out.sort_by_key(|(line, _)| *line);
    Ok(out)
}

/// The first of `needs` that `has` lacks.
pub fn first_missing(needs: &[(u32, Capability)], has: Capabilities) -> Option<Missing> {
    needs
        .iter()
        .find(|(_, c)| !has.has(*c))
        .map(|&(line, needs)| Missing { line, needs })
}

fn command_needs(text: &str) -> Capability {
    match command::parse_sysctls(text) {
        Some(_) => Capability::Settings,
        None => Capability::Shell,
    }
}

fn call_needs(call: &Decoded) -> Option<Capability> {
    match call {
        Decoded::SetSockOpt { opt, .. } => Some(opt.needs()),
        Decoded::GetSockOpt { opt, .. } => Some(opt.needs()),
        Decoded::Shutdown { how, .. } if *how != std::net::Shutdown::Both => {
            Some(Capability::HalfClose)
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn needs_of(text: &str, ip: IpVersion) -> Result<Vec<(u32, Capability)>, String> {
        let script = crate::scenario::parse("t.pkt", text).expect("parses");
        needs("t.pkt", text, &script, ip)
    }

    #[test]
    fn lines_show_their_needs() {
        let text = "\
0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3
+0 setsockopt(3, SOL_SOCKET, SO_LINGER, {onoff=1, linger=0}, 8) = 0
+0 shutdown(3, SHUT_WR) = 0
+0 `sysctl -q net.ipv4.tcp_sack=0`
+0 %{ assert tcpi_state == TCP_CLOSE }%
";
        let got = needs_of(text, IpVersion::V6).unwrap();
        assert_eq!(
            got,
            [
                (0, Capability::Ipv6),
                (2, Capability::Linger),
                (3, Capability::HalfClose),
                (4, Capability::Settings),
                (5, Capability::TcpInfo),
            ]
        );
        let has = Capabilities::NONE
            .with(Capability::Ipv6)
            .with(Capability::Linger);
        assert_eq!(
            first_missing(&got, has),
            Some(Missing {
                line: 3,
                needs: Capability::HalfClose
            })
        );
        assert_eq!(first_missing(&got, Capabilities::all()), None);
    }

    #[test]
    fn a_syn_from_a_second_peer_needs_a_backlog() {
        let text = "\
0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3
+0 bind(3, ..., ...) = 0
+0 listen(3, 1) = 0
+0 < S 0:0(0) win 32792 <mss 1000>
+0 < S 0:0(0) win 32792 <mss 1000>
+0 < [peer 2] S 0:0(0) win 32792 <mss 1000>
";
        assert_eq!(
            needs_of(text, IpVersion::V4).unwrap(),
            [(6, Capability::ListenBacklog)]
        );
    }

    #[test]
    fn a_needs_comment_adds_its_capabilities_and_refuses_unknown_names() {
        let text = "// needs: listen-backlog, sack\n0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n";
        assert_eq!(
            needs_of(text, IpVersion::V4).unwrap(),
            [(1, Capability::ListenBacklog), (1, Capability::Sack)]
        );
        let bad = "// needs: sack, backlogs\n0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n";
        let e = needs_of(bad, IpVersion::V4).unwrap_err();
        assert!(
            e.starts_with("t.pkt:1:17: unknown capability `backlogs`"),
            "{e}"
        );
    }
}
