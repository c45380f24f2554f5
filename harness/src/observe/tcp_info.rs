//! `TCP_INFO` for a socket the harness holds a descriptor to.

use std::fmt;
use std::mem::{size_of, MaybeUninit};
use std::os::fd::{AsRawFd, BorrowedFd};

use nix::errno::Errno;

/// A Linux TCP state as the kernel numbers it (`include/net/tcp_states.h`).
///
/// `Unknown` keeps values this code does not know (e.g. `TCP_BOUND_INACTIVE` = 13, which only
/// appears in diag dumps that ask for it) instead of failing the whole observation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TcpState {
    Established,
    SynSent,
    SynRecv,
    FinWait1,
    FinWait2,
    TimeWait,
    Close,
    CloseWait,
    LastAck,
    Listen,
    Closing,
    /// A request socket as it sits in the established hash. `TCP_INFO` never reports it (one
    /// cannot hold a descriptor to a request) and inet_diag reports request sockets as
    /// [`TcpState::SynRecv`], so seeing this at all means a new kernel changed that.
    NewSynRecv,
    Unknown(u8),
}

impl TcpState {
    /// Every state with a name, in kernel order.
    pub const ALL: [TcpState; 12] = [
        TcpState::Established,
        TcpState::SynSent,
        TcpState::SynRecv,
        TcpState::FinWait1,
        TcpState::FinWait2,
        TcpState::TimeWait,
        TcpState::Close,
        TcpState::CloseWait,
        TcpState::LastAck,
        TcpState::Listen,
        TcpState::Closing,
        TcpState::NewSynRecv,
    ];

    pub fn from_u8(v: u8) -> TcpState {
        match v {
            1 => TcpState::Established,
            2 => TcpState::SynSent,
            3 => TcpState::SynRecv,
            4 => TcpState::FinWait1,
            5 => TcpState::FinWait2,
            6 => TcpState::TimeWait,
            7 => TcpState::Close,
            8 => TcpState::CloseWait,
            9 => TcpState::LastAck,
            10 => TcpState::Listen,
            11 => TcpState::Closing,
            12 => TcpState::NewSynRecv,
            other => TcpState::Unknown(other),
        }
    }

    pub fn as_u8(self) -> u8 {
        match self {
            TcpState::Established => 1,
            TcpState::SynSent => 2,
            TcpState::SynRecv => 3,
            TcpState::FinWait1 => 4,
            TcpState::FinWait2 => 5,
            TcpState::TimeWait => 6,
            TcpState::Close => 7,
            TcpState::CloseWait => 8,
            TcpState::LastAck => 9,
            TcpState::Listen => 10,
            TcpState::Closing => 11,
            TcpState::NewSynRecv => 12,
            TcpState::Unknown(v) => v,
        }
    }

    /// The kernel's `TCP_*` name without the prefix, so logs can be grepped against kernel
    /// source and tracepoints (`ss` spells several of these differently).
    pub fn name(self) -> Option<&'static str> {
        Some(match self {
            TcpState::Established => "ESTABLISHED",
            TcpState::SynSent => "SYN_SENT",
            TcpState::SynRecv => "SYN_RECV",
            TcpState::FinWait1 => "FIN_WAIT1",
            TcpState::FinWait2 => "FIN_WAIT2",
            TcpState::TimeWait => "TIME_WAIT",
            TcpState::Close => "CLOSE",
            TcpState::CloseWait => "CLOSE_WAIT",
            TcpState::LastAck => "LAST_ACK",
            TcpState::Listen => "LISTEN",
            TcpState::Closing => "CLOSING",
            TcpState::NewSynRecv => "NEW_SYN_RECV",
            TcpState::Unknown(_) => return None,
        })
    }
}

impl fmt::Display for TcpState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name() {
            Some(name) => f.write_str(name),
            None => write!(f, "UNKNOWN({})", self.as_u8()),
        }
    }
}

/// Congestion-avoidance state (`enum tcp_ca_state`); tells whether the sender currently believes
/// in loss, which explains retransmissions the model did not predict.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CaState {
    Open,
    Disorder,
    Cwr,
    Recovery,
    Loss,
    Unknown(u8),
}

impl CaState {
    pub fn from_u8(v: u8) -> CaState {
        match v {
            0 => CaState::Open,
            1 => CaState::Disorder,
            2 => CaState::Cwr,
            3 => CaState::Recovery,
            4 => CaState::Loss,
            other => CaState::Unknown(other),
        }
    }
}

/// `tcpi_options`: which options the handshake actually negotiated, as opposed to what either
/// side offered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct TcpiOptions(pub u8);

impl TcpiOptions {
    pub const TIMESTAMPS: u8 = 1;
    pub const SACK: u8 = 2;
    pub const WSCALE: u8 = 4;
    pub const ECN: u8 = 8;
    pub const ECN_SEEN: u8 = 16;
    pub const SYN_DATA: u8 = 32;
    pub const USEC_TS: u8 = 64;
    pub const TFO_CHILD: u8 = 128;

    pub fn timestamps(self) -> bool {
        self.0 & Self::TIMESTAMPS != 0
    }
    pub fn sack(self) -> bool {
        self.0 & Self::SACK != 0
    }
    pub fn wscale(self) -> bool {
        self.0 & Self::WSCALE != 0
    }
    pub fn ecn(self) -> bool {
        self.0 & Self::ECN != 0
    }
    pub fn ecn_seen(self) -> bool {
        self.0 & Self::ECN_SEEN != 0
    }
    pub fn syn_data(self) -> bool {
        self.0 & Self::SYN_DATA != 0
    }
}

/// The kernel's `struct tcp_info` as of Linux 6.18 (including the AccECN tail).
///
/// libc's `tcp_info` follows glibc's header and stops at `tcpi_snd_wnd`, so it lacks
/// `tcpi_rcv_wnd` and the RTO counters; we keep our own copy. The kernel copies
/// `min(optlen, sizeof(kernel struct))` bytes, so older kernels simply leave the tail zeroed.
#[repr(C)]
#[derive(Clone, Copy)]
struct RawTcpInfo {
    state: u8,
    ca_state: u8,
    retransmits: u8,
    probes: u8,
    backoff: u8,
    options: u8,
    /// Bitfields `snd_wscale:4, rcv_wscale:4`.
    wscale: u8,
    /// Bitfields `delivery_rate_app_limited:1, fastopen_client_fail:2`.
    app_limited_tfo_fail: u8,
    rto: u32,
    ato: u32,
    snd_mss: u32,
    rcv_mss: u32,
    unacked: u32,
    sacked: u32,
    lost: u32,
    retrans: u32,
    fackets: u32,
    last_data_sent: u32,
    last_ack_sent: u32,
    last_data_recv: u32,
    last_ack_recv: u32,
    pmtu: u32,
    rcv_ssthresh: u32,
    rtt: u32,
    rttvar: u32,
    snd_ssthresh: u32,
    snd_cwnd: u32,
    advmss: u32,
    reordering: u32,
    rcv_rtt: u32,
    rcv_space: u32,
    total_retrans: u32,
    pacing_rate: u64,
    max_pacing_rate: u64,
    bytes_acked: u64,
    bytes_received: u64,
    segs_out: u32,
    segs_in: u32,
    notsent_bytes: u32,
    min_rtt: u32,
    data_segs_in: u32,
    data_segs_out: u32,
    delivery_rate: u64,
    busy_time: u64,
    rwnd_limited: u64,
    sndbuf_limited: u64,
    delivered: u32,
    delivered_ce: u32,
    bytes_sent: u64,
    bytes_retrans: u64,
    dsack_dups: u32,
    reord_seen: u32,
    rcv_ooopack: u32,
    snd_wnd: u32,
    rcv_wnd: u32,
    rehash: u32,
    total_rto: u16,
    total_rto_recoveries: u16,
    total_rto_time: u32,
    received_ce: u32,
    delivered_e1_bytes: u32,
    delivered_e0_bytes: u32,
    delivered_ce_bytes: u32,
    received_e1_bytes: u32,
    received_e0_bytes: u32,
    received_ce_bytes: u32,
    accecn_fail_mode: u16,
    accecn_opt_seen: u16,
}

const _: () = assert!(size_of::<RawTcpInfo>() == 280);

/// An owned snapshot of `TCP_INFO`. Times are as the kernel reports them: microseconds for the
/// RTO/RTT family (`*_us`), milliseconds since the event for `last_*_ms`.
///
/// Fields the running kernel did not fill (it returned fewer bytes than we asked for) read as
/// zero; `reported_len` says how far the kernel's copy went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TcpInfo {
    pub state: TcpState,
    pub ca_state: CaState,
    /// Consecutive RTO expiries for the current head segment (`icsk_retransmits`).
    pub retransmits: u8,
    /// Unanswered zero-window or keepalive probes.
    pub probes: u8,
    pub backoff: u8,
    pub options: TcpiOptions,
    pub snd_wscale: u8,
    pub rcv_wscale: u8,
    pub rto_us: u32,
    pub ato_us: u32,
    pub snd_mss: u32,
    pub rcv_mss: u32,
    pub unacked: u32,
    pub sacked: u32,
    pub lost: u32,
    pub retrans: u32,
    pub last_data_sent_ms: u32,
    pub last_data_recv_ms: u32,
    pub last_ack_recv_ms: u32,
    pub pmtu: u32,
    pub rcv_ssthresh: u32,
    pub rtt_us: u32,
    pub rttvar_us: u32,
    pub snd_ssthresh: u32,
    pub snd_cwnd: u32,
    pub advmss: u32,
    pub reordering: u32,
    pub rcv_rtt_us: u32,
    pub rcv_space: u32,
    pub total_retrans: u32,
    pub bytes_acked: u64,
    pub bytes_received: u64,
    pub bytes_sent: u64,
    pub bytes_retrans: u64,
    pub segs_out: u32,
    pub segs_in: u32,
    pub data_segs_out: u32,
    pub data_segs_in: u32,
    pub notsent_bytes: u32,
    pub min_rtt_us: u32,
    pub delivered: u32,
    /// Peer's advertised window after scaling (Linux ≥ 5.4).
    pub snd_wnd: u32,
    /// Our advertised window after scaling (Linux ≥ 6.2).
    pub rcv_wnd: u32,
    /// RTO expiries over the connection's life, SYN/SYN-ACK ones included (Linux ≥ 6.7).
    pub total_rto: u16,
    pub total_rto_recoveries: u16,
    pub total_rto_time_ms: u32,
    /// How many bytes of `struct tcp_info` the kernel filled in.
    pub reported_len: usize,
}

impl TcpInfo {
    /// Decodes a (possibly short) kernel `struct tcp_info`, as returned by `TCP_INFO` or carried
    /// in inet_diag's `INET_DIAG_INFO` attribute. Bytes past our struct are ignored.
    pub fn from_bytes(bytes: &[u8]) -> TcpInfo {
        let mut raw = MaybeUninit::<RawTcpInfo>::zeroed();
        let n = bytes.len().min(size_of::<RawTcpInfo>());
        // SAFETY: RawTcpInfo is repr(C) plain integers, so all-zero and any byte pattern are
        // valid; we copy at most its size from a slice of at least `n` bytes.
        let raw = unsafe {
            std::ptr::copy_nonoverlapping(bytes.as_ptr(), raw.as_mut_ptr().cast::<u8>(), n);
            raw.assume_init()
        };
        TcpInfo::from_raw(&raw, n)
    }

    fn from_raw(r: &RawTcpInfo, reported_len: usize) -> TcpInfo {
        // C bitfields are allocated from the low bits on little-endian ABIs and from the high
        // bits on big-endian ones.
        let (snd_wscale, rcv_wscale) = if cfg!(target_endian = "little") {
            (r.wscale & 0x0f, r.wscale >> 4)
        } else {
            (r.wscale >> 4, r.wscale & 0x0f)
        };
        TcpInfo {
            state: TcpState::from_u8(r.state),
            ca_state: CaState::from_u8(r.ca_state),
            retransmits: r.retransmits,
            probes: r.probes,
            backoff: r.backoff,
            options: TcpiOptions(r.options),
            snd_wscale,
            rcv_wscale,
            rto_us: r.rto,
            ato_us: r.ato,
            snd_mss: r.snd_mss,
            rcv_mss: r.rcv_mss,
            unacked: r.unacked,
            sacked: r.sacked,
            lost: r.lost,
            retrans: r.retrans,
            last_data_sent_ms: r.last_data_sent,
            last_data_recv_ms: r.last_data_recv,
            last_ack_recv_ms: r.last_ack_recv,
            pmtu: r.pmtu,
            rcv_ssthresh: r.rcv_ssthresh,
            rtt_us: r.rtt,
            rttvar_us: r.rttvar,
            snd_ssthresh: r.snd_ssthresh,
            snd_cwnd: r.snd_cwnd,
            advmss: r.advmss,
            reordering: r.reordering,
            rcv_rtt_us: r.rcv_rtt,
            rcv_space: r.rcv_space,
            total_retrans: r.total_retrans,
            bytes_acked: r.bytes_acked,
            bytes_received: r.bytes_received,
            bytes_sent: r.bytes_sent,
            bytes_retrans: r.bytes_retrans,
            segs_out: r.segs_out,
            segs_in: r.segs_in,
            data_segs_out: r.data_segs_out,
            data_segs_in: r.data_segs_in,
            notsent_bytes: r.notsent_bytes,
            min_rtt_us: r.min_rtt,
            delivered: r.delivered,
            snd_wnd: r.snd_wnd,
            rcv_wnd: r.rcv_wnd,
            total_rto: r.total_rto,
            total_rto_recoveries: r.total_rto_recoveries,
            total_rto_time_ms: r.total_rto_time,
            reported_len,
        }
    }
}

/// Every field of `TCP_INFO` on `fd` under the name packetdrill's code blocks give it
/// (its code.c `write_tcp_info()`), for scripts' Python: all of them, not only the ones
/// [`TcpInfo`] keeps.
pub fn python_vars(fd: BorrowedFd<'_>) -> nix::Result<Vec<(&'static str, u64)>> {
    let (r, _) = read_raw(fd)?;
    let (snd_wscale, rcv_wscale) = if cfg!(target_endian = "little") {
        (r.wscale & 0x0f, r.wscale >> 4)
    } else {
        (r.wscale >> 4, r.wscale & 0x0f)
    };
    let app_limited = if cfg!(target_endian = "little") {
        r.app_limited_tfo_fail & 1
    } else {
        r.app_limited_tfo_fail >> 7
    };
    let v = |x: u32| u64::from(x);
    Ok(vec![
        ("tcpi_state", u64::from(r.state)),
        ("tcpi_ca_state", u64::from(r.ca_state)),
        ("tcpi_retransmits", u64::from(r.retransmits)),
        ("tcpi_probes", u64::from(r.probes)),
        ("tcpi_backoff", u64::from(r.backoff)),
        ("tcpi_options", u64::from(r.options)),
        ("tcpi_snd_wscale", u64::from(snd_wscale)),
        ("tcpi_rcv_wscale", u64::from(rcv_wscale)),
        ("tcpi_delivery_rate_app_limited", u64::from(app_limited)),
        ("tcpi_rto", v(r.rto)),
        ("tcpi_ato", v(r.ato)),
        ("tcpi_snd_mss", v(r.snd_mss)),
        ("tcpi_rcv_mss", v(r.rcv_mss)),
        ("tcpi_unacked", v(r.unacked)),
        ("tcpi_sacked", v(r.sacked)),
        ("tcpi_lost", v(r.lost)),
        ("tcpi_retrans", v(r.retrans)),
        ("tcpi_fackets", v(r.fackets)),
        ("tcpi_last_data_sent", v(r.last_data_sent)),
        ("tcpi_last_ack_sent", v(r.last_ack_sent)),
        ("tcpi_last_data_recv", v(r.last_data_recv)),
        ("tcpi_last_ack_recv", v(r.last_ack_recv)),
        ("tcpi_pmtu", v(r.pmtu)),
        ("tcpi_rcv_ssthresh", v(r.rcv_ssthresh)),
        ("tcpi_rtt", v(r.rtt)),
        ("tcpi_rttvar", v(r.rttvar)),
        ("tcpi_snd_ssthresh", v(r.snd_ssthresh)),
        ("tcpi_snd_cwnd", v(r.snd_cwnd)),
        ("tcpi_advmss", v(r.advmss)),
        ("tcpi_reordering", v(r.reordering)),
        ("tcpi_total_retrans", v(r.total_retrans)),
        ("tcpi_pacing_rate", r.pacing_rate),
        ("tcpi_max_pacing_rate", r.max_pacing_rate),
        ("tcpi_rcv_rtt", v(r.rcv_rtt)),
        ("tcpi_rcv_space", v(r.rcv_space)),
        ("tcpi_bytes_acked", r.bytes_acked),
        ("tcpi_bytes_received", r.bytes_received),
        ("tcpi_segs_out", v(r.segs_out)),
        ("tcpi_segs_in", v(r.segs_in)),
        ("tcpi_notsent_bytes", v(r.notsent_bytes)),
        ("tcpi_min_rtt", v(r.min_rtt)),
        ("tcpi_data_segs_in", v(r.data_segs_in)),
        ("tcpi_data_segs_out", v(r.data_segs_out)),
        ("tcpi_delivery_rate", r.delivery_rate),
        ("tcpi_busy_time", r.busy_time),
        ("tcpi_rwnd_limited", r.rwnd_limited),
        ("tcpi_sndbuf_limited", r.sndbuf_limited),
        ("tcpi_delivered", v(r.delivered)),
        ("tcpi_delivered_ce", v(r.delivered_ce)),
        ("tcpi_bytes_sent", r.bytes_sent),
        ("tcpi_bytes_retrans", r.bytes_retrans),
        ("tcpi_dsack_dups", v(r.dsack_dups)),
        ("tcpi_reord_seen", v(r.reord_seen)),
        ("tcpi_rcv_ooopack", v(r.rcv_ooopack)),
        ("tcpi_snd_wnd", v(r.snd_wnd)),
        ("tcpi_rcv_wnd", v(r.rcv_wnd)),
        ("tcpi_rehash", v(r.rehash)),
        ("tcpi_total_rto", u64::from(r.total_rto)),
        (
            "tcpi_total_rto_recoveries",
            u64::from(r.total_rto_recoveries),
        ),
        ("tcpi_total_rto_time", v(r.total_rto_time)),
        ("tcpi_accecn_opt_seen", u64::from(r.accecn_opt_seen)),
        ("tcpi_accecn_fail_mode", u64::from(r.accecn_fail_mode)),
        ("tcpi_received_ce", v(r.received_ce)),
        ("tcpi_delivered_e1_bytes", v(r.delivered_e1_bytes)),
        ("tcpi_delivered_e0_bytes", v(r.delivered_e0_bytes)),
        ("tcpi_delivered_ce_bytes", v(r.delivered_ce_bytes)),
        ("tcpi_received_e1_bytes", v(r.received_e1_bytes)),
        ("tcpi_received_e0_bytes", v(r.received_e0_bytes)),
        ("tcpi_received_ce_bytes", v(r.received_ce_bytes)),
    ])
}

/// The kernel's `struct tcp_info` for `fd`, and how many of its bytes the kernel filled (an
/// older kernel fills fewer; the rest stays zero).
fn read_raw(fd: BorrowedFd<'_>) -> nix::Result<(RawTcpInfo, usize)> {
    let mut raw = MaybeUninit::<RawTcpInfo>::zeroed();
    let mut len = size_of::<RawTcpInfo>() as libc::socklen_t;
    // SAFETY: the kernel writes at most `len` bytes into `raw`, which is that large, and
    // updates `len` to the number written.
    let rc = unsafe {
        libc::getsockopt(
            fd.as_raw_fd(),
            libc::IPPROTO_TCP,
            libc::TCP_INFO,
            raw.as_mut_ptr().cast(),
            &mut len,
        )
    };
    Errno::result(rc)?;
    // SAFETY: zero-initialised plain-old-data, partly overwritten by the kernel.
    let raw = unsafe { raw.assume_init() };
    Ok((raw, (len as usize).min(size_of::<RawTcpInfo>())))
}

/// Reads `TCP_INFO` from a TCP socket.
///
/// Works in every state the descriptor can be in, including `LISTEN` and `CLOSE` (after the
/// connection moved to a `TIME_WAIT` mini socket the descriptor itself reads `CLOSE`; use
/// [`crate::observe::Diag`] to see the `TIME_WAIT` side).
pub fn tcp_info(fd: BorrowedFd<'_>) -> nix::Result<TcpInfo> {
    let (raw, len) = read_raw(fd)?;
    if len < std::mem::offset_of!(RawTcpInfo, unacked) {
        // Not even the fixed head: whatever this is, it is not a TCP socket's tcp_info.
        return Err(Errno::EPROTO);
    }
    Ok(TcpInfo::from_raw(&raw, len))
}

#[cfg(test)]
mod tests {
    use std::io::{Read, Write};
    use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
    use std::os::fd::AsFd;
    use std::time::Duration;

    use super::*;
    use crate::observe::testns::{wait_for, NetnsGuard};

    const WAIT: Duration = Duration::from_secs(5);

    fn info(s: &impl AsFd) -> TcpInfo {
        tcp_info(s.as_fd()).expect("TCP_INFO")
    }

    fn wait_state(what: &str, s: &impl AsFd, want: TcpState) -> TcpInfo {
        wait_for(&format!("{what} to reach {want}"), WAIT, || {
            let i = info(s);
            (i.state == want).then_some(i)
        })
    }

    #[test]
    fn observe_state_names_round_trip() {
        for (i, s) in TcpState::ALL.iter().enumerate() {
            assert_eq!(TcpState::from_u8(i as u8 + 1), *s);
            assert_eq!(s.as_u8(), i as u8 + 1);
        }
        assert_eq!(TcpState::SynSent.to_string(), "SYN_SENT");
        assert_eq!(TcpState::FinWait1.to_string(), "FIN_WAIT1");
        assert_eq!(TcpState::NewSynRecv.to_string(), "NEW_SYN_RECV");
        assert_eq!(TcpState::from_u8(0), TcpState::Unknown(0));
        assert_eq!(TcpState::Unknown(13).to_string(), "UNKNOWN(13)");
    }

    #[test]
    fn observe_short_tcp_info_leaves_tail_zero() {
        let mut bytes = vec![0u8; 104];
        bytes[0] = 10; // LISTEN
        bytes[6] = 0x72; // snd_wscale 2, rcv_wscale 7 (little-endian bit order)
        bytes[8..12].copy_from_slice(&200_000u32.to_ne_bytes());
        let i = TcpInfo::from_bytes(&bytes);
        assert_eq!(i.state, TcpState::Listen);
        assert_eq!(i.rto_us, 200_000);
        if cfg!(target_endian = "little") {
            assert_eq!((i.snd_wscale, i.rcv_wscale), (2, 7));
        }
        assert_eq!(i.reported_len, 104);
        assert_eq!(i.bytes_acked, 0);
        assert_eq!(i.rcv_wnd, 0);
        // Longer than our struct (a future kernel): the excess is ignored.
        let i = TcpInfo::from_bytes(&vec![0u8; 400]);
        assert_eq!(i.reported_len, size_of::<RawTcpInfo>());
    }

    fn lifecycle(addr: SocketAddr) {
        let listener = TcpListener::bind(addr).unwrap();
        let addr = listener.local_addr().unwrap();
        assert_eq!(info(&listener).state, TcpState::Listen);

        let mut client = TcpStream::connect(addr).unwrap();
        let (mut server, _) = listener.accept().unwrap();
        let c = info(&client);
        let s = info(&server);
        for (who, i) in [("client", &c), ("server", &s)] {
            assert_eq!(i.state, TcpState::Established, "{who}");
            assert_ne!(i.rto_us, 0, "{who} rto");
            assert_ne!(i.snd_mss, 0, "{who} snd_mss");
            // A fresh namespace has the sysctl defaults: all three options on.
            assert!(i.options.timestamps(), "{who} timestamps: {:?}", i.options);
            assert!(i.options.sack(), "{who} sack: {:?}", i.options);
            assert!(i.options.wscale(), "{who} wscale: {:?}", i.options);
            assert!(!i.options.ecn(), "{who} ecn: {:?}", i.options);
            assert_eq!(i.ca_state, CaState::Open, "{who}");
            assert_eq!(i.retransmits, 0, "{who}");
        }
        // The kernel we run on fills at least up to tcpi_snd_wnd (Linux ≥ 5.4).
        assert!(c.reported_len >= std::mem::offset_of!(RawTcpInfo, rcv_wnd));
        assert_ne!(c.snd_wnd, 0);

        client.write_all(&[7u8; 1000]).unwrap();
        let mut buf = [0u8; 1000];
        server.read_exact(&mut buf).unwrap();
        let c = wait_for("client's data acked", WAIT, || {
            let i = info(&client);
            (i.unacked == 0).then_some(i)
        });
        assert_eq!(c.bytes_acked, 1001, "1000 data bytes + the SYN");
        assert_eq!(c.bytes_sent, 1000);
        assert_eq!(info(&server).bytes_received, 1000);

        // Half close from the client: FIN_WAIT1 → FIN_WAIT2 once the server ACKs the FIN.
        client.shutdown(Shutdown::Write).unwrap();
        wait_state("client", &client, TcpState::FinWait2);
        wait_state("server", &server, TcpState::CloseWait);
        assert_eq!(server.read(&mut buf).unwrap(), 0, "server sees EOF");

        // The server closes its side: LAST_ACK until the client ACKs, then CLOSE. The client
        // goes to TIME_WAIT, but that state lives in a mini socket; the descriptor reads CLOSE.
        server.shutdown(Shutdown::Write).unwrap();
        wait_state("server", &server, TcpState::Close);
        wait_state("client", &client, TcpState::Close);
        assert_eq!(client.read(&mut buf).unwrap(), 0, "client sees EOF");
    }

    #[test]
    fn observe_tcp_info_lifecycle_v4() {
        let _ns = NetnsGuard::enter();
        lifecycle("127.0.0.1:0".parse().unwrap());
    }

    #[test]
    fn observe_tcp_info_lifecycle_v6() {
        let _ns = NetnsGuard::enter();
        lifecycle("[::1]:0".parse().unwrap());
    }

    /// SYN_SENT needs a peer that stays silent, which loopback normally is not; a listener
    /// with `listen(fd, 0)` is: once one connection waits in its accept queue (1 > backlog 0),
    /// further SYNs are dropped, leaving the next client in SYN_SENT with its SYN timer running.
    #[test]
    fn observe_tcp_info_syn_sent_against_full_accept_queue() {
        use nix::sys::socket::{
            bind, connect, listen, socket, AddressFamily, Backlog, SockFlag, SockType, SockaddrIn,
        };
        let _ns = NetnsGuard::enter();
        let lfd = socket(
            AddressFamily::Inet,
            SockType::Stream,
            SockFlag::SOCK_CLOEXEC,
            None,
        )
        .unwrap();
        bind(lfd.as_raw_fd(), &SockaddrIn::new(127, 0, 0, 1, 0)).unwrap();
        listen(&lfd, Backlog::new(0).unwrap()).unwrap();
        let laddr: SockaddrIn = nix::sys::socket::getsockname(lfd.as_raw_fd()).unwrap();

        let first = TcpStream::connect(SocketAddr::from(std::net::SocketAddrV4::from(laddr)));
        let _first = first.unwrap();
        let second = socket(
            AddressFamily::Inet,
            SockType::Stream,
            SockFlag::SOCK_CLOEXEC | SockFlag::SOCK_NONBLOCK,
            None,
        )
        .unwrap();
        // The accept queue (1 > backlog 0) is full only once the first child is queued.
        let mut diag = crate::observe::Diag::new().unwrap();
        wait_for("first connection queued", WAIT, || {
            diag.listeners(laddr.port())
                .unwrap()
                .first()
                .and_then(|l| (l.accept_queue_len() == Some(1)).then_some(()))
        });
        assert_eq!(connect(second.as_raw_fd(), &laddr), Err(Errno::EINPROGRESS));
        let i = info(&second);
        assert_eq!(i.state, TcpState::SynSent);
        assert_ne!(i.rto_us, 0);
        assert_eq!(i.options, TcpiOptions(0), "nothing negotiated yet");
    }
}
