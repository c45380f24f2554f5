//! A backquoted command naming a file made only of namespace settings (`sysctl`,
//! `ip tcp_metrics flush all`, `tc qdisc add ... root pfifo`), as packetdrill's
//! `defaults.sh` is, runs without a shell, with the outcome `sh` would give: its settings
//! hold in the sandbox, an earlier line's failure is ignored, the last line's fails the
//! script. A file with anything else goes to `sh` (and so needs `--allow-shell`). Run as root.

use std::os::unix::fs::PermissionsExt;
use std::path::PathBuf;

use tcpcheck::runner::{run_text, IpVersion, RunOptions, Verdict};
use tcpcheck::trace::EventKind;

fn dir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("tcpcheck-settings-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(d.join("case")).unwrap();
    d
}

fn settings(dir: &std::path::Path, body: &str) {
    let f = dir.join("settings.sh");
    std::fs::write(&f, format!("#!/bin/bash\n{body}")).unwrap();
    std::fs::set_permissions(&f, std::fs::Permissions::from_mode(0o755)).unwrap();
}

const SETTINGS: &str = "\
# A comment, then settings as packetdrill's defaults.sh writes them.
ip tcp_metrics flush all > /dev/null 2>&1
sysctl -q net.ipv4.tcp_rmem=\"4096 540000 $((15*1024*1024))\"
sysctl -q net.ipv4.tcp_no_such_setting=1
sysctl -q net.ipv4.tcp_early_retrans=3 net.ipv4.tcp_reordering=5
tc qdisc add dev tun0 root pfifo
";

fn shell() -> RunOptions {
    RunOptions {
        allow_shell: true,
        ..RunOptions::default()
    }
}

fn ran_natively(r: &tcpcheck::runner::ScenarioRun) -> bool {
    r.trace.events.iter().any(
        |e| matches!(&e.kind, EventKind::Note { text } if text.contains("run without a shell")),
    )
}

#[test]
fn a_settings_file_takes_effect_without_a_shell() {
    let d = dir("effect");
    settings(&d, SETTINGS);
    let script = d.join("case").join("s.pkt");
    // The second command checks, with real tools, what the first one did.
    let text = "`../settings.sh`\n\
        0 `sysctl -n net.ipv4.tcp_rmem | tr -s '\\t ' ' ' | grep -qx '4096 540000 15728640' \
        && sysctl -n net.ipv4.tcp_reordering | grep -qx 5 \
        && tc qdisc show dev tun0 | grep -q 'qdisc pfifo'`\n";
    let r = run_text(script.to_str().unwrap(), text, IpVersion::V4, &shell());
    assert_eq!(r.verdict, Verdict::Pass, "{}\n{}", r.describe(), r.trace);
    assert!(ran_natively(&r), "{}", r.trace);
    // Without --allow-shell the settings file runs too: it runs no program.
    let text = "`../settings.sh`\n0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n";
    let r = run_text(
        script.to_str().unwrap(),
        text,
        IpVersion::V6,
        &RunOptions::default(),
    );
    assert_eq!(r.verdict, Verdict::Pass, "{}\n{}", r.describe(), r.trace);
    let _ = std::fs::remove_dir_all(d);
}

#[test]
fn the_last_lines_failure_fails_the_script() {
    let d = dir("last");
    settings(
        &d,
        "sysctl -q net.ipv4.tcp_sack=1\ntc qdisc add dev nosuch0 root pfifo\n",
    );
    let script = d.join("case").join("s.pkt");
    let text = "`../settings.sh`\n0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n";
    let r = run_text(
        script.to_str().unwrap(),
        text,
        IpVersion::V4,
        &RunOptions::default(),
    );
    match &r.verdict {
        Verdict::Error(e) => {
            assert!(e.contains("exit status: 1"), "{e}");
            assert!(e.contains("nosuch0"), "{e}");
        }
        other => panic!("expected an error, got {other:?}"),
    }
    // The metrics flush as the last line: the kernel must accept the request itself.
    settings(&d, "ip tcp_metrics flush all\n");
    let r = run_text(
        script.to_str().unwrap(),
        text,
        IpVersion::V6,
        &RunOptions::default(),
    );
    assert_eq!(r.verdict, Verdict::Pass, "{}", r.describe());
    assert!(ran_natively(&r), "{}", r.trace);
    let _ = std::fs::remove_dir_all(d);
}

#[test]
fn anything_else_goes_to_the_shell() {
    let d = dir("shell");
    settings(&d, "sysctl -q net.ipv4.tcp_sack=1\necho done\n");
    let script = d.join("case").join("s.pkt");
    let text = "`../settings.sh`\n0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n";
    let r = run_text(
        script.to_str().unwrap(),
        text,
        IpVersion::V4,
        &RunOptions::default(),
    );
    assert!(
        matches!(&r.verdict, Verdict::Error(e) if e.contains("shell commands are refused")),
        "{:?}",
        r.verdict
    );
    let r = run_text(script.to_str().unwrap(), text, IpVersion::V4, &shell());
    assert_eq!(r.verdict, Verdict::Pass, "{}", r.describe());
    assert!(!ran_natively(&r));
    let _ = std::fs::remove_dir_all(d);
}
