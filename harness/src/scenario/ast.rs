//! The syntax tree of a packetdrill script.
//!
//! It records what the script says, not what it means: constants such as `SOCK_STREAM` stay
//! words and structs stay lists of `field=value`, so the runner, not the parser, decides which
//! system calls and fields it understands. The `Display` impls print canonical packetdrill text
//! that parses back to the same tree (spans aside), which is what the fuzz target checks.

use std::fmt;
use std::net::IpAddr;

/// Where something was written: 1-based line and column (in characters) of its first
/// character, and of the character just past its end.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Span {
    pub line: u32,
    pub col: u32,
    pub end_line: u32,
    pub end_col: u32,
}

/// A duration or instant in microseconds, packetdrill's own resolution.
pub type Usecs = u64;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Script {
    pub options: Vec<ScriptOption>,
    /// A command without a time before the first event (packetdrill's init command).
    pub init_command: Option<Command>,
    pub events: Vec<Event>,
    /// A command without a time after the last event (packetdrill's cleanup command).
    pub cleanup_command: Option<Command>,
}

/// `--name=value`: settings such as `--ip_version=ipv4` that apply to the whole run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScriptOption {
    pub name: String,
    /// As written (quotes included); `None` for a bare `--name`.
    pub value: Option<String>,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Command {
    /// Between the backquotes, escapes as written: the shell interprets them.
    pub text: String,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Event {
    pub time: EventTime,
    pub action: Action,
    /// From the time to the end of the action, which may be lines later.
    pub span: Span,
    /// Where the parts of a system call stand, so an error about one points at it.
    pub call_spans: Option<CallSpans>,
}

/// Where each part of a system call was written.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CallSpans {
    pub name: Span,
    /// Every expression of the arguments and then of the result, in post-order (an
    /// expression's parts before it): [`Syscall::exprs`] visits them in the same order.
    pub exprs: Vec<Span>,
    pub errno: Option<Span>,
}

impl CallSpans {
    /// Where `e`, an expression of `sc` (by identity, not by value), was written.
    pub fn of(&self, sc: &Syscall, e: &Expr) -> Option<Span> {
        let i = sc.exprs().position(|x| std::ptr::eq(x, e))?;
        self.exprs.get(i).copied()
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EventTime {
    /// `1.5`: since the start of the script.
    Absolute(Usecs),
    /// `+0.2`: since the previous event.
    Relative(Usecs),
    /// `1~2`: any instant in between; outbound packets only.
    AbsoluteRange(Usecs, Usecs),
    /// `+0~+0.5`; outbound packets only.
    RelativeRange(Usecs, Usecs),
    /// `*`: whenever; outbound packets only.
    Any,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Action {
    Packet(Packet),
    Syscall(Syscall),
    /// `` `shell command` `` run at the event's time.
    Command(String),
    /// `%{ python }%`, kept raw (trimmed of spaces and tabs at both ends).
    Code(String),
    /// `< icmp unreachable port_unreachable [1:101(100)]`: an ICMP error the peer's side
    /// sends about a segment of the connection.
    Icmp(IcmpPacket),
}

/// An ICMP or ICMPv6 packet line, as packetdrill's grammar writes it (parser.y
/// `icmp_packet_spec`): type and code by name (or `type_N`/`code_N`), an MTU, and the
/// segment quoted.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IcmpPacket {
    pub direction: Direction,
    pub peer: u16,
    pub ecn: Option<Ecn>,
    /// `unreachable`, `packet_too_big`, `source_quench`, `time_exceeded`, ... or `type_N`;
    /// names depend on the IP version, so the runner resolves them.
    pub icmp_type: String,
    pub code: Option<String>,
    pub mtu: Option<u32>,
    /// `[start:end(len)]`: the quoted segment's relative sequence number and payload length;
    /// absent, packetdrill quotes sequence number 0 and no payload.
    pub quoted: Option<(u32, u16)>,
}

/// packetdrill's ECN codepoints of the IP header (`[noecn]`, `[ect0]`, `[ect1]`, `[ce]`),
/// and `[ect01]`, which an outbound line uses to accept either ECT codepoint.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ecn {
    NoEcn,
    Ect1,
    Ect0,
    Ce,
    Ect01,
}

impl Ecn {
    pub fn word(self) -> &'static str {
        match self {
            Ecn::NoEcn => "noecn",
            Ecn::Ect1 => "ect1",
            Ecn::Ect0 => "ect0",
            Ecn::Ce => "ce",
            Ecn::Ect01 => "ect01",
        }
    }

    /// The two ECN bits of the IP header (RFC 3168 5); `ect01` has none of its own.
    pub fn bits(self) -> Option<u8> {
        match self {
            Ecn::NoEcn => Some(0),
            Ecn::Ect1 => Some(1),
            Ecn::Ect0 => Some(2),
            Ecn::Ce => Some(3),
            Ecn::Ect01 => None,
        }
    }

    /// Whether a header's ECN bits satisfy this outbound expectation.
    pub fn matches(self, bits: u8) -> bool {
        match self.bits() {
            Some(b) => b == bits & 3,
            None => matches!(bits & 3, 1 | 2),
        }
    }
}

impl fmt::Display for IcmpPacket {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self.direction {
            Direction::Inbound => "<",
            Direction::Outbound => ">",
        })?;
        if self.peer != DEFAULT_PEER {
            write!(f, " [peer {}]", self.peer)?;
        }
        if let Some(e) = self.ecn {
            write!(f, " [{}]", e.word())?;
        }
        write!(f, " icmp {}", self.icmp_type)?;
        if let Some(c) = &self.code {
            write!(f, " {c}")?;
        }
        if let Some(m) = self.mtu {
            write!(f, " mtu {m}")?;
        }
        if let Some((seq, len)) = self.quoted {
            write!(f, " [{seq}:{}({len})]", seq.wrapping_add(u32::from(len)))?;
        }
        Ok(())
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Direction {
    /// `<`: the script's peer sends it to the stack under test.
    Inbound,
    /// `>`: the stack under test must send it.
    Outbound,
}

/// The first peer, the only one plain packetdrill knows; untagged packets belong to it.
pub const DEFAULT_PEER: u16 = 1;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Packet {
    pub direction: Direction,
    /// Which remote endpoint the packet comes from or goes to: our `[peer N]` extension
    /// (corpus/scenarios/EXTENSIONS.md). Untagged packets and `[peer 1]` are [`DEFAULT_PEER`].
    pub peer: u16,
    pub flags: TcpFlags,
    /// Relative sequence number of the first byte (`start` of `start:end(len)`).
    pub seq: u32,
    /// Payload length; the script's `end` is always `seq + len`.
    pub len: u16,
    pub ack: Option<u32>,
    /// Required on inbound packets; unchecked when absent on outbound ones.
    pub win: Option<u16>,
    pub urg: Option<u16>,
    pub options: TcpOptions,
    /// `[ect0]` and the like before the flags: the IP header's ECN codepoint to send, or to
    /// expect (unchecked when absent, as in packetdrill).
    pub ecn: Option<Ecn>,
    /// `[tos 0x10]` or `[ttl 64]` before the flags (outbound lines): IP header fields to
    /// expect.
    pub ip: IpFields,
}

/// IP header fields an outbound line expects, as packetdrill writes them (`ip_info`): the
/// whole TOS (IPv4) or Traffic Class (IPv6) byte, or the TTL (hop limit). packetdrill checks
/// the TOS byte; the TTL is checked too, here.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct IpFields {
    pub tos: Option<u8>,
    pub ttl: Option<u8>,
    /// `[bad_csum]` (tcpcheck's, inbound lines): the TCP checksum is made wrong, so a stack
    /// must drop the segment (RFC 9293 3.1: MUST-3).
    pub bad_csum: bool,
    /// `[src ADDR]` (tcpcheck's, inbound lines): the IP source address instead of the
    /// peer's, for SYNs from addresses a stack must ignore (RFC 9293 3.9.2.3). The
    /// connection the line belongs to stays the peer's.
    pub src: Option<IpAddr>,
    /// `[dst ADDR]` (tcpcheck's, inbound lines): the IP destination address instead of the
    /// stack's, such as a broadcast or multicast one (RFC 9293 3.9.2.3).
    pub dst: Option<IpAddr>,
    /// `[ip_options HEX]` (tcpcheck's, inbound IPv4 lines): these bytes as the IPv4 header's
    /// options (RFC 791 3.1), for checking that TCP ignores what it does not understand
    /// (RFC 9293 3.9.2).
    pub ip_options: Option<IpOptions>,
}

/// IPv4 header options as raw bytes: whole 32-bit words, at most 40 bytes (the header
/// length field counts words, up to 15 of them, 5 fixed). Inline so [`IpFields`] stays
/// `Copy`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IpOptions {
    len: u8,
    bytes: [u8; IpOptions::MAX],
}

impl IpOptions {
    pub const MAX: usize = 40;

    /// `None` unless `bytes` is a multiple of 4 long and at most [`Self::MAX`].
    pub fn new(bytes: &[u8]) -> Option<IpOptions> {
        if bytes.len() > Self::MAX || bytes.len() % 4 != 0 {
            return None;
        }
        let mut out = IpOptions {
            len: bytes.len() as u8,
            bytes: [0; Self::MAX],
        };
        out.bytes[..bytes.len()].copy_from_slice(bytes);
        Some(out)
    }

    pub fn as_slice(&self) -> &[u8] {
        &self.bytes[..usize::from(self.len)]
    }
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TcpFlags {
    pub fin: bool,
    pub syn: bool,
    pub rst: bool,
    pub psh: bool,
    /// Written `.` in packetdrill.
    pub ack: bool,
    pub urg: bool,
    pub ece: bool,
    pub cwr: bool,
    /// `A`: AccECN's AE bit.
    pub ae: bool,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TcpOptions {
    /// Exactly these, in this order; empty when the script lists none.
    Exactly(Vec<TcpOption>),
    /// `<...>`: whatever the stack sends (outbound packets only).
    Any,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TcpOption {
    Nop,
    Eol,
    Mss(u16),
    WScale(u8),
    SackOk,
    /// `sack 1:2 3:4`: left and right edges of each block.
    Sack(Vec<(u32, u32)>),
    Timestamp {
        val: u32,
        ecr: u32,
    },
    /// `md5 HEX`: the key as written: hex digits, or a name the runner defines.
    Md5(String),
    /// `FO HEX` (RFC 7413): the cookie as written (hex digits, or a name the runner
    /// defines), possibly empty.
    FastOpen(String),
    /// `FOEXP HEX`: the experimental-kind form of Fast Open.
    FastOpenExp(String),
    /// `ECN e0b N ceb N e1b N`: AccECN counters in the order written.
    AccEcn(Vec<(AccEcnCounter, u32)>),
    /// `opt KIND [HEX]` (tcpcheck's extension): an option of any kind with this data, its
    /// length byte counted from the data, for options a stack does not implement (RFC
    /// 9293 3.1: MUST-6).
    Unknown {
        kind: u8,
        data: String,
    },
    /// `raw HEX` (tcpcheck's extension, inbound lines): these bytes in the option list as
    /// written, length bytes included, so a script can send what no well-formed option is:
    /// a length of 0 or 1, or one running past the header (RFC 9293 3.1: MUST-7).
    Raw(String),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AccEcnCounter {
    E0b,
    Ceb,
    E1b,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Syscall {
    /// `...0.5` before the name: the call blocks and returns at this time.
    pub end: Option<Usecs>,
    pub name: String,
    pub args: Vec<Expr>,
    pub result: Expr,
    pub errno: Option<Errno>,
    /// A trailing `(words)` that is not an errno's description.
    pub note: Option<String>,
}

/// `ECONNREFUSED (Connection refused)`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Errno {
    pub name: String,
    /// The words in parentheses, joined by single spaces.
    pub description: String,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Expr {
    /// `...`: anything (an argument the runner fills in, or a result it does not check).
    Ellipsis,
    Int(i64),
    Hex(u64),
    /// A constant name such as `SOCK_STREAM`.
    Word(String),
    /// Escapes as written.
    Str(String),
    /// `"abc"...`: a string followed by anything.
    StrPrefix(String),
    /// `"a" "b"`: adjacent strings.
    Concat(Vec<String>),
    /// `O_RDWR|O_NONBLOCK`; never nested.
    Or(Vec<Expr>),
    /// `field=value`; the left side is a `Word` or a `Call` (`msg_iov(1)=[...]`).
    Assign(Box<Expr>, Box<Expr>),
    /// `[a, b]`.
    List(Vec<Expr>),
    /// `{a=1, b=2}`.
    Struct(Vec<Expr>),
    /// `htons(8080)`, `inet_addr("192.0.2.1")`.
    Call(String, Vec<Expr>),
    /// `&x`.
    AddrOf(Box<Expr>),
}

impl Script {
    /// The same script with every span zeroed, to compare what two texts say regardless of
    /// where they say it.
    pub fn without_spans(&self) -> Script {
        let mut s = self.clone();
        s.options.iter_mut().for_each(|o| o.span = Span::default());
        s.events.iter_mut().for_each(|e| {
            e.span = Span::default();
            e.call_spans = None;
        });
        for c in [&mut s.init_command, &mut s.cleanup_command]
            .into_iter()
            .flatten()
        {
            c.span = Span::default();
        }
        s
    }
}

/// Seconds with at most six decimals and no trailing zeros: `0`, `0.1`, `2.000015`.
pub struct Secs(pub Usecs);

impl fmt::Display for Secs {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (s, us) = (self.0 / 1_000_000, self.0 % 1_000_000);
        if us == 0 {
            write!(f, "{s}")
        } else {
            let frac = format!("{us:06}");
            write!(f, "{s}.{}", frac.trim_end_matches('0'))
        }
    }
}

impl fmt::Display for Script {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for o in &self.options {
            match &o.value {
                Some(v) => writeln!(f, "--{}={v}", o.name)?,
                None => writeln!(f, "--{}", o.name)?,
            }
        }
        if let Some(c) = &self.init_command {
            writeln!(f, "`{}`", c.text)?;
        }
        for e in &self.events {
            writeln!(f, "{e}")?;
        }
        if let Some(c) = &self.cleanup_command {
            writeln!(f, "`{}`", c.text)?;
        }
        Ok(())
    }
}

impl fmt::Display for Event {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.time)?;
        if let Action::Syscall(Syscall { end: Some(end), .. }) = &self.action {
            write!(f, "...{}", Secs(*end))?;
        }
        write!(f, " {}", self.action)
    }
}

impl fmt::Display for EventTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            EventTime::Absolute(t) => write!(f, "{}", Secs(t)),
            EventTime::Relative(t) => write!(f, "+{}", Secs(t)),
            EventTime::AbsoluteRange(a, b) => write!(f, "{}~{}", Secs(a), Secs(b)),
            EventTime::RelativeRange(a, b) => write!(f, "+{}~+{}", Secs(a), Secs(b)),
            EventTime::Any => f.write_str("*"),
        }
    }
}

/// Prints the action alone; a syscall's `...end` belongs to the event's time and is printed
/// by `Event`.
impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Action::Packet(p) => write!(f, "{p}"),
            Action::Syscall(s) => write!(f, "{s}"),
            Action::Command(c) => write!(f, "`{c}`"),
            Action::Code(c) => write!(f, "%{{{c}}}%"),
            Action::Icmp(p) => write!(f, "{p}"),
        }
    }
}

impl fmt::Display for Packet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self.direction {
            Direction::Inbound => "<",
            Direction::Outbound => ">",
        })?;
        if self.peer != DEFAULT_PEER {
            write!(f, " [peer {}]", self.peer)?;
        }
        if let Some(tos) = self.ip.tos {
            write!(f, " [tos {tos:#04x}]")?;
        }
        if let Some(ttl) = self.ip.ttl {
            write!(f, " [ttl {ttl}]")?;
        }
        if self.ip.bad_csum {
            f.write_str(" [bad_csum]")?;
        }
        if let Some(a) = self.ip.src {
            write!(f, " [src {a}]")?;
        }
        if let Some(a) = self.ip.dst {
            write!(f, " [dst {a}]")?;
        }
        if let Some(o) = &self.ip.ip_options {
            f.write_str(" [ip_options ")?;
            for b in o.as_slice() {
                write!(f, "{b:02x}")?;
            }
            f.write_str("]")?;
        }
        write!(f, " {}", self.body(false))
    }
}

impl Packet {
    /// The packet as written after its direction and peer: `S 0:0(0) win 1000 <mss 1460>`.
    /// `hide_ts_val` writes the (first) TS val as `?`, for text that must not differ from
    /// run to run.
    pub fn body(&self, hide_ts_val: bool) -> PacketBody<'_> {
        PacketBody {
            packet: self,
            hide_ts_val,
        }
    }
}

/// See [`Packet::body`].
pub struct PacketBody<'p> {
    packet: &'p Packet,
    hide_ts_val: bool,
}

impl fmt::Display for PacketBody<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let p = self.packet;
        let end = u64::from(p.seq) + u64::from(p.len);
        if let Some(e) = p.ecn {
            write!(f, "[{}] ", e.word())?;
        }
        write!(f, "{} {}:{end}({})", p.flags, p.seq, p.len)?;
        if let Some(ack) = p.ack {
            write!(f, " ack {ack}")?;
        }
        if let Some(win) = p.win {
            write!(f, " win {win}")?;
        }
        if let Some(urg) = p.urg {
            write!(f, " urg {urg}")?;
        }
        let mut hide = self.hide_ts_val;
        match &p.options {
            TcpOptions::Any => f.write_str(" <...>"),
            TcpOptions::Exactly(list) if list.is_empty() => Ok(()),
            TcpOptions::Exactly(list) => {
                f.write_str(" <")?;
                for (i, o) in list.iter().enumerate() {
                    if i > 0 {
                        f.write_str(",")?;
                    }
                    match o {
                        TcpOption::Timestamp { ecr, .. } if hide => {
                            hide = false;
                            write!(f, "TS val ? ecr {ecr}")?;
                        }
                        o => write!(f, "{o}")?,
                    }
                }
                f.write_str(">")
            }
        }
    }
}

impl fmt::Display for TcpFlags {
    /// tcpdump's order, as packetdrill prints them, but with `.` last because packetdrill
    /// only reads it after the letters.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let letters = [
            (self.fin, 'F'),
            (self.syn, 'S'),
            (self.rst, 'R'),
            (self.psh, 'P'),
            (self.urg, 'U'),
            (self.ece, 'E'),
            (self.cwr, 'W'),
            (self.ae, 'A'),
            (self.ack, '.'),
        ];
        let s: String = letters
            .iter()
            .filter(|(set, _)| *set)
            .map(|(_, c)| c)
            .collect();
        f.write_str(if s.is_empty() { "-" } else { &s })
    }
}

impl fmt::Display for TcpOption {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TcpOption::Nop => f.write_str("nop"),
            TcpOption::Eol => f.write_str("eol"),
            TcpOption::Mss(v) => write!(f, "mss {v}"),
            TcpOption::WScale(v) => write!(f, "wscale {v}"),
            TcpOption::SackOk => f.write_str("sackOK"),
            TcpOption::Sack(blocks) => {
                f.write_str("sack")?;
                for (l, r) in blocks {
                    write!(f, " {l}:{r}")?;
                }
                Ok(())
            }
            TcpOption::Timestamp { val, ecr } => write!(f, "TS val {val} ecr {ecr}"),
            TcpOption::Md5(h) => write!(f, "md5 {h}"),
            TcpOption::FastOpen(c) if c.is_empty() => f.write_str("FO"),
            TcpOption::FastOpen(c) => write!(f, "FO {c}"),
            TcpOption::Unknown { kind, data } if data.is_empty() => write!(f, "opt {kind}"),
            TcpOption::Unknown { kind, data } => write!(f, "opt {kind} {data}"),
            TcpOption::Raw(h) => write!(f, "raw {h}"),
            TcpOption::FastOpenExp(c) if c.is_empty() => f.write_str("FOEXP"),
            TcpOption::FastOpenExp(c) => write!(f, "FOEXP {c}"),
            TcpOption::AccEcn(counters) => {
                f.write_str("ECN")?;
                for (c, v) in counters {
                    let name = match c {
                        AccEcnCounter::E0b => "e0b",
                        AccEcnCounter::Ceb => "ceb",
                        AccEcnCounter::E1b => "e1b",
                    };
                    write!(f, " {name} {v}")?;
                }
                Ok(())
            }
        }
    }
}

impl Syscall {
    /// The expressions of the arguments and then of the result, in post-order.
    pub fn exprs(&self) -> impl Iterator<Item = &Expr> {
        let mut out = Vec::new();
        for e in self.args.iter().chain(std::iter::once(&self.result)) {
            e.post_order(&mut out);
        }
        out.into_iter()
    }
}

impl Expr {
    fn post_order<'e>(&'e self, out: &mut Vec<&'e Expr>) {
        match self {
            Expr::Call(_, items) | Expr::Or(items) | Expr::List(items) | Expr::Struct(items) => {
                items.iter().for_each(|e| e.post_order(out))
            }
            Expr::Assign(lhs, rhs) => {
                lhs.post_order(out);
                rhs.post_order(out);
            }
            Expr::AddrOf(inner) => inner.post_order(out),
            _ => {}
        }
        out.push(self);
    }
}

impl fmt::Display for Syscall {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}(", self.name)?;
        write_list(f, &self.args)?;
        write!(f, ") = {}", self.result)?;
        if let Some(e) = &self.errno {
            write!(f, " {} ({})", e.name, e.description)?;
        }
        if let Some(n) = &self.note {
            write!(f, " ({n})")?;
        }
        Ok(())
    }
}

fn write_list(f: &mut fmt::Formatter<'_>, items: &[Expr]) -> fmt::Result {
    for (i, e) in items.iter().enumerate() {
        if i > 0 {
            f.write_str(", ")?;
        }
        write!(f, "{e}")?;
    }
    Ok(())
}

impl fmt::Display for Expr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Expr::Ellipsis => f.write_str("..."),
            Expr::Int(v) => write!(f, "{v}"),
            Expr::Hex(v) => write!(f, "{v:#x}"),
            Expr::Word(w) => f.write_str(w),
            Expr::Str(s) => write!(f, "\"{s}\""),
            Expr::StrPrefix(s) => write!(f, "\"{s}\"..."),
            Expr::Concat(parts) => {
                for (i, s) in parts.iter().enumerate() {
                    if i > 0 {
                        f.write_str(" ")?;
                    }
                    write!(f, "\"{s}\"")?;
                }
                Ok(())
            }
            Expr::Or(items) => {
                for (i, e) in items.iter().enumerate() {
                    if i > 0 {
                        f.write_str("|")?;
                    }
                    write!(f, "{e}")?;
                }
                Ok(())
            }
            Expr::Assign(l, r) => write!(f, "{l}={r}"),
            Expr::List(items) => {
                f.write_str("[")?;
                write_list(f, items)?;
                f.write_str("]")
            }
            Expr::Struct(items) => {
                f.write_str("{")?;
                write_list(f, items)?;
                f.write_str("}")
            }
            Expr::Call(name, args) => {
                write!(f, "{name}(")?;
                write_list(f, args)?;
                f.write_str(")")
            }
            Expr::AddrOf(e) => write!(f, "&{e}"),
        }
    }
}
