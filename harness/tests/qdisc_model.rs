//! The model stops at a shell command only for what it changes that the model follows
//! (`runner/qdisc.rs`): a FIFO queueing discipline on tun0, or a command that only reads or
//! only mentions one, leaves the model judging; a shaper stops it, named (`tbf`, here at a
//! rate far above the script's: the kernel has no `fq` or `netem`, whose messages the unit
//! tests check). Run as root, with `tc`.

use tcpcheck::differ::ModelVerdict;
use tcpcheck::runner::{run_text, IpVersion, RunOptions, Verdict};

/// A passive open and a write, with `COMMAND` before the write.
fn script(command: &str) -> String {
    format!(
        "\
0     socket(..., SOCK_STREAM, IPPROTO_TCP) = 3
+0    setsockopt(3, SOL_SOCKET, SO_REUSEADDR, [1], 4) = 0
+0    bind(3, ..., ...) = 0
+0    listen(3, 1) = 0
+0    < S 0:0(0) win 32792 <mss 1000,nop,wscale 7>
+0    > S. 0:0(0) ack 1 <...>
+.01  < . 1:1(0) ack 1 win 257
+0    accept(3, ..., ...) = 4
+0    `{command}`
+0    write(4, ..., 100) = 100
+0    > P. 1:101(100) ack 1
+.01  < . 1:1(0) ack 101 win 257
"
    )
}

fn model_of(command: &str) -> ModelVerdict {
    let opts = RunOptions {
        allow_shell: true,
        ..RunOptions::default()
    };
    let r = run_text("qdisc-model.pkt", &script(command), IpVersion::V4, &opts);
    assert_eq!(
        r.verdict,
        Verdict::Pass,
        "{command}: {}\n{}",
        r.describe(),
        r.trace
    );
    r.model
}

#[test]
fn a_fifo_or_a_read_leaves_the_model_judging() {
    for command in [
        "tc qdisc replace dev tun0 root pfifo limit 100",
        "tc -s qdisc show dev tun0 > /dev/null",
        "echo qdisc > /dev/null",
    ] {
        let m = model_of(command);
        assert!(matches!(m, ModelVerdict::Agree), "{command}: {m:?}");
    }
}

#[test]
fn a_shaper_stops_the_model_naming_what_it_does() {
    let command = "tc qdisc replace dev tun0 root tbf rate 100mbit burst 64k latency 50ms";
    match model_of(command) {
        ModelVerdict::Off(why) => {
            assert!(why.contains(command), "{why}");
            assert!(
                why.contains("becomes tbf, not a first-in first-out"),
                "{why}"
            );
        }
        m => panic!("{command}: the model should be off, is {m:?}"),
    }
}
