//! Behaviour switches: every place where the model's rules depend on whose rules it
//! applies is one named field here, so that a new profile is made by filling in the
//! switches, not by auditing the state machine.
//!
//! Two kinds of switch exist. A *deviation* departs from RFC 9293 as the `rfc9293` profile
//! reads it; each names its entry in the harness's known-deviation registry
//! (`harness/src/explore/deviations/`), and a test there checks the two match one to one.
//! A *refinement* narrows a choice the RFCs leave open (a MAY, a SHOULD, a timer the stack
//! times), so no registry entry names it. [`SWITCHES`] documents each: the RFC clause, the
//! Linux source and the deviation's names.

/// How a passive open's SYN-RECEIVED judges segments.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum RequestSocket {
    /// RFC 9293 3.10.7.4, in its order, on the connection itself.
    Rfc,
    /// Linux: a request socket (tcp_check_req()) answers in its own order until an
    /// acceptable ACK creates a full child socket, which judges the segment again.
    Linux,
}

/// Who answers segments in TIME-WAIT.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum TimeWait {
    /// RFC 9293 3.10.7.4 as in every synchronized state.
    Rfc,
    /// Linux: a timewait mini-socket (tcp_timewait_state_process()).
    LinuxMiniSocket,
}

/// The first check of RFC 9293 3.10.7.4: which segments are in the receive window.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SequenceCheck {
    /// RFC 9293 3.3.2's four cases, against RCV.NXT and RCV.WND.
    Rfc,
    /// Linux tcp_sequence(): the window counted from RCV.WUP, an empty segment at the right
    /// edge in, text past the edge out while unread data is queued.
    LinuxTcpSequence,
}

/// close(2) with `SO_LINGER {1, 0}`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum LingerZeroClose {
    /// RFC 9293 3.10.5's ABORT.
    Abort,
    /// Linux tcp_close(): TIME-WAIT is left to the timewait socket, unread data resets in
    /// every state, tcp_disconnect() resets a FIN or data unsent in CLOSING and LAST-ACK.
    LinuxTcpClose,
}

/// Where TS.Recent follows the peer's TSval.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum TsRecentUpdate {
    /// RFC 7323 5.3: R3, after the sequence check, for a segment covering RCV.NXT.
    Rfc7323,
    /// Linux tcp_ack() (tcp_replace_ts_recent()): after the ACK check, for a segment
    /// covering RCV.WUP whose ACK is not behind SND.UNA.
    LinuxTcpAck,
}

/// Which segment may update the send window.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum WindowUpdate {
    /// RFC 9293 3.10.7.4: SND.WL1 < SEG.SEQ, or SND.WL1 = SEG.SEQ and SND.WL2 =< SEG.ACK.
    Rfc,
    /// Linux tcp_may_update_window(): also any segment acknowledging new data; at SND.WL1
    /// only a window that grows or closes.
    LinuxMayUpdateWindow,
}

/// When retransmission gives up (RFC 9293 3.8.3 R2).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum GiveUp {
    /// After `retries2` retransmissions.
    Retransmissions,
    /// Linux retransmits_timed_out(): `retries2` as a time budget from the first
    /// retransmission.
    LinuxTimeBudget,
}

/// The switches, one field each (see [`SWITCHES`] for each one's sources).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Behaviour {
    // Deviations.
    pub request_socket: RequestSocket,
    pub resend_synack_on_dup_syn: bool,
    pub request_child_challenges_trimmed_syn: bool,
    pub time_wait: TimeWait,
    pub segment_without_ack_dropped: bool,
    pub oow_ack_rate_limit: bool,
    pub sequence_check: SequenceCheck,
    pub listen_syn_fin_dropped: bool,
    pub fin_after_fin_ignored: bool,
    pub data_after_fin_resets: bool,
    pub reset_at_rcv_nxt_minus_one_after_fin: bool,
    pub simultaneous_open_syn_not_trimmed: bool,
    pub simultaneous_open_scales_unnegotiated_window: bool,
    pub old_ack_capped_by_bytes_acked: bool,
    pub simultaneous_open_synack_tsopt: bool,
    pub rst_at_sack_edge_resets: bool,
    pub reset_carries_sack_blocks: bool,
    pub linger_zero_close: LingerZeroClose,
    pub ack_seq_at_window_edge: bool,
    pub simultaneous_open_ack_of_iss_establishes: bool,
    pub synrecv_shutdown_holds_fin: bool,
    pub window_update: WindowUpdate,
    pub header_prediction: bool,
    pub request_ack_window_rounded_down: bool,
    pub second_segment_ack_delayed: bool,
    /// ICMP errors as Linux takes them (tcp_v4_err(), tcp_v6_err()): any error aborts a
    /// connection in SYN-SENT, none aborts a synchronized one.
    pub icmp_errors_linux: bool,
    /// A SYN from the subnet's broadcast address is taken like any other: Linux checks a
    /// source against the broadcast routes only under reverse-path filtering
    /// (fib_validate_source()), off in a fresh namespace.
    pub broadcast_source_accepted: bool,
    /// A non-blocking SEND in SYN-SENT answers EAGAIN instead of queueing: Linux waits for
    /// the connection before it takes data (sk_stream_wait_connect()).
    pub syn_sent_send_waits: bool,
    // Refinements.
    pub ack_out_of_order_at_once: bool,
    pub closing_fin_acked_at_once: bool,
    pub sack_on_every_ack: bool,
    pub out_of_order_whole_segments: bool,
    pub syn_sent_rearm_after_bad_ack: bool,
    pub ts_recent_update: TsRecentUpdate,
    pub give_up: GiveUp,
    pub keepalive_garbage_octet: bool,
    /// Active Fast Open as Linux does it: SYN data sized by the cached MSS less 40 bytes,
    /// no option on a SYN retransmission (net/ipv4/tcp_output.c tcp_send_syn_data()).
    pub fast_open_client_linux: bool,
}

impl Behaviour {
    /// RFC 9293 as written.
    pub const RFC9293: Behaviour = Behaviour {
        request_socket: RequestSocket::Rfc,
        resend_synack_on_dup_syn: false,
        request_child_challenges_trimmed_syn: false,
        time_wait: TimeWait::Rfc,
        segment_without_ack_dropped: false,
        oow_ack_rate_limit: false,
        sequence_check: SequenceCheck::Rfc,
        listen_syn_fin_dropped: false,
        fin_after_fin_ignored: false,
        data_after_fin_resets: false,
        reset_at_rcv_nxt_minus_one_after_fin: false,
        simultaneous_open_syn_not_trimmed: false,
        simultaneous_open_scales_unnegotiated_window: false,
        old_ack_capped_by_bytes_acked: false,
        simultaneous_open_synack_tsopt: false,
        rst_at_sack_edge_resets: false,
        reset_carries_sack_blocks: false,
        linger_zero_close: LingerZeroClose::Abort,
        ack_seq_at_window_edge: false,
        simultaneous_open_ack_of_iss_establishes: false,
        synrecv_shutdown_holds_fin: false,
        ack_out_of_order_at_once: false,
        closing_fin_acked_at_once: false,
        sack_on_every_ack: false,
        out_of_order_whole_segments: false,
        syn_sent_rearm_after_bad_ack: false,
        ts_recent_update: TsRecentUpdate::Rfc7323,
        window_update: WindowUpdate::Rfc,
        header_prediction: false,
        request_ack_window_rounded_down: false,
        second_segment_ack_delayed: false,
        icmp_errors_linux: false,
        broadcast_source_accepted: false,
        syn_sent_send_waits: false,
        give_up: GiveUp::Retransmissions,
        keepalive_garbage_octet: true,
        fast_open_client_linux: false,
    };

    /// Linux 6.x (design §4).
    pub const LINUX: Behaviour = Behaviour {
        request_socket: RequestSocket::Linux,
        resend_synack_on_dup_syn: true,
        request_child_challenges_trimmed_syn: true,
        time_wait: TimeWait::LinuxMiniSocket,
        segment_without_ack_dropped: true,
        oow_ack_rate_limit: true,
        sequence_check: SequenceCheck::LinuxTcpSequence,
        listen_syn_fin_dropped: true,
        fin_after_fin_ignored: true,
        data_after_fin_resets: true,
        reset_at_rcv_nxt_minus_one_after_fin: true,
        simultaneous_open_syn_not_trimmed: true,
        simultaneous_open_scales_unnegotiated_window: true,
        old_ack_capped_by_bytes_acked: true,
        simultaneous_open_synack_tsopt: true,
        rst_at_sack_edge_resets: true,
        reset_carries_sack_blocks: true,
        linger_zero_close: LingerZeroClose::LinuxTcpClose,
        ack_seq_at_window_edge: true,
        simultaneous_open_ack_of_iss_establishes: true,
        synrecv_shutdown_holds_fin: true,
        ack_out_of_order_at_once: true,
        closing_fin_acked_at_once: true,
        sack_on_every_ack: true,
        out_of_order_whole_segments: true,
        syn_sent_rearm_after_bad_ack: true,
        ts_recent_update: TsRecentUpdate::LinuxTcpAck,
        window_update: WindowUpdate::LinuxMayUpdateWindow,
        header_prediction: true,
        request_ack_window_rounded_down: true,
        second_segment_ack_delayed: true,
        icmp_errors_linux: true,
        broadcast_source_accepted: true,
        syn_sent_send_waits: true,
        give_up: GiveUp::LinuxTimeBudget,
        keepalive_garbage_octet: false,
        fast_open_client_linux: true,
    };
}

/// One switch: its field, the RFC clause it departs from or narrows, where Linux does it,
/// and the names of the known deviations it stands for (none for a refinement).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Switch {
    pub field: &'static str,
    pub rfc: &'static str,
    pub linux: &'static str,
    pub deviations: &'static [&'static str],
}

/// Every switch of [`Behaviour`], and `Profile::tail_loss_probe` (a sysctl).
pub const SWITCHES: &[Switch] = &[
    Switch {
        field: "request_socket",
        rfc: "RFC 9293 3.10.7.4: SYN-RECEIVED checks sequence, RST, SYN, then ACK",
        linux: "net/ipv4/tcp_minisocks.c: tcp_check_req()",
        deviations: &[
            "synrecv-bad-ack-resets-first",
            "request-refuses-unsent-tsecr",
        ],
    },
    Switch {
        field: "resend_synack_on_dup_syn",
        rfc: "RFC 9293 3.10.7.4: a SYN before RCV.NXT is an unacceptable segment",
        linux: "net/ipv4/tcp_minisocks.c: tcp_check_req(), \"pure retransmitted SYN\"",
        deviations: &["synrecv-dup-syn-resends-synack"],
    },
    Switch {
        field: "request_child_challenges_trimmed_syn",
        rfc: "RFC 9293 3.10.7.4, first: the SYN before the window is trimmed",
        linux:
            "net/ipv4/tcp_minisocks.c: tcp_child_process(); tcp_input.c: tcp_validate_incoming()",
        deviations: &["request-child-challenges-trimmed-syn"],
    },
    Switch {
        field: "time_wait",
        rfc: "RFC 9293 3.10.7.4 in TIME-WAIT; RFC 5961 3.2",
        linux: "net/ipv4/tcp_minisocks.c: tcp_timewait_state_process()",
        deviations: &["time-wait-minisocket"],
    },
    Switch {
        field: "segment_without_ack_dropped",
        rfc: "RFC 9293 3.10.7.4, first: an unacceptable segment draws an ACK",
        linux: "net/ipv4/tcp_input.c: tcp_rcv_established(), tcp_rcv_state_process()",
        deviations: &["segment-without-ack-dropped"],
    },
    Switch {
        field: "oow_ack_rate_limit",
        rfc: "RFC 9293 3.10.7.4, first; RFC 5961 7 limits challenge ACKs only",
        linux: "net/ipv4/tcp_input.c: tcp_oow_rate_limited()",
        deviations: &["oow-ack-rate-limit"],
    },
    Switch {
        field: "sequence_check",
        rfc: "RFC 9293 3.3.2: the four-case acceptability test",
        linux: "net/ipv4/tcp_input.c: tcp_sequence(); include/net/tcp.h: tcp_receive_window()",
        deviations: &[
            "rst-at-right-window-edge",
            "window-counted-from-rcv-wup",
            "past-window-end-with-unread-data-dropped",
        ],
    },
    Switch {
        field: "listen_syn_fin_dropped",
        rfc: "RFC 9293 3.10.7.2: a SYN in LISTEN is answered",
        linux: "net/ipv4/tcp_input.c: tcp_rcv_state_process(), TCP_LISTEN",
        deviations: &["listen-syn-fin-dropped"],
    },
    Switch {
        field: "fin_after_fin_ignored",
        rfc: "RFC 9293 3.10.7.4, eighth: a FIN advances RCV.NXT and is acknowledged",
        linux: "net/ipv4/tcp_input.c: tcp_rcv_state_process(), step 7",
        deviations: &["fin-after-fin-ignored"],
    },
    Switch {
        field: "data_after_fin_resets",
        rfc: "RFC 9293 3.10.7.4, seventh: text after the peer's FIN is ignored",
        linux: "net/ipv4/tcp_input.c: tcp_rcv_state_process() (LINUX_MIB_TCPABORTONDATA)",
        deviations: &["data-after-fin-resets"],
    },
    Switch {
        field: "reset_at_rcv_nxt_minus_one_after_fin",
        rfc: "RFC 5961 3.2: a RST outside the window is dropped",
        linux: "net/ipv4/tcp_input.c: tcp_reset_check()",
        deviations: &["reset-at-rcv-nxt-minus-one-after-fin"],
    },
    Switch {
        field: "simultaneous_open_syn_not_trimmed",
        rfc: "RFC 9293 3.10.7.4, first: the SYN before the window is trimmed",
        linux: "net/ipv4/tcp_input.c: tcp_validate_incoming(), step 4",
        deviations: &["simultaneous-open-syn-not-trimmed"],
    },
    Switch {
        field: "simultaneous_open_scales_unnegotiated_window",
        rfc: "RFC 7323 2.3: no scaling unless both SYNs carried the option",
        linux: "net/ipv4/tcp_input.c: tcp_rcv_synsent_state_process()",
        deviations: &["simultaneous-open-scales-unnegotiated-window"],
    },
    Switch {
        field: "old_ack_capped_by_bytes_acked",
        rfc: "RFC 5961 5.2: acceptable from SND.UNA - MAX.SND.WND",
        linux: "net/ipv4/tcp_input.c: tcp_ack() (\"do not accept ACK for bytes we never sent\")",
        deviations: &["old-ack-capped-by-bytes-acked"],
    },
    Switch {
        field: "simultaneous_open_synack_tsopt",
        rfc: "RFC 7323 3.2: no TSopt in a SYN-ACK to a SYN without one",
        linux: "net/ipv4/tcp_output.c: tcp_send_synack()",
        deviations: &["simultaneous-open-synack-tsopt"],
    },
    Switch {
        field: "rst_at_sack_edge_resets",
        rfc: "RFC 5961 3.2: a RST not at RCV.NXT draws a challenge ACK",
        linux: "net/ipv4/tcp_input.c: tcp_validate_incoming(), \"the right-most SACK block\"",
        deviations: &["rst-at-sack-edge-resets"],
    },
    Switch {
        field: "reset_carries_sack_blocks",
        rfc: "RFC 9293 3.10.5 flushes the queues; RFC 2018 4: blocks report data held",
        linux: "net/ipv4/tcp_output.c: tcp_send_active_reset(), tcp_established_options()",
        deviations: &["reset-carries-sack-blocks"],
    },
    Switch {
        field: "linger_zero_close",
        rfc: "RFC 9293 3.10.5: ABORT",
        linux: "net/ipv4/tcp.c: __tcp_close(), tcp_disconnect()",
        deviations: &[
            "linger-zero-close-keeps-time-wait",
            "linger-zero-close-unsent-fin-resets",
        ],
    },
    Switch {
        field: "ack_seq_at_window_edge",
        rfc: "RFC 9293 3.10.7.4: <SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK>",
        linux: "net/ipv4/tcp_output.c: tcp_acceptable_seq()",
        deviations: &["ack-seq-at-window-edge"],
    },
    Switch {
        field: "simultaneous_open_ack_of_iss_establishes",
        rfc: "RFC 9293 3.10.7.4, fifth: SND.UNA < SEG.ACK =< SND.NXT establishes",
        linux: "net/ipv4/tcp_input.c: tcp_ack(), tcp_rcv_state_process() TCP_SYN_RECV",
        deviations: &["simultaneous-open-ack-of-iss-establishes"],
    },
    Switch {
        field: "synrecv_shutdown_holds_fin",
        rfc: "RFC 9293 3.10.4: CLOSE in SYN-RECEIVED sends a FIN",
        linux: "net/ipv4/tcp.c: tcp_shutdown(); net/ipv4/af_inet.c: inet_shutdown()",
        deviations: &["synrecv-shutdown-holds-fin"],
    },
    Switch {
        field: "tail_loss_probe",
        rfc: "RFC 9293 3.8.1: MUST-18, RFC 6298 5: the RTO retransmits SND.UNA's segment",
        linux: "net/ipv4/tcp_output.c: tcp_schedule_loss_probe(); sysctl tcp_early_retrans",
        deviations: &["tail-loss-probe"],
    },
    Switch {
        field: "ack_out_of_order_at_once",
        rfc: "RFC 9293 3.10.7.4: MAY-13; RFC 5681 4.2 (SHOULD)",
        linux: "net/ipv4/tcp_input.c: tcp_data_queue_ofo()",
        deviations: &[],
    },
    Switch {
        field: "closing_fin_acked_at_once",
        rfc: "RFC 9293 3.8.6.3: SHLD-18, MUST-40, any ACK may be delayed (under 0.5 s), the \
              ACK of a FIN too",
        linux: "net/ipv4/tcp_input.c: tcp_fin(), tcp_send_ack() in FIN-WAIT-1 and FIN-WAIT-2; \
                tcp_minisocks.c: TCP_TW_ACK in TIME-WAIT",
        deviations: &[],
    },
    Switch {
        field: "sack_on_every_ack",
        rfc: "RFC 2018 4 (SHOULD)",
        linux: "net/ipv4/tcp_output.c: tcp_build_sack_options()",
        deviations: &[],
    },
    Switch {
        field: "out_of_order_whole_segments",
        rfc: "RFC 9293 3.10.7.4: SHLD-31",
        linux: "net/ipv4/tcp_input.c: tcp_data_queue_ofo()",
        deviations: &[],
    },
    Switch {
        field: "syn_sent_rearm_after_bad_ack",
        rfc: "RFC 9293 3.10.7.3; RFC 6298 5 (the stack times its retransmissions)",
        linux: "net/ipv4/tcp_input.c: tcp_rcv_synsent_state_process()",
        deviations: &[],
    },
    Switch {
        field: "ts_recent_update",
        rfc: "RFC 7323 5.3: R3",
        linux: "net/ipv4/tcp_input.c: tcp_replace_ts_recent()",
        deviations: &[],
    },
    Switch {
        field: "window_update",
        rfc: "RFC 9293 3.10.7.4, fifth: the window update test",
        linux: "net/ipv4/tcp_input.c: tcp_may_update_window()",
        deviations: &["send-window-update-by-new-ack"],
    },
    Switch {
        field: "header_prediction",
        rfc: "RFC 9293 3.10.7.4: SND.WL1 moves only with a window update",
        linux: "net/ipv4/tcp_input.c: tcp_rcv_established() fast path, tcp_update_wl()",
        deviations: &["fast-path-moves-snd-wl1"],
    },
    Switch {
        field: "request_ack_window_rounded_down",
        rfc: "RFC 9293 3.3.2: segments are judged against the window offered (RCV.WND); \
              3.8.6.2.2: SHLD-14, the right edge does not move left",
        linux: "net/ipv4/tcp_ipv4.c: tcp_v4_reqsk_send_ack() (rsk_rcv_wnd >> rcv_wscale); \
                tcp_minisocks.c: tcp_check_req(), tcp_create_openreq_child()",
        deviations: &["request-ack-window-rounded-down"],
    },
    Switch {
        field: "second_segment_ack_delayed",
        rfc: "RFC 9293 3.8.6.3: SHLD-19, an ACK for at least every second full-sized segment",
        linux: "net/ipv4/tcp_input.c: __tcp_ack_snd_check() (at once only if the window it \
                would offer is no smaller than the last); net/ipv4/tcp.c: tcp_cleanup_rbuf() \
                (\"Once-per-two-segments ACK was not sent by tcp_input.c\")",
        deviations: &["second-segment-ack-delayed"],
    },
    Switch {
        field: "keepalive_garbage_octet",
        rfc: "RFC 9293 3.8.4: MAY-6, a keep-alive may carry one garbage octet",
        linux: "net/ipv4/tcp_output.c: tcp_xmit_probe_skb() (SEG.SEQ = SND.UNA - 1, no data)",
        deviations: &[],
    },
    Switch {
        field: "fast_open_client_linux",
        rfc: "RFC 7413 4.1.3: the cached MSS bounds the data of a Fast Open SYN; 4.1.3.1 \
              leaves the SYN's retransmission to the client",
        linux: "net/ipv4/tcp_output.c: tcp_send_syn_data() (MAX_TCP_OPTION_SPACE kept free, \
                \"Exclude Fast Open option for SYN retries\")",
        deviations: &[],
    },
    Switch {
        field: "icmp_errors_linux",
        rfc: "RFC 9293 3.9.2.2: MUST-56, soft errors do not abort; SHLD-26, hard ones do",
        linux: "net/ipv4/tcp_ipv4.c: tcp_v4_err(); net/ipv6/tcp_ipv6.c: tcp_v6_err()",
        deviations: &[
            "icmp-hard-error-keeps-connection",
            "icmp-soft-error-aborts-syn-sent",
        ],
    },
    Switch {
        field: "broadcast_source_accepted",
        rfc: "RFC 9293 3.9.2.3: MUST-63, a SYN from an invalid source address is ignored",
        linux: "net/ipv4/fib_frontend.c: fib_validate_source() (the broadcast route is looked \
                up only with rp_filter on); net/ipv4/route.c: ip_route_input_slow()",
        deviations: &["syn-from-subnet-broadcast-answered"],
    },
    Switch {
        field: "syn_sent_send_waits",
        rfc: "RFC 9293 3.10.2: SEND in SYN-SENT queues the data for after ESTABLISHED",
        linux: "net/ipv4/tcp.c: tcp_sendmsg_locked() (sk_stream_wait_connect(): EAGAIN for a \
                non-blocking socket)",
        deviations: &["syn-sent-write-waits"],
    },
    Switch {
        field: "give_up",
        rfc: "RFC 9293 3.8.3: R2",
        linux: "net/ipv4/tcp_timer.c: retransmits_timed_out()",
        deviations: &[],
    },
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_field_is_listed_once() {
        // The Debug text of a Behaviour names every field: each must have its entry.
        let debug = format!("{:?}", Behaviour::LINUX);
        let fields: Vec<&str> = debug
            .trim_start_matches("Behaviour { ")
            .trim_end_matches(" }")
            .split(", ")
            .map(|kv| kv.split(':').next().unwrap_or(""))
            .collect();
        let mut fields = fields;
        let mut listed: Vec<&str> = SWITCHES.iter().map(|s| s.field).collect();
        listed.retain(|f| *f != "tail_loss_probe");
        fields.sort_unstable();
        listed.sort_unstable();
        assert_eq!(fields, listed);
    }

    #[test]
    fn deviation_names_are_unique() {
        let mut names: Vec<&str> = SWITCHES
            .iter()
            .flat_map(|s| s.deviations)
            .copied()
            .collect();
        let n = names.len();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), n);
    }
}
