//! A case as a packetdrill script, written while it runs.
//!
//! Numbers follow packetdrill (run_packet.c), as the runner maps them back: a SYN-flagged
//! segment's sequence number is absolute; inbound ACKs and SACK blocks are relative to the
//! kernel's ISN (whose SYN the script writes as `0:0(0)`); the peer's other numbers are
//! relative to its base ([`RemoteBase`]), which is not always its first SYN. Outbound options
//! are written exactly as the kernel sent them, so a TSecr the peer echoes maps back to a
//! TSval of the script.

use std::fmt::Write as _;

use tcpcheck_model::conn::{LenSpec, SegSpec, SeqSpec};
use tcpcheck_model::seq::SeqNumber;
use tcpcheck_model::wire::{SegmentRepr, TcpFlags, TcpOption};

use super::event::Resolved;
use crate::trace::notation;

#[derive(Clone, Debug, Default)]
pub struct Script {
    pub lines: Vec<String>,
    /// packetdrill's remote ISN, as the runner will take it.
    remote: RemoteBase,
    /// The kernel's ISN, from its SYN or SYN-ACK.
    kernel_isn: Option<SeqNumber>,
    pub v6: bool,
    /// No lines are written, only the numbering followed: a run whose verdict alone is
    /// wanted (most of a campaign's) spends nothing on text nobody reads.
    muted: bool,
}

/// Where the peer's numbers count from: packetdrill's `script.remote_isn`, set as
/// `handle_listen_for_script_packet` and `do_inbound_script_packet` set it (the runner's
/// `exec/packets.rs` follows them).
#[derive(Clone, Copy, Debug, Default)]
enum RemoteBase {
    /// Nothing has opened the connection yet.
    #[default]
    None,
    /// A passive open: the first inbound packet of any kind, at its number as written.
    Passive(SeqNumber),
    /// An active open before the peer's SYN-ACK: no base, the peer's numbers are absolute
    /// (a simultaneous open's bare SYN does not set one).
    ActiveSynSent,
    /// An active open from the peer's SYN-ACK on.
    Active(SeqNumber),
}

fn options_text(options: &[TcpOption<'_>], sack_base: SeqNumber) -> String {
    let items: Vec<String> = options
        .iter()
        .filter_map(|o| {
            Some(match o {
                TcpOption::EndOfList => "eol".to_string(),
                TcpOption::Nop => "nop".to_string(),
                TcpOption::Mss(v) => format!("mss {v}"),
                TcpOption::WindowScale(v) => format!("wscale {v}"),
                TcpOption::SackPermitted => "sackOK".to_string(),
                TcpOption::Sack(b) => {
                    let blocks: Vec<String> = b
                        .as_slice()
                        .iter()
                        .map(|b| {
                            format!(
                                "{}:{}",
                                b.left.forward_distance(sack_base),
                                b.right.forward_distance(sack_base)
                            )
                        })
                        .collect();
                    format!("sack {}", blocks.join(" "))
                }
                TcpOption::Timestamps { val, ecr } => format!("TS val {val} ecr {ecr}"),
                // The wire codec prints Fast Open as a script writes it (`FO 1a2b`, `FOEXP`).
                TcpOption::FastOpen(_) | TcpOption::FastOpenExp(_) => o.to_string(),
                TcpOption::Unknown { .. } => return None,
            })
        })
        .collect();
    if items.is_empty() {
        String::new()
    } else {
        format!(" <{}>", items.join(","))
    }
}

impl Script {
    pub fn new(v6: bool) -> Script {
        Script {
            v6,
            ..Script::default()
        }
    }

    /// A script that writes no lines (see [`Script::is_muted`]).
    pub fn muted(v6: bool) -> Script {
        Script {
            v6,
            muted: true,
            ..Script::default()
        }
    }

    /// Whether this script writes no lines: its text is empty whatever the case did.
    pub fn is_muted(&self) -> bool {
        self.muted
    }

    fn remote_base(&self, fallback: u32) -> SeqNumber {
        match self.remote {
            RemoteBase::None => SeqNumber(fallback),
            RemoteBase::Passive(b) | RemoteBase::Active(b) => b,
            RemoteBase::ActiveSynSent => SeqNumber(0),
        }
    }

    fn kernel_base(&self) -> SeqNumber {
        self.kernel_isn.unwrap_or(SeqNumber(0))
    }

    /// A socket call line: `call` is written as packetdrill does, `= result` included.
    pub fn call(&mut self, text: impl Into<String>) {
        if self.muted {
            return;
        }
        let t = if self.lines.iter().all(|l| l.starts_with("//")) {
            "0"
        } else {
            "+0"
        };
        self.lines.push(format!("{t:<6}{}", text.into()));
    }

    pub fn comment(&mut self, text: &str) {
        if self.muted {
            return;
        }
        for line in text.lines() {
            self.lines.push(format!("// {line}"));
        }
    }

    /// An ICMP error line (`words`: type, code and MTU as packetdrill names them) quoting
    /// the kernel's segment at `seq`.
    pub fn icmp(&mut self, words: &str, seq: SeqNumber) {
        if self.muted {
            return;
        }
        let rel = seq.forward_distance(self.kernel_base());
        self.lines
            .push(format!("+0    < icmp {words} [{rel}:{rel}(0)]"));
    }

    pub fn inbound(&mut self, r: &Resolved, peer_isn: u32) {
        match self.remote {
            RemoteBase::None if r.flags.syn() => self.remote = RemoteBase::Passive(r.seq),
            // The runner takes the number as written for the base and adds the base to it,
            // so the number written is half the live one, which exists only when that is
            // even. An odd one cannot be written for packetdrill's rules; the script says so.
            RemoteBase::None if r.seq.0 % 2 == 0 => {
                self.remote = RemoteBase::Passive(SeqNumber(r.seq.0 / 2));
            }
            RemoteBase::None => {
                self.comment(&format!(
                    "the next segment's number ({}) is odd: packetdrill counts a first \
                     segment other than a SYN from its own number, which cannot reach it, so \
                     this line does not replay it",
                    r.seq.0
                ));
                self.remote = RemoteBase::Passive(SeqNumber(r.seq.0 / 2));
            }
            RemoteBase::ActiveSynSent if r.flags.syn() && r.flags.ack() => {
                self.remote = RemoteBase::Active(r.seq);
            }
            _ => {}
        }
        if self.muted {
            return;
        }
        let seq = if r.flags.syn() {
            r.seq.0
        } else {
            r.seq.forward_distance(self.remote_base(peer_isn))
        };
        let mut line = format!(
            "+0    < {} {}:{}({})",
            flags_text(r.flags),
            seq,
            seq.wrapping_add(u32::from(r.len)),
            r.len
        );
        if r.flags.ack() {
            let _ = write!(line, " ack {}", r.ack.forward_distance(self.kernel_base()));
        }
        let _ = write!(line, " win {}", r.wnd);
        line += &options_text(&r.options, self.kernel_base());
        self.lines.push(line);
    }

    /// A segment the kernel sent, as it sent it; `late` when it came after the step's
    /// barrier (a delayed ACK), which gets packetdrill's time range.
    pub fn outbound(&mut self, seg: &SegmentRepr, peer_isn: u32, late: bool) {
        let t = &seg.tcp;
        if t.flags.syn() && !t.flags.ack() && matches!(self.remote, RemoteBase::None) {
            self.remote = RemoteBase::ActiveSynSent;
        }
        if t.flags.syn() && self.kernel_isn.is_none() {
            self.kernel_isn = Some(t.seq);
        }
        if self.muted {
            return;
        }
        let seq = t.seq.forward_distance(self.kernel_base());
        let remote = self.remote_base(peer_isn);
        let mut line = format!(
            "{:<6}> {} {}:{}({})",
            if late { "+0~+.2" } else { "+0" },
            flags_text(t.flags),
            seq,
            seq.wrapping_add(t.payload.len() as u32),
            t.payload.len()
        );
        if t.flags.ack() {
            let ack = if t.flags.syn() {
                t.ack.0
            } else {
                t.ack.forward_distance(remote)
            };
            let _ = write!(line, " ack {ack}");
        }
        line += &options_text(&t.options, remote);
        self.lines.push(line);
    }

    /// What the model required instead, at the divergence: `<...>` options, since the model
    /// pins none.
    pub fn expected(&mut self, spec: &SegSpec, peer_isn: u32) {
        if self.muted {
            return;
        }
        let seq = match spec.seq {
            SeqSpec::Exact(s) => s.forward_distance(self.kernel_base()),
            SeqSpec::Iss => 0,
        };
        let len = match spec.len {
            LenSpec::Exact(n) | LenSpec::UpTo(n) => n,
            // The choice RFC 9293 3.8.4 prefers (SHLD-12): no data.
            LenSpec::AtMost(_) => 0,
        };
        let mut line = format!(
            "+0    > {} {}:{}({})",
            spec.flags.packetdrill(),
            seq,
            seq.wrapping_add(len),
            len
        );
        if let Some(a) = spec.ack {
            let ack = if spec.flags.syn() {
                a.0
            } else {
                a.forward_distance(self.remote_base(peer_isn))
            };
            let _ = write!(line, " ack {ack}");
        }
        if spec.flags.syn() {
            line += " <...>";
        }
        self.lines.push(line);
    }

    /// The model's words about a segment the kernel sent or owed (`seg`, when they are
    /// about one; absolute numbers, `Debug` times) in this script's notation and numbers,
    /// times in milliseconds: what a report shows beside the script.
    pub fn readable(&self, words: &str, seg: Option<&SegSpec>, peer_isn: u32) -> String {
        let kernel = self.kernel_isn.map(|n| n.0);
        let remote = self.remote_base(peer_isn).0;
        notation::readable(words, seg, |s| {
            // As `outbound` writes them: a SYN's acknowledgment number is absolute.
            let ack_base = (!s.flags.contains(TcpFlags::SYN)).then_some(remote);
            notation::packetdrill(s, kernel, ack_base)
        })
    }

    /// This script with the model's words in its comments (the divergence the driver notes
    /// at the end) replaced: each pair is the words and what to show instead, as
    /// [`Script::readable`] writes them.
    pub fn with_readable_comments(&self, words: &[(&str, &str)]) -> Script {
        let mut out = self.clone();
        for line in &mut out.lines {
            if line.starts_with("//") {
                for (raw, shown) in words {
                    *line = line.replace(raw, shown);
                }
            }
        }
        out
    }

    /// The whole file: `header` as comments, then the lines.
    pub fn text(&self, header: &str) -> String {
        let mut out = String::new();
        for line in header.lines() {
            let _ = writeln!(out, "// {line}");
        }
        if self.v6 {
            out += "--ip_version=ipv6\n";
        }
        out += "\n";
        for line in &self.lines {
            let _ = writeln!(out, "{line}");
        }
        out
    }
}

/// The flags as a script writes them: `-` for none, which the scenario parser (like
/// packetdrill's) needs where a bare space would leave the field empty.
fn flags_text(flags: tcpcheck_model::wire::TcpFlags) -> String {
    let s = flags.packetdrill();
    if s.is_empty() {
        "-".to_string()
    } else {
        s
    }
}
