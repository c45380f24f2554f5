//! The ladder diagram of real runs against the local kernel: a segment no line asks for is
//! shown in the script's numbers, and two runs of one script draw the same diagram. Run as
//! root (or see the README's rootless notes).

use tcpcheck::runner::{ladder, run_script, IpVersion, RunOptions, Verdict};
use tcpcheck::scenario;

/// The kernel ACKs the data at once (quick-ACK mode after the handshake); no line expects it.
const UNSCRIPTED_ACK: &str = "\
0    socket(..., SOCK_STREAM, IPPROTO_TCP) = 3
+0   setsockopt(3, SOL_SOCKET, SO_REUSEADDR, [1], 4) = 0
+0   bind(3, ..., ...) = 0
+0   listen(3, 1) = 0
+0   < S 0:0(0) win 65535 <mss 1460,sackOK,nop,nop,nop,wscale 7>
+0   > S. 0:0(0) ack 1 <...>
+.01 < . 1:1(0) ack 1 win 512
+0   accept(3, ..., ...) = 4
+0   < P. 1:101(100) ack 1 win 512
+.01 read(4, ..., 1000) = 100
";

#[test]
fn unscripted_segments_are_shown_relative_and_runs_draw_the_same_diagram() {
    let script = scenario::parse("unscripted.pkt", UNSCRIPTED_ACK).expect("the script parses");
    for ip in [IpVersion::V4, IpVersion::V6] {
        let diagrams: Vec<String> = (0..2)
            .map(|_| {
                let run = run_script(
                    "unscripted.pkt",
                    UNSCRIPTED_ACK,
                    &script,
                    ip,
                    &RunOptions::default(),
                );
                assert_eq!(
                    run.verdict,
                    Verdict::Pass,
                    "{}\n{}",
                    run.describe(),
                    run.trace
                );
                ladder::ladder(&run, &script)
            })
            .collect();
        let ack = diagrams[0]
            .lines()
            .find(|l| l.ends_with("(unscripted)"))
            .unwrap_or_else(|| panic!("no unscripted row:\n{}", diagrams[0]));
        assert!(ack.starts_with("- "), "{ack}");
        assert!(ack.contains("|-------->|  . 1:1(0) ack 101 win "), "{ack}");
        assert_eq!(diagrams[0], diagrams[1]);
    }
}
