//! A script may have `tun0` drop everything the stack sends (packetdrill's `tc qdisc replace
//! dev tun0 root pfifo limit 0`, a congested host): the barrier's echo reply is dropped too,
//! and a step must still end, proved by the discipline's drop count, not by a timeout. The
//! model, which knows nothing of queueing disciplines, stands aside. Run as root, with `tc`.

use tcpcheck::differ::ModelVerdict;
use tcpcheck::runner::{run_text, IpVersion, RunOptions, Verdict};

const SCRIPT: &str = "\
0     socket(..., SOCK_STREAM, IPPROTO_TCP) = 3
+0    setsockopt(3, SOL_SOCKET, SO_REUSEADDR, [1], 4) = 0
+0    bind(3, ..., ...) = 0
+0    listen(3, 1) = 0
+0    < S 0:0(0) win 32792 <mss 1000,nop,wscale 7>
+0    > S. 0:0(0) ack 1 <...>
+.01  < . 1:1(0) ack 1 win 257
+0    accept(3, ..., ...) = 4
+0    `tc qdisc replace dev tun0 root pfifo limit 0`
+0    write(4, ..., 100) = 100
+.05  write(4, ..., 100) = 100
+0    close(4) = 0
";

#[test]
fn a_qdisc_that_drops_everything_ends_steps_without_a_reply() {
    let opts = RunOptions {
        allow_shell: true,
        ..RunOptions::default()
    };
    for ip in [IpVersion::V4, IpVersion::V6] {
        let started = std::time::Instant::now();
        let r = run_text("qdisc.pkt", SCRIPT, ip, &opts);
        assert_eq!(r.verdict, Verdict::Pass, "{}\n{}", r.describe(), r.trace);
        assert!(
            matches!(&r.model, ModelVerdict::Off(why) if why.contains("queueing discipline")),
            "{:?}",
            r.model
        );
        // Four steps under the dropping discipline: nowhere near a barrier timeout each.
        assert!(
            started.elapsed() < std::time::Duration::from_secs(2),
            "{:?}",
            started.elapsed()
        );
        assert!(
            r.trace.to_string().contains("drops every packet"),
            "{}",
            r.trace
        );
    }
}
