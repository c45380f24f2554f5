//! One-line renderings in tcpdump's style, so reports read like the captures users know.

use core::fmt;

use super::{IpRepr, SegmentRepr, TcpOption};

impl fmt::Display for TcpOption<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TcpOption::EndOfList => f.write_str("eol"),
            TcpOption::Nop => f.write_str("nop"),
            TcpOption::Mss(v) => write!(f, "mss {v}"),
            TcpOption::WindowScale(v) => write!(f, "wscale {v}"),
            TcpOption::SackPermitted => f.write_str("sackOK"),
            TcpOption::Sack(blocks) => {
                f.write_str("sack")?;
                for b in blocks.as_slice() {
                    write!(f, " {}:{}", b.left, b.right)?;
                }
                Ok(())
            }
            TcpOption::Timestamps { val, ecr } => write!(f, "TS val {val} ecr {ecr}"),
            TcpOption::FastOpen(c) | TcpOption::FastOpenExp(c) => {
                f.write_str(if matches!(self, TcpOption::FastOpen(_)) {
                    "FO"
                } else {
                    "FOEXP"
                })?;
                if !c.is_empty() {
                    f.write_str(" ")?;
                    for b in c.iter() {
                        write!(f, "{b:02x}")?;
                    }
                }
                Ok(())
            }
            TcpOption::Unknown { kind, data } => {
                write!(f, "unknown-{kind}")?;
                if !data.is_empty() {
                    f.write_str(" 0x")?;
                    for b in data.iter() {
                        write!(f, "{b:02x}")?;
                    }
                }
                Ok(())
            }
        }
    }
}

/// `192.0.2.2.8080 > 192.0.2.1.40000: Flags [S.], seq 1, ack 2, win 65535, options [mss 1460],
/// length 0`, with absolute sequence numbers.
impl fmt::Display for SegmentRepr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let tcp = &self.tcp;
        match &self.ip {
            IpRepr::V4(ip) => write!(
                f,
                "{}.{} > {}.{}",
                ip.src, tcp.src_port, ip.dst, tcp.dst_port
            )?,
            IpRepr::V6(ip) => write!(
                f,
                "{}.{} > {}.{}",
                ip.src, tcp.src_port, ip.dst, tcp.dst_port
            )?,
        }
        write!(f, ": Flags {}, seq {}", tcp.flags, tcp.seq)?;
        if !tcp.payload.is_empty() {
            write!(f, ":{}", tcp.seq + tcp.payload.len() as u32)?;
        }
        if tcp.flags.ack() {
            write!(f, ", ack {}", tcp.ack)?;
        }
        write!(f, ", win {}", tcp.window)?;
        if tcp.flags.urg() {
            write!(f, ", urg {}", tcp.urgent_pointer)?;
        }
        if !tcp.options.is_empty() {
            f.write_str(", options [")?;
            for (i, o) in tcp.options.iter().enumerate() {
                if i > 0 {
                    f.write_str(",")?;
                }
                write!(f, "{o}")?;
            }
            f.write_str("]")?;
        }
        if tcp.reserved != 0 {
            write!(f, ", reserved {:#x}", tcp.reserved)?;
        }
        write!(f, ", length {}", tcp.payload.len())?;
        if !self.checksums_correct() {
            f.write_str(" (bad checksum)")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use crate::wire::{IpRepr, Ipv4Repr, SegmentRepr, TcpFlags, TcpOption, TcpRepr};

    #[test]
    fn reads_like_tcpdump() {
        let seg = SegmentRepr {
            ip: IpRepr::V4(Ipv4Repr::new([192, 0, 2, 2].into(), [192, 0, 2, 1].into())),
            tcp: TcpRepr {
                src_port: 8080,
                dst_port: 40000,
                seq: 1000.into(),
                ack: 2001.into(),
                flags: TcpFlags::SYN | TcpFlags::ACK,
                window: 65535,
                options: vec![
                    TcpOption::Mss(1460),
                    TcpOption::SackPermitted,
                    TcpOption::Nop,
                ],
                ..TcpRepr::default()
            },
        };
        assert_eq!(
            seg.to_string(),
            "192.0.2.2.8080 > 192.0.2.1.40000: Flags [S.], seq 1000, ack 2001, win 65535, \
             options [mss 1460,sackOK,nop], length 0"
        );
    }
}
