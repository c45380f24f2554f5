//! The system calls made on the kernel descriptor (Capability::LinuxCalls), run against the
//! local kernel: send flags (`MSG_EOR`), `sendto`, `sendmsg` over several iovecs,
//! `recvmsg` with a `TCP_CM_INQ` control message, `ioctl(SIOCINQ)`, options the seam does
//! not name (`TCP_INQ`, `TCP_NOTSENT_LOWAT`, `SOL_IP`), `poll` and `epoll`. Each passes as
//! written, and fails at its own line when the script expects what the kernel does not
//! do. Run as root (or see the README's rootless notes).

use tcpcheck::runner::{run_text, IpVersion, RunOptions, Verdict};

/// A passive open, then the calls.
const SCRIPT: &str = "\
0     socket(..., SOCK_STREAM, IPPROTO_TCP) = 3
+0    setsockopt(3, SOL_SOCKET, SO_REUSEADDR, [1], 4) = 0
+0    bind(3, ..., ...) = 0
+0    listen(3, 1) = 0
+0    < S 0:0(0) win 32792 <mss 1000,nop,wscale 7>
+0    > S. 0:0(0) ack 1 <mss 1460,nop,wscale 10>
+.01  < . 1:1(0) ack 1 win 257
+0    accept(3, ..., ...) = 4
+0    setsockopt(4, SOL_TCP, TCP_NODELAY, [1], 4) = 0
+0    setsockopt(4, SOL_TCP, TCP_INQ, [1], 4) = 0
+0    setsockopt(4, SOL_TCP, TCP_NOTSENT_LOWAT, [2000], 4) = 0
+0    getsockopt(4, SOL_TCP, TCP_NOTSENT_LOWAT, [2000], [4]) = 0
+0    setsockopt(4, SOL_IP, IP_RECVERR, [1], 4) = 0
+0    send(4, ..., 100, MSG_EOR) = 100
+0    > P. 1:101(100) ack 1
+0    sendto(4, ..., 50, 0, ..., ...) = 50
+0    > P. 101:151(50) ack 1
+0    sendmsg(4, {msg_name(...)=..., msg_iov(3)=[{..., 10}, {..., 0}, {..., 20}], msg_flags=0}, 0) = 30
+0    > P. 151:181(30) ack 1
+.01  < . 1:1(0) ack 181 win 257
+0    < P. 1:301(300) ack 181 win 257
+0    > . 181:181(0) ack 301
+0    ioctl(4, SIOCINQ, [300]) = 0
+0    poll([{fd=4, events=POLLIN|POLLOUT, revents=POLLIN|POLLOUT}], 1, 0) = 1
+0    epoll_create(1) = 5
+0    epoll_ctl(5, EPOLL_CTL_ADD, 4, {events=EPOLLIN, fd=4}) = 0
+0    epoll_wait(5, {events=EPOLLIN, fd=4}, 1, 0) = 1
+0    recvmsg(4, {msg_name(...)=..., msg_iov(1)=[{..., 100}], msg_flags=0, msg_control=[{cmsg_level=SOL_TCP, cmsg_type=TCP_CM_INQ, cmsg_data=200}]}, 0) = 100
+0    read(4, ..., 1000) = 200
+0    epoll_wait(5, {events=0, ptr=0}, 1, 0) = 0
+0    close(5) = 0
+0    poll([{fd=4, events=POLLIN, revents=0}], 1, 0) = 0
";

fn run(text: &str, ip: IpVersion) -> tcpcheck::runner::ScenarioRun {
    run_text("calls.pkt", text, ip, &RunOptions::default())
}

#[test]
fn calls_on_the_kernel_descriptor_pass_as_written() {
    for ip in [IpVersion::V4, IpVersion::V6] {
        let r = run(SCRIPT, ip);
        assert_eq!(r.verdict, Verdict::Pass, "{}\n{}", r.describe(), r.trace);
    }
}

/// Each wrong expectation fails at its own line, with what the kernel did.
#[test]
fn a_wrong_expectation_fails_at_its_line() {
    let cases = [
        (
            "TCP_NOTSENT_LOWAT, [2000], [4]",
            "TCP_NOTSENT_LOWAT, [3000], [4]",
            12,
            "bad getsockopt optval",
        ),
        ("SIOCINQ, [300]", "SIOCINQ, [299]", 23, "bad ioctl optval"),
        (
            "revents=POLLIN|POLLOUT}",
            "revents=POLLIN}",
            24,
            "bad poll revents",
        ),
        (
            "epoll_wait(5, {events=EPOLLIN, fd=4}",
            "epoll_wait(5, {events=EPOLLOUT, fd=4}",
            27,
            "epoll_event does not match",
        ),
        ("cmsg_data=200", "cmsg_data=199", 28, "bad cmsg_data"),
        (
            "msg_iov(1)=[{..., 100}], msg_flags=0,",
            "msg_iov(1)=[{..., 100}], msg_flags=MSG_TRUNC,",
            28,
            "msg_flags",
        ),
        ("= 30\n", "= 31\n", 18, "expected result 31"),
    ];
    for (from, to, line, message) in cases {
        let text = SCRIPT.replacen(from, to, 1);
        assert_ne!(text, SCRIPT, "{from}");
        let r = run(&text, IpVersion::V4);
        match &r.verdict {
            Verdict::Fail(d) => {
                assert_eq!(d.line, line, "{from}: {}", r.describe());
                assert!(d.message.contains(message), "{from}: {}", r.describe());
            }
            other => panic!("{from}: expected a failure at line {line}, got {other:?}"),
        }
    }
}

/// A blocking poll() returns when its event comes, at the time the script says.
#[test]
fn a_blocking_poll_waits_for_its_event() {
    let text = "\
0     socket(..., SOCK_STREAM, IPPROTO_TCP) = 3
+0    setsockopt(3, SOL_SOCKET, SO_REUSEADDR, [1], 4) = 0
+0    bind(3, ..., ...) = 0
+0    listen(3, 1) = 0
+0    < S 0:0(0) win 32792 <mss 1000,nop,wscale 7>
+0    > S. 0:0(0) ack 1 <mss 1460,nop,wscale 10>
+.01  < . 1:1(0) ack 1 win 257
+0    accept(3, ..., ...) = 4
+0...0.050 poll([{fd=4, events=POLLIN, revents=POLLIN}], 1, 1000) = 1
+.05  < P. 1:11(10) ack 1 win 257
+0    > . 1:1(0) ack 11
+0    read(4, ..., 100) = 10
+0...0.020 poll([{fd=4, events=POLLIN, revents=0}], 1, 20) = 0
";
    let r = run(text, IpVersion::V4);
    assert_eq!(r.verdict, Verdict::Pass, "{}\n{}", r.describe(), r.trace);
    // The timeout: a poll with nothing to report returns 0 after it, not at once.
    let early = text.replace("+0...0.020 poll", "+0...0.005 poll");
    let r = run(&early, IpVersion::V4);
    match &r.verdict {
        Verdict::Fail(d) => assert_eq!(d.line, 13, "{}", r.describe()),
        other => panic!("expected a late return at line 13, got {other:?}"),
    }
}

/// Flags tcpcheck does not know are refused at their column, before anything runs.
#[test]
fn unknown_flags_and_fields_are_refused_at_their_position() {
    let text = SCRIPT.replace("send(4, ..., 100, MSG_EOR)", "send(4, ..., 100, 0x100000)");
    let r = run(&text, IpVersion::V4);
    match &r.verdict {
        Verdict::Error(e) => {
            assert!(e.contains("calls.pkt:14:"), "{e}");
            assert!(
                e.contains("send flags 0x100000 are not supported yet"),
                "{e}"
            );
        }
        other => panic!("expected an error, got {other:?}"),
    }
    let text = SCRIPT.replace(
        "msg_flags=0}, 0) = 30",
        "msg_flags=0, msg_bogus=1}, 0) = 30",
    );
    let r = run(&text, IpVersion::V4);
    match &r.verdict {
        Verdict::Error(e) => assert!(
            e.contains("msghdr field `msg_bogus` is not supported yet"),
            "{e}"
        ),
        other => panic!("expected an error, got {other:?}"),
    }
}

/// `pipe` and `splice` out of the socket, `open` of a file the script's shell command wrote
/// in its private /tmp and `sendfile` into the socket, `NULL` buffers (EFAULT), and
/// `sendto(MSG_FASTOPEN)` with the family the script gives (AF_UNSPEC: EOPNOTSUPP). A
/// blocking splice that finds only the urgent byte returns 0, as `tcp_splice_read()` does.
#[test]
fn pipes_files_and_bad_buffers() {
    let text = "\
`dd bs=1 count=5 if=/dev/zero of=/tmp/testfile status=none`
0     socket(..., SOCK_STREAM, IPPROTO_TCP) = 7
+0    sendto(7, ..., 0, MSG_FASTOPEN, AF_UNSPEC, ...) = -1 EOPNOTSUPP (Operation not supported)
+0    close(7) = 0
+0    socket(..., SOCK_STREAM, IPPROTO_TCP) = 3
+0    setsockopt(3, SOL_SOCKET, SO_REUSEADDR, [1], 4) = 0
+0    bind(3, ..., ...) = 0
+0    listen(3, 1) = 0
+0    < S 0:0(0) win 32792 <mss 1000,nop,wscale 7>
+0    > S. 0:0(0) ack 1 <mss 1460,nop,wscale 10>
+.01  < . 1:1(0) ack 1 win 257
+0    accept(3, ..., ...) = 4
+0    write(4, NULL, 1000) = -1 EFAULT (Bad address)
+0    getsockopt(4, SOL_SOCKET, SO_ERROR, [0], [4]) = 0
+0    open(\"/tmp/testfile\", O_RDONLY) = 5
+0    sendfile(4, 5, [0], 5) = 5
+0    > P. 1:6(5) ack 1
+.01  < . 1:1(0) ack 6 win 257
+0    pipe([8, 9]) = 0
+0    < P. 1:101(100) ack 6 win 257
+0    > . 6:6(0) ack 101
+0    splice(4, NULL, 9, NULL, 60, 0) = 60
+0    read(4, NULL, 1000) = -1 EFAULT (Bad address)
+0    splice(4, NULL, 9, NULL, 100, 0) = 40
+0    < U. 101:201(100) ack 6 win 257 urg 100
+0    splice(4, NULL, 9, NULL, 99, 0) = 99
+0    splice(4, NULL, 9, NULL, 1, 0) = 0
+0    close(9) = 0
+0    close(8) = 0
+0    close(5) = 0
";
    let opts = RunOptions {
        allow_shell: true,
        ..RunOptions::default()
    };
    let r = run_text("files.pkt", text, IpVersion::V4, &opts);
    assert_eq!(r.verdict, Verdict::Pass, "{}\n{}", r.describe(), r.trace);
    let wrong = text.replace("[0], 5) = 5", "[0], 6) = 6");
    let r = run_text("files.pkt", &wrong, IpVersion::V4, &opts);
    match &r.verdict {
        Verdict::Fail(d) => assert_eq!(d.line, 16, "{}", r.describe()),
        other => panic!("expected a failure at line 16, got {other:?}"),
    }
}

/// A receive with a message on a blocking socket waits for its data like read(), and
/// returns when the data comes, at the time the script says.
#[test]
fn a_blocking_recvmsg_waits_for_its_data() {
    let text = "\
0     socket(..., SOCK_STREAM, IPPROTO_TCP) = 3
+0    setsockopt(3, SOL_SOCKET, SO_REUSEADDR, [1], 4) = 0
+0    bind(3, ..., ...) = 0
+0    listen(3, 1) = 0
+0    < S 0:0(0) win 32792 <mss 1000,nop,wscale 7>
+0    > S. 0:0(0) ack 1 <mss 1460,nop,wscale 10>
+.01  < . 1:1(0) ack 1 win 257
+0    accept(3, ..., ...) = 4
+0    setsockopt(4, SOL_TCP, TCP_INQ, [1], 4) = 0
+0...0.050 recvmsg(4, {msg_name(...)=..., msg_iov(1)=[{..., 100}], msg_flags=0, msg_control=[{cmsg_level=SOL_TCP, cmsg_type=TCP_CM_INQ, cmsg_data=0}]}, 0) = 10
+.05  < P. 1:11(10) ack 1 win 257
+0    > . 1:1(0) ack 11
";
    let r = run(text, IpVersion::V4);
    assert_eq!(r.verdict, Verdict::Pass, "{}\n{}", r.describe(), r.trace);
    let early = text.replace("+0...0.050 recvmsg", "+0...0.020 recvmsg");
    let r = run(&early, IpVersion::V4);
    match &r.verdict {
        Verdict::Fail(d) => assert_eq!(d.line, 10, "{}", r.describe()),
        other => panic!("expected a late return at line 10, got {other:?}"),
    }
}

/// A descriptor number the script uses again without closing it names the new socket from
/// then on, as packetdrill accepts; the old socket stays open.
#[test]
fn a_reused_descriptor_names_the_new_socket() {
    let text = "\
0     socket(..., SOCK_STREAM, IPPROTO_TCP) = 3
+0    fcntl(3, F_SETFL, O_RDWR|O_NONBLOCK) = 0
+0    socket(..., SOCK_STREAM, IPPROTO_TCP) = 3
+0    fcntl(3, F_GETFL) = 0x2 (flags O_RDWR)
+0    setsockopt(3, SOL_SOCKET, SO_REUSEADDR, [1], 4) = 0
+0    bind(3, ..., ...) = 0
+0    listen(3, 1) = 0
+0    < S 0:0(0) win 32792 <mss 1000,nop,wscale 7>
+0    > S. 0:0(0) ack 1 <mss 1460,nop,wscale 10>
+.01  < . 1:1(0) ack 1 win 257
+0    accept(3, ..., ...) = 4
";
    let r = run(text, IpVersion::V4);
    assert_eq!(r.verdict, Verdict::Pass, "{}\n{}", r.describe(), r.trace);
    assert!(
        r.trace
            .to_string()
            .contains("script fd 3 now names socket 4"),
        "{}",
        r.trace
    );
}

/// `MSG_ZEROCOPY` over iovecs of one byte each: every iovec becomes a fragment of its own, as
/// with packetdrill's one allocation per iovec (touching buffers would merge into one), so
/// 18 of them overflow the 17 fragments of an skb; and the buffer outlives the call, so the
/// segment sent a step later still carries the bytes written (zeros), not reused memory.
#[test]
fn zerocopy_iovecs_are_fragments_and_outlive_the_call() {
    let iov = vec!["{..., 1}"; 18].join(", ");
    let text = format!(
        "\
0     socket(..., SOCK_STREAM, IPPROTO_TCP) = 3
+0    setsockopt(3, SOL_SOCKET, SO_REUSEADDR, [1], 4) = 0
+0    setsockopt(3, SOL_SOCKET, SO_ZEROCOPY, [1], 4) = 0
+0    setsockopt(3, SOL_SOCKET, SO_SNDBUF, [2000000], 4) = 0
+0    bind(3, ..., ...) = 0
+0    listen(3, 1) = 0
+0    < S 0:0(0) win 32792 <mss 1000,sackOK,nop,nop,nop,wscale 7>
+0    > S. 0:0(0) ack 1 <...>
+0    < . 1:1(0) ack 1 win 257
+0    accept(3, ..., ...) = 4
+0    sendmsg(4, {{msg_name(...)=..., msg_iov(18)=[{iov}], msg_flags=0}}, MSG_ZEROCOPY) = 18
+0    > P. 1:18(17) ack 1
+.01  < . 1:1(0) ack 18 win 257
+0    > P. 18:19(1) ack 1
+0    < . 1:1(0) ack 19 win 257
"
    );
    for ip in [IpVersion::V4, IpVersion::V6] {
        let r = run(&text, ip);
        assert_eq!(r.verdict, Verdict::Pass, "{}\n{}", r.describe(), r.trace);
    }
}
