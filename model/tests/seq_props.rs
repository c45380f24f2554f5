//! Sequence arithmetic against Linux's definitions and RFC 9293's acceptability table.

use proptest::prelude::*;
use tcpcheck_model::seq::{segment_acceptable, SeqNumber};

/// include/net/tcp.h: `before(seq1, seq2)` is `(__s32)(seq1 - seq2) < 0`.
fn linux_before(a: u32, b: u32) -> bool {
    (a.wrapping_sub(b) as i32) < 0
}

/// u32 pairs biased to where modular comparison goes wrong: around 0, around 2^31 apart,
/// and near u32::MAX.
fn seq_pair() -> impl Strategy<Value = (u32, u32)> {
    let near = |c: u32| (0u32..64).prop_map(move |d| c.wrapping_add(d).wrapping_sub(32));
    prop_oneof![
        (any::<u32>(), any::<u32>()),
        (any::<u32>(), -64i64..64).prop_map(|(a, d)| (a, a.wrapping_add(d as u32))),
        (any::<u32>(), near(1 << 31)).prop_map(|(a, d)| (a, a.wrapping_add(d))),
        (near(0), near(u32::MAX)),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(10_000))]

    #[test]
    fn before_after_agree_with_linux((a, b) in seq_pair()) {
        let (x, y) = (SeqNumber(a), SeqNumber(b));
        prop_assert_eq!(x.before(y), linux_before(a, b));
        prop_assert_eq!(x.after(y), linux_before(b, a));
    }

    /// The ordering agrees with Linux everywhere except at distance 2^31, where Linux says
    /// each is before the other and the ordering says they are incomparable.
    #[test]
    fn ordering_agrees_with_linux_off_the_half_circle((a, b) in seq_pair()) {
        let (x, y) = (SeqNumber(a), SeqNumber(b));
        if a.wrapping_sub(b) == 1 << 31 {
            prop_assert_eq!(x.partial_cmp(&y), None);
            prop_assert!(x.before(y) && y.before(x));
        } else {
            prop_assert_eq!(x < y, linux_before(a, b));
            prop_assert_eq!(x > y, linux_before(b, a));
        }
    }

    #[test]
    fn ordering_is_antisymmetric((a, b) in seq_pair()) {
        let (x, y) = (SeqNumber(a), SeqNumber(b));
        prop_assert!(!(x < y && y < x));
        prop_assert_eq!(x < y, y > x);
        prop_assert_eq!(x == y, a == b);
        prop_assert_eq!(x.partial_cmp(&y).map(|o| o.reverse()), y.partial_cmp(&x));
    }

    #[test]
    fn distance_and_window((a, b) in seq_pair(), len in 0u32..=(1 << 30)) {
        let (x, y) = (SeqNumber(a), SeqNumber(b));
        prop_assert_eq!(y + x.forward_distance(y), x);
        prop_assert_eq!(x - y, a.wrapping_sub(b) as i32);
        // In the window means start <= x < start + len, read modularly.
        let inside = x.in_window(y, len);
        let by_compare = len > 0 && (x == y || y.before(x)) && x.before(y + len);
        prop_assert_eq!(inside, by_compare);
    }

    /// RFC 9293 3.10.7.4, each case of the table written out independently.
    #[test]
    fn acceptability_table(
        rcv_nxt in any::<u32>(),
        offset in -70_000i64..140_000,
        seg_len in prop_oneof![Just(0u32), Just(1), 1u32..3000],
        rcv_wnd in prop_oneof![Just(0u32), Just(1), 1u32..65_536],
    ) {
        let seq = rcv_nxt.wrapping_add(offset as u32);
        let ok = segment_acceptable(SeqNumber(seq), seg_len, SeqNumber(rcv_nxt), rcv_wnd);
        // Work in plain integers relative to RCV.NXT: no wraparound can occur there.
        let first = offset;
        let last = offset + i64::from(seg_len) - 1;
        let wnd = i64::from(rcv_wnd);
        let in_wnd = |o: i64| 0 <= o && o < wnd;
        let expected = match (seg_len, rcv_wnd) {
            (0, 0) => first == 0,
            (0, _) => in_wnd(first),
            (_, 0) => false,
            _ => in_wnd(first) || in_wnd(last),
        };
        prop_assert_eq!(ok, expected);
    }
}

#[test]
fn acceptability_cases_by_hand() {
    let nxt = SeqNumber(1000);
    // Zero-length segment, zero window: only exactly RCV.NXT.
    assert!(segment_acceptable(nxt, 0, nxt, 0));
    assert!(!segment_acceptable(nxt + 1, 0, nxt, 0));
    // Zero-length segment, open window: [RCV.NXT, RCV.NXT + RCV.WND).
    assert!(segment_acceptable(nxt + 99, 0, nxt, 100));
    assert!(!segment_acceptable(nxt + 100, 0, nxt, 100));
    assert!(!segment_acceptable(nxt - 1, 0, nxt, 100));
    // Data into a zero window: never, not even at RCV.NXT.
    assert!(!segment_acceptable(nxt, 1, nxt, 0));
    // Data overlapping the left edge: its last byte is in the window.
    assert!(segment_acceptable(nxt - 10, 11, nxt, 100));
    assert!(!segment_acceptable(nxt - 10, 10, nxt, 100));
    // Data starting at the last byte of the window.
    assert!(segment_acceptable(nxt + 99, 500, nxt, 100));
    // Across the 2^32 wrap.
    let top = SeqNumber(u32::MAX - 4);
    assert!(segment_acceptable(SeqNumber(3), 10, top, 10));
    assert!(!segment_acceptable(SeqNumber(5), 10, top, 10));
}
