//! Sequence-number arithmetic (RFC 9293 §3.4).
//!
//! TCP sequence numbers live on a circle of 2^32 points, so "less than" only makes sense for
//! numbers less than half the circle apart. This module gives that arithmetic one home, with
//! the same definition Linux uses (`before(a, b)` is `(s32)(a - b) < 0`, include/net/tcp.h),
//! because the model is diffed against Linux and must disagree with it only where the RFC
//! does.
//!
//! # Distance exactly 2^31
//!
//! Two numbers exactly 2^31 apart are on opposite sides of the circle and neither precedes
//! the other in any meaningful sense. Linux's `before()` says *both* precede each other there
//! (`(s32)0x8000_0000` is negative whichever way round), so [`SeqNumber::before`] does too,
//! for fidelity. The [`PartialOrd`] implementation instead answers `None` (incomparable) at
//! that distance, so `<` and `>` stay antisymmetric: at 2^31, `a < b`, `a > b` and `a == b`
//! are all false. Code that needs an order should never meet that case: windows are at most
//! 2^30 bytes (RFC 7323 §2.3), far below half the circle.

use core::cmp::Ordering;
use core::fmt;
use core::ops::{Add, AddAssign, Sub};

/// A TCP sequence (or acknowledgment) number, compared modulo 2^32 (RFC 9293 §3.4).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct SeqNumber(pub u32);

impl SeqNumber {
    /// Linux's `before(self, other)`: `(s32)(self - other) < 0`.
    ///
    /// True for both orders when the distance is exactly 2^31 (see the module docs).
    #[inline]
    pub const fn before(self, other: SeqNumber) -> bool {
        (self.0.wrapping_sub(other.0) as i32) < 0
    }

    /// Linux's `after(self, other)`, defined as `before(other, self)`.
    #[inline]
    pub const fn after(self, other: SeqNumber) -> bool {
        other.before(self)
    }

    /// Signed distance `self - other` in the range `-2^31 ..= 2^31 - 1`.
    ///
    /// Positive when `self` is after `other`. At distance 2^31 the result is `i32::MIN`.
    #[inline]
    pub const fn signed_distance(self, other: SeqNumber) -> i32 {
        self.0.wrapping_sub(other.0) as i32
    }

    /// How far `self` lies past `start` going forward round the circle (`self - start` mod 2^32).
    #[inline]
    pub const fn forward_distance(self, start: SeqNumber) -> u32 {
        self.0.wrapping_sub(start.0)
    }

    /// Whether `self` lies in the half-open window `[start, start + len)`.
    ///
    /// A window of length 0 contains nothing. Lengths up to 2^32 - 1 are well defined because
    /// the test is a forward distance, not a pair of comparisons.
    #[inline]
    pub const fn in_window(self, start: SeqNumber, len: u32) -> bool {
        self.forward_distance(start) < len
    }

    /// `start <= self <= end` on the circle, walking forward from `start`.
    ///
    /// The form RFC 9293 uses for "SND.UNA < SEG.ACK =< SND.NXT" and friends: it is exact for any
    /// `start`/`end`, including ranges that wrap past 2^32 - 1.
    #[inline]
    pub const fn in_range_inclusive(self, start: SeqNumber, end: SeqNumber) -> bool {
        self.forward_distance(start) <= end.forward_distance(start)
    }

    /// Adds a length (bytes plus SYN and FIN) modulo 2^32.
    #[inline]
    pub const fn wrapping_add(self, n: u32) -> SeqNumber {
        SeqNumber(self.0.wrapping_add(n))
    }
}

impl PartialOrd for SeqNumber {
    /// Modular order; `None` when the numbers are exactly 2^31 apart (see the module docs).
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        match self.signed_distance(*other) {
            0 => Some(Ordering::Equal),
            i32::MIN => None,
            d if d < 0 => Some(Ordering::Less),
            _ => Some(Ordering::Greater),
        }
    }
}

impl Add<u32> for SeqNumber {
    type Output = SeqNumber;
    #[inline]
    fn add(self, rhs: u32) -> SeqNumber {
        self.wrapping_add(rhs)
    }
}

impl AddAssign<u32> for SeqNumber {
    #[inline]
    fn add_assign(&mut self, rhs: u32) {
        *self = self.wrapping_add(rhs);
    }
}

impl Sub<u32> for SeqNumber {
    type Output = SeqNumber;
    #[inline]
    fn sub(self, rhs: u32) -> SeqNumber {
        SeqNumber(self.0.wrapping_sub(rhs))
    }
}

/// `a - b` is the signed distance, as in Linux's `(s32)(a - b)`.
impl Sub for SeqNumber {
    type Output = i32;
    #[inline]
    fn sub(self, rhs: SeqNumber) -> i32 {
        self.signed_distance(rhs)
    }
}

impl From<u32> for SeqNumber {
    fn from(v: u32) -> Self {
        SeqNumber(v)
    }
}

impl From<SeqNumber> for u32 {
    fn from(v: SeqNumber) -> Self {
        v.0
    }
}

impl fmt::Debug for SeqNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SeqNumber({})", self.0)
    }
}

impl fmt::Display for SeqNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

/// The segment acceptability test of RFC 9293 §3.10.7.4 ("first check sequence number").
///
/// `seg_len` is SEG.LEN: the payload length plus one for SYN and one for FIN. The four cases:
///
/// | SEG.LEN | RCV.WND | acceptable when |
/// |---|---|---|
/// | 0 | 0 | SEG.SEQ = RCV.NXT |
/// | 0 | >0 | RCV.NXT =< SEG.SEQ < RCV.NXT+RCV.WND |
/// | >0 | 0 | never |
/// | >0 | >0 | the first or the last octet lies in the window |
pub const fn segment_acceptable(
    seg_seq: SeqNumber,
    seg_len: u32,
    rcv_nxt: SeqNumber,
    rcv_wnd: u32,
) -> bool {
    // RFC 9293 3.10.7.4: the four-case acceptability table.
    match (seg_len, rcv_wnd) {
        (0, 0) => seg_seq.0 == rcv_nxt.0,
        (0, _) => seg_seq.in_window(rcv_nxt, rcv_wnd),
        (_, 0) => false,
        (_, _) => {
            seg_seq.in_window(rcv_nxt, rcv_wnd)
                || seg_seq
                    .wrapping_add(seg_len - 1)
                    .in_window(rcv_nxt, rcv_wnd)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn half_circle_is_incomparable_but_linux_before_holds_both_ways() {
        let a = SeqNumber(5);
        let b = a + (1 << 31);
        assert!(a.before(b) && b.before(a), "Linux's before() at 2^31");
        assert_eq!(a.partial_cmp(&b), None);
        assert_eq!((a < b, b < a, a == b), (false, false, false));
    }

    #[test]
    fn wraps_past_zero() {
        let top = SeqNumber(u32::MAX);
        assert!(top < SeqNumber(0));
        assert!(top.before(SeqNumber(10)));
        assert_eq!(SeqNumber(3) - top, 4);
        assert!(SeqNumber(2).in_window(top, 4));
        assert!(!SeqNumber(3).in_window(top, 4));
    }
}
