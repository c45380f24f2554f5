//! TCP Fast Open (RFC 7413) in scripts, against the local kernel: the client's blocking
//! calls (`sendto(MSG_FASTOPEN)`, a write after a `TCP_FASTOPEN_CONNECT` connect()), the
//! server's SYN data judged by the model after a shell command set the Fast Open sysctls, and
//! `--tcp_ts_ecr_scaled`. Our own scripts; each fails if its construct breaks. Run as root (or
//! see the README's rootless notes).

use tcpcheck::differ::ModelVerdict;
use tcpcheck::runner::{run_text, IpVersion, RunOptions, Verdict};

fn run(text: &str, ip: IpVersion, shell: bool) -> tcpcheck::runner::ScenarioRun {
    let opts = RunOptions {
        allow_shell: shell,
        ..RunOptions::default()
    };
    run_text("fast-open.pkt", text, ip, &opts)
}

fn passes(text: &str, shell: bool) {
    for ip in [IpVersion::V4, IpVersion::V6] {
        let r = run(text, ip, shell);
        assert_eq!(r.verdict, Verdict::Pass, "{}\n{}", r.describe(), r.trace);
    }
}

fn fails_at(text: &str, line: u32) {
    let r = run(text, IpVersion::V4, false);
    match &r.verdict {
        Verdict::Fail(f) => assert_eq!(f.line, line, "{}", r.describe()),
        other => panic!(
            "expected a failure at line {line}, got {other:?}\n{}",
            r.trace
        ),
    }
}

/// A cookie cached by a first connection; then a blocking `sendto(MSG_FASTOPEN)` of more
/// than the SYN takes: the call waits for the handshake (its return at the SYN-ACK), and the
/// rest of the data carries the handshake's ACK, as the kernel's blocked writer has it.
const BLOCKING_SENDTO: &str = "\
`sysctl -q net.ipv4.tcp_timestamps=0 net.ipv4.tcp_fastopen=1 net.ipv4.tcp_rmem=\"4096 540000 15728640\"`
0     socket(..., SOCK_STREAM, IPPROTO_TCP) = 3
+0    fcntl(3, F_SETFL, O_RDWR|O_NONBLOCK) = 0
+0    sendto(3, ..., 0, MSG_FASTOPEN, ..., ...) = -1 EINPROGRESS (Operation now in progress)
+0    > S 0:0(0) <mss 1460,nop,nop,sackOK,nop,wscale 8,FO,nop,nop>
+.01  < S. 100:100(0) ack 1 win 5840 <mss 1000,nop,nop,sackOK,nop,wscale 6,FO 0a0b0c0d,nop,nop>
+0    > . 1:1(0) ack 1
+0    close(3) = 0
+0    > F. 1:1(0) ack 1
+.01  < F. 1:1(0) ack 2 win 92
+0    > . 2:2(0) ack 2
+.01  socket(..., SOCK_STREAM, IPPROTO_TCP) = 4
+0...0.020 sendto(4, ..., 1500, MSG_FASTOPEN, ..., ...) = 1500
+0    > S 0:960(960) <mss 1460,nop,nop,sackOK,nop,wscale 8,FO 0a0b0c0d,nop,nop>
+.02  < S. 200:200(0) ack 961 win 5840 <mss 1460,nop,nop,sackOK,nop,wscale 6>
+0    > P. 961:1501(540) ack 1
+.01  < . 1:1(0) ack 1501 win 257
+0    close(4) = 0
+0    > F. 1501:1501(0) ack 1
";

#[test]
fn blocking_sendto_waits_for_the_handshake_and_sends_the_rest_with_its_ack() {
    passes(BLOCKING_SENDTO, false);
}

#[test]
fn blocking_sendto_returning_before_the_handshake_fails() {
    // Returning at the call's start is the non-blocking answer, not the blocking one.
    let text = BLOCKING_SENDTO.replace("+0...0.020 sendto(4", "+0...0 sendto(4");
    fails_at(&text, 13);
}

/// `TCP_FASTOPEN_CONNECT`: connect() returns at once, the first blocking write sends the
/// SYN with the data and waits for the handshake; a RST to that SYN fails the write with
/// ECONNREFUSED, whatever the SYN carried.
const CONNECT_THEN_WRITE: &str = "\
`sysctl -q net.ipv4.tcp_timestamps=0 net.ipv4.tcp_fastopen=1 net.ipv4.tcp_rmem=\"4096 540000 15728640\"`
0     socket(..., SOCK_STREAM, IPPROTO_TCP) = 3
+0    fcntl(3, F_SETFL, O_RDWR|O_NONBLOCK) = 0
+0    setsockopt(3, SOL_TCP, TCP_FASTOPEN_CONNECT, [1], 4) = 0
+0    connect(3, ..., ...) = -1 EINPROGRESS (Operation now in progress)
+0    > S 0:0(0) <mss 1460,nop,nop,sackOK,nop,wscale 8,FO,nop,nop>
+.01  < S. 100:100(0) ack 1 win 5840 <mss 1460,nop,nop,sackOK,nop,wscale 6,FO 0a0b0c0d,nop,nop>
+0    > . 1:1(0) ack 1
+0    close(3) = 0
+0    > F. 1:1(0) ack 1
+.01  < F. 1:1(0) ack 2 win 92
+0    > . 2:2(0) ack 2
+.01  socket(..., SOCK_STREAM, IPPROTO_TCP) = 4
+0    setsockopt(4, SOL_TCP, TCP_FASTOPEN_CONNECT, [1], 4) = 0
+0    connect(4, ..., ...) = 0
+0...0.010 write(4, ..., 500) = 500
+0    > S 0:500(500) <mss 1460,nop,nop,sackOK,nop,wscale 8,FO 0a0b0c0d,nop,nop>
+.01  < S. 200:200(0) ack 501 win 5840 <mss 1460,nop,nop,sackOK,nop,wscale 6>
+0    > . 501:501(0) ack 1
+0    close(4) = 0
+0    > F. 501:501(0) ack 1
+.01  socket(..., SOCK_STREAM, IPPROTO_TCP) = 5
+0    setsockopt(5, SOL_TCP, TCP_FASTOPEN_CONNECT, [1], 4) = 0
+0    connect(5, ..., ...) = 0
+0...0.010 write(5, ..., 2000) = -1 ECONNREFUSED (Connection refused)
+0    > S 0:1420(1420) <mss 1460,nop,nop,sackOK,nop,wscale 8,FO 0a0b0c0d,nop,nop>
+.01  < R. 0:0(0) ack 1 win 0
+0    close(5) = 0
";

#[test]
fn fast_open_connect_write_waits_for_the_handshake_and_returns_its_error() {
    passes(CONNECT_THEN_WRITE, false);
}

/// The client side as the model follows it (RFC 7413 3, 4.2): a cookie request, the cookie
/// and MSS cached, SYN data the SYN-ACK does not acknowledge sent again at once, and a SYN
/// that times out going again without its option and data.
const CLIENT_FALLBACKS: &str = "\
`sysctl -q net.ipv4.tcp_timestamps=0 net.ipv4.tcp_fastopen=1 net.ipv4.tcp_rmem=\"4096 540000 15728640\"`
0     socket(..., SOCK_STREAM, IPPROTO_TCP) = 3
+0    fcntl(3, F_SETFL, O_RDWR|O_NONBLOCK) = 0
+0    sendto(3, ..., 0, MSG_FASTOPEN, ..., ...) = -1 EINPROGRESS (Operation now in progress)
+0    > S 0:0(0) <mss 1460,nop,nop,sackOK,nop,wscale 8,FO,nop,nop>
+.01  < S. 100:100(0) ack 1 win 5840 <mss 1040,nop,nop,sackOK,nop,wscale 6,FO 0a0b0c0d,nop,nop>
+0    > . 1:1(0) ack 1
+0    close(3) = 0
+0    > F. 1:1(0) ack 1
+.01  < F. 1:1(0) ack 2 win 92
+0    > . 2:2(0) ack 2
+.01  socket(..., SOCK_STREAM, IPPROTO_TCP) = 4
+0    fcntl(4, F_SETFL, O_RDWR|O_NONBLOCK) = 0
+0    sendto(4, ..., 5000, MSG_FASTOPEN, ..., ...) = 1000
+0    > S 0:1000(1000) <mss 1460,nop,nop,sackOK,nop,wscale 8,FO 0a0b0c0d,nop,nop>
+.01  < S. 200:200(0) ack 1 win 5840 <mss 1460,nop,nop,sackOK,nop,wscale 6>
+0    > P. 1:1001(1000) ack 1
+.01  < . 1:1(0) ack 1001 win 257
+0    close(4) = 0
+0    > F. 1001:1001(0) ack 1
+.01  < F. 1:1(0) ack 1002 win 257
+0    > . 1002:1002(0) ack 2
+.01  socket(..., SOCK_STREAM, IPPROTO_TCP) = 5
+0    fcntl(5, F_SETFL, O_RDWR|O_NONBLOCK) = 0
+0    sendto(5, ..., 300, MSG_FASTOPEN, ..., ...) = 300
+0    > S 0:300(300) <mss 1460,nop,nop,sackOK,nop,wscale 8,FO 0a0b0c0d,nop,nop>
+1    > S 0:0(0) <mss 1460,nop,nop,sackOK,nop,wscale 8>
+.01  < S. 300:300(0) ack 1 win 5840 <mss 1460,nop,nop,sackOK,nop,wscale 6,FO 0a0b0c0d,nop,nop>
+0    > P. 1:301(300) ack 1
+.01  < . 1:1(0) ack 301 win 257
+0    close(5) = 0
+0    > F. 301:301(0) ack 1
";

/// RFC 7413 3, 4.2: the model follows the client through the cookie request and the Fast
/// Open that uses the cookie, on the kernel, without turning off.
#[test]
fn the_model_follows_the_client_side() {
    for text in [BLOCKING_SENDTO, CONNECT_THEN_WRITE, CLIENT_FALLBACKS] {
        for ip in [IpVersion::V4, IpVersion::V6] {
            let r = run(text, ip, false);
            assert_eq!(r.verdict, Verdict::Pass, "{}\n{}", r.describe(), r.trace);
            assert!(
                matches!(r.model, ModelVerdict::Agree),
                "the model follows client Fast Open: {:?}\n{}",
                r.model,
                r.trace
            );
        }
    }
}

/// The server's Fast Open settings come from a shell command (as packetdrill's defaults.sh
/// sets them): the model reads them again after it, so it expects the valid cookie's SYN data
/// acknowledged in the SYN-ACK (RFC 7413 4.2.2) instead of diverging on the ack number.
#[test]
fn sysctls_set_by_a_shell_command_reach_the_model() {
    let text = "\
`true; sysctl -q net.ipv4.tcp_fastopen=0x403 net.ipv4.tcp_fastopen_key=a1a1a1a1-b2b2b2b2-c3c3c3c3-d4d4d4d4`
0     socket(..., SOCK_STREAM, IPPROTO_TCP) = 3
+0    setsockopt(3, SOL_SOCKET, SO_REUSEADDR, [1], 4) = 0
+0    bind(3, ..., ...) = 0
+0    listen(3, 1) = 0
+0    < S 0:10(10) win 32792 <mss 1460,sackOK,nop,nop,FO b3f936a51baeaf84,nop,nop>
+0    > S. 0:0(0) ack 11 <mss 1460,nop,nop,sackOK>
+0    accept(3, ..., ...) = 4
+0    read(4, ..., 512) = 10
+0    < . 11:11(0) ack 1 win 257
+0    close(4) = 0
+0    > F. 1:1(0) ack 11
";
    let r = run(text, IpVersion::V4, true);
    assert_eq!(r.verdict, Verdict::Pass, "{}\n{}", r.describe(), r.trace);
    assert_eq!(r.model, ModelVerdict::Agree, "{}", r.describe());
}

/// `--tcp_ts_ecr_scaled`: an inbound TS ecr the kernel never sent is mapped from the
/// connection's first TS val (packetdrill's interpolation); without it, it is an error.
const ECR_SCALED: &str = "\
--tcp_ts_ecr_scaled
`sysctl -q net.ipv4.tcp_timestamps=1 net.ipv4.tcp_rmem=\"4096 540000 15728640\"`
0     socket(..., SOCK_STREAM, IPPROTO_TCP) = 3
+0    setsockopt(3, SOL_SOCKET, SO_REUSEADDR, [1], 4) = 0
+0    bind(3, ..., ...) = 0
+0    listen(3, 1) = 0
+0    < S 0:0(0) win 32792 <mss 1000,sackOK,TS val 100 ecr 0,nop,wscale 7>
+0    > S. 0:0(0) ack 1 <mss 1460,sackOK,TS val 1000 ecr 100,nop,wscale 8>
+.01  < . 1:1(0) ack 1 win 257 <nop,nop,TS val 110 ecr 1000>
+0    accept(3, ..., ...) = 4
+0    < P. 1:11(10) ack 1 win 257 <nop,nop,TS val 120 ecr 999>
+0    > . 1:1(0) ack 11 <nop,nop,TS val 1010 ecr 120>
";

#[test]
fn ts_ecr_scaled_maps_an_ecr_never_sent() {
    passes(ECR_SCALED, false);
    let without = ECR_SCALED.replace("--tcp_ts_ecr_scaled\n", "");
    let r = run(&without, IpVersion::V4, false);
    match &r.verdict {
        Verdict::Error(e) => assert!(e.contains("unable to infer live TS ecr"), "{e}"),
        other => panic!("expected an error, got {other:?}"),
    }
}

/// A listener's own key (`TCP_FASTOPEN_KEY`, a string value): its cookie is the SipHash of
/// the addresses under that key (3fe2154a0989bdba for 192.0.2.2 to 192.0.2.1 under
/// a0bf63f7-ed803d81-cd641d30-cebc4a90); a key of another length is EINVAL.
#[test]
fn a_listener_key_set_by_setsockopt_makes_its_cookie() {
    let text = "\
`sysctl -q net.ipv4.tcp_fastopen=0x403 net.ipv4.tcp_fastopen_key=a1a1a1a1-b2b2b2b2-c3c3c3c3-d4d4d4d4`
0     socket(..., SOCK_STREAM, IPPROTO_TCP) = 3
+0    setsockopt(3, SOL_SOCKET, SO_REUSEADDR, [1], 4) = 0
+0    setsockopt(3, SOL_TCP, TCP_FASTOPEN_KEY, \"\\xf7\\x63\\xbf\\xa0\\x81\\x3d\\x80\\xed\\x30\\x1d\\x64\\xcd\\x90\\x4a\\xbc\\xce\", 16) = 0
+0    setsockopt(3, SOL_TCP, TCP_FASTOPEN_KEY, \"\", 3) = -1 EINVAL (Invalid argument)
+0    bind(3, ..., ...) = 0
+0    listen(3, 1) = 0
+0    < S 0:0(0) win 32792 <mss 1460,sackOK,nop,nop,FO,nop,nop>
+0    > S. 0:0(0) ack 1 <mss 1460,nop,nop,sackOK,FO 3fe2154a0989bdba,nop,nop>
";
    let r = run(text, IpVersion::V4, false);
    assert_eq!(r.verdict, Verdict::Pass, "{}\n{}", r.describe(), r.trace);
    // The profile's key no longer gives the listener's cookies: the model stops, by name.
    match &r.model {
        ModelVerdict::Off(why) => assert!(why.contains("TCP_FASTOPEN_KEY"), "{why}"),
        other => panic!("expected the model off, got {other:?}"),
    }
    let wrong = text.replace("FO 3fe2154a0989bdba", "FO b3f936a51baeaf84");
    fails_at(&wrong, 9);
}

/// TCP_FASTOPEN on a listener (the sysctl without 0x400, so only this listener does Fast
/// Open): the model follows it and expects the valid cookie's data accepted; a RST to the
/// accepted child in SYN-RECEIVED resets it with the SYN's data still readable (RFC 7413
/// 4.2.2), where a plain request would go back to LISTEN.
#[test]
fn a_fast_open_listener_and_a_reset_child_are_modelled() {
    let text = "\
`sysctl -q net.ipv4.tcp_fastopen=0x3 net.ipv4.tcp_fastopen_key=a1a1a1a1-b2b2b2b2-c3c3c3c3-d4d4d4d4`
0     socket(..., SOCK_STREAM, IPPROTO_TCP) = 3
+0    setsockopt(3, SOL_SOCKET, SO_REUSEADDR, [1], 4) = 0
+0    bind(3, ..., ...) = 0
+0    listen(3, 1) = 0
+0    setsockopt(3, SOL_TCP, TCP_FASTOPEN, [1], 4) = 0
+0    < S 0:10(10) win 32792 <mss 1460,sackOK,nop,nop,FO b3f936a51baeaf84,nop,nop>
+0    > S. 0:0(0) ack 11 <mss 1460,nop,nop,sackOK>
+.01  accept(3, ..., ...) = 4
+.01  < R. 11:11(0) win 32792
+0    read(4, ..., 512) = 10
+0    read(4, ..., 512) = -1 ECONNRESET (Connection reset by peer)
";
    let r = run(text, IpVersion::V4, false);
    assert_eq!(r.verdict, Verdict::Pass, "{}\n{}", r.describe(), r.trace);
    assert_eq!(r.model, ModelVerdict::Agree, "{}", r.describe());
}

/// Code blocks read packetdrill's socket under test, the newest socket a socket() or
/// accept() returned, even when an older one is open on a higher number.
#[test]
fn code_blocks_read_the_newest_socket() {
    let text = "\
`sysctl -q net.ipv4.tcp_timestamps=0`
0     socket(..., SOCK_STREAM, IPPROTO_TCP) = 5
+0    fcntl(5, F_SETFL, O_RDWR|O_NONBLOCK) = 0
+0    connect(5, ..., ...) = -1 EINPROGRESS (Operation now in progress)
+0    > S 0:0(0) <...>
+.01  < S. 0:0(0) ack 1 win 5840 <mss 1000,nop,nop,sackOK>
+0    > . 1:1(0) ack 1
+0    socket(..., SOCK_STREAM, IPPROTO_TCP) = 4
+0    fcntl(4, F_SETFL, O_RDWR|O_NONBLOCK) = 0
+0    connect(4, ..., ...) = -1 EINPROGRESS (Operation now in progress)
+0    > S 0:0(0) <...>
+.01  < S. 0:0(0) ack 1 win 5840 <mss 500,nop,nop,sackOK>
+0    > . 1:1(0) ack 1
+0    %{ assert tcpi_snd_mss == 500 }%
";
    let r = run(text, IpVersion::V4, false);
    assert_eq!(r.verdict, Verdict::Pass, "{}\n{}", r.describe(), r.trace);
}

/// A copy of an earlier connect()'s SYN, still in SYN-SENT, is that connection's, not the
/// SYN of the next connect() to the same peer (packetdrill's sniffer tells them by port).
#[test]
fn an_earlier_connections_syn_is_not_the_next_ones() {
    let text = "\
`sysctl -q net.ipv4.tcp_timestamps=0 net.ipv4.tcp_rmem=\"4096 540000 15728640\"`
0     socket(..., SOCK_STREAM, IPPROTO_TCP) = 3
+0    fcntl(3, F_SETFL, O_RDWR|O_NONBLOCK) = 0
+0    connect(3, ..., ...) = -1 EINPROGRESS (Operation now in progress)
+0    > S 0:0(0) <mss 1460,nop,nop,sackOK,nop,wscale 8>
// Its copy at 1 s waits in the queue when the next connect()'s SYN is looked for.
+1.1  socket(..., SOCK_STREAM, IPPROTO_TCP) = 4
+0    fcntl(4, F_SETFL, O_RDWR|O_NONBLOCK) = 0
+0    setsockopt(4, SOL_TCP, TCP_MAXSEG, [1000], 4) = 0
+0    connect(4, ..., ...) = -1 EINPROGRESS (Operation now in progress)
+0    > S 0:0(0) <mss 1000,nop,nop,sackOK,nop,wscale 8>
";
    let r = run(text, IpVersion::V4, false);
    assert_eq!(r.verdict, Verdict::Pass, "{}\n{}", r.describe(), r.trace);
}
