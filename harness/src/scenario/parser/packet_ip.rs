//! The IP-level parts of packet lines: the ECN codepoint in `[ect0]`, and ICMP lines
//! (packetdrill's parser.y `ip_ecn`, `icmp_packet_spec`).

use super::*;

/// Bytes of an even number of hex digits (checked by the caller).
pub(super) fn hex_bytes(hex: &str) -> Vec<u8> {
    (0..hex.len() / 2)
        .map(|i| u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).unwrap_or(0))
        .collect()
}

impl Parser<'_, '_> {
    /// `[noecn]`, `[ect0]`, `[ect1]`, `[ce]` or `[ect01]` (outbound only), if next.
    pub(super) fn ecn(&mut self, direction: Direction) -> PResult<Option<Ecn>> {
        if !self.is_punct('[') {
            return Ok(None);
        }
        let ecn = match self.peek_at(1).tok {
            Tok::Word("noecn") => Ecn::NoEcn,
            Tok::Word("ect0") => Ecn::Ect0,
            Tok::Word("ect1") => Ecn::Ect1,
            Tok::Word("ce") => Ecn::Ce,
            Tok::Word("ect01") => Ecn::Ect01,
            _ => return Ok(None),
        };
        if self.peek_at(2).tok != Tok::Punct(']') {
            return Ok(None);
        }
        let open = self.bump();
        self.bump();
        self.bump();
        if ecn == Ecn::Ect01 && direction == Direction::Inbound {
            return Err(self.src.error(
                open.start,
                self.last_end(),
                "[ect01] can only be used with outbound packets",
            ));
        }
        Ok(Some(ecn))
    }

    /// `[tos 0xNN]` or `[ttl N]` (or in parentheses), if next: outbound lines only; and
    /// tcpcheck's `[bad_csum]`, inbound lines only.
    pub(super) fn ip_fields(&mut self, direction: Direction) -> PResult<IpFields> {
        let mut fields = IpFields::default();
        loop {
            let close = match self.peek().tok {
                Tok::Punct('[') => ']',
                Tok::Punct('(') => ')',
                _ => return Ok(fields),
            };
            let which = match self.peek_at(1).tok {
                Tok::Word(w @ ("tos" | "ttl" | "bad_csum" | "src" | "dst" | "ip_options")) => w,
                _ => return Ok(fields),
            };
            let open = self.bump();
            let name = self.bump();
            if matches!(which, "src" | "dst" | "ip_options") {
                if direction == Direction::Outbound {
                    return Err(self.src.error(
                        open.start,
                        name.end,
                        format!("`{which}` is for inbound packets (it sets what the peer sends)"),
                    ));
                }
                let (slot, given) = match which {
                    "src" => (fields.src.is_some(), "source address"),
                    "dst" => (fields.dst.is_some(), "destination address"),
                    _ => (fields.ip_options.is_some(), "IP options"),
                };
                if slot {
                    return Err(self.src.error(
                        open.start,
                        name.end,
                        format!("the {given} is given twice"),
                    ));
                }
                match which {
                    "src" => fields.src = Some(self.address(close)?),
                    "dst" => fields.dst = Some(self.address(close)?),
                    _ => fields.ip_options = Some(self.ip_options()?),
                }
                self.expect_punct(close, "the end of the IP field")?;
                continue;
            }
            if which == "bad_csum" {
                if direction == Direction::Outbound {
                    return Err(self.src.error(
                        open.start,
                        name.end,
                        "`bad_csum` is for inbound packets (a stack never sends one)",
                    ));
                }
                fields.bad_csum = true;
                self.expect_punct(close, "the end of the IP field")?;
                continue;
            }
            if direction == Direction::Inbound {
                return Err(self.src.error(
                    open.start,
                    name.end,
                    format!("`{which}` on inbound packets is not supported yet"),
                ));
            }
            let t = *self.peek();
            if which == "tos" {
                let Tok::Hex(h) = t.tok else {
                    return Err(self.unexpected("the TOS byte in hex (`0x10`)"));
                };
                self.bump();
                let v = u8::from_str_radix(h.trim_start_matches("0x"), 16)
                    .map_err(|_| self.err_at(&t, "tos out of range for 8 bits"))?;
                fields.tos = Some(v);
            } else {
                fields.ttl = Some(self.uint("the TTL", u64::from(u8::MAX))? as u8);
            }
            self.expect_punct(close, "the end of the IP field")?;
        }
    }

    /// An IPv4 or IPv6 address up to `close`, written as the address text alone
    /// (`192.0.2.255`, `ff02::1`): IPv6 addresses are several tokens to the lexer, so the
    /// text between the first and the last is read as one.
    fn address(&mut self, close: char) -> PResult<std::net::IpAddr> {
        let first = *self.peek();
        let mut last = first;
        while !matches!(self.peek().tok, Tok::Eof) && self.peek().tok != Tok::Punct(close) {
            let t = self.bump();
            if t.start != last.end && t.start != first.start {
                return Err(self.src.error(
                    first.start,
                    t.end,
                    "an address is written without spaces (`192.0.2.255`, `ff02::1`)",
                ));
            }
            last = t;
        }
        if last.start == first.start && first.tok == Tok::Punct(close) || first.tok == Tok::Eof {
            return Err(self.unexpected("an IPv4 or IPv6 address"));
        }
        let text = &self.src.text[first.start..last.end];
        text.parse().map_err(|_| {
            self.src.error(
                first.start,
                last.end,
                format!("`{text}` is not an IPv4 or IPv6 address"),
            )
        })
    }

    /// The hex bytes of `[ip_options HEX]`: whole 32-bit words, at most 40 bytes.
    fn ip_options(&mut self) -> PResult<IpOptions> {
        let t = *self.peek();
        let hex = self.hex_blob("the IP options in hex", false)?;
        if !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(self.err_at(&t, "IP options are hex digits"));
        }
        let bytes = hex_bytes(&hex);
        IpOptions::new(&bytes).ok_or_else(|| {
            self.err_at(
                &t,
                format!(
                    "IPv4 options fill whole 32-bit words, at most {}: {} bytes given (pad with \
                     00, End of Option List)",
                    IpOptions::MAX,
                    bytes.len()
                ),
            )
        })
    }

    /// After `icmp`: TYPE [CODE] [mtu N] [id N] [`[start:end(len)]`].
    pub(super) fn icmp(
        &mut self,
        direction: Direction,
        peer: u16,
        ecn: Option<Ecn>,
    ) -> PResult<IcmpPacket> {
        let icmp_tok = self.bump();
        if direction == Direction::Outbound {
            return Err(self.src.error(
                icmp_tok.start,
                icmp_tok.end,
                "outbound ICMP packets are not supported yet",
            ));
        }
        let word = |p: &mut Self, what: &str| -> PResult<String> {
            match p.peek().tok {
                Tok::Word(w) => {
                    p.bump();
                    Ok(w.to_string())
                }
                _ => Err(p.unexpected(what)),
            }
        };
        let icmp_type = word(self, "an ICMP type (`unreachable`, `packet_too_big`, ...)")?;
        let code = match self.peek().tok {
            Tok::Word(w) if w != "mtu" && w != "id" => Some(word(self, "an ICMP code")?),
            _ => None,
        };
        let mut mtu = None;
        if self.is_word("mtu") {
            self.bump();
            mtu = Some(self.uint("the MTU", u64::from(u32::MAX))? as u32);
        }
        if self.is_word("id") {
            let t = *self.peek();
            return Err(self.err_at(&t, "ICMP echo ids are not supported yet"));
        }
        let mut quoted = None;
        if self.is_punct('[') {
            let open = self.bump();
            if matches!(self.peek().tok, Tok::Word("udp" | "raw")) {
                return Err(self.src.error(
                    open.start,
                    self.peek().end,
                    "ICMP quoting UDP or raw packets is not supported yet",
                ));
            }
            let seq_tok = *self.peek();
            let seq = self.uint("a sequence range `start:end(len)`", u64::from(u32::MAX))?;
            self.expect_punct(':', "`:` in `start:end(len)`")?;
            let end = self.uint("the end sequence number", u64::from(u32::MAX))?;
            self.expect_punct('(', "`(` in `start:end(len)`")?;
            let len = self.uint("the payload length", u64::from(u16::MAX))?;
            self.expect_punct(')', "`)` in `start:end(len)`")?;
            if end != (seq + len) % (1 << 32) {
                return Err(self.src.error(
                    seq_tok.start,
                    self.last_end(),
                    format!("inconsistent TCP sequence numbers and payload size: {seq} + {len} is not {end}"),
                ));
            }
            self.expect_punct(']', "`]` after the quoted segment")?;
            quoted = Some((seq as u32, len as u16));
        }
        if !self.starts_event() {
            return Err(self.unexpected("the next event after the ICMP packet"));
        }
        Ok(IcmpPacket {
            direction,
            peer,
            ecn,
            icmp_type,
            code,
            mtu,
            quoted,
        })
    }
}
