//! Option leftovers of packetdrill's corpus, against the local kernel: the `md5` TCP option
//! on packet lines (RFC 2385), and SO_TIMESTAMPING's control messages read with
//! `recvmsg(MSG_ERRQUEUE)`. Our own scripts; each fails if its construct breaks. Run as root
//! (or see the README's rootless notes).

use tcpcheck::differ::ModelVerdict;
use tcpcheck::runner::{run_text, IpVersion, RunOptions, Verdict};

fn run(text: &str, ip: IpVersion) -> tcpcheck::runner::ScenarioRun {
    run_text("options.pkt", text, ip, &RunOptions::default())
}

/// A handshake's last ACK signed with MD5 on a connection without a key: Linux drops it
/// (the listener's queue stays empty), then the plain ACK completes the handshake. The
/// model, which has no rule for the option, stops and names it.
#[test]
fn a_segment_signed_with_md5_is_sent_as_written() {
    let text = "\
0     socket(..., SOCK_STREAM, IPPROTO_TCP) = 3
+0    fcntl(3, F_SETFL, O_RDWR|O_NONBLOCK) = 0
+0    setsockopt(3, SOL_SOCKET, SO_REUSEADDR, [1], 4) = 0
+0    bind(3, ..., ...) = 0
+0    listen(3, 1) = 0
+0    < S 0:0(0) win 32792 <mss 1000,sackOK,nop,nop,nop,wscale 10>
+0    > S. 0:0(0) ack 1 <mss 1460,nop,nop,sackOK,nop,wscale 10>
+.01  < . 1:1(0) ack 1 win 514 <md5 000102030405060708090a0b0c0d0e0f,nop,nop>
+0    accept(3, ..., ...) = -1 EAGAIN (Resource temporarily unavailable)
+.01  < . 1:1(0) ack 1 win 514
+0    accept(3, ..., ...) = 4
";
    for ip in [IpVersion::V4, IpVersion::V6] {
        let r = run(text, ip);
        assert_eq!(r.verdict, Verdict::Pass, "{}\n{}", r.describe(), r.trace);
        match &r.model {
            ModelVerdict::Off(why) => assert!(why.contains("MD5"), "{why}"),
            other => panic!("expected the model off, got {other:?}"),
        }
    }
    let short = text.replace("0e0f,nop,nop", "0e,nop,nop");
    match run(&short, IpVersion::V4).verdict {
        Verdict::Error(e) => assert!(e.contains("32 hex digits"), "{e}"),
        other => panic!("expected an error, got {other:?}"),
    }
}

/// SO_TIMESTAMPING with TX_ACK: the kernel's software timestamp of the ACK that covered the
/// last byte, read from the error queue, on the script's clock within its tolerance.
const TIMESTAMPING: &str = "\
0     socket(..., SOCK_STREAM, IPPROTO_TCP) = 3
+0    setsockopt(3, SOL_SOCKET, SO_REUSEADDR, [1], 4) = 0
+0    bind(3, ..., ...) = 0
+0    listen(3, 1) = 0
+0    < S 0:0(0) win 32792 <mss 1000,sackOK,nop,nop,nop,wscale 7>
+0    > S. 0:0(0) ack 1 <mss 1460,nop,nop,sackOK,nop,wscale 10>
+.01  < . 1:1(0) ack 1 win 514
+0    accept(3, ..., ...) = 4
+0    setsockopt(4, SOL_SOCKET, SO_TIMESTAMPING, [SOF_TIMESTAMPING_TX_ACK | SOF_TIMESTAMPING_SOFTWARE | SOF_TIMESTAMPING_OPT_ID], 4) = 0
+0    write(4, ..., 500) = 500
+0    > P. 1:501(500) ack 1
+.03  < . 1:1(0) ack 501 win 514
+0    recvmsg(4, {msg_name(...)=..., msg_iov(1)=[{...,0}], msg_flags=MSG_ERRQUEUE|MSG_TRUNC, msg_control=[{cmsg_level=SOL_SOCKET, cmsg_type=SCM_TIMESTAMPING, cmsg_data={scm_sec=0,scm_nsec=40000000}}, {cmsg_level=SOL_IP, cmsg_type=IP_RECVERR, cmsg_data={ee_errno=ENOMSG, ee_origin=SO_EE_ORIGIN_TIMESTAMPING, ee_type=0, ee_code=0, ee_info=SCM_TSTAMP_ACK, ee_data=499}}]}, MSG_ERRQUEUE) = 0
";

#[test]
fn tx_ack_timestamps_are_read_on_the_script_clock() {
    let r = run(TIMESTAMPING, IpVersion::V4);
    assert_eq!(r.verdict, Verdict::Pass, "{}\n{}", r.describe(), r.trace);
    // 20 ms off: more than the tolerance.
    let late = TIMESTAMPING.replace("scm_nsec=40000000", "scm_nsec=60000000");
    match run(&late, IpVersion::V4).verdict {
        Verdict::Fail(f) => {
            assert_eq!(f.line, 13);
            assert!(f.message.contains("scm_timestamping"), "{}", f.message);
        }
        other => panic!("expected a failure, got {other:?}"),
    }
}
