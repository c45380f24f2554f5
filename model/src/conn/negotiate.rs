//! What the two SYNs agreed on: window scaling (RFC 7323 §2.2), SACK (RFC 2018 §2) and
//! timestamps (RFC 7323 §3.2) are on only when both SYNs carry the option.

use super::segment::Seg;

/// The options one side's SYN carried.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SynOptions {
    pub mss: Option<u16>,
    pub window_scale: Option<u8>,
    pub sack_permitted: bool,
    pub timestamps: bool,
}

impl SynOptions {
    pub fn of(seg: &Seg) -> SynOptions {
        SynOptions {
            mss: seg.options.mss,
            window_scale: seg.options.window_scale,
            sack_permitted: seg.options.sack_permitted,
            timestamps: seg.options.timestamps.is_some(),
        }
    }
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Negotiation {
    /// The stack's SYN or SYN-ACK, once sent.
    pub ours: Option<SynOptions>,
    /// The peer's SYN or SYN-ACK, once received.
    pub theirs: Option<SynOptions>,
}

impl Negotiation {
    pub fn done(&self) -> bool {
        self.ours.is_some() && self.theirs.is_some()
    }

    /// The shifts (the stack's receive shift, the stack's send shift) when scaling is on.
    pub fn window_scale(&self) -> Option<(u8, u8)> {
        // RFC 7323 2.2: both SYNs carry the option, or neither side scales; shifts above 14
        // are used as 14 (2.3).
        match (self.ours?.window_scale, self.theirs?.window_scale) {
            (Some(ours), Some(theirs)) => Some((ours.min(14), theirs.min(14))),
            _ => None,
        }
    }

    /// RFC 2018 2: SACK blocks may be sent only to a peer whose SYN said SACK-permitted.
    pub fn sack(&self) -> bool {
        self.ours.is_some_and(|o| o.sack_permitted) && self.theirs.is_some_and(|t| t.sack_permitted)
    }

    /// RFC 7323 3.2: timestamps are on when both SYNs carried TSopt.
    pub fn timestamps(&self) -> bool {
        self.ours.is_some_and(|o| o.timestamps) && self.theirs.is_some_and(|t| t.timestamps)
    }
}
