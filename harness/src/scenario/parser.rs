//! Recursive descent over the token stream, one function per construct of packetdrill's
//! grammar. The first error ends the parse: scripts are short and edited by hand, so one
//! precise message beats a cascade of guesses.
//!
//! Besides syntax it enforces packetdrill's own semantic checks that need no kernel (negative
//! times, backward ranges, `*` and ranges only on outbound packets, a window on inbound
//! packets, `end == start + len`, value ranges), so a script that parses here would also load
//! in packetdrill as far as its TCP subset goes.

use super::ast::*;
use super::error::ParseError;
use super::lexer::{Tok, Token};
use super::Source;

/// Deepest nesting of `[...]`, `{...}`, calls, `&` and `a=b` in one expression. Real scripts
/// stay under 5; the cap keeps hostile input from exhausting the stack.
pub const MAX_DEPTH: usize = 32;

pub struct Parser<'s, 'a> {
    src: &'s Source<'a>,
    toks: Vec<Token<'a>>,
    pos: usize,
    /// The spans of the expressions parsed so far, in post-order (see [`CallSpans`]).
    expr_spans: Vec<Span>,
    /// The last system call's spans, for its event.
    call_spans: Option<CallSpans>,
}

mod call;
mod packet_ip;

type PResult<T> = Result<T, ParseError>;

const FLAG_LETTERS: &str = "FSRPUEWA";

fn describe(t: &Token<'_>) -> String {
    match t.tok {
        Tok::Eof => "end of file".into(),
        Tok::Str(_) => "a string".into(),
        Tok::BackQuoted(_) => "a `command`".into(),
        Tok::Code(_) => "a %{ code }% block".into(),
        Tok::Opt { name, .. } => format!("option `--{name}`"),
        Tok::Ellipsis => "`...`".into(),
        Tok::Punct(c) => format!("`{c}`"),
        Tok::Int(s) | Tok::Hex(s) | Tok::Float(s) | Tok::Ipv4(s) | Tok::Word(s) => {
            format!("`{s}`")
        }
    }
}

impl<'s, 'a> Parser<'s, 'a> {
    pub fn new(src: &'s Source<'a>, toks: Vec<Token<'a>>) -> Self {
        Parser {
            src,
            toks,
            pos: 0,
            expr_spans: Vec::new(),
            call_spans: None,
        }
    }

    fn peek(&self) -> &Token<'a> {
        &self.toks[self.pos.min(self.toks.len() - 1)]
    }

    fn peek_at(&self, n: usize) -> &Token<'a> {
        &self.toks[(self.pos + n).min(self.toks.len() - 1)]
    }

    fn bump(&mut self) -> Token<'a> {
        let t = *self.peek();
        if self.pos < self.toks.len() - 1 {
            self.pos += 1;
        }
        t
    }

    /// End offset of the last token taken.
    fn last_end(&self) -> usize {
        self.pos
            .checked_sub(1)
            .map_or(0, |i| self.toks[i.min(self.toks.len() - 1)].end)
    }

    fn err_at(&self, t: &Token<'_>, msg: impl Into<String>) -> ParseError {
        self.src.error(t.start, t.end, msg)
    }

    fn unexpected(&self, expected: &str) -> ParseError {
        let t = self.peek();
        self.err_at(t, format!("expected {expected}, found {}", describe(t)))
    }

    fn is_punct(&self, c: char) -> bool {
        self.peek().tok == Tok::Punct(c)
    }

    fn is_word(&self, w: &str) -> bool {
        self.peek().tok == Tok::Word(w)
    }

    fn eat_punct(&mut self, c: char) -> bool {
        let yes = self.is_punct(c);
        if yes {
            self.bump();
        }
        yes
    }

    fn expect_punct(&mut self, c: char, expected: &str) -> PResult<()> {
        if self.eat_punct(c) {
            Ok(())
        } else {
            Err(self.unexpected(expected))
        }
    }

    fn expect_word(&mut self, w: &str) -> PResult<()> {
        if self.is_word(w) {
            self.bump();
            Ok(())
        } else {
            Err(self.unexpected(&format!("`{w}`")))
        }
    }

    /// An unsigned decimal integer no larger than `max`; `what` names it in errors.
    fn uint(&mut self, what: &str, max: u64) -> PResult<u64> {
        let t = *self.peek();
        match t.tok {
            Tok::Int(s) => {
                self.bump();
                match s.parse::<u64>() {
                    Ok(v) if v <= max => Ok(v),
                    _ => Err(self.err_at(&t, format!("{what} out of range (0 to {max})"))),
                }
            }
            _ => Err(self.unexpected(what)),
        }
    }

    fn span(&self, start: usize, end: usize) -> Span {
        self.src.span(start, end)
    }

    pub fn script(&mut self) -> PResult<Script> {
        let mut options = Vec::new();
        while let Tok::Opt { name, value } = self.peek().tok {
            let t = self.bump();
            options.push(ScriptOption {
                name: name.to_string(),
                value: value.map(str::to_string),
                span: self.span(t.start, t.end),
            });
        }
        let mut script = Script {
            options,
            init_command: None,
            events: Vec::new(),
            cleanup_command: None,
        };
        loop {
            let t = *self.peek();
            match t.tok {
                Tok::Eof => return Ok(script),
                Tok::BackQuoted(text) => {
                    self.bump();
                    let command = Command {
                        text: text.to_string(),
                        span: self.span(t.start, t.end),
                    };
                    if script.events.is_empty() && script.init_command.is_none() {
                        script.init_command = Some(command);
                    } else {
                        if self.peek().tok != Tok::Eof {
                            return Err(self.err_at(
                                &t,
                                "a command without a time may only come before the first event \
                                 or after the last one",
                            ));
                        }
                        script.cleanup_command = Some(command);
                    }
                }
                Tok::Opt { .. } => {
                    return Err(
                        self.err_at(&t, "options must come before the first command or event")
                    )
                }
                _ => script.events.push(self.event()?),
            }
        }
    }

    fn time(&mut self) -> PResult<Usecs> {
        let t = *self.peek();
        let text = match t.tok {
            Tok::Int(s) | Tok::Float(s) => s,
            _ => return Err(self.unexpected("a time in seconds")),
        };
        self.bump();
        if text.starts_with('-') {
            return Err(self.err_at(&t, "negative time"));
        }
        let (int, frac) = text.split_once('.').unwrap_or((text, ""));
        let secs: u64 = if int.is_empty() {
            0
        } else {
            int.parse()
                .map_err(|_| self.err_at(&t, "time out of range"))?
        };
        // Like packetdrill, digits past the microsecond are dropped.
        let mut usecs = 0u64;
        for i in 0..6 {
            let d = frac.as_bytes().get(i).map_or(0, |b| u64::from(b - b'0'));
            usecs = usecs * 10 + d;
        }
        secs.checked_mul(1_000_000)
            .and_then(|s| s.checked_add(usecs))
            .ok_or_else(|| self.err_at(&t, "time out of range"))
    }

    fn event_time(&mut self) -> PResult<EventTime> {
        if self.eat_punct('*') {
            return Ok(EventTime::Any);
        }
        let t = *self.peek();
        if self.eat_punct('+') {
            let a = self.time()?;
            if !self.eat_punct('~') {
                return Ok(EventTime::Relative(a));
            }
            self.expect_punct('+', "`+` after `~` in a relative time range")?;
            let b = self.time()?;
            if b < a {
                return Err(self
                    .src
                    .error(t.start, self.last_end(), "time range is backwards"));
            }
            return Ok(EventTime::RelativeRange(a, b));
        }
        if !matches!(self.peek().tok, Tok::Int(_) | Tok::Float(_)) {
            return Err(self.unexpected("an event time (`0.1`, `+0.1`, `*`)"));
        }
        let a = self.time()?;
        if !self.eat_punct('~') {
            return Ok(EventTime::Absolute(a));
        }
        let b = self.time()?;
        if b < a {
            return Err(self
                .src
                .error(t.start, self.last_end(), "time range is backwards"));
        }
        Ok(EventTime::AbsoluteRange(a, b))
    }

    fn event(&mut self) -> PResult<Event> {
        let start_tok = *self.peek();
        let time = self.event_time()?;
        let time_end = self.last_end();
        let t = *self.peek();
        let action = match t.tok {
            Tok::Punct('<') | Tok::Punct('>') => self.packet()?,
            Tok::Ellipsis | Tok::Word(_) => Action::Syscall(self.syscall()?),
            Tok::BackQuoted(c) => {
                self.bump();
                Action::Command(c.to_string())
            }
            Tok::Code(c) => {
                self.bump();
                Action::Code(c.to_string())
            }
            _ => {
                return Err(self.unexpected(
                    "a packet (`<` or `>`), a system call, a `command` or a %{ code }% block",
                ))
            }
        };
        let outbound_packet =
            matches!(&action, Action::Packet(p) if p.direction == Direction::Outbound);
        let only_outbound = match time {
            EventTime::Any => Some("event time `*` can only be used with outbound packets"),
            EventTime::AbsoluteRange(..) | EventTime::RelativeRange(..) => {
                Some("event time range can only be used with outbound packets")
            }
            _ => None,
        };
        if let (Some(msg), false) = (only_outbound, outbound_packet) {
            return Err(self.src.error(start_tok.start, time_end, msg));
        }
        Ok(Event {
            time,
            action,
            span: self.span(start_tok.start, self.last_end()),
            call_spans: self.call_spans.take(),
        })
    }

    fn unsupported(&self, start: usize, end: usize, what: &str) -> ParseError {
        self.src
            .error(start, end, format!("{what} are not supported yet"))
    }

    fn packet(&mut self) -> PResult<Action> {
        let dir_tok = self.bump();
        let direction = if dir_tok.tok == Tok::Punct('<') {
            Direction::Inbound
        } else {
            Direction::Outbound
        };
        let mut peer = DEFAULT_PEER;
        if self.is_punct('[') && self.peek_at(1).tok == Tok::Word("peer") {
            self.bump();
            self.bump();
            let t = *self.peek();
            let n = self.uint("a peer number", u64::from(u16::MAX))?;
            if n == 0 {
                return Err(self.err_at(&t, "peers are numbered from 1"));
            }
            peer = n as u16;
            self.expect_punct(']', "`]` after the peer number")?;
        }
        let mut ecn = self.ecn(direction)?;
        let ip = self.ip_fields(direction)?;
        if ecn.is_none() {
            // The printer writes IP fields before the ECN codepoint.
            ecn = self.ecn(direction)?;
        }
        if self.is_word("icmp") {
            return Ok(Action::Icmp(self.icmp(direction, peer, ecn)?));
        }
        let t = *self.peek();
        match t.tok {
            Tok::Punct('[') | Tok::Punct('(') => {
                let close = if t.tok == Tok::Punct('[') { ']' } else { ')' };
                let end = self.toks[self.pos..]
                    .iter()
                    .take(8)
                    .find(|x| x.tok == Tok::Punct(close))
                    .map_or(t.end, |x| x.end);
                return Err(self.unsupported(
                    t.start,
                    end,
                    "IP header fields (ECN codepoint, tos, ttl, flowlabel) on packets",
                ));
            }
            Tok::Word("udp") => return Err(self.unsupported(t.start, t.end, "UDP packets")),
            Tok::Word(w @ ("ipv4" | "ipv6" | "gre" | "GREv0" | "mpls" | "encap")) => {
                return Err(self.unsupported(
                    t.start,
                    t.end,
                    &format!("encapsulation headers (`{w}`)"),
                ))
            }
            Tok::Int(_) if self.peek_at(1).tok == Tok::Punct('>') => {
                let end = self.peek_at(2).end;
                return Err(self.unsupported(t.start, end, "explicit ports (`src>dst`)"));
            }
            _ => {}
        }
        let flags = self.flags()?;
        let seq_tok = *self.peek();
        let seq = self.uint("a sequence range `start:end(len)`", u64::from(u32::MAX))?;
        self.expect_punct(':', "`:` in `start:end(len)`")?;
        let end = self.uint("the end sequence number", u64::from(u32::MAX))?;
        self.expect_punct('(', "`(` in `start:end(len)`")?;
        let len = self.uint("the payload length", u64::from(u16::MAX))?;
        self.expect_punct(')', "`)` in `start:end(len)`")?;
        // Sequence space is modular (RFC 9293 3.4), so a segment may wrap past 2^32:
        // `4294967295:7(8)` holds the octets 4294967295, 0, …, 6. packetdrill refuses such a
        // range (it subtracts without wrapping); accepting it runs every packetdrill script as
        // before and lets the explorer's scripts replay a segment that straddles the wrap.
        if end != (seq + len) % (1 << 32) {
            return Err(self.src.error(
                seq_tok.start,
                self.last_end(),
                format!(
                    "inconsistent TCP sequence numbers and payload size: {seq} + {len} is not {end}{}",
                    if seq + len > u64::from(u32::MAX) {
                        format!(" (nor {} after wrapping past 2^32)", (seq + len) % (1 << 32))
                    } else {
                        String::new()
                    }
                ),
            ));
        }
        let mut packet = Packet {
            direction,
            peer,
            flags,
            seq: seq as u32,
            len: len as u16,
            ack: None,
            win: None,
            urg: None,
            options: TcpOptions::Exactly(Vec::new()),
            ecn,
            ip,
        };
        if self.is_word("ack") {
            self.bump();
            packet.ack = Some(self.uint("the acknowledgment number", u64::from(u32::MAX))? as u32);
        }
        if self.is_word("win") {
            self.bump();
            packet.win = Some(self.uint("the window", u64::from(u16::MAX))? as u16);
        }
        if self.is_word("urg") {
            self.bump();
            packet.urg = Some(self.uint("the urgent pointer", u64::from(u16::MAX))? as u16);
        }
        if direction == Direction::Inbound && packet.win.is_none() {
            return Err(if packet.ack.is_none() {
                self.unexpected("`ack` or `win`")
            } else {
                self.unexpected("`win` (inbound packets must give their window)")
            });
        }
        if self.is_punct('<') {
            let open = self.bump();
            packet.options = self.tcp_options()?;
            if packet.options == TcpOptions::Any && direction == Direction::Inbound {
                return Err(self.src.error(
                    open.start,
                    self.last_end(),
                    "<...> for TCP options can only be used with outbound packets",
                ));
            }
            let raw = matches!(&packet.options, TcpOptions::Exactly(l)
                if l.iter().any(|o| matches!(o, TcpOption::Raw(_))));
            if raw && direction == Direction::Outbound {
                return Err(self.src.error(
                    open.start,
                    self.last_end(),
                    "`raw` option bytes can only be used with inbound packets",
                ));
            }
        } else if self.starts_event() {
            // The packet ends here.
        } else {
            let expected = match (packet.ack, packet.win, packet.urg) {
                (_, _, Some(_)) => "TCP options `<...>` or the next event",
                (_, Some(_), None) => "`urg`, TCP options `<...>` or the next event",
                (Some(_), None, None) => "`win`, `urg`, TCP options `<...>` or the next event",
                (None, None, None) => "`ack`, `win`, `urg`, TCP options `<...>` or the next event",
            };
            return Err(self.unexpected(expected));
        }
        Ok(Action::Packet(packet))
    }

    /// Whether the next token can begin an event or end the script (a misplaced option is
    /// reported by `script`, which says why it is misplaced).
    fn starts_event(&self) -> bool {
        matches!(
            self.peek().tok,
            Tok::Eof
                | Tok::Opt { .. }
                | Tok::Int(_)
                | Tok::Float(_)
                | Tok::Punct('+')
                | Tok::Punct('*')
                | Tok::BackQuoted(_)
        )
    }

    /// `S`, `S.`, `.`, `-` (none), `FP.`: letters in any order, adjacent to an optional `.`.
    fn flags(&mut self) -> PResult<TcpFlags> {
        let mut flags = TcpFlags::default();
        let t = *self.peek();
        match t.tok {
            Tok::Punct('-') => {
                self.bump();
                return Ok(flags);
            }
            Tok::Punct('.') => {
                self.bump();
                flags.ack = true;
            }
            Tok::Float(_) => {
                return Err(self.err_at(&t, "AccECN ACE counts in TCP flags are not supported yet"))
            }
            Tok::Word(w) => {
                if !w.chars().all(|c| FLAG_LETTERS.contains(c)) {
                    return Err(self.unexpected(
                        "TCP flags (letters among `FSRPUEWA` and `.` for ACK, or `-` for none)",
                    ));
                }
                self.bump();
                for (i, c) in w.char_indices() {
                    let flag = match c {
                        'F' => &mut flags.fin,
                        'S' => &mut flags.syn,
                        'R' => &mut flags.rst,
                        'P' => &mut flags.psh,
                        'U' => &mut flags.urg,
                        'E' => &mut flags.ece,
                        'W' => &mut flags.cwr,
                        _ => &mut flags.ae,
                    };
                    if *flag {
                        return Err(self.src.error(
                            t.start + i,
                            t.start + i + 1,
                            format!("TCP flag `{c}` given twice"),
                        ));
                    }
                    *flag = true;
                }
                let next = *self.peek();
                if next.start == t.end {
                    match next.tok {
                        Tok::Punct('.') => {
                            self.bump();
                            flags.ack = true;
                        }
                        Tok::Float(_) => {
                            return Err(self.err_at(
                                &next,
                                "AccECN ACE counts in TCP flags are not supported yet",
                            ))
                        }
                        _ => {}
                    }
                }
            }
            _ => {
                return Err(self.unexpected(
                    "TCP flags (letters among `FSRPUEWA` and `.` for ACK, or `-` for none)",
                ))
            }
        }
        Ok(flags)
    }

    /// After the opening `<`: `...>` or a comma-separated list and `>`.
    fn tcp_options(&mut self) -> PResult<TcpOptions> {
        if self.peek().tok == Tok::Ellipsis {
            self.bump();
            self.expect_punct('>', "`>` after `<...`")?;
            return Ok(TcpOptions::Any);
        }
        let mut list = Vec::new();
        loop {
            list.push(self.tcp_option()?);
            if self.eat_punct('>') {
                return Ok(TcpOptions::Exactly(list));
            }
            self.expect_punct(',', "`,` or `>` after a TCP option")?;
        }
    }

    fn hex_blob(&mut self, what: &str, optional: bool) -> PResult<String> {
        let t = *self.peek();
        let text = match t.tok {
            Tok::Word(s) | Tok::Int(s) => s,
            _ if optional => return Ok(String::new()),
            _ => return Err(self.unexpected(what)),
        };
        self.bump();
        // A word that is not hex is a name the runner defines, as packetdrill's `-D NAME=...`
        // does for `TFO_COOKIE` in its own suite.
        if text.bytes().all(|b| b.is_ascii_hexdigit()) && text.len() % 2 != 0 {
            return Err(self.err_at(&t, format!("{what} must be an even number of hex digits")));
        }
        Ok(text.to_string())
    }

    fn tcp_option(&mut self) -> PResult<TcpOption> {
        let t = *self.peek();
        let name = match t.tok {
            Tok::Word(w) => w,
            _ => return Err(self.unexpected("a TCP option")),
        };
        self.bump();
        Ok(match name {
            "nop" => TcpOption::Nop,
            "eol" => TcpOption::Eol,
            "mss" => TcpOption::Mss(self.uint("the MSS", u64::from(u16::MAX))? as u16),
            "wscale" => TcpOption::WScale(
                self.uint("the window scale shift count", u64::from(u8::MAX))? as u8,
            ),
            "sackOK" => TcpOption::SackOk,
            "sack" => {
                let mut blocks = Vec::new();
                loop {
                    let l = self.uint("a SACK block `left:right`", u64::from(u32::MAX))?;
                    self.expect_punct(':', "`:` in a SACK block")?;
                    let r = self.uint("the SACK block's right edge", u64::from(u32::MAX))?;
                    blocks.push((l as u32, r as u32));
                    if !matches!(self.peek().tok, Tok::Int(_)) {
                        break;
                    }
                }
                TcpOption::Sack(blocks)
            }
            "TS" => {
                self.expect_word("val")?;
                let val = self.uint("the timestamp value", u64::from(u32::MAX))? as u32;
                self.expect_word("ecr")?;
                let ecr = self.uint("the timestamp echo reply", u64::from(u32::MAX))? as u32;
                TcpOption::Timestamp { val, ecr }
            }
            "md5" => TcpOption::Md5(self.hex_blob("the MD5 signature", false)?),
            "FO" => TcpOption::FastOpen(self.hex_blob("the Fast Open cookie", true)?),
            "FOEXP" => TcpOption::FastOpenExp(self.hex_blob("the Fast Open cookie", true)?),
            "ECN" => self.accecn()?,
            "raw" => {
                let data_tok = *self.peek();
                let data = self.hex_blob("the option bytes in hex", false)?;
                if !data.bytes().all(|b| b.is_ascii_hexdigit()) {
                    return Err(self.err_at(&data_tok, "`raw` option bytes must be hex digits"));
                }
                TcpOption::Raw(data)
            }
            "opt" => {
                let kind = self.uint("the option kind", u64::from(u8::MAX))? as u8;
                let data = self.hex_blob("the option's data", true)?;
                if !data.bytes().all(|b| b.is_ascii_hexdigit()) {
                    return Err(self.err_at(&t, "an `opt` option's data must be hex digits"));
                }
                TcpOption::Unknown { kind, data }
            }
            _ => {
                return Err(self.err_at(
                    &t,
                    format!(
                        "unknown TCP option `{name}` (known: nop, eol, mss, wscale, sackOK, \
                         sack, TS, md5, FO, FOEXP, ECN, opt, raw)"
                    ),
                ))
            }
        })
    }

    /// `ECN e0b N [ceb N [e1b N]]` or the same starting with `e1b`, as packetdrill allows.
    fn accecn(&mut self) -> PResult<TcpOption> {
        let mut counters = Vec::new();
        while let Tok::Word(w @ ("e0b" | "ceb" | "e1b")) = self.peek().tok {
            let t = self.bump();
            let counter = match w {
                "e0b" => AccEcnCounter::E0b,
                "ceb" => AccEcnCounter::Ceb,
                _ => AccEcnCounter::E1b,
            };
            let allowed = match counters.as_slice() {
                [] => counter != AccEcnCounter::Ceb,
                [_] => counter == AccEcnCounter::Ceb,
                [(first, _), _] => counter != AccEcnCounter::Ceb && counter != *first,
                _ => false,
            };
            if !allowed {
                return Err(self.err_at(
                    &t,
                    "AccECN counters go `e0b N ceb N e1b N` or `e1b N ceb N e0b N`, each optional \
                     from the end",
                ));
            }
            let v = self.uint("the AccECN counter", (1 << 24) - 1)?;
            counters.push((counter, v as u32));
        }
        if counters.is_empty() {
            return Err(self.unexpected("`e0b` or `e1b` after `ECN`"));
        }
        Ok(TcpOption::AccEcn(counters))
    }
}
