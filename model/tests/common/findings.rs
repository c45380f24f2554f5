//! What the `explorer_findings_*.rs` tests share: a connection brought to a state by the
//! segments a Linux trace shows, and whether the model accepts what a stack sent.

use std::time::Duration;

use tcpcheck_model::conn::{Connection, Seg, State};
use tcpcheck_model::profile::Profile;
use tcpcheck_model::wire::TcpFlags;

pub const SYN: TcpFlags = TcpFlags::SYN;
pub const ACK: TcpFlags = TcpFlags::ACK;
pub const RST: TcpFlags = TcpFlags::RST;
pub const FIN: TcpFlags = TcpFlags::FIN;

pub fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

pub fn seg(flags: TcpFlags, seq: u32, ack: u32, len: u32) -> Seg {
    Seg::new(flags, seq, ack, len)
}

/// SYN-RECEIVED after a passive open: the stack's ISS 1000, the peer's 5000, window 65535.
pub fn syn_received(p: Profile) -> Connection {
    let mut c = Connection::new(p);
    c.open_passive(ms(0)).unwrap();
    c.arrive(ms(0), &seg(SYN, 5000, 0, 0));
    c.emitted(ms(0), &seg(SYN | ACK, 1000, 5001, 0)).unwrap();
    c
}

pub fn established(p: Profile) -> Connection {
    let mut c = syn_received(p);
    c.arrive(ms(0), &seg(ACK, 5001, 1001, 0));
    assert_eq!(c.state(), State::Established);
    c
}

pub fn accepts(c: &Connection, at: Duration, s: Seg) -> bool {
    let mut c = c.clone();
    c.emitted(at, &s).is_ok() && c.check_overdue(at).is_ok()
}

/// An active open that met the peer's SYN (simultaneous open), SYN-ACK sent: the stack's
/// ISS 1000, the peer's 5000.
pub fn simultaneous(p: Profile) -> Connection {
    let mut c = Connection::new(p);
    c.open_active(ms(0)).unwrap();
    c.emitted(ms(0), &seg(SYN, 1000, 0, 0)).unwrap();
    c.arrive(ms(0), &seg(SYN, 5000, 0, 0));
    c.emitted(ms(0), &seg(SYN | ACK, 1000, 5001, 0)).unwrap();
    assert_eq!(c.state(), State::SynReceived);
    c
}

/// TIME-WAIT after an active close: FIN sent and acknowledged, the peer's FIN taken.
pub fn time_wait(p: Profile) -> Connection {
    let mut c = established(p);
    c.close(ms(1)).unwrap();
    c.emitted(ms(1), &seg(FIN | ACK, 1001, 5001, 0)).unwrap();
    c.arrive(ms(2), &seg(FIN | ACK, 5001, 1002, 0));
    c.emitted(ms(2), &seg(ACK, 1002, 5002, 0)).unwrap();
    assert_eq!(c.state(), State::TimeWait);
    c
}

/// Timestamps on both SYNs (the peer's TSval 1, the stack's 700), the ACK not yet in.
pub fn syn_received_with_timestamps() -> Connection {
    let mut c = Connection::new(Profile::linux_defaults());
    c.open_passive(ms(0)).unwrap();
    let mut syn = seg(SYN, 5000, 0, 0);
    syn.options.timestamps = Some((1, 0));
    c.arrive(ms(0), &syn);
    let mut synack = seg(SYN | ACK, 1000, 5001, 0);
    synack.options.timestamps = Some((700, 1));
    c.emitted(ms(0), &synack).unwrap();
    c
}

/// Eight TSvals from `first` on, in empty ACKs just past RCV.NXT: none becomes TS.Recent
/// (it follows only a segment at or before RCV.WUP), so an echo of an older TSval can only
/// be TS.Recent's.
pub fn crowd_out_tsvals(c: &mut Connection, at: Duration, first: u32) {
    let nxt = c.tcb().rcv_nxt.0;
    let una = c.tcb().snd_una.0;
    for v in first..first + 8 {
        let mut s = seg(ACK, nxt + 1, una, 0);
        s.options.timestamps = Some((v, 700));
        c.arrive(at, &s);
    }
}
