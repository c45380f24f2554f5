//! getsockopt() beyond SO_ERROR against the local kernel: integer options read and checked
//! against the script's `[value]` as packetdrill checks them. Run as root (or see the
//! README's rootless notes).

use tcpcheck::runner::{run_text, IpVersion, RunOptions, Verdict};

/// packetdrill's mss-getsockopt-tcp_maxseg-server, shortened: the peer offers 1100, so the
/// connection's TCP_MAXSEG is 1100; SO_SNDBUF reads double what was set.
const SCRIPT: &str = "\
0     socket(..., SOCK_STREAM, IPPROTO_TCP) = 3
+0    setsockopt(3, SOL_SOCKET, SO_REUSEADDR, [1], 4) = 0
+0    bind(3, ..., ...) = 0
+0    listen(3, 1) = 0
+0    < S 0:0(0) win 32792 <mss 1100,nop,wscale 7>
+0    > S. 0:0(0) ack 1 <mss 1460,nop,wscale 10>
+.01  < . 1:1(0) ack 1 win 257
+0    accept(3, ..., ...) = 4
+0    getsockopt(4, SOL_TCP, TCP_MAXSEG, [1100], [4]) = 0
+0    setsockopt(4, SOL_SOCKET, SO_SNDBUF, [21000], 4) = 0
+0    getsockopt(4, SOL_SOCKET, SO_SNDBUF, [42000], [4]) = 0
+0    getsockopt(4, IPPROTO_TCP, TCP_NODELAY, [0], [4]) = 0
";

#[test]
fn integer_options_are_read_and_checked() {
    for ip in [IpVersion::V4, IpVersion::V6] {
        let r = run_text("opts.pkt", SCRIPT, ip, &RunOptions::default());
        assert_eq!(r.verdict, Verdict::Pass, "{}\n{}", r.describe(), r.trace);
        let wrong = SCRIPT.replace("[1100]", "[1200]");
        let r = run_text("opts.pkt", &wrong, ip, &RunOptions::default());
        match &r.verdict {
            Verdict::Fail(d) => {
                assert_eq!(d.line, 9, "{}", r.describe());
                assert!(d.message.contains("bad getsockopt optval: expected 1200"));
                assert!(d.actual.contains("TCP_MAXSEG 1100"), "{}", r.describe());
            }
            other => panic!("expected a failure at line 9, got {other:?}"),
        }
    }
}

#[test]
fn other_options_are_refused_at_their_position() {
    // SO_TYPE (3) is no option tcpcheck reads.
    let text = SCRIPT.replace("IPPROTO_TCP, TCP_NODELAY", "SOL_SOCKET, 3");
    let r = run_text("opts.pkt", &text, IpVersion::V4, &RunOptions::default());
    match &r.verdict {
        Verdict::Error(e) => {
            assert!(e.contains("opts.pkt:12:"), "{e}");
            assert!(
                e.contains("getsockopt(SOL_SOCKET, 3) is not supported yet"),
                "{e}"
            );
        }
        other => panic!("expected an error, got {other:?}"),
    }
}
