//! Scripts named relative to the working directory: `tcpcheck run x.pkt` from the script's
//! own directory, `./x.pkt`, `../b/x.pkt`, a directory named relatively. A script's
//! backquoted commands run in the script's own directory (packetdrill's corpus sources
//! `../common/defaults.sh`) however the script was named. Run as root.

use std::path::Path;
use std::process::Command;

const BIN: &str = env!("CARGO_BIN_EXE_tcpcheck");

/// Passes only where its command runs in its own directory: beside itself, with `../marker`
/// above.
const SCRIPT: &str = "\
`test -f x.pkt && test -f ../marker`
0   socket(..., SOCK_STREAM, IPPROTO_TCP) = 3
+0  close(3) = 0
";

fn run(cwd: &Path, arg: &str) -> (bool, String) {
    let out = Command::new(BIN)
        .args(["run", "--allow-shell", "--jobs", "2", arg])
        .current_dir(cwd)
        .output()
        .expect("tcpcheck runs");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

#[test]
fn commands_run_in_the_scripts_directory_however_it_is_named() {
    let top = std::env::temp_dir().join(format!("tcpcheck-relative-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&top);
    let b = top.join("a").join("b");
    std::fs::create_dir_all(&b).unwrap();
    std::fs::write(b.join("x.pkt"), SCRIPT).unwrap();
    std::fs::write(top.join("a").join("marker"), "").unwrap();
    // The same script where `../marker` is missing: its command fails there, so a pass
    // above means the command ran in the script's directory, not just anywhere.
    let elsewhere = top.join("c").join("d");
    std::fs::create_dir_all(&elsewhere).unwrap();
    std::fs::write(elsewhere.join("x.pkt"), SCRIPT).unwrap();

    let a = top.join("a");
    let cases: [(&Path, &str); 8] = [
        (&b, "x.pkt"),
        (&b, "./x.pkt"),
        (&b, "../b/x.pkt"),
        (&b, "."),
        (&b, "../b"),
        (&a, "b/x.pkt"),
        (&a, "./b"),
        (&top, "a"),
    ];
    for (cwd, arg) in cases {
        let (ok, text) = run(cwd, arg);
        assert!(ok, "`tcpcheck run {arg}` from {}:\n{text}", cwd.display());
        assert!(text.contains("1 passed"), "{arg}: {text}");
    }
    let (ok, text) = run(&elsewhere, "x.pkt");
    assert!(
        !ok,
        "the command found ../marker where there is none:\n{text}"
    );
    assert!(text.contains("error executing"), "{text}");
    // Named from the corpus's top, packetdrill's way of running one of its directories.
    let (ok, text) = run(&top, "a/b/../b/x.pkt");
    assert!(ok, "{text}");
    std::fs::remove_dir_all(&top).unwrap();
}
