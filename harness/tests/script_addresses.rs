//! packetdrill's `--local_ip` and `--remote_ip`: the sandbox takes the script's addresses
//! for the stack and its peer (inside its private namespace, where no address reaches a
//! real host), segments go both ways with them, and bad values are refused at the option.
//! Run as root.

use tcpcheck::runner::{run_text, IpVersion, RunOptions, Verdict};

const BODY: &str = "\
0     socket(..., SOCK_STREAM, IPPROTO_TCP) = 3
+0    setsockopt(3, SOL_SOCKET, SO_REUSEADDR, [1], 4) = 0
+0    bind(3, ..., ...) = 0
+0    listen(3, 1) = 0
+0    < S 0:0(0) win 32792 <mss 1000,nop,wscale 7>
+0    > S. 0:0(0) ack 1 <mss 1460,nop,wscale 10>
+.01  < . 1:1(0) ack 1 win 257
+0    accept(3, ..., ...) = 4
+0    write(4, ..., 10) = 10
+0    > P. 1:11(10) ack 1
";

fn shell() -> RunOptions {
    RunOptions {
        allow_shell: true,
        ..RunOptions::default()
    }
}

#[test]
fn the_scripts_addresses_carry_the_connection() {
    for (opts, ip, check) in [
        (
            "--local_ip=192.168.0.1\n--remote_ip=192.0.2.1\n",
            IpVersion::V4,
            "ip -4 addr show dev tun0 | grep -q 'inet 192.168.0.1/16' && ss -tn | grep -q '192.168.0.1:8080 *192.0.2.1:40000'",
        ),
        (
            "--local_ip=192.168.0.2\n--remote_ip=10.248.0.2\n",
            IpVersion::V4,
            "ss -tn | grep -q '192.168.0.2:8080 *10.248.0.2:40000'",
        ),
        (
            "--local_ip=fd::1\n",
            IpVersion::V6,
            "ss -tn | grep -q 'fd::1\\]:8080 *\\[2001:db8::1\\]:40000'",
        ),
    ] {
        let text = format!("{opts}{BODY}+0 `{check}`\n");
        let r = run_text("addr.pkt", &text, ip, &shell());
        assert_eq!(r.verdict, Verdict::Pass, "{opts}{}\n{}", r.describe(), r.trace);
    }
}

#[test]
fn bad_addresses_are_refused_at_the_option() {
    for (opts, line, message) in [
        (
            "--local_ip=192.168.0.300\n",
            1,
            "bad address `192.168.0.300`",
        ),
        ("--remote_ip=127.0.0.1\n", 1, "loopback"),
        (
            "--local_ip=192.168.0.1\n--remote_ip=fd::2\n",
            2,
            "not of one family",
        ),
        (
            "--local_ip=192.0.2.1\n--remote_ip=192.0.2.1\n",
            2,
            "cannot both be",
        ),
    ] {
        let text = format!("{opts}{BODY}");
        let r = run_text("addr.pkt", &text, IpVersion::V4, &RunOptions::default());
        match &r.verdict {
            Verdict::Error(e) => {
                assert!(e.contains(&format!("addr.pkt:{line}:1:")), "{e}");
                assert!(e.contains(message), "{e}");
            }
            other => panic!("{opts}: expected an error, got {other:?}"),
        }
    }
    // IPv4 addresses do not apply to an IPv6 run, which keeps the sandbox's own (as
    // packetdrill's command line overrides the script's).
    let check = "ss -tn | grep -q '2001:db8::1\\]:8080'";
    let text = format!("--local_ip=192.168.0.1\n{BODY}+0 `{check}`\n");
    let r = run_text("addr.pkt", &text, IpVersion::V6, &shell());
    assert_eq!(r.verdict, Verdict::Pass, "{}", r.describe());
}

/// An inbound ICMP error carries the script's addresses too: run_all.py's own pair, where
/// the peer is 192.0.2.1 (the sandbox's default address for the stack), is where an ICMP
/// built for the default addresses never reaches the stack. The path MTU it announces shows
/// in TCP_INFO.
#[test]
fn icmp_errors_use_the_scripts_addresses() {
    let text = "--local_ip=192.168.0.1\n--remote_ip=192.0.2.1\n\
0     socket(..., SOCK_STREAM, IPPROTO_TCP) = 3
+0    setsockopt(3, SOL_SOCKET, SO_REUSEADDR, [1], 4) = 0
+0    bind(3, ..., ...) = 0
+0    listen(3, 1) = 0
+0    < S 0:0(0) win 32792 <mss 1460,nop,wscale 7>
+0    > S. 0:0(0) ack 1 <...>
+.01  < . 1:1(0) ack 1 win 257
+0    accept(3, ..., ...) = 4
+0    write(4, ..., 10) = 10
+0    > P. 1:11(10) ack 1
+0    < icmp unreachable frag_needed mtu 1200 [1:11(10)]
+0    %{ assert tcpi_pmtu == 1200, tcpi_pmtu }%
";
    let r = run_text("icmp.pkt", text, IpVersion::V4, &shell());
    assert_eq!(r.verdict, Verdict::Pass, "{}\n{}", r.describe(), r.trace);
}
