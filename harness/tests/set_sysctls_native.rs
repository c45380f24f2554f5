//! packetdrill's two-line settings command (`defaults.sh` then `set_sysctls.py`) and its
//! restore command run without a shell or Python (`runner/native_cmd.rs`), with the effects
//! they have under `sh`: the values set in the namespace, the restore file in the scenario's
//! private `/tmp` under `${PPID}`, the old values back after it runs. Run as root.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use tcpcheck::runner::{run_text, IpVersion, RunOptions, Verdict};

/// A `set_sysctls.py` doing what packetdrill's does, written here (packetdrill's own is not
/// copied into this repository); the runner recognises it by the lines it shares with it.
const SET_SYSCTLS: &str = r#"#!/usr/bin/env python3
import os
import subprocess
import sys

filename = '/tmp/sysctl_restore_%s.sh' % os.environ['PACKETDRILL_PID']
restore_file = open(filename, 'w')
print('#!/bin/bash', file=restore_file)
for a in sys.argv[1:]:
  sysctl = a.split('=')
  cur_val = subprocess.check_output(['cat', sysctl[0]], universal_newlines=True)
  print('echo "%s" > %s' % (cur_val.strip(), sysctl[0]), file=restore_file)
  os.system('echo "%s" > %s' % (sysctl[1], sysctl[0]))
restore_file.close()
os.system('chmod u+x %s' % filename)
"#;

const DEFAULTS: &str = "#!/bin/bash\nsysctl -q net.ipv4.tcp_sack=1\n";

const SCRIPT: &str = "\
`../common/defaults.sh
../common/set_sysctls.py /proc/sys/net/ipv4/tcp_syn_retries=2 \\
  /proc/sys/net/ipv4/tcp_wmem=\"4096 50000 4194304\"`
0   `test \"$(cat /proc/sys/net/ipv4/tcp_syn_retries)\" = 2`
+0  `grep -q 'echo \"6\" > /proc/sys/net/ipv4/tcp_syn_retries' /tmp/sysctl_restore_${PPID}.sh`
+0  `/tmp/sysctl_restore_${PPID}.sh`
+0  `test \"$(cat /proc/sys/net/ipv4/tcp_syn_retries)\" = 6`
+0  socket(..., SOCK_STREAM, IPPROTO_TCP) = 3
+0  close(3) = 0
";

fn write(path: &Path, text: &str, mode: u32) {
    std::fs::write(path, text).unwrap();
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

#[test]
fn set_sysctls_and_its_restore_file_run_natively_with_their_effects() {
    let top = std::env::temp_dir().join(format!("tcpcheck-set-sysctls-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&top);
    std::fs::create_dir_all(top.join("common")).unwrap();
    std::fs::create_dir_all(top.join("x")).unwrap();
    write(&top.join("common").join("defaults.sh"), DEFAULTS, 0o755);
    write(
        &top.join("common").join("set_sysctls.py"),
        SET_SYSCTLS,
        0o755,
    );
    let script = top.join("x").join("s.pkt");
    std::fs::write(&script, SCRIPT).unwrap();
    let opts = RunOptions {
        allow_shell: true,
        ..RunOptions::default()
    };
    // A file of that name may be there already: packetdrill's own runs leave theirs in the
    // host's /tmp, and process ids come round. What counts is that this run leaves none.
    let host = format!("/tmp/sysctl_restore_{}.sh", std::process::id());
    let before = std::fs::metadata(&host).and_then(|m| m.modified()).ok();
    let r = run_text(script.to_str().unwrap(), SCRIPT, IpVersion::V4, &opts);
    assert_eq!(r.verdict, Verdict::Pass, "{}\n{}", r.describe(), r.trace);
    let trace = r.trace.to_string();
    assert!(
        trace.contains("set_sysctls.py (2 values)"),
        "not run natively:\n{trace}"
    );
    assert!(
        trace.contains("sysctl_restore_${PPID}.sh`: run without a shell"),
        "{trace}"
    );
    // Nothing of it in the host's /tmp.
    let after = std::fs::metadata(&host).and_then(|m| m.modified()).ok();
    assert_eq!(before, after, "{host} was written");
    std::fs::remove_dir_all(&top).unwrap();
}
