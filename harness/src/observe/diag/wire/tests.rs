//! The decoder against kernel messages laid out by hand from the uapi headers.

use std::time::Duration;

use netlink_packet_core::{Emitable, NLM_F_REQUEST};

use super::*;
use crate::observe::diag::{StateSet, TimerKind};

struct RawMsg {
    family: u8,
    state: u8,
    timer: u8,
    retrans: u8,
    sport: u16,
    dport: u16,
    src: [u8; 16],
    dst: [u8; 16],
    ifindex: u32,
    cookie: u64,
    expires: u32,
    rqueue: u32,
    wqueue: u32,
    uid: u32,
    inode: u32,
    attrs: Vec<(u16, Vec<u8>)>,
}

impl RawMsg {
    fn v4(state: TcpState) -> RawMsg {
        let mut src = [0; 16];
        src[..4].copy_from_slice(&[10, 0, 0, 1]);
        let mut dst = [0; 16];
        dst[..4].copy_from_slice(&[10, 0, 0, 2]);
        RawMsg {
            family: AF_INET,
            state: state.as_u8(),
            timer: 0,
            retrans: 0,
            sport: 80,
            dport: 40000,
            src,
            dst,
            ifindex: 0,
            cookie: 0x1122_3344_5566_7788,
            expires: 0,
            rqueue: 0,
            wqueue: 0,
            uid: 0,
            inode: 0,
            attrs: Vec::new(),
        }
    }

    /// `struct inet_diag_msg` laid out by hand from the kernel's uapi header, to check the
    /// decoder against the ABI rather than against the crate that helps implement it.
    fn payload(&self) -> Vec<u8> {
        let mut p = vec![self.family, self.state, self.timer, self.retrans];
        p.extend(self.sport.to_be_bytes());
        p.extend(self.dport.to_be_bytes());
        p.extend(self.src);
        p.extend(self.dst);
        p.extend(self.ifindex.to_ne_bytes());
        p.extend((self.cookie as u32).to_ne_bytes());
        p.extend(((self.cookie >> 32) as u32).to_ne_bytes());
        for v in [self.expires, self.rqueue, self.wqueue, self.uid, self.inode] {
            p.extend(v.to_ne_bytes());
        }
        assert_eq!(p.len(), INET_DIAG_MSG_LEN);
        for (kind, value) in &self.attrs {
            p.extend((4 + value.len() as u16).to_ne_bytes());
            p.extend(kind.to_ne_bytes());
            p.extend(value);
            while p.len() % 4 != 0 {
                p.push(0);
            }
        }
        p
    }
}

fn nlmsg(kind: u16, flags: u16, seq: u32, payload: &[u8]) -> Vec<u8> {
    let mut m = Vec::new();
    m.extend((16 + payload.len() as u32).to_ne_bytes());
    m.extend(kind.to_ne_bytes());
    m.extend(flags.to_ne_bytes());
    m.extend(seq.to_ne_bytes());
    m.extend(0u32.to_ne_bytes());
    m.extend(payload);
    while m.len() % 4 != 0 {
        m.push(0);
    }
    m
}

const MULTI: u16 = netlink_packet_core::NLM_F_MULTIPART;

#[test]
fn observe_parse_syn_recv_request_socket() {
    let mut raw = RawMsg::v4(TcpState::SynRecv);
    raw.timer = 1;
    raw.retrans = 2;
    raw.expires = 2970;
    let mut buf = nlmsg(SOCK_DIAG_BY_FAMILY, MULTI, 7, &raw.payload());
    buf.extend(nlmsg(NLMSG_DONE, MULTI, 7, &0i32.to_ne_bytes()));

    let mut out = Vec::new();
    let mut intr = false;
    assert_eq!(
        parse_datagram(&buf, 7, &mut out, &mut intr).unwrap(),
        DumpProgress::Done
    );
    assert!(!intr);
    let [s] = &out[..] else { panic!("{out:?}") };
    assert_eq!(s.state, TcpState::SynRecv);
    assert_eq!(s.timer_kind(), TimerKind::Retransmit);
    assert_eq!((s.retransmits, s.expires_ms), (2, 2970));
    assert_eq!(s.src, "10.0.0.1:80".parse().unwrap());
    assert_eq!(s.dst, "10.0.0.2:40000".parse().unwrap());
    assert_eq!(s.cookie, 0x1122_3344_5566_7788);
    assert_eq!(s.family, AddressFamily::Inet);
    assert_eq!(s.accept_queue_len(), None);
    assert_eq!(s.tcp_info, None);
}

#[test]
fn observe_parse_agrees_with_crate_encoding() {
    // The same request socket encoded by netlink-packet-sock-diag, to catch a layout
    // mismatch between our reading of the ABI and the crate's.
    use netlink_packet_sock_diag::inet::{InetResponse, Timer};
    let resp = InetResponse {
        header: InetResponseHeader {
            family: AF_INET6,
            state: TcpState::SynRecv.as_u8(),
            timer: Some(Timer::Retransmit(Duration::from_millis(1234), 3)),
            socket_id: SocketId {
                source_port: 443,
                destination_port: 50000,
                source_address: "fe80::1".parse().unwrap(),
                destination_address: "fe80::2".parse().unwrap(),
                interface_id: 5,
                cookie: [1, 0, 0, 0, 2, 0, 0, 0],
            },
            recv_queue: 0,
            send_queue: 0,
            uid: 0,
            inode: 0,
        },
        nlas: Default::default(),
    };
    let mut payload = vec![0; resp.buffer_len()];
    resp.emit(&mut payload);
    let s = DiagSocket::parse(&payload).unwrap();
    assert_eq!(s.state, TcpState::SynRecv);
    assert_eq!((s.timer, s.retransmits, s.expires_ms), (1, 3, 1234));
    assert_eq!(s.src, "[fe80::1%5]:443".parse().unwrap());
    assert_eq!(s.dst, "[fe80::2%5]:50000".parse().unwrap());
    if cfg!(target_endian = "little") {
        assert_eq!(s.cookie, 2 << 32 | 1);
    }
}

#[test]
fn observe_parse_multipart_time_wait_and_info() {
    let mut tw = RawMsg::v4(TcpState::TimeWait);
    tw.timer = 3;
    tw.expires = 59_000;
    let mut est = RawMsg::v4(TcpState::Established);
    est.dport = 40001;
    let mut info = vec![0u8; 232];
    info[0] = TcpState::Established.as_u8();
    info[8..12].copy_from_slice(&204_000u32.to_ne_bytes());
    est.attrs.push((8, vec![0])); // INET_DIAG_SHUTDOWN, ignored
    est.attrs.push((INET_DIAG_INFO, info));

    // Two datagrams, the first carrying two messages and a stale one from another dump.
    let mut first = nlmsg(SOCK_DIAG_BY_FAMILY, MULTI, 3, &tw.payload());
    first.extend(nlmsg(SOCK_DIAG_BY_FAMILY, MULTI, 2, &est.payload()));
    first.extend(nlmsg(SOCK_DIAG_BY_FAMILY, MULTI, 3, &est.payload()));
    let second = nlmsg(NLMSG_DONE, MULTI, 3, &0i32.to_ne_bytes());

    let mut out = Vec::new();
    let mut intr = false;
    assert_eq!(
        parse_datagram(&first, 3, &mut out, &mut intr).unwrap(),
        DumpProgress::More
    );
    assert_eq!(
        parse_datagram(&second, 3, &mut out, &mut intr).unwrap(),
        DumpProgress::Done
    );
    assert_eq!(out.len(), 2);
    assert_eq!(out[0].state, TcpState::TimeWait);
    assert_eq!(out[0].timer_kind(), TimerKind::TimeWait);
    assert_eq!(
        out[0].expires_ms, 59_000,
        "the crate's Timer::TimeWait drops this"
    );
    let info = out[1].tcp_info.as_ref().expect("INET_DIAG_INFO");
    assert_eq!(info.state, TcpState::Established);
    assert_eq!(info.rto_us, 204_000);
    assert_eq!(info.reported_len, 232);

    // NLM_F_DUMP_INTR on any message marks the dump inconsistent.
    let mut out = Vec::new();
    let buf = nlmsg(
        SOCK_DIAG_BY_FAMILY,
        MULTI | NLM_F_DUMP_INTR,
        4,
        &est.payload(),
    );
    assert_eq!(
        parse_datagram(&buf, 4, &mut out, &mut intr).unwrap(),
        DumpProgress::More
    );
    assert!(intr);
}

#[test]
fn observe_parse_errors() {
    // NLMSG_ERROR carries -errno and the offending request's header.
    let mut payload = (-libc::EINVAL).to_ne_bytes().to_vec();
    payload.extend(nlmsg(SOCK_DIAG_BY_FAMILY, NLM_F_REQUEST, 9, &[]));
    let buf = nlmsg(NLMSG_ERROR, 0, 9, &payload);
    let err = parse_datagram(&buf, 9, &mut Vec::new(), &mut false).unwrap_err();
    assert_eq!(err.raw_os_error(), Some(libc::EINVAL));

    // A dump that fails part-way ends with a negative NLMSG_DONE code.
    let buf = nlmsg(NLMSG_DONE, MULTI, 9, &(-libc::ENOBUFS).to_ne_bytes());
    let err = parse_datagram(&buf, 9, &mut Vec::new(), &mut false).unwrap_err();
    assert_eq!(err.raw_os_error(), Some(libc::ENOBUFS));

    // Truncated inet_diag_msg and truncated netlink header.
    let buf = nlmsg(SOCK_DIAG_BY_FAMILY, MULTI, 9, &[AF_INET, 1, 0, 0]);
    let err = parse_datagram(&buf, 9, &mut Vec::new(), &mut false).unwrap_err();
    assert_eq!(err.kind(), io::ErrorKind::InvalidData);
    let err = parse_datagram(&buf[..10], 9, &mut Vec::new(), &mut false).unwrap_err();
    assert_eq!(err.kind(), io::ErrorKind::InvalidData);
}

#[test]
fn observe_state_set() {
    let s = StateSet::only(TcpState::Listen).with(TcpState::SynRecv);
    assert_eq!(s.bits(), 1 << 10 | 1 << 3);
    assert!(s.contains(TcpState::Listen) && !s.contains(TcpState::Established));
    let all = StateSet::all();
    assert!(TcpState::ALL.iter().all(|t| all.contains(*t)));
    assert!(!all.contains(TcpState::Unknown(13)) && !all.contains(TcpState::Unknown(0)));
    assert_eq!(TcpState::ALL.into_iter().collect::<StateSet>(), all);
}
