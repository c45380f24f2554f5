//! The eight TCP control bits (RFC 9293 §3.1, RFC 3168 §23.2 for CWR and ECE).

use core::fmt;
use core::ops::{BitAnd, BitOr, BitOrAssign, Not};

/// TCP control bits as they sit in header byte 13.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct TcpFlags(pub u8);

impl TcpFlags {
    pub const FIN: TcpFlags = TcpFlags(0x01);
    pub const SYN: TcpFlags = TcpFlags(0x02);
    pub const RST: TcpFlags = TcpFlags(0x04);
    pub const PSH: TcpFlags = TcpFlags(0x08);
    pub const ACK: TcpFlags = TcpFlags(0x10);
    pub const URG: TcpFlags = TcpFlags(0x20);
    pub const ECE: TcpFlags = TcpFlags(0x40);
    pub const CWR: TcpFlags = TcpFlags(0x80);

    /// The bits in wire order, most significant first.
    const NAMES: [(TcpFlags, &'static str); 8] = [
        (TcpFlags::CWR, "CWR"),
        (TcpFlags::ECE, "ECE"),
        (TcpFlags::URG, "URG"),
        (TcpFlags::ACK, "ACK"),
        (TcpFlags::PSH, "PSH"),
        (TcpFlags::RST, "RST"),
        (TcpFlags::SYN, "SYN"),
        (TcpFlags::FIN, "FIN"),
    ];

    pub const fn empty() -> TcpFlags {
        TcpFlags(0)
    }

    pub const fn bits(self) -> u8 {
        self.0
    }

    /// Whether every bit of `other` is set.
    pub const fn contains(self, other: TcpFlags) -> bool {
        self.0 & other.0 == other.0
    }

    pub const fn intersects(self, other: TcpFlags) -> bool {
        self.0 & other.0 != 0
    }

    pub const fn syn(self) -> bool {
        self.contains(TcpFlags::SYN)
    }
    pub const fn fin(self) -> bool {
        self.contains(TcpFlags::FIN)
    }
    pub const fn rst(self) -> bool {
        self.contains(TcpFlags::RST)
    }
    pub const fn ack(self) -> bool {
        self.contains(TcpFlags::ACK)
    }
    pub const fn psh(self) -> bool {
        self.contains(TcpFlags::PSH)
    }
    pub const fn urg(self) -> bool {
        self.contains(TcpFlags::URG)
    }
    pub const fn ece(self) -> bool {
        self.contains(TcpFlags::ECE)
    }
    pub const fn cwr(self) -> bool {
        self.contains(TcpFlags::CWR)
    }

    /// Flags as packetdrill writes them in a script (`S.` for SYN+ACK), ACK last.
    pub fn packetdrill(self) -> String {
        let mut s = String::new();
        for (flag, letter) in [
            (TcpFlags::SYN, 'S'),
            (TcpFlags::FIN, 'F'),
            (TcpFlags::RST, 'R'),
            (TcpFlags::PSH, 'P'),
            (TcpFlags::URG, 'U'),
            (TcpFlags::ECE, 'E'),
            (TcpFlags::CWR, 'W'),
            (TcpFlags::ACK, '.'),
        ] {
            if self.contains(flag) {
                s.push(letter);
            }
        }
        s
    }
}

impl BitOr for TcpFlags {
    type Output = TcpFlags;
    fn bitor(self, rhs: TcpFlags) -> TcpFlags {
        TcpFlags(self.0 | rhs.0)
    }
}

impl BitOrAssign for TcpFlags {
    fn bitor_assign(&mut self, rhs: TcpFlags) {
        self.0 |= rhs.0;
    }
}

impl BitAnd for TcpFlags {
    type Output = TcpFlags;
    fn bitand(self, rhs: TcpFlags) -> TcpFlags {
        TcpFlags(self.0 & rhs.0)
    }
}

impl Not for TcpFlags {
    type Output = TcpFlags;
    fn not(self) -> TcpFlags {
        TcpFlags(!self.0)
    }
}

impl fmt::Debug for TcpFlags {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<&str> = Self::NAMES
            .iter()
            .filter(|(flag, _)| self.contains(*flag))
            .map(|(_, name)| *name)
            .collect();
        if names.is_empty() {
            f.write_str("TcpFlags(none)")
        } else {
            write!(f, "TcpFlags({})", names.join("|"))
        }
    }
}

/// tcpdump's rendering, in its bit-table order F S R P . U E W: `[S.]`, `[FP.]`, `[none]`.
impl fmt::Display for TcpFlags {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0 == 0 {
            return f.write_str("[none]");
        }
        f.write_str("[")?;
        for (flag, letter) in [
            (TcpFlags::FIN, 'F'),
            (TcpFlags::SYN, 'S'),
            (TcpFlags::RST, 'R'),
            (TcpFlags::PSH, 'P'),
            (TcpFlags::ACK, '.'),
            (TcpFlags::URG, 'U'),
            (TcpFlags::ECE, 'E'),
            (TcpFlags::CWR, 'W'),
        ] {
            if self.contains(flag) {
                write!(f, "{letter}")?;
            }
        }
        f.write_str("]")
    }
}
