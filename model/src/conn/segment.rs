//! The machine's view of a segment: the fields RFC 9293 §3.10.7 reads, by value, so feeding
//! the model costs no allocation.

use core::fmt;

use super::fast_open::Cookie;
use crate::seq::SeqNumber;
use crate::wire::{SackBlocks, TcpFlags, TcpOption, TcpRepr};

/// Options the model interprets.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SegOptions {
    pub mss: Option<u16>,
    pub window_scale: Option<u8>,
    pub sack_permitted: bool,
    pub timestamps: Option<(u32, u32)>,
    pub sack: Option<SackBlocks>,
    /// A Fast Open option (RFC 7413 4.1.1) with a cookie of a length the RFC allows; one
    /// of another length is ignored, as Linux's tcp_parse_fastopen_option() ignores it.
    pub fast_open: Option<super::fast_open::Cookie>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Seg {
    pub seq: SeqNumber,
    pub ack: SeqNumber,
    pub flags: TcpFlags,
    /// The window field as sent (unscaled).
    // RFC 9293 3.1: REC-1, windows are handled as 32-bit numbers once scaled (see Tcb).
    pub wnd: u16,
    /// Payload bytes.
    pub len: u32,
    pub options: SegOptions,
    /// The urgent pointer field as sent (read only with URG).
    pub up: u16,
}

impl Seg {
    pub fn new(flags: TcpFlags, seq: u32, ack: u32, len: u32) -> Seg {
        Seg {
            seq: SeqNumber(seq),
            ack: SeqNumber(ack),
            flags,
            wnd: 65535,
            len,
            options: SegOptions::default(),
            up: 0,
        }
    }

    pub fn from_repr(tcp: &TcpRepr) -> Seg {
        let mut options = SegOptions::default();
        // RFC 9293 3.9.2: MUST-50, options the model does not understand are ignored.
        for o in &tcp.options {
            match *o {
                TcpOption::Mss(v) => options.mss = Some(v),
                TcpOption::WindowScale(v) => options.window_scale = Some(v),
                TcpOption::SackPermitted => options.sack_permitted = true,
                TcpOption::Timestamps { val, ecr } => options.timestamps = Some((val, ecr)),
                TcpOption::Sack(b) => options.sack = Some(b),
                TcpOption::FastOpen(ref c) => options.fast_open = Cookie::new(c, false),
                TcpOption::FastOpenExp(ref c) => options.fast_open = Cookie::new(c, true),
                _ => {}
            }
        }
        Seg {
            seq: tcp.seq,
            ack: tcp.ack,
            flags: tcp.flags,
            wnd: tcp.window,
            len: tcp.payload.len() as u32,
            options,
            up: tcp.urgent_pointer,
        }
    }

    /// SEG.LEN: payload plus one each for SYN and FIN (RFC 9293 §3.4).
    pub fn seg_len(&self) -> u32 {
        self.len + u32::from(self.flags.syn()) + u32::from(self.flags.fin())
    }

    /// The sequence number just past this segment.
    pub fn end(&self) -> SeqNumber {
        self.seq + self.seg_len()
    }
}

/// RFC 9293's notation, as the model writes what a stack sent: `<SEQ=..><ACK=..><CTL=ACK>`.
impl fmt::Display for Seg {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "<SEQ={}", self.seq)?;
        if self.flags.ack() {
            write!(f, "><ACK={}", self.ack)?;
        }
        write!(f, "><CTL={}>", super::expect::ctl_names(self.flags))?;
        if self.len > 0 {
            write!(f, "<DATA {} bytes>", self.len)?;
        }
        Ok(())
    }
}
